"""notify(): tell users that something waits for them; mark it read when they open it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select, update

from app.auth.models import Role, User
from app.db import utcnow
from app.extensions import db
from app.notifications import mail
from app.notifications.models import Notification


def coordinators() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == Role.COORDINATOR.value, User.active.is_(True))
        )
    )


def staff_of(organization_id: int | None, role: Role) -> list[User]:
    """The active users of an organization with `role`."""
    if organization_id is None:
        return []
    return list(
        db.session.scalars(
            select(User).where(
                User.organization_id == organization_id,
                User.role == role.value,
                User.active.is_(True),
            )
        )
    )


def operators_of(organization_id: int) -> list[User]:
    return staff_of(organization_id, Role.ENTITY_OPERATOR)


def notify(
    users: Iterable[User],
    kind: str,
    obj: Any,
    params: dict[str, Any] | None = None,
    *,
    exclude: User | None = None,
) -> int:
    """One unread notification per user (never to the person who did the thing), and the
    e-mail it asks for (app/notifications/mail.py)."""
    count = 0
    for user in users:
        if exclude is not None and user.id == exclude.id:
            continue
        notification = Notification(
            user_id=user.id,
            kind=kind,
            object_type=obj.__tablename__,
            object_id=obj.id,
            params=params or {},
        )
        db.session.add(notification)
        mail.queue(notification, user)
        count += 1
    return count


def mark_read(user: User, object_type: str, object_id: int) -> int:
    """Opening an object reads the user's notifications about it."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.object_type == object_type,
            Notification.object_id == object_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def settle(object_type: str, object_id: int, kinds: Iterable[str], actor: Any = None) -> int:
    """A notification is read when its action is done, wherever it was done (issue #26): the
    notifications of `kinds` about the object (what asked everybody told to act) are read for
    all of them, and the actor's own about the object too (from the queue, in bulk, or on the
    object's page)."""
    wanted = list(kinds)
    clauses = [Notification.kind.in_(wanted)] if wanted else []
    if actor is not None and getattr(actor, "id", None) is not None:
        clauses.append(Notification.user_id == actor.id)
    if not clauses:
        return 0
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.object_type == object_type,
            Notification.object_id == object_id,
            Notification.read_at.is_(None),
            or_(*clauses),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
