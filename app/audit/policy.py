"""Who reads the audit log, and how much of it: asked here, never re-derived in a view.

- Coordinators and admins read the audit log; nobody edits or deletes it (no route does, and
  app/audit/operations.py refuses changes to AuditEvent rows).
- The admin role has no access to household data: for an admin, the values inside the changes of
  an event about a household, a person, a referral, a placement, a project, an eviction-prevention
  case or a distribution (and of the exports of such lists) are masked; the names of the fields
  changed stay visible.
- An event's object is a link only when the reader may open that object's page (the object's own
  `visible_*` policy decides: an admin never gets a household link).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, String, literal, union_all

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.extensions import db

READERS = (Role.COORDINATOR, Role.ADMIN)

# Objects that carry (or point at) a household's personal data.
PERSONAL_OBJECT_TYPES = frozenset(
    {
        "household",
        "person",
        "referral",
        "referral_status_change",
        "placement",
        "wellbeing_check",
        "project",
        "project_goal",
        "project_meeting",
        "budget_line",
        "housing_risk_case",
        "distribution",
        "joint_care_request",
    }
)
# Events with no object whose changes may still hold personal data (a search by name, ...).
PERSONAL_ACTIONS = frozenset(
    {
        "households_exported",
        "referrals_exported",
        "placements_exported",
        "distributions_exported",
        "projects_exported",
        "person_data_exported",
    }
)


def can_read_audit_log(user: User) -> bool:
    return user.has_role(*READERS)


def masks_values(user: User, event: AuditEvent) -> bool:
    """True when `user` may see which fields changed in `event` but not their values."""
    if user.has_role(Role.COORDINATOR):
        return False
    return event.object_type in PERSONAL_OBJECT_TYPES or event.action in PERSONAL_ACTIONS


ObjectPages = dict[str, tuple[Callable[[User], Select[Any]], str, str]]
_PAGES: list[Callable[[], ObjectPages]] = []


def register_object_pages(source: Callable[[], ObjectPages]) -> None:
    """Hand the audit log the domains' pages: `source()` maps an object type to (its visible_*
    select, page endpoint, id argument). Called at app creation (app.audit_wiring)."""
    if source not in _PAGES:
        _PAGES.append(source)


def _visible_queries() -> ObjectPages:
    """Object type -> (visible_* select, page endpoint, id argument of the endpoint)."""
    pages: ObjectPages = {}
    for source in _PAGES:
        pages.update(source())
    return pages


def object_links(
    user: User, events: Iterable[AuditEvent]
) -> dict[tuple[str, int], tuple[str, str]]:
    """(object type, id) -> (endpoint, id argument) for the objects `user` may open.

    One statement per page of events, whatever the types on it: a UNION ALL of one select per
    object type, each built from that domain's `visible_*` select, so a link never leads to a
    page the reader would get a 404 on.
    """
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if event.object_type and event.object_id is not None:
            wanted[event.object_type].add(event.object_id)
    queries = _visible_queries()
    selects: list[Select[Any]] = []
    for object_type in sorted(wanted.keys() & queries.keys()):
        visible = queries[object_type][0]
        query = visible(user).order_by(None)
        entity = query.column_descriptions[0]["entity"]
        selects.append(
            query.with_only_columns(
                literal(object_type, String).label("object_type"), entity.id.label("object_id")
            ).where(entity.id.in_(sorted(wanted[object_type])))
        )
    if not selects:
        return {}
    statement = selects[0] if len(selects) == 1 else union_all(*selects)
    links: dict[tuple[str, int], tuple[str, str]] = {}
    for object_type, object_id in db.session.execute(statement):
        _, endpoint, argument = queries[object_type]
        links[(object_type, object_id)] = (endpoint, argument)
    return links
