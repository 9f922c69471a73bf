"""Data-subject rights: what the portal holds about one person (GDPR art. 15), and the
anonymisation of closed households once the retention period is over (art. 5(1)(e), art. 17).

What "everything held about one person" means here:
- the person's own record (every field);
- the household record, because it concerns the person too: address, circoscrizione, ISEE,
  housing, needs, notes, who holds the case, privacy notice and sharing authorisation;
- the other members only as relation and age: their names, codici fiscali and birth dates are
  third-party data (art. 15(4)) and stay out of the export;
- the distributions the household received, the joint-care requests and the referrals about it;
- the household's placements in temporary accommodation (unit, provider, dates, motivation,
  notes) with their well-being follow-ups, its eviction-prevention cases, and the projects of
  the household or of this person (goals, meetings, budget lines and spending); a project of
  another member is that member's data and stays out;
- the privacy notice and the sharing authorisations, as given and withdrawn over time;
- the notifications the portal sent to its staff about these records (who was told what);
- the audit trail: every event whose object is the person, their household or any record above,
  and every event of a response that showed the household among others (lists, searches,
  forms, exports: `showed_household`), each with the actor's name and organization (housing
  providers included). Changed values are given only for the fields of the person or of the
  household; other keys (other members' ids, possible duplicates in other households) are left
  out. Once a household is anonymised, no changed values are given at all, or the export would
  undo the anonymisation.

Operations add the audit event and flush; the view commits.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.admin.models import get_setting
from app.audit import format as audit_format
from app.audit.labels import audit_label
from app.audit.models import AuditEvent
from app.audit.operations import record, showed_household
from app.auth.models import User
from app.db import utcnow
from app.distributions.models import Distribution
from app.errors import DomainError
from app.extensions import db
from app.households.consents import consent_state
from app.households.models import (
    Consent,
    Household,
    HouseholdCoHolder,
    JointCareRequest,
    Person,
)
from app.households.operations import HOUSEHOLD_FIELDS, PERSON_FIELDS
from app.households.vocabulary import (
    CLOSING_REASONS,
    CONSENT_PURPOSES,
    CONSENT_STATES,
    DISTRIBUTION_KINDS,
    EDUCATION,
    EMPLOYMENT,
    HOUSEHOLD_STATUSES,
    HOUSING,
    NEEDS,
    RELATIONS,
    SEXES,
)
from app.housing.models import HousingRiskCase, Placement, WellbeingCheck
from app.housing.vocabulary import (
    PLACEMENT_STATUSES,
    REASONS_BY_STATUS,
    RISK_ACTIONS,
    RISK_KINDS,
    RISK_OUTCOMES,
    RISK_STATUSES,
    UNIT_KINDS,
    WELLBEING,
)
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.notifications import labels as notification_labels
from app.notifications.models import Notification
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.projects.vocabulary import CATEGORIES as BUDGET_CATEGORIES
from app.projects.vocabulary import GOAL_STATUSES
from app.projects.vocabulary import STATUSES as PROJECT_STATUSES
from app.referrals.models import Referral, ReferralStatusChange
from app.referrals.vocabulary import NEED_LABELS as REFERRAL_NEEDS
from app.referrals.vocabulary import STATUSES as REFERRAL_STATUSES
from app.referrals.vocabulary import reason_label
from app.registry.models import CIRCOSCRIZIONI, Organization, Site
from app.registry.vocabulary import LANGUAGES
from app.web.formatting import format_date, to_rome
from app.workflow import lock_row

RETENTION_SETTING = "household_retention_years"
DEFAULT_RETENTION_YEARS = 5
ANONYMOUS_LAST_NAME = "Anonimo"
EXPORT_FORMATS = ("json", "html")

JOINT_CARE_STATUSES = {
    "pending": _l("in attesa"),
    "accepted": _l("accolta"),
    "declined": _l("non accolta"),
}

# Audit keys whose values are the person's or the household's own data: only these are exported.
AUDIT_KEYS_EXPORTED = (
    frozenset(PERSON_FIELDS)
    | (frozenset(HOUSEHOLD_FIELDS) - {"case_worker_id"})
    | {
        "status",
        "closed_on",
        "privacy_notice_on",
        "sharing_scope",
        "sharing_authorised_on",
        "sharing_withdrawn_on",
        "consent_id",
        "purpose",
        "recipient_organization_id",
        "given_on",
        "expires_on",
        "withdrawn_on",
        "signed_form",
        "distributed_on",
        "kind",
        "quantity",
        "format",
    }
)


# The audit events that make up the history of the privacy notice and of the consent to share.
CONSENT_ACTIONS = (
    "privacy_notice_recorded",
    "consent_recorded",
    "consent_withdrawn",
    # Before the consents ledger (migration 0023):
    "sharing_authorised",
    "sharing_withdrawn",
)


# Export ----------------------------------------------------------------------------------------


def _coded(vocabulary: dict[str, Any], code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    return {"code": code, "label": str(vocabulary.get(code, code))}


def _coded_list(vocabulary: dict[str, Any], codes: list[str] | None) -> list[dict[str, str]]:
    return [{"code": code, "label": str(vocabulary.get(code, code))} for code in codes or []]


def _person_data(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "codice_fiscale": person.codice_fiscale,
        "birth_date": person.birth_date,
        "sex": _coded(SEXES, person.sex),
        "relation": _coded(RELATIONS, person.relation),
        "employment_status": _coded(EMPLOYMENT, person.employment_status),
        "education": _coded(EDUCATION, person.education),
        "languages": _coded_list(LANGUAGES, person.languages),
        "recorded_at": person.created_at,
        "updated_at": person.updated_at,
    }


def _household_data(household: Household) -> dict[str, Any]:
    return {
        "id": household.id,
        "organization": household.organization.name,
        "case_worker": household.case_worker.full_name if household.case_worker else None,
        "taken_in_charge_at": household.created_at,
        "status": _coded(HOUSEHOLD_STATUSES, household.status),
        "closed_on": household.closed_on,
        "closing_reason": _coded(CLOSING_REASONS, household.closing_reason),
        "closing_note": household.closing_note,
        "anonymised_at": household.anonymised_at,
        "address": household.address,
        "circoscrizione": {
            "number": household.circoscrizione,
            "name": CIRCOSCRIZIONI.get(household.circoscrizione, ""),
        },
        "isee_value": household.isee_value,
        "isee_expires_on": household.isee_expires_on,
        "housing_situation": _coded(HOUSING, household.housing_situation),
        "needs": _coded_list(NEEDS, household.needs),
        "notes": household.notes,
        "privacy_notice": {
            "given_on": household.privacy_notice_on,
            "given_by": household.privacy_notice_by.full_name
            if household.privacy_notice_by
            else None,
        },
    }


def _consents(household: Household, today: date) -> list[dict[str, Any]]:
    """The consents ledger: every consent, and every share of the data made under it."""
    ledger = db.session.scalars(
        select(Consent)
        .where(Consent.household_id == household.id)
        .options(selectinload(Consent.shares))
        .order_by(Consent.given_on, Consent.id)
    ).all()
    return [
        {
            "id": consent.id,
            "purpose": _coded(CONSENT_PURPOSES, consent.purpose),
            "recipient": consent.recipient_organization.name
            if consent.recipient_organization
            else str(_("tutta la rete")),
            "given_on": consent.given_on,
            "expires_on": consent.expires_on,
            "withdrawn_on": consent.withdrawn_on,
            "signed_form": consent.signed_form,
            "recorded_at": consent.created_at,
            "state": _coded(CONSENT_STATES, consent_state(consent, today)),
            "shares": [
                {
                    "recipient": share.recipient_organization.name,
                    "object": {"type": share.object_type, "id": share.object_id},
                    "shared_at": share.shared_at,
                }
                for share in consent.shares
            ],
        }
        for consent in ledger
    ]


def _other_members(person: Person, today: date) -> list[dict[str, Any]]:
    """Third parties: relation and age only, never names, codici fiscali or birth dates."""
    return [
        {"relation": _coded(RELATIONS, member.relation), "age": member.age(today)}
        for member in person.household.members
        if member.id != person.id
    ]


def _distributions(household: Household) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Distribution)
        .where(Distribution.household_id == household.id)
        .options(joinedload(Distribution.site).joinedload(Site.organization))
        .order_by(Distribution.distributed_on, Distribution.id)
    ).all()
    return [
        {
            "date": row.distributed_on,
            "hub": row.site.name,
            "hub_address": row.site.address,
            "organization": row.site.organization.name,
            "kind": _coded(DISTRIBUTION_KINDS, row.kind),
            "quantity": row.quantity,
            "reason_for_extra": row.override_reason,
        }
        for row in rows
    ]


def _joint_care_requests(household: Household) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(JointCareRequest)
        .where(JointCareRequest.household_id == household.id)
        .options(joinedload(JointCareRequest.requesting_organization))
        .order_by(JointCareRequest.created_at, JointCareRequest.id)
    ).all()
    # An accepted request made the organization a co-holder: since when, until when.
    holders = {
        holder.joint_care_request_id: holder
        for holder in db.session.scalars(
            select(HouseholdCoHolder).where(HouseholdCoHolder.household_id == household.id)
        )
    }
    return [
        {
            "requested_at": row.created_at,
            "requesting_organization": row.requesting_organization.name,
            "status": _coded(JOINT_CARE_STATUSES, row.status),
            "message": row.message,
            "decision_note": row.decision_note,
            "updated_at": row.updated_at,
            "co_holder_from": holders[row.id].started_at if row.id in holders else None,
            "co_holder_until": holders[row.id].ended_at if row.id in holders else None,
        }
        for row in rows
    ]


def _referrals(household: Household) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Referral)
        .where(Referral.household_id == household.id)
        .options(joinedload(Referral.service), joinedload(Referral.to_organization))
        .order_by(Referral.created_at, Referral.id)
    ).all()
    return [
        {
            "created_at": row.created_at,
            "need": _coded(REFERRAL_NEEDS, row.need),
            "service": row.service.name,
            "organization": row.to_organization.name,
            "status": _coded(REFERRAL_STATUSES, row.status),
            "motivation": row.motivation or None,
            "reason": str(reason_label(row.status, row.reason_code)) if row.reason_code else None,
            "reason_note": row.reason_note,
            "updated_at": row.status_changed_at,
        }
        for row in rows
    ]


def _projects_of(person: Person) -> Any:
    """The household's projects and this person's own (not another member's), as a WHERE."""
    return (Project.household_id == person.household_id) & or_(
        Project.person_id.is_(None), Project.person_id == person.id
    )


def _records_of(person: Person) -> dict[str, Any]:
    """Each kind of record the extract covers (audit `object_type` → a select of its ids)."""
    household_id = person.household_id
    placements = select(Placement.id).where(Placement.household_id == household_id)
    return {
        "distribution": select(Distribution.id).where(Distribution.household_id == household_id),
        "joint_care_request": select(JointCareRequest.id).where(
            JointCareRequest.household_id == household_id
        ),
        "referral": select(Referral.id).where(Referral.household_id == household_id),
        "placement": placements,
        "wellbeing_check": select(WellbeingCheck.id).where(
            WellbeingCheck.placement_id.in_(placements)
        ),
        "housing_risk_case": select(HousingRiskCase.id).where(
            HousingRiskCase.household_id == household_id
        ),
        "project": select(Project.id).where(_projects_of(person)),
    }


def _about(person: Person, object_type: Any, object_id: Any) -> Any:
    """`(object_type, object_id)` names the person, the household or one of its records."""
    return or_(
        (object_type == "person") & (object_id == person.id),
        (object_type == "household") & (object_id == person.household_id),
        *((object_type == kind) & object_id.in_(ids) for kind, ids in _records_of(person).items()),
    )


def _actor_names() -> tuple[Any, Any]:
    return aliased(User), aliased(Organization)


def audit_trail(person: Person) -> list[dict[str, Any]]:
    """Every audit event about the person, their household and what hangs off the household,
    and every response that showed the household among others (a list, a search, an export)."""
    actor, actor_org = _actor_names()
    rows = db.session.execute(
        select(AuditEvent, actor.full_name, actor_org.name)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(actor_org, actor_org.id == AuditEvent.actor_organization_id)
        .where(
            or_(
                _about(person, AuditEvent.object_type, AuditEvent.object_id),
                showed_household(person.household_id),
            )
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    anonymised = person.household.anonymised_at is not None
    trail = []
    for event, actor_name, org_name in rows:
        if event.actor_id is None:
            who, where = str(_("procedura automatica")), None
        else:
            who, where = actor_name, org_name or str(_("Città di Torino"))
        changes = {}
        if not anonymised and isinstance(event.changes, dict):
            changes = {k: v for k, v in event.changes.items() if k in AUDIT_KEYS_EXPORTED}
        trail.append(
            {
                "at": event.created_at,
                "action": {"code": event.action, "label": audit_label(event.action)},
                "object": {"type": event.object_type, "id": event.object_id},
                "actor": who,
                "actor_organization": where,
                "changes": changes,
            }
        )
    return trail


def _placements(household: Household) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Placement)
        .where(Placement.household_id == household.id)
        .options(
            joinedload(Placement.unit),
            joinedload(Placement.provider),
            joinedload(Placement.proposing_organization),
            selectinload(Placement.checks).joinedload(WellbeingCheck.done_by),
        )
        .order_by(Placement.created_at, Placement.id)
    ).all()
    return [
        {
            "proposed_at": row.created_at,
            "proposed_by": row.proposing_organization.name if row.proposing_organization else None,
            "unit": row.unit.name,
            "unit_kind": _coded(UNIT_KINDS, row.unit.kind),
            "unit_address": row.unit.address,
            "provider": row.provider.name,
            "places": row.places,
            "status": _coded(PLACEMENT_STATUSES, row.status),
            "motivation": row.motivation,
            "target_reason": row.target_reason,
            "approved_at": row.approved_at,
            "moved_in_on": row.moved_in_on,
            "ended_on": row.ended_on,
            "reason": _coded(REASONS_BY_STATUS.get(row.status, {}), row.reason_code),
            "reason_note": row.reason_note,
            "updated_at": row.status_changed_at,
            "wellbeing_checks": [
                {
                    "due_on": check.due_on,
                    "done_on": check.done_on,
                    "wellbeing": _coded(WELLBEING, check.wellbeing),
                    "notes": check.notes,
                    "recorded_by": check.done_by.full_name if check.done_by else None,
                }
                for check in sorted(row.checks, key=lambda c: (c.due_on, c.id))
            ],
        }
        for row in rows
    ]


def _risk_cases(household: Household) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(HousingRiskCase)
        .where(HousingRiskCase.household_id == household.id)
        .options(joinedload(HousingRiskCase.organization))
        .order_by(HousingRiskCase.created_at, HousingRiskCase.id)
    ).all()
    return [
        {
            "opened_at": row.created_at,
            "organization": row.organization.name if row.organization else None,
            "kind": _coded(RISK_KINDS, row.kind),
            "arrears_amount": row.arrears_amount,
            "notice_on": row.notice_on,
            "hearing_on": row.hearing_on,
            "execution_on": row.execution_on,
            "actions": _coded_list(RISK_ACTIONS, row.actions),
            "notes": row.notes,
            "status": _coded(RISK_STATUSES, row.status),
            "outcome": _coded(RISK_OUTCOMES, row.outcome),
            "closed_on": row.closed_on,
            "updated_at": row.updated_at,
        }
        for row in rows
    ]


def _projects(person: Person) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Project)
        .where(_projects_of(person))
        .options(
            joinedload(Project.organization),
            joinedload(Project.case_worker),
            selectinload(Project.goals),
            selectinload(Project.meetings).joinedload(ProjectMeeting.recorded_by),
            selectinload(Project.lines),
        )
        .order_by(Project.created_at, Project.id)
    ).all()
    return [
        {
            "created_at": row.created_at,
            "title": row.title,
            "for_this_person": row.person_id == person.id,
            "organization": row.organization.name,
            "case_worker": row.case_worker.full_name if row.case_worker else None,
            "youth": row.youth,
            "starts_on": row.starts_on,
            "ends_on": row.ends_on,
            "status": _coded(PROJECT_STATUSES, row.status),
            "status_note": row.status_note,
            "summary": row.summary,
            "submitted_at": row.submitted_at,
            "approved_at": row.approved_at,
            "closed_on": row.closed_on,
            "goals": [_goal(goal) for goal in sorted(row.goals, key=lambda g: g.id)],
            "meetings": [
                {
                    "held_on": meeting.held_on,
                    "notes": meeting.notes or None,
                    "next_steps": meeting.next_steps,
                    "recorded_by": meeting.recorded_by.full_name if meeting.recorded_by else None,
                }
                for meeting in sorted(row.meetings, key=lambda m: (m.held_on, m.id))
            ],
            "budget_lines": [_budget_line(line) for line in sorted(row.lines, key=lambda b: b.id)],
        }
        for row in rows
    ]


def _goal(goal: ProjectGoal) -> dict[str, Any]:
    return {
        "description": goal.description,
        "target_on": goal.target_on,
        "status": _coded(GOAL_STATUSES, goal.status),
    }


def _budget_line(line: BudgetLine) -> dict[str, Any]:
    return {
        "category": _coded(BUDGET_CATEGORIES, line.category),
        "description": line.description,
        "supplier": line.supplier,
        "planned": line.planned,
        "approved": line.approved,
        "committed": line.committed,
        "committed_on": line.committed_on,
        "paid": line.paid,
        "paid_on": line.paid_on,
    }


def _notifications(person: Person) -> list[dict[str, Any]]:
    """Who among the staff was told what about these records, and whether they read it."""
    recipient, recipient_org = _actor_names()
    rows = db.session.execute(
        select(Notification, recipient.full_name, recipient.role, recipient_org.name)
        .join(recipient, recipient.id == Notification.user_id)
        .outerjoin(recipient_org, recipient_org.id == recipient.organization_id)
        .where(_about(person, Notification.object_type, Notification.object_id))
        .order_by(Notification.created_at, Notification.id)
    ).all()
    return [
        {
            "at": row.created_at,
            "text": notification_labels.text(row),
            "recipient": name,
            "recipient_organization": org_name
            or (str(_("Città di Torino")) if role == "coordinator" else None),
            "read_at": row.read_at,
        }
        for row, name, role, org_name in rows
    ]


def record_export(person: Person, export_format: str) -> AuditEvent:
    """The export itself is a view of personal data: audited in the same transaction."""
    if export_format not in EXPORT_FORMATS:
        raise ValueError(export_format)
    event = record(
        "person_data_exported",
        person,
        {"format": export_format, "household_id": person.household_id},
    )
    db.session.flush()
    return event


def person_export(person: Person, actor: User, today: date) -> dict[str, Any]:
    """Everything held about `person`, as Python values (dates, Decimal, aware datetimes)."""
    household = person.household
    trail = audit_trail(person)
    return {
        "export": {
            "generated_at": utcnow(),
            "generated_by": actor.full_name,
            "controller": str(_("Città di Torino")),
            "scope": str(
                _(
                    "Dati della persona e del suo nucleo familiare, distribuzioni ricevute, "
                    "richieste di presa in carico congiunta, segnalazioni, inserimenti "
                    "abitativi con le verifiche, casi di prevenzione dello sfratto, progetti "
                    "individualizzati con il budget, informativa, consensi alla condivisione "
                    "con ciò che è stato condiviso in base a ciascuno, notifiche inviate al "
                    "personale e registro delle attività "
                    "(chi ha consultato o modificato i dati). Degli altri componenti del "
                    "nucleo si indicano solo la relazione e l'età: i loro dati sono dati di "
                    "terzi."
                )
            ),
        },
        "person": _person_data(person),
        "household": _household_data(household),
        "other_members": _other_members(person, today),
        "distributions": _distributions(household),
        "joint_care_requests": _joint_care_requests(household),
        "referrals": _referrals(household),
        "placements": _placements(household),
        "risk_cases": _risk_cases(household),
        "projects": _projects(person),
        "consents": _consents(household, today),
        "consent_history": [entry for entry in trail if entry["action"]["code"] in CONSENT_ACTIONS],
        "notifications": _notifications(person),
        "audit_trail": trail,
    }


def jsonable(value: Any) -> Any:
    """Dates ISO 8601, times ISO 8601 in Europe/Rome, money as a string with two decimals."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return to_rome(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01'))}"
    return value


def change_text(field: str, value: Any, object_type: str | None = None) -> str:
    """One changed value of the audit trail for the printable page: `old → new`, in Italian as
    on the audit page (app.audit.format: vocabulary words, dates dd/mm/yyyy, € amounts)."""
    return audit_format.change_text(field, value, object_type)


# Anonymisation ---------------------------------------------------------------------------------


def retention_years() -> int:
    """Years a closed household is kept (setting); a missing or meaningless value means 5."""
    value = get_setting(RETENTION_SETTING, DEFAULT_RETENTION_YEARS)
    try:
        years = int(value)
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_YEARS
    return years if years >= 1 else DEFAULT_RETENTION_YEARS


def anonymisable_from(closed_on: date, years: int) -> date:
    """The first day after the retention period (a 29 February closure waits until 1 March)."""
    try:
        return closed_on.replace(year=closed_on.year + years)
    except ValueError:
        return date(closed_on.year + years, 3, 1)


def anonymisation_refusal(household: Household, today: date) -> str | None:
    """Why the household cannot be anonymised today, or None when it can."""
    if household.anonymised_at is not None:
        return _(
            "Il nucleo è già stato anonimizzato il %(date)s.",
            date=format_date(household.anonymised_at),
        )
    years = retention_years()
    if household.status != "closed":
        return ngettext(
            "Il nucleo è ancora in carico: si può anonimizzare solo un nucleo chiuso da "
            "almeno %(num)d anno.",
            "Il nucleo è ancora in carico: si può anonimizzare solo un nucleo chiuso da "
            "almeno %(num)d anni.",
            years,
        )
    if household.closed_on is None:
        return _("Manca la data di chiusura del nucleo: registrala prima di anonimizzare.")
    allowed_on = anonymisable_from(household.closed_on, years)
    if today < allowed_on:
        return _(
            "Il nucleo è chiuso dal %(closed_on)s: si può anonimizzare dal %(allowed_on)s.",
            closed_on=format_date(household.closed_on),
            allowed_on=format_date(allowed_on),
        )
    return None


def _erase_housing_and_project_text(household_id: int) -> tuple[int, int, int]:
    """Free text of placements, eviction cases and projects may name people: erased; the coded
    statuses, reasons, dates and amounts stay for the reports. Returns how many of each."""
    placement_ids = select(Placement.id).where(Placement.household_id == household_id)
    project_ids = select(Project.id).where(Project.household_id == household_id)
    counts = tuple(
        db.session.scalar(select(func.count()).select_from(model).where(column == household_id))
        or 0
        for model, column in (
            (Placement, Placement.household_id),
            (HousingRiskCase, HousingRiskCase.household_id),
            (Project, Project.household_id),
        )
    )
    for statement in (
        update(Placement)
        .where(Placement.household_id == household_id)
        .values(motivation=None, reason_note=None),
        update(WellbeingCheck)
        .where(WellbeingCheck.placement_id.in_(placement_ids))
        .values(notes=None),
        update(HousingRiskCase)
        .where(HousingRiskCase.household_id == household_id)
        .values(notes=None),
        update(Project)
        .where(Project.household_id == household_id)
        .values(summary=None, status_note=None),
        update(ProjectMeeting)
        .where(ProjectMeeting.project_id.in_(project_ids))
        .values(notes="", next_steps=None),
    ):
        db.session.execute(statement.execution_options(synchronize_session="fetch"))
    return counts  # type: ignore[return-value]


def anonymise_household(household: Household, today: date) -> dict[str, int]:
    """Erase what identifies the family; keep what the reports count.

    Members: names become "Persona N Anonimo", no codice fiscale, birth date 1 January of the
    same year (age bands survive); sex, relation, work, education and languages stay.
    Household: no address, notes or ISEE value; circoscrizione, needs, housing and status stay.
    Distributions, joint-care requests, referrals, placements, eviction cases and projects stay,
    without their free-text notes, motivations and summaries (they may name people). The audit
    event holds counts only. Past audit events are never touched.
    """
    # Two coordinators pressing the button together: the second waits, then sees it done.
    lock_row(Household, household.id)
    db.session.refresh(household, ["status", "closed_on", "anonymised_at"])
    refusal = anonymisation_refusal(household, today)
    if refusal is not None:
        raise DomainError(refusal)
    members = list(household.members)
    for index, member in enumerate(members, start=1):
        member.first_name = f"Persona {index}"
        member.last_name = ANONYMOUS_LAST_NAME
        member.codice_fiscale = None
        if member.birth_date is not None:
            member.birth_date = date(member.birth_date.year, 1, 1)
    household.address = None
    household.notes = None
    household.closing_note = None  # free text, may name people; the coded reason stays
    household.isee_value = None
    household.anonymised_at = utcnow()
    distributions = (
        db.session.scalar(
            select(func.count())
            .select_from(Distribution)
            .where(Distribution.household_id == household.id)
        )
        or 0
    )
    db.session.execute(
        update(Distribution)
        .where(Distribution.household_id == household.id)
        .values(override_reason=None)
        .execution_options(synchronize_session="fetch")
    )
    joint_requests = (
        db.session.scalar(
            select(func.count())
            .select_from(JointCareRequest)
            .where(JointCareRequest.household_id == household.id)
        )
        or 0
    )
    db.session.execute(
        update(JointCareRequest)
        .where(JointCareRequest.household_id == household.id)
        .values(message=None, decision_note=None)
        .execution_options(synchronize_session="fetch")
    )
    referrals = (
        db.session.scalar(
            select(func.count()).select_from(Referral).where(Referral.household_id == household.id)
        )
        or 0
    )
    db.session.execute(
        update(Referral)
        .where(Referral.household_id == household.id)
        .values(motivation="", reason_note=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.execute(
        update(ReferralStatusChange)
        .where(
            ReferralStatusChange.referral_id.in_(
                select(Referral.id).where(Referral.household_id == household.id)
            )
        )
        .values(note=None)
        .execution_options(synchronize_session="fetch")
    )
    placements, risk_cases, projects = _erase_housing_and_project_text(household.id)
    counts = {
        "members": len(members),
        "referrals": referrals,
        "placements": placements,
        "risk_cases": risk_cases,
        "projects": projects,
        "distributions": distributions,
        "joint_care_requests": joint_requests,
        "retention_years": retention_years(),
    }
    record("household_anonymised", household, counts)
    db.session.flush()
    return counts
