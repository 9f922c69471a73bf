"""Who sees and changes what in housing: asked here, never re-derived in a view.

- The board (units and their free places, no personal data) is read by coordinators, entity
  operators and housing providers. Inactive units only by their provider and the City.
- A housing provider changes only its own units.
- Placements: the City sees all; an entity operator those of its households; a housing provider
  those into its units, but only the household's initials and size until the City approves
  (`household_access`: INITIALS, then FULL), and no free text written by others (motivation,
  reason for a target mismatch, the note of a rejection or cancellation) unless it knows the
  household: on every page, fragment and export.
- Eviction-prevention cases follow the household's visibility (the households policy).
Everything else answers 404.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, Select, false, or_, select, true

from app.auth.models import Role, User
from app.extensions import db
from app.households.models import Household
from app.households.policy import HouseholdAccess, holds_household, of_visible_households
from app.housing.models import HousingRiskCase, HousingUnit, Placement

BOARD_READERS = (Role.COORDINATOR, Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER)
PLACEMENT_USERS = BOARD_READERS
# The statuses in which an approved placement concerns the provider (not after a decline).
PROVIDER_INVOLVED = ("approved", "accepted", "active", "ended")


class Side(StrEnum):
    PROPOSER = "proposer"  # the household's organization (or the City, which may propose too)
    COORDINATOR = "coordinator"
    PROVIDER = "provider"


def visible_units(user: User) -> Select[tuple[HousingUnit]]:
    query = select(HousingUnit)
    if user.has_role(Role.COORDINATOR):
        return query
    if user.has_role(Role.HOUSING_PROVIDER):
        return query.where(
            or_(HousingUnit.active.is_(True), HousingUnit.provider_id == user.organization_id)
        )
    if user.has_role(Role.ENTITY_OPERATOR):
        return query.where(HousingUnit.active.is_(True))
    return query.where(false())


def visible_unit_or_404(user: User, unit_id: int) -> HousingUnit:
    unit = db.session.scalar(visible_units(user).where(HousingUnit.id == unit_id))
    if unit is None:
        abort(404)
    return unit


def can_manage_units(user: User) -> bool:
    """Housing providers register and update their own units."""
    return user.has_role(Role.HOUSING_PROVIDER) and user.organization_id is not None


def can_edit_unit(user: User, unit: HousingUnit) -> bool:
    return can_manage_units(user) and unit.provider_id == user.organization_id


def editable_unit_or_404(user: User, unit_id: int) -> HousingUnit:
    unit = visible_unit_or_404(user, unit_id)
    if not can_edit_unit(user, unit):
        abort(404)
    return unit


def visible_placements(user: User) -> Select[tuple[Placement]]:
    query = select(Placement)
    if user.has_role(Role.COORDINATOR):
        return query
    if user.has_role(Role.HOUSING_PROVIDER) and user.organization_id is not None:
        return query.where(Placement.provider_id == user.organization_id)
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return query.where(of_visible_households(user, Placement.household_id))
    return query.where(false())


def of_visible_placements(user: User, placement_id: Any) -> ColumnElement[bool]:
    """`placement_id` is one of the placements the user may see, as a WHERE clause (none for
    the City, which sees them all)."""
    if user.has_role(Role.COORDINATOR):
        return true()
    return placement_id.in_(visible_placements(user).with_only_columns(Placement.id))


def visible_placement_or_404(user: User, placement_id: int, *options: Any) -> Placement:
    placement = db.session.scalar(
        visible_placements(user).where(Placement.id == placement_id).options(*options)
    )
    if placement is None:
        abort(404)
    return placement


def sides(user: User, placement: Placement) -> frozenset[Side]:
    found: set[Side] = set()
    if user.has_role(Role.COORDINATOR):
        found.update({Side.COORDINATOR, Side.PROPOSER})
    if user.has_role(Role.ENTITY_OPERATOR) and holds_household(
        user.organization_id, placement.household
    ):
        found.add(Side.PROPOSER)
    if user.has_role(Role.HOUSING_PROVIDER) and placement.provider_id == user.organization_id:
        found.add(Side.PROVIDER)
    return frozenset(found)


def sees_household_details(user: User, placement: Placement) -> bool:
    """The provider learns who the family is only once the City approved the placement."""
    if user.has_role(Role.HOUSING_PROVIDER):
        return (
            placement.approved_at is not None
            and placement.provider_id == user.organization_id
            and placement.status in PROVIDER_INVOLVED
        )
    return Side.PROPOSER in sides(user, placement) or user.has_role(Role.COORDINATOR)


def household_access(user: User, placement: Placement) -> HouseholdAccess:
    """How much of the placement's household the user sees: the whole household (its
    organization, the City, the provider once the City approved), only initials and size (the
    provider before), nothing for whoever plays no part in the placement."""
    if sees_household_details(user, placement):
        return HouseholdAccess.FULL
    if Side.PROVIDER in sides(user, placement):
        return HouseholdAccess.INITIALS
    return HouseholdAccess.NONE


def sees_reason_note(user: User, placement: Placement) -> bool:
    """The free-text note of a rejection, decline, cancellation or exit.

    Others write it (a City officer, the proposing case worker) and it may say why in words
    ("in cura al SerD"): a housing provider reads it only while it knows the household
    (`sees_household_details`), or when the note is its own (its decline)."""
    if not user.has_role(Role.HOUSING_PROVIDER):
        return True
    if sees_household_details(user, placement):
        return True
    return placement.status == "declined" and placement.provider_id == user.organization_id


def can_propose_for(user: User, household: Household) -> bool:
    """The household's organization (or a co-holder in joint care), or the City."""
    if household.status != "active":
        return False
    if user.has_role(Role.COORDINATOR):
        return True
    return user.has_role(Role.ENTITY_OPERATOR) and holds_household(user.organization_id, household)


def can_record_checks(user: User, placement: Placement) -> bool:
    """The provider who hosts the household, and the household's case workers."""
    mine = sides(user, placement)
    return Side.PROVIDER in mine or (Side.PROPOSER in mine and user.has_role(Role.ENTITY_OPERATOR))


def visible_risk_cases(user: User) -> Select[tuple[HousingRiskCase]]:
    return select(HousingRiskCase).where(of_visible_households(user, HousingRiskCase.household_id))


def visible_risk_case_or_404(user: User, case_id: int) -> HousingRiskCase:
    case = db.session.scalar(visible_risk_cases(user).where(HousingRiskCase.id == case_id))
    if case is None:
        abort(404)
    return case


def managed_risk_case_or_404(user: User, case_id: int) -> HousingRiskCase:
    """A case the user may change (the household's organization, the City); else 404."""
    case = visible_risk_case_or_404(user, case_id)
    if not can_manage_risk_cases(user, case.household):
        abort(404)
    return case


def can_manage_risk_cases(user: User, household: Household) -> bool:
    """The household's organization and the City open and follow eviction-prevention cases."""
    return user.has_role(Role.COORDINATOR) or (
        user.has_role(Role.ENTITY_OPERATOR) and holds_household(user.organization_id, household)
    )
