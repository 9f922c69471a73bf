"""The intake form's "già seguita da <ente>" answers: audited, throttled, watched by the City.

Telling an operator that a codice fiscale (or a name, surname and birth date) is already followed
by another entity is needed to avoid two records of one person, but it also answers "is this
person known to the social services, and where?". So each such answer is an audit event naming
the households it revealed, a user gets at most `limit()` of them an hour (counted in the
database, so every process and machine shares the count), and the coordinators are told, at most
once an hour, about a user past half the limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.admin.models import get_setting
from app.audit.models import AuditEvent
from app.audit.operations import record, record_views
from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.operations import coordinators, notify

DISCLOSED = "intake_conflict_disclosed"
THROTTLED = "intake_conflict_throttled"
ALERT = "intake_disclosures_many"
LIMIT_SETTING = "intake_disclosures_per_hour"
LIMIT_DEFAULT = 20
WINDOW = timedelta(hours=1)


def limit() -> int:
    return int(get_setting(LIMIT_SETTING, LIMIT_DEFAULT))


def alert_threshold(per_hour: int) -> int:
    """The count at which the City hears of a user: half the limit."""
    return max(math.ceil(per_hour / 2), 1)


def _recent(user: User, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = db.session.execute(
        select(func.count(), func.min(AuditEvent.created_at)).where(
            AuditEvent.actor_id == user.id,
            AuditEvent.action == DISCLOSED,
            AuditEvent.created_at >= since,
        )
    ).one()
    return int(count or 0), oldest


def retry_after(user: User) -> int | None:
    """Seconds until `user` may receive another answer; None when under the limit now.

    A refused attempt is audited too (it names nobody: nothing was shown).
    """
    now = utcnow()
    count, oldest = _recent(user, now - WINDOW)
    if count < limit():
        return None
    record(THROTTLED, None, {"answers_last_hour": count}, actor=user)
    if oldest is None:
        return int(WINDOW.total_seconds())
    return max(math.ceil((oldest + WINDOW - now).total_seconds()), 1)


def disclose(user: User, households: Iterable[int]) -> None:
    """Audit one answer that revealed where these households are followed; tell the City when
    the user crosses the alert threshold (once an hour per user)."""
    if record_views(DISCLOSED, households, actor=user) is None:
        return
    now = utcnow()
    count, _oldest = _recent(user, now - WINDOW)
    if count < alert_threshold(limit()):
        return
    already_told = db.session.scalar(
        select(Notification.id)
        .where(
            Notification.kind == ALERT,
            Notification.object_type == User.__tablename__,
            Notification.object_id == user.id,
            Notification.created_at >= now - WINDOW,
        )
        .limit(1)
    )
    if already_told is None:
        notify(
            coordinators(),
            ALERT,
            user,
            {"name": user.full_name, "username": user.username, "count": count},
            exclude=user,
        )
