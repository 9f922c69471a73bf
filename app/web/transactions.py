"""One commit per request, and what the web layer knows about it.

- `committed()`: whether this request's transaction was committed. After that, a failure (the
  connection dropping while the page is drawn) must not be reported as an error: the change is
  saved, and a user told otherwise would do it again (app/web/errors.py answers "saved, reload").
- `commit_and_render()` / `finish()`: the response is prepared first, then the transaction is
  committed, so that nothing after the commit can fail the request.
- `roll_back()`: an operation was refused (a domain rule, a conflict the database found, a
  double click already done): forget what it left in the session, then answer (the form again
  with the message, or "done"). Views never call `db.session.commit()`/`rollback()` themselves:
  they end through `finish()`, `commit_and_render()`, `commit_view()` (page views) or
  `roll_back()`, so the order "response, commit, flash" is written once (tests/test_thin_views.py).
- `commit_step()`: the few commits that must happen before the request goes on (a bulk
  action's items one by one, a login recorded before its session cookie is set).
- `database_unreachable(error)`: the database errors that mean "the portal cannot reach the
  database" (answered 503), as opposed to a mistake in a query (500).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, flash, g, has_request_context, make_response
from flask.typing import ResponseReturnValue
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from app.extensions import db
from app.web.htmx import render

# SQLSTATE classes of a server that is not there (any more): connection exception (08),
# operator intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now),
# too many connections (53300).
UNREACHABLE_SQLSTATES = ("08", "57P", "53300")
# SQLite: the file cannot be opened or read, or another process holds it past busy_timeout.
UNREACHABLE_SQLITE = ("unable to open database", "disk i/o error", "database is locked")


@event.listens_for(Session, "after_commit")
def _remember_commit(session: Session) -> None:
    """Mark the request once its transaction is committed (a savepoint released is not)."""
    if has_request_context() and not session.in_nested_transaction():
        g.transaction_committed = True


def committed() -> bool:
    """True once the request's transaction was committed: what it wrote is in the database."""
    return bool(g.get("transaction_committed", False))


def commit_and_render(
    page_template: str, fragment: str | None = None, status: int = 200, **context: Any
) -> Response:
    """`render()` (full page or htmx fragment), then commit: the page is drawn from the data of
    the transaction before it ends, so no query runs after the commit."""
    response = render(page_template, fragment, status, **context)
    db.session.commit()
    return response


def finish(
    response: ResponseReturnValue,
    message: str | None = None,
    category: str = "success",
    more: Sequence[tuple[str, str]] = (),
) -> Response:
    """Commit once the whole response is ready, then flash `message` for the next page.

    Build everything the response needs (redirect URLs with the new object's id, texts with
    its name) before calling it: after the commit the objects are expired and reading them
    queries the database again. The message (then each of `more`, as (message, category)) is
    flashed only after the commit succeeded, so a refused commit never leaves "saved" waiting
    on the next page.
    """
    prepared = make_response(response)
    db.session.commit()
    if message:
        flash(message, category)
    for text, kind in more:
        flash(text, kind)
    return prepared


def commit_step() -> None:
    """Commit a step that must be saved before the request goes on, where `finish()` cannot
    end it: one item of a bulk action (the referrals approved together, the counter's queued
    entries; a later item refused rolls back only itself with `roll_back()`), rows created on
    first use, a login or logout recorded before the session cookie changes, an audited
    refusal before `abort(429)`. Flash only after it, as `finish()` does."""
    db.session.commit()


def roll_back() -> None:
    """Forget what a refused operation wrote in this request's transaction.

    For a refusal the view answers (the form shown again with the message, a 409, or "already
    done" for a double click): nothing of the attempt reaches the database, and the objects
    the session loaded are read again from it."""
    db.session.rollback()


def discard_transaction() -> None:
    """Roll back what the failed request left open (never what it committed), even when the
    connection is gone: SQLAlchemy then only forgets the connection."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()


def database_unreachable(error: BaseException) -> bool:
    """True when `error` says the database cannot be reached, not that a query was wrong."""
    if isinstance(error, PoolTimeoutError):
        return True  # every connection of the pool is busy: the database is not answering
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    original = error.orig
    if type(original).__module__.startswith("sqlite3"):
        text = str(original).lower()
        return any(text.startswith(problem) for problem in UNREACHABLE_SQLITE)
    sqlstate = getattr(original, "sqlstate", None)
    # psycopg gives no SQLSTATE when the server could not be reached or went away.
    return sqlstate is None or str(sqlstate).startswith(UNREACHABLE_SQLSTATES)
