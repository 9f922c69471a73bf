"""Housing core: vacancies with optimistic locking, the placement steps, follow-ups, eviction cases.

Operations are called directly with an explicit actor, as the views call them. Every refusal is a
DomainError that leaves the database as it was; every change writes one audit event and tells
the side that waits for it (never the person who acted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.errors import DomainError
from app.extensions import db as _db
from app.households.models import Consent, ConsentShare, Household
from app.housing import operations, policy
from app.housing.models import HousingRiskCase, HousingUnit, Placement, WellbeingCheck
from app.housing.operations import STEPS, VersionConflict
from app.housing.policy import Side
from app.notifications.models import Notification
from app.registry.models import Organization
from tests import factories
from tests.worlds import make_unit, provider_org


@pytest.fixture(autouse=True)
def request_context(app: Flask, db: object) -> Iterator[None]:
    """The operations' messages are translated for the user of a request, as in the views."""
    with app.test_request_context():
        yield


# The people and places around a placement -------------------------------------------------------

LONG_AGO = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class World:
    coordinator: User
    coordinator_colleague: User
    hub: Organization
    operator: User
    operator_colleague: User
    household: Household
    provider_org: Organization
    provider: User
    provider_colleague: User
    unit: HousingUnit
    other_provider: User
    other_unit: HousingUnit
    outsider: User
    admin: User
    inactive: list[User] = field(default_factory=list)


@pytest.fixture
def world(db: object) -> World:
    hub = factories.organization(is_hub=True, is_job_service=False)
    provider = provider_org()
    other = provider_org()
    made = World(
        coordinator=factories.user("coordinator"),
        coordinator_colleague=factories.user("coordinator"),
        hub=hub,
        operator=factories.user("entity_operator", hub),
        operator_colleague=factories.user("entity_operator", hub),
        household=factories.household(hub, members=1),
        provider_org=provider,
        provider=factories.user("housing_provider", provider),
        provider_colleague=factories.user("housing_provider", provider),
        unit=make_unit(provider, vacancies_updated_at=LONG_AGO),
        other_provider=factories.user("housing_provider", other),
        other_unit=make_unit(other, vacancies_updated_at=LONG_AGO),
        outsider=factories.user("entity_operator", factories.organization(is_hub=True)),
        admin=factories.user("admin"),
    )
    # Nobody tells people who cannot log in.
    made.inactive = [
        factories.user("coordinator", active=False),
        factories.user("entity_operator", hub, active=False),
        factories.user("housing_provider", provider, active=False),
    ]
    _db.session.commit()
    return made


def actor_for(world: World, side: Side) -> User:
    return {
        Side.PROPOSER: world.operator,
        Side.COORDINATOR: world.coordinator,
        Side.PROVIDER: world.provider,
    }[side]


# (step, reason code) to reach each status from a proposal.
PATHS: dict[str, list[tuple[str, str | None]]] = {
    "proposed": [],
    "approved": [("approve", None)],
    "rejected": [("reject", "not_priority")],
    "accepted": [("approve", None), ("accept", None)],
    "declined": [("approve", None), ("decline", "target_mismatch")],
    "active": [("approve", None), ("accept", None), ("move_in", None)],
    "ended": [("approve", None), ("accept", None), ("move_in", None), ("end", "own_home")],
    "cancelled": [("cancel", "error")],
    "cancelled_after_acceptance": [("approve", None), ("accept", None), ("cancel", "error")],
}


def step(world: World, placement: Placement, name: str, code: str | None = None, **kw: Any):
    actor = kw.pop("actor", None) or actor_for(world, STEPS[name].side)
    if name in ("move_in", "end"):
        kw.setdefault("on", today())
    return operations.transition(placement, name, actor, reason_code=code, today=today(), **kw)


def advance(world: World, placement: Placement, path: str) -> Placement:
    for name, code in PATHS[path]:
        step(world, placement, name, code)
    return placement


PROPOSED_AGO = timedelta(days=120)  # the proposals below were made before any move-in date used


def propose(world: World, household: Household | None = None, unit: HousingUnit | None = None):
    placement = operations.propose(
        household or world.household,
        unit or world.unit,
        world.operator,
        "Famiglia sfrattata, tre persone, serve un alloggio per l'inverno.",
    )
    placement.created_at = datetime.now(UTC) - PROPOSED_AGO
    _db.session.flush()
    return placement


def reach(world: World, path: str, unit: HousingUnit | None = None) -> Placement:
    """A placement of a new household of the hub, in the state `path` leads to."""
    household = factories.household(world.hub, members=1)
    return advance(world, propose(world, household, unit), path)


# What the database holds ------------------------------------------------------------------------


def count(model: Any, *where: Any) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def vacancies(unit: HousingUnit) -> int:
    return _db.session.scalar(select(HousingUnit.vacancies).where(HousingUnit.id == unit.id))


def unit_row(unit: HousingUnit) -> tuple[Any, ...]:
    return tuple(
        _db.session.execute(
            select(
                HousingUnit.vacancies,
                HousingUnit.capacity,
                HousingUnit.version,
                HousingUnit.vacancies_updated_at,
                HousingUnit.name,
                HousingUnit.active,
            ).where(HousingUnit.id == unit.id)
        ).one()
    )


def audit(action: str | None = None, obj: Any = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if obj is not None:
        query = query.where(
            AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == obj.id
        )
    return list(_db.session.scalars(query))


def notified(kind: str, placement: Placement | None = None) -> set[int]:
    query = select(Notification.user_id).where(Notification.kind == kind)
    if placement is not None:
        query = query.where(
            Notification.object_type == "placement", Notification.object_id == placement.id
        )
    return set(_db.session.scalars(query))


def ids(*users: User) -> set[int]:
    return {u.id for u in users}


def snapshot(*units: HousingUnit, placement: Placement | None = None) -> tuple[object, ...]:
    """Everything a refused action must leave as it was."""
    state: list[object] = [unit_row(u) for u in units]
    if placement is not None:
        state.append(
            _db.session.execute(
                select(
                    Placement.status,
                    Placement.status_changed_at,
                    Placement.approved_at,
                    Placement.moved_in_on,
                    Placement.ended_on,
                    Placement.reason_code,
                    Placement.reason_note,
                ).where(Placement.id == placement.id)
            ).one()
        )
    return (
        *state,
        count(Placement),
        count(WellbeingCheck),
        count(WellbeingCheck, WellbeingCheck.done_on.is_not(None)),
        count(HousingRiskCase),
        count(AuditEvent),
        count(Notification),
    )


def refused(call: Any, *args: Any, units: tuple[HousingUnit, ...] = (), **kwargs: Any) -> str:
    """Run the operation, expect a DomainError, check nothing changed; the message."""
    placement = kwargs.pop("placement", None)
    before = snapshot(*units, placement=placement)
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert snapshot(*units, placement=placement) == before
    if placement is not None:
        _db.session.refresh(placement)
        assert snapshot(*units, placement=placement) == before
    return info.value.message


# Units and vacancies ----------------------------------------------------------------------------


def test_a_provider_sets_adjusts_and_confirms_the_free_places_each_change_audited(world):
    unit = world.unit
    start = unit.version

    assert operations.set_vacancies(unit, 3, start, world.provider) == 3
    assert operations.adjust_vacancies(unit, -1, unit.version, world.provider) == 2
    assert operations.adjust_vacancies(unit, +1, unit.version, world.provider_colleague) == 3
    before_confirm = unit.vacancies_updated_at
    operations.confirm_vacancies(unit, unit.version, world.provider)
    _db.session.commit()

    _db.session.refresh(unit)
    assert unit.vacancies == 3
    assert unit.version == start + 4  # every change, even a confirmation, is a new version
    assert unit.vacancies_updated_at >= before_confirm > LONG_AGO
    events = audit("vacancies_changed", unit)
    assert [e.changes for e in events] == [
        {"vacancies": [2, 3]},
        {"vacancies": [3, 2]},
        {"vacancies": [2, 3]},
        {"vacancies": [3, 3]},
    ]
    assert [e.actor_id for e in events] == [
        world.provider.id,
        world.provider.id,
        world.provider_colleague.id,
        world.provider.id,
    ]


def test_confirming_a_stale_unit_makes_it_fresh_on_the_board(world):
    assert world.unit.vacancies_updated_at == LONG_AGO

    operations.confirm_vacancies(world.unit, world.unit.version, world.provider)

    _db.session.commit()
    _db.session.refresh(world.unit)
    assert world.unit.vacancies == 2
    age = datetime.now(UTC) - world.unit.vacancies_updated_at
    assert age < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda u, who: operations.set_vacancies(u, -1, u.version, who), "meno di zero"),
        (lambda u, who: operations.set_vacancies(u, 5, u.version, who), "capienza"),
        (lambda u, who: operations.set_vacancies(u, 400, u.version, who), "capienza"),
    ],
)
def test_free_places_below_zero_or_above_capacity_are_refused(world, call, message):
    assert message in refused(call, world.unit, world.provider, units=(world.unit,))


def test_minus_one_at_zero_and_plus_one_when_all_free_are_refused(world):
    empty = make_unit(world.provider_org, capacity=2, vacancies=0)
    full = make_unit(world.provider_org, capacity=2, vacancies=2)
    _db.session.commit()

    low = refused(
        operations.adjust_vacancies, empty, -1, empty.version, world.provider, units=(empty,)
    )
    high = refused(
        operations.adjust_vacancies, full, +1, full.version, world.provider, units=(full,)
    )

    assert "meno di zero" in low
    assert "superare la capienza dell'alloggio (2)" in high


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"vacancies": -1}, "ck_housing_unit_vacancies_not_negative"),
        ({"vacancies": 5}, "ck_housing_unit_vacancies_within_capacity"),
        ({"capacity": 1}, "ck_housing_unit_vacancies_within_capacity"),
        ({"vacancies": 0, "capacity": 0}, "ck_housing_unit_capacity_positive"),
    ],
    ids=["negative", "above-capacity", "capacity-below-vacancies", "capacity-zero"],
)
def test_the_database_refuses_impossible_vacancies_even_written_directly(world, values, constraint):
    """Each impossible row is refused by its own check (not by some other failure)."""
    before = unit_row(world.unit)

    with pytest.raises(IntegrityError, match=constraint):
        _db.session.execute(
            update(HousingUnit).where(HousingUnit.id == world.unit.id).values(**values)
        )
    _db.session.rollback()

    assert unit_row(world.unit) == before


def test_the_database_refuses_impossible_vacancies_set_on_the_object(world):
    world.unit.vacancies = world.unit.capacity + 1

    with pytest.raises(IntegrityError, match="ck_housing_unit_vacancies_within_capacity"):
        _db.session.commit()
    _db.session.rollback()

    assert vacancies(world.unit) == 2


def test_a_stale_version_is_refused_and_tells_the_current_value(world):
    unit = world.unit
    seen = unit.version
    operations.set_vacancies(unit, 3, seen, world.provider_colleague)
    _db.session.commit()
    before = snapshot(unit)

    with pytest.raises(VersionConflict) as info:
        operations.set_vacancies(unit, 1, seen, world.provider)

    assert snapshot(unit) == before
    assert info.value.unit.id == unit.id
    assert info.value.unit.vacancies == 3
    assert info.value.unit.version == seen + 1
    assert "ora i posti liberi sono 3 su 4" in info.value.message
    # Retrying with what they were just shown works.
    operations.set_vacancies(unit, 1, info.value.unit.version, world.provider)
    assert vacancies(unit) == 1


def test_a_stale_version_is_refused_also_when_the_object_in_memory_is_old(world):
    """The page was loaded, someone else changed the unit, then the click arrives."""
    unit = world.unit
    seen = unit.version
    with _db.engine.begin() as other:  # another request, in its own transaction
        other.execute(
            update(HousingUnit)
            .where(HousingUnit.id == unit.id)
            .values(vacancies=0, version=HousingUnit.version + 1)
        )

    with pytest.raises(VersionConflict) as info:
        operations.adjust_vacancies(unit, -1, seen, world.provider)

    assert info.value.unit.vacancies == 0
    assert "ora i posti liberi sono 0 su 4" in info.value.message
    assert audit("vacancies_changed") == []


def test_a_unit_is_created_with_its_free_places_and_audited(world):
    values = {
        "name": "Casa Aurora",
        "kind": "family_hosting",
        "address": "Via Cigna 10",
        "circoscrizione": 6,
        "capacity": 3,
        "vacancies": 3,
        "target_groups": ["women_with_children"],
        "accessible": True,
        "max_stay_days": 180,
        "monthly_cost": Decimal("350.00"),
        "notes": None,
        "active": True,
    }

    unit = operations.create_unit(world.provider_org.id, values, world.provider)
    _db.session.commit()

    _db.session.refresh(unit)
    assert (unit.vacancies, unit.capacity, unit.provider_id) == (3, 3, world.provider_org.id)
    assert unit.target_groups == ["women_with_children"]
    assert [e.changes for e in audit("housing_unit_created", unit)] == [
        {"capacity": 3, "vacancies": 3, "kind": "family_hosting"}
    ]


def test_a_unit_with_more_free_places_than_capacity_is_not_created(world):
    values = {"name": "Casa", "kind": "temporary_flat", "address": "Via Po 1"}
    values |= {"circoscrizione": 1, "capacity": 2, "vacancies": 3, "active": True}

    message = refused(operations.create_unit, world.provider_org.id, values, world.provider)

    assert "tra 0 e la capienza" in message


def test_updating_a_unit_changes_its_data_and_audits_the_difference(world):
    unit = world.unit
    seen = unit.version

    values = {"name": "Casa Aurora", "capacity": 6, "accessible": True}
    values |= {"target_groups": ["families", "elderly"], "monthly_cost": Decimal("120.50")}

    changes = operations.update_unit(unit, values, seen, world.provider)
    _db.session.commit()

    _db.session.refresh(unit)
    assert (unit.name, unit.capacity, unit.accessible) == ("Casa Aurora", 6, True)
    assert (unit.target_groups, unit.monthly_cost) == (["families", "elderly"], Decimal("120.50"))
    assert unit.version == seen + 1
    assert unit.vacancies_updated_at == LONG_AGO  # the free places were not confirmed
    assert changes["capacity"] == [4, 6]
    assert [e.changes for e in audit("housing_unit_updated", unit)] == [changes]


def test_updating_a_unit_with_a_stale_version_is_refused(world):
    unit = world.unit
    seen = unit.version
    operations.set_vacancies(unit, 1, seen, world.provider_colleague)
    _db.session.commit()
    before = snapshot(unit)

    with pytest.raises(VersionConflict) as info:
        operations.update_unit(unit, {"name": "Nome nuovo"}, seen, world.provider)

    assert snapshot(unit) == before
    assert info.value.unit.vacancies == 1
    assert audit("housing_unit_updated") == []


def test_updating_a_unit_changed_meanwhile_by_someone_else_is_refused(world):
    """The provider's form and a colleague's click race: the unit in memory is the old one."""
    unit = world.unit
    seen = unit.version
    with _db.engine.begin() as other:
        other.execute(
            update(HousingUnit)
            .where(HousingUnit.id == unit.id)
            .values(vacancies=4, version=HousingUnit.version + 1)
        )

    with pytest.raises(VersionConflict) as info:
        operations.update_unit(unit, {"name": "Nome nuovo", "capacity": 4}, seen, world.provider)

    assert info.value.unit.vacancies == 4
    _db.session.commit()  # the view may go on: the session is usable and nothing was written
    assert unit_row(unit)[4] != "Nome nuovo"
    assert audit("housing_unit_updated") == []


def test_capacity_below_the_free_places_is_refused(world):
    message = refused(
        operations.update_unit,
        world.unit,
        {"capacity": 1},
        world.unit.version,
        world.provider,
        units=(world.unit,),
    )

    assert "inferiore ai posti liberi (2)" in message


def test_an_update_that_changes_nothing_writes_nothing(world):
    before = snapshot(world.unit)

    changes = operations.update_unit(
        world.unit, {"name": world.unit.name}, world.unit.version, world.provider
    )

    assert changes == {}
    assert snapshot(world.unit) == before


# Proposals --------------------------------------------------------------------------------------


def test_a_proposal_reserves_one_place_and_tells_the_coordinators(world):
    placement = propose(world)
    _db.session.commit()

    assert vacancies(world.unit) == 1
    assert placement.status == "proposed"
    assert placement.provider_id == world.provider_org.id
    assert placement.proposed_by_id == world.operator.id
    assert placement.proposing_organization_id == world.hub.id
    events = audit(obj=placement)
    assert [(e.action, e.changes) for e in events] == [
        (
            "placement_proposed",
            {
                "household_id": world.household.id,
                "unit_id": world.unit.id,
                "places": 1,
                "vacancies_after": 1,
            },
        )
    ]
    assert notified("placement_proposed", placement) == ids(
        world.coordinator, world.coordinator_colleague
    )


def test_a_coordinator_proposing_is_not_told_of_their_own_proposal(world):
    placement = operations.propose(world.household, world.unit, world.coordinator)

    assert placement.proposing_organization_id is None
    assert notified("placement_proposed", placement) == ids(world.coordinator_colleague)


def test_a_proposal_into_a_full_unit_is_refused(world):
    full = make_unit(world.provider_org, capacity=3, vacancies=0)
    _db.session.commit()

    message = refused(
        operations.propose, world.household, full, world.operator, units=(full, world.unit)
    )

    assert f"«{full.name}» non ha posti liberi" in message


def test_a_proposal_into_an_inactive_unit_is_refused(world):
    closed = make_unit(world.provider_org, capacity=3, vacancies=3, active=False)
    _db.session.commit()

    message = refused(operations.propose, world.household, closed, world.operator, units=(closed,))

    assert "non è disponibile" in message


def test_the_last_place_goes_to_the_first_proposal(world):
    last = make_unit(world.provider_org, capacity=3, vacancies=1)
    _db.session.commit()
    first = reach(world, "proposed", unit=last)

    second = factories.household(world.hub)
    message = refused(operations.propose, second, last, world.operator, units=(last,))

    assert first.status == "proposed"
    assert vacancies(last) == 0
    assert "non ha posti liberi" in message


def test_a_household_with_a_placement_under_way_is_not_proposed_again(world):
    first = propose(world)

    message = refused(
        operations.propose, world.household, world.other_unit, world.operator,
        units=(world.unit, world.other_unit),
    )  # fmt: skip

    assert f"n. {first.id}" in message


@pytest.mark.parametrize("path", ["rejected", "declined", "ended", "cancelled"])
def test_a_household_whose_placement_is_over_may_be_proposed_again(world, path):
    advance(world, propose(world), path)

    again = operations.propose(world.household, world.other_unit, world.operator)

    assert again.status == "proposed"
    assert vacancies(world.other_unit) == 1


@pytest.mark.parametrize(
    ("sharing", "said"),
    [
        ("not-for-housing", "è stato revocato il 01/02/2026"),
        ("never", "Manca il consenso del nucleo per l'accoglienza abitativa"),
        ("withdrawn", "è stato revocato il 01/02/2026"),
        ("expired", "è scaduto il 31/01/2026"),
        ("other-provider", "Manca il consenso del nucleo per l'accoglienza abitativa"),
    ],
)
def test_a_proposal_without_a_consent_for_housing_is_refused(world, sharing, said):
    if sharing == "not-for-housing":
        factories.withdraw_all(world.household, "housing", on=date(2026, 2, 1))
    elif sharing == "withdrawn":
        factories.withdraw_all(world.household, on=date(2026, 2, 1))
    else:
        _db.session.execute(delete(Consent).where(Consent.household_id == world.household.id))
        if sharing == "expired":
            factories.consent(
                world.household, "housing", given_on=date(2025, 2, 1), expires_on=date(2026, 1, 31)
            )
        elif sharing == "other-provider":
            factories.consent(world.household, "housing", recipient=factories.organization())
    _db.session.commit()

    message = refused(
        operations.propose, world.household, world.unit, world.operator, units=(world.unit,)
    )

    assert said in message
    assert "sezione Privacy" in message or "registralo" in message


def test_a_consent_for_housing_only_is_enough(world):
    factories.withdraw_all(world.household, "job_services")

    assert propose(world).status == "proposed"


def test_a_consent_naming_the_provider_is_enough_and_the_proposal_is_a_share(world):
    _db.session.execute(delete(Consent).where(Consent.household_id == world.household.id))
    consent = factories.consent(world.household, "housing", recipient=world.unit.provider_id)

    placement = propose(world)

    (share,) = _db.session.scalars(select(ConsentShare)).all()
    assert share.consent_id == consent.id
    assert share.recipient_organization_id == world.unit.provider_id
    assert (share.object_type, share.object_id) == ("placement", placement.id)


@pytest.mark.parametrize("who", ["outsider", "provider", "admin"])
def test_only_the_households_organization_or_the_city_proposes(world, who):
    message = refused(
        operations.propose, world.household, world.unit, getattr(world, who),
        units=(world.unit,),
    )  # fmt: skip

    assert "Solo l'ente che ha in carico il nucleo o la Città" in message


def test_a_closed_household_is_not_proposed(world):
    world.household.status = "closed"
    _db.session.commit()

    message = refused(
        operations.propose, world.household, world.unit, world.coordinator, units=(world.unit,)
    )
    assert "La presa in carico del nucleo è chiusa" in message


def test_a_declined_pair_is_never_proposed_again_automatically(world):
    advance(world, propose(world), "declined")
    assert vacancies(world.unit) == 2

    by_operator = refused(
        operations.propose, world.household, world.unit, world.operator, units=(world.unit,)
    )
    insisting = refused(
        operations.propose, world.household, world.unit, world.operator,
        propose_again=True, units=(world.unit,),
    )  # fmt: skip
    by_city = refused(
        operations.propose, world.household, world.unit, world.coordinator, units=(world.unit,)
    )
    again = operations.propose(world.household, world.unit, world.coordinator, propose_again=True)

    assert "ha già rifiutato questo alloggio per questo nucleo" in by_operator
    assert "ha già rifiutato" in insisting
    assert "ha già rifiutato" in by_city
    assert again.status == "proposed"
    assert vacancies(world.unit) == 1
    # Another unit of the same provider is a new pair.
    assert not operations.was_declined(world.household.id, world.other_unit.id)


# Steps ------------------------------------------------------------------------------------------


def test_the_step_table_is_the_workflow_of_the_spec():
    edges = {(source, s.target, s.side) for s in STEPS.values() for source in s.sources}

    assert edges == {
        ("proposed", "approved", Side.COORDINATOR),
        ("proposed", "rejected", Side.COORDINATOR),
        ("approved", "accepted", Side.PROVIDER),
        ("approved", "declined", Side.PROVIDER),
        ("accepted", "active", Side.PROVIDER),
        ("active", "ended", Side.PROVIDER),
        ("proposed", "cancelled", Side.PROPOSER),
        ("approved", "cancelled", Side.PROPOSER),
        ("accepted", "cancelled", Side.PROPOSER),
    }
    assert {n for n, s in STEPS.items() if s.releases_place} == {
        "reject",
        "decline",
        "cancel",
        "end",
    }


def test_the_free_places_follow_a_placement_from_proposal_to_exit(world):
    seen: list[int] = [vacancies(world.unit)]
    placement = propose(world)
    seen.append(vacancies(world.unit))
    for name, code in PATHS["ended"]:
        step(world, placement, name, code)
        seen.append(vacancies(world.unit))
    _db.session.commit()

    assert seen == [2, 1, 1, 1, 1, 2]
    assert placement.status == "ended"
    assert [e.action for e in audit(obj=placement)] == [
        "placement_proposed",
        "placement_approved",
        "placement_accepted",
        "placement_active",
        "placement_ended",
    ]


@pytest.mark.parametrize(
    ("path", "name", "code", "kind", "audience"),
    [
        ("proposed", "approve", None, "placement_approved", ("provider", "provider_colleague")),
        (
            "proposed",
            "reject",
            "unsuitable_unit",
            "placement_rejected",
            ("operator", "operator_colleague"),
        ),
        ("approved", "accept", None, "placement_accepted", ("operator", "operator_colleague")),
        (
            "approved",
            "decline",
            "household_size",
            "placement_declined",
            ("operator", "operator_colleague", "coordinator", "coordinator_colleague"),
        ),
        ("proposed", "cancel", "other_solution", None, ()),
        ("accepted", "move_in", None, None, ()),
        ("active", "end", "family", "placement_ended", ("operator", "operator_colleague")),
    ],
)
def test_each_step_writes_one_audit_event_and_tells_the_side_that_waits(
    world, path, name, code, kind, audience
):
    placement = advance(world, propose(world), path)
    events, notifications = count(AuditEvent), count(Notification)

    step(world, placement, name, code)
    _db.session.commit()

    assert count(AuditEvent) == events + 1
    last = audit(obj=placement)[-1]
    assert last.action == f"placement_{STEPS[name].target}"
    assert last.actor_id == actor_for(world, STEPS[name].side).id
    assert last.changes["status"] == [path, STEPS[name].target]
    if kind is None:
        assert count(Notification) == notifications
    else:
        expected = ids(*(getattr(world, who) for who in audience))
        assert notified(kind, placement) == expected
        assert count(Notification) == notifications + len(expected)
        assert not notified(kind, placement) & ids(*world.inactive)


def test_the_actor_is_never_notified_of_their_own_step(world):
    # The coordinator proposes, and a colleague of the provider declines.
    placement = operations.propose(world.household, world.unit, world.coordinator)
    step(world, placement, "approve")
    operations.transition(placement, "decline", world.provider_colleague, "no_place", today=today())

    assert world.coordinator.id not in notified("placement_proposed", placement)
    assert notified("placement_approved", placement) == ids(
        world.provider, world.provider_colleague
    )
    assert notified("placement_declined", placement) == ids(
        world.operator, world.operator_colleague, world.coordinator, world.coordinator_colleague
    )
    assert world.provider_colleague.id not in notified("placement_declined")


def test_approval_is_recorded_and_opens_the_household_to_the_provider(world):
    placement = propose(world)
    assert not policy.sees_household_details(world.provider, placement)

    step(world, placement, "approve")

    assert placement.status == "approved"
    assert placement.approved_at is not None
    assert policy.sees_household_details(world.provider, placement)
    assert not policy.sees_household_details(world.other_provider, placement)


@pytest.mark.parametrize(
    ("path", "name", "code"),
    [
        ("proposed", "reject", "other_solution"),
        ("approved", "decline", "accessibility"),
        ("proposed", "cancel", "household_refused"),
        ("approved", "cancel", "household_refused"),
        ("accepted", "cancel", "other_solution"),
        ("active", "end", "dropped_out"),
    ],
)
def test_closing_steps_free_the_place_and_keep_the_reason(world, path, name, code):
    placement = advance(world, propose(world), path)
    assert vacancies(world.unit) == 1

    step(world, placement, name, code, note="  Dettagli del motivo.  ")
    _db.session.commit()

    assert vacancies(world.unit) == 2
    assert (placement.reason_code, placement.reason_note) == (code, "Dettagli del motivo.")
    last = audit(obj=placement)[-1]
    assert last.changes["reason_code"] == code
    assert last.changes["vacancies_after"] == 2


@pytest.mark.parametrize(
    ("path", "name", "code", "note", "message"),
    [
        ("proposed", "reject", None, None, "Indica il motivo."),
        ("proposed", "reject", "not_a_reason", None, "Indica il motivo."),
        ("proposed", "reject", "own_home", None, "Indica il motivo."),  # an exit reason
        ("proposed", "reject", "other", None, "Descrivi il motivo nella nota."),
        ("proposed", "reject", "other", "   ", "Descrivi il motivo nella nota."),
        ("approved", "decline", None, None, "Indica il motivo."),
        ("approved", "decline", "not_priority", None, "Indica il motivo."),
        ("proposed", "cancel", None, None, "Indica il motivo."),
        ("active", "end", None, None, "Indica il motivo."),
        ("active", "end", "no_place", None, "Indica il motivo."),
        ("active", "end", "other", None, "Descrivi il motivo nella nota."),
    ],
)
def test_a_missing_or_wrong_reason_is_refused(world, path, name, code, note, message):
    placement = advance(world, propose(world), path)

    got = refused(
        step, world, placement, name, code, note=note, placement=placement, units=(world.unit,)
    )

    assert got == message


def test_a_note_longer_than_the_column_is_refused(world):
    placement = propose(world)

    message = refused(
        step, world, placement, "reject", "other", note="x" * 1001,
        placement=placement, units=(world.unit,),
    )  # fmt: skip

    assert "al massimo 1000 caratteri" in message


def test_approval_after_the_sharing_authorisation_was_withdrawn_is_refused(world):
    """Approving would show the family to the provider: not without the authorisation."""
    placement = propose(world)
    factories.withdraw_all(world.household)
    _db.session.commit()

    message = refused(step, world, placement, "approve", placement=placement, units=(world.unit,))

    assert "accoglienza abitativa è stato revocato" in message
    assert not policy.sees_household_details(world.provider, placement)
    # The City can still reject it, which frees the place.
    step(world, placement, "reject", "other", note="Autorizzazione revocata.")
    assert vacancies(world.unit) == 2


def test_approval_reads_the_authorisation_as_committed_not_as_loaded(world):
    """A withdrawal committed by someone else after this request loaded the household: the
    approval reads the consent again under the household's lock and is refused (issue #18)."""
    placement = propose(world)
    _db.session.commit()
    ledger = _db.session.scalars(select(Consent)).all()  # loaded now, before the withdrawal
    assert all(c.withdrawn_on is None for c in ledger)
    table = Consent.__table__
    with _db.engine.begin() as other_request:
        other_request.execute(
            table.update()
            .where(table.c.household_id == world.household.id)
            .values(withdrawn_on=today())
        )

    message = refused(step, world, placement, "approve", placement=placement, units=(world.unit,))

    assert "accoglienza abitativa è stato revocato" in message


@pytest.mark.parametrize(
    ("path", "name", "who"),
    [
        ("proposed", "approve", "operator"),
        ("proposed", "approve", "provider"),
        ("proposed", "reject", "provider"),
        ("approved", "accept", "coordinator"),
        ("approved", "accept", "operator"),
        ("approved", "accept", "other_provider"),
        ("approved", "decline", "coordinator"),
        ("approved", "decline", "other_provider"),
        ("proposed", "cancel", "provider"),
        ("proposed", "cancel", "outsider"),
        ("accepted", "move_in", "coordinator"),
        ("accepted", "move_in", "operator"),
        ("accepted", "move_in", "other_provider"),
        ("active", "end", "operator"),
        ("active", "end", "other_provider"),
        ("proposed", "approve", "admin"),
    ],
)
def test_the_wrong_side_is_refused(world, path, name, who):
    placement = advance(world, propose(world), path)
    code = {"reject": "other_solution", "decline": "no_place", "cancel": "error"}.get(name)
    code = "own_home" if name == "end" else code

    message = refused(
        step, world, placement, name, code, actor=getattr(world, who),
        placement=placement, units=(world.unit,),
    )  # fmt: skip

    assert message.startswith("Non spetta a te")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("proposed", "move_in"),  # a move-in before approval
        ("approved", "move_in"),  # and before the provider accepted
        ("proposed", "accept"),
        ("proposed", "end"),
        ("accepted", "approve"),
        ("active", "cancel"),
        ("rejected", "approve"),
        ("declined", "accept"),
        ("cancelled", "approve"),
    ],
)
def test_a_step_out_of_order_is_refused(world, path, name):
    placement = advance(world, propose(world), path)
    code = {"end": "own_home", "cancel": "error"}.get(name)

    message = refused(step, world, placement, name, code, placement=placement, units=(world.unit,))

    status = {
        "proposed": "proposto, in attesa della Città",
        "approved": "approvato, in attesa del gestore",
        "accepted": "accettato, in attesa dell'ingresso",
        "active": "in corso",
        "rejected": "respinto dalla Città",
        "declined": "rifiutato dal gestore",
        "cancelled": "annullato",
    }[path]
    verb = {
        "move_in": "registrare l'ingresso",
        "accept": "accettare",
        "end": "chiudere",
        "approve": "approvare",
        "cancel": "annullare",
    }[name]
    assert message == f"L'inserimento è «{status}»: ora non si può {verb}."


@pytest.mark.parametrize(
    ("path", "name", "code", "status"),
    [
        ("approved", "approve", None, "approvato, in attesa del gestore"),
        ("accepted", "accept", None, "accettato, in attesa dell'ingresso"),
        ("active", "move_in", None, "in corso"),
        ("ended", "end", "own_home", "concluso"),
        ("cancelled", "cancel", "error", "annullato"),
    ],
)
def test_a_step_already_done_is_told_as_done_and_changes_nothing(world, path, name, code, status):
    placement = advance(world, propose(world), path)
    _db.session.commit()
    before = (count(AuditEvent), vacancies(world.unit), count(WellbeingCheck))

    with pytest.raises(operations.AlreadyDone) as done:
        step(world, placement, name, code)
    _db.session.rollback()

    assert done.value.message == f"L'inserimento è già «{status}»: nessuna modifica."
    assert (count(AuditEvent), vacancies(world.unit), count(WellbeingCheck)) == before


def test_an_unknown_step_is_refused(world):
    placement = propose(world)

    message = refused(
        operations.transition, placement, "delete", world.coordinator, placement=placement
    )

    assert message == "Azione sconosciuta."


def test_the_move_in_schedules_the_first_check_after_thirty_days(world):
    placement = advance(world, propose(world), "accepted")
    moved = today() - timedelta(days=3)

    step(world, placement, "move_in", on=moved)
    _db.session.commit()

    assert placement.status == "active"
    assert placement.moved_in_on == moved
    assert [(c.due_on, c.done_on) for c in placement.checks] == [(moved + timedelta(days=30), None)]
    assert audit(obj=placement)[-1].changes["moved_in_on"] == moved.isoformat()
    assert vacancies(world.unit) == 1  # the place was already taken at the proposal


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [
        ("move_in", None, "Indica la data."),
        ("move_in", 1, "La data non può essere nel futuro."),
        ("end", None, "Indica la data."),
        ("end", 1, "La data non può essere nel futuro."),
        ("end", -11, "La data di uscita non può precedere"),
    ],
)
def test_a_missing_future_or_impossible_date_is_refused(world, name, days, message):
    # Days from today, counted when the test runs (a suite that crosses midnight in Turin
    # would otherwise test yesterday's "tomorrow").
    on = None if days is None else today() + timedelta(days=days)
    placement = advance(world, propose(world), "accepted")
    if name == "end":
        step(world, placement, "move_in", on=today() - timedelta(days=10))

    got = refused(
        operations.transition, placement, name, world.provider,
        reason_code="own_home" if name == "end" else None, on=on, today=today(),
        placement=placement, units=(world.unit,),
    )  # fmt: skip

    assert message in got


def test_the_exit_frees_the_place_and_drops_the_pending_checks(world):
    placement = advance(world, propose(world), "accepted")
    moved = today() - timedelta(days=40)
    step(world, placement, "move_in", on=moved)
    first = placement.checks[0]
    operations.record_check(
        first, moved + timedelta(days=30), "good", "Tutto bene.", world.provider, today()
    )
    assert count(WellbeingCheck, WellbeingCheck.done_on.is_(None)) == 1

    step(world, placement, "end", "social_housing", on=today() - timedelta(days=1))
    _db.session.commit()

    assert placement.status == "ended"
    assert placement.ended_on == today() - timedelta(days=1)
    assert vacancies(world.unit) == 2
    assert [(c.id, c.wellbeing) for c in placement.checks] == [(first.id, "good")]
    assert notified("placement_ended", placement) == ids(world.operator, world.operator_colleague)


def test_the_place_is_not_freed_above_capacity(world):
    """The provider counted the place as free already: the exit cannot overflow the unit."""
    placement = advance(world, propose(world), "active")
    operations.set_vacancies(world.unit, 4, world.unit.version, world.provider)

    step(world, placement, "end", "own_home")
    _db.session.commit()

    assert vacancies(world.unit) == 4
    assert placement.status == "ended"


@pytest.mark.parametrize(
    ("who", "path", "expected"),
    [
        ("coordinator", "proposed", ["approve", "reject", "cancel"]),
        ("operator", "proposed", ["cancel"]),
        ("provider", "proposed", []),
        ("provider", "approved", ["accept", "decline"]),
        ("other_provider", "approved", []),
        ("operator", "approved", ["cancel"]),
        ("provider", "accepted", ["move_in"]),
        ("provider", "active", ["end"]),
        ("operator", "active", []),
        ("outsider", "proposed", []),
        ("coordinator", "ended", []),
    ],
)
def test_available_steps_are_those_of_the_users_side(world, who, path, expected):
    placement = advance(world, propose(world), path)

    assert operations.available_steps(getattr(world, who), placement) == expected


def test_viewing_a_placement_is_audited(world):
    placement = propose(world)

    operations.record_view(placement, world.provider)

    assert [(e.action, e.actor_id) for e in audit("placement_viewed", placement)] == [
        ("placement_viewed", world.provider.id)
    ]


# Well-being checks ------------------------------------------------------------------------------


def active_since(world: World, days: int) -> Placement:
    placement = advance(world, propose(world), "accepted")
    step(world, placement, "move_in", on=today() - timedelta(days=days))
    return placement


@pytest.mark.parametrize("who", ["provider", "operator"])
def test_recording_a_check_schedules_the_next(world, who):
    placement = active_since(world, 35)
    due = placement.checks[0]
    done_on = today() - timedelta(days=2)

    following = operations.record_check(
        due, done_on, "some_difficulties", "  Difficoltà con la scuola.  ", getattr(world, who),
        today(),
    )  # fmt: skip
    _db.session.commit()

    assert (due.done_on, due.wellbeing, due.notes) == (
        done_on,
        "some_difficulties",
        "Difficoltà con la scuola.",
    )
    assert due.done_by_id == getattr(world, who).id
    assert following is not None
    assert following.due_on == done_on + timedelta(days=30)
    assert [c.id for c in placement.checks] == [due.id, following.id]
    events = audit("wellbeing_check_recorded", placement)
    assert [e.changes for e in events] == [
        {
            "check_id": due.id,
            "wellbeing": "some_difficulties",
            "next_due_on": following.due_on.isoformat(),
        }
    ]


def test_the_check_interval_of_the_placement_is_used(world):
    placement = advance(world, propose(world), "accepted")
    placement.check_interval_days = 14
    step(world, placement, "move_in", on=today() - timedelta(days=20))

    following = operations.record_check(
        placement.checks[0], today(), "good", None, world.provider, today()
    )

    assert placement.checks[0].due_on == today() - timedelta(days=6)
    assert following.due_on == today() + timedelta(days=14)


@pytest.mark.parametrize(
    ("who", "wellbeing", "done_days_ago", "message"),
    [
        ("coordinator", "good", 1, "Non puoi registrare verifiche"),
        ("other_provider", "good", 1, "Non puoi registrare verifiche"),
        ("outsider", "good", 1, "Non puoi registrare verifiche"),
        ("provider", "excellent", 1, "Indica come sta il nucleo."),
        ("provider", "", 1, "Indica come sta il nucleo."),
        ("provider", "good", -1, "La data non può essere nel futuro."),
        ("provider", "good", 40, "La verifica non può precedere l'ingresso."),
    ],
)
def test_a_bad_check_is_refused(world, who, wellbeing, done_days_ago, message):
    placement = active_since(world, 35)

    got = refused(
        operations.record_check, placement.checks[0], today() - timedelta(days=done_days_ago),
        wellbeing, None, getattr(world, who), today(), placement=placement,
    )  # fmt: skip

    assert message in got


def test_a_check_is_recorded_once(world):
    placement = active_since(world, 35)
    due = placement.checks[0]
    operations.record_check(due, today(), "good", None, world.provider, today())

    message = refused(
        operations.record_check, due, today(), "critical", None, world.operator, today(),
        placement=placement,
    )  # fmt: skip

    assert "già stata registrata" in message


def test_no_check_is_recorded_after_the_exit(world):
    placement = active_since(world, 35)
    step(world, placement, "end", "family")
    _db.session.commit()
    orphan = WellbeingCheck(placement_id=placement.id, due_on=today())
    _db.session.add(orphan)
    _db.session.commit()

    message = refused(
        operations.record_check, orphan, today(), "good", None, world.provider, today(),
        placement=placement,
    )  # fmt: skip

    assert "solo durante la permanenza" in message


# Eviction prevention ----------------------------------------------------------------------------


def risk_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "eviction_notice",
        "arrears_amount": Decimal("2400.50"),
        "notice_on": today() - timedelta(days=60),
        "hearing_on": today() + timedelta(days=12),
        "execution_on": today() + timedelta(days=45),
        "actions": ["mediation", "legal_aid"],
        "notes": "Sfratto per morosità dopo la perdita del lavoro.",
    }
    values.update(overrides)
    return values


def test_a_risk_case_is_opened_with_its_dates_and_audited(world):
    case = operations.open_risk_case(world.household, risk_values(), world.operator)
    _db.session.commit()

    _db.session.refresh(case)
    assert (case.status, case.kind, case.organization_id) == (
        "open",
        "eviction_notice",
        world.hub.id,
    )
    assert case.arrears_amount == Decimal("2400.50")
    assert case.hearing_on == today() + timedelta(days=12)
    assert case.actions == ["mediation", "legal_aid"]
    assert [(e.action, e.changes) for e in audit(obj=case)] == [
        ("risk_case_opened", {"household_id": world.household.id, "kind": "eviction_notice"})
    ]


def test_a_risk_case_with_only_its_kind_has_no_actions_yet(world):
    case = operations.open_risk_case(
        world.household, {"kind": "no_fault_arrears"}, world.coordinator
    )

    assert case.actions == []
    assert case.organization_id == world.hub.id  # the City opens it for the household's entity


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"notice_on": today(), "hearing_on": today() - timedelta(days=1)},
            "L'udienza non può precedere la notifica.",
        ),
        (
            {"hearing_on": today(), "execution_on": today() - timedelta(days=1)},
            "L'esecuzione non può precedere l'udienza.",
        ),
    ],
)
def test_a_risk_case_with_dates_out_of_order_is_refused(world, overrides, message):
    got = refused(
        operations.open_risk_case, world.household, risk_values(**overrides), world.operator
    )

    assert got == message


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"execution_on": today() - timedelta(days=61), "hearing_on": None},
            "precedere la notifica",
        ),
        ({"kind": "fire"}, "Indica il tipo di rischio abitativo."),
        ({"kind": None}, "Indica il tipo di rischio abitativo."),
        ({"actions": ["mediation", "prayer"]}, "Azione non prevista"),
        ({"arrears_amount": Decimal("-0.01")}, "non può essere negativa"),
    ],
)
def test_a_risk_case_with_bad_values_is_refused(world, overrides, message):
    got = refused(
        operations.open_risk_case, world.household, risk_values(**overrides), world.operator
    )

    assert message in got


def test_a_risk_case_is_updated_and_the_difference_audited(world):
    case = operations.open_risk_case(world.household, risk_values(), world.operator)
    later = today() + timedelta(days=20)

    changes = operations.update_risk_case(
        case,
        {"hearing_on": later, "actions": ["mediation", "legal_aid", "arrears_fund"]},
        world.operator_colleague,
    )
    _db.session.commit()

    assert case.hearing_on == later
    assert changes == {
        "hearing_on": [(today() + timedelta(days=12)).isoformat(), later.isoformat()],
        "actions": [["mediation", "legal_aid"], ["mediation", "legal_aid", "arrears_fund"]],
    }
    events = audit("risk_case_updated", case)
    assert [(e.changes, e.actor_id) for e in events] == [(changes, world.operator_colleague.id)]


def test_an_update_is_checked_against_the_dates_already_on_file(world):
    case = operations.open_risk_case(world.household, risk_values(), world.operator)

    message = refused(
        operations.update_risk_case,
        case,
        {"execution_on": today()},  # before the hearing on file
        world.operator,
    )

    assert message == "L'esecuzione non può precedere l'udienza."
    assert case.execution_on == today() + timedelta(days=45)


def test_a_risk_case_is_closed_with_its_outcome(world):
    case = operations.open_risk_case(world.household, risk_values(), world.operator)

    operations.close_risk_case(case, "agreement", today(), world.coordinator, today())
    _db.session.commit()

    _db.session.refresh(case)
    assert (case.status, case.outcome, case.closed_on) == ("closed", "agreement", today())
    assert [e.changes for e in audit("risk_case_closed", case)] == [{"outcome": "agreement"}]


@pytest.mark.parametrize(
    ("outcome", "days_ahead", "message"),
    [
        ("", 0, "Indica l'esito."),
        ("won_the_lottery", 0, "Indica l'esito."),
        ("agreement", 1, "La data non può essere nel futuro."),
    ],
)
def test_a_bad_closing_is_refused(world, outcome, days_ahead, message):
    case = operations.open_risk_case(world.household, risk_values(), world.operator)

    got = refused(
        operations.close_risk_case, case, outcome, today() + timedelta(days=days_ahead),
        world.operator, today(),
    )  # fmt: skip

    assert got == message
    assert case.status == "open"


def test_a_closed_case_is_neither_changed_nor_closed_again(world):
    case = operations.open_risk_case(world.household, risk_values(), world.operator)
    operations.close_risk_case(case, "rehoused", today(), world.operator, today())

    changed = refused(operations.update_risk_case, case, {"notes": "Altro."}, world.operator)
    closed = refused(operations.close_risk_case, case, "evicted", today(), world.operator, today())

    assert "chiuso" in changed
    assert "già chiuso" in closed
    assert case.outcome == "rehoused"


# Who sees what ----------------------------------------------------------------------------------


def visible(query: Any) -> set[int]:
    return {row.id for row in _db.session.scalars(query)}


def test_the_board_shows_active_units_and_inactive_ones_only_to_their_provider_and_the_city(
    world,
):
    closed = make_unit(world.provider_org, active=False)
    others_closed = make_unit(world.other_provider.organization, active=False)
    active = {world.unit.id, world.other_unit.id}

    assert visible(policy.visible_units(world.coordinator)) == active | {
        closed.id,
        others_closed.id,
    }
    assert visible(policy.visible_units(world.provider)) == active | {closed.id}
    assert visible(policy.visible_units(world.other_provider)) == active | {others_closed.id}
    assert visible(policy.visible_units(world.operator)) == active
    assert visible(policy.visible_units(world.admin)) == set()


def test_a_provider_edits_only_its_own_units(world):
    assert policy.can_edit_unit(world.provider, world.unit)
    assert not policy.can_edit_unit(world.other_provider, world.unit)
    assert not policy.can_edit_unit(world.coordinator, world.unit)
    assert not policy.can_edit_unit(world.operator, world.unit)
    assert policy.editable_unit_or_404(world.provider, world.unit.id) == world.unit
    with pytest.raises(NotFound):
        policy.editable_unit_or_404(world.other_provider, world.unit.id)


def test_placements_are_seen_by_the_city_the_households_entity_and_the_units_provider(world):
    mine = propose(world)
    elsewhere = reach(world, "proposed", unit=world.other_unit)
    foreign_household = factories.household(world.outsider.organization)
    foreign = operations.propose(foreign_household, world.unit, world.outsider)

    assert visible(policy.visible_placements(world.coordinator)) == {
        mine.id,
        elsewhere.id,
        foreign.id,
    }
    assert visible(policy.visible_placements(world.operator)) == {mine.id, elsewhere.id}
    assert visible(policy.visible_placements(world.outsider)) == {foreign.id}
    assert visible(policy.visible_placements(world.provider)) == {mine.id, foreign.id}
    assert visible(policy.visible_placements(world.other_provider)) == {elsewhere.id}
    assert visible(policy.visible_placements(world.admin)) == set()


@pytest.mark.parametrize(
    ("who", "path", "sees"),
    [
        ("provider", "proposed", False),
        ("provider", "rejected", False),
        ("provider", "approved", True),
        ("provider", "active", True),
        ("other_provider", "approved", False),
        ("operator", "proposed", True),
        ("outsider", "proposed", False),
        ("coordinator", "proposed", True),
        ("admin", "approved", False),
    ],
)
def test_the_provider_sees_who_the_household_is_only_after_approval(world, who, path, sees):
    placement = advance(world, propose(world), path)

    assert policy.sees_household_details(getattr(world, who), placement) is sees


def test_risk_cases_follow_the_households_visibility(world):
    mine = operations.open_risk_case(world.household, risk_values(), world.operator)
    foreign_household = factories.household(world.outsider.organization)
    foreign = operations.open_risk_case(foreign_household, risk_values(), world.outsider)

    assert visible(policy.visible_risk_cases(world.coordinator)) == {mine.id, foreign.id}
    assert visible(policy.visible_risk_cases(world.operator)) == {mine.id}
    assert visible(policy.visible_risk_cases(world.outsider)) == {foreign.id}
    assert visible(policy.visible_risk_cases(world.provider)) == set()
    assert visible(policy.visible_risk_cases(world.admin)) == set()
    assert policy.can_manage_risk_cases(world.operator, world.household)
    assert policy.can_manage_risk_cases(world.coordinator, world.household)
    assert not policy.can_manage_risk_cases(world.outsider, world.household)
    assert not policy.can_manage_risk_cases(world.provider, world.household)
