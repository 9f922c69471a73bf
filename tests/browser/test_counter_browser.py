"""The offline counter in a real browser: ente1 opens the hub's day, the connection drops
(Playwright's offline mode), the page reopens from the service worker, a card is scanned and
three distributions are recorded (one a second basket, with its reason), then the connection
returns and they are sent once. Closing the day and logging out leave nothing personal in the
browser. axe on every state."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.auth.models import User
from app.cards import operations as cards
from app.cards.models import HouseholdCard
from app.clock import today
from app.counter.models import CounterEntry
from app.distributions.models import Distribution
from app.extensions import db as _db
from app.households.models import Household
from tests.browser.conftest import assert_accessible, login, reading

pytestmark = pytest.mark.browser

STORED = """async () => (await indexedDB.databases()).map((d) => d.name)"""


def _families(app):
    """Two active households of ente1's organization with no food basket this month, and one
    with an active card: (id, name) each, and the card's token."""
    with reading(app):
        org_id = _db.session.scalar(select(User.organization_id).where(User.username == "ente1"))
        start = today().replace(day=1)
        fed = select(Distribution.household_id).where(
            Distribution.kind == "food_basket", Distribution.distributed_on >= start
        )
        carded = _db.session.scalars(
            select(HouseholdCard)
            .join(Household, Household.id == HouseholdCard.household_id)
            .where(Household.organization_id == org_id, HouseholdCard.revoked_at.is_(None))
        ).first()
        hungry = _db.session.scalars(
            select(Household)
            .where(
                Household.organization_id == org_id,
                Household.status == "active",
                Household.id.not_in(fed),
                Household.id != carded.household_id,
            )
            .order_by(Household.id)
        ).first()
        card_household = _db.session.get(Household, carded.household_id)
        return (
            (hungry.id, hungry.display_name),
            (card_household.id, card_household.display_name),
            cards.card_token(carded),
        )


def _given(app, household_ids):
    with reading(app):
        return _db.session.scalar(
            select(func.count(Distribution.id)).where(Distribution.household_id.in_(household_ids))
        )


def _surname(name: str) -> str:
    return name.split(" ")[0]


def _open_day(page):
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/counter/")
    expect(page.locator("#counter-connection")).to_have_text("In linea")
    assert_accessible(page, "counter-no-day")
    page.get_by_role("button", name="Apri la giornata").click()
    expect(page.locator("#counter-day")).to_contain_text("aperta")
    page.evaluate("async () => { await navigator.serviceWorker.ready; return true; }")


def test_a_morning_offline_syncs_three_distributions_once(app, page):
    (hungry_id, hungry), (card_id, card_name), token = _families(app)
    before = _given(app, [hungry_id, card_id])
    _open_day(page)
    assert_accessible(page, "counter-day-open")

    page.context.set_offline(True)
    page.reload()  # the service worker answers: the page and the day, decrypted, are there
    expect(page.locator("#counter-connection")).to_contain_text("Senza collegamento")
    expect(page.locator("#counter-day")).to_contain_text("aperta")
    assert_accessible(page, "counter-offline")

    # 1. A food basket for a family found by surname.
    page.get_by_label("Codice fiscale o cognome").fill(_surname(hungry).lower())
    page.get_by_role("button", name=f"Seleziona {hungry}").click()
    expect(page.locator("#counter-household")).to_have_text(hungry)
    page.get_by_role("button", name="Registra", exact=True).click()
    expect(page.locator("#counter-saved")).to_contain_text(f"paniere alimentare a {hungry}")

    # 2. The same family again: the page warns offline, and wants the reason.
    page.get_by_label("Codice fiscale o cognome").fill(_surname(hungry).lower())
    page.get_by_role("button", name=f"Seleziona {hungry}").click()
    expect(page.locator("#counter-warning")).to_contain_text("già ricevuto un paniere")
    page.get_by_role("button", name="Registra", exact=True).click()
    expect(page.locator("#counter-reason-error")).to_have_text(
        "Scrivi il motivo per registrare un altro paniere nello stesso mese."
    )
    assert_accessible(page, "counter-offline-second-basket")
    page.get_by_label("Motivo del secondo paniere").fill("Nucleo numeroso, concordato")
    page.get_by_role("button", name="Registra", exact=True).click()
    expect(page.locator("#counter-queue-status")).to_have_text(
        "2 distribuzioni in attesa di invio."
    )

    # 3. A card typed by the USB scanner (the token and Enter).
    page.get_by_label("Codice della tessera").fill(token)
    page.get_by_label("Codice della tessera").press("Enter")
    expect(page.locator("#counter-household")).to_have_text(card_name)
    page.get_by_label("Tipo").select_option("basic_necessities")
    page.get_by_role("button", name="Registra", exact=True).click()
    expect(page.locator("#counter-queue-status")).to_have_text(
        "3 distribuzioni in attesa di invio."
    )
    assert _given(app, [hungry_id, card_id]) == before  # nothing reached the server
    assert_accessible(page, "counter-offline-queue")

    page.context.set_offline(False)
    expect(page.locator("#counter-queue-status")).to_have_text(
        "Nessuna distribuzione in attesa di invio.", timeout=15_000
    )
    expect(page.locator("#counter-message")).to_have_text(
        "Inviate 3 distribuzioni: 3 registrate, 0 da risolvere, 0 non registrate."
    )
    expect(page.locator(".counter-synced li")).to_have_count(3)
    assert_accessible(page, "counter-synced")
    page.get_by_role("button", name="Invia ora").click()  # nothing left: nothing sent twice
    assert _given(app, [hungry_id, card_id]) == before + 3
    with reading(app):
        assert _db.session.scalar(select(func.count(CounterEntry.id))) >= 3
        reasoned = _db.session.scalar(
            select(func.count(Distribution.id)).where(
                Distribution.household_id == hungry_id,
                Distribution.override_reason == "Nucleo numeroso, concordato",
            )
        )
    assert reasoned == 1

    page.get_by_role("button", name="Chiudi la giornata").click()
    expect(page.locator("#counter-message")).to_have_text(
        "Giornata chiusa: sul telefono non resta nessun dato dei nuclei."
    )
    assert "reti-counter" not in page.evaluate(STORED)
    assert_accessible(page, "counter-closed")


def test_logging_out_leaves_nothing_of_the_day_in_the_browser(app, page):
    _open_day(page)
    assert "reti-counter" in page.evaluate(STORED)
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url("**/login")
    assert "reti-counter" not in page.evaluate(STORED)
    assert (
        page.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length") == 0
    )
