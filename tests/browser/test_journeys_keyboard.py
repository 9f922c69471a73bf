"""Every role's journey with the keyboard alone (issue 11), on the demo data.

No mouse: the focus moves only with Tab (Shift+Tab), forms are filled by typing, select fields
change with the arrow keys, buttons and links fire with Enter, checkboxes with Space. `tab_to`
asserts that each control it reaches shows its focus ring. axe (WCAG 2.1 A and AA) runs on every
page and on every state an htmx swap leaves behind: a form with its errors, a filtered list, an
updated row, an empty result. Each journey ends with a screenshot in test-artifacts/.

The mouse versions of these journeys are in the other files of this folder.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app.auth.models import User
from app.clock import today
from app.extensions import db
from app.housing.models import HousingUnit, Placement
from app.projects.models import Project
from app.referrals.models import Referral
from tests.browser.conftest import (
    ARTIFACTS,
    focus_is_visible,
    keyboard_login,
    reading,
    tab_to,
)
from tests.browser.conftest import assert_accessible as axe_and_screenshot
from tests.conftest import _truncate, load_demo
from tests.factories import codice_fiscale

# Each journey on a desktop screen and on a phone (390 px: the menu behind its toggle, which
# `nav_link` opens; tables shown as stacked cards).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("page", [None, 390], indirect=True, ids=["desktop", "390px"]),
]


@pytest.fixture(autouse=True)
def fresh_demo(live_server: str, app: Flask) -> None:
    """Each journey starts from the demo data as a user finds it. The server lives for the whole
    module, so without this the phone run would meet what the desktop run left: a second
    «Benali Amina» (the intake stops on the possible-duplicate warning, 422), the project and the
    placement already decided, the account «marco.neri» already taken."""
    with app.app_context():
        _truncate()
        load_demo()  # the rows of the first seeding, copied (seeding costs seconds each time)
        db.session.remove()


MOTIVATION = "Cerca il primo lavoro: diploma di perito meccanico, parla arabo, francese e italiano."
OUTCOME_NOTE = "Assunto in prova come manutentore, tempo determinato sei mesi."


def press(page: Page, target: Locator, key: str = "Enter", max_tabs: int = 200) -> None:
    """Tab to `target` and press `key` on it."""
    tab_to(page, target, max_tabs)
    page.keyboard.press(key)


def type_into(page: Page, field: Locator, text: str, max_tabs: int = 200) -> None:
    """Tab to a field and type, replacing what it held."""
    tab_to(page, field, max_tabs)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


_DATE_ORDER: dict[str, str] = {}


def date_order(page: Page) -> str:
    """The order of a date field's parts in this browser: Chromium takes it from its own user
    interface language, not from the page (headless Chromium shows mm/dd/yyyy even with
    --lang=it). Found once, by typing into a field on a blank tab."""
    if not _DATE_ORDER:
        probe = page.context.new_page()
        probe.set_content('<input type="date" id="d" aria-label="d">')
        probe.keyboard.press("Tab")  # the only field of the tab
        probe.keyboard.type("02011999")
        value = probe.locator("#d").input_value()
        probe.close()
        _DATE_ORDER["order"] = "%d%m%Y" if value == "1999-01-02" else "%m%d%Y"
    return _DATE_ORDER["order"]


def type_date(page: Page, field: Locator, day: date) -> None:
    """Tab to a date field (it lands on its first part) and type the date."""
    order = date_order(page)
    tab_to(page, field)
    page.keyboard.type(day.strftime(order))
    expect(field).to_have_value(day.isoformat())


def choose(page: Page, field: Locator, label: str | re.Pattern[str]) -> None:
    """Tab to a select field and move to the option `label` with the arrow keys."""
    tab_to(page, field)
    texts = [t.strip() for t in field.locator("option").all_inner_texts()]
    matches = [
        i
        for i, text in enumerate(texts)
        if (label.search(text) if isinstance(label, re.Pattern) else text == label)
    ]
    assert matches, f"no option {label!r} in {texts}"
    current = int(field.evaluate("el => el.selectedIndex"))
    key = "ArrowDown" if matches[0] > current else "ArrowUp"
    for _press in range(abs(matches[0] - current)):
        page.keyboard.press(key)
    expect(field.locator("option:checked")).to_have_text(texts[matches[0]])


def choose_radio(page: Page, group: Locator, target: Locator) -> None:
    """Tab into a radio group (a single tab stop) and walk to `target` with the arrow keys."""
    tab_to(page, group.first)
    for _press in range(group.count()):
        if target.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")  # the first one is focused but not yet checked
    expect(target).to_be_checked()
    assert focus_is_visible(page)


def nav_link(page: Page, name: str) -> Locator:
    """A link of the main menu; on a phone the menu is opened first, with its toggle."""
    nav = page.get_by_role("navigation", name="Navigazione principale")
    toggle = nav.get_by_role("button", name="Menu", exact=True)
    if toggle.is_visible():
        press(page, toggle)
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(nav.locator(".close-menu")).to_be_focused()
    return nav.get_by_role("link", name=name)


def keyboard_logout(page: Page) -> None:
    press(page, page.get_by_role("button", name="Esci"))
    page.wait_for_url(re.compile(r".*/login.*"))


def flash(page: Page, text: str) -> None:
    expect(page.locator("#messages")).to_contain_text(text)


def width_suffix(page: Page) -> str:
    """The phone run's screenshots are kept beside the desktop run's, not over them."""
    size = page.viewport_size
    return f"-{size['width']}" if size and size["width"] < 1000 else ""


def assert_accessible(page: Page, name: str) -> None:
    axe_and_screenshot(page, name + width_suffix(page))


def journey_ends(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"keyboard-{name}{width_suffix(page)}.png"
    page.screenshot(path=str(path), full_page=True)


def expect_error_announced(field: Locator, message: str | re.Pattern[str]) -> None:
    """The field is marked invalid and its description is the error message."""
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        message if isinstance(message, re.Pattern) else re.compile(re.escape(message))
    )


def watch(status: Locator) -> None:
    """Mark the node of a list's count before an htmx update of the list."""
    status.evaluate("el => { el.__watched = true; }")


def expect_announced(status: Locator, text: str | re.Pattern[str]) -> None:
    """The count changed in place, in a status region: screen readers read the new count (a
    region put in by the swap, rather than updated, would be silent)."""
    expect(status).to_contain_text(text)
    expect(status).to_have_attribute("role", "status")
    assert status.evaluate("el => el.__watched === true"), "the count was replaced, not updated"


# 1. ente1 takes a family in charge, records a food basket, refers the young son to a job ------
#    service; the coordinator approves it from the queue; ente2 accepts and closes it ----------


def test_referral_loop_with_the_keyboard_alone(page: Page, app: Flask) -> None:
    with reading(app):
        ente2_org = (
            db.session.scalars(select(User).where(User.username == "ente2")).one().organization.name
        )
    household_id = _ente1_takes_in_charge(page)
    _ente1_records_a_food_basket(page)
    referral_id = _ente1_refers_the_son(page, household_id, ente2_org)
    _coordinator_approves_from_the_queue(page, referral_id)
    _ente2_accepts_and_closes(page, referral_id)
    with reading(app):
        referral = db.session.get(Referral, referral_id)
        assert referral is not None
        assert (referral.status, referral.reason_note) == ("completed", OUTCOME_NOTE)


def _fill_member(page: Page, index: int, first: str, last: str, born: date, sex: str, rel: str):
    type_into(page, page.locator(f"#members-{index}-first_name"), first)
    type_into(page, page.locator(f"#members-{index}-last_name"), last)
    choose(page, page.locator(f"#members-{index}-relation"), rel)
    type_into(
        page, page.locator(f"#members-{index}-codice_fiscale"), codice_fiscale(born, sex[0].upper())
    )
    type_date(page, page.locator(f"#members-{index}-birth_date"), born)
    choose(page, page.locator(f"#members-{index}-sex"), sex)


def _ente1_takes_in_charge(page: Page) -> int:
    keyboard_login(page, "ente1")
    press(page, nav_link(page, "Nuclei familiari"))
    page.wait_for_url("**/households/")
    press(page, page.get_by_role("link", name="Nuova presa in carico"))
    page.wait_for_url("**/households/new")
    assert_accessible(page, "keyboard-household-intake-empty")

    # Sent empty: every message next to its field, announced, and the form can be corrected.
    press(page, page.get_by_role("button", name="Prendi in carico"))
    circ = page.get_by_label("Circoscrizione")
    expect_error_announced(circ, "Scegli la circoscrizione.")
    # The page came back with the cursor on the first wrong field, not at the top.
    expect(page.locator('main [aria-invalid="true"]').first).to_be_focused()
    assert focus_is_visible(page)
    expect_error_announced(page.locator("#members-0-first_name"), "Inserisci il nome.")
    assert_accessible(page, "keyboard-household-intake-errors")

    type_into(page, page.get_by_label("Indirizzo di residenza o domicilio"), "Via Cigna 210")
    choose(page, circ, re.compile(r"^6 "))
    type_into(page, page.get_by_label("Valore ISEE (euro)"), "4.870,00")
    needs = page.get_by_role("group", name="Bisogni")
    for need in ("lavoro", re.compile("^cibo")):
        box = needs.get_by_label(need)
        press(page, box, "Space")
        expect(box).to_be_checked()
    _fill_member(page, 0, "Amina", "Benali", date(1979, 5, 21), "femmina", "persona di riferimento")

    add = page.get_by_role("button", name="Aggiungi un componente")
    press(page, add)
    son = page.locator("#members-1-first_name")
    expect(son).to_be_focused()  # the new row's first field, not the top of the page
    assert focus_is_visible(page)
    expect(page.locator("#members-0-first_name")).to_have_value("Amina")  # nothing typed lost
    _fill_member(page, 1, "Youssef", "Benali", date(2004, 9, 3), "maschio", "figlio/a")
    # A row added by mistake: removed, the focus back on the button that adds one.
    press(page, add)
    expect(page.locator("#members-2-first_name")).to_be_focused()
    press(page, page.get_by_role("button", name="Rimuovi il componente 3"))
    expect(page.locator("#members-2-first_name")).to_have_count(0)
    expect(add).to_be_focused()
    assert focus_is_visible(page)
    expect(page.locator("#members-1-first_name")).to_have_value("Youssef")
    notice = page.get_by_label("Ho consegnato e spiegato l'informativa")
    press(page, notice, "Space")
    expect(notice).to_be_checked()
    type_date(page, page.get_by_label("Data di consegna dell'informativa"), today())
    assert_accessible(page, "keyboard-household-intake-filled")

    press(page, page.get_by_role("button", name="Prendi in carico"))
    page.wait_for_url(re.compile(r".*/households/\d+$"))
    household_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", level=1)).to_have_text("Nucleo Benali Amina")
    expect(page.locator("main")).to_contain_text("giovane 18-29")

    # The family signs its consent for the job services, for the whole network: needed to send
    # a referral (the ledger of issue #24; signed today, expiring in 12 months by default).
    consents = page.locator("#consents")
    press(page, consents.locator("summary", has_text="Registra consenso"))
    form = consents.locator("details[open] form")
    choose(page, form.get_by_label("Finalità"), re.compile("servizi al lavoro"))
    type_date(page, form.get_by_label("Data della firma"), today())
    type_into(page, form.get_by_label(re.compile("^Modulo firmato")), "Prot. 2026/7001")
    press(page, form.get_by_role("button", name="Registra consenso"))
    expect(consents.get_by_role("status")).to_contain_text("Consenso registrato.")
    expect(consents.get_by_text("in vigore", exact=True).first).to_be_visible()
    assert_accessible(page, "keyboard-household-detail")
    return household_id


def _ente1_records_a_food_basket(page: Page) -> None:
    press(page, nav_link(page, "Distribuzioni"))
    page.wait_for_url("**/distributions/")
    finder = page.get_by_label("Cerca il nucleo per codice fiscale o cognome")

    # A name nobody has: the empty result is said, not only shown.
    type_into(page, finder, "Zzyzx")
    results = page.locator("#finder-results")
    expect(results).to_contain_text("Nessun nucleo tra quelli che puoi vedere")
    assert_accessible(page, "keyboard-distribution-finder-empty")

    type_into(page, finder, "Benali")
    choice = page.get_by_role("link", name="Seleziona Benali Amina")
    expect(choice).to_be_visible()
    assert_accessible(page, "keyboard-distribution-finder-found")
    press(page, choice)
    form = page.locator("#distribution-form")
    expect(form).to_contain_text("Benali Amina")
    choose(page, form.get_by_label("Tipo", exact=True), "paniere alimentare")
    press(page, form.get_by_role("button", name="Registra"))
    expect(page.locator("#distribution-form .alert-success")).to_contain_text(
        "paniere alimentare a Benali Amina"
    )
    expect(page.locator("#recent-distributions")).to_contain_text("Benali Amina")
    assert_accessible(page, "keyboard-distribution-recorded")


def _ente1_refers_the_son(page: Page, household_id: int, ente2_org: str) -> int:
    press(page, nav_link(page, "Nuclei familiari"))
    page.wait_for_url("**/households/")
    count = page.locator("#household-count")
    watch(count)
    type_into(page, page.get_by_label("Cerca per nome, cognome o codice fiscale"), "Benali")
    page.wait_for_url(re.compile(r".*cerca="))  # the name travels as a token, never in clear
    assert "Benali" not in page.url
    expect_announced(count, "1 nucleo trovato")
    assert_accessible(page, "keyboard-household-list-searched")
    press(page, page.locator("#household-results").get_by_role("link", name="Benali Amina"))
    page.wait_for_url(f"**/households/{household_id}")

    press(page, page.get_by_role("link", name="Invia a un servizio"))
    page.wait_for_url(re.compile(rf".*/referrals/new\?household={household_id}$"))
    choose(page, page.get_by_label("Persona da inviare al servizio"), re.compile("^Youssef Benali"))
    choose(page, page.get_by_label("Bisogno"), re.compile("lavoro"))
    suggestions = page.locator("#suggestions ol.suggestions > li")
    expect(suggestions.first).to_be_visible()
    assert_accessible(page, "keyboard-referral-suggestions")
    ente2_choice = suggestions.filter(has_text=ente2_org).first
    choose_radio(
        page, page.locator("#suggestions input[type=radio]"), ente2_choice.get_by_role("radio")
    )

    # No motivation: the message is tied to the field, the choice is kept.
    send = page.get_by_role("button", name="Invia alla Città per l’approvazione")
    press(page, send)
    motivation = page.get_by_label("Motivazione")
    expect_error_announced(motivation, "Scrivi la motivazione della segnalazione.")
    expect(
        page.locator("#suggestions ol.suggestions > li")
        .filter(has_text=ente2_org)
        .first.get_by_role("radio")
    ).to_be_checked()
    assert_accessible(page, "keyboard-referral-missing-motivation")

    type_into(page, motivation, MOTIVATION)
    press(page, send)
    page.wait_for_url(re.compile(r".*/referrals/\d+$"))
    referral_id = int(page.url.rsplit("/", 1)[1])
    flash(page, "Segnalazione inviata alla Città per l'approvazione.")
    expect(page.locator("main p .badge").first).to_have_text("in attesa di approvazione")
    assert_accessible(page, "keyboard-referral-submitted")
    journey_ends(page, "ente1-referral-sent")
    keyboard_logout(page)
    return referral_id


def _coordinator_approves_from_the_queue(page: Page, referral_id: int) -> None:
    keyboard_login(page, "coordinatore")
    press(page, page.get_by_role("link", name="Apri la coda delle segnalazioni da approvare"))
    page.wait_for_url(re.compile(r".*/referrals/\?status=submitted$"))
    count = page.locator("#referral-count")
    expect(count).to_contain_text("segnalazioni trovate")
    everywhere = count.inner_text()
    watch(count)

    # Narrow the queue to the family's circoscrizione: the count changes and is announced.
    choose(page, page.get_by_label("Circoscrizione del nucleo"), re.compile(r"^6 "))
    page.wait_for_url(re.compile(r".*circ=6"))
    expect(count).not_to_have_text(everywhere)
    expect_announced(count, re.compile(r"^\d+ segnalazion[ei] trovat[ae]$"))
    row = page.locator(f"#referral-{referral_id}")
    expect(row).to_contain_text("Benali")
    assert_accessible(page, "keyboard-referral-queue-filtered")

    # ente1 chose ente2's service, not the first suggestion: the approval asks why (#24).
    expect(row).to_contain_text("tra i suggerimenti")
    press(page, row.get_by_role("link", name=re.compile("Approva con motivo")))
    page.wait_for_url(f"**/referrals/{referral_id}")
    press(page, page.locator("summary", has_text="Approva…"))
    type_into(page, page.get_by_label(re.compile("Perché approvi")), "Servizio vicino a casa.")
    press(page, page.locator("details.referral-action form").get_by_role("button", name="Approva"))
    page.wait_for_url(f"**/referrals/{referral_id}")
    expect(page.locator("main p .badge").first).to_have_text("approvata, in attesa dell'ente")
    assert_accessible(page, "keyboard-referral-approved-with-reason")
    journey_ends(page, "coordinator-referral-approved")
    keyboard_logout(page)


def _ente2_accepts_and_closes(page: Page, referral_id: int) -> None:
    keyboard_login(page, "ente2")
    incoming = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("Segnalazioni in arrivo"))
    )
    press(page, incoming.get_by_role("link", name=re.compile(rf"^N\. {referral_id} ")))
    page.wait_for_url(f"**/referrals/{referral_id}")
    main = page.locator("main")
    expect(main).to_contain_text("Youssef Benali")
    assert_accessible(page, "keyboard-referral-receiver")

    press(page, page.get_by_role("button", name="Accetta", exact=True))
    flash(page, "Segnalazione accettata.")
    press(page, page.get_by_role("button", name="Avvia il percorso"))
    flash(page, "Percorso avviato.")
    expect(main.locator("p .badge").first).to_have_text("in corso")

    press(page, page.locator("summary", has_text="Chiudi con esito positivo"))
    closing = page.locator("details[open] form")
    choose(page, closing.get_by_label("Esito"), "contratto di lavoro")
    type_into(page, closing.get_by_label("Nota", exact=True), OUTCOME_NOTE)
    assert_accessible(page, "keyboard-referral-closing")
    press(page, closing.get_by_role("button", name="Chiudi con esito positivo"))
    flash(page, "Segnalazione chiusa con esito positivo.")
    expect(main.locator("p .badge").first).to_have_text("conclusa con esito positivo")
    assert_accessible(page, "keyboard-referral-completed")
    journey_ends(page, "ente2-referral-closed")
    keyboard_logout(page)


# 2. alloggi1 updates a vacancy on the board and accepts a placement the City approved ---------


def test_housing_provider_with_the_keyboard_alone(page: Page, app: Flask) -> None:
    with reading(app):
        provider = db.session.scalars(select(User).where(User.username == "alloggi1")).one()
        unit = db.session.scalars(
            select(HousingUnit)
            .where(
                HousingUnit.provider_id == provider.organization_id,
                HousingUnit.active.is_(True),
                HousingUnit.vacancies < HousingUnit.capacity,
            )
            .order_by(HousingUnit.id)
        ).first()
        assert unit is not None, "the demo gives alloggi1 a unit with room for one more place"
        name, circ, capacity, vacancies = (
            unit.name,
            unit.circoscrizione,
            unit.capacity,
            unit.vacancies,
        )
        placement_id = db.session.scalar(
            select(Placement.id)
            .join(HousingUnit, HousingUnit.id == Placement.unit_id)
            .where(
                HousingUnit.provider_id == provider.organization_id,
                Placement.status == "approved",
            )
            .order_by(Placement.id)
        )
        assert placement_id is not None, "the demo has a placement waiting for alloggi1"

    keyboard_login(page, "alloggi1")
    press(page, nav_link(page, "Alloggi"))
    page.wait_for_url("**/housing/")
    filters = page.get_by_role("search", name="Filtri della bacheca")
    count = page.locator("#board-count")
    watch(count)
    choose(page, filters.get_by_label("Circoscrizione"), re.compile(rf"^{circ} "))
    page.wait_for_url(re.compile(rf".*circ={circ}"))
    mine = filters.get_by_label("Solo i miei alloggi (anche non attivi)")
    press(page, mine, "Space")
    page.wait_for_url(re.compile(r".*miei=1"))
    row = page.locator(f"#unit-{unit.id}")
    expect(row.locator(".free-places strong")).to_have_text(str(vacancies))
    with reading(app):
        mine_here = db.session.scalars(
            select(HousingUnit).where(
                HousingUnit.provider_id == provider.organization_id,
                HousingUnit.circoscrizione == circ,
            )
        ).all()
    expect_announced(count, re.compile(rf"^{len(mine_here)} allogg"))
    assert_accessible(page, "keyboard-housing-board-filtered")

    # Above capacity: refused, the message tied to the field, nothing changed.
    field = row.get_by_label(f"Posti liberi in «{name}»")
    type_into(page, field, str(capacity + 1), max_tabs=120)
    page.keyboard.press("Enter")
    expect(row.get_by_role("alert")).to_have_text(
        f"I posti liberi non possono superare la capienza dell'alloggio ({capacity})."
    )
    field = row.get_by_label(f"Posti liberi in «{name}»")
    expect_error_announced(field, f"capienza dell'alloggio ({capacity})")
    expect(row.locator(".free-places strong")).to_have_text(str(vacancies))
    assert_accessible(page, "keyboard-housing-board-above-capacity")

    # One more place, typed: the row changes in place, the news is read aloud.
    expect(field).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(vacancies + 1))
    page.keyboard.press("Enter")
    expect(row.locator(".free-places strong")).to_have_text(str(vacancies + 1))
    expect(page.locator("#messages")).to_contain_text(f"Posti liberi aggiornati: {vacancies + 1}.")
    expect(row.get_by_role("alert")).to_have_count(0)
    assert_accessible(page, "keyboard-housing-board-updated")

    # The placement the City approved: from the placements list, filtered by keyboard.
    press(
        page,
        page.get_by_role("navigation", name="Sezioni degli alloggi").get_by_role(
            "link", name="Inserimenti"
        ),
    )
    page.wait_for_url("**/housing/placements/")
    count = page.locator("#placement-count")
    watch(count)
    choose(page, page.get_by_label("Stato"), "approvato, in attesa del gestore")
    page.wait_for_url(re.compile(r".*stato=approved"))
    expect_announced(count, re.compile(r"^\d+ inseriment[oi] trovat[oi]$"))
    link = page.get_by_role("link", name=f"n. {placement_id}", exact=True)
    expect(link).to_be_visible()
    assert_accessible(page, "keyboard-housing-placements-filtered")
    press(page, link)
    page.wait_for_url(f"**/housing/placements/{placement_id}")
    assert_accessible(page, "keyboard-housing-placement-approved")
    press(page, page.get_by_role("button", name="Accetta", exact=True))
    flash(page, "Inserimento accettato: registra l'ingresso quando il nucleo arriva.")
    expect(page.locator("main p .badge").first).to_have_text(re.compile("accettato", re.I))
    assert_accessible(page, "keyboard-housing-placement-accepted")
    journey_ends(page, "alloggi1-placement-accepted")
    keyboard_logout(page)
    with reading(app):
        assert db.session.get(Placement, placement_id).status == "accepted"  # type: ignore[union-attr]


# 3. The coordinator approves a project and its budget, then reads the programme's progress ---


def test_coordinator_approves_a_budget_with_the_keyboard_alone(page: Page, app: Flask) -> None:
    with reading(app):
        project = db.session.scalars(
            select(Project).where(Project.status == "submitted").order_by(Project.id)
        ).first()
        assert project is not None, "the demo has a project waiting for the City"
        project_id, title = project.id, project.title

    keyboard_login(page, "coordinatore")
    press(page, nav_link(page, "Progetti"))
    page.wait_for_url("**/projects/")
    count = page.locator("#project-count")
    watch(count)
    choose(page, page.get_by_label("Stato"), "in attesa di approvazione")
    page.wait_for_url(re.compile(r".*stato=submitted"))
    with reading(app):
        waiting = len(
            db.session.scalars(select(Project.id).where(Project.status == "submitted")).all()
        )
    expect_announced(count, re.compile(rf"^{waiting} progett[oi] trovat[oi]$"))
    results = page.locator("#project-results")
    link = results.get_by_role("link", name=title)
    expect(link).to_be_visible()
    assert_accessible(page, "keyboard-project-list-submitted")
    press(page, link)
    page.wait_for_url(f"**/projects/{project_id}")
    assert_accessible(page, "keyboard-project-submitted")

    press(page, page.get_by_role("button", name="Approva il progetto e il budget"))
    flash(page, "Progetto e budget approvati.")
    expect(page.locator("main h1 + p .badge").first).to_have_text("approvato")
    planned = page.locator("#budget-totals tr td.text-end")
    expect(planned.nth(1)).to_have_text(planned.nth(0).inner_text())  # all that was asked
    assert_accessible(page, "keyboard-project-approved")

    press(page, page.get_by_role("link", name="Progetti").last)  # the breadcrumb back
    page.wait_for_url(re.compile(r".*/projects/"))
    press(page, page.get_by_role("link", name="Avanzamento finanziario del programma"))
    page.wait_for_url("**/projects/programme")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Avanzamento finanziario del programma"
    )
    # The total is the sum of the action lines, to the cent.
    rows = page.locator("tbody tr[id^=action-line-]")
    committed = sum(
        (
            euro_value(text)
            for text in rows.locator("td:nth-of-type(2)").all_inner_texts()
            if "€" in text
        ),
        Decimal("0.00"),
    )
    total = page.locator("tfoot tr td").nth(1).inner_text()
    assert euro_value(total) == committed
    assert_accessible(page, "keyboard-programme")
    journey_ends(page, "coordinator-programme")
    keyboard_logout(page)


def euro_value(text: str) -> Decimal:
    digits = text.replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    return Decimal(digits.replace(".", "").replace(",", "."))


# 4. The admin creates an account, corrects a mistake, then disables it ----------------------


def test_admin_creates_and_disables_an_account_with_the_keyboard_alone(page: Page) -> None:
    keyboard_login(page, "admin")
    press(page, nav_link(page, "Utenti"))
    page.wait_for_url("**/admin/")
    search = page.get_by_label("Cerca per nome o nome utente")
    count = page.locator("#user-count")
    watch(count)
    type_into(page, search, "ente")
    page.wait_for_url(re.compile(r".*q=ente"))
    expect_announced(count, "2 utenti trovati")
    assert_accessible(page, "keyboard-admin-users-searched")
    type_into(page, search, "nessuno-si-chiama-cosi")
    expect_announced(count, "0 utenti trovati")
    assert_accessible(page, "keyboard-admin-users-empty")

    press(page, page.get_by_role("link", name="Nuovo utente"))
    page.wait_for_url("**/admin/users/new")
    type_into(page, page.get_by_label("Nome utente", exact=True), "marco.neri")
    type_into(page, page.get_by_label("Nome e cognome"), "Marco Neri")
    type_into(page, page.get_by_label("Email"), "marco.neri-senza-chiocciola")
    # An account that sees no household data: created at once (others wait for the City).
    choose(page, page.get_by_label("Ruolo"), "Amministratore/trice di sistema")
    press(page, page.get_by_role("button", name="Crea utente"))
    email = page.get_by_label("Email")
    expect_error_announced(email, "Indirizzo email non valido.")
    expect(page.get_by_label("Nome e cognome")).to_have_value("Marco Neri")
    assert_accessible(page, "keyboard-admin-user-form-errors")

    type_into(page, email, "marco.neri@example.org")
    press(page, page.get_by_role("button", name="Crea utente"))
    password = page.locator(".temporary-password")
    expect(password).to_have_text(
        re.compile(r"^\s*[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}\s*$")
    )
    assert_accessible(page, "keyboard-admin-user-created")

    press(page, page.get_by_role("link", name="Vai alla scheda utente"))
    press(page, page.get_by_role("button", name="Disattiva account"))
    reactivate = page.get_by_role("button", name="Riattiva account")
    expect(reactivate).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("disattivato")
    assert_accessible(page, "keyboard-admin-user-disabled")
    journey_ends(page, "admin-account-disabled")
