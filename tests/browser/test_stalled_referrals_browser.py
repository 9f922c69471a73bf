"""Stalled referrals and approvals against the ranking (issue #24) in the browser: a referral
ente2 never answered returns to ente1 as "scaduta" after the nightly run, and ente1 prepares a
new one from its page; the coordinator approving a referral sent to the second suggestion is
asked why, next to the field. Every page passes axe."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from app.auth.models import User
from app.clock import today
from app.db import utcnow
from app.extensions import db
from app.notifications.reminders import send_reminders
from app.referrals.models import Referral
from tests.browser.conftest import assert_accessible, login
from tests.browser.test_referrals_browser import logout, reading


def _org(username: str) -> int:
    return db.session.scalars(select(User.organization_id).where(User.username == username)).one()


def _age(referral_id: int, days: int, **values: object) -> None:
    db.session.execute(
        update(Referral)
        .where(Referral.id == referral_id)
        .values(status_changed_at=utcnow() - timedelta(days=days), **values)
    )
    db.session.commit()


def test_a_referral_nobody_answers_returns_to_its_sender(page: Page, app: Flask) -> None:
    with reading(app):
        referral = db.session.scalars(
            select(Referral)
            .where(
                Referral.from_organization_id == _org("ente1"),
                Referral.to_organization_id == _org("ente2"),
                Referral.status == "approved",
            )
            .order_by(Referral.id)
        ).first()
        assert referral is not None, "the demo has an approved referral from ente1 to ente2"
        referral_id, household_id, need = referral.id, referral.household_id, referral.need
        _age(referral_id, 60)  # ente2 left it unanswered for two months
        summary = send_reminders(today())
        db.session.commit()
        assert summary["segnalazioni scadute"] == 1

    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text(
        f"La segnalazione n. {referral_id} è scaduta senza risposta"
    )
    page.goto(f"/referrals/{referral_id}")
    main = page.locator("main")
    expect(main.locator("p .badge").first).to_have_text("scaduta, tornata all'ente inviante")
    expect(main).to_contain_text("Scaduta: l'ente non ha risposto entro il termine")
    expect(page.locator(".referral-timeline li").last).to_contain_text("scadenza automatica")
    assert_accessible(page, "referral-expired")
    page.get_by_role("link", name="Prepara una nuova segnalazione per la stessa persona").click()
    page.wait_for_url(re.compile(rf".*/referrals/new\?household={household_id}.*"))
    expect(page.locator("select#need, [name=need]").first).to_have_value(need)
    assert_accessible(page, "referral-new-after-expiry")


def test_approving_the_second_suggestion_asks_the_coordinator_why(page: Page, app: Flask) -> None:
    with reading(app):
        referral_id = db.session.scalars(
            select(Referral.id).where(Referral.status == "submitted").order_by(Referral.id)
        ).first()
        assert referral_id is not None
        db.session.execute(update(Referral).where(Referral.id == referral_id).values(match_rank=2))
        db.session.commit()

    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.goto("/referrals/?status=submitted")
    row = page.locator(f"#referral-{referral_id}")
    expect(row).to_contain_text("servizio al 2° posto tra i suggerimenti")
    assert_accessible(page, "referral-queue-against-ranking")
    with page.expect_navigation():
        row.get_by_role("link", name=re.compile("Approva con motivo")).click()
    page.locator("summary", has_text="Approva…").click()
    with page.expect_navigation():
        page.locator("details.referral-action form button[type=submit]").first.click()
    note = page.locator("#approve-note")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#approve-note-error")).to_contain_text("era al 2° posto")
    assert_accessible(page, "referral-approve-reason-missing")
    note.fill("L'ente più vicino non ha mediatori per la lingua della persona.")
    with page.expect_navigation():
        page.locator("details.referral-action form button[type=submit]").first.click()
    expect(page.locator("main p .badge").first).to_have_text(re.compile("approvata"))
    expect(page.locator(".referral-timeline")).to_contain_text("mediatori per la lingua")
    logout(page)
