"""Housing pages: the board and its live refresh, a provider's vacancies, placements as the people
involved see them, follow-ups, eviction prevention. Everything through the web, as users do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.db import utcnow
from app.extensions import db as _db
from app.households.models import Household
from app.housing.models import HousingRiskCase, HousingUnit, Placement, WellbeingCheck
from app.notifications.models import Notification
from app.registry.models import Organization
from tests import factories
from tests.conftest import csrf_token_from
from tests.worlds import make_unit, provider_org, signed_in

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
TIMED_REFRESH = {**HTMX, "HX-Source": "div#board-live"}


# People, places, requests --------------------------------------------------------------------


def post(client: FlaskClient, path: str, data: dict[str, Any], headers: Any = None) -> Any:
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, headers=headers or {})


def text(response: Any) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def row_of(html: str, unit: HousingUnit) -> str:
    match = re.search(rf'<tr id="unit-{unit.id}".*?</tr>', html, re.S)
    assert match, f"no row for unit {unit.id}"
    return match.group(0)


def free_places(html: str, unit: HousingUnit) -> int:
    match = re.search(r'class="free-places"><strong>(\d+)</strong>', row_of(html, unit))
    assert match
    return int(match.group(1))


def current(unit: HousingUnit) -> HousingUnit:
    found = _db.session.get(HousingUnit, unit.id, populate_existing=True)
    assert found is not None
    return found


def actions(object_type: str | None = None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    return list(_db.session.scalars(query))


def count(model: Any) -> int:
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


@dataclass
class World:
    app: Flask
    coordinator: User
    hub: Organization
    operator: User
    household: Household
    provider_org: Organization
    provider: User
    unit: HousingUnit
    other_provider: User
    other_unit: HousingUnit

    def browser(self, user: User) -> FlaskClient:
        return signed_in(self.app, user)


@pytest.fixture
def world(app: Flask, db: object) -> World:
    hub = factories.organization(is_hub=True, circoscrizione=6)
    provider = provider_org(name="Cooperativa Casa Comune", circoscrizione=6)
    other = provider_org(name="Associazione Altra Casa", circoscrizione=3)
    household = factories.household(hub, members=1)
    reference = household.reference_person
    reference.first_name, reference.last_name = "Amina", "Benali"
    made = World(
        app=app,
        coordinator=factories.user("coordinator"),
        hub=hub,
        operator=factories.user("entity_operator", hub),
        household=household,
        provider_org=provider,
        provider=factories.user("housing_provider", provider),
        unit=make_unit(provider, capacity=4, vacancies=2, name="Casa Aurora", circoscrizione=6),
        other_provider=factories.user("housing_provider", other),
        other_unit=make_unit(other, capacity=3, vacancies=1, name="Casa Lesna", circoscrizione=3),
    )
    _db.session.commit()
    return made


def propose(world: World, unit: HousingUnit | None = None, **data: Any) -> Any:
    target = unit or world.unit
    return post(
        world.browser(world.operator),
        f"/housing/placements/new?household={world.household.id}",
        {"unit_id": str(target.id), "motivation": "Sfratto eseguito, tre persone.", **data},
    )


def the_placement() -> Placement:
    placement = _db.session.scalar(select(Placement).order_by(Placement.id.desc()))
    assert placement is not None
    return placement


def step(client: FlaskClient, placement: Placement, name: str, **data: Any) -> Any:
    return post(client, f"/housing/placements/{placement.id}/{name}", data)


# The board -----------------------------------------------------------------------------------


def test_board_filters_and_totals_per_circoscrizione(world):
    make_unit(world.provider_org, capacity=6, vacancies=0, name="Casa Piena", circoscrizione=6)
    make_unit(
        world.provider_org, capacity=2, vacancies=2, name="Dormitorio Nord",
        kind="night_shelter_bed", circoscrizione=5, accessible=True, target_groups=["single_men"],
    )  # fmt: skip
    make_unit(world.provider_org, capacity=9, vacancies=9, name="Casa Chiusa", active=False)
    _db.session.commit()
    browser = world.browser(world.coordinator)

    board = text(browser.get("/housing/"))
    for name in ("Casa Aurora", "Casa Lesna", "Casa Piena", "Dormitorio Nord"):
        assert name in board
    assert "Casa Chiusa" not in board  # an inactive unit is not on offer
    city = re.search(r'<tr id="total-city">(.*?)</tr>', board, re.S).group(1)
    assert re.findall(r">(\d+)<", city) == ["4", "15", "5", "0"]  # units, capacity, free, stale
    six = re.search(r'<tr id="total-6">(.*?)</tr>', board, re.S).group(1)
    assert re.findall(r">(\d+)<", six) == ["2", "10", "2", "0"]

    district = text(browser.get("/housing/?circ=6"))
    assert "Casa Aurora" in district
    assert "Casa Piena" in district
    assert "Casa Lesna" not in district
    assert "Dormitorio Nord" not in district
    assert 'id="total-3"' not in district

    free_now = text(browser.get("/housing/?circ=6&liberi=1"))
    assert "Casa Aurora" in free_now
    assert "Casa Piena" not in free_now

    shelter = text(browser.get("/housing/?tipo=night_shelter_bed&accessibile=1&gruppo=single_men"))
    assert "Dormitorio Nord" in shelter
    assert "Casa Aurora" not in shelter
    city = re.search(r'<tr id="total-city">(.*?)</tr>', shelter, re.S).group(1)
    assert re.findall(r">(\d+)<", city) == ["1", "2", "2", "0"]

    by_kind = text(browser.get("/housing/?raggruppa=tipo"))
    assert 'id="group-night_shelter_bed"' in by_kind
    assert 'id="group-temporary_flat"' in by_kind


def test_board_shows_last_update_and_marks_stale_units_in_words(world):
    world.unit.vacancies_updated_at = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    world.other_unit.vacancies_updated_at = utcnow() - timedelta(days=2)
    _db.session.commit()
    board = text(world.browser(world.operator).get("/housing/"))
    stale_row = row_of(board, world.unit)
    assert "05/01/2026 10:30" in stale_row  # Europe/Rome, dd/mm/yyyy HH:MM
    assert "non aggiornato da più di 7 giorni" in stale_row
    assert "non aggiornato" not in row_of(board, world.other_unit)
    city = re.search(r'<tr id="total-city">(.*?)</tr>', board, re.S).group(1)
    assert re.findall(r">(\d+)<", city)[-1] == "1"


def test_board_refreshes_itself_keeping_the_filters_and_the_address(world):
    browser = world.browser(world.coordinator)
    page = text(browser.get("/housing/?circ=3"))
    live = re.search(r'<div id="board-live"[^>]*>', page).group(0)
    assert 'hx-trigger="every 30s"' in live
    assert 'hx-include="#board-filters"' in live  # the filters as they are now
    assert 'hx-swap="innerMorph"' in live  # scroll, focus and typing survive the refresh
    assert "hx-push-url" not in live
    assert '<form id="board-filters"' in page

    refresh = browser.get("/housing/?circ=3", headers=TIMED_REFRESH)
    body = text(refresh)
    assert refresh.status_code == 200
    assert "<html" not in body
    assert 'id="board-live"' not in body
    assert "Casa Lesna" in body
    assert "Casa Aurora" not in body
    assert "HX-Push-Url" not in refresh.headers  # the address bar is left alone

    filtered = browser.get("/housing/?circ=6&liberi=1&raggruppa=circ", headers=HTMX)
    assert filtered.headers["HX-Push-Url"] == "/housing/?liberi=1&circ=6"
    assert "Casa Aurora" in text(filtered)


def test_board_has_no_personal_data_and_prints_without_controls(world):
    propose(world)
    board = text(world.browser(world.provider).get("/housing/"))
    assert "Benali" not in board
    assert "Amina" not in board
    assert 'id="board-filters"' in board
    assert "d-print-none" in board
    controls = re.search(r'<div class="vacancy-controls[^"]*"', board).group(0)
    assert "d-print-none" in controls


def test_admin_has_no_board(world):
    admin = factories.user("admin")
    assert world.browser(admin).get("/housing/").status_code == 403


# A provider's free places --------------------------------------------------------------------


def test_provider_updates_free_places_in_place_and_the_board_follows(world):
    browser = world.browser(world.provider)
    board = text(browser.get("/housing/"))
    assert 'name="delta" value="1"' in row_of(board, world.unit)
    assert 'name="delta"' not in row_of(board, world.other_unit)  # not theirs: no controls

    url = f"/housing/units/{world.unit.id}/vacancies"
    plus = post(browser, url, {"version": "1", "delta": "1"}, HTMX)
    assert plus.status_code == 200
    assert text(plus).lstrip().startswith(f'<tr id="unit-{world.unit.id}"')
    assert free_places(text(plus), world.unit) == 3
    assert "Posti liberi aggiornati: 3." in text(plus)
    version = current(world.unit).version

    minus = post(browser, url, {"version": str(version), "delta": "-1"}, HTMX)
    assert free_places(text(minus), world.unit) == 2
    typed = post(
        browser, url, {"version": str(current(world.unit).version), "vacancies": "4"}, HTMX
    )
    assert free_places(text(typed), world.unit) == 4
    assert current(world.unit).vacancies == 4
    assert actions("housing_unit").count("vacancies_changed") == 3

    seen_by_city = text(world.browser(world.coordinator).get("/housing/", headers=TIMED_REFRESH))
    assert free_places(seen_by_city, world.unit) == 4


def test_confirming_free_places_clears_the_stale_mark(world):
    world.unit.vacancies_updated_at = utcnow() - timedelta(days=10)
    _db.session.commit()
    browser = world.browser(world.provider)
    assert "non aggiornato" in row_of(text(browser.get("/housing/")), world.unit)
    answer = post(
        browser,
        f"/housing/units/{world.unit.id}/vacancies",
        {"version": str(world.unit.version), "confirm": "1"},
        HTMX,
    )
    assert answer.status_code == 200
    assert "non aggiornato" not in text(answer)
    assert "Posti liberi confermati: 2." in text(answer)
    assert current(world.unit).vacancies == 2
    assert current(world.unit).vacancies_updated_at > utcnow() - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"vacancies": "-1"}, 422, "non possono essere meno di zero"),
        ({"vacancies": "5"}, 422, "non possono superare la capienza dell'alloggio (4)"),
        ({"vacancies": "tre"}, 422, "Scrivi il numero di posti liberi"),
        ({"vacancies": "9" * 40}, 422, "Scrivi il numero di posti liberi"),
        ({"delta": "7"}, 422, "Scrivi il numero di posti liberi"),
        ({"vacancies": "3", "version": "0"}, 409, "Nel frattempo qualcun altro"),
        ({"delta": "1", "version": ""}, 409, "Nel frattempo qualcun altro"),
    ],
)
def test_bad_free_places_are_refused_next_to_the_row_and_nothing_changes(
    world, data, status, message
):
    browser = world.browser(world.provider)
    before = current(world.unit).vacancies_updated_at
    answer = post(
        browser, f"/housing/units/{world.unit.id}/vacancies", {"version": "1", **data}, HTMX
    )
    body = text(answer)
    assert answer.status_code == status
    assert message in body
    assert body.lstrip().startswith(f'<tr id="unit-{world.unit.id}"')  # the row, with the message
    assert 'role="alert"' in row_of(body, world.unit)
    unit = current(world.unit)
    assert (unit.vacancies, unit.version, unit.vacancies_updated_at) == (2, 1, before)
    assert "vacancies_changed" not in actions()


def test_two_providers_one_unit_the_second_is_told_the_current_value(world):
    colleague = factories.user("housing_provider", world.provider_org)
    first, second = world.browser(world.provider), world.browser(colleague)
    url = f"/housing/units/{world.unit.id}/vacancies"
    assert post(first, url, {"version": "1", "delta": "-1"}, HTMX).status_code == 200
    late = post(second, url, {"version": "1", "vacancies": "4"}, HTMX)
    assert late.status_code == 409
    assert "ora i posti liberi sono 1 su 4" in text(late)
    assert free_places(text(late), world.unit) == 1  # the row shows what is on file now
    assert 'name="version" value="2"' in text(late)  # ready to retry
    assert current(world.unit).vacancies == 1


def test_without_htmx_the_update_goes_back_to_the_unit_page(world):
    browser = world.browser(world.provider)
    url = f"/housing/units/{world.unit.id}/vacancies"
    done = post(browser, url, {"version": "1", "delta": "-1", "back": "unit"})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/housing/units/{world.unit.id}")
    refused = post(browser, url, {"version": "2", "vacancies": "-3", "back": "unit"})
    assert refused.status_code == 422
    assert "non possono essere meno di zero" in text(refused)
    assert 'value="-3"' in text(refused)  # what was typed stays
    assert current(world.unit).vacancies == 1


def test_a_provider_cannot_touch_another_providers_unit(world):
    browser = world.browser(world.other_provider)
    assert (
        post(
            browser,
            f"/housing/units/{world.unit.id}/vacancies",
            {"version": "1", "delta": "1"},
            HTMX,
        ).status_code
        == 404
    )
    assert browser.get(f"/housing/units/{world.unit.id}/edit").status_code == 404
    assert (
        post(
            browser, f"/housing/units/{world.unit.id}/edit", {"name": "Mia", "version": "1"}
        ).status_code
        == 404
    )
    unit = current(world.unit)
    assert (unit.vacancies, unit.name, unit.version) == (2, "Casa Aurora", 1)
    # They still see it on the board, without controls.
    assert browser.get(f"/housing/units/{world.unit.id}").status_code == 200


def test_provider_registers_a_unit(world):
    browser = world.browser(world.provider)
    form = {
        "name": "Casa Vanchiglia",
        "kind": "co_housing",
        "address": "Via Buniva 8",
        "circoscrizione": "7",
        "capacity": "5",
        "vacancies": "3",
        "target_groups": ["young_people", "single_women"],
        "accessible": "y",
        "max_stay_days": "180",
        "monthly_cost": "1.250,50",
    }
    too_many = post(browser, "/housing/units/new", {**form, "vacancies": "6"})
    assert too_many.status_code == 422
    assert "non possono superare la capienza" in text(too_many)
    assert 'value="Casa Vanchiglia"' in text(too_many)
    created = post(browser, "/housing/units/new", form)
    assert created.status_code == 303
    unit = _db.session.scalar(select(HousingUnit).where(HousingUnit.name == "Casa Vanchiglia"))
    assert unit.provider_id == world.provider_org.id
    assert (unit.capacity, unit.vacancies, unit.monthly_cost) == (5, 3, Decimal("1250.50"))
    assert "housing_unit_created" in actions("housing_unit")
    page = text(browser.get(created.headers["Location"]))
    assert "€ 1.250,50" in page
    assert "giovani 18-29" in page


def test_editing_a_unit_changed_meanwhile_shows_the_current_values_and_keeps_the_input(world):
    browser = world.browser(world.provider)
    form = text(browser.get(f"/housing/units/{world.unit.id}/edit"))
    assert re.search(r'name="version" type="hidden" value="1"', form)
    # Meanwhile a colleague takes a place from the board.
    colleague = world.browser(factories.user("housing_provider", world.provider_org))
    post(colleague, f"/housing/units/{world.unit.id}/vacancies", {"version": "1", "delta": "-1"})
    data = {
        "name": "Casa Aurora rinnovata",
        "kind": "temporary_flat",
        "address": "Via Aurora 1",
        "circoscrizione": "6",
        "capacity": "4",
        "target_groups": ["families"],
        "active": "y",
        "version": "1",
    }
    late = post(browser, f"/housing/units/{world.unit.id}/edit", data)
    body = text(late)
    assert late.status_code == 409
    assert "ora i posti liberi sono 1 su 4" in body
    assert 'value="Casa Aurora rinnovata"' in body  # the input is kept
    assert re.search(r'id="version-conflict".*Casa Aurora<', body, re.S)  # what is on file
    assert current(world.unit).name == "Casa Aurora"
    assert re.search(r'name="version" type="hidden" value="2"', body)  # ready to retry
    retry = post(browser, f"/housing/units/{world.unit.id}/edit", {**data, "version": "2"})
    assert retry.status_code == 303
    assert current(world.unit).name == "Casa Aurora rinnovata"
    assert "housing_unit_updated" in actions("housing_unit")


def test_capacity_below_the_free_places_is_refused(world):
    browser = world.browser(world.provider)
    data = {
        "name": "Casa Aurora", "kind": "temporary_flat", "address": "Via Aurora 1",
        "circoscrizione": "6", "capacity": "1", "active": "y", "version": "1",
    }  # fmt: skip
    refused = post(browser, f"/housing/units/{world.unit.id}/edit", data)
    assert refused.status_code == 422
    assert "non può essere inferiore ai posti liberi (2)" in text(refused)
    assert current(world.unit).capacity == 4


# Placements ----------------------------------------------------------------------------------


def test_a_proposal_reserves_a_place_and_a_decline_frees_it_for_good(world):
    board = world.browser(world.coordinator)
    assert free_places(text(board.get("/housing/")), world.unit) == 2
    proposed = propose(world)
    assert proposed.status_code == 303, text(proposed)[:2000]
    placement = the_placement()
    assert proposed.headers["Location"].endswith(f"/housing/placements/{placement.id}")
    assert free_places(text(board.get("/housing/", headers=TIMED_REFRESH)), world.unit) == 1

    assert step(board, placement, "approve").status_code == 303
    provider = world.browser(world.provider)
    declined = step(provider, placement, "decline", reason_code="household_size")
    assert declined.status_code == 303
    assert free_places(text(board.get("/housing/")), world.unit) == 2

    operator = world.browser(world.operator)
    offer = text(operator.get(f"/housing/placements/new?household={world.household.id}"))
    assert "Casa Lesna" in offer
    assert f'id="unit-choice-{world.unit.id}"' not in offer  # never proposed again automatically
    again = propose(world)
    assert again.status_code == 422
    assert "ha già rifiutato questo alloggio" in text(again)
    assert count(Placement) == 1

    city_offer = text(
        board.get(f"/housing/placements/new?household={world.household.id}&riproponi=1")
    )
    assert f'id="unit-choice-{world.unit.id}"' in city_offer
    assert "già rifiutato dal gestore per questo nucleo" in city_offer
    forced = post(
        board,
        f"/housing/placements/new?household={world.household.id}",
        {"unit_id": str(world.unit.id), "motivation": "Nucleo ridotto a due.", "riproponi": "1"},
    )
    assert forced.status_code == 303
    assert current(world.unit).vacancies == 1


def test_the_offer_is_filtered_and_lists_only_units_with_free_places(world):
    full = make_unit(world.provider_org, vacancies=0, name="Casa Piena")
    make_unit(world.provider_org, name="Dormitorio Est", kind="night_shelter_bed")
    _db.session.commit()
    operator = world.browser(world.operator)
    url = f"/housing/placements/new?household={world.household.id}"
    offer = text(operator.get(url))
    assert "Casa Aurora" in offer
    assert "Dormitorio Est" in offer
    assert f'id="unit-choice-{full.id}"' not in offer
    shelters = operator.get(url + "&tipo=night_shelter_bed", headers=HTMX)
    assert "<html" not in text(shelters)
    assert "Dormitorio Est" in text(shelters)
    assert "Casa Aurora" not in text(shelters)
    assert 'name="tipo" value="night_shelter_bed"' in text(shelters)  # travels with the proposal


def test_a_proposal_into_a_full_unit_is_refused(world):
    full = make_unit(world.provider_org, capacity=2, vacancies=0, name="Casa Piena")
    _db.session.commit()
    refused = propose(world, full)
    assert refused.status_code == 422
    assert "non ha posti liberi" in text(refused)
    assert "Sfratto eseguito, tre persone." in text(refused)  # the motivation stays
    assert count(Placement) == 0
    assert current(full).vacancies == 0


def test_a_proposal_needs_a_motivation_and_a_unit(world):
    operator = world.browser(world.operator)
    url = f"/housing/placements/new?household={world.household.id}"
    empty = post(operator, url, {"unit_id": "", "motivation": ""})
    assert empty.status_code == 422
    assert "Scegli un alloggio" in text(empty)
    assert "Scrivi perché" in text(empty)
    assert count(Placement) == 0
    assert current(world.unit).vacancies == 2


def test_move_in_before_approval_is_refused(world):
    propose(world)
    placement = the_placement()
    provider = world.browser(world.provider)
    refused = step(provider, placement, "move_in", on=today().isoformat())
    assert refused.status_code == 409
    assert "ora non si può registrare l'ingresso" in text(refused)
    placement = _db.session.get(Placement, placement.id, populate_existing=True)
    assert placement.status == "proposed"
    assert placement.moved_in_on is None
    assert current(world.unit).vacancies == 1


def test_the_provider_sees_only_initials_and_size_until_the_city_approves(world):
    propose(world)
    placement = the_placement()
    provider = world.browser(world.provider)
    before = text(provider.get(f"/housing/placements/{placement.id}"))
    assert '<dd class="col-sm-7" id="household-initials">A. B.</dd>' in before
    assert 'Persone nel nucleo</dt><dd class="col-sm-7">1</dd>' in before
    assert "Benali" not in before
    assert "Amina" not in before
    assert "Sfratto eseguito" not in before  # not even the motivation
    listed = text(provider.get("/housing/placements/"))
    assert "A. B." in listed
    assert "Benali" not in listed

    step(world.browser(world.coordinator), placement, "approve")
    after = text(provider.get(f"/housing/placements/{placement.id}"))
    assert "Benali Amina" in after
    assert "Sfratto eseguito, tre persone." in after
    assert "anni" in after  # members' ages
    for person in world.household.members:
        assert person.codice_fiscale not in after
    assert f'href="/households/{world.household.id}"' not in after  # no household page for them


def provider_pages(world: World, placement: Placement) -> dict[str, str]:
    """Every page, fragment and export where a housing provider meets its placements."""
    provider = world.browser(world.provider)
    htmx = {"HX-Request": "true", "HX-Request-Type": "partial"}
    paths = {
        "page": f"/housing/placements/{placement.id}",
        "list": "/housing/placements/",
        "list fragment": "/housing/placements/?stato=" + placement.status,
        "unit": f"/housing/units/{placement.unit_id}",
        "csv": "/housing/placements/export.csv",
        "follow-ups": "/housing/follow-ups",
        "home": "/",
    }
    return {
        name: text(provider.get(path, headers=htmx if "fragment" in name else None))
        for name, path in paths.items()
    }


@pytest.mark.parametrize(
    ("who", "name", "reason"),
    [("operator", "cancel", "other"), ("coordinator", "reject", "other")],
)
def test_the_provider_reads_no_note_of_a_placement_never_approved_for_it(world, who, name, reason):
    """Issue #18, item 11: a proposal cancelled (or rejected by the City) with a free-text note
    showed the note beside "initials only"."""
    propose(world, motivation="Dimessa dal reparto, in cura al SerD di zona.")
    placement = the_placement()
    note = "La signora è in cura al SerD e preferisce restare vicino al servizio."
    answer = step(
        world.browser(getattr(world, who)), placement, name, reason_code=reason, note=note
    )
    assert answer.status_code == 303
    _db.session.expire_all()
    assert the_placement().reason_note == note
    for where, body in provider_pages(world, the_placement()).items():
        assert "SerD" not in body, where
        assert "Benali" not in body, where
    page = text(world.browser(world.provider).get(f"/housing/placements/{placement.id}"))
    assert "altro motivo" in page  # the coded reason, without the words
    # Those who wrote it, or know the household, still read it.
    assert note in text(world.browser(world.operator).get(f"/housing/placements/{placement.id}"))
    city = world.browser(world.coordinator)
    assert note in text(city.get(f"/housing/placements/{placement.id}"))


def test_the_provider_reads_its_own_decline_note(world):
    propose(world)
    placement = the_placement()
    step(world.browser(world.coordinator), placement, "approve")
    provider = world.browser(world.provider)
    note = "Il nucleo chiede un alloggio al piano terra."
    assert step(provider, placement, "decline", reason_code="other", note=note).status_code == 303
    page = text(provider.get(f"/housing/placements/{placement.id}"))
    assert note in page
    assert "Benali" not in page  # no longer involved: initials only again


def test_free_places_follow_every_step_and_every_step_is_audited(world):
    city, provider = world.browser(world.coordinator), world.browser(world.provider)
    propose(world)
    placement = the_placement()
    page = f"/housing/placements/{placement.id}"

    def shown() -> int:
        body = text(city.get(page))
        return int(re.search(r'id="unit-free-places">.*?<strong>(\d+)</strong>', body, re.S)[1])

    assert shown() == 1
    assert step(city, placement, "approve").status_code == 303
    assert shown() == 1
    assert step(provider, placement, "accept").status_code == 303
    assert shown() == 1
    moved = step(provider, placement, "move_in", on=today().isoformat())
    assert moved.status_code == 303
    assert shown() == 1
    assert count(WellbeingCheck) == 1
    ended = step(provider, placement, "end", on=today().isoformat(), reason_code="own_home")
    assert ended.status_code == 303
    assert shown() == 2
    trail = actions("placement")
    for action in (
        "placement_proposed", "placement_approved", "placement_accepted", "placement_active",
        "placement_ended", "placement_viewed",
    ):  # fmt: skip
        assert action in trail
    history = text(city.get(page))
    assert "posti liberi dopo questo passaggio: 2" in history
    assert "casa propria" in history


def test_a_step_with_a_missing_reason_keeps_the_input_and_changes_nothing(world):
    propose(world)
    placement = the_placement()
    city = world.browser(world.coordinator)
    refused = step(city, placement, "reject", reason_code="other", note="")
    assert refused.status_code == 422
    assert "Descrivi il motivo nella nota." in text(refused)
    assert '<details class="placement-step" open>' in text(refused)
    assert the_placement().status == "proposed"
    assert step(city, placement, "fly").status_code == 404


def test_opening_a_placement_reads_its_notifications(world):
    propose(world)
    placement = the_placement()
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == world.coordinator.id, Notification.read_at.is_(None))
    )
    assert _db.session.scalar(unread) == 1
    world.browser(world.coordinator).get(f"/housing/placements/{placement.id}")
    assert _db.session.scalar(unread) == 0


def test_an_operator_guessing_another_organizations_ids_gets_404(world):
    propose(world)
    placement = the_placement()
    case = HousingRiskCase(
        household_id=world.household.id, organization_id=world.hub.id, kind="other", status="open"
    )
    _db.session.add(case)
    _db.session.commit()
    stranger = world.browser(factories.user("entity_operator"))
    assert stranger.get(f"/housing/placements/{placement.id}").status_code == 404
    assert step(stranger, placement, "cancel", reason_code="error").status_code == 404
    assert stranger.get(f"/housing/risk-cases/{case.id}").status_code == 404
    assert (
        post(stranger, f"/housing/risk-cases/{case.id}/edit", {"kind": "other"}).status_code == 404
    )
    assert (
        stranger.get(f"/housing/placements/new?household={world.household.id}").status_code == 404
    )
    assert "Benali" not in text(stranger.get("/housing/placements/"))
    assert "Benali" not in text(stranger.get("/housing/risk-cases"))
    assert the_placement().status == "proposed"


# Follow-ups ----------------------------------------------------------------------------------


def active_placement(world: World, moved_in: date) -> Placement:
    city, provider = world.browser(world.coordinator), world.browser(world.provider)
    propose(world)
    placement = the_placement()
    placement.created_at = utcnow() - timedelta(days=120)  # proposed before `moved_in`
    _db.session.commit()
    step(city, placement, "approve")
    step(provider, placement, "accept")
    step(provider, placement, "move_in", on=moved_in.isoformat())
    return _db.session.get(Placement, placement.id, populate_existing=True)


def test_overdue_follow_ups_are_flagged_first(world):
    late = active_placement(world, today() - timedelta(days=33))  # due 3 days ago
    household = factories.household(world.hub, members=1)
    soon_unit = make_unit(world.provider_org, name="Casa Presto")
    _db.session.commit()
    soon = Placement(
        household_id=household.id, unit_id=soon_unit.id, provider_id=world.provider_org.id,
        status="active", moved_in_on=today() - timedelta(days=25),
    )  # fmt: skip
    _db.session.add(soon)
    _db.session.flush()
    _db.session.add(WellbeingCheck(placement_id=soon.id, due_on=today() + timedelta(days=5)))
    _db.session.commit()

    for user in (world.operator, world.coordinator, world.provider):
        page = text(world.browser(user).get("/housing/follow-ups"))
        assert "1 verifica in ritardo" in page
        first, second = re.findall(r"<tr class=\"([^\"]*)\">", page)[:2]
        assert "follow-up-overdue" in first
        assert "follow-up-overdue" not in second
        assert "in ritardo</span> da 3 giorni" in page
        assert f"/housing/placements/{late.id}" in page
        assert "in scadenza" in page
    outsider = world.browser(factories.user("entity_operator"))
    assert "Nessuna verifica" in text(outsider.get("/housing/follow-ups"))


def test_recording_a_check_schedules_the_next(world):
    placement = active_placement(world, today() - timedelta(days=33))
    check = placement.checks[0]
    provider = world.browser(world.provider)
    future = post(
        provider,
        f"/housing/placements/{placement.id}/checks/{check.id}",
        {"done_on": (today() + timedelta(days=1)).isoformat(), "wellbeing": "good"},
    )
    assert future.status_code == 422
    assert "non può essere nel futuro" in text(future)
    done = post(
        provider,
        f"/housing/placements/{placement.id}/checks/{check.id}",
        {"done_on": today().isoformat(), "wellbeing": "some_difficulties", "notes": "Affitto"},
    )
    assert done.status_code == 303
    checks = _db.session.scalars(select(WellbeingCheck).order_by(WellbeingCheck.due_on)).all()
    assert [c.wellbeing for c in checks] == ["some_difficulties", None]
    assert checks[1].due_on == today() + timedelta(days=30)
    assert "wellbeing_check_recorded" in actions("placement")
    twice = post(
        provider,
        f"/housing/placements/{placement.id}/checks/{check.id}",
        {"done_on": today().isoformat(), "wellbeing": "good"},
    )
    assert twice.status_code == 409
    assert "già stata registrata" in text(twice)
    page = text(world.browser(world.operator).get("/housing/follow-ups"))
    assert "0 verifiche in ritardo" in page


# Eviction prevention -------------------------------------------------------------------------


def test_an_operator_opens_follows_and_closes_an_eviction_case(world):
    operator = world.browser(world.operator)
    url = f"/housing/risk-cases/new?household={world.household.id}"
    data = {
        "kind": "eviction_notice",
        "arrears_amount": "3.250,40",
        "notice_on": (today() - timedelta(days=20)).isoformat(),
        "hearing_on": (today() + timedelta(days=12)).isoformat(),
        "actions": ["mediation", "legal_aid"],
    }
    negative = post(operator, url, {**data, "arrears_amount": "-5,00"})
    assert negative.status_code == 422
    assert "L'importo non può essere negativo." in text(negative)
    assert 'value="-5,00"' in text(negative)  # what was typed stays, to correct it
    wrong = post(operator, url, {**data, "execution_on": today().isoformat()})
    assert wrong.status_code == 422
    assert "L'esecuzione non può precedere l'udienza." in text(wrong)
    opened = post(operator, url, data)
    assert opened.status_code == 303
    case = _db.session.scalar(select(HousingRiskCase))
    assert case.arrears_amount == Decimal("3250.40")
    page = text(operator.get(opened.headers["Location"]))
    assert "€ 3.250,40" in page
    assert "assistenza legale" in page
    assert actions("housing_risk_case") == ["risk_case_opened", "risk_case_viewed"]

    edited = post(operator, f"/housing/risk-cases/{case.id}/edit", {**data, "arrears_amount": "0"})
    assert edited.status_code == 303
    closed = post(
        operator,
        f"/housing/risk-cases/{case.id}/close",
        {"outcome": "arrears_covered", "closed_on": today().isoformat()},
    )
    assert closed.status_code == 303
    case = _db.session.get(HousingRiskCase, case.id, populate_existing=True)
    assert (case.status, case.outcome, case.arrears_amount) == ("closed", "arrears_covered", 0)
    assert actions("housing_risk_case")[-2:] == ["risk_case_updated", "risk_case_closed"]
    assert "morosità sanata" in text(operator.get(f"/housing/risk-cases/{case.id}"))


def test_upcoming_hearings_and_executions_are_listed_by_date(world):
    def case(**dates: Any) -> HousingRiskCase:
        household = factories.household(world.hub, members=1)
        made = HousingRiskCase(
            household_id=household.id, organization_id=world.hub.id, kind="eviction_notice",
            status=dates.pop("status", "open"), outcome=dates.pop("outcome", None), **dates,
        )  # fmt: skip
        _db.session.add(made)
        _db.session.flush()
        return made

    hearing = case(hearing_on=today() + timedelta(days=10))
    execution = case(execution_on=today() + timedelta(days=4))
    far = case(hearing_on=today() + timedelta(days=45))
    closed = case(hearing_on=today() + timedelta(days=2), status="closed", outcome="agreement")
    _db.session.commit()
    page = text(world.browser(world.operator).get("/housing/risk-cases"))
    section = page.split('id="deadlines-title"')[1].split("</section>")[0]
    listed = [int(n) for n in re.findall(r"caso n\. (\d+)", section)]
    assert listed == [execution.id, hearing.id]
    assert far.id not in listed
    assert closed.id not in listed
    assert "esecuzione dello sfratto" in section
    assert "udienza" in section
    assert (today() + timedelta(days=4)).strftime("%d/%m/%Y") in section


def test_housing_providers_have_no_eviction_cases(world):
    assert world.browser(world.provider).get("/housing/risk-cases").status_code == 403


# The board's refresh answered 304 when nothing changed (#21) -----------------------------------

REFRESH = {"HX-Request": "true", "HX-Target": "board-live", "HX-Source": "div#board-live"}


@pytest.fixture
def board(app: Flask, db: object, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A provider's unit and a coordinator, at a fixed minute (the board shows the minute)."""
    from app.housing.views import board as board_views

    at = datetime(2026, 12, 8, 10, 30, 15, tzinfo=UTC)
    monkeypatch.setattr(board_views, "utcnow", lambda: at)
    provider = provider_org()
    unit = make_unit(provider, capacity=4, vacancies=2, name="Casa Etag")
    coordinator = factories.user(role="coordinator")
    operator = factories.user(role="housing_provider", organization=provider)
    _db.session.commit()
    return unit, coordinator, operator


def test_an_unchanged_board_is_answered_not_modified(app: Flask, board: Any) -> None:
    unit, coordinator, _operator = board
    client = signed_in(app, coordinator)
    first = client.get("/housing/", headers=REFRESH)
    assert first.status_code == 200
    assert "Casa Etag" in text(first)
    assert first.headers["Cache-Control"] == "private, no-cache"
    etag = first.headers["ETag"]

    again = client.get("/housing/", headers={**REFRESH, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""

    unit = current(unit)
    unit.vacancies = 1
    _db.session.commit()
    changed = client.get("/housing/", headers={**REFRESH, "If-None-Match": etag})
    assert changed.status_code == 200
    assert free_places(text(changed), unit) == 1
    assert changed.headers["ETag"] != etag


def test_a_tag_is_for_one_user_one_view_one_minute(
    app: Flask, board: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.housing.views import board as board_views

    _unit, coordinator, operator = board
    theirs = signed_in(app, operator).get("/housing/", headers=REFRESH).headers["ETag"]
    client = signed_in(app, coordinator)
    # Another user's tag (the provider may edit its units; the City may not): drawn afresh.
    assert client.get("/housing/", headers={**REFRESH, "If-None-Match": theirs}).status_code == 200
    mine = client.get("/housing/", headers=REFRESH).headers["ETag"]
    # The whole page under the fragment's tag, or the next minute: drawn afresh.
    page = client.get("/housing/", headers={"If-None-Match": mine})
    assert page.status_code == 200
    assert "<html" in text(page)
    later = datetime(2026, 12, 8, 10, 31, 2, tzinfo=UTC)
    monkeypatch.setattr(board_views, "utcnow", lambda: later)
    assert client.get("/housing/", headers={**REFRESH, "If-None-Match": mine}).status_code == 200


def test_pages_with_personal_data_are_still_never_kept(app: Flask, board: Any) -> None:
    _unit, coordinator, _operator = board
    client = signed_in(app, coordinator)
    for path in ("/households/", "/referrals/", "/housing/placements/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "ETag" not in response.headers, path
