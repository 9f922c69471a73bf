"""Housing state changes: vacancies, placements, follow-ups, eviction cases.

Vacancies change only through conditional UPDATE statements (`vacancies > 0`, `version = :seen`),
so two people, or two requests racing for the last place, can never both win; the database CHECK
constraints are the last line. Every change writes its audit event (and its notifications) in the
caller's transaction; anything refused raises DomainError and changes nothing. Views commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, delete, select, update

from app.audit.operations import diff, record, record_views
from app.auth.models import Role, User
from app.clock import ROME
from app.clock import today as current_day
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.households.consents import ANY, consent_for
from app.households.consents import refusal as consent_refusal
from app.households.models import Consent, Household
from app.households.operations import record_share
from app.housing.models import (
    HOLDING_STATUSES,
    HousingRiskCase,
    HousingUnit,
    Placement,
    UnitRate,
    WellbeingCheck,
)
from app.housing.policy import Side, can_propose_for, can_record_checks, sides
from app.housing.vocabulary import (
    CANCEL_REASONS,
    DECLINE_REASONS,
    EXIT_REASONS,
    PLACEMENT_STATUSES,
    REJECT_REASONS,
    RISK_ACTIONS,
    RISK_KINDS,
    RISK_OUTCOMES,
    TARGET_GROUPS,
    WELLBEING,
)
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.notifications.operations import coordinators, notify, operators_of, settle, staff_of
from app.workflow import StaleState, lock_row, move

UNIT_FIELDS = (
    "name", "kind", "address", "circoscrizione", "capacity", "target_groups", "accessible",
    "max_stay_days", "monthly_cost", "notes", "active",
)  # fmt: skip
RISK_FIELDS = (
    "kind", "arrears_amount", "notice_on", "hearing_on", "execution_on", "actions", "notes",
)  # fmt: skip
# The purpose of the consents ledger a placement shares the household's data for.
PURPOSE = "housing"
REASON_NOTE_MAX = 1000  # Placement.reason_note


class VersionConflict(DomainError):
    """Someone else changed the unit since the user loaded it: show them the current state."""

    def __init__(self, message: str, unit: HousingUnit) -> None:
        super().__init__(message)
        self.unit = unit


# Units and vacancies ------------------------------------------------------------------------


def _current(unit_id: int) -> HousingUnit:
    unit = db.session.get(HousingUnit, unit_id, populate_existing=True)
    if unit is None:
        raise DomainError(_("L'alloggio non esiste più."))
    return unit


def _conflict(unit_id: int) -> VersionConflict:
    unit = _current(unit_id)
    return VersionConflict(
        _(
            "Nel frattempo qualcun altro ha aggiornato questo alloggio: ora i posti liberi sono "
            "%(n)s su %(capacity)s. Controlla e riprova.",
            n=unit.vacancies,
            capacity=unit.capacity,
        ),
        unit,
    )


def create_unit(provider_id: int, values: dict[str, Any], actor: User) -> HousingUnit:
    vacancies = values.get("vacancies") or 0
    if not 0 <= vacancies <= values["capacity"]:
        raise DomainError(_("I posti liberi devono essere tra 0 e la capienza."))
    unit = HousingUnit(
        provider_id=provider_id,
        vacancies=vacancies,
        vacancies_updated_at=utcnow(),
        **{k: values.get(k) for k in UNIT_FIELDS},
    )
    db.session.add(unit)
    db.session.flush()
    _set_rate(unit.id, unit.monthly_cost, current_day(), actor)
    record(
        "housing_unit_created",
        unit,
        {"capacity": unit.capacity, "vacancies": unit.vacancies, "kind": unit.kind},
        actor=actor,
    )
    return unit


def update_unit(
    unit: HousingUnit, values: dict[str, Any], seen_version: int, actor: User
) -> dict[str, list[Any]]:
    """Change the unit's data (not its free places) if nobody changed it since `seen_version`."""
    if unit.version != seen_version:
        raise _conflict(unit.id)
    wanted = {k: values[k] for k in UNIT_FIELDS if k in values}
    capacity = wanted.get("capacity", unit.capacity)
    if capacity < unit.vacancies:
        raise DomainError(
            _(
                "La capienza non può essere inferiore ai posti liberi (%(n)s): "
                "aggiorna prima i posti liberi.",
                n=unit.vacancies,
            )
        )
    changes = diff(unit, wanted)
    if not changes:
        return changes
    cost_before = unit.monthly_cost
    # One conditional UPDATE, like the vacancies: a change raced in since `seen_version` (even
    # after this unit was loaded) matches no row, and the session stays usable for the answer.
    result = db.session.execute(
        update(HousingUnit)
        .where(
            HousingUnit.id == unit.id,
            HousingUnit.version == seen_version,
            HousingUnit.vacancies <= capacity,
        )
        .values(
            **{field: wanted[field] for field in changes},
            version=HousingUnit.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _conflict(unit.id)
    _current(unit.id)
    if "monthly_cost" in changes:
        valid_from = current_day()
        if not db.session.scalar(select(UnitRate.id).where(UnitRate.unit_id == unit.id).limit(1)):
            # A unit written without its history (by a bulk load): the cost it had is the one
            # in force since it was registered.
            registered = unit.created_at.astimezone(ROME).date() if unit.created_at else valid_from
            _set_rate(unit.id, cost_before, min(registered, valid_from), None)
        _set_rate(unit.id, wanted["monthly_cost"], valid_from, actor)
        changes["monthly_cost_from"] = [None, valid_from.isoformat()]
    record("housing_unit_updated", unit, changes, actor=actor)
    return changes


def _set_rate(unit_id: int, monthly_cost: Any, valid_from: date, actor: User | None) -> None:
    """The unit's cost is `monthly_cost` from `valid_from` on; the days before keep theirs.

    Changed twice on one day (a typo corrected), the day keeps the last one."""
    same_day = db.session.scalar(
        select(UnitRate).where(UnitRate.unit_id == unit_id, UnitRate.valid_from == valid_from)
    )
    if same_day is not None:
        same_day.monthly_cost = monthly_cost
        same_day.set_by_id = actor.id if actor is not None else None
    else:
        db.session.add(
            UnitRate(
                unit_id=unit_id,
                monthly_cost=monthly_cost,
                valid_from=valid_from,
                set_by_id=actor.id if actor is not None else None,
            )
        )
    db.session.flush()


def set_vacancies(unit: HousingUnit, vacancies: int, seen_version: int, actor: User) -> int:
    """The provider sets the free places; refused when changed meanwhile (first: the user's
    number was based on what they saw) or out of range."""
    if unit.version != seen_version:
        raise _conflict(unit.id)
    if vacancies < 0:
        raise DomainError(_("I posti liberi non possono essere meno di zero."))
    if vacancies > unit.capacity:
        raise DomainError(
            _(
                "I posti liberi non possono superare la capienza dell'alloggio (%(capacity)s).",
                capacity=unit.capacity,
            )
        )
    old = unit.vacancies
    result = db.session.execute(
        update(HousingUnit)
        .where(
            HousingUnit.id == unit.id,
            HousingUnit.version == seen_version,
            HousingUnit.capacity >= vacancies,
        )
        .values(
            vacancies=vacancies,
            version=HousingUnit.version + 1,
            vacancies_updated_at=utcnow(),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _conflict(unit.id)
    _current(unit.id)
    record("vacancies_changed", unit, {"vacancies": [old, vacancies]}, actor=actor)
    return vacancies


def adjust_vacancies(unit: HousingUnit, delta: int, seen_version: int, actor: User) -> int:
    """One click: +1 or -1 on what the provider saw."""
    return set_vacancies(unit, unit.vacancies + delta, seen_version, actor)


def confirm_vacancies(unit: HousingUnit, seen_version: int, actor: User) -> None:
    """ "Still correct": refreshes the unit's last update without changing anything."""
    set_vacancies(unit, unit.vacancies, seen_version, actor)


def _reserve_places(unit: HousingUnit, places: int) -> None:
    """Take `places` of the unit's free places in one conditional UPDATE, or none of them."""
    result = db.session.execute(
        update(HousingUnit)
        .where(
            HousingUnit.id == unit.id,
            HousingUnit.vacancies >= places,
            HousingUnit.active.is_(True),
        )
        .values(vacancies=HousingUnit.vacancies - places, version=HousingUnit.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = _current(unit.id)
        if not current.active:
            raise DomainError(_("L'alloggio «%(name)s» non è disponibile.", name=unit.name))
        if current.vacancies == 0:
            raise DomainError(_("L'alloggio «%(name)s» non ha posti liberi.", name=unit.name))
        raise DomainError(
            ngettext(
                "L'alloggio «%(name)s» ha %(num)d posto libero: il nucleo ha %(people)s "
                "persone e ne servono tanti quante sono le persone.",
                "L'alloggio «%(name)s» ha %(num)d posti liberi: il nucleo ha %(people)s "
                "persone e ne servono tanti quante sono le persone.",
                current.vacancies,
                name=unit.name,
                people=places,
            )
        )
    _current(unit.id)


def _release_places(unit: HousingUnit, places: int) -> None:
    """Give back `places`, never beyond the capacity (the provider may have lowered it)."""
    freed = HousingUnit.vacancies + places
    db.session.execute(
        update(HousingUnit)
        .where(HousingUnit.id == unit.id, HousingUnit.vacancies < HousingUnit.capacity)
        .values(
            vacancies=case((freed > HousingUnit.capacity, HousingUnit.capacity), else_=freed),
            version=HousingUnit.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    _current(unit.id)


# Target groups -------------------------------------------------------------------------------

ADULT_AGE = 18
YOUNG_MAX_AGE = 29
ELDERLY_AGE = 65
# Groups the portal cannot tell from a household's record: never a fit by themselves.
UNVERIFIABLE_GROUPS = ("disabled", "refugees")


def places_needed(household: Household) -> int:
    """One place per person of the household (a household with no members yet: one)."""
    return max(1, len(household.members))


def _fits(group: str, household: Household, day: date) -> bool:
    members = household.members
    ages = [m.age(day) for m in members]
    known = [a for a in ages if a is not None]

    def is_child(index: int) -> bool:
        age = ages[index]
        return members[index].relation == "child" or (age is not None and age < ADULT_AGE)

    children = [i for i in range(len(members)) if is_child(i)]
    grown_ups = [m for i, m in enumerate(members) if i not in children]
    if group in ("single_men", "single_women"):
        if len(members) != 1 or children:
            return False
        return members[0].sex != ("F" if group == "single_men" else "M")
    if group == "families":
        return len(members) >= 2 and bool(children)
    if group == "women_with_children":
        return bool(children) and bool(grown_ups) and all(m.sex == "F" for m in grown_ups)
    if group == "young_people":
        return bool(members) and all(ADULT_AGE <= a <= YOUNG_MAX_AGE for a in known)
    if group == "elderly":
        return bool(members) and all(a >= ELDERLY_AGE for a in known)
    return False  # disabled, refugees: nothing in the record says so


def target_mismatch(household: Household, unit: HousingUnit, day: date | None = None) -> str | None:
    """The warning to show when the household is not among the unit's target groups, or None.

    A unit without target groups takes everybody. A household fits when it matches one of the
    groups, judged from its members' number, ages, sex and relation."""
    groups = list(unit.target_groups or [])
    if not groups:
        return None
    day = day or current_day()
    if any(_fits(group, household, day) for group in groups):
        return None
    ages = [m.age(day) for m in household.members]
    described = ", ".join(str(a) if a is not None else "?" for a in ages) or "—"
    return _(
        "Il nucleo (%(people)s persone; età: %(ages)s) non rientra tra i destinatari "
        "dell'alloggio «%(name)s»: %(groups)s. Se lo proponi comunque, scrivi il motivo.",
        people=len(household.members),
        ages=described,
        name=unit.name,
        groups=", ".join(str(TARGET_GROUPS.get(g, g)) for g in groups),
    )


class TargetMismatch(DomainError):
    """The household is not among the unit's target groups and no reason was given."""


# Placements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    sources: tuple[str, ...]
    target: str
    side: Side
    label: object
    reasons: dict[str, object] | None = None
    releases_place: bool = False


STEPS: dict[str, Step] = {
    "approve": Step(("proposed",), "approved", Side.COORDINATOR, _l("approvare")),
    "reject": Step(
        ("proposed",), "rejected", Side.COORDINATOR, _l("respingere"), REJECT_REASONS, True
    ),
    "accept": Step(("approved",), "accepted", Side.PROVIDER, _l("accettare")),
    "decline": Step(
        ("approved",), "declined", Side.PROVIDER, _l("rifiutare"), DECLINE_REASONS, True
    ),
    "cancel": Step(
        ("proposed", "approved", "accepted"), "cancelled", Side.PROPOSER, _l("annullare"),
        CANCEL_REASONS, True,
    ),
    "move_in": Step(("accepted",), "active", Side.PROVIDER, _l("registrare l'ingresso")),
    "end": Step(("active",), "ended", Side.PROVIDER, _l("chiudere"), EXIT_REASONS, True),
}  # fmt: skip

# Whole sentences for each step (issue #26), never a verb pasted into a shared sentence.
STEP_REFUSED = {
    "approve": _l("L'inserimento è «%(status)s»: ora non si può approvare."),
    "reject": _l("L'inserimento è «%(status)s»: ora non si può respingere."),
    "accept": _l("L'inserimento è «%(status)s»: ora non si può accettare."),
    "decline": _l("L'inserimento è «%(status)s»: ora non si può rifiutare."),
    "cancel": _l("L'inserimento è «%(status)s»: ora non si può annullare."),
    "move_in": _l("L'inserimento è «%(status)s»: ora non si può registrare l'ingresso."),
    "end": _l("L'inserimento è «%(status)s»: ora non si può chiudere."),
}
STEP_NOT_YOURS = {
    "approve": _l("Non spetta a te approvare questo inserimento."),
    "reject": _l("Non spetta a te respingere questo inserimento."),
    "accept": _l("Non spetta a te accettare questo inserimento."),
    "decline": _l("Non spetta a te rifiutare questo inserimento."),
    "cancel": _l("Non spetta a te annullare questo inserimento."),
    "move_in": _l("Non spetta a te registrare l'ingresso di questo inserimento."),
    "end": _l("Non spetta a te chiudere questo inserimento."),
}

NOTIFY_ON = {
    "proposed": "coordinators",
    "approved": "provider",
    "rejected": "proposer",
    "accepted": "proposer",
    "declined": "proposer",
    "ended": "proposer",
}


def available_steps(user: User, placement: Placement) -> list[str]:
    mine = sides(user, placement)
    return [name for name, s in STEPS.items() if s.side in mine and placement.status in s.sources]


def check_sharing(household: Household, provider_id: Any = ANY, day: date | None = None) -> Consent:
    """The consent in force, for housing, that covers the provider (or the whole network; ANY:
    some provider); refused with what to do about it."""
    consent = consent_for(household.id, PURPOSE, provider_id, day)
    if consent is None:
        raise DomainError(
            consent_refusal(household.id, PURPOSE, provider_id, day)
            or _("Manca il consenso del nucleo per l'accoglienza abitativa.")
        )
    return consent


def was_declined(household_id: int, unit_id: int) -> bool:
    return (
        db.session.scalar(
            select(Placement.id).where(
                Placement.household_id == household_id,
                Placement.unit_id == unit_id,
                Placement.status == "declined",
            )
        )
        is not None
    )


def propose(
    household: Household,
    unit: HousingUnit,
    actor: User,
    motivation: str | None = None,
    propose_again: bool = False,
    target_reason: str | None = None,
    today: date | None = None,
) -> Placement:
    """Propose the unit for the household: reserves one place per person at once.

    Refused when the unit has fewer free places than the household has people; when the
    household is not among the unit's target groups, only with a reason (`target_reason`),
    kept on the placement and in the audit event."""
    if household.status != "active":
        raise DomainError(
            _("La presa in carico del nucleo è chiusa: riaprila prima di proporre un alloggio.")
        )
    if not can_propose_for(actor, household):
        raise DomainError(_("Solo l'ente che ha in carico il nucleo o la Città può proporre."))
    check_sharing(household, unit.provider_id, today)
    target_reason = (target_reason or "").strip() or None
    if target_reason is not None and len(target_reason) > REASON_NOTE_MAX:
        raise DomainError(
            _("Il motivo può contenere al massimo %(max)s caratteri.", max=REASON_NOTE_MAX)
        )
    mismatch = target_mismatch(household, unit, today)
    if mismatch is None:
        target_reason = None  # nothing to justify
    elif target_reason is None:
        raise TargetMismatch(mismatch)
    lock_row(Household, household.id)  # two proposals at once take turns
    consent = check_sharing(household, unit.provider_id, today)  # as committed, under the lock
    holding = db.session.scalar(
        select(Placement).where(
            Placement.household_id == household.id, Placement.status.in_(HOLDING_STATUSES)
        )
    )
    if holding is not None:
        raise DomainError(
            _(
                "Il nucleo ha già un inserimento in corso o proposto (n. %(id)s).",
                id=holding.id,
            )
        )
    if was_declined(household.id, unit.id) and not (
        propose_again and actor.has_role(Role.COORDINATOR)
    ):
        raise DomainError(
            _(
                "Il gestore ha già rifiutato questo alloggio per questo nucleo: non viene "
                "riproposto. La Città può riproporlo esplicitamente."
            )
        )
    places = places_needed(household)
    _reserve_places(unit, places)
    now = utcnow()
    placement = Placement(
        household_id=household.id,
        unit_id=unit.id,
        provider_id=unit.provider_id,
        proposed_by_id=actor.id,
        proposing_organization_id=actor.organization_id,
        status="proposed",
        status_changed_at=now,
        motivation=(motivation or "").strip() or None,
        places=places,
        target_reason=target_reason,
    )
    db.session.add(placement)
    db.session.flush()
    changes: dict[str, Any] = {
        "household_id": household.id,
        "unit_id": unit.id,
        "places": places,
        "vacancies_after": unit.vacancies,
    }
    if target_reason is not None:
        changes["target_groups"] = list(unit.target_groups or [])
        changes["target_reason"] = target_reason
    record("placement_proposed", placement, changes, actor=actor)
    record_share(consent, unit.provider_id, placement, actor)  # the provider sees the proposal
    _notify(placement, actor)
    return placement


class AlreadyDone(DomainError):
    """The step asked for is already done: the placement is in the step's target state."""


class StepInputError(DomainError):
    """A step's reason, note or date is wrong; `field` says which, for the message beside it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _already_done(placement: Placement) -> str:
    return _(
        "L'inserimento è già «%(status)s»: nessuna modifica.",
        status=PLACEMENT_STATUSES.get(placement.status, placement.status),
    )


def _day_it(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def proposed_on(placement: Placement) -> date:
    """The day (in Turin) the placement was proposed."""
    return placement.created_at.astimezone(ROME).date() if placement.created_at else current_day()


def check_step_date(placement: Placement, step_name: str, on: date | None, day: date) -> None:
    """The move-in and exit dates: given, not in the future, in order with the proposal."""
    if on is None:
        raise StepInputError(_("Indica la data."), "on")
    if on > day:
        raise StepInputError(_("La data non può essere nel futuro."), "on")
    proposed = proposed_on(placement)
    if step_name == "move_in" and on < proposed:
        raise StepInputError(
            _(
                "La data di ingresso non può precedere la proposta (%(date)s).",
                date=_day_it(proposed),
            ),
            "on",
        )
    if step_name == "end" and placement.moved_in_on and on < placement.moved_in_on:
        raise StepInputError(_("La data di uscita non può precedere quella di ingresso."), "on")


def transition(
    placement: Placement,
    step_name: str,
    actor: User,
    reason_code: str | None = None,
    note: str | None = None,
    on: date | None = None,
    today: date | None = None,
) -> Placement:
    """Apply a step or raise DomainError with a clear message; nothing changes when refused.

    A step already done (the placement is in the step's target state: a double click, two
    colleagues pressing the same button) raises AlreadyDone, which the page answers as done;
    any other state raises StaleState with the state the placement is in now."""
    step = STEPS.get(step_name)
    if step is None:
        raise DomainError(_("Azione sconosciuta."))
    if step.side not in sides(actor, placement):
        raise DomainError(str(STEP_NOT_YOURS[step_name]))
    if placement.status == step.target:
        raise AlreadyDone(_already_done(placement))
    if placement.status not in step.sources:
        raise StaleState(
            str(STEP_REFUSED[step_name]) % {"status": PLACEMENT_STATUSES[placement.status]},
            placement.status,
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > REASON_NOTE_MAX:
        raise StepInputError(
            _("La nota può contenere al massimo %(max)s caratteri.", max=REASON_NOTE_MAX), "note"
        )
    if step_name == "approve":  # withdrawn since the proposal: nothing is disclosed
        # As committed, under the household's lock (a withdrawal waits for it, or goes first).
        lock_row(Household, placement.household_id)
        check_sharing(placement.household, placement.provider_id, today)
    if step.reasons is not None:
        if reason_code not in step.reasons:
            raise StepInputError(_("Indica il motivo."), "reason_code")
        if reason_code == "other" and not note:
            raise StepInputError(_("Descrivi il motivo nella nota."), "note")
    day = today or current_day()
    if step_name in ("move_in", "end"):
        check_step_date(placement, step_name, on, day)
    previous = placement.status
    now = utcnow()
    # The step applies only to the state the user saw: of two people answering at once (a
    # cancel and a decline, two clicks on the exit), the second finds it changed and is refused,
    # so a place is never freed twice nor a follow-up scheduled twice.
    try:
        move(
            placement,
            (previous,),
            {"status": step.target, "status_changed_at": now},
            refused=lambda current: _(
                "Nel frattempo l'inserimento è cambiato: ora è «%(status)s». Ricarica la pagina.",
                status=PLACEMENT_STATUSES.get(current or "", current or ""),
            ),
        )
    except StaleState as stale:
        if stale.current_status == step.target:
            raise AlreadyDone(_already_done(placement)) from stale
        raise
    placement.status = step.target
    placement.status_changed_at = now
    if step.reasons is not None:
        placement.reason_code = reason_code
        placement.reason_note = note
    changes: dict[str, Any] = {"status": [previous, step.target]}
    if step_name == "approve":
        placement.approved_at = placement.status_changed_at
    if step_name == "move_in":
        placement.moved_in_on = on
        db.session.add(
            WellbeingCheck(
                placement=placement,
                due_on=(on or day) + timedelta(days=placement.check_interval_days),
            )
        )
        changes["moved_in_on"] = on.isoformat() if on else None
    if step_name == "end":
        placement.ended_on = on
        db.session.execute(
            delete(WellbeingCheck).where(
                WellbeingCheck.placement_id == placement.id, WellbeingCheck.done_on.is_(None)
            )
        )
        db.session.expire(placement, ["checks"])
        changes["ended_on"] = on.isoformat() if on else None
    if reason_code:
        changes["reason_code"] = reason_code
    db.session.flush()
    if step.releases_place:
        _release_places(placement.unit, placement.places)
        changes["places_freed"] = placement.places
        changes["vacancies_after"] = placement.unit.vacancies
    record(f"placement_{step.target}", placement, changes, actor=actor)
    settle("placement", placement.id, [f"placement_{previous}"], actor)  # its action is done
    _notify(placement, actor)
    db.session.flush()
    return placement


def _notify(placement: Placement, actor: User) -> None:
    audience = NOTIFY_ON.get(placement.status)
    if placement.status == "cancelled" and placement.approved_at is not None:
        audience = "provider"  # the provider may be expecting the family
    if audience == "coordinators":
        users = coordinators()
    elif audience == "provider":
        users = staff_of(placement.provider_id, Role.HOUSING_PROVIDER)
    elif audience == "proposer":
        users = operators_of(placement.household.organization_id)
        if placement.status == "declined":
            users += coordinators()
    else:
        return
    notify(users, f"placement_{placement.status}", placement, exclude=actor)


def record_view(placement: Placement, actor: User) -> None:
    record_views("placement_viewed", [placement.household_id], placement, actor=actor)


# Well-being checks ---------------------------------------------------------------------------


def record_check(
    check: WellbeingCheck,
    done_on: date,
    wellbeing: str,
    notes: str | None,
    actor: User,
    today: date,
) -> WellbeingCheck | None:
    """Record a follow-up; while the stay goes on, the next one is scheduled."""
    placement = check.placement
    if not can_record_checks(actor, placement):
        raise DomainError(_("Non puoi registrare verifiche per questo inserimento."))
    if placement.status != "active":
        raise DomainError(_("Le verifiche si registrano solo durante la permanenza."))
    if check.done_on is not None:
        raise DomainError(_("Questa verifica è già stata registrata."))
    if wellbeing not in WELLBEING:
        raise DomainError(_("Indica come sta il nucleo."))
    if done_on > today:
        raise DomainError(_("La data non può essere nel futuro."))
    if placement.moved_in_on and done_on < placement.moved_in_on:
        raise DomainError(_("La verifica non può precedere l'ingresso."))
    notes = (notes or "").strip() or None
    # Recorded once, and only while the stay goes on: the placement's row is locked against an
    # exit at the same moment; the check is written only if still pending.
    lock_row(Placement, placement.id)
    status = db.session.scalar(select(Placement.status).where(Placement.id == placement.id))
    recorded = (
        db.session.execute(
            update(WellbeingCheck)
            .where(WellbeingCheck.id == check.id, WellbeingCheck.done_on.is_(None))
            .values(done_on=done_on, wellbeing=wellbeing, notes=notes, done_by_id=actor.id)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if status == "active"
        else 0
    )
    if recorded != 1:
        db.session.refresh(placement)
        if placement.status != "active":
            raise DomainError(_("Le verifiche si registrano solo durante la permanenza."))
        raise DomainError(_("Questa verifica è già stata registrata."))
    db.session.refresh(check)
    following = WellbeingCheck(
        placement=placement, due_on=done_on + timedelta(days=placement.check_interval_days)
    )
    db.session.add(following)
    db.session.flush()
    record(
        "wellbeing_check_recorded",
        placement,
        {"check_id": check.id, "wellbeing": wellbeing, "next_due_on": following.due_on.isoformat()},
        actor=actor,
    )
    if wellbeing == "critical":
        _notify_critical(placement, actor)
    return following


def _notify_critical(placement: Placement, actor: User) -> None:
    """A critical follow-up needs someone to act: the City and the placing entity are told."""
    placing = {placement.proposing_organization_id, placement.household.organization_id}
    users = {user.id: user for user in coordinators()}
    for organization_id in placing:
        if organization_id is not None:
            users.update({user.id: user for user in operators_of(organization_id)})
    notify(users.values(), "wellbeing_critical", placement, exclude=actor)


# Eviction prevention -------------------------------------------------------------------------


def _check_risk_dates(values: dict[str, Any]) -> None:
    notice, hearing, execution = (
        values.get("notice_on"),
        values.get("hearing_on"),
        values.get("execution_on"),
    )
    if notice and hearing and hearing < notice:
        raise DomainError(_("L'udienza non può precedere la notifica."))
    if hearing and execution and execution < hearing:
        raise DomainError(_("L'esecuzione non può precedere l'udienza."))
    if notice and execution and execution < notice:
        raise DomainError(_("L'esecuzione non può precedere la notifica."))


def _check_risk_values(values: dict[str, Any]) -> None:
    """Coded fields from their vocabularies, amounts and dates that make sense."""
    if values.get("kind") not in RISK_KINDS:
        raise DomainError(_("Indica il tipo di rischio abitativo."))
    if any(code not in RISK_ACTIONS for code in values.get("actions") or []):
        raise DomainError(_("Azione non prevista: scegli tra quelle dell'elenco."))
    arrears = values.get("arrears_amount")
    if arrears is not None and arrears < 0:
        raise DomainError(_("La morosità non può essere negativa."))
    _check_risk_dates(values)


def open_risk_case(household: Household, values: dict[str, Any], actor: User) -> HousingRiskCase:
    _check_risk_values(values)
    case = HousingRiskCase(
        household_id=household.id,
        organization_id=actor.organization_id or household.organization_id,
        opened_by_id=actor.id,
        status="open",
        **{k: values.get(k) for k in RISK_FIELDS},
    )
    if case.actions is None:
        case.actions = []
    db.session.add(case)
    db.session.flush()
    record(
        "risk_case_opened",
        case,
        {"household_id": household.id, "kind": case.kind},
        actor=actor,
    )
    return case


def update_risk_case(
    case: HousingRiskCase, values: dict[str, Any], actor: User
) -> dict[str, list[Any]]:
    if case.status != "open":
        raise DomainError(_("Il caso è chiuso: non si può modificare."))
    wanted = {k: values[k] for k in RISK_FIELDS if k in values}
    _check_risk_values({k: wanted.get(k, getattr(case, k)) for k in RISK_FIELDS})
    changes = diff(case, wanted)
    for field in changes:
        setattr(case, field, wanted[field])
    if changes:
        record("risk_case_updated", case, changes, actor=actor)
    db.session.flush()
    return changes


def close_risk_case(
    case: HousingRiskCase, outcome: str, closed_on: date, actor: User, today: date
) -> None:
    if case.status != "open":
        raise DomainError(_("Il caso è già chiuso."))
    if outcome not in RISK_OUTCOMES:
        raise DomainError(_("Indica l'esito."))
    if closed_on > today:
        raise DomainError(_("La data non può essere nel futuro."))
    case.status = "closed"
    case.outcome = outcome
    case.closed_on = closed_on
    record("risk_case_closed", case, {"outcome": outcome}, actor=actor)
    db.session.flush()
