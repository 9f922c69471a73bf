"""record(): the one way to write the audit log, in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import ColumnElement, event, insert, select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent, AuditEventHousehold
from app.extensions import db

SECRET_FIELDS = frozenset({"password", "password_hash", "session_token"})


class AuditLogImmutableError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


def _object_ref(obj: object | None) -> tuple[str | None, int | None]:
    if obj is None:
        return None, None
    table = getattr(obj, "__tablename__", type(obj).__name__.lower())
    return table, getattr(obj, "id", None)


def _clean(changes: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if changes is None:
        return None
    return {k: ("***" if k in SECRET_FIELDS else v) for k, v in changes.items()}


def record(
    action: str,
    obj: object | None = None,
    changes: Mapping[str, Any] | None = None,
    *,
    actor: Any = None,
) -> AuditEvent:
    """Add an audit event to the current transaction; it commits or rolls back with the change.

    `obj` must already have an id (flush first) when it is new. `changes` maps a field to
    `[old, new]` or to a value; secrets are masked.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    object_type, object_id = _object_ref(obj)
    event_row = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=_clean(changes),
        actor_id=getattr(actor, "id", None),
        actor_organization_id=getattr(actor, "organization_id", None),
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event_row)
    return event_row


def record_views(
    action: str,
    households: Iterable[Any],
    obj: object | None = None,
    changes: Mapping[str, Any] | None = None,
    *,
    actor: Any = None,
) -> AuditEvent | None:
    """One audit event for a response that shows the personal data of these households.

    `households` are Household objects or ids (duplicates are fine). The event names them in
    `audit_event_household` with one bulk insert (a single statement, `_name_households`), in
    the caller's transaction, so each household's timeline and the data-subject extract list
    the view. Nothing is written when
    the response shows no household: an empty search result shows nobody's data.
    """
    ids = sorted({item if isinstance(item, int) else item.id for item in households})
    if not ids:
        return None
    event_row = record(action, obj, {**(changes or {}), "households": len(ids)}, actor=actor)
    db.session.flush()
    _name_households(event_row.id, ids)
    return event_row


def _name_households(event_id: int, ids: list[int]) -> None:
    """One statement whatever the number of households: the ids travel as one parameter (an
    array on PostgreSQL, a JSON list read by json_each on SQLite), so a city-wide export's
    100,000 households are named in a fraction of a second, without a Python dict per row."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(
            text(
                "INSERT INTO audit_event_household (audit_event_id, household_id) "
                "SELECT :event_id, unnest(CAST(:ids AS integer[]))"
            ),
            {"event_id": event_id, "ids": ids},
        )
    elif dialect == "sqlite":
        db.session.execute(
            text(
                "INSERT INTO audit_event_household (audit_event_id, household_id) "
                "SELECT :event_id, value FROM json_each(:ids)"
            ),
            {"event_id": event_id, "ids": json.dumps(ids)},
        )
    else:  # pragma: no cover - the portal runs on PostgreSQL or SQLite
        db.session.execute(
            insert(AuditEventHousehold),
            [{"audit_event_id": event_id, "household_id": household_id} for household_id in ids],
        )


def showed_household(household_id: int) -> ColumnElement[bool]:
    """The audit events whose response showed this household's data (lists, forms, exports)."""
    return AuditEvent.id.in_(
        select(AuditEventHousehold.audit_event_id).where(
            AuditEventHousehold.household_id == household_id
        )
    )


def diff(obj: object, new_values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields of `obj` that `new_values` would change, as {field: [old, new]}."""
    changed: dict[str, list[Any]] = {}
    for field, new in new_values.items():
        old = getattr(obj, field)
        if old != new:
            changed[field] = [_jsonable(old), _jsonable(new)]
    return changed


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: object, instances: object) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent | AuditEventHousehold):
            raise AuditLogImmutableError("Gli eventi di audit non si possono modificare.")


def commit_view() -> None:
    """Commit a page view's audit event (and read marks) without expiring what the page loaded.

    The transaction wrote only the event, so what the page has already read is still current:
    keeping it saves reloading the user, the record and its relations after the commit.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
