"""What every page reads before its own work, kept across requests while the data is unchanged.

Every page's layout needs the logged-in user (with their organization), the portal's settings
and the unread-notifications badge: three or four statements per request, the same answers
from one request to the next. Each process keeps them (`versioned`), each under a **version**
of its kind of data ("users", "settings", "notifications"). A version is a row of the
`cache_version` table that every write of that kind of data changes, in the write's own
transaction (`register_versioned_model`: the models' flushes and the ORM's bulk UPDATE/DELETE).
A request reads all versions in one statement (`versions`) and uses a kept value only if it was
kept under the version it reads now, so every process, on any machine, sees a change as soon as
it is committed: a disabled account, a new name, a notification just read.

- Versions are random numbers, not counters: a database emptied and filled again (the tests)
  never brings an old version back.
- A kind that the request itself has written is read afresh for the rest of the request, and
  nothing computed then is kept: the write might still be rolled back.
- Only layout data goes here, never a page's personal data (those pages are rendered fresh and
  audited). Keys name their user (the session token, the user id).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from copy import deepcopy
from typing import Any, TypeVar

from flask import current_app, g, has_request_context
from sqlalchemy import BigInteger, String, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    make_transient_to_detached,
    mapped_column,
)

from app.db import Base
from app.extensions import db

T = TypeVar("T")

MAX_ENTRIES = 2048  # users logged in at once on one process, and their badges, with room to spare


class CacheVersion(Base):
    """The current version of a kind of data (a random number, changed by every write)."""

    __tablename__ = "cache_version"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


_KINDS: dict[type, str] = {}
_entries: OrderedDict[tuple[str, Hashable], tuple[int, object]] = OrderedDict()
_lock = threading.Lock()


def register_versioned_model(model: type, kind: str) -> None:
    """Writes of `model`'s rows change the version of `kind` (wired at app creation)."""
    _KINDS[model] = kind


def _enabled() -> bool:
    return has_request_context() and bool(current_app.config.get("LAYOUT_CACHE", True))


def versions() -> dict[str, int]:
    """The versions as this request sees them: one statement, the first time it is asked."""
    if "cache_versions" not in g:
        rows = db.session.execute(select(CacheVersion.name, CacheVersion.value))
        g.cache_versions = {row.name: row.value for row in rows}
    return g.cache_versions  # type: ignore[no-any-return]


def versioned(kind: str, key: Hashable, compute: Callable[[], T], keep: bool = True) -> T:
    """The value of `key` as kept under the current version of `kind`, else `compute()`'s
    (kept for the next request unless `keep` is false, as for an answer that must not be)."""
    if not _enabled() or kind in g.get("cache_written", ()):
        return compute()
    version = versions().get(kind)
    if version is None:  # no write since the table was made: nothing to tell a change by
        return compute()
    entry_key = (kind, key)
    with _lock:
        hit = _entries.get(entry_key)
        if hit is not None:
            _entries.move_to_end(entry_key)
    if hit is not None and hit[0] == version:
        return hit[1]  # type: ignore[return-value]
    value = compute()
    if keep and kind not in g.get("cache_written", ()):
        with _lock:
            _entries[entry_key] = (version, value)
            _entries.move_to_end(entry_key)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


def forget_all() -> None:
    """Drop what this process keeps (tests that compare pages with and without it)."""
    with _lock:
        _entries.clear()


def _bump(session: Session, kinds: Iterable[str]) -> None:
    wanted = sorted(set(kinds))
    if not wanted:
        return
    connection = session.connection()
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for kind in wanted:
        value = secrets.randbits(62)
        statement = insert(CacheVersion).values(name=kind, value=value)
        connection.execute(
            statement.on_conflict_do_update(index_elements=["name"], set_={"value": value})
        )
    if has_request_context():
        g.cache_written = set(g.get("cache_written", ())) | set(wanted)


def _kind_of(instance: object) -> str | None:
    for model, kind in _KINDS.items():
        if isinstance(instance, model):
            return kind
    return None


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: object) -> None:
    kinds = {
        kind
        for instance in (*session.new, *session.deleted)
        if (kind := _kind_of(instance)) is not None
    }
    kinds |= {
        kind
        for instance in session.dirty
        if (kind := _kind_of(instance)) is not None
        and session.is_modified(instance, include_collections=False)
    }
    _bump(session, kinds)


@event.listens_for(Session, "do_orm_execute")
def _bulk_writes(state: ORMExecuteState) -> None:
    """`update(Notification)...`, `delete(...)` run through the session: their kind changes."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    kinds = {
        kind for mapper in state.all_mappers if (kind := _KINDS.get(mapper.class_)) is not None
    }
    _bump(state.session, kinds)


def snapshot(instance: Any) -> dict[str, Any]:
    """An instance's column values, as kept (no session, no relationships)."""
    return {
        attribute.key: _copy(getattr(instance, attribute.key))
        for attribute in sa_inspect(type(instance)).column_attrs
    }


def restore(model: type[T], values: dict[str, Any], **related: Any) -> T:
    """A persistent instance of `model` in this request's session from `snapshot`'s values
    (and `related` objects already in the session), as if loaded by a query, without one."""
    instance = model(**{key: _copy(value) for key, value in values.items()}, **related)
    make_transient_to_detached(instance)  # clean, with its identity: as a query would load it
    existing = db.session.identity_map.get(sa_inspect(instance).key)
    if existing is not None:  # already loaded by this request: that one, as a query would
        return existing  # type: ignore[no-any-return]
    db.session.add(instance)
    return instance


def _copy(value: Any) -> Any:
    """Each request its own lists and dicts (JSON columns); other values are immutable."""
    return deepcopy(value) if isinstance(value, list | dict) else value
