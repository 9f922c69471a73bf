"""The registry in a real browser: ente1 finds and edits its services; the coordinator verifies."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_operator_finds_and_edits_a_service_inline(page):
    login(page, "ente1")
    page.wait_for_url("**/")
    assert "Servizi da riverificare" in page.locator("main").inner_text()
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Enti"
    ).click()
    page.wait_for_url("**/entities/")
    count = page.locator("#registry-count")
    count.evaluate("el => { el.__watched = true; }")
    page.get_by_label("Cerca per nome, servizio o codice fiscale").fill("ponte")
    page.wait_for_url(re.compile(r".*q=ponte.*"))
    # The count is said by a status line updated in place, not by reading out the whole table.
    expect(count).to_have_text("1 ente trovato")
    expect(count).to_have_attribute("role", "status")
    assert count.evaluate("el => el.__watched === true"), "the count was replaced, not updated"
    expect(page.locator("#registry-results")).not_to_have_attribute("aria-live", "polite")
    results = page.locator("#registry-results tbody tr")
    assert results.count() == 1
    assert_accessible(page, "registry-search")

    page.get_by_label("Lingua parlata").select_option("ar")
    page.wait_for_url(re.compile(r".*lingua=ar.*"))
    page.go_back()
    page.wait_for_url(re.compile(r".*/entities/\?q=ponte$"))
    assert page.get_by_label("Cerca per nome, servizio o codice fiscale").input_value() == "ponte"

    results.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/entities/\d+$"))
    assert_accessible(page, "registry-detail-operator")

    row = page.locator("table.services-table tbody tr").first
    service_name = row.locator("td").first.inner_text().strip()
    row.get_by_role("link", name=re.compile("^Modifica")).click()
    editor = page.locator("tr.row-editing")
    editor.wait_for()
    assert_accessible(page, "registry-service-inline-editor")

    editor.get_by_label("Posti al mese").fill("-2")
    editor.get_by_role("button", name="Salva").click()
    error = page.locator("#monthly_capacity-error")
    error.wait_for()
    assert error.inner_text() == "Un numero intero, zero o più."
    assert page.locator("tr.row-editing").get_by_label("Posti al mese").input_value() == "-2"
    assert_accessible(page, "registry-service-inline-error")

    page.locator("tr.row-editing").get_by_label("Posti al mese").fill("12")
    page.locator("tr.row-editing").get_by_role("button", name="Salva").click()
    page.locator("tr.row-saved").wait_for()
    saved_row = page.locator("tr.row-saved")
    assert service_name.split("\n")[0] in saved_row.inner_text()
    assert "12" in saved_row.locator("td").nth(4).inner_text()
    assert page.locator("tr.row-editing").count() == 0


def test_coordinator_sees_expiring_accreditations_and_verifies_a_pending_one(page):
    login(page, "coordinatore")
    page.wait_for_url("**/")
    main = page.locator("main")
    expiring = main.locator(
        "section", has=page.get_by_role("heading", name=re.compile("in scadenza"))
    )
    assert expiring.locator("li").count() >= 1
    to_verify = main.locator(
        "section", has=page.get_by_role("heading", name=re.compile("da verificare"))
    )
    link = to_verify.locator("li a").first
    name = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r".*/entities/\d+$"))
    assert "da verificare" in page.locator("#accreditation-title + p").inner_text()
    assert_accessible(page, "registry-detail-pending")
    page.get_by_role("button", name="Verifica e attiva").click()
    page.locator("#messages .alert-success").wait_for()
    assert "Accreditamento verificato" in page.locator("#messages").inner_text()
    assert "attivo" in page.locator("#accreditation-title + p").inner_text()
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert_accessible(page, "registry-detail-verified")
