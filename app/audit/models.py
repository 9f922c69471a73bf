"""AuditEvent: append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_created_at", "created_at"),
        # The audit viewer's organization filter, newest first.
        Index("ix_audit_event_actor_organization_created", "actor_organization_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    actor_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT")
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip_address: Mapped[str | None] = mapped_column(String(45))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.object_type}:{self.object_id}>"


class AuditEventHousehold(Base):
    """A household whose personal data an audit event's response showed (one row per household).

    A list, a search, an edit form, a finder or an export shows many households at once: its one
    `AuditEvent` names them all here, written with one bulk insert, so each household's "who
    viewed" timeline finds the event by an index instead of searching JSON.
    """

    __tablename__ = "audit_event_household"
    __table_args__ = (
        PrimaryKeyConstraint("audit_event_id", "household_id"),
        Index("ix_audit_event_household_household", "household_id", "audit_event_id"),
    )

    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id", ondelete="RESTRICT"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="RESTRICT"))
