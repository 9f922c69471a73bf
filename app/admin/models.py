"""Portal settings kept in the database, so every process sees the same values; the account
changes that wait for a City coordinator's confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User


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
        rows = db.session.execute(select(Setting.key, Setting.value)).all()
        cache = {row[0]: row[1] for row in rows}
        request.environ[CACHE_KEY] = cache
    return cache


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


class AccountChangeRequest(Base):
    """An account change asked by an admin that gives access to household data (four eyes).

    `kind` is "create" (an account with a role that sees households), "update" (a role or an
    organization that changes what the account sees) or "password_reset" (a new temporary
    password for such an account). Nothing changes until a coordinator other than the requester
    and the account's owner confirms: `status` goes `pending -> confirmed | refused` once, by a
    conditional update (app/workflow.py), so two coordinators deciding at once cannot both win.
    """

    __tablename__ = "account_change_request"
    __table_args__ = (
        CheckConstraint("kind IN ('create', 'update', 'password_reset')", name="kind"),
        CheckConstraint("status IN ('pending', 'confirmed', 'refused')", name="status"),
        Index("ix_account_change_request_status_requested_at", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # The account concerned: for "create", set when the confirmation creates it.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    # For "create": the username asked for, kept free while the request waits.
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    # What the change sets: for "create" every field; for "update" role and organization_id.
    requested_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
