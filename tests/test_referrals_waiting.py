"""Waiting lists (issue #24, "Capacity and waiting lists").

A service's places of the month are taken by the referrals accepted this month and by those in
flight (submitted or approved). With no place left the sender may put the referral on the
service's waiting list; a place freed (a referral rejected, declined or cancelled, the month's
turn) moves the oldest waiting referral to "submitted", with its history row, audit event and
notifications. The concurrent cases are in tests/test_referrals_waiting_concurrency.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import today
from app.errors import DomainError
from app.extensions import db as _db
from app.referrals import operations, queries
from app.referrals.models import Referral
from app.workdays import month_start_utc
from tests import factories
from tests.test_referrals_views import net, post  # noqa: F401
from tests.test_referrals_workflow import (
    advance,
    audit_actions,
    draft,
    history,
    make_world,
    notified,
    request_context,  # noqa: F401
)
from tests.worlds import make_referral, signed_in


def fill(world, places: int = 1):
    """The service with `places` monthly places, all taken by referrals in flight."""
    world.service.monthly_capacity = places
    return [
        advance(world, draft(world, factories.person(world.household)), "submitted")
        for _ in range(places)
    ]


def waiting(world, need: str = "job_search"):
    """A new referral of the household that joins the service's waiting list."""
    referral = draft(world, factories.person(world.household), need)
    operations.transition(referral, "wait", world.sender)
    return referral


def left(world) -> int:
    return queries.places_left([world.service], today())[world.service.id]


# Places left ------------------------------------------------------------------------------------


def test_a_referral_in_flight_holds_its_place_and_gives_it_back_when_it_closes(db):
    world = make_world(capacity=3)
    assert left(world) == 3
    submitted = advance(world, draft(world, factories.person(world.household)), "submitted")
    approved = advance(world, draft(world, factories.person(world.household)), "approved")
    assert left(world) == 1
    operations.transition(submitted, "reject", world.coordinator, "wrong_service")
    operations.transition(approved, "accept", world.receiver)
    assert left(world) == 2  # the rejected one gave its place back; the accepted one keeps it
    assert queries.places_used([world.service.id], today()) == {world.service.id: 1}


def test_an_acceptance_of_last_month_frees_its_place_at_the_months_turn(db):
    world = make_world(capacity=1)
    (taken,) = fill(world)
    operations.transition(taken, "approve", world.coordinator)
    operations.transition(taken, "accept", world.receiver)
    assert left(world) == 0
    taken.accepted_at = month_start_utc(today()) - timedelta(minutes=5)
    _db.session.flush()
    assert left(world) == 1


# Joining the waiting list ---------------------------------------------------------------------


def test_a_full_service_refuses_the_submission_and_offers_its_waiting_list(db):
    world = make_world()
    fill(world)
    referral = draft(world, factories.person(world.household))  # a draft takes no place
    with pytest.raises(operations.ServiceFull) as refused:
        operations.transition(referral, "submit", world.sender)
    assert "lista d'attesa" in refused.value.message
    _db.session.refresh(referral)
    assert referral.status == "draft"

    operations.transition(referral, "wait", world.sender)

    assert referral.status == "waiting"
    assert referral.waiting_since is not None
    assert referral.submitted_at is None
    assert [(h.from_status, h.to_status) for h in history(referral)][-1] == ("draft", "waiting")
    assert audit_actions(referral)[-1] == "referral_waiting"
    assert queries.waiting_position(referral) == 1
    assert queries.waiting_counts([world.service.id]) == {world.service.id: 1}
    assert left(world) == 0  # a waiting referral holds no place


def test_the_waiting_list_keeps_the_order_of_arrival(db):
    world = make_world()
    fill(world)
    first, second, third = (
        waiting(world, need) for need in ("job_search", "training", "orientation")
    )
    assert [queries.waiting_position(r) for r in (first, second, third)] == [1, 2, 3]
    operations.transition(second, "cancel", world.sender)
    assert second.status == "cancelled"
    assert [queries.waiting_position(r) for r in (first, second, third)] == [1, None, 2]


def test_waiting_is_refused_like_a_submission(db):
    world = make_world()
    fill(world)
    referral = draft(world, factories.person(world.household))
    world.accreditation.status = "suspended"
    _db.session.flush()
    with pytest.raises(DomainError, match="accreditamento non è in vigore"):
        operations.transition(referral, "wait", world.sender)
    with pytest.raises(DomainError, match="Non spetta a te"):
        operations.transition(referral, "wait", world.coordinator)


def test_a_service_without_monthly_places_has_no_waiting_list(db):
    world = make_world(capacity=1)
    referral = draft(world)
    world.service.monthly_capacity = 0
    _db.session.flush()
    with pytest.raises(DomainError, match="non ha posti mensili"):
        operations.transition(referral, "wait", world.sender)


# Promotions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "action", "code"),
    [
        ("submitted", "reject", "wrong_service"),
        ("approved", "decline", "unreachable"),
        ("submitted", "cancel", None),
        ("approved", "cancel", None),
    ],
)
def test_a_place_freed_goes_to_the_oldest_waiting_referral(db, path, action, code):
    world = make_world()
    (holder,) = fill(world)
    if path == "approved":
        operations.transition(holder, "approve", world.coordinator)
    first, second = waiting(world), waiting(world, "training")
    actor = {"reject": world.coordinator, "decline": world.receiver, "cancel": world.sender}

    operations.transition(holder, action, actor[action], code)

    _db.session.refresh(first)
    _db.session.refresh(second)
    assert (first.status, second.status) == ("submitted", "waiting")
    assert first.submitted_at is not None
    assert queries.waiting_position(second) == 1
    assert left(world) == 0  # the freed place is taken again, never twice
    step = history(first)[-1]
    assert (step.from_status, step.to_status, step.actor_id) == ("waiting", "submitted", None)
    assert audit_actions(first)[-1] == "referral_promoted"
    coordinators = {world.coordinator.id, world.coordinator_colleague.id}
    senders = {world.sender.id, world.sender_colleague.id}
    assert notified(first, "referral_submitted") == coordinators - {actor[action].id}
    assert notified(first, "referral_promoted") == senders - {actor[action].id}
    assert not notified(second, "referral_promoted")


def test_a_step_that_frees_no_place_promotes_nobody(db):
    world = make_world()
    (holder,) = fill(world)
    first = waiting(world)
    draft_only = draft(world, factories.person(world.household), "training")
    operations.transition(draft_only, "cancel", world.sender)  # a draft held no place
    operations.transition(holder, "approve", world.coordinator)
    operations.transition(holder, "accept", world.receiver)  # keeps its place
    _db.session.refresh(first)
    assert first.status == "waiting"


def test_a_waiting_referral_of_a_household_that_withdrew_its_consent_stays_waiting(db):
    world = make_world()
    (holder,) = fill(world)
    other_household = factories.household(world.hub)
    blocked = operations.create(
        other_household, other_household.members[0], "job_search", world.service,
        "Cerca lavoro.", world.sender,
    )  # fmt: skip
    operations.transition(blocked, "wait", world.sender)
    behind = waiting(world)
    factories.withdraw_all(other_household, "job_services", on=today())
    _db.session.flush()

    operations.transition(holder, "cancel", world.sender)

    _db.session.refresh(blocked)
    _db.session.refresh(behind)
    assert (blocked.status, behind.status) == ("waiting", "submitted")


def test_joining_a_list_while_a_place_is_left_goes_straight_to_the_city(db):
    world = make_world(capacity=2)
    fill(world, 2)
    world.service.monthly_capacity = 3  # the entity adds a place
    _db.session.flush()
    referral = waiting(world)
    assert referral.status == "submitted"
    assert [h.to_status for h in history(referral)][-2:] == ["waiting", "submitted"]


def test_the_months_turn_promotes_as_many_as_places_left_and_twice_is_harmless(app, db):
    world = make_world()
    holders = fill(world, 2)
    queue = [waiting(world, need) for need in ("job_search", "training", "orientation")]
    for holder in holders:
        operations.transition(holder, "approve", world.coordinator)
        operations.transition(holder, "accept", world.receiver)
        holder.accepted_at = month_start_utc(today()) - timedelta(hours=1)  # last month
    _db.session.commit()

    first = app.test_cli_runner().invoke(args=["promote-waiting-referrals"])
    again = app.test_cli_runner().invoke(args=["promote-waiting-referrals"])

    assert first.exit_code == 0, first.output
    assert "uscite dalla lista d'attesa: 2" in first.output
    assert "uscite dalla lista d'attesa: 0" in again.output
    _db.session.expire_all()
    assert [_db.session.get(Referral, r.id).status for r in queue] == [
        "submitted",
        "submitted",
        "waiting",
    ]


# Pages -----------------------------------------------------------------------------------------


def _full(net):  # noqa: F811
    net.service.monthly_capacity = 1
    make_referral(net.household, net.service, "submitted", need="training")
    _db.session.commit()
    return net.service


def _form(net, action):  # noqa: F811
    return {
        "person": str(net.household.members[0].id),
        "need": "orientation",
        "service": str(net.service.id),
        "motivation": "Cerca un percorso di orientamento.",
        "action": action,
    }


def test_the_form_suggests_a_full_service_with_its_waiting_list(app, net):  # noqa: F811
    _full(net)
    make_referral(net.household, net.service, "waiting", need="traineeship")
    _db.session.commit()
    page = signed_in(app, net.sender_user).get(
        f"/referrals/new?household={net.household.id}&need=orientation"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'id="service-{net.service.id}"' in html
    assert "nessun posto questo mese: lista d&#39;attesa (1 in attesa)" in html


def test_sending_to_a_full_service_offers_the_waiting_list_with_the_position(app, net):  # noqa: F811
    _full(net)
    browser = signed_in(app, net.sender_user)
    url = f"/referrals/new?household={net.household.id}"
    before = _db.session.scalar(select(Referral.id).order_by(Referral.id.desc()).limit(1))

    offered = post(browser, url, _form(net, "submit"))

    html = offered.get_data(as_text=True)
    assert offered.status_code == 422
    assert "posizione 1 in lista" in html
    assert 'name="action" value="wait"' in html
    assert "Cerca un percorso di orientamento." in html  # what was typed stays
    assert _db.session.scalar(select(Referral.id).order_by(Referral.id.desc()).limit(1)) == before

    sent = post(browser, url, _form(net, "wait"))

    assert sent.status_code == 303
    referral = _db.session.scalars(select(Referral).order_by(Referral.id.desc())).first()
    assert referral.status == "waiting"
    page = browser.get(sent.headers["Location"]).get_data(as_text=True)
    assert "posizione 1 in lista" in page.replace("Posizione", "posizione")
    assert "in lista d&#39;attesa" in page


def test_the_referral_page_shows_the_position_and_the_city_sees_the_queue(app, net):  # noqa: F811
    _full(net)
    first = make_referral(net.household, net.service, "waiting", need="traineeship", days_ago=1)
    second = make_referral(net.household, net.service, "waiting", need="digital_skills")
    _db.session.commit()
    sender = signed_in(app, net.sender_user)
    city = signed_in(app, net.coordinator)
    receiver = signed_in(app, net.receiver_user)

    assert "Posizione 2 in lista" in sender.get(f"/referrals/{second.id}").get_data(as_text=True)
    assert "Posizione 1 in lista" in city.get(f"/referrals/{first.id}").get_data(as_text=True)
    assert receiver.get(f"/referrals/{first.id}").status_code == 404  # not approved yet

    listed = city.get("/referrals/?status=waiting").get_data(as_text=True)
    assert f'href="/referrals/{first.id}"' in listed
    assert f'href="/referrals/{second.id}"' in listed
    registry = city.get(f"/entities/{net.receiver.id}").get_data(as_text=True)
    assert "2 in lista d’attesa" in registry
    assert "0 liberi questo mese" in registry
    stranger = factories.user(role="entity_operator", organization=factories.organization())
    _db.session.commit()
    other = signed_in(app, stranger).get(f"/entities/{net.receiver.id}").get_data(as_text=True)
    assert "in lista d’attesa" not in other
    assert "0 liberi questo mese" in other


def test_the_sender_cancels_a_waiting_referral_from_its_page(app, net):  # noqa: F811
    _full(net)
    referral = make_referral(net.household, net.service, "waiting", need="traineeship")
    _db.session.commit()
    browser = signed_in(app, net.sender_user)
    page = browser.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert f'action="/referrals/{referral.id}/cancel"' in page

    done = post(browser, f"/referrals/{referral.id}/cancel")

    assert done.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Referral, referral.id).status == "cancelled"
