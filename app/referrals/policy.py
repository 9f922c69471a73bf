"""Who sees and moves which referral: asked here, never re-derived in a view.

- The sending organization's operators see their referrals in every state (drafts included).
- Coordinators see every referral once submitted.
- The receiving organization's operators see a referral once the City approved it, and only
  what the service needs of the household (the referral page is that minimal view).
- Housing providers and admins see none.
Everything else answers 404.
"""

from __future__ import annotations

from enum import StrEnum

from flask import abort
from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm.interfaces import ORMOption

from app.auth.models import Role, User
from app.extensions import db
from app.referrals.models import Referral

USERS = (Role.COORDINATOR, Role.ENTITY_OPERATOR)


class Side(StrEnum):
    SENDER = "sender"
    COORDINATOR = "coordinator"
    RECEIVER = "receiver"


def visible_referrals(user: User) -> Select[tuple[Referral]]:
    query = select(Referral)
    if user.has_role(Role.COORDINATOR):
        # Once submitted: a draft cancelled by its sender never reached the City.
        return query.where(Referral.submitted_at.is_not(None))
    sides = visible_sides(user)
    if sides:
        return query.where(or_(*sides))
    return query.where(false())


def visible_sides(user: User) -> list[ColumnElement[bool]]:
    """An entity's two ways of seeing a referral: it sent it, or it receives it once the City
    approved it. Each has its own index, so a list can page through each side separately.
    Empty for the City (which sees every submitted referral) and for users without an entity."""
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return [
            Referral.from_organization_id == user.organization_id,
            and_(
                Referral.to_organization_id == user.organization_id,
                Referral.approved_at.is_not(None),
            ),
        ]
    return []


def visible_referral_or_404(user: User, referral_id: int, *options: ORMOption) -> Referral:
    referral = db.session.scalar(
        visible_referrals(user).where(Referral.id == referral_id).options(*options)
    )
    if referral is None:
        abort(404)
    return referral


def sides(user: User, referral: Referral) -> frozenset[Side]:
    """The parts the user plays in this referral (an entity may refer to its own service)."""
    found: set[Side] = set()
    if user.has_role(Role.COORDINATOR):
        found.add(Side.COORDINATOR)
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        if referral.from_organization_id == user.organization_id:
            found.add(Side.SENDER)
        if referral.to_organization_id == user.organization_id and referral.approved_at:
            found.add(Side.RECEIVER)
    return frozenset(found)


def sees_full_household(user: User, referral: Referral) -> bool:
    """The sender and the City know the household; the receiver gets the minimal view."""
    return bool(sides(user, referral) & {Side.SENDER, Side.COORDINATOR})


def can_create_referrals(user: User) -> bool:
    return user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None
