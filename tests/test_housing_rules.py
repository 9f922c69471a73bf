"""Housing rules users found missing (issue #17, items 10 and 3): a household takes one place per
person and is refused where it does not fit; outside the unit's target groups only with a
recorded reason; dates in order; each stay costs what the unit cost while it lasted; a critical
follow-up reaches the City and the placing entity; a form or a step sent twice does it once.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.extensions import db as _db
from app.households.models import Household
from app.housing import operations
from app.housing.models import HousingUnit, Placement, UnitRate
from app.notifications.labels import text
from app.notifications.models import Notification
from app.projects import finance
from app.registry.models import Organization
from tests import factories
from tests.concurrency import only_domain_errors, race
from tests.test_housing_views import post
from tests.worlds import make_unit, signed_in

KEY_RE = re.compile(
    r'name="idempotency_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="idempotency_key"'
)
LONG_AGO = timedelta(days=200)


# People and places ---------------------------------------------------------------------------


def born(age: int) -> date:
    """A birth date that makes a person `age` today (the 1st of January of the right year)."""
    return date(today().year - age, 1, 1)


def issue_household(org: Organization) -> Household:
    """The household of the report: four people aged 57 (her), 81, 63 and 14."""
    household = factories.household(org, members=0)
    factories.person(household, relation="reference", sex="F", birth_date=born(57))
    factories.person(household, relation="parent", sex="F", birth_date=born(81))
    factories.person(household, relation="partner", sex="M", birth_date=born(63))
    factories.person(household, relation="child", sex="M", birth_date=born(14))
    _db.session.refresh(household)
    return household


def single_man(org: Organization) -> Household:
    household = factories.household(org, members=0)
    factories.person(household, relation="reference", sex="M", birth_date=born(45))
    _db.session.refresh(household)
    return household


def unit(provider: Organization, **fields: Any) -> HousingUnit:
    """A men's dormitory of `provider` (tests.worlds.make_unit with this module's defaults)."""
    values: dict[str, Any] = {
        "name": "Dormitorio maschile di via Carrera",
        "kind": "night_shelter_bed",
        "address": "Via Carrera 10",
        "capacity": 10,
        "vacancies": 4,
        "target_groups": ["single_men"],
    }
    return make_unit(provider, **{**values, **fields})


@dataclass
class World:
    app: Flask
    hub: Organization
    provider_org: Organization
    coordinator: User
    coordinator_colleague: User
    operator: User
    operator_colleague: User
    provider: User
    family: Household  # the four people of the report
    flat: HousingUnit  # for families, 4 free places of 6
    shelter: HousingUnit  # men alone, 4 free places of 10

    def browser(self, user: User) -> FlaskClient:
        return signed_in(self.app, user)


@pytest.fixture
def world(app: Flask, db: object) -> World:
    hub = factories.organization(is_hub=True, circoscrizione=6)
    provider = factories.organization(
        is_housing_provider=True, is_job_service=False, circoscrizione=6
    )
    made = World(
        app=app,
        hub=hub,
        provider_org=provider,
        coordinator=factories.user("coordinator"),
        coordinator_colleague=factories.user("coordinator"),
        operator=factories.user("entity_operator", hub),
        operator_colleague=factories.user("entity_operator", hub),
        provider=factories.user("housing_provider", provider),
        family=issue_household(hub),
        flat=unit(
            provider,
            name="Alloggio ponte di via Cigna",
            kind="temporary_flat",
            capacity=6,
            vacancies=4,
            target_groups=["families"],
        ),
        shelter=unit(provider),
    )
    _db.session.commit()
    return made


def vacancies(item: HousingUnit) -> int:
    return _db.session.scalar(select(HousingUnit.vacancies).where(HousingUnit.id == item.id))


def count(model: Any, *where: Any) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def backdate(placement: Placement, ago: timedelta = LONG_AGO) -> None:
    """The proposal was made `ago`: the move-in dates below come after it."""
    placement.created_at = datetime.now(UTC) - ago
    _db.session.commit()


def proposal_page(client: FlaskClient, household: Household) -> str:
    return client.get(f"/housing/placements/new?household={household.id}").get_data(as_text=True)


def key_from(html: str) -> str:
    match = KEY_RE.search(html)
    assert match, "no idempotency key on the proposal form"
    return match.group(1) or match.group(2)


def propose_on_the_web(
    client: FlaskClient, household: Household, target: HousingUnit, **data: Any
) -> Any:
    return post(
        client,
        f"/housing/placements/new?household={household.id}",
        {"unit_id": str(target.id), "motivation": "Sfratto eseguito ieri.", **data},
    )


def placements_of(household: Household) -> list[Placement]:
    return list(
        _db.session.scalars(select(Placement).where(Placement.household_id == household.id))
    )


# Size: one place per person ------------------------------------------------------------------


def test_a_household_of_four_is_refused_by_a_unit_with_one_free_place(world):
    world.flat.vacancies = 1
    _db.session.commit()
    client = world.browser(world.operator)

    response = propose_on_the_web(client, world.family, world.flat)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "ha 1 posto libero: il nucleo ha 4 persone" in page
    assert "Sfratto eseguito ieri." in page  # the input is kept
    assert placements_of(world.family) == []
    assert vacancies(world.flat) == 1


def test_the_proposal_form_lists_only_units_with_a_place_for_everyone(world):
    world.shelter.target_groups = []
    roomy = unit(world.provider_org, name="Casa grande", target_groups=[], vacancies=5)
    world.flat.vacancies = 3
    _db.session.commit()

    page = proposal_page(world.browser(world.operator), world.family)

    assert "Alloggi con almeno 4 posti liberi" in page
    assert f'id="unit-choice-{world.shelter.id}"' in page
    assert f'id="unit-choice-{roomy.id}"' in page
    assert f'id="unit-choice-{world.flat.id}"' not in page  # 3 free places for 4 people


@pytest.mark.parametrize(
    ("path", "closing", "reason"),
    [
        (("approve",), "decline", "household_size"),
        (("approve", "accept"), "cancel", "other_solution"),
        (("approve", "accept", "move_in"), "end", "own_home"),
        ((), "reject", "not_priority"),
    ],
    ids=["decline", "cancel", "exit", "reject"],
)
def test_four_places_are_reserved_and_freed_together(world, path, closing, reason):
    placement = operations.propose(world.family, world.flat, world.operator, "Sfratto.")
    backdate(placement)
    assert (placement.places, vacancies(world.flat)) == (4, 0)
    actors = {
        "approve": world.coordinator,
        "reject": world.coordinator,
        "accept": world.provider,
        "decline": world.provider,
        "move_in": world.provider,
        "end": world.provider,
        "cancel": world.operator,
    }
    for name in path:
        operations.transition(placement, name, actors[name], on=today(), today=today())
        assert vacancies(world.flat) == 0  # held all along
    operations.transition(
        placement, closing, actors[closing], reason_code=reason, on=today(), today=today()
    )
    _db.session.commit()

    assert vacancies(world.flat) == 4
    proposed, closed = (
        _db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "placement", AuditEvent.object_id == placement.id)
            .where(AuditEvent.action.in_(("placement_proposed", f"placement_{placement.status}")))
            .order_by(AuditEvent.id)
        )
    ).all()
    assert (proposed.changes["places"], proposed.changes["vacancies_after"]) == (4, 0)
    assert (closed.changes["places_freed"], closed.changes["vacancies_after"]) == (4, 4)


def test_freed_places_never_go_above_the_capacity(world):
    placement = operations.propose(world.family, world.flat, world.operator, "Sfratto.")
    _db.session.commit()
    # Meanwhile the provider counted 5 free places (guests left outside the portal).
    operations.set_vacancies(world.flat, 5, world.flat.version, world.provider)
    _db.session.commit()

    operations.transition(placement, "cancel", world.operator, reason_code="error")
    _db.session.commit()

    assert vacancies(world.flat) == world.flat.capacity == 6


def test_two_families_for_three_places_at_once_only_one_gets_them(app, world):
    world.flat.vacancies = 3
    world.flat.target_groups = []
    couples = []
    for _ in range(2):
        couple = factories.household(world.hub, members=2)
        couples.append(couple.id)
    _db.session.commit()
    operators = [world.operator.id, world.operator_colleague.id]
    flat_id = world.flat.id

    def prepare(i: int) -> tuple[Household, HousingUnit, User]:
        return (
            _db.session.get(Household, couples[i]),
            _db.session.get(HousingUnit, flat_id),
            _db.session.get(User, operators[i]),
        )

    outcomes = race(app, prepare, lambda i, loaded: operations.propose(*loaded).id, threads=2)

    errors = only_domain_errors(outcomes)
    assert len(errors) == 1
    assert "ha 1 posto libero: il nucleo ha 2 persone" in errors[0].message
    assert count(Placement) == 1
    assert vacancies(world.flat) == 1


# Target groups: a warning and a recorded reason ----------------------------------------------


def test_a_family_is_not_among_the_target_groups_of_a_men_only_dormitory(world):
    assert operations.target_mismatch(single_man(world.hub), world.shelter) is None
    warning = operations.target_mismatch(world.family, world.shelter)
    assert warning is not None
    assert "4 persone; età: 57, 81, 63, 14" in warning
    assert "uomini soli" in warning
    assert operations.target_mismatch(world.family, world.flat) is None  # a family with a son


def test_outside_the_target_groups_the_proposal_needs_a_reason_next_to_the_field(world):
    client = world.browser(world.operator)

    response = propose_on_the_web(client, world.family, world.shelter)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'id="target_reason-error"[^>]*>([^<]*)<', page)
    assert error is not None
    assert "non rientra tra i destinatari" in error.group(1)
    assert "Sfratto eseguito ieri." in page  # the input is kept
    assert placements_of(world.family) == []
    assert vacancies(world.shelter) == 4


def test_with_a_reason_the_placement_and_its_audit_event_keep_it(world):
    client = world.browser(world.operator)
    reason = "Unico posto libero stanotte in città: la famiglia dorme in auto."

    response = propose_on_the_web(client, world.family, world.shelter, target_reason=reason)

    assert response.status_code == 303
    (placement,) = placements_of(world.family)
    assert (placement.target_reason, placement.places) == (reason, 4)
    assert vacancies(world.shelter) == 0
    event = _db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "placement_proposed", AuditEvent.object_id == placement.id
        )
    )
    assert event.changes["target_reason"] == reason
    assert event.changes["target_groups"] == ["single_men"]
    page = client.get(f"/housing/placements/{placement.id}").get_data(as_text=True)
    assert reason in page


def test_a_reason_for_a_household_that_fits_is_not_kept(world):
    placement = operations.propose(
        world.family, world.flat, world.operator, "Sfratto.", target_reason="Non serve."
    )

    assert placement.target_reason is None


# Dates in order -------------------------------------------------------------------------------


def accepted(world: World, ago: timedelta) -> Placement:
    placement = operations.propose(world.family, world.flat, world.operator, "Sfratto.")
    backdate(placement, ago)
    operations.transition(placement, "approve", world.coordinator)
    operations.transition(placement, "accept", world.provider)
    _db.session.commit()
    return placement


def test_a_move_in_before_the_proposal_is_refused_next_to_the_date(world):
    placement = accepted(world, timedelta(days=3))
    proposed = (today() - timedelta(days=3)).strftime("%d/%m/%Y")
    client = world.browser(world.provider)

    response = post(client, f"/housing/placements/{placement.id}/move_in", {"on": "2025-01-15"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'id="move_in-on-error"[^>]*>([^<]*)<', page)
    assert error is not None
    assert error.group(1) == f"La data di ingresso non può precedere la proposta ({proposed})."
    assert 'value="2025-01-15"' in page  # the input is kept
    _db.session.refresh(placement)
    assert (placement.status, placement.moved_in_on) == ("accepted", None)


def test_a_move_in_on_the_day_of_the_proposal_or_later_is_accepted(world):
    placement = accepted(world, timedelta(days=3))
    client = world.browser(world.provider)

    response = post(
        client,
        f"/housing/placements/{placement.id}/move_in",
        {"on": (today() - timedelta(days=3)).isoformat()},
    )

    assert response.status_code == 303
    _db.session.refresh(placement)
    assert placement.moved_in_on == today() - timedelta(days=3)


@pytest.mark.parametrize(
    ("step", "days", "message"),
    [
        ("move_in", 1, "La data non può essere nel futuro."),
        ("end", 1, "La data non può essere nel futuro."),
        ("end", -11, "La data di uscita non può precedere quella di ingresso."),
    ],
)
def test_future_dates_and_an_exit_before_the_move_in_are_refused_next_to_the_date(
    world, step, days, message
):
    placement = accepted(world, timedelta(days=30))
    if step == "end":
        operations.transition(
            placement, "move_in", world.provider, on=today() - timedelta(days=10), today=today()
        )
        _db.session.commit()
    client = world.browser(world.provider)

    response = post(
        client,
        f"/housing/placements/{placement.id}/{step}",
        {"on": (today() + timedelta(days=days)).isoformat(), "reason_code": "own_home"},
    )

    assert response.status_code == 422
    error = re.search(rf'id="{step}-on-error"[^>]*>([^<]*)<', response.get_data(as_text=True))
    assert error is not None
    assert error.group(1) == message


# Line C: the cost in force for each period --------------------------------------------------


def test_stay_cost_at_rates_counts_each_day_at_its_rate():
    rates = [(date(2026, 1, 1), Decimal("420.00")), (date(2026, 2, 1), Decimal("4200.00"))]
    # 31 days of January at 420, 9 of February at 4200: (13020 + 37800) / 30.
    assert finance.stay_cost_at_rates(rates, date(2026, 1, 1), date(2026, 2, 9)) == Decimal(
        "1694.00"
    )
    # Days before the first rate are counted at it; one rate is stay_cost exactly.
    one = [(date(2026, 3, 1), Decimal("1000.00"))]
    assert finance.stay_cost_at_rates(
        one, date(2026, 1, 1), date(2026, 1, 31)
    ) == finance.stay_cost(Decimal("1000.00"), date(2026, 1, 1), date(2026, 1, 31))
    assert finance.stay_cost_at_rates(rates, date(2026, 3, 1), date(2026, 2, 1)) == Decimal("0")
    free = [(date(2026, 1, 1), None), (date(2026, 1, 11), Decimal("300.00"))]
    assert finance.stay_cost_at_rates(free, date(2026, 1, 1), date(2026, 1, 20)) == Decimal(
        "100.00"
    )


def test_a_cost_change_keeps_what_past_stays_cost_on_line_c(world):
    values = {
        "name": "Alloggio di via Cuneo",
        "kind": "temporary_flat",
        "address": "Via Cuneo 5",
        "circoscrizione": 6,
        "capacity": 8,
        "vacancies": 8,
        "target_groups": [],
        "accessible": False,
        "max_stay_days": None,
        "monthly_cost": Decimal("420.00"),
        "notes": None,
        "active": True,
    }
    flat = operations.create_unit(world.provider_org.id, values, world.provider)
    registered = today() - timedelta(days=300)  # as if the unit had been registered then
    _db.session.execute(
        update(UnitRate).where(UnitRate.unit_id == flat.id).values(valid_from=registered)
    )
    ended = operations.propose(world.family, flat, world.operator, "Sfratto.")
    backdate(ended)
    for name in ("approve", "accept"):
        operations.transition(
            ended, name, world.coordinator if name == "approve" else world.provider
        )
    operations.transition(ended, "move_in", world.provider, on=today() - timedelta(days=120))
    operations.transition(
        ended, "end", world.provider, reason_code="own_home", on=today() - timedelta(days=31)
    )
    going_on = operations.propose(single_man(world.hub), flat, world.operator, "Senza casa.")
    backdate(going_on)
    for name in ("approve", "accept"):
        operations.transition(
            going_on, name, world.coordinator if name == "approve" else world.provider
        )
    operations.transition(going_on, "move_in", world.provider, on=today() - timedelta(days=29))
    _db.session.commit()
    # 90 days at 420 and 30 days at 420: (37800 + 12600) / 30.
    assert finance.housing_spending(today()) == Decimal("1680.00")

    changes = operations.update_unit(
        flat, {"monthly_cost": Decimal("4200.00")}, flat.version, world.provider
    )
    _db.session.commit()

    assert "monthly_cost" in changes
    # The ended stay keeps its 1260.00; the stay going on adds today at the new cost:
    # (29 × 420 + 1 × 4200) / 30 = 546.00.
    assert finance.housing_spending(today()) == Decimal("1806.00")
    rates = _db.session.execute(
        select(UnitRate.valid_from, UnitRate.monthly_cost)
        .where(UnitRate.unit_id == flat.id)
        .order_by(UnitRate.valid_from)
    ).all()
    assert [tuple(r) for r in rates] == [
        (registered, Decimal("420.00")),
        (today(), Decimal("4200.00")),
    ]


def test_a_cost_changed_twice_on_one_day_keeps_the_last(world):
    flat = world.flat
    operations._set_rate(flat.id, Decimal("420.00"), today() - timedelta(days=60), None)
    for cost in ("4200.00", "420.50"):
        operations.update_unit(flat, {"monthly_cost": Decimal(cost)}, flat.version, world.provider)
    _db.session.commit()

    rates = _db.session.execute(
        select(UnitRate.valid_from, UnitRate.monthly_cost)
        .where(UnitRate.unit_id == flat.id)
        .order_by(UnitRate.valid_from)
    ).all()
    assert [tuple(r) for r in rates] == [
        (today() - timedelta(days=60), Decimal("420.00")),
        (today(), Decimal("420.50")),
    ]


# A critical follow-up reaches the City and the placing entity -------------------------------


def test_a_critical_follow_up_notifies_the_city_and_the_placing_entity(world):
    placement = accepted(world, timedelta(days=40))
    operations.transition(
        placement, "move_in", world.provider, on=today() - timedelta(days=35), today=today()
    )
    _db.session.commit()
    check = placement.checks[0]
    before = count(Notification)

    operations.record_check(
        check, today(), "critical", "Non esce più dalla camera.", world.provider, today()
    )
    _db.session.commit()

    told = set(
        _db.session.scalars(
            select(Notification.user_id).where(
                Notification.kind == "wellbeing_critical",
                Notification.object_type == "placement",
                Notification.object_id == placement.id,
            )
        )
    )
    assert told == {
        world.coordinator.id,
        world.coordinator_colleague.id,
        world.operator.id,
        world.operator_colleague.id,
    }
    assert count(Notification) == before + 4
    notification = _db.session.scalar(
        select(Notification).where(Notification.kind == "wellbeing_critical")
    )
    assert text(notification) == (
        f"Verifica critica nell'inserimento n. {placement.id}: serve un intervento"
    )


def test_a_good_follow_up_notifies_nobody(world):
    placement = accepted(world, timedelta(days=40))
    operations.transition(
        placement, "move_in", world.provider, on=today() - timedelta(days=35), today=today()
    )
    _db.session.commit()
    before = count(Notification)

    operations.record_check(placement.checks[0], today(), "good", None, world.provider, today())
    _db.session.commit()

    assert count(Notification) == before


# The same form, the same button, twice ---------------------------------------------------------


def test_the_proposal_form_sent_twice_with_one_key_makes_one_placement(world):
    client = world.browser(world.operator)
    key = key_from(proposal_page(client, world.family))

    first = propose_on_the_web(client, world.family, world.flat, idempotency_key=key)
    second = propose_on_the_web(client, world.family, world.flat, idempotency_key=key)

    assert first.status_code == second.status_code == 303
    (placement,) = placements_of(world.family)
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].endswith(f"/housing/placements/{placement.id}")
    assert vacancies(world.flat) == 0
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "alert-danger" not in page
    assert count(AuditEvent, AuditEvent.action == "placement_proposed") == 1


def test_the_proposal_form_sent_twice_at_once_makes_one_placement(app, world):
    clients = [world.browser(world.operator), world.browser(world.operator)]
    key = key_from(proposal_page(clients[0], world.family))
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]
    tokens = [
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', proposal_page(c, world.family)).group(1)
        for c in clients
    ]
    url = f"/housing/placements/new?household={world.family.id}"
    flat_id = world.flat.id

    def send(i: int) -> None:
        data = {
            "unit_id": str(flat_id),
            "motivation": "Sfratto eseguito ieri.",
            "idempotency_key": key,
            "csrf_token": tokens[i],
        }
        with app.app_context():  # each request opens its own inside; this one is the thread's
            barrier.wait(timeout=30)
            answers[i] = clients[i].post(url, data=data)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [a.status_code for a in answers] == [303, 303]
    _db.session.expire_all()
    (placement,) = placements_of(world.family)
    assert {a.headers["Location"] for a in answers} == {f"/housing/placements/{placement.id}"}
    assert vacancies(world.flat) == 0


def test_accept_pressed_twice_lands_on_the_page_without_an_error(world):
    placement = operations.propose(world.family, world.flat, world.operator, "Sfratto.")
    operations.transition(placement, "approve", world.coordinator)
    _db.session.commit()
    client = world.browser(world.provider)

    first = post(client, f"/housing/placements/{placement.id}/accept", {})
    second = post(client, f"/housing/placements/{placement.id}/accept", {})

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"].endswith(f"/housing/placements/{placement.id}")
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "alert-danger" not in page
    assert "già «accettato, in attesa dell&#39;ingresso»" in page or (
        "già «accettato, in attesa dell'ingresso»" in page
    )
    assert count(AuditEvent, AuditEvent.action == "placement_accepted") == 1
    assert vacancies(world.flat) == 0


def test_a_decline_after_an_accept_is_a_conflict_showing_the_current_state(world):
    placement = operations.propose(world.family, world.flat, world.operator, "Sfratto.")
    operations.transition(placement, "approve", world.coordinator)
    operations.transition(placement, "accept", world.provider)
    _db.session.commit()

    response = post(
        world.browser(world.provider),
        f"/housing/placements/{placement.id}/decline",
        {"reason_code": "no_place"},
    )

    assert response.status_code == 409
    assert "accettato, in attesa dell" in response.get_data(as_text=True)
    _db.session.refresh(placement)
    assert placement.status == "accepted"
    assert vacancies(world.flat) == 0


def test_the_migration_gives_every_unit_its_current_cost_as_its_first_rate(tmp_path):
    """0013 on a database with units: each gets one rate row, its cost from far back, so the
    stays already recorded keep the figure they had (run on SQLite, as the foundation test)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.config import TestConfig

    old = create_app(TestConfig(f"sqlite:///{tmp_path / 'old.db'}"))
    with old.app_context():
        upgrade(revision="0011")
        with _db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO organization (name, circoscrizione, is_job_service, is_hub, "
                "is_housing_provider, active, uuid, created_at, updated_at) VALUES "
                "('Casa', 3, 0, 0, 1, 1, '00000000-0000-0000-0000-000000000001', "
                "'2026-01-01 10:00:00', '2026-01-01 10:00:00')"
            )
            for name, cost in (("Con costo", "420.00"), ("Gratuito", None)):
                conn.exec_driver_sql(
                    "INSERT INTO housing_unit (provider_id, name, kind, address, circoscrizione, "
                    "capacity, vacancies, target_groups, accessible, monthly_cost, active, "
                    "vacancies_updated_at, version, created_at, updated_at) VALUES "
                    "(1, ?, 'temporary_flat', 'Via Po 1', 3, 4, 4, '[]', 0, ?, 1, "
                    "'2026-01-01 10:00:00', 1, '2026-01-01 10:00:00', '2026-01-01 10:00:00')",
                    (name, cost),
                )
        upgrade(revision="0013")
        with _db.engine.connect() as conn:
            rates = conn.exec_driver_sql(
                "SELECT unit_id, monthly_cost, valid_from FROM housing_unit_rate ORDER BY unit_id"
            ).all()
            columns = {row[1]: row for row in conn.exec_driver_sql("PRAGMA table_info(placement)")}
        _db.engine.dispose()
    assert [(r[0], r[1] if r[1] is None else Decimal(str(r[1])), str(r[2])) for r in rates] == [
        (1, Decimal("420.00"), "2000-01-01"),
        (2, None, "2000-01-01"),
    ]
    assert columns["places"][4].strip("'") == "1"  # existing placements held one place each


def test_on_the_demo_a_cost_raised_from_420_to_4200_adds_only_todays_days(app, db):
    """The report's case on the demo data: a provider types 4.200 for a unit costing 420; line C
    grows only by today's day of each stay going on there, at the difference, / 30."""
    from tests.test_demo import run_seed

    assert run_seed(app).exit_code == 0
    day = today()
    before = finance.housing_spending(day)
    stayed = select(Placement.unit_id).where(Placement.moved_in_on.is_not(None))
    flat = _db.session.scalar(
        select(HousingUnit)
        .where(HousingUnit.monthly_cost == Decimal("420.00"), HousingUnit.id.in_(stayed))
        .order_by(HousingUnit.id)
        .limit(1)
    )
    assert flat is not None, "the demo has no stay in a unit costing 420"
    going_on = count(
        Placement,
        Placement.unit_id == flat.id,
        Placement.status == "active",
        Placement.moved_in_on <= day,
    )
    provider = _db.session.scalar(
        select(User).where(
            User.organization_id == flat.provider_id, User.role == "housing_provider"
        )
    ) or factories.user("housing_provider", _db.session.get(Organization, flat.provider_id))

    operations.update_unit(flat, {"monthly_cost": Decimal("4200.00")}, flat.version, provider)
    _db.session.commit()

    assert finance.housing_spending(day) == before + going_on * Decimal("126.00")


def test_accept_pressed_twice_at_once_accepts_once_and_both_land_on_the_page(app, world):
    placement = operations.propose(world.family, world.flat, world.operator, "Sfratto.")
    operations.transition(placement, "approve", world.coordinator)
    _db.session.commit()
    clients = [world.browser(world.provider), world.browser(world.provider)]
    url = f"/housing/placements/{placement.id}/accept"
    page = f"/housing/placements/{placement.id}"
    tokens = [
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', c.get(page).get_data(as_text=True))
        for c in clients
    ]
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def send(i: int) -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            answers[i] = clients[i].post(url, data={"csrf_token": tokens[i].group(1)})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [a.status_code for a in answers] == [303, 303]
    assert {a.headers["Location"] for a in answers} == {page}
    _db.session.expire_all()
    assert count(AuditEvent, AuditEvent.action == "placement_accepted") == 1
    assert _db.session.get(Placement, placement.id).status == "accepted"
    assert vacancies(world.flat) == 0


def test_a_unit_loaded_without_a_history_keeps_its_old_cost_for_past_stays(world):
    """Units written in bulk (the scale generator) have no rate rows: the first change records
    the cost they had since their registration, then the new one from today."""
    flat = world.flat
    flat.monthly_cost = Decimal("420.00")
    flat.created_at = datetime.now(UTC) - timedelta(days=400)
    _db.session.commit()
    placement = accepted(world, timedelta(days=200))
    operations.transition(
        placement, "move_in", world.provider, on=today() - timedelta(days=100), today=today()
    )
    operations.transition(
        placement, "end", world.provider, reason_code="own_home", on=today() - timedelta(days=71)
    )
    _db.session.commit()
    assert finance.housing_spending(today()) == Decimal("420.00")  # 30 days

    operations.update_unit(flat, {"monthly_cost": Decimal("4200.00")}, flat.version, world.provider)
    _db.session.commit()

    assert finance.housing_spending(today()) == Decimal("420.00")
    rates = _db.session.scalars(
        select(UnitRate.monthly_cost)
        .where(UnitRate.unit_id == flat.id)
        .order_by(UnitRate.valid_from)
    ).all()
    assert rates == [Decimal("420.00"), Decimal("4200.00")]
