"""The household card in a real browser: ente1 prints a card, then opens the household at the
counter from the card's QR code in a photo, and with a USB scanner typing the token and Enter;
a revoked card says when it was revoked. axe on every state."""

from __future__ import annotations

import pytest
import qrcode
import qrcode.image.svg
from sqlalchemy import select

from app.auth.models import User
from app.cards import operations
from app.cards.models import HouseholdCard
from app.extensions import db as _db
from app.households.models import Household
from tests.browser.conftest import assert_accessible, login, reading

pytestmark = pytest.mark.browser


def a_household_without_card(app):
    with reading(app):
        org_id = _db.session.scalar(select(User.organization_id).where(User.username == "ente1"))
        carded = select(HouseholdCard.household_id)
        household = _db.session.scalars(
            select(Household)
            .where(
                Household.organization_id == org_id,
                Household.status == "active",
                Household.id.not_in(carded),
            )
            .order_by(Household.id)
        ).first()
        return household.id, household.display_name


def tokens_of(app, household_id):
    """(active token, revoked tokens) of the household, unsealed as the portal prints them."""
    with reading(app):
        cards = _db.session.scalars(
            select(HouseholdCard).where(HouseholdCard.household_id == household_id)
        ).all()
        active = next((operations.card_token(c) for c in cards if c.active), None)
        return active, [operations.card_token(c) for c in cards if not c.active]


def revoked_demo_card(app):
    with reading(app):
        card = _db.session.scalars(
            select(HouseholdCard).where(HouseholdCard.revoked_at.is_not(None))
        ).first()
        return operations.card_token(card), card.revoked_at


def test_ente1_prints_a_card_and_the_counter_reads_its_qr_code(app, page, tmp_path):
    household_id, name = a_household_without_card(app)
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto(f"/households/{household_id}")
    section = page.locator("section[aria-labelledby=card-title]")
    assert "Il nucleo non ha una tessera attiva." in section.inner_text()
    section.get_by_role("button", name="Emetti la tessera").click()
    page.get_by_text("Tessera emessa: scaricala e stampala.").wait_for()
    assert_accessible(page, "card-issued")
    with page.expect_download() as info:
        page.get_by_role("link", name="Scarica la tessera da stampare (PDF)").click()
    pdf = tmp_path / "tessera.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert name.split()[0].encode() not in pdf.read_bytes()

    token, _revoked = tokens_of(app, household_id)
    image = tmp_path / "tessera.svg"
    qrcode.make(token, image_factory=qrcode.image.svg.SvgPathImage, box_size=20).save(image)

    page.goto("/distributions/")
    page.get_by_role("heading", name="Scansiona la tessera").wait_for()
    assert_accessible(page, "card-scan-box")
    page.set_input_files("#card-image", str(image))
    form = page.locator("#distribution-form")
    form.get_by_text(name, exact=True).wait_for()
    assert form.locator("input[name=household_id]").input_value() == str(household_id)
    assert page.locator("#card-token").input_value() == ""
    assert_accessible(page, "card-scanned-photo")

    # A USB scanner: it types the token into the field and presses Enter.
    page.goto("/distributions/")
    page.locator("#card-token").click()
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    form.get_by_text(name, exact=True).wait_for()
    assert form.locator("input[name=household_id]").input_value() == str(household_id)


def test_a_revoked_card_tells_the_counter_to_reprint_it(app, page):
    token, revoked_at = revoked_demo_card(app)
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/distributions/")
    page.locator("#card-token").fill(token)
    page.locator("#card-token").press("Enter")
    alert = page.locator("#card-scan-error")
    alert.wait_for()
    from app.web.formatting import format_date

    assert alert.inner_text() == (
        f"Tessera revocata il {format_date(revoked_at)}: chiedi il documento e ristampa la tessera."
    )
    assert page.locator("#distribution-form input[name=household_id]").count() == 0
    assert_accessible(page, "card-revoked")
