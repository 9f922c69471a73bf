"""A second press of a submit button while its request is in flight sends nothing (issue #19).

The admin's new-account form, refused (an e-mail without @): the first Enter sends the form, the
server's answer is held back; a second Enter on the same button, still focused, sends no second
request. When the 422 comes back the form shows its error and the button can be pressed again.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import keyboard_login, tab_to

pytestmark = pytest.mark.browser


def test_a_second_press_while_in_flight_sends_no_second_request(page: Page) -> None:
    keyboard_login(page, "admin")
    page.wait_for_url("**/")
    page.goto("/admin/users/new")
    page.get_by_label("Nome utente", exact=True).fill("doppio.clic")
    page.get_by_label("Nome e cognome").fill("Doppio Clic")
    page.get_by_label("Email").fill("senza-chiocciola")
    page.get_by_label("Ruolo").select_option(label="Amministratore/trice di sistema")

    held: list[Route] = []
    page.route(
        "**/admin/users/new",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    button = page.get_by_role("button", name="Crea utente")
    tab_to(page, button)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('[aria-disabled=true]') !== null")
    assert len(held) == 1
    expect(button).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("Enter")  # the impatient second press
    expect(button).to_be_focused()  # the focus stays on the button while it waits
    # A round trip of the page's own: a request the second press had sent would be seen first.
    page.evaluate("() => fetch('/static/css/app.css').then(r => r.ok)")
    assert len(held) == 1, "a second request was sent"

    held[0].continue_()
    email = page.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Crea utente")).not_to_have_attribute(
        "aria-disabled", "true"
    )
    assert len(held) == 1
