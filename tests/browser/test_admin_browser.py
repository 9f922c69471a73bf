"""An admin creates an account, sees its mistakes explained, then disables it: in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_admin_creates_and_disables_an_account(page, browser, live_server):
    login(page, "admin")
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Utenti"
    ).click()
    page.wait_for_url("**/admin/")

    page.get_by_label("Cerca per nome o nome utente").fill("ente")
    page.wait_for_url(re.compile(r".*q=ente.*"))
    assert page.locator("#user-results tbody tr").count() == 2
    assert_accessible(page, "admin-users-search")

    page.get_by_role("link", name="Nuovo utente").click()
    page.wait_for_url("**/admin/users/new")
    page.get_by_label("Nome utente", exact=True).fill("giulia.verdi")
    page.get_by_label("Nome e cognome").fill("Giulia Verdi")
    page.get_by_label("Email").fill("non-valida")
    page.get_by_label("Ruolo").select_option("entity_operator")
    page.get_by_role("button", name="Crea utente").click()
    email_error = page.locator("#email-error")
    email_error.wait_for()
    assert email_error.inner_text() == "Indirizzo email non valido."
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Nome e cognome").input_value() == "Giulia Verdi"
    assert_accessible(page, "admin-user-form-errors")

    page.get_by_label("Email").fill("giulia.verdi@example.org")
    page.get_by_label("Ente", exact=True).select_option(label="Cooperativa Sociale Il Ponte")
    page.get_by_role("button", name="Crea utente").click()
    password = page.locator(".temporary-password").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}", password)
    assert_accessible(page, "admin-user-created")

    page.get_by_role("link", name="Vai alla scheda utente").click()
    page.get_by_role("button", name="Disattiva account").click()
    page.get_by_role("button", name="Riattiva account").wait_for()
    assert "disattivato" in page.locator("#messages").inner_text()

    other = browser.new_context(base_url=live_server)
    newcomer = other.new_page()
    login(newcomer, "giulia.verdi", password)
    assert "non corretti" in newcomer.locator(".alert-danger").inner_text()
    other.close()
