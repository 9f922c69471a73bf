"""The one visibility rule for households, asked here and nowhere else.

A non-City user sees a household only if their organization took it in charge (later issues add:
or a referral/placement for it addressed to their organization was approved). Coordinators see
every household; admins none. Lists, counts, search, finders and exports all start from
`visible_households`, so nothing out of scope can be counted or found.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, Select, false, select, true

from app.auth.models import Role, User
from app.extensions import db
from app.households.models import Distribution, Household, Person

USERS = (Role.COORDINATOR, Role.ENTITY_OPERATOR)


def visible_households(user: User) -> Select[tuple[Household]]:
    query = select(Household)
    if user.has_role(Role.COORDINATOR):
        return query
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return query.where(Household.organization_id == user.organization_id)
    return query.where(false())


def of_visible_households(user: User, household_id: Any) -> ColumnElement[bool]:
    """`household_id` is one of the households the user may see, as a WHERE clause.

    The City sees every household: no clause at all, rather than an IN over the whole table.
    """
    if user.has_role(Role.COORDINATOR):
        return true()
    return household_id.in_(visible_households(user).with_only_columns(Household.id))


def visible_household_or_404(user: User, household_id: int) -> Household:
    household = db.session.scalar(visible_households(user).where(Household.id == household_id))
    if household is None:
        abort(404)
    return household


def can_edit_household(user: User, household: Household) -> bool:
    """The owning organization manages its households; the City coordinates, it does not edit."""
    return (
        user.has_role(Role.ENTITY_OPERATOR)
        and user.organization_id == household.organization_id
        and household.status == "active"
    )


def editable_household_or_404(user: User, household_id: int) -> Household:
    household = visible_household_or_404(user, household_id)
    if not can_edit_household(user, household):
        abort(404)
    return household


def visible_person_or_404(user: User, household: Household, person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None or person.household_id != household.id:
        abort(404)
    return person


def visible_distributions(user: User) -> Select[tuple[Distribution]]:
    """Distributions of the households the user may see."""
    return select(Distribution).where(of_visible_households(user, Distribution.household_id))


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
