"""Double clicks (issue #19): while a write is in flight its submit buttons are disabled, so a
second click sends nothing; after an error answer (422, a proxy's error page) they can be pressed
again, and the keyboard focus is not left on the page's body. On a phone, as at the counter.

The server's answer is held back with a Playwright route, so "in flight" lasts as long as the
test needs, with no timing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select

from app.auth.models import User
from app.distributions.models import Distribution
from app.extensions import db as _db
from tests.browser.conftest import assert_accessible, keyboard_login, login, reading, tab_to
from tests.browser.test_distributions_finder_browser import a_family_of

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser: object, live_server: str) -> Iterator[Page]:
    """A 390 px tab whose failed requests are expected (a 502 is logged by Chromium): the test
    checks what the user sees instead; script errors still fail it."""
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=live_server,
        locale="it-IT",
        timezone_id="Europe/Rome",
        viewport={"width": 390, "height": 760},
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    script_errors: list[str] = []
    tab.on("pageerror", lambda exc: script_errors.append(str(exc)))
    yield tab
    context.close()
    assert not script_errors, f"errori JavaScript nella pagina: {script_errors}"


class HeldPosts:
    """The POSTs to one address, held until released: counted as the browser sends them."""

    def __init__(self, page: Page, url: str) -> None:
        self.routes: list[Route] = []
        page.route(url, self._handle)

    def _handle(self, route: Route) -> None:
        if route.request.method == "POST":
            self.routes.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        self.routes.pop(0).continue_()


def double_click(page: Page, button: object) -> None:
    """A user's double click on the button, where it is on the screen (no waiting for it to be
    enabled, as a finger does not wait)."""
    button.scroll_into_view_if_needed()  # type: ignore[attr-defined]
    box = button.bounding_box()  # type: ignore[attr-defined]
    assert box is not None
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def second_request_would_be_seen(page: Page) -> None:
    """A round trip of the page's own: a request the second click had sent would be seen first."""
    page.evaluate("() => fetch('/static/css/app.css').then(r => r.ok)")


def basic_necessities(app: Flask) -> int:
    with reading(app):
        return int(
            _db.session.scalar(
                select(func.count(Distribution.id)).where(Distribution.kind == "basic_necessities")
            )
            or 0
        )


def test_the_counter_sends_a_double_click_once_and_frees_the_button_after_an_error(
    phone: Page, app: Flask
) -> None:
    page = phone
    last_name, name, _year, _code, _address = a_family_of(app, "ente1")
    before = basic_necessities(app)
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/distributions/")
    page.get_by_label("Cerca il nucleo per codice fiscale o cognome").fill(last_name)
    page.get_by_role("link", name=f"Seleziona {name}").first.click()
    form = page.locator("#distribution-form")
    expect(form).to_contain_text(name)
    form.get_by_label("Tipo", exact=True).select_option("basic_necessities")
    form.get_by_label("Quantità").fill("0")  # refused: from 1 to 100
    held = HeldPosts(page, re.compile(r".*/distributions/$"))

    register = form.get_by_role("button", name="Registra")
    double_click(page, register)
    expect(register).to_be_disabled()
    second_request_would_be_seen(page)
    assert len(held.routes) == 1, "the second click sent a second request"

    held.release()  # 422: the message next to the field, what was typed kept
    quantity = page.locator("#distribution-form").get_by_label("Quantità")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(quantity).to_have_accessible_description(re.compile("numero intero da 1 a 100"))
    expect(quantity).to_have_value("0")
    register = page.locator("#distribution-form").get_by_role("button", name="Registra")
    expect(register).to_be_enabled()
    assert_accessible(page, "double-submit-counter-refused")

    quantity.fill("2")
    double_click(page, register)
    expect(register).to_be_disabled()
    second_request_would_be_seen(page)
    assert len(held.routes) == 1, "the second click sent a second request"
    held.release()
    expect(page.locator("#distribution-form .alert-success")).to_contain_text(
        f"beni di prima necessità a {name}"
    )
    expect(
        page.locator("#distribution-form").get_by_role("button", name="Registra")
    ).to_be_enabled()
    assert not held.routes
    assert basic_necessities(app) == before + 1


def test_a_boosted_form_is_sent_once_and_the_focus_comes_back_after_an_error(
    phone: Page, app: Flask
) -> None:
    """The admin's new-account form is a boosted form (the whole page comes back). A proxy's
    error page is not shown in its place: the button is pressed again from the keyboard."""
    page = phone
    keyboard_login(page, "admin")
    page.goto("/admin/users/new")
    page.get_by_label("Nome utente", exact=True).fill("doppio.clic")
    page.get_by_label("Nome e cognome").fill("Doppio Clic")
    page.get_by_label("Email").fill("senza-chiocciola")
    page.get_by_label("Ruolo").select_option(label="Amministratore/trice di sistema")
    held = HeldPosts(page, "**/admin/users/new")
    create = page.get_by_role("button", name="Crea utente")

    # The portal behind a proxy that fails: the button is free again and keeps the focus.
    tab_to(page, create)
    page.keyboard.press("Enter")
    expect(create).to_be_disabled()
    page.keyboard.press("Enter")  # the impatient second press
    second_request_would_be_seen(page)
    assert len(held.routes) == 1, "the second press sent a second request"
    held.routes.pop(0).fulfill(status=502, content_type="text/html", body="<h1>Bad Gateway</h1>")
    expect(page.locator("#messages")).to_contain_text("non ha salvato nulla")
    expect(create).to_be_enabled()
    expect(create).to_be_focused()
    expect(page.get_by_label("Nome e cognome")).to_have_value("Doppio Clic")

    # Pressed again: refused by the portal (422), the cursor on the wrong field.
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Crea utente")).to_be_disabled()
    held.release()
    email = page.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(page.get_by_role("button", name="Crea utente")).to_be_enabled()

    email.fill("doppio.clic@example.org")
    create = page.get_by_role("button", name="Crea utente")
    double_click(page, create)
    second_request_would_be_seen(page)
    assert len(held.routes) == 1, "the second click sent a second request"
    held.release()
    expect(page.locator(".temporary-password")).to_be_visible()
    with reading(app):
        assert (
            _db.session.scalar(select(func.count(User.id)).where(User.username == "doppio.clic"))
            == 1
        )
