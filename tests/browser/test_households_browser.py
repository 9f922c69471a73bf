"""Households in a real browser: ente1 takes a family in charge; ente2 cannot find it anywhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, login
from tests.factories import codice_fiscale

pytestmark = pytest.mark.browser


def fill_member(page, index, first, last, birth, sex, relation):
    page.locator(f"#members-{index}-first_name").fill(first)
    page.locator(f"#members-{index}-last_name").fill(last)
    page.locator(f"#members-{index}-relation").select_option(relation)
    page.locator(f"#members-{index}-birth_date").fill(birth.isoformat())
    page.locator(f"#members-{index}-sex").select_option(sex)
    page.locator(f"#members-{index}-codice_fiscale").fill(codice_fiscale(birth, sex))


def test_operator_takes_a_household_in_charge_and_another_entity_cannot_find_it(
    page, browser, live_server
):
    from datetime import date

    login(page, "ente1")
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Nuclei familiari"
    ).click()
    page.wait_for_url("**/households/")
    page.get_by_role("link", name="Nuova presa in carico").click()
    page.wait_for_url("**/households/new")
    assert_accessible(page, "household-intake-empty")

    page.get_by_label("Indirizzo di residenza o domicilio").fill("Via Cigna 200")
    page.get_by_label("Circoscrizione").select_option("6")
    page.get_by_label("Valore ISEE (euro)").fill("5.200,50")
    page.locator("label[for=needs-1]").click()  # Bootstrap Italia draws the box on the label
    page.locator("label[for=needs-0]").click()
    assert page.locator("#needs-0").is_checked()
    fill_member(page, 0, "Fatima", "Zerhouni", date(1988, 3, 14), "F", "reference")

    page.get_by_role("button", name="Aggiungi un componente").click()
    page.locator("#members-1-first_name").wait_for()
    assert page.locator("#members-0-first_name").input_value() == "Fatima"  # nothing typed is lost
    fill_member(page, 1, "Karim", "Zerhouni", date(2004, 7, 2), "M", "child")
    page.get_by_role("button", name="Aggiungi un componente").click()
    page.locator("#members-2-first_name").wait_for()
    page.get_by_role("button", name="Rimuovi il componente 3").click()
    page.locator("#members-2-first_name").wait_for(state="detached")
    assert page.locator("#members-1-first_name").input_value() == "Karim"
    assert_accessible(page, "household-intake-filled")

    page.get_by_role("button", name="Prendi in carico").click()
    page.wait_for_url(re.compile(r".*/households/\d+$"))
    household_url = page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Nucleo Zerhouni Fatima"
    assert "giovane 18-29" in page.locator("main").inner_text()
    assert "scheda consultata" in page.locator(".audit-timeline").inner_text()
    assert_accessible(page, "household-detail")

    # Two food baskets at the hub counter: the second one warns and needs a reason.
    nav = page.get_by_role("navigation", name="Navigazione principale")
    nav.get_by_role("link", name="Distribuzioni").click()
    page.wait_for_url("**/distributions/")
    for attempt in (1, 2):
        page.get_by_label("Cerca il nucleo per codice fiscale o cognome").fill("Zerhouni")
        page.get_by_role("link", name="Seleziona Zerhouni Fatima").click()
        form = page.locator("#distribution-form")
        if attempt == 2:
            # The fresh form, not the first basket's (which names her too, and says saved).
            expect(form.locator(".alert-success")).to_have_count(0)
        form.get_by_text("Zerhouni Fatima").wait_for()
        form.get_by_label("Tipo", exact=True).select_option("food_basket")
        form.get_by_role("button", name="Registra").click()
        if attempt == 1:
            page.locator("#distribution-form .alert-success").wait_for()
            assert_accessible(page, "distribution-first-basket")
    warning = page.locator("#second-basket-warning")
    warning.wait_for()
    assert "già ricevuto un paniere alimentare" in warning.inner_text()
    assert_accessible(page, "distribution-second-basket-warning")
    reason = "Nucleo numeroso, autorizzato dall'assistente sociale"
    page.get_by_label("Motivo del secondo paniere").fill(reason)
    page.get_by_role("button", name="Registra comunque").click()
    page.locator("#distribution-form .alert-success").wait_for()
    recent = page.locator("main").inner_text()
    assert recent.count("Zerhouni Fatima") >= 2
    assert "secondo paniere del mese" in recent

    other = browser.new_context(base_url=live_server)
    ente2 = other.new_page()
    login(ente2, "ente2")
    ente2.wait_for_url("**/")
    ente2.goto("/distributions/")
    assert "Zerhouni" not in ente2.locator("main").inner_text()
    ente2.goto("/households/?q=Zerhouni")
    assert "0 nuclei trovati" in ente2.locator("#household-results").inner_text()
    response = ente2.goto(household_url)
    assert response.status == 404
    assert "Pagina non trovata" in ente2.locator("main").inner_text()
    other.close()
