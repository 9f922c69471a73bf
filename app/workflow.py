"""What every domain's workflow module is built on: conditional transitions and row locks.

Two colleagues pressing a button on the same record at once must never both win. So a state
change is never "read the status in Python, then write the new one": it is one conditional
UPDATE (`... WHERE id = :id AND status IN (:expected)`) whose row count says whether this
request won. The loser gets `StaleState`, a DomainError that the web layer answers with 409 and
the state the record is in now.

Limits that several people consume (a service's monthly places, a unit's beds, a hub's stock)
are checked under `lock_row()`: on PostgreSQL `SELECT ... FOR UPDATE`; on SQLite, an UPDATE
that changes nothing, which takes the database's single write lock at once, so the checks that
follow read what the other writer committed (SQLite serialises writers; a plain SELECT would
not wait for them).

Nothing here commits: the view does, once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from sqlalchemy import select, text, update
from sqlalchemy.orm import DeclarativeBase

from app.errors import DomainError
from app.extensions import db

M = TypeVar("M", bound=DeclarativeBase)


class StaleState(DomainError):
    """The record moved on since the user loaded it: somebody else acted first."""

    def __init__(self, message: str, current_status: str | None) -> None:
        super().__init__(message)
        self.current_status = current_status


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def lock_row(model: type[M], key: int) -> bool:
    """Hold the row of `model` with primary key `key` until the transaction ends.

    Returns False when the row does not exist. Another request locking the same row waits
    until this transaction commits or rolls back, then reads what it left.
    """
    table = model.__table__  # type: ignore[attr-defined]
    (pk,) = table.primary_key.columns
    if _is_sqlite():
        # SET id = id changes nothing, fires no ORM onupdate, and takes the write lock now.
        result = db.session.execute(
            text(f"UPDATE {table.name} SET {pk.name} = {pk.name} WHERE {pk.name} = :key"),  # noqa: S608 - names from the model
            {"key": key},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
    # FOR NO KEY UPDATE: writers of this row wait, but a row that merely refers to it (an audit
    # event naming a household, a distribution) can still be inserted. FOR UPDATE would block
    # those foreign-key checks too, and two requests locking in different orders deadlock.
    found = db.session.execute(select(pk).where(pk == key).with_for_update(key_share=True)).first()
    return found is not None


def move(
    obj: M,
    expected: Collection[str],
    values: Mapping[str, Any],
    *,
    refused: Callable[[str | None], str],
    status_column: str = "status",
) -> M:
    """Set `values` on `obj` only if its status is still one of `expected`, in one UPDATE.

    `refused(current_status)` builds the message the loser reads. On success the object is
    refreshed from the row, so the caller sees exactly what was written.
    """
    model = type(obj)
    table = model.__table__  # type: ignore[attr-defined]
    (pk,) = table.primary_key.columns
    status = table.columns[status_column]
    key = getattr(obj, pk.key)
    db.session.flush()  # pending changes of this request go first, in order
    result = db.session.execute(
        update(model)
        .where(pk == key, status.in_(tuple(expected)))
        .values(dict(values))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = db.session.scalar(select(status).where(pk == key))
        db.session.refresh(obj)
        raise StaleState(refused(current), current)
    db.session.refresh(obj)
    return obj
