"""Refused logins counted in the database, so every worker process of a machine counts together.

Flask-Limiter's `memory://` storage counts per process: with several gunicorn workers each one
would allow the full limit. When RATELIMIT_STORAGE_URI names a shared storage (Redis), the
password step uses Flask-Limiter; otherwise, and always for the second factor, the recent rows of
`auth_failure` are the count. The windows slide: a refusal stops counting once it is older than
the window, so nobody is locked out for good.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, request
from limits import parse
from sqlalchemy import ColumnElement, delete, select

from app.auth.models import AuthFailure
from app.extensions import db

# Refusals are kept this long for the counts (the audit log keeps every one for good).
KEPT_FOR = timedelta(days=1)


def now() -> datetime:
    """The time the windows are measured in (time.time(), so a test can move it)."""
    return datetime.fromtimestamp(time.time(), UTC)


def counted_in_database() -> bool:
    """True unless a storage shared by the processes (e.g. Redis) is configured."""
    return str(current_app.config["RATELIMIT_STORAGE_URI"]).startswith("memory://")


def record_failure(kind: str, *, username: str | None = None, user_id: int | None = None) -> None:
    """Count a refused password (`kind="password"`) or second-factor code (`"totp"`)."""
    moment = now()
    db.session.execute(delete(AuthFailure).where(AuthFailure.created_at < moment - KEPT_FOR))
    db.session.add(
        AuthFailure(
            created_at=moment,
            kind=kind,
            username=username[:64] if username else None,
            user_id=user_id,
            ip_address=request.remote_addr if has_request_context() else None,
        )
    )
    db.session.flush()


def retry_after(setting: str, kind: str, which: ColumnElement[bool]) -> int | None:
    """Seconds until one more attempt is allowed under the limit `setting` ("5 per minute"),
    counting the refusals of `kind` that match `which`; None while the limit is not reached."""
    limit = parse(current_app.config[setting])
    window = timedelta(seconds=limit.get_expiry())
    moment = now()
    recent = list(
        db.session.scalars(
            select(AuthFailure.created_at)
            .where(AuthFailure.kind == kind, which, AuthFailure.created_at > moment - window)
            .order_by(AuthFailure.created_at.desc())
            .limit(limit.amount)
        )
    )
    if len(recent) < limit.amount:
        return None
    # The oldest of the last `amount` refusals leaves the window first.
    return max(1, math.ceil((recent[-1] + window - moment).total_seconds()))


def password_retry_after(username: str) -> tuple[str, int] | None:
    """The scope ("address" or "account") that refuses another password now, and for how long."""
    address = request.remote_addr
    seconds = retry_after("LOGIN_LIMIT_PER_ADDRESS", "password", AuthFailure.ip_address == address)
    if seconds is not None:
        return "address", seconds
    seconds = retry_after("LOGIN_LIMIT_PER_ACCOUNT", "password", AuthFailure.username == username)
    if seconds is not None:
        return "account", seconds
    return None


def totp_retry_after(user_id: int) -> int | None:
    """Seconds before this user's second factor may be tried again (per user, every login)."""
    return retry_after("TOTP_LIMIT_PER_ACCOUNT", "totp", AuthFailure.user_id == user_id)
