"""The housing board and a placement in a real browser, on the demo data (issue 6, "Done when").

alloggi1 updates the free places of one of its units on the board (+1, then a typed number): the
row changes in place, and a coordinator's board open at the same time in another browser shows
the new value by its own 30-second refresh, with its filters kept. Then ente1 proposes one of its
families for a unit of alloggi1; the City approves; alloggi1, who saw only the initials and the
size until then, accepts; the move-in is recorded. The free places follow every step: one fewer
at the proposal, unchanged afterwards. Two alloggi1 tabs on the same unit: the second update is
refused with the current value and may be retried. axe checks every state (a screenshot when it
finds a violation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask, request_finished
from flask import request as flask_request
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household
from app.housing import operations, queries
from app.housing.models import HousingUnit, Placement
from app.housing.views import initials
from tests.browser.conftest import assert_accessible, login, reading

pytestmark = pytest.mark.browser

REFRESH_MS = 30_000  # the board refreshes itself every 30 seconds
MOTIVATION = "Sfratto eseguito il mese scorso: la famiglia è ospite di parenti in due stanze."


@dataclass(frozen=True)
class Unit:
    id: int
    name: str
    circoscrizione: int
    kind: str
    capacity: int
    vacancies: int


@dataclass(frozen=True)
class Family:
    """ente1's household the demo leaves free for the placement journey."""

    id: int
    name: str  # the household's display name
    reference: str  # the reference person's full name
    initials: str
    size: int


@dataclass(frozen=True)
class Scene:
    board_unit: Unit  # its free places are changed on the board
    stale_unit: Unit  # two tabs change it at once
    placement_unit: Unit  # the family is proposed here
    family: Family


@contextmanager
def another_browser(
    browser: Browser, live_server: str, allowed: tuple[str, ...] = ()
) -> Iterator[Page]:
    """A second, independent browser session (its own cookies), failing on console errors like
    the `page` fixture. `allowed`: HTTP statuses the step expects (e.g. a 409 conflict)."""
    context = browser.new_context(base_url=live_server, locale="it-IT", timezone_id="Europe/Rome")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(msg: object) -> None:
        expected = ("status of 422", *(f"status of {code}" for code in allowed))
        if msg.type == "error" and not any(e in msg.text for e in expected):  # type: ignore[attr-defined]
            errors.append(msg.text)  # type: ignore[attr-defined]

    tab.on("console", on_console)
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"errori JavaScript o CSP nella pagina: {errors}"


def _user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def _unit(unit: HousingUnit) -> Unit:
    return Unit(unit.id, unit.name, unit.circoscrizione, unit.kind, unit.capacity, unit.vacancies)


def _scene() -> Scene:
    alloggi1, ente1 = _user("alloggi1"), _user("ente1")
    family: Household | None = None
    for household in db.session.scalars(
        select(Household)
        .where(Household.organization_id == ente1.organization_id, Household.status == "active")
        .order_by(Household.id)
    ):
        try:
            operations.check_sharing(household)
        except DomainError:
            continue
        placed = db.session.scalar(
            select(Placement.id).where(Placement.household_id == household.id)
        )
        if placed is None:
            family = household
            break
    assert family is not None, "the demo leaves no household of ente1 free for a placement"
    reference = family.reference_person or family.members[0]

    units = list(
        db.session.scalars(
            select(HousingUnit)
            .where(
                HousingUnit.provider_id == alloggi1.organization_id, HousingUnit.active.is_(True)
            )
            .order_by(HousingUnit.id)
        )
    )
    # Room for +1 and then one more typed: the board unit.
    board = next(u for u in units if u.capacity - u.vacancies >= 2)
    stale = next(u for u in units if u.id != board.id and u.vacancies < u.capacity)
    # Free places for the family, nearest first (as the proposal page lists them).
    choices = [
        u
        for u in queries.units_for_proposal(ente1, family, queries.BoardFilters(), False, 100)
        if u.provider_id == alloggi1.organization_id
        and u.id not in (board.id, stale.id)
        and operations.target_mismatch(family, u) is None
    ]
    assert choices, "no unit of alloggi1 with free places for the family"
    return Scene(
        _unit(board),
        _unit(stale),
        _unit(choices[0]),
        Family(
            family.id,
            family.display_name,
            reference.full_name,
            initials(family),
            len(family.members),
        ),
    )


def logout(page: Page) -> None:
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(re.compile(r".*/login.*"))


def flash(page: Page, text: str) -> None:
    expect(page.locator("#messages")).to_contain_text(text)


def focus_is_visible(page: Page) -> bool:
    """The focused element shows a focus ring: Bootstrap Italia's black and white box-shadow for
    keyboard focus, or an outline that is not transparent."""
    return bool(
        page.evaluate(
            """() => {
              const el = document.activeElement;
              if (!el || el === document.body || !el.matches(':focus-visible')) return false;
              const style = getComputedStyle(el);
              const clear = (c) => c === 'transparent' || /rgba\\(.*,\\s*0\\)$/.test(c);
              const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
                && !clear(style.outlineColor);
              const ring = style.boxShadow !== 'none' && /rgb\\(0, 0, 0\\)/.test(style.boxShadow);
              return outline || ring;
            }"""
        )
    )


def free_places(scope: Locator) -> Locator:
    """The number of free places shown in a board row, the unit panel or a placement page."""
    return scope.locator(".free-places strong")


def test_vacancies_and_a_placement_follow_every_step(
    page: Page, browser: Browser, live_server: str, app: Flask
) -> None:
    with reading(app):
        scene = _scene()

    with another_browser(browser, live_server) as city:
        board = _coordinator_watches_the_board(city, scene.board_unit)
        typed = _provider_updates_on_the_board(page, scene.board_unit)
        _the_board_refreshes_itself(city, board, scene.board_unit, typed)

    _two_tabs_on_the_same_unit(browser, live_server, scene.stale_unit)

    placement_id = _ente1_proposes(page, scene)
    _provider_sees_initials_only(page, placement_id, scene)
    _coordinator_approves(page, placement_id, scene)
    _provider_accepts_and_records_the_move_in(page, placement_id, scene)
    with reading(app):
        _every_step_audited_with_the_vacancies(
            placement_id, scene.placement_unit, scene.family.size
        )


# 1. The board: the coordinator watches, alloggi1 updates, the board follows by itself ---------


def _coordinator_watches_the_board(city: Page, unit: Unit) -> Locator:
    # Playwright's clock: time runs as usual, and the board's 30-second refresh can be brought
    # forward instead of waited for.
    city.clock.install()
    login(city, "coordinatore")
    city.wait_for_url("**/")
    city.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Alloggi"
    ).click()
    city.wait_for_url("**/housing/")
    expect(city.get_by_role("heading", level=1)).to_have_text("Bacheca degli alloggi")
    filters = city.get_by_role("search", name="Filtri della bacheca")
    filters.get_by_label("Circoscrizione").select_option(str(unit.circoscrizione))
    city.wait_for_url(re.compile(rf".*/housing/\?circ={unit.circoscrizione}$"))
    filters.get_by_label("Tipologia").select_option(unit.kind)
    city.wait_for_url(re.compile(rf".*/housing/\?.*tipo={unit.kind}"))
    row = city.locator(f"#unit-{unit.id}")
    expect(free_places(row)).to_have_text(str(unit.vacancies))
    groups = city.locator("section.board-group h2")
    expect(groups).to_have_count(1)
    expect(groups.first).to_contain_text(f"Circoscrizione {unit.circoscrizione}")
    # No controls for the City: only the provider changes its places.
    expect(row.get_by_role("button")).to_have_count(0)
    assert_accessible(city, "housing-board-coordinator-filtered")
    city.evaluate("window.__sameDocument = true")
    return row


def _provider_updates_on_the_board(page: Page, unit: Unit) -> int:
    login(page, "alloggi1")
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Alloggi"
    ).click()
    page.wait_for_url("**/housing/")
    row = page.locator(f"#unit-{unit.id}")
    expect(free_places(row)).to_have_text(str(unit.vacancies))
    assert_accessible(page, "housing-board-provider")

    # With the keyboard: Enter on +1; the row changes in place and the focus stays on +1.
    page.evaluate("window.__sameDocument = true")
    plus = row.get_by_role("button", name=f"+1 posto libero in «{unit.name}»")
    plus.focus()
    page.keyboard.press("Enter")
    expect(free_places(row)).to_have_text(str(unit.vacancies + 1))
    expect(row.locator(".vacancy-saved")).to_have_text(
        f"Posti liberi aggiornati: {unit.vacancies + 1}."
    )
    expect(page.locator("#messages")).to_have_text(
        f"{unit.name}: Posti liberi aggiornati: {unit.vacancies + 1}."
    )
    expect(row.locator("time")).to_be_visible()
    expect(plus).to_be_focused()
    assert focus_is_visible(page)
    assert page.evaluate("window.__sameDocument") is True
    assert_accessible(page, "housing-board-provider-plus-one")

    # Tab to the number, type, Enter: saved, the focus still in the field.
    typed = unit.vacancies + 2
    field = row.get_by_label(f"Posti liberi in «{unit.name}»")
    expect(field).to_have_value(str(unit.vacancies + 1))
    page.keyboard.press("Tab")
    expect(field).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(typed))
    page.keyboard.press("Enter")
    expect(free_places(row)).to_have_text(str(typed))
    expect(row.locator(".vacancy-saved")).to_have_text(f"Posti liberi aggiornati: {typed}.")
    expect(field).to_be_focused()
    assert focus_is_visible(page)
    assert page.evaluate("window.__sameDocument") is True
    assert_accessible(page, "housing-board-provider-typed")

    # Above capacity: refused next to the field, the typed number kept, nothing changed.
    field = row.get_by_label(f"Posti liberi in «{unit.name}»")
    field.fill(str(unit.capacity + 1))
    row.get_by_role("button", name="Aggiorna", exact=True).click()
    expect(row.get_by_role("alert")).to_have_text(
        f"I posti liberi non possono superare la capienza dell'alloggio ({unit.capacity})."
    )
    expect(field).to_have_value(str(unit.capacity + 1))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        f"I posti liberi non possono superare la capienza dell'alloggio ({unit.capacity})."
    )
    expect(free_places(row)).to_have_text(str(typed))
    assert_accessible(page, "housing-board-provider-above-capacity")
    logout(page)
    return typed


def _the_board_refreshes_itself(city: Page, row: Locator, unit: Unit, typed: int) -> None:
    url = city.url
    city.clock.run_for(REFRESH_MS + 1_000)  # the board's own refresh, nobody reloads the page
    expect(free_places(row)).to_have_text(str(typed))
    assert city.evaluate("window.__sameDocument") is True, "the board was reloaded"
    assert city.url == url
    filters = city.get_by_role("search", name="Filtri della bacheca")
    expect(filters.get_by_label("Circoscrizione")).to_have_value(str(unit.circoscrizione))
    expect(filters.get_by_label("Tipologia")).to_have_value(unit.kind)
    groups = city.locator("section.board-group h2")
    expect(groups).to_have_count(1)
    expect(groups.first).to_contain_text(f"Circoscrizione {unit.circoscrizione}")
    assert_accessible(city, "housing-board-coordinator-refreshed")

    # Nothing changed since: the browser asks with the board's tag and the portal answers 304
    # (Chromium then shows its kept copy, reported as 200); the board stays as it was (#21).
    # Three refreshes, in case one crosses into the next minute.
    answered: list[int] = []

    def record(_sender: object, response: object, **_extra: object) -> None:
        if flask_request.headers.get("HX-Source") == "div#board-live":
            answered.append(response.status_code)  # type: ignore[attr-defined]

    request_finished.connect(record)
    try:
        for _ in range(3):
            with city.expect_response(lambda r: bool(r.request.headers.get("hx-source"))):
                city.clock.run_for(REFRESH_MS + 1_000)
    finally:
        request_finished.disconnect(record)
    assert 304 in answered, answered
    expect(free_places(row)).to_have_text(str(typed))
    assert city.evaluate("window.__sameDocument") is True


# 2. Two tabs of alloggi1 on the same unit: the second is told the current value -------------


def _two_tabs_on_the_same_unit(browser: Browser, live_server: str, unit: Unit) -> None:
    with (
        another_browser(browser, live_server) as first,
        another_browser(browser, live_server, allowed=("409",)) as second,
    ):
        for tab in (first, second):
            login(tab, "alloggi1")
            tab.wait_for_url("**/")
            tab.goto(f"/housing/units/{unit.id}")
            expect(free_places(tab.locator("#vacancy-panel"))).to_have_text(str(unit.vacancies))
        assert_accessible(second, "housing-unit-provider")

        panel = first.locator("#vacancy-panel")
        panel.get_by_role("button", name=f"+1 posto libero in «{unit.name}»").click()
        expect(free_places(panel)).to_have_text(str(unit.vacancies + 1))

        # The second tab still shows the old value and its version: refused, told the news.
        panel = second.locator("#vacancy-panel")
        expect(free_places(panel)).to_have_text(str(unit.vacancies))
        panel.get_by_role("button", name=f"+1 posto libero in «{unit.name}»").click()
        expect(panel.get_by_role("alert")).to_have_text(
            "Nel frattempo qualcun altro ha aggiornato questo alloggio: ora i posti liberi sono "
            f"{unit.vacancies + 1} su {unit.capacity}. Controlla e riprova."
        )
        expect(free_places(panel)).to_have_text(str(unit.vacancies + 1))
        assert_accessible(second, "housing-unit-provider-conflict")

        # Retrying from what is on file now works.
        field = panel.get_by_label(f"Posti liberi in «{unit.name}»")
        expect(field).to_have_value(str(unit.vacancies + 1))
        field.fill(str(unit.vacancies))
        panel.get_by_role("button", name="Aggiorna", exact=True).click()
        expect(free_places(panel)).to_have_text(str(unit.vacancies))
        expect(panel.get_by_role("alert")).to_have_count(0)
        expect(panel.locator(".vacancy-saved")).to_have_text(
            f"Posti liberi aggiornati: {unit.vacancies}."
        )
        expect(second.locator("#messages")).to_have_text(
            f"Posti liberi aggiornati: {unit.vacancies}."
        )
        assert_accessible(second, "housing-unit-provider-retried")


# 3. ente1 proposes the family: one place per person is reserved -------------------------


def _ente1_proposes(page: Page, scene: Scene) -> int:
    unit, family = scene.placement_unit, scene.family
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto(f"/households/{family.id}")
    page.get_by_role("link", name="Proponi un alloggio").click()
    page.wait_for_url(re.compile(rf".*/housing/placements/new\?household={family.id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Proponi un alloggio per il nucleo {family.name}"
    )
    choice = page.locator(f"label[for=unit-choice-{unit.id}]")
    expect(choice).to_contain_text(unit.name)
    expect(choice).to_contain_text(f"{unit.vacancies} post")
    expect(choice).to_contain_text(f"su {unit.capacity}")
    assert_accessible(page, "housing-proposal-new")

    # Without a unit: the message next to the list, the motivation kept.
    page.get_by_label("Motivazione").fill(MOTIVATION)
    page.get_by_role("button", name="Proponi e riserva il posto").click()
    expect(page.locator("#unit_id-error")).to_have_text("Scegli un alloggio tra quelli elencati.")
    expect(page.get_by_label("Motivazione")).to_have_value(MOTIVATION)
    assert_accessible(page, "housing-proposal-without-unit")

    choice = page.locator(f"label[for=unit-choice-{unit.id}]")
    choice.click()
    expect(page.locator(f"#unit-choice-{unit.id}")).to_be_checked()
    page.get_by_role("button", name="Proponi e riserva il posto").click()
    page.wait_for_url(re.compile(r".*/housing/placements/\d+$"))
    placement_id = int(page.url.rsplit("/", 1)[1])
    flash(
        page,
        f"Proposta inviata alla Città: {family.size} posti dell'alloggio «{unit.name}» sono "
        "riservati",
    )
    main = page.locator("main")
    expect(main.locator("p .badge").first).to_have_text(re.compile("propost", re.I))
    expect(free_places(page.locator("#unit-free-places"))).to_have_text(
        str(unit.vacancies - family.size)
    )
    expect(main).to_contain_text(MOTIVATION)
    assert_accessible(page, "housing-placement-proposed")
    logout(page)
    return placement_id


def _provider_sees_initials_only(page: Page, placement_id: int, scene: Scene) -> None:
    family = scene.family
    login(page, "alloggi1")
    page.wait_for_url("**/")
    page.goto("/housing/placements/")
    link = page.get_by_role("link", name=f"n. {placement_id}", exact=True)
    row = page.locator("tr", has=link)
    expect(row).to_contain_text(family.initials)
    expect(row).to_contain_text(f"{family.size} person")
    assert family.reference not in page.locator("main").inner_text()
    assert_accessible(page, "housing-placements-provider-before-approval")
    link.click()
    page.wait_for_url(f"**/housing/placements/{placement_id}")
    expect(page.locator("#household-initials")).to_have_text(family.initials)
    main_text = page.locator("main").inner_text()
    assert family.reference not in main_text
    assert family.name not in main_text
    assert MOTIVATION not in main_text
    expect(page.get_by_role("button", name="Accetta")).to_have_count(0)  # the City first
    expect(free_places(page.locator("#unit-free-places"))).to_have_text(
        str(scene.placement_unit.vacancies - family.size)
    )
    assert_accessible(page, "housing-placement-provider-before-approval")
    logout(page)


def _coordinator_approves(page: Page, placement_id: int, scene: Scene) -> None:
    unit, family = scene.placement_unit, scene.family
    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.goto("/housing/placements/?stato=proposed")
    link = page.get_by_role("link", name=f"n. {placement_id}", exact=True)
    expect(page.locator("tr", has=link)).to_contain_text(scene.family.name)
    assert_accessible(page, "housing-placements-coordinator-proposed")
    link.click()
    page.wait_for_url(f"**/housing/placements/{placement_id}")
    expect(page.locator("main")).to_contain_text(MOTIVATION)
    assert_accessible(page, "housing-placement-coordinator")
    page.get_by_role("button", name="Approva", exact=True).click()
    flash(page, "Inserimento approvato: ora risponde il gestore.")
    expect(free_places(page.locator("#unit-free-places"))).to_have_text(
        str(unit.vacancies - family.size)
    )
    assert_accessible(page, "housing-placement-approved")

    # The board agrees with the placement page.
    page.goto(f"/housing/?circ={unit.circoscrizione}")
    expect(free_places(page.locator(f"#unit-{unit.id}"))).to_have_text(
        str(unit.vacancies - family.size)
    )
    logout(page)


def _provider_accepts_and_records_the_move_in(page: Page, placement_id: int, scene: Scene) -> None:
    unit, family = scene.placement_unit, scene.family
    login(page, "alloggi1")
    page.wait_for_url("**/")
    page.goto(f"/housing/placements/{placement_id}")
    main = page.locator("main")
    expect(main).to_contain_text(family.name)
    expect(main).to_contain_text(MOTIVATION)
    expect(page.locator("#household-initials")).to_have_count(0)
    assert_accessible(page, "housing-placement-provider-after-approval")

    page.get_by_role("button", name="Accetta", exact=True).click()
    flash(page, "Inserimento accettato: registra l'ingresso quando il nucleo arriva.")
    expect(free_places(page.locator("#unit-free-places"))).to_have_text(
        str(unit.vacancies - family.size)
    )
    assert_accessible(page, "housing-placement-accepted")

    page.locator("summary", has_text="Registra l'ingresso").click()
    date_field = page.get_by_label("Data di ingresso")
    expect(date_field).to_be_visible()
    assert_accessible(page, "housing-placement-move-in-form")
    page.locator("details[open] form").get_by_role("button", name="Registra l'ingresso").click()
    flash(page, "Ingresso registrato: l'inserimento è in corso.")
    expect(main.locator("p .badge").first).to_have_text(re.compile("in corso", re.I))
    expect(free_places(page.locator("#unit-free-places"))).to_have_text(
        str(unit.vacancies - family.size)
    )
    assert_accessible(page, "housing-placement-active")

    page.goto(f"/housing/?circ={unit.circoscrizione}")
    expect(free_places(page.locator(f"#unit-{unit.id}"))).to_have_text(
        str(unit.vacancies - family.size)
    )
    assert_accessible(page, "housing-board-after-move-in")


# 4. Every step in the audit, with the free places after it -----------------------------------


def _every_step_audited_with_the_vacancies(placement_id: int, unit: Unit, people: int) -> None:
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "placement", AuditEvent.object_id == placement_id)
        .where(AuditEvent.action != "placement_viewed")
        .order_by(AuditEvent.id)
    ).all()
    users = {u.id: u.username for u in db.session.scalars(select(User))}
    steps = [(e.action, users.get(e.actor_id or 0)) for e in events]
    assert [who for _action, who in steps] == ["ente1", "coordinatore", "alloggi1", "alloggi1"], (
        steps
    )
    assert db.session.get(Placement, placement_id).status == "active"  # type: ignore[union-attr]
    # One place per person, held from the proposal on.
    assert db.session.get(HousingUnit, unit.id).vacancies == unit.vacancies - people  # type: ignore[union-attr]
