"""Decline rules and "why not" (issue #24) in the browser: the receiving entity sees each decline
reason's rule, declines; the sender then sees why that service is no longer suggested for the
person, with the date it may be asked again. Both pages pass axe."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.models import User
from app.clock import today
from app.extensions import db
from app.referrals.models import Referral
from app.web.formatting import format_date
from tests.browser.conftest import assert_accessible, login
from tests.browser.test_referrals_browser import logout, reading


def _approved_for(username: str) -> tuple[int, int, int, str, str]:
    """An approved referral of one person waiting for `username`'s organization."""
    org_id = db.session.scalars(select(User.organization_id).where(User.username == username)).one()
    referral = db.session.scalars(
        select(Referral)
        .where(
            Referral.to_organization_id == org_id,
            Referral.status == "approved",
            Referral.person_id.is_not(None),
        )
        .order_by(Referral.id)
    ).first()
    assert referral is not None, "the demo has an approved referral for ente2"
    return (
        referral.id,
        referral.household_id,
        referral.person_id,
        referral.need,
        referral.service.name,
    )


def test_a_declined_person_is_not_proposed_again_and_the_form_says_why(
    page: Page, app: Flask
) -> None:
    with reading(app):
        referral_id, household_id, person_id, need, service_name = _approved_for("ente2")

    login(page, "ente2")
    page.wait_for_url("**/")
    page.goto(f"/referrals/{referral_id}")
    page.locator("summary", has_text="Rifiuta").click()
    reason = page.locator("#decline-reason")
    expect(reason.locator("option[value='person_refused']")).to_have_text(
        "la persona ha rinunciato (riproponibile dopo 90 giorni)"
    )
    expect(reason.locator("option[value='not_eligible']")).to_contain_text(
        "non riproporre allo stesso servizio"
    )
    assert_accessible(page, "referral-decline-rules")
    reason.select_option("person_refused")
    page.locator("form", has=reason).get_by_role("button").click()
    expect(page.locator("main p .badge").first).to_have_text(re.compile("rifiutata"))
    logout(page)

    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto(f"/referrals/new?household={household_id}&person={person_id}&need={need}")
    why_not = page.locator("details.suggestions-excluded")
    expect(why_not).to_be_visible()
    why_not.locator("summary").click()
    until = format_date(today() + timedelta(days=90))
    expect(why_not).to_contain_text(f"{service_name}")
    expect(why_not).to_contain_text(f"(la persona ha rinunciato): riproponibile dal {until}")
    assert service_name not in page.locator("ol.suggestions").inner_text()
    assert_accessible(page, "referral-new-why-not")
