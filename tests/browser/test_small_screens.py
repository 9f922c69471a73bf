"""Every page of every role on a phone (390 px) and at the reflow width of WCAG 2.1 1.4.10 (320 px).

For each demo role and each width, one browser context: the test logs in, then walks the portal
from the home page, following every link of the main menu and of the pages it reaches (one page
per kind of address: the first household stands for every household), plus the main htmx states
of the role's journeys (a search, a filter, the counter's finder). On each page: no sideways
scrolling (`scrollWidth <= innerWidth`), the main menu closed behind its toggle, and zero axe
violations (WCAG 2.1 A and AA). Once per context the menu is opened and closed with the keyboard
alone. Screenshots of the board, the counter and a household page at 390 px go to test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS, WCAG_TAGS, login, tab_to

pytestmark = pytest.mark.browser

ROLES = ("admin", "coordinatore", "ente1", "ente2", "alloggi1")
# A phone, the reflow width of WCAG 2.1 1.4.10, and a tablet held upright (issue #26).
WIDTHS = (390, 320, 768)
# Never followed: they log out, download a file, or change what the demo holds.
SKIP = re.compile(r"^/(logout|login|static/|api/)|export|\.csv|\.xlsx|\.pdf$|\.json$|/2fa")
MAX_PAGES = 45  # per role: every kind of page the demo roles reach is well below it
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}

OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5 && box.width > 0) {
      const classes = typeof el.className === 'string' ? el.className.split(' ').join('.') : '';
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (classes ? '.' + classes : '') + ' right=' + Math.round(box.right));
    }
  }
  return document.documentElement.scrollWidth + ' px: ' + wide.slice(0, 6).join(' | ');
}"""


def settle(page: Page) -> None:
    """The page has loaded and no htmx request (a lazy panel, a live filter) is in flight."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def pattern(path: str) -> str:
    """One page stands for every page of its kind: /households/12 for /households/<id>."""
    return re.sub(r"/\d+", "/<id>", urlsplit(path).path)


def links(page: Page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = []
    for href in hrefs:
        if not href or not href.startswith("/") or SKIP.search(href):
            continue
        found.append(urlsplit(href).path)
    return found


class Checker:
    """The checks run on every page of one role at one width; failures are gathered, then shown."""

    def __init__(self, page: Page, width: int) -> None:
        self.page = page
        self.width = width
        self.failures: list[str] = []
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()

    def check(self, where: str) -> None:
        page = self.page
        settle(page)
        overflow = page.evaluate(OVERFLOW)
        if overflow:
            self.failures.append(f"{where} @{self.width}: scorrimento orizzontale, {overflow}")
        toggle = page.locator(".it-header-navbar-wrapper .custom-navbar-toggler")
        if page.locator("nav.portal-nav").count():
            if not toggle.is_visible():
                self.failures.append(f"{where} @{self.width}: menu senza pulsante")
            elif page.locator("#main-menu .nav-link").first.is_visible():
                self.failures.append(f"{where} @{self.width}: menu aperto sulla pagina")
        results = self.axe.run(page, options=AXE_OPTIONS)
        if results.violations_count:
            rules = sorted({v["id"] for v in results.response["violations"]})
            self.failures.append(f"{where} @{self.width}: axe {rules}")


@pytest.fixture
def small_page(browser: Browser, live_server: str, request) -> Iterator[Page]:
    width = request.param
    context = browser.new_context(
        base_url=live_server,
        locale="it-IT",
        timezone_id="Europe/Rome",
        viewport={"width": width, "height": 760},
        is_mobile=False,
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not re.search(r"status of (404|422)", msg.text)
            else None
        ),
    )
    yield tab
    context.close()
    assert not errors, f"errori JavaScript o CSP: {errors}"


@pytest.mark.parametrize("small_page", WIDTHS, indirect=True, ids=lambda w: f"{w}px")
@pytest.mark.parametrize("username", ROLES)
def test_every_page_fits_a_phone(small_page: Page, username: str) -> None:
    page = small_page
    width = page.viewport_size["width"]
    checker = Checker(page, width)
    login(page, username)
    page.wait_for_url("**/")
    checker.check("/")
    keyboard_opens_the_menu(page)

    seen = {pattern("/")}
    queue = [*links(page), "/account", "/accessibilita"]
    visited = 0
    while queue and visited < MAX_PAGES:
        path = queue.pop(0)
        if pattern(path) in seen:
            continue
        seen.add(pattern(path))
        response = page.goto(path)
        if response is None or response.status != 200:
            continue
        visited += 1
        checker.check(path)
        queue.extend(links(page))
    assert visited >= 3, seen
    htmx_states(page, checker, username, width)
    assert not checker.failures, "\n".join(checker.failures)


def keyboard_opens_the_menu(page: Page) -> None:
    """The toggle opens the menu from the keyboard; Escape closes it and gives the focus back."""
    toggle = page.locator(".it-header-navbar-wrapper .custom-navbar-toggler")
    tab_to(page, toggle)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    first = page.locator("#main-menu .nav-link").first
    expect(first).to_be_visible()
    # The focus moves into the open menu (its close button) and Tab walks its links.
    expect(page.locator("#main-menu .close-menu")).to_be_focused()
    page.keyboard.press("Tab")
    expect(first).to_be_focused()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(first).to_be_hidden()


def htmx_states(page: Page, checker: Checker, username: str, width: int) -> None:
    """The states an htmx swap leaves behind in the role's journeys."""
    shots = width == 390
    surname = ""
    if username in {"ente1", "coordinatore"}:
        page.goto("/households/")
        page.get_by_label("Cerca per nome, cognome o codice fiscale").fill("a")
        page.wait_for_url(re.compile(r".*cerca="))
        checker.check("/households/?q=a")
        page.locator("#household-results td a[href^='/households/']").first.click()
        page.wait_for_url(re.compile(r".*/households/\d+$"))
        checker.check("scheda del nucleo")
        # A card shows no column name over an empty cell (a basket without a second-basket reason).
        assert not page.locator("main td[data-label]").evaluate_all(
            "cells => cells.filter(c => !c.textContent.trim() && !c.querySelector('*'))"
            ".map(c => c.dataset.label)"
        )
        surname = page.get_by_role("heading", level=1).inner_text().split()[1]
        if shots and username == "ente1":
            screenshot(page, "small-390-household")
    if username == "ente1":
        page.goto("/distributions/")
        finder = page.get_by_label("Cerca il nucleo per codice fiscale o cognome")
        finder.fill("Zzyzx")
        expect(page.locator("#finder-results")).to_contain_text("Nessun nucleo")
        checker.check("/distributions/ nessun nucleo")
        finder.fill(surname)
        choice = page.locator("#finder-results a").first
        expect(choice).to_be_visible()
        checker.check("/distributions/ nuclei trovati")
        choice.click()
        expect(page.locator("#distribution-form select").first).to_be_visible()
        checker.check("/distributions/ modulo")
        # The monthly counts' card: each figure named by its group and its column (two header
        # rows), the hub's column by its own name.
        counts = page.locator("table.monthly-counts > tbody > tr").first
        labels = [cell.get_attribute("data-label") for cell in counts.locator(":scope > *").all()]
        assert labels[:5] == [
            "Snodo",
            "Paniere alimentare · Distribuzioni",
            "Paniere alimentare · Quantità",
            "Beni di prima necessità · Distribuzioni",
            "Beni di prima necessità · Quantità",
        ], labels
        if shots:
            screenshot(page, "small-390-distribution-counter")
    if username in {"alloggi1", "coordinatore"}:
        page.goto("/housing/")
        filters = page.get_by_role("search", name="Filtri della bacheca")
        filters.get_by_label("Circoscrizione").select_option(index=1)
        page.wait_for_url(re.compile(r".*circ="))
        checker.check("/housing/?circ=")
        if username == "alloggi1":
            filters.locator(
                "label[for=miei]"
            ).click()  # Bootstrap Italia draws the box on the label
            page.wait_for_url(re.compile(r".*miei=1"))
            checker.check("/housing/?miei=1")
            page.goto("/housing/?miei=1")
            page.wait_for_load_state("networkidle")
            if shots:
                screenshot(page, "small-390-housing-board")
            # The row is a card: its -1/+1 controls are on screen, no sideways scrolling.
            for control in ("vacancy-minus-board-", "vacancy-plus-board-"):
                box = page.locator(f"[id^={control}]").first.bounding_box()
                assert box is not None, control
                assert box["x"] >= 0, box
                assert box["x"] + box["width"] <= width, box
    if username == "admin":
        page.goto("/admin/")
        page.get_by_label("Cerca per nome o nome utente").fill("ente")
        page.wait_for_url(re.compile(r".*q=ente"))
        checker.check("/admin/?q=ente")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
