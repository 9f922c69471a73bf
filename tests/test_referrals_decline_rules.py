"""Decline rules (issue #24): a coded decline reason says whether the person may be referred to
the same service again and after how long; until then the service is not suggested for that
person, and a referral to it is refused with the reason and the date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from app.clock import today
from app.extensions import db as _db
from app.referrals import operations, queries
from app.referrals.matching import eligible_offers
from app.referrals.models import Referral
from app.referrals.vocabulary import REFER_AGAIN_AFTER_DAYS
from app.web.formatting import format_date
from tests import factories
from tests.test_referrals_workflow import World, draft, make_world, refused
from tests.worlds import signed_in


@pytest.fixture(autouse=True)
def request_context(app: Flask, db: object) -> Iterator[None]:
    with app.test_request_context():
        yield


def declined(world: World, code: str, days_ago: int = 0) -> Referral:
    referral = draft(world)
    for action, reason in (("submit", None), ("approve", None), ("decline", code)):
        actor = {"submit": world.sender, "approve": world.coordinator}.get(action, world.receiver)
        note = "Non risponde al telefono da settimane." if code == "other" else None
        operations.transition(referral, action, actor, reason_code=reason, note=note, day=today())
    if days_ago:
        _db.session.execute(
            update(Referral)
            .where(Referral.id == referral.id)
            .values(status_changed_at=referral.status_changed_at - timedelta(days=days_ago))
        )
    _db.session.commit()
    return referral


def suggested(world: World) -> set[int]:
    subject = queries.subject_for(world.household, world.person, today())
    return {o.service_id for o in eligible_offers(subject, queries._load_offers(today()))}


def test_a_person_who_refused_is_not_proposed_to_that_service_for_90_days(db):
    world = make_world()
    assert REFER_AGAIN_AFTER_DAYS["person_refused"] == 90
    before = declined(world, "person_refused")
    assert world.service.id not in suggested(world)
    message = refused(draft, world)
    until = format_date(today() + timedelta(days=90))
    assert f"si potrà riproporla allo stesso servizio dal {until}" in message
    assert "la persona ha rinunciato" in message
    # Another member of the household is not parked by this person's decline.
    sibling = factories.person(world.household, relation="child")
    _db.session.commit()
    other = draft(world, sibling)
    assert other.service_id == world.service.id
    assert before.status == "declined"


def test_after_the_period_the_service_is_proposed_again(db):
    world = make_world()
    declined(world, "person_refused", days_ago=91)
    assert world.service.id in suggested(world)
    assert draft(world).status == "draft"


def test_not_eligible_means_never_again_and_no_capacity_means_at_once(db):
    world = make_world()
    declined(world, "not_eligible", days_ago=400)
    assert world.service.id not in suggested(world)
    assert "non riproporla allo stesso servizio" in refused(draft, world)

    second = make_world()
    declined(second, "no_capacity")
    assert second.service.id in suggested(second)
    assert draft(second).status == "draft"


def test_a_draft_written_before_the_decline_cannot_be_submitted_to_that_service(db):
    world = make_world()
    waiting = draft(world, need="orientation")  # another need: not a duplicate
    _db.session.commit()
    declined(world, "unreachable")  # another referral of the same person, declined meanwhile
    message = refused(
        operations.transition, waiting, "submit", world.sender, day=today(), referral=waiting
    )
    assert "la persona non è raggiungibile" in message


def test_the_referral_form_says_why_a_fitting_service_is_not_suggested(app, db):
    world = make_world()
    declined(world, "person_refused")
    full = factories.service(world.receiver_org, name="Sportello chiuso", monthly_capacity=0)
    young = factories.service(
        world.receiver_org,
        name="Solo giovani",
        service_type="job_placement",
        age_min=18,
        age_max=29,
    )
    world.person.birth_date = today().replace(year=today().year - 50)
    _db.session.commit()
    client = signed_in(app, world.sender)
    page = client.get(
        f"/referrals/new?household={world.household.id}&person={world.person.id}&need=job_search"
    ).get_data(as_text=True)
    until = format_date(today() + timedelta(days=90))
    assert "servizi adatti al bisogno non possono accogliere la persona" in page
    assert f"{world.service.name}" in page
    assert f"la persona ha rinunciato): riproponibile dal {until}" in page
    assert "età fuori dai limiti del servizio: 18-29 anni" in page
    assert young.name in page
    assert full.name in page
    # No monthly places at all: not even a waiting list (a full one is suggested with its
    # waiting list, tests/test_referrals_waiting.py).
    assert "il servizio non ha posti mensili per le segnalazioni" in page
