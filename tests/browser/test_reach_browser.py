"""Issue #26 in a real browser, on the demo data (items 4, 6 and 7), with axe on every page.

- 4: ente1 records how to reach a person (a wrong e-mail is refused next to the field, in
  Italian); ente2, receiving that person's approved referral, sees the phone, the e-mail and the
  case worker who sent it.
- 6: the coordinator approves a referral from the queue, in its row: the notification that asked
  for it is no longer "da leggere" and the badge goes down.
- 7: a decline without a reason gets the Italian message next to the field (no browser bubble);
  the budget increases on the coordinator's home are a link; after saving a service inline in the
  registry, the keyboard focus is in the edited row, not on the page's body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.notifications.models import Notification
from app.referrals.models import Referral
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

PHONE = "011 5552266"
EMAIL = "contatto.persona@example.org"


@contextmanager
def session(app: Flask) -> Iterator[None]:
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _approved_from_ente1_to_ente2() -> Referral:
    ente1, ente2 = _user("ente1"), _user("ente2")
    referral = db.session.scalar(
        select(Referral)
        .where(
            Referral.from_organization_id == ente1.organization_id,
            Referral.to_organization_id == ente2.organization_id,
            Referral.status == "approved",
        )
        .order_by(Referral.id)
    )
    assert referral is not None, "the demo has an approved referral from ente1 to ente2"
    return referral


def test_ente1_records_the_contacts_and_ente2_sees_them_after_approval(
    page: Page, app: Flask
) -> None:
    with session(app):
        referral = _approved_from_ente1_to_ente2()
        referral_id, household_id = referral.id, referral.household_id
        person = referral.person or referral.household.reference_person
        person_id = person.id
        person.contact_consent = False
        db.session.commit()

    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto(f"/households/{household_id}/members/{person_id}")
    expect(page.get_by_role("group", name="Come raggiungere la persona")).to_be_visible()
    page.get_by_label("Telefono").fill(PHONE)
    page.get_by_label("E-mail", exact=True).fill("contatto.persona@")
    page.locator('label[for="contact_consent"]').click()  # Bootstrap Italia draws the box
    page.get_by_role("button", name="Salva").click()
    error = page.locator("#email-error")
    expect(error).to_have_text("Indirizzo e-mail non valido: per esempio nome@esempio.it.")
    expect(page.get_by_label("Telefono")).to_have_value(PHONE)
    assert_accessible(page, "member-contacts-error")
    page.get_by_label("E-mail", exact=True).fill(EMAIL)
    page.get_by_label("Come preferisce essere contattata").select_option("phone")
    page.get_by_role("button", name="Salva").click()
    page.wait_for_url(f"**/households/{household_id}")
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_be_visible()
    # The household page loads its sections after it opens: a section's answer arriving after
    # the cookies are cleared would bring back ente1's session cookie under ente2's login form.
    # Leaving the page first cancels whatever it still had in flight.
    page.goto("about:blank")

    page.context.clear_cookies()
    login(page, "ente2")
    page.wait_for_url("**/")
    page.goto(f"/referrals/{referral_id}")
    contacts = page.locator("dl.referral-person-contacts")
    expect(contacts).to_contain_text(PHONE)
    expect(contacts).to_contain_text(EMAIL)
    expect(contacts).to_contain_text("telefono")
    worker = page.locator("dl.referral-case-worker")
    with session(app):
        sender = db.session.get(Referral, referral_id).created_by
        sender_email = sender.email if sender else None
    if sender_email:
        expect(worker).to_contain_text(sender_email)
    expect(page.get_by_role("heading", name="Operatore che ha segnalato")).to_be_visible()
    assert_accessible(page, "referral-receiver-contacts")


def test_a_decline_without_a_reason_is_refused_in_italian_next_to_the_field(
    page: Page, app: Flask
) -> None:
    with session(app):
        referral_id = _approved_from_ente1_to_ente2().id

    login(page, "ente2")
    page.wait_for_url("**/")
    page.goto(f"/referrals/{referral_id}")
    page.locator("summary", has_text="Rifiuta").click()
    page.locator(f'form[action="/referrals/{referral_id}/decline"]').get_by_role(
        "button", name="Rifiuta"
    ).click()
    error = page.locator("#decline-reason-error")
    expect(error).to_have_text("Indica il motivo.")
    expect(page.locator("#decline-reason")).to_have_attribute("aria-invalid", "true")
    # The browser's own bubble would have stopped the form before the server answered.
    assert page.locator("#decline-reason").evaluate("el => el.required") is False
    assert_accessible(page, "referral-decline-without-reason")
    with session(app):
        assert db.session.get(Referral, referral_id).status == "approved"


def _unread(username: str) -> int:
    user = _user(username)
    return len(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        ).all()
    )


def test_approving_from_the_queue_clears_its_notification(page: Page, app: Flask) -> None:
    with session(app):
        coordinator = _user("coordinatore")
        waiting = db.session.scalar(
            select(Notification)
            .where(
                Notification.user_id == coordinator.id,
                Notification.kind == "referral_submitted",
                Notification.read_at.is_(None),
            )
            .order_by(Notification.object_id)
        )
        if waiting is None:  # the demo's queue has no notice: give one, as a submission does
            pending = db.session.scalar(
                select(Referral).where(Referral.status == "submitted").order_by(Referral.id)
            )
            assert pending is not None, "the demo has a referral waiting for the City"
            waiting = Notification(
                user_id=coordinator.id,
                kind="referral_submitted",
                object_type="referral",
                object_id=pending.id,
            )
            db.session.add(waiting)
            db.session.commit()
        referral_id = waiting.object_id
        before = _unread("coordinatore")

    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.goto("/referrals/?status=submitted")
    expect(page.locator("#unread-badge")).to_contain_text(str(before))
    row = page.locator(f"#referral-{referral_id}")
    expect(row).to_contain_text("Motivazione dell'operatore:")
    assert_accessible(page, "referral-queue-with-motivation")
    row.get_by_role("button", name=re.compile("^Approva")).click()
    expect(page.locator(f"#referral-{referral_id}")).to_contain_text("approvata")

    with session(app):
        assert _unread("coordinatore") == before - 1
        left = db.session.get(Notification, waiting.id)
        assert left.read_at is not None
    page.reload()
    if before - 1:
        expect(page.locator("#unread-badge")).to_contain_text(str(before - 1))
    else:
        expect(page.locator("#unread-badge")).to_have_count(0)


def test_the_budget_increases_on_the_coordinators_home_are_a_link(page: Page) -> None:
    login(page, "coordinatore")
    page.wait_for_url("**/")
    link = page.get_by_role("link", name="Aumenti di budget da decidere")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(r".*/projects/\?aumenti=1$"))
    expect(page.get_by_label("Budget")).to_have_value("1")
    assert_accessible(page, "projects-budget-increases")


def test_after_an_inline_edit_the_focus_is_in_the_edited_row(page: Page) -> None:
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/entities/")
    page.get_by_label("Cerca per nome, servizio o codice fiscale").fill("ponte")
    page.wait_for_url(re.compile(r".*q=ponte.*"))
    page.locator("#registry-results tbody tr").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/entities/\d+$"))
    row = page.locator("table.services-table tbody tr").first
    row_id = row.get_attribute("id")
    row.get_by_role("link", name=re.compile("^Modifica")).press("Enter")
    page.locator("tr.row-editing").wait_for()
    focus_in_row = page.locator(f"#{row_id}:focus, #{row_id} :focus")
    expect(focus_in_row).to_have_count(1)  # waits for the swap to finish
    assert page.evaluate("document.activeElement.tagName") in ("INPUT", "SELECT", "TEXTAREA")

    page.locator("tr.row-editing").get_by_label("Posti al mese").fill("9")
    page.locator("tr.row-editing").get_by_role("button", name="Salva").press("Enter")
    page.locator("tr.row-saved").wait_for()
    expect(focus_in_row).to_have_count(1)
    focused = page.evaluate(
        "[document.activeElement === document.body,"
        f" document.activeElement.closest('#{row_id}') !== null]"
    )
    assert focused == [False, True], "after saving, the cursor is in the edited row"
    assert_accessible(page, "registry-inline-saved-focus")
