"""The one visibility rule for households, asked here and nowhere else.

A non-City user sees a household only if their organization took it in charge, or co-holds it:
the City accepted its joint-care request and has not ended the joint care (`HouseholdCoHolder`).
A co-holder sees and edits the household as the owner does; closing the taking in charge stays
with the owner. Coordinators see every household; admins none. Lists, counts, search, finders
and exports all start from `visible_households` (or `of_visible_households`), so nothing out of
scope can be counted or found, and every domain follows a joint care as it starts and ends.

How much of a household a user sees where another domain shows it is a `HouseholdAccess` level,
which that domain's policy returns (`household_access`); whether a page links to the household
page is `may_open_household`, asked here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, Select, exists, false, select, true

from app.auth.models import Role, User
from app.extensions import db
from app.households.models import Household, HouseholdCoHolder, Person

USERS = (Role.COORDINATOR, Role.ENTITY_OPERATOR)


def co_held_household_ids(organization_id: int) -> Select[tuple[int]]:
    """The households `organization_id` co-holds now (joint care in force), as a subquery."""
    return select(HouseholdCoHolder.household_id).where(
        HouseholdCoHolder.organization_id == organization_id,
        HouseholdCoHolder.ended_at.is_(None),
    )


def holds_household(organization_id: int | None, household: Household) -> bool:
    """The organization took the household in charge, or co-holds it now."""
    if organization_id is None:
        return False
    if household.organization_id == organization_id:
        return True
    return (
        db.session.scalar(
            co_held_household_ids(organization_id).where(
                HouseholdCoHolder.household_id == household.id
            )
        )
        is not None
    )


def _operator_sees(organization_id: int, household_id: Any) -> ColumnElement[bool]:
    """Own households or co-held ones, as ONE `IN` over a UNION ALL of two index lookups.

    Not `organization_id = :org OR id IN (...)`: PostgreSQL cannot turn an OR with a subquery
    into a semi-join, and filters every row of the table (100,000 households, 500,000
    distributions) instead of looking up the organization's few.
    """
    owned = select(Household.id).where(Household.organization_id == organization_id)
    return household_id.in_(owned.union_all(co_held_household_ids(organization_id)))


def sees_every_household(user: User) -> bool:
    """The City's coordinators see the households of the whole city; the others a scope."""
    return user.has_role(Role.COORDINATOR)


def visible_households(user: User) -> Select[tuple[Household]]:
    query = select(Household)
    if sees_every_household(user):
        return query
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return query.where(_operator_sees(user.organization_id, Household.id))
    return query.where(false())


def of_visible_households(user: User, household_id: Any) -> ColumnElement[bool]:
    """`household_id` is one of the households the user may see, as a WHERE clause.

    The City sees every household: no clause at all, rather than an IN over the whole table.
    """
    if sees_every_household(user):
        return true()
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return _operator_sees(user.organization_id, household_id)
    return false()


class HouseholdAccess(StrEnum):
    """How much of a household a user may see where it shows up (a page, a row, a fragment).

    Each domain says which level its objects give (`app.referrals.policy.household_access`,
    `app.housing.policy.household_access`); this module gives the households' own: FULL in
    scope, NONE otherwise. Whether the household page opens is `may_open_household`.
    """

    FULL = "full"  # knows the household: its name and details
    MINIMAL = "minimal"  # a receiving service: what the referral needs, not the household
    INITIALS = "initials"  # a housing provider before the City approved: initials and size
    NONE = "none"  # out of scope: 404


def may_open_household(user: User, household_id: int) -> bool:
    """The household page (`households.detail`) is open to the user: the one question every
    link to it asks."""
    if not user.has_role(*USERS):
        return False
    in_scope = exists().where(
        Household.id == household_id, of_visible_households(user, Household.id)
    )
    return bool(db.session.scalar(select(in_scope)))


def household_access(user: User, household_id: int) -> HouseholdAccess:
    """The households' own level: the whole household in scope, nothing outside it."""
    return HouseholdAccess.FULL if may_open_household(user, household_id) else HouseholdAccess.NONE


@dataclass(frozen=True)
class HouseholdLink:
    """A household as a page names it: its name, and a link only if its page is open."""

    household_id: int
    name: str
    can_open: bool


def household_link(user: User, household: Household) -> HouseholdLink:
    """The household named by a page whose user knows it (a project, a risk case, the
    referral's sender): the link is asked of `may_open_household`, once."""
    return HouseholdLink(
        household_id=household.id,
        name=household.display_name,
        can_open=may_open_household(user, household.id),
    )


def visible_household_or_404(user: User, household_id: int) -> Household:
    household = db.session.scalar(visible_households(user).where(Household.id == household_id))
    if household is None:
        abort(404)
    return household


def sending_organization(actor: User, household: Household) -> int:
    """The organization a referral or a project is opened by: the actor's when it holds the
    household (its owner, or a co-holder in joint care, who then sees it in its own lists),
    else the household's owner."""
    if actor.organization_id is not None and holds_household(actor.organization_id, household):
        return actor.organization_id
    return household.organization_id


def can_edit_household(user: User, household: Household) -> bool:
    """The owning organization and its co-holders manage the household; the City coordinates,
    it does not edit."""
    return (
        user.has_role(Role.ENTITY_OPERATOR)
        and household.status == "active"
        and holds_household(user.organization_id, household)
    )


def editable_household_or_404(user: User, household_id: int) -> Household:
    household = visible_household_or_404(user, household_id)
    if not can_edit_household(user, household):
        abort(404)
    return household


def can_close_household(user: User, household: Household) -> bool:
    """Ending the taking in charge is the owner's decision, not a co-holder's."""
    return (
        user.has_role(Role.ENTITY_OPERATOR)
        and household.status == "active"
        and user.organization_id == household.organization_id
    )


def can_reopen_household(user: User, household: Household) -> bool:
    """Reopening a closed household: the organization that had it in charge, or the City."""
    if household.status != "closed" or household.anonymised_at is not None:
        return False
    if user.has_role(Role.COORDINATOR):
        return True
    return user.has_role(Role.ENTITY_OPERATOR) and user.organization_id == household.organization_id


def can_manage_joint_care(user: User) -> bool:
    """Accepting, declining and ending joint care: the City's job."""
    return user.has_role(Role.COORDINATOR)


def visible_person_or_404(user: User, household: Household, person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None or person.household_id != household.id:
        abort(404)
    return person


def can_record_distributions(user: User) -> bool:
    """Operators of an organization that runs a Torino Solidale hub."""
    return (
        user.has_role(Role.ENTITY_OPERATOR)
        and user.organization is not None
        and user.organization.is_hub
    )


def can_exercise_data_rights(user: User) -> bool:
    """Export everything about a person, anonymise closed households: the City's job."""
    return user.has_role(Role.COORDINATOR)
