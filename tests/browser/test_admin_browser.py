"""An admin asks for an account, sees its mistakes explained; a City coordinator confirms it and
receives the temporary password; the admin then disables it: in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_admin_asks_for_an_account_a_coordinator_confirms_it_then_it_is_disabled(
    page, browser, live_server
):
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
    page.wait_for_url(re.compile(r".*/admin/requests/\d+$"))
    assert "Richiesta inviata" in page.locator("#messages").inner_text()
    assert "in attesa di conferma" in page.locator("#request-summary").inner_text()
    assert page.locator(".temporary-password").count() == 0
    assert_accessible(page, "admin-account-requested")

    other = browser.new_context(base_url=live_server)
    city = other.new_page()
    login(city, "coordinatore")
    city.wait_for_url("**/")
    city.goto("/notifications/")
    city.get_by_role("link", name=re.compile("creare l'account giulia.verdi")).click()
    city.wait_for_url(re.compile(r".*/admin/requests/\d+$"))
    assert_accessible(city, "account-request-to-confirm")
    city.get_by_role("button", name="Conferma la richiesta").click()
    password = city.locator(".temporary-password").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}", password)
    assert_accessible(city, "account-request-confirmed")
    other.close()

    page.goto("/admin/?q=giulia")
    page.get_by_role("link", name="giulia.verdi").click()
    page.get_by_role("button", name="Disattiva account").click()
    page.get_by_role("button", name="Riattiva account").wait_for()
    assert "disattivato" in page.locator("#messages").inner_text()

    later = browser.new_context(base_url=live_server)
    newcomer = later.new_page()
    login(newcomer, "giulia.verdi", password)
    assert "non corretti" in newcomer.locator(".alert-danger").inner_text()
    later.close()
