"""Portal settings kept in the database, so every process sees the same values; the account
changes that wait for a City coordinator's confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow

# The settings store is shared core (app.settings); kept importable from here, where it lived.
from app.settings import CACHE_KEY, Setting, get_setting, set_setting  # noqa: F401

if TYPE_CHECKING:
    from app.auth.models import User


class AccountChangeRequest(Base):
    """An account change asked by an admin that gives access to household data (four eyes).

    `kind` is "create" (an account with a role that sees households), "update" (a role or an
    organization that changes what the account sees) or "password_reset" (a new temporary
    password for such an account). Nothing changes until a coordinator other than the requester
    and the account's owner confirms: `status` goes `pending -> confirmed | refused` once, by a
    conditional update (app/workflow.py), so two coordinators deciding at once cannot both win.
    """

    __tablename__ = "account_change_request"
    __table_args__ = (
        CheckConstraint("kind IN ('create', 'update', 'password_reset')", name="kind"),
        CheckConstraint("status IN ('pending', 'confirmed', 'refused')", name="status"),
        Index("ix_account_change_request_status_requested_at", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # The account concerned: for "create", set when the confirmation creates it.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    # For "create": the username asked for, kept free while the request waits.
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    # What the change sets: for "create" every field; for "update" role and organization_id.
    requested_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
