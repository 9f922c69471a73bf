"""The waiting list in a real browser, on the demo data (issue #24, "Done when").

ente1 sends a person to the demo's full service (Crocetta's job placement, its places held by
referrals in flight, three referrals already waiting): the form offers the waiting list with the
position, ente1 puts the person on it and the referral page shows the position. The ones ahead
leave the list; then the City rejects a referral in flight to that service, the place frees, and
ente1's referral shows "in attesa di approvazione", told by a notification. axe on every page.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.models import User
from app.clock import today
from app.extensions import db
from app.households.consents import consent_in_force
from app.households.models import Household, Person
from app.referrals import operations, queries
from app.referrals.matching import rank
from app.referrals.models import OPEN_STATUSES, Referral
from app.referrals.policy import PURPOSE
from app.registry.models import Service
from tests.browser.conftest import assert_accessible, login, reading

pytestmark = pytest.mark.browser

FULL_SERVICE = "Inserimento lavorativo in cooperativa"
MOTIVATION = "Ha lavorato nelle pulizie e cerca un inserimento in cooperativa vicino a casa."


def _user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def _full_service() -> Service:
    return db.session.scalars(select(Service).where(Service.name == FULL_SERVICE)).one()


def _candidate(ente1: User, service: Service) -> tuple[int, int, str]:
    """A member of ente1's households, authorised to share, without an open job-search referral,
    for whom the full service is among the fitting ones."""
    day = today()
    busy = select(Referral.person_id).where(
        Referral.need == "job_search",
        Referral.status.in_(OPEN_STATUSES),
        Referral.person_id.is_not(None),
    )
    people = db.session.scalars(
        select(Person)
        .join(Household, Household.id == Person.household_id)
        .where(Household.organization_id == ente1.organization_id, ~Person.id.in_(busy))
        .order_by(Person.id)
    )
    offers = queries.offers(day)
    for person in people:
        household = person.household
        covered = consent_in_force(household, PURPOSE, service.organization_id, day)
        if not covered or household.status != "active":
            continue
        if any(
            r.need == "job_search" and r.person_id is None and r.is_open
            for r in db.session.scalars(
                select(Referral).where(Referral.household_id == household.id)
            )
        ):
            continue
        ranked = rank(queries.subject_for(household, person, day), "job_search", offers)
        if any(s.service_id == service.id for s in ranked):
            return household.id, person.id, person.full_name
    raise AssertionError("no member of ente1's households can be sent to the full service")


def test_a_full_service_puts_the_referral_on_its_waiting_list_until_a_place_frees(
    page: Page, app: Flask
) -> None:
    with reading(app):
        service = _full_service()
        service_id = service.id
        assert queries.places_left([service], today())[service_id] == 0
        waiting_before = queries.waiting_counts([service_id])[service_id]
        household_id, person_id, name = _candidate(_user("ente1"), service)

    # 1. ente1 chooses the full service: the form offers its waiting list and the position.
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto(f"/referrals/new?household={household_id}")
    page.get_by_label("Persona da inviare al servizio").select_option(str(person_id))
    page.get_by_label("Bisogno").select_option("job_search")
    expect(page.locator("#suggestions ol.suggestions > li").first).to_be_visible()
    page.get_by_label("Cerca un altro servizio per nome (suo o dell'ente)").fill(FULL_SERVICE)
    choice = page.locator("#suggestions li", has_text=FULL_SERVICE).first
    expect(choice).to_contain_text(
        f"nessun posto questo mese: lista d'attesa ({waiting_before} in attesa)"
    )
    assert_accessible(page, "waiting-list-suggestions")
    choice.locator("label").click()
    page.get_by_label("Motivazione").fill(MOTIVATION)
    page.get_by_role("button", name="Invia alla Città per l’approvazione").click()

    expect(page.locator("#service-error")).to_contain_text(
        f"sarà in posizione {waiting_before + 1} in lista"
    )
    expect(page.get_by_label("Motivazione")).to_have_value(MOTIVATION)
    assert_accessible(page, "waiting-list-offered")
    page.get_by_role("button", name=re.compile("^Metti in lista d’attesa")).click()

    # 2. On the waiting list, with its position.
    page.wait_for_url(re.compile(r".*/referrals/\d+$"))
    referral_id = int(page.url.rsplit("/", 1)[1])
    main = page.locator("main")
    expect(page.locator("#messages")).to_contain_text(f"posizione {waiting_before + 1} in lista")
    expect(main.locator("p .badge").first).to_have_text("in lista d'attesa")
    expect(main).to_contain_text(name)
    expect(main.locator(".referral-waiting")).to_contain_text(
        f"Posizione {waiting_before + 1} in lista d’attesa"
    )
    assert_accessible(page, "waiting-list-referral")

    # 3. The referrals ahead leave the list (their senders cancel them): ente1's is first.
    with reading(app), app.test_request_context():
        ahead = db.session.scalars(
            select(Referral)
            .where(
                Referral.service_id == service_id,
                Referral.status == "waiting",
                Referral.id != referral_id,
            )
            .order_by(*queries.waiting_order())
        ).all()
        for referral in ahead:
            sender = SimpleNamespace(id=None, organization_id=referral.from_organization_id)
            operations.apply_step(referral, "cancel", sender)
        db.session.commit()
        in_flight = db.session.scalars(
            select(Referral.id)
            .where(Referral.service_id == service_id, Referral.status == "submitted")
            .order_by(Referral.id)
        ).first()
    assert in_flight is not None
    page.reload()
    expect(main.locator(".referral-waiting")).to_contain_text("Posizione 1 in lista d’attesa")
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(re.compile(r".*/login.*"))

    # 4. The City rejects a referral in flight to the service: its place goes to ente1's.
    login(page, "coordinatore")
    page.wait_for_url("**/")
    page.goto(f"/referrals/{in_flight}")
    page.locator("summary", has_text="Respingi").click()
    page.get_by_label("Motivo del respingimento").select_option("wrong_service")
    page.locator("details[open] form").get_by_role("button", name="Respingi").click()
    expect(page.locator("#messages")).to_contain_text("Segnalazione respinta.")
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(re.compile(r".*/login.*"))

    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/notifications/")
    expect(
        page.get_by_role("link", name=re.compile(f"la segnalazione n. {referral_id} è uscita"))
    ).to_be_visible()
    page.goto(f"/referrals/{referral_id}")
    expect(main.locator("p .badge").first).to_have_text("in attesa di approvazione")
    expect(main.locator(".referral-waiting")).to_have_count(0)
    expect(page.locator(".referral-timeline")).to_contain_text(
        "da «in lista d'attesa» a «in attesa di approvazione» · dalla lista d’attesa"
    )
    assert_accessible(page, "waiting-list-promoted")
    with reading(app):
        assert db.session.get(Referral, referral_id).status == "submitted"
