"""Referral state changes: the one transition table, its guards, history, audit, notifications.

Every change goes through `transition()` (or `create()` for the draft): it checks the actor's
part in the referral, the current state, the coded reason and the business rules, then writes the
new state, a status-history row, an audit event and the notifications in the caller's
transaction. Anything refused raises DomainError and changes nothing. Views commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.audit.operations import record
from app.auth.models import User
from app.clock import today as current_day
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household, Person
from app.households.policy import can_edit_household
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.notifications.operations import coordinators, notify, operators_of
from app.referrals import queries
from app.referrals.matching import Suggestion, reasons_json
from app.referrals.models import Referral, ReferralStatusChange
from app.referrals.policy import Side, sides
from app.referrals.vocabulary import (
    DECLINE_REASONS,
    NEED_LABELS,
    NEEDS,
    OUTCOMES_COMPLETED,
    OUTCOMES_FAILED,
    REJECT_REASONS,
    STATUSES,
)
from app.registry.models import Service

SHARING_SCOPES_FOR_JOB_SERVICES = ("job_services", "all_partners")


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    side: Side
    label: object  # the verb on the button and in messages
    reasons: dict[str, object] | None = None


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(("draft",), "submitted", Side.SENDER, _l("invia alla Città")),
    "cancel": Transition(
        ("draft", "submitted", "approved"), "cancelled", Side.SENDER, _l("annulla")
    ),
    "approve": Transition(("submitted",), "approved", Side.COORDINATOR, _l("approva")),
    "reject": Transition(
        ("submitted",), "rejected", Side.COORDINATOR, _l("respingi"), REJECT_REASONS
    ),
    "accept": Transition(("approved",), "accepted", Side.RECEIVER, _l("accetta")),
    "decline": Transition(
        ("approved",), "declined", Side.RECEIVER, _l("rifiuta"), DECLINE_REASONS
    ),
    "start": Transition(("accepted",), "in_progress", Side.RECEIVER, _l("avvia il percorso")),
    "complete": Transition(
        ("in_progress",), "completed", Side.RECEIVER, _l("chiudi con esito positivo"),
        OUTCOMES_COMPLETED,
    ),
    "fail": Transition(
        ("in_progress",), "failed", Side.RECEIVER, _l("chiudi senza esito"), OUTCOMES_FAILED
    ),
}  # fmt: skip

# Who is told, on which arrival state, that something waits for them (or what came of it).
NOTIFY_ON = {
    "submitted": "coordinators",
    "approved": "receiver",
    "rejected": "sender",
    "accepted": "sender",
    "declined": "sender",
    "completed": "sender",
    "failed": "sender",
}


def available_actions(user: User, referral: Referral) -> list[str]:
    """The actions this user may take on this referral now (for the buttons)."""
    mine = sides(user, referral)
    return [
        action
        for action, t in TRANSITIONS.items()
        if t.side in mine and referral.status in t.sources
    ]


# Guards --------------------------------------------------------------------------------------


def check_sharing(household: Household) -> None:
    if not household.sharing_in_force:
        raise DomainError(
            _(
                "Manca l'autorizzazione del nucleo a condividere i dati con i servizi al "
                "lavoro della rete: registrala nella sezione Privacy della scheda del nucleo."
            )
        )
    if household.sharing_scope not in SHARING_SCOPES_FOR_JOB_SERVICES:
        raise DomainError(
            _(
                "L'autorizzazione del nucleo non copre i servizi al lavoro: aggiornala nella "
                "sezione Privacy della scheda del nucleo."
            )
        )


def check_target(service: Service, day: date) -> None:
    if not queries.is_referral_target(service.organization_id, day):
        raise DomainError(
            _(
                "%(org)s non può ricevere segnalazioni: l'accreditamento non è in vigore.",
                org=service.organization.name,
            )
        )
    if not service.active:
        raise DomainError(_("Il servizio «%(name)s» non è attivo.", name=service.name))


def check_capacity(service: Service, day: date) -> None:
    used = queries.places_used([service.id], day).get(service.id, 0)
    if used >= service.monthly_capacity:
        raise DomainError(
            _(
                "Il servizio «%(name)s» non ha più posti disponibili questo mese.",
                name=service.name,
            )
        )


def check_not_duplicate(
    household: Household, person_id: int | None, need: str, exclude_id: int | None = None
) -> None:
    other = queries.open_referral_for(person_id, household.id, need, exclude_id)
    if other is not None:
        raise DomainError(
            _(
                "C'è già una segnalazione aperta per lo stesso bisogno (%(need)s): n. %(id)s.",
                need=NEED_LABELS[need],
                id=other.id,
            )
        )


# Creating ------------------------------------------------------------------------------------


def create(
    household: Household,
    person: Person | None,
    need: str,
    service: Service,
    motivation: str,
    actor: User,
    suggestion: Suggestion | None = None,
    day: date | None = None,
) -> Referral:
    """A draft referral from the household's organization to a service."""
    day = day or current_day()
    if not can_edit_household(actor, household):
        raise DomainError(_("Solo l'ente che ha in carico il nucleo può inviarlo a un servizio."))
    if need not in NEEDS:
        raise DomainError(_("Scegli il bisogno a cui il servizio deve rispondere."))
    if person is not None and person.household_id != household.id:
        raise DomainError(_("La persona indicata non fa parte del nucleo."))
    if not motivation.strip():
        raise DomainError(_("Scrivi la motivazione della segnalazione."))
    check_target(service, day)
    check_capacity(service, day)
    check_not_duplicate(household, person.id if person else None, need)
    now = utcnow()
    referral = Referral(
        household_id=household.id,
        person_id=person.id if person else None,
        from_organization_id=household.organization_id,
        service_id=service.id,
        to_organization_id=service.organization_id,
        created_by_id=actor.id,
        need=need,
        motivation=motivation.strip(),
        match_score=suggestion.score if suggestion else None,
        match_reasons=reasons_json(suggestion) if suggestion else [],
        status="draft",
        status_changed_at=now,
    )
    db.session.add(referral)
    db.session.flush()
    _history(referral, None, "draft", actor)
    record(
        "referral_created",
        referral,
        {
            "household_id": household.id,
            "person_id": referral.person_id,
            "service_id": service.id,
            "need": need,
            "match_score": referral.match_score,
        },
        actor=actor,
    )
    return referral


# Moving --------------------------------------------------------------------------------------


def transition(
    referral: Referral,
    action: str,
    actor: User,
    reason_code: str | None = None,
    note: str | None = None,
    day: date | None = None,
) -> Referral:
    """Apply `action` or raise DomainError with a clear message; nothing changes when refused."""
    day = day or current_day()
    step = TRANSITIONS.get(action)
    if step is None:
        raise DomainError(_("Azione sconosciuta."))
    if step.side not in sides(actor, referral):
        raise DomainError(_("Non spetta a te %(action)s questa segnalazione.", action=step.label))
    if referral.status not in step.sources:
        raise DomainError(
            _(
                "La segnalazione è «%(status)s»: ora non si può %(action)s.",
                status=STATUSES[referral.status],
                action=step.label,
            )
        )
    note = (note or "").strip() or None
    if step.reasons is not None:
        if reason_code not in step.reasons:
            raise DomainError(_("Indica il motivo."))
        if reason_code == "other" and not note:
            raise DomainError(_("Descrivi il motivo nella nota."))
    else:
        reason_code = None
    service = referral.service
    if action == "submit":
        check_sharing(referral.household)
        check_not_duplicate(referral.household, referral.person_id, referral.need, referral.id)
    if action in ("submit", "approve"):
        check_target(service, day)
        check_capacity(service, day)
    if action == "accept":
        check_capacity(service, day)

    previous = referral.status
    now = utcnow()
    referral.status = step.target
    referral.status_changed_at = now
    if step.target == "submitted":
        referral.submitted_at = now
    elif step.target == "approved":
        referral.approved_at = now
    elif step.target == "accepted":
        referral.accepted_at = now
    elif step.target in ("rejected", "declined", "completed", "failed", "cancelled"):
        referral.closed_at = now
    if step.reasons is not None:
        referral.reason_code = reason_code
        referral.reason_note = note
    _history(referral, previous, step.target, actor, reason_code, note)
    changes: dict[str, object] = {"status": [previous, step.target]}
    if reason_code:
        changes["reason_code"] = reason_code
    record(f"referral_{step.target}", referral, changes, actor=actor)
    _notify(referral, previous, actor)
    db.session.flush()
    return referral


def _history(
    referral: Referral,
    previous: str | None,
    target: str,
    actor: User,
    reason_code: str | None = None,
    note: str | None = None,
) -> None:
    db.session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=previous,
            to_status=target,
            actor_id=actor.id,
            actor_organization_id=actor.organization_id,
            reason_code=reason_code,
            note=note,
            created_at=referral.status_changed_at,
        )
    )


def _notify(referral: Referral, previous: str, actor: User) -> None:
    audience = NOTIFY_ON.get(referral.status)
    if referral.status == "cancelled" and previous == "approved":
        audience = "receiver"
    if audience == "coordinators":
        users = coordinators()
    elif audience == "receiver":
        users = operators_of(referral.to_organization_id)
    elif audience == "sender":
        users = operators_of(referral.from_organization_id)
    else:
        return
    notify(users, f"referral_{referral.status}", referral, exclude=actor)


def record_view(referral: Referral, actor: User) -> None:
    """Opening a referral shows personal data: audited like any other view."""
    record("referral_viewed", referral, actor=actor)
