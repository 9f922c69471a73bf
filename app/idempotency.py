"""Idempotency keys: a create form sent twice (a double click, a slow line) makes one record.

Each create form carries a hidden, random key (`IdempotencyKeyMixin`), kept when the form is
shown again with an error. The view calls `claim()` before it creates anything:

- the first submission of a key reserves it, as the first write of its transaction, and after
  creating the record calls `complete()` with the record and the page to show; both commit
  together, so a key is never "used" without its record, nor a record left without its key;
- a second submission of the same key (by the same user, for the same purpose) gets the first
  one's `Submission` back, and the view answers as the first did (a redirect to the record, or
  the same fragment), never a second row and never an error;
- two submissions at the very same moment meet on the table's unique constraint: the second
  waits for the first to commit (PostgreSQL's unique index, SQLite's write lock), fails to
  insert, rolls back what it had not yet written, and reads the first one's result.

A form sent without a key (an old page, a script) is processed as before: nothing to protect.
Keys are kept `RETENTION_HOURS`; `purge()` forgets older ones (nightly, with the retention task).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField
from wtforms.validators import Optional, Regexp

from app.db import Base, UTCDateTime, utcnow
from app.extensions import db
from app.i18n import lazy_gettext as _l

RETENTION_HOURS = 24
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class Submission(Base):
    """One use of an idempotency key: who sent it, for what, and what it created."""

    __tablename__ = "submission_key"
    __table_args__ = (UniqueConstraint("user_id", "purpose", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column(Integer)
    result_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def new_key() -> str:
    return secrets.token_urlsafe(24)


class IdempotencyKeyMixin:
    """Add to a create form: a hidden key, new on each blank form, kept on a re-shown one."""

    idempotency_key = HiddenField(
        default=new_key,
        validators=[
            Optional(),
            Regexp(KEY_PATTERN, message=_l("Modulo non valido: ricarica la pagina e riprova.")),
        ],
    )


def _find(key: str, user_id: int, purpose: str) -> Submission | None:
    return db.session.scalar(
        select(Submission).where(
            Submission.user_id == user_id, Submission.purpose == purpose, Submission.key == key
        )
    )


def claim(key: str | None, user: Any, purpose: str) -> Submission | None:
    """Reserve `key` for this request, or return the submission that already used it.

    Call it before any other write of the request: when a twin request wins the race, this
    request's transaction is rolled back (it had nothing of its own yet) and the winner's
    submission is returned for the view to answer with.
    """
    if not key or not KEY_PATTERN.match(key):
        return None
    earlier = _find(key, user.id, purpose)
    if earlier is not None:
        return earlier
    db.session.add(Submission(key=key, user_id=user.id, purpose=purpose))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return _find(key, user.id, purpose)
    return None


def complete(key: str | None, user: Any, purpose: str, obj: Any, url: str | None) -> None:
    """Write down what the key's submission created, in the same transaction as the record."""
    if not key or not KEY_PATTERN.match(key):
        return
    submission = _find(key, user.id, purpose)
    if submission is None:  # claim() was not called: nothing to record
        return
    submission.object_type = getattr(obj, "__tablename__", None) if obj is not None else None
    submission.object_id = getattr(obj, "id", None)
    submission.result_url = url
    db.session.flush()


def purge(now: datetime | None = None) -> int:
    """Forget keys older than RETENTION_HOURS; returns how many."""
    cutoff = (now or utcnow()) - timedelta(hours=RETENTION_HOURS)
    result = db.session.execute(delete(Submission).where(Submission.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
