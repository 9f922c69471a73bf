"""Each demo account logs in with a real browser and sees its home, with no WCAG 2.1 AA issue."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

HOMES = {
    "admin": ("Alessandro Amministratore", "Account per ruolo", "Utenti"),
    "coordinatore": ("Chiara Coordinatrice", "Coordini la rete cittadina", "Home"),
    "ente1": ("Elena Operatrice", "nuclei familiari presi in carico", "Home"),
    "ente2": ("Enrico Operatore", "nuclei familiari presi in carico", "Home"),
    "alloggi1": ("Anna Gestrice Alloggi", "disponibilità dei tuoi alloggi", "Home"),
}


def test_login_page_is_accessible(page):
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "it"
    assert_accessible(page, "login")


@pytest.mark.parametrize("username", list(HOMES))
def test_demo_account_logs_in_and_sees_its_home(page, username):
    name, intro, nav_label = HOMES[username]
    login(page, username)
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Buongiorno, {name}"
    assert intro in page.locator("main").inner_text()
    assert (
        page.get_by_role("navigation", name="Navigazione principale")
        .get_by_role("link", name=nav_label)
        .is_visible()
    )
    assert "Ambiente dimostrativo" in page.locator(".demo-banner").inner_text()
    assert_accessible(page, f"home-{username}")


def test_wrong_password_shows_the_neutral_message(page):
    login(page, "ente1", "password-sbagliata-davvero")
    alert = page.locator(".alert-danger")
    assert "Nome utente o password non corretti" in alert.inner_text()
    assert page.get_by_label("Nome utente").input_value() == "ente1"
    assert_accessible(page, "login-error")


def test_logout_returns_to_login_and_back_does_not_reopen_the_session(page):
    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url
