"""Stalled referrals (issue #24): late in a step after N working days (flagged, the people told
once), returned to the sender as "scaduta" after the step's second limit, by the nightly run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import select

from app.admin.models import set_setting
from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.notifications.labels import text
from app.notifications.models import Notification
from app.notifications.reminders import send_reminders
from app.referrals import operations, stalled
from app.referrals.models import Referral
from tests.test_referrals_workflow import (
    World,
    at_rome,
    history,
    make_world,
    reach,
)

# Monday 15 June 2026. Working days before it: 12, 11, 10, 9, 8 June (5), 5, 4, 3 June (8);
# 2 June is a holiday (Festa della Repubblica), 1 June (9), 29 May (10) ...
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def request_context(app: Flask, db: object) -> Iterator[None]:
    with app.test_request_context():
        yield


def in_step_since(world: World, path: str, day: date) -> Referral:
    referral = reach(world, path)
    referral.status_changed_at = at_rome(day)
    _db.session.flush()
    return referral


def told(referral: Referral, kind: str) -> set[int]:
    return set(
        _db.session.scalars(
            select(Notification.user_id).where(
                Notification.kind == kind, Notification.object_id == referral.id
            )
        )
    )


def test_a_late_submission_is_told_once_to_the_sender_and_the_city_with_its_expiry_day(db):
    world = make_world(capacity=50)
    late = in_step_since(world, "submitted", date(2026, 6, 5))  # 6 working days: late
    on_time = in_step_since(world, "submitted", date(2026, 6, 8))  # 5: not yet

    assert stalled.warn_stalled(TODAY) == 1

    people = {world.sender.id, world.sender_colleague.id}
    people |= {world.coordinator.id, world.coordinator_colleague.id}
    assert told(late, "referral_stalled") == people  # the receiver has nothing to do yet
    assert told(on_time, "referral_stalled") == set()
    notification = _db.session.scalars(
        select(Notification).where(
            Notification.object_id == late.id, Notification.kind == "referral_stalled"
        )
    ).first()
    # 20 working days after 5 June: 24 June (San Giovanni, Turin's patron) is not one.
    assert text(notification) == (
        f"La segnalazione n. {late.id} attende una risposta da più di 5 giorni lavorativi: "
        "se nessuno risponde entro il 06/07/2026, torna all'ente inviante"
    )
    assert stalled.warn_stalled(TODAY) == 0  # the next night: already told


def test_the_next_step_is_warned_about_afresh_and_the_receiver_is_told_too(db):
    world = make_world(capacity=50)
    referral = in_step_since(world, "submitted", date(2026, 6, 1))
    stalled.warn_stalled(TODAY)
    operations.transition(referral, "approve", world.coordinator, day=TODAY)
    # The City's approval settles the warning for everybody it told.
    assert (
        _db.session.scalar(
            select(Notification.read_at).where(
                Notification.kind == "referral_stalled",
                Notification.user_id == world.sender.id,
            )
        )
        is not None
    )
    referral.status_changed_at = at_rome(date(2026, 6, 5))
    _db.session.flush()

    assert stalled.warn_stalled(TODAY) == 1
    assert {world.receiver.id, world.receiver_colleague.id} <= told(referral, "referral_stalled")


def test_past_the_second_limit_the_referral_returns_to_the_sender_as_expired(db):
    world = make_world(capacity=50)
    # 21 working days in "approved" (the limit is 20): back to the sender.
    gone = in_step_since(world, "approved", date(2026, 5, 14))
    kept = in_step_since(world, "approved", date(2026, 5, 15))  # 20 working days: not yet

    summary = send_reminders(TODAY)

    assert summary["segnalazioni scadute"] == 1
    _db.session.refresh(gone)
    assert (gone.status, gone.reason_code) == ("expired", "no_answer")
    assert gone.closed_at is not None
    assert _db.session.get(Referral, kept.id).status == "approved"
    last = history(gone)[-1]
    assert (last.from_status, last.to_status, last.actor_id, last.reason_code) == (
        "approved",
        "expired",
        None,
        "no_answer",
    )
    event = _db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "referral_expired", AuditEvent.object_id == gone.id
        )
    ).one()
    assert event.actor_id is None
    assert event.changes["status"] == ["approved", "expired"]
    everybody = {world.sender.id, world.sender_colleague.id, world.coordinator.id}
    everybody |= {world.receiver.id, world.receiver_colleague.id}
    assert everybody <= told(gone, "referral_expired")


def test_an_accepted_referral_never_started_expires_with_its_own_limit(db):
    world = make_world(capacity=50)
    accepted = in_step_since(world, "accepted", date(2026, 5, 14))  # 21 working days
    started = in_step_since(world, "in_progress", date(2026, 1, 5))  # a path under way: never

    assert stalled.expire_stalled(TODAY) == 0  # the outcome step allows 30 by default
    set_setting("referral_outcome_expiry_working_days", 20)
    _db.session.flush()
    assert stalled.expire_stalled(TODAY) == 1
    assert (accepted.status, accepted.reason_code) == ("expired", "no_outcome")
    assert started.status == "in_progress"


def test_a_referral_answered_while_the_night_run_reads_it_is_not_expired(db):
    """The run reads the late ones, then takes each under its lock: one answered in between
    (its status no longer the one read) is left alone, and the others still expire."""
    world = make_world(capacity=50)
    first = in_step_since(world, "submitted", date(2026, 4, 1))
    second = in_step_since(world, "submitted", date(2026, 4, 1))
    real_lock = stalled.lock_row

    def approved_just_before_the_lock(model, row_id):
        if row_id == first.id:  # the City's approval commits while the run waits for the lock
            _db.session.execute(
                Referral.__table__.update()
                .where(Referral.id == first.id)
                .values(status="approved", status_changed_at=at_rome(TODAY))
            )
        return real_lock(model, row_id)

    with mock.patch.object(stalled, "lock_row", approved_just_before_the_lock):
        assert stalled.expire_stalled(TODAY) == 1

    _db.session.refresh(first)
    assert first.status == "approved"
    assert second.status == "expired"


def test_nobody_can_expire_a_referral_by_hand(db):
    world = make_world(capacity=50)
    referral = reach(world, "submitted")
    for actor in (world.sender, world.coordinator, world.receiver):
        with pytest.raises(operations.DomainError) as refused:
            operations.transition(referral, "expire", actor, reason_code="no_approval")
        assert "scade da sola" in refused.value.message
    assert referral.status == "submitted"


def test_an_expired_referral_in_flight_gives_its_place_to_the_waiting_list(db):
    """Expiring frees the place it held, like a rejection: the oldest waiting one is sent."""
    from app.clock import today
    from tests.test_referrals_waiting import fill, waiting

    world = make_world(capacity=1)
    (in_flight,) = fill(world, places=1)
    queued = waiting(world)
    assert queued.status == "waiting"
    in_flight.status_changed_at = at_rome(today() - timedelta(days=60))
    _db.session.flush()

    assert stalled.expire_stalled(today()) == 1

    assert in_flight.status == "expired"
    _db.session.refresh(queued)
    assert queued.status == "submitted"
    assert history(queued)[-1].from_status == "waiting"
