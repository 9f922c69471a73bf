"""What the housing pages share: the vocabulary they show, what a user may see of a
household, the timeline of an object and the names of who acted on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit.models import AuditEvent
from app.auth.models import User
from app.extensions import db
from app.households.models import Household
from app.households.policy import HouseholdAccess, may_open_household, visible_household_or_404
from app.households.vocabulary import NEEDS, RELATIONS
from app.housing.models import Placement
from app.housing.policy import household_access
from app.housing.vocabulary import (
    PLACEMENT_BADGES,
    PLACEMENT_STATUSES,
    REASONS_BY_STATUS,
    RISK_ACTIONS,
    RISK_KINDS,
    RISK_OUTCOMES,
    RISK_STATUSES,
    TARGET_GROUPS,
    UNIT_KINDS,
    WELLBEING,
)
from app.registry.models import CIRCOSCRIZIONI
from app.registry.vocabulary import LANGUAGES
from app.web.fields import bounded_int

VOCABULARY = {
    "unit_kinds": UNIT_KINDS,
    "target_groups": TARGET_GROUPS,
    "placement_statuses": PLACEMENT_STATUSES,
    "placement_badges": PLACEMENT_BADGES,
    "reasons_by_status": REASONS_BY_STATUS,
    "wellbeing_labels": WELLBEING,
    "risk_kinds": RISK_KINDS,
    "risk_actions": RISK_ACTIONS,
    "risk_outcomes": RISK_OUTCOMES,
    "risk_statuses": RISK_STATUSES,
    "circoscrizioni": CIRCOSCRIZIONI,
    "needs_labels": NEEDS,
    "relations": RELATIONS,
    "languages": LANGUAGES,
}


def see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


@dataclass(frozen=True)
class HouseholdView:
    """What this user may see of a placement's household (`household_access`), built only by
    `household_view`: the templates show what it holds."""

    access: HouseholdAccess
    name: str  # the reference person's name, or only the initials
    size: int
    can_open: bool  # the household page is open to the user (asked only where it links)

    @property
    def full(self) -> bool:
        return self.access is HouseholdAccess.FULL


def initials(household: Household) -> str:
    person = household.reference_person or (household.members[0] if household.members else None)
    if person is None:
        return "—"
    return f"{person.first_name[:1].upper()}. {person.last_name[:1].upper()}."


def household_view(placement: Placement, with_link: bool = False) -> HouseholdView:
    """The placement's household for the current user. `with_link`: the page names it with a
    link to the household page when that is open to the user (a list's rows never link: one
    question less per row)."""
    household = placement.household
    access = household_access(current_user, placement)
    full = access is HouseholdAccess.FULL
    return HouseholdView(
        access=access,
        name=household.display_name if full else initials(household),
        size=len(household.members),
        can_open=full and with_link and may_open_household(current_user, household.id),
    )


def household_from_query() -> Household:
    household_id = bounded_int(request.args.get("household"))
    if household_id is None:
        abort(404)
    return visible_household_or_404(current_user, household_id)


def timeline(object_type: str, object_id: int, hidden: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == object_type,
                AuditEvent.object_id == object_id,
                AuditEvent.action != hidden,
            )
            .order_by(AuditEvent.created_at, AuditEvent.id)
            .limit(200)
        )
    )


def actor_names(events: list[AuditEvent]) -> dict[int, User]:
    ids = {e.actor_id for e in events if e.actor_id}
    if not ids:
        return {}
    users = db.session.scalars(
        select(User).where(User.id.in_(ids)).options(selectinload(User.organization))
    )
    return {u.id: u for u in users}
