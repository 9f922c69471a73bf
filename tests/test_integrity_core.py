"""The groundwork every workflow builds on: conditional transitions, row locks, idempotency keys.

The races run real concurrent requests (threads, each its own session and connection), on
SQLite and on PostgreSQL, released together by a barrier.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import idempotency
from app.db import utcnow
from app.extensions import db as _db
from app.idempotency import Submission
from app.registry.models import Organization, Service
from app.workflow import StaleState, lock_row, move
from tests import factories
from tests.concurrency import race

THREADS = 6


def together(app: Flask, act: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run act(i) in `threads` requests released at once; each commits its own transaction.
    Each result is what act returned, or the error the request ended with."""
    outcomes = race(app, lambda i: None, lambda i, _: act(i), threads, join_timeout=60)
    return [o.value if o.won else o.error for o in outcomes]


@pytest.fixture
def service(db: object) -> Service:
    org = factories.organization()
    svc = Service(organization_id=org.id, name="Orientamento", service_type="job_orientation")
    _db.session.add(svc)
    _db.session.commit()
    return svc


def test_lock_row_tells_whether_the_row_exists(db):
    org = factories.organization()
    _db.session.commit()
    assert lock_row(Organization, org.id) is True
    assert lock_row(Organization, org.id + 1000) is False
    _db.session.rollback()


def test_lock_row_makes_a_read_then_write_take_turns(app, service):
    """Each request reads the capacity and writes it lowered by one: with the lock, none is lost."""
    service.monthly_capacity = 100
    _db.session.commit()
    key = service.id  # the threads use ids, never the test's own objects

    def take_one(i: int) -> int:
        lock_row(Service, key)
        svc = _db.session.get(Service, key, populate_existing=True)
        time.sleep(0.05)  # what a request does between reading and writing: the others run
        svc.monthly_capacity = svc.monthly_capacity - 1
        _db.session.flush()
        return svc.monthly_capacity

    results = together(app, take_one)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(results) == list(range(100 - THREADS, 100))
    assert _db.session.get(Service, key).monthly_capacity == 100 - THREADS


def test_move_lets_exactly_one_of_many_win(app, service):
    """Everyone sees the service active and switches it off: one switch, the others are told."""

    def switch_off(i: int) -> str:
        svc = _db.session.get(Service, key)
        move(
            svc,
            ("yes",),
            {"description": f"spento da {i}"},
            refused=lambda current: f"già {current}",
            status_column="description",
        )
        return svc.description

    service.description = "yes"
    _db.session.commit()
    key = service.id

    results = together(app, switch_off)

    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, StaleState)]
    assert len(winners) == 1
    assert len(losers) == THREADS - 1
    # Each loser is told the state the record is in now: the winner's.
    assert {e.current_status for e in losers} == {winners[0]}
    assert all(e.message == f"già {winners[0]}" for e in losers)
    assert _db.session.get(Service, key).description == winners[0]


def test_move_refuses_a_record_that_already_moved_and_changes_nothing(service):
    service.description = "altro"
    _db.session.commit()

    with pytest.raises(StaleState) as refused:
        move(service, ("yes",), {"name": "Cambiato"}, refused=str, status_column="description")

    assert refused.value.current_status == "altro"
    _db.session.rollback()
    assert _db.session.get(Service, service.id).name == "Orientamento"


def test_a_key_claimed_and_completed_is_replayed_with_its_result(db):
    user = factories.user()
    _db.session.commit()
    key = idempotency.new_key()

    assert idempotency.claim(key, user, "prova") is None
    idempotency.complete(key, user, "prova", user, "/risultato/1")
    _db.session.commit()

    again = idempotency.claim(key, user, "prova")
    assert again is not None
    assert (again.result_url, again.object_type, again.object_id) == (
        "/risultato/1",
        "user_account",
        user.id,
    )
    # Another user, or another form, with the same key is a new submission.
    other = factories.user()
    _db.session.commit()
    assert idempotency.claim(key, other, "prova") is None
    assert idempotency.claim(key, user, "altro") is None
    _db.session.rollback()


def test_no_key_or_a_malformed_one_protects_nothing_and_stores_nothing(db):
    user = factories.user()
    _db.session.commit()
    for key in (None, "", "corta", "x" * 65, "due parole con spazi e più"):
        assert idempotency.claim(key, user, "prova") is None
    _db.session.commit()
    assert _db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_the_same_key_sent_at_once_creates_one_record(app, db):
    """A double click: both requests arrive together, one creates, the other gets its result."""
    user = factories.user()
    _db.session.commit()
    key = idempotency.new_key()
    user_id = user.id

    def submit(i: int) -> str:
        from app.auth.models import User

        actor = _db.session.get(User, user_id)
        earlier = idempotency.claim(key, actor, "nuovo_ente")
        if earlier is not None:
            return f"replay:{earlier.result_url}"
        org = factories.organization(name=f"Ente creato {i}")
        idempotency.complete(key, actor, "nuovo_ente", org, f"/entities/{org.id}")
        return f"created:/entities/{org.id}"

    results = together(app, submit, threads=4)

    assert not [r for r in results if isinstance(r, BaseException)], results
    created = [r for r in results if r.startswith("created:")]
    replays = [r for r in results if r.startswith("replay:")]
    assert len(created) == 1
    assert len(replays) == 3
    assert {r.split(":", 1)[1] for r in replays} == {created[0].split(":", 1)[1]}
    names = _db.session.scalars(
        select(Organization.name).where(Organization.name.like("Ente creato %"))
    ).all()
    assert len(names) == 1


def test_purge_forgets_keys_older_than_a_day(db):
    user = factories.user()
    _db.session.commit()
    old, new = idempotency.new_key(), idempotency.new_key()
    idempotency.claim(old, user, "prova")
    idempotency.claim(new, user, "prova")
    _db.session.commit()
    _db.session.execute(
        Submission.__table__.update()
        .where(Submission.key == old)
        .values(created_at=utcnow() - timedelta(hours=25))
    )
    _db.session.commit()

    assert idempotency.purge() == 1
    _db.session.commit()
    assert _db.session.scalars(select(Submission.key)).all() == [new]
