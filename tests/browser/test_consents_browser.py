"""Consent as a ledger (issue #24) in the browser, on the demo data: ente1's draft for a
household whose consent for the job services expired cannot be sent, and the page says why and
when; the operator registers the new consent in the household's Privacy section and the same
draft goes to the City. Every page passes axe."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.households.consents import consent_in_force
from app.households.models import Consent
from app.referrals.models import Referral
from tests.browser.conftest import assert_accessible, login
from tests.browser.test_referrals_browser import reading


def _blocked_draft() -> tuple[int, int, str]:
    """ente1's demo draft whose household's consent for the job services expired."""
    org_id = db.session.scalars(select(User.organization_id).where(User.username == "ente1")).one()
    for referral in db.session.scalars(
        select(Referral)
        .where(Referral.from_organization_id == org_id, Referral.status == "draft")
        .order_by(Referral.id)
    ):
        if not consent_in_force(referral.household_id, "job_services", referral.to_organization_id):
            expired = db.session.scalars(
                select(Consent.expires_on)
                .where(
                    Consent.household_id == referral.household_id,
                    Consent.purpose == "job_services",
                )
                .order_by(Consent.expires_on.desc())
            ).first()
            assert expired is not None, "the demo's blocked draft has an expired consent"
            return referral.id, referral.household_id, f"{expired:%d/%m/%Y}"
    raise AssertionError("the demo has no draft blocked by an expired consent")


def test_an_expired_consent_blocks_the_submit_until_a_new_one_is_registered(
    page: Page, app: Flask
) -> None:
    with reading(app):
        referral_id, household_id, expired_on = _blocked_draft()

    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto(f"/referrals/{referral_id}")
    page.get_by_role("button", name="Invia alla Città per l'approvazione").click()
    message = page.get_by_role("alert").filter(has_text="è scaduto il")
    expect(message).to_contain_text(
        f"Il consenso del nucleo per i servizi al lavoro è scaduto il {expired_on}: registrane "
        "uno nuovo nella sezione Privacy."
    )
    expect(page.locator("main")).to_contain_text("bozza")
    assert_accessible(page, "consents-submit-refused")

    page.goto(f"/households/{household_id}")
    consents = page.locator("#consents")
    expect(consents.get_by_text("scaduto", exact=True)).to_be_visible()
    consents.locator("summary", has_text="Registra consenso").click()
    page.get_by_label("Finalità").select_option("job_services")
    page.get_by_label("Destinatario").select_option("")
    page.get_by_label("Modulo firmato (protocollo o riferimento)").fill("Prot. 2026/5150")
    assert_accessible(page, "consents-form")
    consents.get_by_role("button", name="Registra consenso").click()
    expect(page.locator("#consents").get_by_role("status")).to_contain_text("Consenso registrato.")
    expect(page.locator("#consents")).to_contain_text("Prot. 2026/5150")
    expect(page.locator("#consents").get_by_text("in vigore", exact=True).first).to_be_visible()
    assert_accessible(page, "consents-recorded")

    page.goto(f"/referrals/{referral_id}")
    page.get_by_role("button", name="Invia alla Città per l'approvazione").click()
    expect(page.get_by_role("status").filter(has_text="inviata")).to_contain_text(
        "Segnalazione inviata alla Città per l'approvazione."
    )
    with reading(app):
        assert db.session.get(Referral, referral_id).status == "submitted"
