"""Waiting lists under concurrency (issue #24): two places freed at once move two waiting
referrals, never three; two promotion runs at once move as many as places left, not twice that.

Each thread is one web request with its own session, connection and commit, released together
by a barrier (tests/concurrency.py). Runs on SQLite (writers take turns) and on PostgreSQL
(the service's row lock; DATABASE_URL=postgresql://...).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.extensions import db as _db
from app.households.models import Household
from app.referrals import operations, queries
from app.referrals.models import Referral, ReferralStatusChange
from app.registry.models import Service
from app.workdays import month_start_utc
from tests import factories
from tests.concurrency import count, get, only_domain_errors, race

WAITING = 3


@pytest.fixture
def net(app: Flask, db: object) -> dict[str, Any]:
    """A job service with 2 monthly places, both held by referrals in flight (one submitted,
    one approved), and WAITING referrals on its waiting list, oldest first."""
    hub = factories.organization(is_hub=True, is_job_service=False, circoscrizione=3)
    receiver_org = factories.organization(is_job_service=True, circoscrizione=3)
    factories.accreditation(receiver_org)
    service = factories.service(
        receiver_org, name="Orientamento", service_type="orientation", monthly_capacity=2
    )
    made = {
        "service": service,
        "senders": [factories.user("entity_operator", hub) for _ in range(2)],
        "receivers": [factories.user("entity_operator", receiver_org) for _ in range(2)],
        "coordinators": [factories.user("coordinator") for _ in range(2)],
        "households": [
            factories.household(hub, members=1, circoscrizione=3, isee_value=Decimal("4500"))
            for _ in range(2 + WAITING + 1)  # the last one is spare
        ],
    }
    _db.session.commit()
    ids: dict[str, Any] = {
        key: [item.id for item in value] if isinstance(value, list) else value.id
        for key, value in made.items()
    }
    ids["app"] = app
    ids["in_flight"] = [
        send(ids, ids["households"][0], ("submit", "approve")),
        send(ids, ids["households"][1], ("submit",)),
    ]
    ids["waiting"] = [send(ids, h, ("wait",)) for h in ids["households"][2:-1]]
    with app.test_request_context():
        assert [get(Referral, r).status for r in ids["waiting"]] == ["waiting"] * WAITING
        assert places_left(ids) == 0
    return ids


def send(net: dict[str, Any], household_id: int, steps: tuple[str, ...]) -> int:
    with net["app"].test_request_context():
        household = get(Household, household_id)
        referral = operations.create(
            household,
            household.members[0],
            "orientation",
            get(Service, net["service"]),
            "Cerca un percorso dopo la fine del contratto.",
            get(User, net["senders"][0]),
        )
        actors = {"submit": net["senders"][0], "wait": net["senders"][0]}
        actors["approve"] = net["coordinators"][0]
        for action in steps:
            operations.transition(referral, action, get(User, actors[action]), day=today())
        _db.session.commit()
        return referral.id


def places_left(net: dict[str, Any]) -> int:
    service = get(Service, net["service"])
    return queries.places_left([service], today())[service.id]


def statuses(ids: list[int]) -> list[str]:
    return [get(Referral, r).status for r in ids]


def promotions(ids: list[int]) -> int:
    return count(
        ReferralStatusChange,
        ReferralStatusChange.referral_id.in_(ids),
        ReferralStatusChange.from_status == "waiting",
        ReferralStatusChange.to_status == "submitted",
    )


def promotion_events(ids: list[int]) -> int:
    return count(
        AuditEvent,
        AuditEvent.object_type == "referral",
        AuditEvent.object_id.in_(ids),
        AuditEvent.action == "referral_promoted",
    )


def test_two_places_freed_at_once_move_two_waiting_referrals_never_three(app, net):
    """The entity declines the approved referral while the sender cancels the submitted one."""
    approved, submitted = net["in_flight"]

    def prepare(i: int) -> tuple[Referral, User]:
        if i == 0:
            return get(Referral, approved), get(User, net["receivers"][0])
        return get(Referral, submitted), get(User, net["senders"][1])

    def act(i: int, loaded: tuple[Referral, User]) -> str:
        referral, actor = loaded
        if i == 0:
            return operations.transition(referral, "decline", actor, "unreachable").status
        return operations.transition(referral, "cancel", actor).status

    outcomes = race(app, prepare, act, threads=2)

    only_domain_errors(outcomes)
    assert sorted(o.value for o in outcomes) == ["cancelled", "declined"]
    assert statuses(net["waiting"]) == ["submitted", "submitted", "waiting"]  # the oldest two
    assert promotions(net["waiting"]) == 2
    assert promotion_events(net["waiting"]) == 2
    assert places_left(net) == 0
    assert queries.waiting_position(get(Referral, net["waiting"][2])) == 1


def test_two_colleagues_declining_two_referrals_at_once_move_two(app, net):
    submitted = net["in_flight"][1]
    with app.test_request_context():
        operations.transition(
            get(Referral, submitted), "approve", get(User, net["coordinators"][1])
        )
        _db.session.commit()

    def prepare(i: int) -> tuple[Referral, User]:
        return get(Referral, net["in_flight"][i]), get(User, net["receivers"][i])

    def act(i: int, loaded: tuple[Referral, User]) -> str:
        referral, receiver = loaded
        return operations.transition(referral, "decline", receiver, "unreachable").status

    outcomes = race(app, prepare, act, threads=2)

    only_domain_errors(outcomes)
    assert [o.value for o in outcomes] == ["declined", "declined"]
    assert statuses(net["waiting"]) == ["submitted", "submitted", "waiting"]
    assert promotions(net["waiting"]) == 2
    assert places_left(net) == 0


def test_two_promotion_runs_at_once_move_two_not_four(app, net):
    """The month turns (the places held are freed here by closing them without a promotion)
    and two runs of the nightly command overlap."""
    waiting = [*net["waiting"], send(net, net["households"][-1], ("wait",))]
    with app.test_request_context():
        for referral_id in net["in_flight"]:
            referral = get(Referral, referral_id)
            referral.status = "accepted"
            referral.accepted_at = month_start_utc(today()) - timedelta(hours=2)  # last month
        _db.session.commit()
        assert places_left(net) == 2

    def prepare(i: int) -> Service:
        return get(Service, net["service"])

    def act(i: int, service: Service) -> int:
        return len(operations.promote_waiting(service, today()))

    outcomes = race(app, prepare, act, threads=2)

    only_domain_errors(outcomes)
    assert sorted(o.value for o in outcomes) == [0, 2]
    assert statuses(waiting) == ["submitted", "submitted", "waiting", "waiting"]
    assert promotions(waiting) == 2
    assert promotion_events(waiting) == 2
    assert places_left(net) == 0


def test_cancelling_a_waiting_referral_while_a_place_frees_never_waits_in_a_circle(app, net):
    """The sender cancels the oldest waiting referral (its row, then the service's) while the
    entity declines a referral in flight (its row, then the service's, then the waiting ones):
    both answer, the oldest is cancelled and the next one takes the place."""
    approved, _submitted = net["in_flight"]
    oldest, second, third = net["waiting"]

    def prepare(i: int) -> tuple[Referral, User]:
        if i == 0:
            return get(Referral, oldest), get(User, net["senders"][1])
        return get(Referral, approved), get(User, net["receivers"][0])

    def act(i: int, loaded: tuple[Referral, User]) -> str:
        referral, actor = loaded
        if i == 0:
            return operations.transition(referral, "cancel", actor).status
        return operations.transition(referral, "decline", actor, "unreachable").status

    outcomes = race(app, prepare, act, threads=2)

    only_domain_errors(outcomes)
    assert [o.value for o in outcomes] == ["cancelled", "declined"]
    assert statuses([oldest, second, third]) == ["cancelled", "submitted", "waiting"]
    assert places_left(net) == 0
