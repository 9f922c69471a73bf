"""Portal settings kept in the database, so every process sees the same values.

Shared core: the login form, the exports and the domains read them; the admin pages edit them.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin
from app.extensions import db
from app.web.versions import versioned


class Setting(TimestampMixin, Base):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


CACHE_KEY = "reti.settings"


def _request_cache() -> dict[str, Any] | None:
    """All settings, read once per request (a page asks for several; the table is tiny)."""
    if not has_request_context():
        return None
    cache = request.environ.get(CACHE_KEY)
    if cache is None:
        # Kept by the process until a setting changes (app/web/versions.py).
        cache = versioned("settings", "all", _all_settings)
        request.environ[CACHE_KEY] = cache
    return cache


def _all_settings() -> dict[str, Any]:
    rows = db.session.execute(select(Setting.key, Setting.value)).all()
    return {row[0]: row[1] for row in rows}


def get_setting(key: str, default: Any = None) -> Any:
    cache = _request_cache()
    if cache is not None:
        value = cache.get(key)
    else:
        value = db.session.scalar(select(Setting.value).where(Setting.key == key))
    return default if value is None else value


def set_setting(key: str, value: Any) -> Setting:
    if has_request_context():
        request.environ.pop(CACHE_KEY, None)
    setting = db.session.get(Setting, key)
    if setting is None:
        setting = Setting(key=key, value=value)
        db.session.add(setting)
    else:
        setting.value = value
    return setting
