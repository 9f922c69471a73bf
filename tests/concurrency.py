"""Real concurrent requests for the tests: threads released together by a barrier.

Each thread is one web request: its own application context, hence its own database session and
connection, and its own commit. `race` releases the threads after each has loaded what its page
showed (`prepare`), then each acts and commits; every outcome is kept for the test to look at.
Runs on SQLite (writers take turns, waiting on the busy timeout) and on PostgreSQL (row locks;
DATABASE_URL=postgresql://...).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import func, select

from app.errors import DomainError
from app.extensions import db as _db

E = TypeVar("E", bound=BaseException)


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    shown: Any = None  # what the refusal told the loser, read by race's `shown` before rollback

    @property
    def won(self) -> bool:
        return self.error is None


def race(
    app: Flask,
    prepare: Callable[[int], Any],
    act: Callable[[int, Any], Any],
    threads: int = 2,
    *,
    shown: Callable[[BaseException], Any] | None = None,
    join_timeout: float = 120,
) -> list[Outcome]:
    """Run `act(i, prepare(i))` in `threads` requests released together; each commits its own.

    `shown(error)`, when given, reads what the loser's page would show from its error while the
    request's session still holds it (the rollback expires it); it lands in `Outcome.shown`.
    """
    barrier = threading.Barrier(threads)
    outcomes = [Outcome() for _ in range(threads)]

    def request(i: int) -> None:
        with app.app_context(), app.test_request_context():
            released = False
            try:
                loaded = prepare(i)
                barrier.wait(timeout=30)
                released = True
                outcomes[i].value = act(i, loaded)
                _db.session.commit()
            except BaseException as error:  # kept for the test to look at, not lost in the thread
                if shown is not None:  # what the page shows, before rollback
                    outcomes[i].shown = shown(error)
                _db.session.rollback()
                outcomes[i].error = error
                if not released:  # the others must not wait for a request that never came
                    barrier.abort()

    workers = [threading.Thread(target=request, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=join_timeout)
    assert not any(worker.is_alive() for worker in workers), "a request never finished"
    _db.session.expire_all()
    return outcomes


def only_domain_errors(
    outcomes: list[Outcome],
    kind: type[E] = DomainError,  # type: ignore[assignment]
) -> list[E]:
    """The losers' errors; anything but a clear refusal of `kind` (a lock error, an integrity
    error, a 500) fails the test."""
    errors = [o.error for o in outcomes if o.error is not None]
    unexpected = [e for e in errors if not isinstance(e, kind)]
    assert not unexpected, unexpected
    return errors  # type: ignore[return-value]


def get(model: type, key: int) -> Any:
    return _db.session.get(model, key)


def count(model: Any, *where: Any) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
