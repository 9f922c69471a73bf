"""Household state changes: mutate, audit in the same transaction, flush. Views commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update

from app.audit.operations import diff, record
from app.auth.models import Role, User
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.households.addresses import normalise_address
from app.households.models import (
    Consent,
    ConsentShare,
    Household,
    HouseholdCoHolder,
    JointCareRequest,
    Person,
)
from app.households.policy import holds_household
from app.households.vocabulary import CONSENT_PURPOSES
from app.i18n import gettext as _
from app.notifications.operations import coordinators, notify, operators_of, settle, staff_of
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
    surname, birth date and household address. Addresses are compared in one normalised form
    ("Via Sempione, 45" is "via sempione 45"), in Python over the few candidate rows, so the rule
    is the same on SQLite and PostgreSQL."""
    first, last = first_name.strip().lower(), last_name.strip().lower()
    addr = normalise_address(address)
    score = (
        case((func.lower(Person.first_name) == first, 1), else_=0)
        + case((func.lower(Person.last_name) == last, 1), else_=0)
        + case((and_(birth_date is not None, Person.birth_date == birth_date), 1), else_=0)
    )
    query = (
        select(Person, Household.address, score.label("score"))
        .join(Household)
        .where(
            or_(func.lower(Person.last_name) == last, Person.birth_date == birth_date),
            Household.anonymised_at.is_(None),
            score >= (3 if not addr else 2),
        )
        .order_by(score.desc(), Person.id)
        .limit(50)
    )
    if exclude_household_id is not None:
        query = query.where(Household.id != exclude_household_id)
    people = [
        person
        for person, household_address, points in db.session.execute(query)
        if points + (1 if addr and normalise_address(household_address) == addr else 0) >= 3
    ]
    return people[:10]


# Households ---------------------------------------------------------------------------------


class StillInCharge(DomainError):
    """A member's earlier household was reopened (or is in charge) while the intake was saved."""


def take_in_charge(
    org_id: int,
    values: dict[str, Any],
    members: list[dict[str, Any]],
    actor: User,
    dismissed_duplicates: list[int],
) -> Household:
    """A new household in charge of `org_id`.

    A member whose codice fiscale is on file in a closed household of another organization is
    taken over: the same person (their record and history) moves into the new household; the
    closed household stays as it was, with its audit trail, and the City is told."""
    household = Household(
        organization_id=org_id, status="active", **{k: values.get(k) for k in HOUSEHOLD_FIELDS}
    )
    household.case_worker_id = values.get("case_worker_id") or actor.id
    if values.get("privacy_notice_given"):
        household.privacy_notice_on = values.get("privacy_notice_on")
        household.privacy_notice_by_id = actor.id
    db.session.add(household)
    db.session.flush()
    taken_over: list[tuple[Person, Household, dict[str, list[Any]]]] = []
    for member in members:
        code = member.get("codice_fiscale")
        existing = person_with_codice_fiscale(code) if code else None
        if existing is None:
            household.members.append(Person(**{k: member.get(k) for k in PERSON_FIELDS}))
            continue
        earlier = existing.household
        # The earlier household's row lock: a reopening of it waits for this intake, or this
        # intake for the reopening, which it then sees (and refuses to move the person).
        lock_row(Household, earlier.id)
        db.session.refresh(earlier)
        if earlier.status != "closed" or earlier.organization_id == org_id:
            raise StillInCharge(_("Questa persona è di nuovo in carico: controlla i dati."))
        wanted = {k: member.get(k) for k in PERSON_FIELDS}
        changes = diff(existing, wanted)
        for field in changes:
            setattr(existing, field, wanted[field])
        household.members.append(existing)
        taken_over.append((existing, earlier, changes))
    db.session.flush()
    earlier_ids = sorted({earlier.id for _person, earlier, _changes in taken_over})
    record(
        "household_taken_in_charge",
        household,
        {
            "organization_id": org_id,
            "members": [p.id for p in household.members],
            "circoscrizione": household.circoscrizione,
            **({"earlier_households": earlier_ids} if earlier_ids else {}),
        },
    )
    moved = {person.id for person, _earlier, _changes in taken_over}
    for person in household.members:
        if person.id not in moved:
            record("person_created", person, {"household_id": household.id})
    for person, earlier, changes in taken_over:
        record(
            "person_taken_over",
            person,
            {
                "household_id": [earlier.id, household.id],
                "organization_id": [earlier.organization_id, org_id],
                **changes,
            },
        )
        record(
            "household_member_taken_over",
            earlier,
            {"person_id": person.id, "household_id": [earlier.id, household.id]},
        )
    if taken_over:
        notify(
            coordinators(),
            "household_taken_over",
            household,
            {"earlier_households": earlier_ids},
            exclude=actor,
        )
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
    if values.get("relation") == "reference":
        # As in update_member: two colleagues adding a reference person at once, the second
        # waits here and then sees the first one's (not the page's stale list of members).
        lock_row(Household, household.id)
        other = db.session.scalar(
            select(Person.id).where(
                Person.household_id == household.id, Person.relation == "reference"
            )
        )
        if other is not None:
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
    if values.get("relation") == "reference" and person.relation != "reference":
        # Two colleagues making two members the reference at once: the second waits here and
        # then sees the first one's.
        lock_row(Household, person.household_id)
        other = db.session.scalar(
            select(Person.id).where(
                Person.household_id == person.household_id,
                Person.relation == "reference",
                Person.id != person.id,
            )
        )
        if other is not None:
            raise DomainError(_("Il nucleo ha già una persona di riferimento."))
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


def record_consent(
    household: Household,
    purpose: str,
    recipient_organization_id: int | None,
    given_on: date,
    expires_on: date | None,
    signed_form: str,
    actor: User,
) -> Consent:
    """A consent of the ledger, signed on `given_on`. The privacy notice comes first."""
    if household.privacy_notice_on is None:
        raise DomainError(
            _("Registra prima l'informativa privacy consegnata: il consenso viene dopo.")
        )
    if purpose not in CONSENT_PURPOSES:
        raise DomainError(_("Scegli la finalità."))
    if expires_on is not None and expires_on < given_on:
        raise DomainError(_("La scadenza non può precedere la data della firma."))
    signed_form = signed_form.strip()
    if not signed_form:
        raise DomainError(_("Indica dove si trova il modulo firmato (protocollo o riferimento)."))
    consent = Consent(
        household_id=household.id,
        purpose=purpose,
        recipient_organization_id=recipient_organization_id,
        given_on=given_on,
        expires_on=expires_on,
        signed_form=signed_form,
        recorded_by_id=actor.id,
    )
    db.session.add(consent)
    db.session.flush()
    record(
        "consent_recorded",
        household,
        {
            "consent_id": consent.id,
            "purpose": purpose,
            "recipient_organization_id": recipient_organization_id,
            "given_on": given_on.isoformat(),
            "expires_on": expires_on.isoformat() if expires_on else None,
            "signed_form": signed_form,
        },
        actor=actor,
    )
    db.session.flush()
    return consent


def withdraw_consent(consent: Consent, on: date, actor: User) -> int:
    """The household withdraws `consent` from `on`: nothing more is shared under it (the steps
    that hand data on read the ledger under the household's row lock, which this takes too),
    what was shared stays recorded, and the staff of every recipient that received data under
    it are told. Returns how many users were notified."""
    lock_row(Household, consent.household_id)
    db.session.refresh(consent, ["withdrawn_on"])
    if consent.withdrawn_on is not None:
        raise DomainError(_("Questo consenso è già stato revocato."))
    consent.withdrawn_on = on
    consent.withdrawn_by_id = actor.id
    record(
        "consent_withdrawn",
        consent.household,
        {"consent_id": consent.id, "purpose": consent.purpose, "withdrawn_on": on.isoformat()},
        actor=actor,
    )
    told = 0
    for organization_id, object_type in db.session.execute(
        select(ConsentShare.recipient_organization_id, ConsentShare.object_type)
        .where(ConsentShare.consent_id == consent.id)
        .distinct()
        .order_by(ConsentShare.recipient_organization_id, ConsentShare.object_type)
    ):
        role = Role.HOUSING_PROVIDER if object_type == "placement" else Role.ENTITY_OPERATOR
        told += notify(
            staff_of(organization_id, role),
            "consent_withdrawn",
            consent,
            {"purpose": str(CONSENT_PURPOSES[consent.purpose])},
            exclude=actor,
        )
    db.session.flush()
    return told


def record_share(
    consent: Consent, recipient_organization_id: int, obj: Any, actor: Any = None
) -> ConsentShare:
    """Data of the household went to `recipient_organization_id` under `consent` (`obj`: the
    referral, placement or project that carried it)."""
    share = ConsentShare(
        consent_id=consent.id,
        recipient_organization_id=recipient_organization_id,
        object_type=obj.__tablename__,
        object_id=obj.id,
        shared_by_id=getattr(actor, "id", None),
    )
    db.session.add(share)
    db.session.flush()
    return share


def close_household(
    household: Household, on: date, reason: str | None = None, note: str | None = None
) -> None:
    # Two clicks on «Chiudi» at once: one closing, one audit event; the other is told.
    move(
        household,
        ["active"],
        {"status": "closed", "closed_on": on, "closing_reason": reason, "closing_note": note},
        refused=lambda current: _("Il nucleo è già chiuso."),
    )
    record(
        "household_closed",
        household,
        {
            "status": ["active", "closed"],
            "closed_on": on.isoformat(),
            "closing_reason": reason,
            "closing_note": note,
        },
    )
    db.session.flush()


def reopen_household(household: Household, note: str, actor: User) -> None:
    """The owning organization or the City takes a closed household back in charge.

    Under the household's row lock, so a reopening and another entity's intake of the same
    person (which moves the person out, see take_in_charge) happen one after the other."""
    lock_row(Household, household.id)
    members = db.session.scalar(
        select(func.count(Person.id)).where(Person.household_id == household.id)
    )
    if not members:
        raise DomainError(
            _("Le persone del nucleo sono ora in carico a un altro ente: il nucleo resta chiuso.")
        )
    old_reason, old_closed_on = household.closing_reason, household.closed_on
    move(
        household,
        ["closed"],
        {"status": "active", "closed_on": None, "closing_reason": None, "closing_note": None},
        refused=lambda current: _("Il nucleo è già in carico."),
    )
    record(
        "household_reopened",
        household,
        {
            "status": ["closed", "active"],
            "closed_on": [old_closed_on.isoformat() if old_closed_on else None, None],
            "closing_reason": [old_reason, None],
            "note": note,
        },
        actor=actor,
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
