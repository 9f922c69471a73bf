"""Who sees and moves which referral: asked here, never re-derived in a view.

- The sending organization's operators see their referrals in every state (drafts included).
- Coordinators see every referral once submitted or put on a service's waiting list.
- The receiving organization's operators see a referral once the City approved it, and only
  what the service needs of the household (the referral page is that minimal view:
  `household_access` is MINIMAL for them, FULL for the sender and the City), and only
  while a consent of the household for the job services that covers them (named, or the whole
  network) is in force: once it is withdrawn or expired the referral answers 404 to them, in
  lists, counts and exports too, as anything out of scope does (a page saying "withdrawn"
  would still tell them who it was about).
- Filters apply only to what the user may see: the household's circoscrizione is not in the
  receiver's minimal view, so the district filter of an entity covers the referrals it sent.
- Housing providers and admins see none.
Everything else answers 404.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm.interfaces import ORMOption

from app.auth.models import Role, User
from app.extensions import db
from app.households.consents import consent_clause, consent_in_force
from app.households.policy import HouseholdAccess
from app.referrals.models import Referral

USERS = (Role.COORDINATOR, Role.ENTITY_OPERATOR)
# The purpose of the consents ledger a referral shares the household's data for.
PURPOSE = "job_services"


class Side(StrEnum):
    SENDER = "sender"
    COORDINATOR = "coordinator"
    RECEIVER = "receiver"
    SYSTEM = "system"  # nobody's side: the nightly reminders (a referral's expiry)


def visible_referrals(user: User) -> Select[tuple[Referral]]:
    query = select(Referral)
    if user.has_role(Role.COORDINATOR):
        # Once submitted, or put on a waiting list (the City follows the queues): a draft
        # cancelled by its sender never reached the City.
        return query.where(
            or_(Referral.submitted_at.is_not(None), Referral.waiting_since.is_not(None))
        )
    sides = visible_sides(user)
    if sides:
        return query.where(or_(*sides))
    return query.where(false())


def shares_with_receiver(referral: Referral) -> bool:
    """A consent of the household for the job services covers the receiving organization."""
    return consent_in_force(referral.household_id, PURPOSE, referral.to_organization_id)


def shared_with_receiver(household_id: Any, organization_id: Any) -> ColumnElement[bool]:
    """`shares_with_receiver` as a WHERE clause."""
    return consent_clause(household_id, PURPOSE, organization_id)


def received_clause(organization_id: int) -> ColumnElement[bool]:
    """The referrals `organization_id` receives: approved by the City, consent still in force."""
    return and_(
        Referral.to_organization_id == organization_id,
        Referral.approved_at.is_not(None),
        shared_with_receiver(Referral.household_id, Referral.to_organization_id),
    )


def visible_sides(user: User) -> list[ColumnElement[bool]]:
    """An entity's two ways of seeing a referral: it sent it, or it receives it once the City
    approved it (while the household's consent is in force). Each has its own index, so a list
    can page through each side separately. Empty for the City (which sees every submitted
    referral) and for users without an entity."""
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return [
            Referral.from_organization_id == user.organization_id,
            received_clause(user.organization_id),
        ]
    return []


def knows_household(user: User) -> ColumnElement[bool]:
    """The referrals whose household the user knows (`sees_full_household`), as a WHERE
    clause: only on these may the user filter by what the receiver's minimal view leaves out
    (the household's circoscrizione). The City knows all; an entity what it sent."""
    if user.has_role(Role.COORDINATOR):
        return true()
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return Referral.from_organization_id == user.organization_id
    return false()


def visible_referral_or_404(user: User, referral_id: int, *options: ORMOption) -> Referral:
    referral = db.session.scalar(
        visible_referrals(user).where(Referral.id == referral_id).options(*options)
    )
    if referral is None:
        abort(404)
    return referral


def sides(user: User, referral: Referral, shared: bool | None = None) -> frozenset[Side]:
    """The parts the user plays in this referral (an entity may refer to its own service).

    `shared`: whether a consent covers the receiver, when the caller read it for a whole list
    (`receivers_may_use`); otherwise it is read here."""
    found: set[Side] = set()
    if user.has_role(Role.COORDINATOR):
        found.add(Side.COORDINATOR)
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        if referral.from_organization_id == user.organization_id:
            found.add(Side.SENDER)
        if (
            referral.to_organization_id == user.organization_id
            and referral.approved_at
            and (shares_with_receiver(referral) if shared is None else shared)
        ):
            found.add(Side.RECEIVER)
    return frozenset(found)


def sees_full_household(user: User, referral: Referral) -> bool:
    """The sender and the City know the household; the receiver gets the minimal view."""
    return bool(sides(user, referral, shared=False) & {Side.SENDER, Side.COORDINATOR})


def household_access(user: User, referral: Referral, shared: bool | None = None) -> HouseholdAccess:
    """How much of the referral's household the user sees: the whole household (the sender,
    the City), the minimal view (the receiving service: the person and what the service
    needs), or nothing. `shared` as for `sides`."""
    if sees_full_household(user, referral):
        return HouseholdAccess.FULL
    if Side.RECEIVER in sides(user, referral, shared=shared):
        return HouseholdAccess.MINIMAL
    return HouseholdAccess.NONE


def receivers_may_use(referrals: list[Referral]) -> set[int]:
    """The ids of these referrals whose receiving organization a consent covers, in one
    statement (a list's rows ask `sides` with it instead of one query each), even for none: a
    page issues the same statements whatever its rows."""
    ids = [r.id for r in referrals]
    return set(
        db.session.scalars(
            select(Referral.id).where(
                Referral.id.in_(ids),
                shared_with_receiver(Referral.household_id, Referral.to_organization_id),
            )
        )
    )


# The states in which the receiving service works with the person and may need to reach them.
CONTACT_STATUSES = ("approved", "accepted", "in_progress")


def sees_person_contacts(user: User, referral: Referral) -> bool:
    """The person's phone and e-mail: the sender and the City always; the receiving service
    only once the City approved the referral, while it is open, and only if the person agreed
    to be contacted (issue #26)."""
    if sees_full_household(user, referral):
        return True
    person = referral.person or referral.household.reference_person
    return (
        Side.RECEIVER in sides(user, referral)
        and referral.status in CONTACT_STATUSES
        and person is not None
        and person.contact_consent
    )


def can_create_referrals(user: User) -> bool:
    return user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None
