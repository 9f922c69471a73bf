"""The Back button after active search and filters (issue 11, "Resilience in the browser").

A social worker narrows a list (typing in the search box, or choosing filters: htmx swaps the
results and pushes the address), opens one of the results, then presses Back: the same
filtered results come back, with the search box and the filters as they were, and nothing of
a lone fragment (the whole page, its header and its navigation).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def whole_page(page: Page) -> None:
    """The page came back whole: its navigation and one main area, not a fragment."""
    expect(page.get_by_role("navigation", name="Navigazione principale")).to_be_visible()
    expect(page.locator("main")).to_have_count(1)


def with_query(url: str, path: str, *pairs: str) -> bool:
    """The address is `path` with these `name=value` pairs in its query, in any order."""
    address, _, query = url.partition("?")
    return address.endswith(path) and set(pairs) <= set(query.split("&"))


def first_rows(results: Locator, rows: int = 5) -> list[str]:
    return [text.strip() for text in results.locator("tbody tr").all_inner_texts()[:rows]]


def test_back_after_active_search_on_the_households(page: Page) -> None:
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/households/")
    results = page.locator("#household-results")
    everyone = results.locator("p").first.inner_text()
    search = page.get_by_label("Cerca per nome, cognome o codice fiscale")
    search.press_sequentially("ro")  # as typed: htmx searches as the user types
    page.wait_for_url(re.compile(r".*/households/\?.*cerca="))
    expect(results.locator("p").first).not_to_have_text(everyone)
    found = results.locator("p").first.inner_text()
    rows = first_rows(results)
    assert rows
    assert all("ro" in row.lower() for row in rows), rows

    link = results.locator("tbody tr a").first
    name = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r".*/households/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    page.go_back()
    page.wait_for_url(re.compile(r".*/households/\?.*cerca="))
    whole_page(page)
    expect(page.get_by_label("Cerca per nome, cognome o codice fiscale")).to_have_value("ro")
    expect(results.locator("p").first).to_have_text(found)
    assert first_rows(results) == rows
    assert_accessible(page, "back-households-search")


def test_back_after_filters_on_the_referral_queue(page: Page) -> None:
    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.goto("/referrals/")
    filters = page.get_by_role("search", name="Filtri delle segnalazioni")
    results = page.locator("#referral-results")
    filters.get_by_label("Stato").select_option("submitted")
    page.wait_for_url(re.compile(r".*status=submitted"))
    filters.locator("label[for=scadute]").click()  # Bootstrap Italia draws the box on it
    page.wait_for_url(re.compile(r".*scadute=1"))
    expect(results.locator("tbody tr").first).to_contain_text("in ritardo")
    found = results.locator("p").first.inner_text()
    rows = first_rows(results)
    assert rows
    assert all("in ritardo" in row for row in rows), rows

    link = results.locator("tbody tr").first.get_by_role("link", name=re.compile(r"^n\. \d+$"))
    referral = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r".*/referrals/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(referral.removeprefix("n. "))

    page.go_back()
    page.wait_for_url(lambda url: with_query(url, "/referrals/", "status=submitted", "scadute=1"))
    whole_page(page)
    filters = page.get_by_role("search", name="Filtri delle segnalazioni")
    expect(filters.get_by_label("Stato")).to_have_value("submitted")
    expect(filters.get_by_label("Solo in ritardo")).to_be_checked()
    expect(results.locator("p").first).to_have_text(found)
    assert first_rows(results) == rows
    assert_accessible(page, "back-referral-queue-filters")


def test_back_after_filters_on_the_housing_board(page: Page) -> None:
    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.goto("/housing/")
    filters = page.get_by_role("search", name="Filtri della bacheca")
    filters.get_by_label("Circoscrizione").select_option("6")
    page.wait_for_url(re.compile(r".*circ=6"))
    filters.locator("label[for=liberi]").click()
    page.wait_for_url(re.compile(r".*liberi=1"))
    groups = page.locator("section.board-group h2")
    expect(groups).to_have_count(1)
    expect(groups.first).to_contain_text("Circoscrizione 6")
    units = [text.strip() for text in page.locator("tr.unit-row th a").all_inner_texts()]
    assert units

    page.locator("tr.unit-row th a").first.click()
    page.wait_for_url(re.compile(r".*/housing/units/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(units[0])

    page.go_back()
    page.wait_for_url(lambda url: with_query(url, "/housing/", "circ=6", "liberi=1"))
    whole_page(page)
    filters = page.get_by_role("search", name="Filtri della bacheca")
    expect(filters.get_by_label("Circoscrizione")).to_have_value("6")
    expect(filters.get_by_label("Solo con posti liberi ora")).to_be_checked()
    expect(groups).to_have_count(1)
    expect(groups.first).to_contain_text("Circoscrizione 6")
    assert [text.strip() for text in page.locator("tr.unit-row th a").all_inner_texts()] == units
    assert_accessible(page, "back-housing-board-filters")
