"""Many people at once: the last place goes to exactly one, no edit silently overwrites another.

Each thread is one web request: its own application context, hence its own database session and
connection, and its own commit. A barrier releases the threads together, after each has loaded
what its page showed. Runs on SQLite (writers take turns, waiting on the busy timeout) and on
PostgreSQL (row locks; DATABASE_URL=postgresql://...).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.db import utcnow
from app.extensions import db as _db
from app.households.models import Household
from app.housing import operations
from app.housing.models import HousingUnit, Placement, WellbeingCheck
from app.housing.operations import VersionConflict
from app.notifications.models import Notification
from tests import factories
from tests.concurrency import count, get, only_domain_errors, race

THREADS = 8


def vacancies(unit_id: int) -> int:
    return _db.session.scalar(select(HousingUnit.vacancies).where(HousingUnit.id == unit_id))


def conflict_shown(error: BaseException) -> tuple[int, int] | None:
    """What a VersionConflict page tells the loser: the unit's (vacancies, version) now."""
    if isinstance(error, VersionConflict):
        return (error.unit.vacancies, error.unit.version)
    return None


@pytest.fixture
def net(db: object) -> dict[str, Any]:
    hub = factories.organization(is_hub=True, is_job_service=False)
    provider_org = factories.organization(is_housing_provider=True, is_job_service=False)
    unit = HousingUnit(
        provider_id=provider_org.id,
        name="Alloggio di via Cigna",
        kind="temporary_flat",
        address="Via Cigna 10",
        circoscrizione=6,
        capacity=THREADS,
        vacancies=1,
        target_groups=[],  # everybody: the one-person households below fit
    )
    _db.session.add(unit)
    made = {
        "hub": hub,
        "unit": unit,
        "coordinator": factories.user("coordinator"),
        "operators": [factories.user("entity_operator", hub) for _ in range(THREADS)],
        "providers": [factories.user("housing_provider", provider_org) for _ in range(THREADS)],
        "households": [factories.household(hub, members=1) for _ in range(THREADS)],
    }
    _db.session.commit()
    return {
        key: [item.id for item in value] if isinstance(value, list) else value.id
        for key, value in made.items()
    }


def test_many_proposals_for_the_last_place_exactly_one_wins(app, net):
    def prepare(i: int) -> tuple[Household, HousingUnit, User]:
        return (
            get(Household, net["households"][i]),
            get(HousingUnit, net["unit"]),
            get(User, net["operators"][i]),
        )

    outcomes = race(app, prepare, lambda i, loaded: operations.propose(*loaded).id, threads=THREADS)

    winners = [o.value for o in outcomes if o.won]
    errors = only_domain_errors(outcomes)
    assert len(winners) == 1
    assert len(errors) == THREADS - 1
    assert all("non ha posti liberi" in e.message for e in errors)
    assert count(Placement) == 1
    assert get(Placement, winners[0]).status == "proposed"
    assert vacancies(net["unit"]) == 0
    assert count(AuditEvent, AuditEvent.action == "placement_proposed") == 1
    assert {n.object_id for n in _db.session.scalars(select(Notification))} == {winners[0]}


@pytest.mark.parametrize("people", [2, THREADS])
def test_providers_saving_from_the_same_version_exactly_one_wins(app, net, people):
    seen = get(HousingUnit, net["unit"]).version

    def prepare(i: int) -> tuple[HousingUnit, User]:
        return get(HousingUnit, net["unit"]), get(User, net["providers"][i])

    def act(i: int, loaded: tuple[HousingUnit, User]) -> int:
        unit, provider = loaded
        return operations.set_vacancies(unit, i, seen, provider)  # each types a different number

    outcomes = race(app, prepare, act, threads=people, shown=conflict_shown)

    winners = [o.value for o in outcomes if o.won]
    errors = only_domain_errors(outcomes)
    assert len(winners) == 1
    assert len(errors) == people - 1
    assert all(isinstance(e, VersionConflict) for e in errors)
    # Each loser is told the value that won, and the version to retry from.
    assert {o.shown for o in outcomes if not o.won} == {(winners[0], seen + 1)}
    assert all(f"ora i posti liberi sono {winners[0]} su {THREADS}" in e.message for e in errors)
    unit = get(HousingUnit, net["unit"])
    assert (unit.vacancies, unit.version) == (winners[0], seen + 1)
    assert count(AuditEvent, AuditEvent.action == "vacancies_changed") == 1


def test_a_unit_edit_and_a_vacancy_change_from_the_same_version_never_both_pass(app, net):
    """One lowers the capacity to 2 while the other opens 5 places: together they'd break it."""
    unit = get(HousingUnit, net["unit"])
    unit.vacancies = 2
    _db.session.commit()
    seen = unit.version

    def prepare(i: int) -> tuple[HousingUnit, User]:
        return get(HousingUnit, net["unit"]), get(User, net["providers"][i])

    def act(i: int, loaded: tuple[HousingUnit, User]) -> object:
        unit, provider = loaded
        if i == 0:
            return operations.update_unit(unit, {"capacity": 2}, seen, provider)
        return operations.set_vacancies(unit, 5, seen, provider)

    outcomes = race(app, prepare, act, threads=2)

    errors = only_domain_errors(outcomes)
    assert len(errors) == 1
    assert isinstance(errors[0], VersionConflict)
    unit = get(HousingUnit, net["unit"])
    assert (unit.capacity, unit.vacancies) in {(2, 2), (THREADS, 5)}
    assert unit.version == seen + 1


def test_a_household_proposed_into_many_units_at_once_gets_one_placement(app, net):
    provider_org = get(HousingUnit, net["unit"]).provider_id
    units = [net["unit"]]
    for n in range(THREADS - 1):
        extra = HousingUnit(
            provider_id=provider_org,
            name=f"Alloggio {n}",
            kind="co_housing",
            address=f"Via Po {n}",
            circoscrizione=1,
            capacity=2,
            vacancies=2,
        )
        _db.session.add(extra)
        _db.session.flush()
        units.append(extra.id)
    _db.session.commit()

    def prepare(i: int) -> tuple[Household, HousingUnit, User]:
        return (
            get(Household, net["households"][0]),
            get(HousingUnit, units[i]),
            get(User, net["operators"][i]),
        )

    outcomes = race(app, prepare, lambda i, loaded: operations.propose(*loaded).id, threads=THREADS)

    errors = only_domain_errors(outcomes)
    assert len(errors) == THREADS - 1
    assert all("ha già un inserimento in corso" in e.message for e in errors)
    assert count(Placement) == 1
    assert sum(vacancies(u) for u in units) == 1 + 2 * (THREADS - 1) - 1


def advance(placement_id: int, net: dict[str, Any], *steps: str) -> None:
    placement = get(Placement, placement_id)
    coordinator = get(User, net["coordinator"])
    provider = get(User, net["providers"][0])
    for name in steps:
        actor = coordinator if name == "approve" else provider
        on = today() - timedelta(days=40) if name == "move_in" else None
        operations.transition(placement, name, actor, on=on, today=today())
    _db.session.commit()


def proposed(net: dict[str, Any]) -> int:
    placement = operations.propose(
        get(Household, net["households"][0]),
        get(HousingUnit, net["unit"]),
        get(User, net["operators"][0]),
    )
    placement.created_at = utcnow() - timedelta(days=120)  # before the move-in dates used
    _db.session.commit()
    return placement.id


# Who acts (index into the people of `net`) and how, for two clicks that each close the stay.
CLOSING = {
    "cancel": ("operators", {"reason_code": "household_refused"}),
    "decline": ("providers", {"reason_code": "household_size"}),
    "end": ("providers", {"reason_code": "own_home", "on": today()}),
}


@pytest.mark.parametrize(
    ("before", "steps"),
    [
        (("approve",), ("cancel", "decline")),
        (("approve",), ("decline", "decline")),
        (("approve", "accept"), ("cancel", "cancel")),
        (("approve", "accept", "move_in"), ("end", "end")),
    ],
    ids=["cancel-and-decline", "decline-twice", "cancel-twice", "exit-twice"],
)
def test_two_people_closing_the_same_placement_free_its_place_once(app, net, before, steps):
    placement_id = proposed(net)
    advance(placement_id, net, *before)
    assert vacancies(net["unit"]) == 0

    def prepare(i: int) -> tuple[Placement, User]:
        people, _ = CLOSING[steps[i]]
        return get(Placement, placement_id), get(User, net[people][i])

    def act(i: int, loaded: tuple[Placement, User]) -> str:
        placement, actor = loaded
        _, options = CLOSING[steps[i]]
        operations.transition(placement, steps[i], actor, today=today(), **options)
        return steps[i]

    outcomes = race(app, prepare, act, threads=2)

    winners = [o.value for o in outcomes if o.won]
    errors = only_domain_errors(outcomes)
    assert len(winners) == 1
    assert len(errors) == 1
    if steps[0] == steps[1]:  # the same step twice: the second is told it is done
        assert isinstance(errors[0], operations.AlreadyDone)
        assert "è già" in errors[0].message
    else:
        assert "Nel frattempo l'inserimento è cambiato" in errors[0].message
    assert vacancies(net["unit"]) == 1
    placement = get(Placement, placement_id)
    assert placement.status == operations.STEPS[winners[0]].target
    closing = [f"placement_{operations.STEPS[s].target}" for s in set(steps)]
    assert count(AuditEvent, AuditEvent.action.in_(closing)) == 1


def test_two_clicks_on_move_in_schedule_one_first_check(app, net):
    placement_id = proposed(net)
    advance(placement_id, net, "approve", "accept")

    def prepare(i: int) -> tuple[Placement, User]:
        return get(Placement, placement_id), get(User, net["providers"][i])

    def act(i: int, loaded: tuple[Placement, User]) -> None:
        placement, provider = loaded
        operations.transition(placement, "move_in", provider, on=today(), today=today())

    outcomes = race(app, prepare, act, threads=2)

    assert len(only_domain_errors(outcomes)) == 1
    assert count(WellbeingCheck) == 1
    assert count(AuditEvent, AuditEvent.action == "placement_active") == 1


def test_a_check_recorded_twice_at_once_schedules_one_next_check(app, net):
    placement_id = proposed(net)
    advance(placement_id, net, "approve", "accept", "move_in")
    check_id = get(Placement, placement_id).checks[0].id

    def prepare(i: int) -> tuple[WellbeingCheck, User]:
        return get(WellbeingCheck, check_id), get(User, net["providers"][i])

    def act(i: int, loaded: tuple[WellbeingCheck, User]) -> None:
        check, provider = loaded
        operations.record_check(check, today(), "good", f"Visita {i}.", provider, today())

    outcomes = race(app, prepare, act, threads=2)

    errors = only_domain_errors(outcomes)
    assert len(errors) == 1
    assert "già stata registrata" in errors[0].message
    assert count(WellbeingCheck) == 2
    assert count(WellbeingCheck, WellbeingCheck.done_on.is_(None)) == 1
    assert count(AuditEvent, AuditEvent.action == "wellbeing_check_recorded") == 1


def test_an_exit_and_a_check_at_once_leave_no_check_pending_after_the_exit(app, net):
    placement_id = proposed(net)
    advance(placement_id, net, "approve", "accept", "move_in")
    check_id = get(Placement, placement_id).checks[0].id

    def prepare(i: int) -> tuple[Placement, WellbeingCheck, User]:
        return (
            get(Placement, placement_id),
            get(WellbeingCheck, check_id),
            get(User, net["providers"][i]),
        )

    def act(i: int, loaded: tuple[Placement, WellbeingCheck, User]) -> str:
        placement, check, provider = loaded
        if i == 0:
            operations.transition(
                placement, "end", provider, reason_code="family", on=today(), today=today()
            )
            return "end"
        operations.record_check(check, today(), "good", None, provider, today())
        return "check"

    outcomes = race(app, prepare, act, threads=2)

    only_domain_errors(outcomes)
    assert get(Placement, placement_id).status == "ended"
    assert count(WellbeingCheck, WellbeingCheck.done_on.is_(None)) == 0
    assert vacancies(net["unit"]) == 1
