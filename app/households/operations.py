"""Household state changes: mutate, audit in the same transaction, flush. Views commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update

from app.audit.operations import diff, record
from app.auth.models import User
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household, HouseholdCoHolder, JointCareRequest, Person
from app.households.policy import holds_household
from app.i18n import gettext as _
from app.notifications.operations import coordinators, notify, operators_of, settle
from app.registry.models import Organization
from app.workflow import lock_row, move

HOUSEHOLD_FIELDS = (
    "address", "circoscrizione", "isee_value", "isee_expires_on", "housing_situation", "needs",
    "notes", "case_worker_id",
)  # fmt: skip
PERSON_FIELDS = (
    "first_name", "last_name", "codice_fiscale", "birth_date", "sex", "relation",
    "employment_status", "education", "languages",
)  # fmt: skip
# How to reach the person: on the member form only (issue #26).
CONTACT_FIELDS = ("phone", "email", "preferred_channel", "contact_consent")


# Duplicates ---------------------------------------------------------------------------------


def person_with_codice_fiscale(
    codice_fiscale: str, exclude_person_id: int | None = None
) -> Person | None:
    query = select(Person).where(Person.codice_fiscale == codice_fiscale)
    if exclude_person_id is not None:
        query = query.where(Person.id != exclude_person_id)
    return db.session.scalar(query)


def similar_people(
    first_name: str,
    last_name: str,
    birth_date: date | None,
    address: str | None,
    exclude_household_id: int | None = None,
) -> list[Person]:
    """People who may be the same person: same name, surname and birth date, or any 3 of name,
    surname, birth date and household address."""
    first, last = first_name.strip().lower(), last_name.strip().lower()
    addr = (address or "").strip().lower()
    score = (
        case((func.lower(Person.first_name) == first, 1), else_=0)
        + case((func.lower(Person.last_name) == last, 1), else_=0)
        + case((and_(birth_date is not None, Person.birth_date == birth_date), 1), else_=0)
        + case((and_(addr != "", func.lower(Household.address) == addr), 1), else_=0)
    )
    query = (
        select(Person)
        .join(Household)
        .where(
            or_(func.lower(Person.last_name) == last, Person.birth_date == birth_date),
            Household.anonymised_at.is_(None),
            score >= 3,
        )
        .limit(10)
    )
    if exclude_household_id is not None:
        query = query.where(Household.id != exclude_household_id)
    return list(db.session.scalars(query))


# Households ---------------------------------------------------------------------------------


def take_in_charge(
    org_id: int,
    values: dict[str, Any],
    members: list[dict[str, Any]],
    actor: User,
    dismissed_duplicates: list[int],
) -> Household:
    household = Household(
        organization_id=org_id, status="active", **{k: values.get(k) for k in HOUSEHOLD_FIELDS}
    )
    household.case_worker_id = values.get("case_worker_id") or actor.id
    if values.get("privacy_notice_given"):
        household.privacy_notice_on = values.get("privacy_notice_on")
        household.privacy_notice_by_id = actor.id
    db.session.add(household)
    for member in members:
        household.members.append(Person(**{k: member.get(k) for k in PERSON_FIELDS}))
    db.session.flush()
    record(
        "household_taken_in_charge",
        household,
        {
            "organization_id": org_id,
            "members": [p.id for p in household.members],
            "circoscrizione": household.circoscrizione,
        },
    )
    for person in household.members:
        record("person_created", person, {"household_id": household.id})
    if dismissed_duplicates:
        record(
            "duplicate_warning_dismissed",
            household,
            {"similar_people": sorted(set(dismissed_duplicates))},
        )
    return household


def update_household(household: Household, values: dict[str, Any]) -> dict[str, list[Any]]:
    wanted = {k: values[k] for k in HOUSEHOLD_FIELDS if k in values}
    changes = diff(household, wanted)
    for field in changes:
        setattr(household, field, wanted[field])
    if changes:
        record("household_updated", household, changes)
    db.session.flush()
    return changes


def add_member(household: Household, values: dict[str, Any]) -> Person:
    if values.get("relation") == "reference" and household.reference_person is not None:
        raise DomainError(_("Il nucleo ha già una persona di riferimento."))
    person = Person(
        household_id=household.id,
        **{k: values.get(k) for k in PERSON_FIELDS},
        **{k: values[k] for k in CONTACT_FIELDS if k in values},
    )
    db.session.add(person)
    db.session.flush()
    record("person_created", person, {"household_id": household.id})
    return person


def update_member(person: Person, values: dict[str, Any]) -> dict[str, list[Any]]:
    wanted = {k: values[k] for k in PERSON_FIELDS + CONTACT_FIELDS if k in values}
    changes = diff(person, wanted)
    for field in changes:
        setattr(person, field, wanted[field])
    if changes:
        record("person_updated", person, changes)
    db.session.flush()
    return changes


def record_privacy_notice(household: Household, on: date, actor: User) -> None:
    old = household.privacy_notice_on
    household.privacy_notice_on = on
    household.privacy_notice_by_id = actor.id
    record(
        "privacy_notice_recorded",
        household,
        {"privacy_notice_on": [old.isoformat() if old else None, on.isoformat()]},
    )
    db.session.flush()


def authorise_sharing(household: Household, scope: str, on: date) -> None:
    if household.privacy_notice_on is None:
        raise DomainError(
            _("Registra prima l'informativa privacy consegnata: l'autorizzazione viene dopo.")
        )
    changes = {
        "sharing_scope": [household.sharing_scope, scope],
        "sharing_authorised_on": [
            household.sharing_authorised_on.isoformat()
            if household.sharing_authorised_on
            else None,
            on.isoformat(),
        ],
    }
    household.sharing_scope = scope
    household.sharing_authorised_on = on
    household.sharing_withdrawn_on = None
    record("sharing_authorised", household, changes)
    db.session.flush()


def withdraw_sharing(household: Household, on: date) -> None:
    if not household.sharing_in_force:
        raise DomainError(_("Non c'è un'autorizzazione alla condivisione da revocare."))
    household.sharing_withdrawn_on = on
    record("sharing_withdrawn", household, {"sharing_withdrawn_on": on.isoformat()})
    db.session.flush()


def close_household(household: Household, on: date) -> None:
    # Two clicks on «Chiudi» at once: one closing, one audit event; the other is told.
    move(
        household,
        ["active"],
        {"status": "closed", "closed_on": on},
        refused=lambda current: _("Il nucleo è già chiuso."),
    )
    record(
        "household_closed", household, {"status": ["active", "closed"], "closed_on": on.isoformat()}
    )
    db.session.flush()


def request_joint_care(
    household: Household, requesting_org_id: int, actor: User, message: str | None
) -> JointCareRequest:
    if household.organization_id == requesting_org_id:
        raise DomainError(_("Il nucleo è già in carico al tuo ente."))
    # Two colleagues asking at once make one request: the second waits, then finds the first.
    lock_row(Household, household.id)
    if holds_household(requesting_org_id, household):
        raise DomainError(_("Il nucleo è già in carico congiunto al tuo ente."))
    pending = db.session.scalar(
        select(JointCareRequest).where(
            JointCareRequest.household_id == household.id,
            JointCareRequest.requesting_organization_id == requesting_org_id,
            JointCareRequest.status == "pending",
        )
    )
    if pending is not None:
        return pending
    request = JointCareRequest(
        household_id=household.id,
        requesting_organization_id=requesting_org_id,
        requested_by_id=actor.id,
        message=message,
        status="pending",
    )
    db.session.add(request)
    db.session.flush()
    record("joint_care_requested", request, {"household_id": household.id})
    # Issue #26: the City decides, the entity that has the household in charge is told.
    asking = db.session.get(Organization, requesting_org_id)
    params = {"organization": asking.name if asking else ""}
    notify(coordinators(), "joint_care_requested", household, params, exclude=actor)
    notify(
        operators_of(household.organization_id),
        "joint_care_requested_owner",
        household,
        params,
        exclude=actor,
    )
    return request


def decide_joint_care(
    request: JointCareRequest, accept: bool, note: str | None, actor: User
) -> HouseholdCoHolder | None:
    """The City's answer to a joint-care request. Accepting makes the requesting organization
    a co-holder of the household: from now on it sees and edits it (the households policy).
    Two answers at once: the first counts, the second is told the request was answered."""
    status = "accepted" if accept else "declined"
    household = request.household
    if accept and household.status != "active":
        raise DomainError(
            _("Il nucleo non è più in carico: la presa in carico congiunta non serve.")
        )
    move(
        request,
        ["pending"],
        {
            "status": status,
            "decided_by_id": actor.id,
            "decision_note": note,
            "updated_at": utcnow(),
        },
        refused=lambda current: _("Questa richiesta ha già avuto una risposta."),
    )
    record("joint_care_" + status, request, {"status": ["pending", status]})
    still_pending = db.session.scalar(
        select(func.count())
        .select_from(JointCareRequest)
        .where(JointCareRequest.household_id == household.id, JointCareRequest.status == "pending")
    )
    if not still_pending:  # every request about the household decided: the action is done
        settle("household", household.id, ["joint_care_requested"], actor)
    if not accept:
        db.session.flush()
        return None
    holder = HouseholdCoHolder(
        household_id=household.id,
        organization_id=request.requesting_organization_id,
        joint_care_request_id=request.id,
        started_by_id=actor.id,
    )
    db.session.add(holder)
    db.session.flush()
    record(
        "joint_care_started",
        household,
        {
            "organization_id": holder.organization_id,
            "joint_care_request_id": request.id,
            "co_holder_id": holder.id,
        },
    )
    db.session.flush()
    return holder


def end_joint_care(holder: HouseholdCoHolder, note: str | None, actor: User) -> None:
    """The City ends a joint care: the co-holder no longer sees nor edits the household.
    One conditional UPDATE, so ending it twice at once records one end."""
    db.session.flush()
    ended = db.session.execute(
        update(HouseholdCoHolder)
        .where(HouseholdCoHolder.id == holder.id, HouseholdCoHolder.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_by_id=actor.id, end_note=note)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(holder)
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError(_("Questa presa in carico congiunta è già terminata."))
    record(
        "joint_care_ended",
        holder.household,
        {"organization_id": holder.organization_id, "co_holder_id": holder.id, "note": note},
    )
    db.session.flush()


def co_holders(household: Household) -> list[HouseholdCoHolder]:
    """The organizations that co-hold the household now, first come first."""
    return list(
        db.session.scalars(
            select(HouseholdCoHolder)
            .where(
                HouseholdCoHolder.household_id == household.id, HouseholdCoHolder.ended_at.is_(None)
            )
            .order_by(HouseholdCoHolder.started_at, HouseholdCoHolder.id)
        )
    )


def record_view(household: Household) -> None:
    """Every opening of a household's personal data is in the audit log: who viewed whom, when."""
    record("household_viewed", household, {"viewed_at": utcnow().isoformat()})
