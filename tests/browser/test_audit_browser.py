"""The audit viewer and the list downloads in a real browser: live filters, the period message,
downloads that carry the filters on screen; axe on the pages."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_coordinator_filters_the_audit_log_live_and_downloads_what_is_on_screen(page):
    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Registro attività"
    ).click()
    page.wait_for_url("**/audit/")
    rows = page.locator("#audit-results tbody tr")
    assert rows.count() > 0
    assert_accessible(page, "audit-index")

    count = page.locator("#audit-count")
    expect(count).to_have_attribute("role", "status")
    count.evaluate("el => { el.__watched = true; }")
    page.get_by_label("Azione", exact=True).select_option("login")
    page.wait_for_url(re.compile(r".*/audit/\?azione=login$"))
    page.wait_for_function(
        "() => [...document.querySelectorAll('#audit-results tbody tr td:nth-child(3)')]"
        ".every(td => td.innerText.trim() === 'accesso al portale')"
    )

    # A period that ends before it starts: the message appears next to the "Al" field.
    page.get_by_label("Dal", exact=True).fill("2026-03-20")
    page.get_by_label("Al", exact=True).fill("2026-03-01")
    page.get_by_label("Al", exact=True).dispatch_event("change")
    feedback = page.locator("#al-feedback")
    feedback.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('#al-feedback').innerText.includes('data finale')"
    )
    assert "La data finale viene prima di quella iniziale" in feedback.inner_text()
    # The field itself is marked wrong and described by the message, as after a full page.
    al = page.get_by_label("Al", exact=True)
    expect(al).to_have_attribute("aria-invalid", "true")
    expect(al).to_have_accessible_description(re.compile("data finale viene prima"))
    # The count line was updated in place (a status region put in by the swap is not read).
    expect(count).to_have_text("Correggi il periodo per vedere gli eventi.")
    assert count.evaluate("el => el.__watched === true"), "the status line was replaced"
    assert_accessible(page, "audit-period-error")

    # Fixed: the message goes away and the downloads come back with the filters on screen.
    page.get_by_label("Dal", exact=True).fill("")
    page.get_by_label("Al", exact=True).fill("")
    page.get_by_label("Al", exact=True).dispatch_event("change")
    page.wait_for_url(re.compile(r".*/audit/\?azione=login$"))
    page.wait_for_function("() => document.querySelector('#al-feedback').innerText === ''")
    expect(al).not_to_have_attribute("aria-invalid", "true")
    expect(count).to_have_text(re.compile(r"^\d+ event[oi] trovat[oi]$"))
    download_link = page.get_by_role("link", name=re.compile("^Scarica CSV"))
    download_link.wait_for()
    assert download_link.get_attribute("href") == "/audit/export.csv?azione=login"
    with page.expect_download() as info:
        download_link.click()
    body = Path(info.value.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert table[0][0] == "N. evento"
    assert {row[5] for row in table[1:]} == {"login"}


def test_admin_sees_the_audit_log_with_household_values_hidden(page):
    login(page, "admin")
    page.wait_for_url("**/")
    page.goto("/audit/?tipo=household")
    assert "non i valori" in page.locator("main").inner_text()
    assert page.locator("#audit-results a[href^='/households/']").count() == 0
    assert_accessible(page, "audit-admin")


def test_household_list_download_follows_the_live_filters(page):
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/households/")
    page.get_by_label("Circoscrizione").select_option("6")
    page.wait_for_url(re.compile(r".*circ=6.*"))
    link = page.get_by_role("link", name=re.compile("^Scarica XLSX"))
    page.wait_for_function(
        "() => document.querySelector('#household-results a[href*=\"export.xlsx\"]')"
        ".getAttribute('href').includes('circ=6')"
    )
    assert "circ=6" in (link.get_attribute("href") or "")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("^Scarica CSV")).click()
    assert info.value.suggested_filename.startswith("nuclei-")
    assert_accessible(page, "households-with-downloads")
