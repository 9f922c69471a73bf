"""Two-factor authentication in a real browser: enrolment with the QR code, then a 2-step login."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_coordinator_enrols_and_then_logs_in_with_a_code(page):
    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.goto("/account/2fa")
    qr = page.get_by_role("img", name="Codice QR per l'app di autenticazione")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the inline SVG renders
    assert_accessible(page, "totp-enrolment")
    secret = page.locator("main code").inner_text().replace(" ", "")
    page.get_by_label("Codice di verifica").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Attiva").click()
    page.locator(".alert-success", has_text="attiva").first.wait_for()
    codes = page.get_by_role("region", name="I tuoi codici di recupero").get_by_role("listitem")
    recovery = codes.all_inner_texts()
    assert len(recovery) == 10
    assert_accessible(page, "totp-recovery-codes")
    page.reload()
    assert page.get_by_role("region", name="I tuoi codici di recupero").count() == 0  # once

    page.get_by_role("button", name="Esci").click()
    page.wait_for_url("**/login")
    login(page, "coordinatore")
    page.wait_for_url("**/login/2fa")
    assert_accessible(page, "totp-login")
    # The code of the next 30-second step: the one used at enrolment cannot be used again.
    page.get_by_label("Codice di verifica").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verifica").click()
    page.wait_for_url("**/")
    assert "Chiara Coordinatrice" in page.get_by_role("heading", level=1).inner_text()

    # A lost phone: one of the recovery codes replaces the app's code.
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url("**/login")
    login(page, "coordinatore")
    page.wait_for_url("**/login/2fa")
    page.get_by_label("Codice di verifica").fill(recovery[0])
    page.get_by_role("button", name="Verifica").click()
    page.wait_for_url("**/")
    page.goto("/account/2fa")
    assert "Ti restano 9 codici di recupero non usati." in page.locator("main").inner_text()
