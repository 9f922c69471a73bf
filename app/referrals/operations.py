"""Referral state changes: the one transition table, its guards, history, audit, notifications.

Every change goes through `transition()` (or `create()` for the draft): it checks the actor's
part in the referral, the current state, the coded reason and the business rules, then writes the
new state, a status-history row, an audit event and the notifications in the caller's
transaction. Anything refused raises DomainError and changes nothing. Views commit.

Safe when two people act at once (issue #17):
- a step first locks the referral's row (`app.workflow.lock_row`) and reads its status again:
  of two clicks on the same referral (two approvals, approve and reject, cancel and accept) the
  second waits for the first, then is refused with `StaleState`, which names the state the
  referral is in now. The new state is written by `app.workflow.move()`, one conditional UPDATE
  on the status just read, so even a caller that skipped the lock cannot write a second step;
- the service's monthly places are counted under a lock of the service's row (submit, approve,
  accept, the draft itself, and every step that frees a place), so the last place goes to
  exactly one submission or acceptance;
- waiting lists (issue #24): a place is taken by a referral accepted this month and by one in
  flight (submitted or approved). With no place left, the sender may put the referral on the
  service's waiting list ("wait": draft -> waiting). When a place frees (the City rejects, the
  entity declines, the sender cancels) `promote_waiting()` moves the oldest waiting referrals to
  "submitted", as many as places left, in the same transaction and under the same service lock;
  the month's turn is `flask promote-waiting-referrals`. Under that lock the waiting referrals
  are read with SKIP LOCKED (PostgreSQL): one that its sender is cancelling at that moment holds
  its own row and waits for the service's, so waiting for it would close a circle; it is
  skipped and the next one goes;
- "one open referral per person and need" is checked under a lock of the household's row
  (the draft, its submission), so two forms sent at once for the same need make one referral.
Locks are always taken in the order household, referral, service (a household's erasure also
goes from the household to its referrals): no two requests wait for each other in a circle.

The demo loader plays organizations without a demo account through `apply_step()` and
`open_draft()`, the same steps without the check of who is acting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from app.audit.operations import record, record_views
from app.auth.models import User
from app.clock import today as current_day
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.households.consents import consent_for
from app.households.consents import refusal as consent_refusal
from app.households.models import Consent, Household, Person
from app.households.operations import record_share
from app.households.policy import can_edit_household, sending_organization
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.notifications.operations import coordinators, notify, operators_of, settle
from app.referrals import queries
from app.referrals.matching import Suggestion, reasons_json
from app.referrals.models import IN_FLIGHT, Referral, ReferralStatusChange
from app.referrals.policy import PURPOSE, Side, sides
from app.referrals.vocabulary import (
    DECLINE_REASONS,
    EXPIRY_REASONS,
    NEED_LABELS,
    NEEDS,
    OUTCOMES_COMPLETED,
    OUTCOMES_FAILED,
    REJECT_REASONS,
    STATUSES,
)
from app.registry.models import Service
from app.web.formatting import format_date
from app.workflow import StaleState, lock_row, move


class ServiceFull(DomainError):
    """No place left this month: the referral may go on the service's waiting list instead."""


class SharingWithdrawn(DomainError):
    """No consent of the household for the job services covers the receiving organization any
    more (withdrawn or expired since the referral was sent): no step that hands its data on (or
    lets the receiver go on using it) may happen; answered 409."""


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    side: Side
    # Whole sentences for each step (issue #26): a verb pasted into a shared sentence reads
    # "ora non si può accetta" as soon as a translator or a label changes its form.
    refused: object  # "La segnalazione è «%(status)s»: ora non si può <step>."
    not_yours: object  # "Non spetta a te <step> questa segnalazione."
    reasons: dict[str, object] | None = None


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(
        ("draft",), "submitted", Side.SENDER,
        _l("La segnalazione è «%(status)s»: ora non si può inviarla alla Città."),
        _l("Non spetta a te inviare questa segnalazione alla Città."),
    ),
    "cancel": Transition(
        ("draft", "submitted", "approved", "waiting"), "cancelled", Side.SENDER,
        _l("La segnalazione è «%(status)s»: ora non si può annullare."),
        _l("Non spetta a te annullare questa segnalazione."),
    ),
    "approve": Transition(
        ("submitted",), "approved", Side.COORDINATOR,
        _l("La segnalazione è «%(status)s»: ora non si può approvare."),
        _l("Non spetta a te approvare questa segnalazione."),
    ),
    "reject": Transition(
        ("submitted",), "rejected", Side.COORDINATOR,
        _l("La segnalazione è «%(status)s»: ora non si può respingere."),
        _l("Non spetta a te respingere questa segnalazione."),
        REJECT_REASONS,
    ),
    "accept": Transition(
        ("approved",), "accepted", Side.RECEIVER,
        _l("La segnalazione è «%(status)s»: ora non si può accettare."),
        _l("Non spetta a te accettare questa segnalazione."),
    ),
    "decline": Transition(
        ("approved",), "declined", Side.RECEIVER,
        _l("La segnalazione è «%(status)s»: ora non si può rifiutare."),
        _l("Non spetta a te rifiutare questa segnalazione."),
        DECLINE_REASONS,
    ),
    "start": Transition(
        ("accepted",), "in_progress", Side.RECEIVER,
        _l("La segnalazione è «%(status)s»: ora non si può avviare il percorso."),
        _l("Non spetta a te avviare il percorso di questa segnalazione."),
    ),
    "complete": Transition(
        ("in_progress",), "completed", Side.RECEIVER,
        _l("La segnalazione è «%(status)s»: ora non si può chiudere con esito positivo."),
        _l("Non spetta a te chiudere questa segnalazione."),
        OUTCOMES_COMPLETED,
    ),
    "fail": Transition(
        ("in_progress",), "failed", Side.RECEIVER,
        _l("La segnalazione è «%(status)s»: ora non si può chiudere senza esito."),
        _l("Non spetta a te chiudere questa segnalazione."),
        OUTCOMES_FAILED,
    ),
    # Nobody's button: the nightly reminders return a stalled referral to its sender.
    "expire": Transition(
        ("submitted", "approved", "accepted"), "expired", Side.SYSTEM,
        _l("La segnalazione è «%(status)s»: ora non può scadere."),
        _l("Una segnalazione scade da sola, quando resta senza risposta."),
        EXPIRY_REASONS,
    ),
    "wait": Transition(
        ("draft",), "waiting", Side.SENDER,
        _l("La segnalazione è «%(status)s»: ora non si può metterla in lista d'attesa."),
        _l("Non spetta a te mettere in lista d'attesa questa segnalazione."),
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


def check_sharing(referral: Referral, day: date) -> Consent:
    """The consent in force, for the job services, that covers the referral's receiving
    organization (or the whole network); refused with what to do about it."""
    consent = consent_for(referral.household_id, PURPOSE, referral.to_organization_id, day)
    if consent is None:
        raise DomainError(_sharing_refusal(referral, day))
    return consent


def _sharing_refusal(referral: Referral, day: date) -> str:
    return consent_refusal(
        referral.household_id,
        PURPOSE,
        referral.to_organization_id,
        day,
        recipient_name=referral.to_organization.name,
    ) or _("Manca il consenso del nucleo per i servizi al lavoro.")


def against_ranking(referral: Referral) -> bool:
    """Sent to a service that was not the first suggestion for the person."""
    return referral.match_rank is not None and referral.match_rank > 1


def check_ranking_reason(referral: Referral, note: str | None) -> None:
    if against_ranking(referral) and not note:
        raise DomainError(
            _(
                "Il servizio scelto era al %(rank)s° posto tra i suggerimenti, non al primo: "
                "scrivi nella nota perché approvi questa scelta.",
                rank=referral.match_rank,
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
    """A new referral in flight takes a place: one must be left (`queries.places_left`)."""
    if queries.places_left([service], day)[service.id] <= 0:
        if service.monthly_capacity <= 0:
            raise DomainError(
                _(
                    "Il servizio «%(name)s» non ha posti mensili per le segnalazioni.",
                    name=service.name,
                )
            )
        raise ServiceFull(
            _(
                "Il servizio «%(name)s» non ha più posti disponibili questo mese: puoi "
                "mettere la segnalazione in lista d'attesa.",
                name=service.name,
            )
        )


def check_room_to_accept(service: Service, day: date) -> None:
    """A referral in flight already holds its place; what it may never do is take the service
    beyond its monthly places (a capacity lowered meanwhile, or referrals sent before waiting
    lists): the approval and the acceptance count the month's acceptances."""
    used = queries.places_used([service.id], day).get(service.id, 0)
    if used >= service.monthly_capacity:
        raise DomainError(
            _(
                "Il servizio «%(name)s» non ha più posti disponibili questo mese.",
                name=service.name,
            )
        )


def check_not_parked(person_id: int | None, service: Service, day: date) -> None:
    """The decline rules: a service that declined this person is not asked again too soon."""
    parking = queries.parked_services(person_id, day).get(service.id)
    if parking is None:
        return
    reason = DECLINE_REASONS.get(parking.reason_code, parking.reason_code)
    if parking.until is None:
        raise DomainError(
            _(
                "«%(name)s» ha rifiutato questa persona il %(on)s (%(reason)s): la regola di "
                "quel motivo è di non riproporla allo stesso servizio. Scegli un altro servizio.",
                name=service.name,
                on=format_date(parking.declined_on),
                reason=reason,
            )
        )
    raise DomainError(
        _(
            "«%(name)s» ha rifiutato questa persona il %(on)s (%(reason)s): si potrà riproporla "
            "allo stesso servizio dal %(until)s. Fino ad allora scegli un altro servizio.",
            name=service.name,
            on=format_date(parking.declined_on),
            reason=reason,
            until=format_date(parking.until),
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
    rank: int | None = None,
) -> Referral:
    """A draft referral from the household's organization to a service; `rank` is the
    service's place among the suggestions for the person (1 = the first)."""
    if not can_edit_household(actor, household):
        raise DomainError(_("Solo l'ente che ha in carico il nucleo può inviarlo a un servizio."))
    return open_draft(
        household, person, need, service, motivation, actor, suggestion, day, rank=rank
    )


def open_draft(
    household: Household,
    person: Person | None,
    need: str,
    service: Service,
    motivation: str,
    actor: Any,
    suggestion: Suggestion | None = None,
    day: date | None = None,
    *,
    check_accreditation: bool = True,
    rank: int | None = None,
) -> Referral:
    """`create()` without asking who acts: for the demo loader, which also plays organizations
    without an account (`actor` then only carries `id` None and `organization_id`)."""
    day = day or current_day()
    if need not in NEEDS:
        raise DomainError(_("Scegli il bisogno a cui il servizio deve rispondere."))
    if person is not None and person.household_id != household.id:
        raise DomainError(_("La persona indicata non fa parte del nucleo."))
    if not motivation.strip():
        raise DomainError(_("Scrivi la motivazione della segnalazione."))
    if check_accreditation:
        check_target(service, day)
    # Two forms sent at once for the same person and need: the second waits here, then sees
    # the first one's referral.
    lock_row(Household, household.id)
    lock_row(Service, service.id)
    if service.monthly_capacity <= 0:  # a full service has a waiting list; this one takes none
        check_capacity(service, day)
    check_not_parked(person.id if person else None, service, day)
    check_not_duplicate(household, person.id if person else None, need)
    now = utcnow()
    referral = Referral(
        household_id=household.id,
        person_id=person.id if person else None,
        # A co-holder of the household sends in its own name (and sees it in its own list).
        from_organization_id=sending_organization(actor, household),
        service_id=service.id,
        to_organization_id=service.organization_id,
        created_by_id=actor.id,
        need=need,
        motivation=motivation.strip(),
        match_score=suggestion.score if suggestion else None,
        match_reasons=reasons_json(suggestion) if suggestion else [],
        match_rank=rank,
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
            "match_rank": rank,
        },
        actor=actor,
    )
    return referral


# Moving --------------------------------------------------------------------------------------

# The steps that take a place, or promise one: the service's month is counted under its lock.
CAPACITY_STEPS = ("submit", "approve", "accept", "wait")
# The steps that free a place held in flight (or leave the waiting list): the oldest waiting
# referrals of the service take the places left, under the same lock, in the same transaction.
FREEING_STEPS = ("reject", "decline", "cancel", "expire")
# The steps that hand the household's data on, or let the receiver use it: the sender's
# submission to the City, the City's approval (it opens the referral to the receiving
# organization), the receiver's acceptance and the start of the path. Each reads the
# household's consent again under the household's row lock, which a withdrawal waits for.
SHARING_STEPS = ("submit", "approve", "accept", "start", "wait")
# Joining the waiting list is a submission that waits for its place: the same checks.
SUBMITTING = ("submit", "wait")
# The column each arrival state dates.
DATED = {
    "submitted": "submitted_at",
    "approved": "approved_at",
    "accepted": "accepted_at",
    "waiting": "waiting_since",
}
CLOSED = ("rejected", "declined", "completed", "failed", "cancelled", "expired")


def _refusal(step: Transition, current: str | None, loaded: str | None) -> str:
    """What the user reads when the referral is not (or no longer) where the step starts."""
    if current is None:
        return _("La segnalazione non esiste più.")
    status = STATUSES.get(current, current)
    if current == step.target:  # a double click, or a colleague a moment before
        return _(
            "La segnalazione è già «%(status)s»: questo passo è già stato fatto.", status=status
        )
    now = str(step.refused) % {"status": status}
    if current != loaded:
        return _("Nel frattempo qualcun altro ha agito su questa segnalazione.") + " " + now
    return now


def _step(action: str) -> Transition:
    step = TRANSITIONS.get(action)
    if step is None:
        raise DomainError(_("Azione sconosciuta."))
    return step


def transition(
    referral: Referral,
    action: str,
    actor: User,
    reason_code: str | None = None,
    note: str | None = None,
    day: date | None = None,
) -> Referral:
    """Apply `action` or raise DomainError with a clear message; nothing changes when refused.

    Refused because somebody else moved the referral first: `StaleState`, with the state now.
    """
    step = _step(action)
    if step.side not in sides(actor, referral):
        raise DomainError(str(step.not_yours))
    return apply_step(referral, action, actor, reason_code, note, day)


def apply_step(
    referral: Referral,
    action: str,
    actor: Any,
    reason_code: str | None = None,
    note: str | None = None,
    day: date | None = None,
    *,
    check_accreditation: bool = True,
) -> Referral:
    """`transition()` without asking who acts (the demo loader plays organizations without an
    account): the state, the reason, the business rules, then one conditional update."""
    day = day or current_day()
    step = _step(action)
    loaded = referral.status
    if loaded not in step.sources:
        raise StaleState(_refusal(step, loaded, loaded), loaded)
    note = (note or "").strip() or None
    if step.reasons is not None:
        if reason_code not in step.reasons:
            raise DomainError(_("Indica il motivo."))
        if reason_code == "other" and not note:
            raise DomainError(_("Descrivi il motivo nella nota."))
    else:
        reason_code = None
    if action == "approve":
        check_ranking_reason(referral, note)
    if action in SHARING_STEPS:  # the household first, as whoever changes a household does
        lock_row(Household, referral.household_id)
    # Whoever acts on this referral at the same moment waits here; then the status is read
    # again, as the other left it.
    lock_row(Referral, referral.id)
    previous = db.session.scalar(select(Referral.status).where(Referral.id == referral.id))
    if previous not in step.sources:
        if previous is not None:
            db.session.refresh(referral)  # the caller shows the referral as it is now
        raise StaleState(_refusal(step, previous, loaded), previous)
    service = referral.service
    if action in CAPACITY_STEPS or action in FREEING_STEPS:
        lock_row(Service, referral.service_id)
    # The ledger as committed now, read under the household's lock (a withdrawal takes it too).
    consent = None
    if action in SUBMITTING:
        consent = check_sharing(referral, day)
    elif action in SHARING_STEPS:
        consent = consent_for(referral.household_id, PURPOSE, referral.to_organization_id, day)
        if consent is None:
            raise SharingWithdrawn(
                _sharing_refusal(referral, day) + " " + _("La segnalazione non può andare avanti.")
            )
    if action in SUBMITTING:
        check_not_duplicate(referral.household, referral.person_id, referral.need, referral.id)
        check_not_parked(referral.person_id, service, day)
    if action in ("submit", "approve", "wait") and check_accreditation:
        check_target(service, day)
    if action == "submit":
        check_capacity(service, day)
    elif action in ("approve", "accept"):
        check_room_to_accept(service, day)
    elif action == "wait" and service.monthly_capacity <= 0:
        check_capacity(service, day)  # no place will ever free: refused with its reason

    now = utcnow()
    values: dict[str, object] = {"status": step.target, "status_changed_at": now}
    values["stalled_notified_at"] = None  # a new step: warned about afresh if it stalls too
    if step.target in DATED:
        values[DATED[step.target]] = now
    elif step.target in CLOSED:
        values["closed_at"] = now
    if step.reasons is not None:
        values["reason_code"] = reason_code
        values["reason_note"] = note
    move(
        referral,
        (previous,),  # held under the lock: the history's "from" is exactly what was replaced
        values,
        refused=lambda current: _refusal(step, current, loaded),
    )
    _history(referral, previous, step.target, actor, reason_code, note)
    if action == "approve" and consent is not None:  # the receiver sees the household now
        record_share(consent, referral.to_organization_id, referral, actor)
    changes: dict[str, object] = {"status": [previous, step.target]}
    if reason_code:
        changes["reason_code"] = reason_code
    record(f"referral_{step.target}", referral, changes, actor=actor)
    # What asked for this step is done: "da approvare" for every coordinator, "attende la
    # vostra risposta" for the receiving operators, and the actor's own notifications.
    settle("referral", referral.id, [f"referral_{previous}", "referral_stalled"], actor)
    _notify(referral, previous, actor)
    freed = action in FREEING_STEPS and previous in (*IN_FLIGHT, "waiting")
    if freed or action == "wait":
        # A place freed goes to the oldest waiting referral; one that joins a list with a place
        # left (freed a moment ago) goes at once, in its turn.
        promote_waiting(service, day, actor, trigger=action)
    db.session.flush()
    return referral


# Waiting lists -------------------------------------------------------------------------------

PROMOTION_BATCH = 200  # waiting referrals read per promotion (a list is dozens long at most)


@dataclass(frozen=True)
class _System:
    """The portal itself moving a referral off the waiting list: the history names no person."""

    id: None = None
    organization_id: None = None


def promote_waiting(
    service: Service, day: date, actor: Any = None, trigger: str = "month"
) -> list[Referral]:
    """Move the oldest waiting referrals of `service` to "submitted", as many as its places
    left (none when the service may not receive referrals today); returns them.

    Under the service's row lock (taken here if the caller has not), in the caller's
    transaction: two steps freeing places at once, or two runs of the nightly command, move
    each place once. A waiting referral whose household has no consent in force for the job
    services covering the receiver stays where it is and the next one goes. Each promotion
    writes its history row (from "in lista d'attesa"), an audit event, and tells the City (to
    approve) and the sender's operators.
    """
    lock_row(Service, service.id)
    db.session.refresh(service, ["monthly_capacity", "active"])
    left = queries.places_left([service], day)[service.id]
    if (
        left <= 0
        or not service.active
        or not queries.is_referral_target(service.organization_id, day)
    ):
        return []
    candidates = db.session.scalars(
        select(Referral)
        .where(Referral.service_id == service.id, Referral.status == "waiting")
        .order_by(*queries.waiting_order())
        .limit(PROMOTION_BATCH)
        .with_for_update(skip_locked=True, key_share=True)
    ).all()
    promoted: list[Referral] = []
    for referral in candidates:
        if len(promoted) == left:
            break
        if consent_for(referral.household_id, PURPOSE, referral.to_organization_id, day) is None:
            continue  # no consent in force for this receiver any more: the next one goes
        now = utcnow()
        move(
            referral,
            ("waiting",),
            {"status": "submitted", "status_changed_at": now, "submitted_at": now},
            refused=lambda current: _("La segnalazione non è più in lista d'attesa."),
        )
        _history(referral, "waiting", "submitted", _System())
        record(
            "referral_promoted",
            referral,
            {"status": ["waiting", "submitted"], "from_waiting_list": True, "trigger": trigger},
            actor=actor,
        )
        notify(coordinators(), "referral_submitted", referral, exclude=actor)
        notify(
            operators_of(referral.from_organization_id),
            "referral_promoted",
            referral,
            exclude=actor,
        )
        promoted.append(referral)
    db.session.flush()
    return promoted


def services_with_waiting_lists() -> list[int]:
    """The services that have referrals waiting, for the month's turn."""
    return list(
        db.session.scalars(
            select(Referral.service_id)
            .where(Referral.status == "waiting")
            .distinct()
            .order_by(Referral.service_id)
        )
    )


def _history(
    referral: Referral,
    previous: str | None,
    target: str,
    actor: Any,
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


def _notify(referral: Referral, previous: str, actor: Any) -> None:
    if referral.status == "expired":  # back to the sender; the City and the receiver are told
        users = operators_of(referral.from_organization_id) + coordinators()
        if previous != "submitted":
            users += operators_of(referral.to_organization_id)
        notify(users, "referral_expired", referral)
        return
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
    record_views("referral_viewed", [referral.household_id], referral, actor=actor)
