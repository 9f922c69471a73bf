"""Every page each demo role can reach, loaded in Chromium: no Content Security Policy violation.

For each role the test follows every link of the main navigation and of the user menu, then a
few detail pages (the first organization, the first household where the role sees households,
the first user for the admin). Chromium reports a CSP violation as a console error naming the
"Content Security Policy"; the `page` fixture also fails on any console error at teardown.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

ROLES = ("admin", "coordinatore", "ente1", "ente2", "alloggi1")
ALWAYS = ("/account", "/account/2fa")
DETAIL_LISTS = (
    ("/entities/", re.compile(r"^/entities/\d+$")),
    ("/households/", re.compile(r"^/households/\d+$")),
    ("/admin/", re.compile(r"^/admin/users/\d+$")),
)


def _links(page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    return [h for h in hrefs if h and h.startswith("/") and not h.startswith("/static/")]


def _visit(page, path: str, violations: list[str]) -> int:
    before = len(violations)
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    status = response.status if response else 0
    assert violations[before:] == [], f"violazioni CSP su {path}: {violations[before:]}"
    return status


@pytest.mark.parametrize("username", ROLES)
def test_no_csp_violation_on_any_page_of_the_role(page, username):
    violations: list[str] = []

    def on_console(msg) -> None:
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            violations.append(msg.text)

    page.on("console", on_console)
    login(page, username)
    page.wait_for_url("**/")
    assert violations == [], f"violazioni CSP all'accesso: {violations}"

    nav = _links(page, "nav a[href]")
    pages = list(dict.fromkeys([*nav, *ALWAYS]))
    visited: set[str] = set()
    for path in pages:
        if path in visited or path in {"/logout", "/login"}:
            continue
        visited.add(path)
        _visit(page, path, violations)

    for list_path, detail in DETAIL_LISTS:
        if list_path not in visited:
            continue
        assert _visit(page, list_path, violations) == 200
        first = next(
            (h for h in _links(page, "main a[href]") if detail.match(urlsplit(h).path)), None
        )
        if first is not None:
            assert _visit(page, first, violations) == 200, first
            visited.add(first)

    if "/distributions/" in visited:
        # The month selector swaps a fragment in: the swapped content obeys the policy too.
        _visit(page, "/distributions/", violations)
        previous = page.locator("a[href*='mese=']").first
        if previous.count():
            previous.click()
            page.wait_for_load_state("networkidle")
    assert len(visited) >= 3, visited
    assert violations == [], f"violazioni CSP: {violations}"
