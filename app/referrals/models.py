"""Referral (segnalazione) and its status history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.households.models import Household, Person
    from app.registry.models import Organization, Service

STATUSES = (
    "draft",
    "submitted",
    "approved",
    "rejected",
    "accepted",
    "declined",
    "in_progress",
    "completed",
    "failed",
    "cancelled",
    # On the service's waiting list: no place left this month when it was sent; it moves to
    # "submitted" by itself when a place frees (operations.promote_waiting).
    "waiting",
    "expired",  # left unanswered past the step's limit: back to the sender (issue #24)
)
OPEN_STATUSES = ("draft", "submitted", "approved", "accepted", "in_progress", "waiting")
# In flight to the service (the City and the entity are answering): each holds one of the
# service's places of the month, so that nobody else is promised it meanwhile.
IN_FLIGHT = ("submitted", "approved")
# Accepted by the receiving entity: these consume the service's monthly capacity.
CONSUMING_STATUSES = ("accepted", "in_progress", "completed", "failed")


class Referral(TimestampMixin, Base):
    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status"),
        # With submitted_at: the City's overdue count (home) is read from the index alone.
        Index("ix_referral_status_changed", "status", "status_changed_at", "submitted_at"),
        Index("ix_referral_from_org_status", "from_organization_id", "status"),
        Index("ix_referral_to_org_status", "to_organization_id", "status"),
        Index("ix_referral_service_accepted", "service_id", "accepted_at"),
        Index("ix_referral_submitted_at", "submitted_at"),
        # The approval queue: one status, oldest submission first, counted from the index.
        Index("ix_referral_status_submitted", "status", "submitted_at", "id"),
        # An entity's list, one side at a time (see referrals.views._page_by_side).
        Index("ix_referral_from_changed", "from_organization_id", "status_changed_at", "id"),
        Index("ix_referral_to_changed", "to_organization_id", "status_changed_at", "id"),
        Index("ix_referral_changed", "status_changed_at", "id"),  # the lists' newest first
        # A service's waiting list in its order, and its places held in flight (same prefix).
        Index("ix_referral_service_queue", "service_id", "status", "waiting_since", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    from_organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT")
    )
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="RESTRICT"))
    # The service's organization, kept on the row so scoping needs no join.
    to_organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    need: Mapped[str] = mapped_column(String(32))
    motivation: Mapped[str] = mapped_column(Text)
    match_score: Mapped[int | None] = mapped_column(Integer)
    # The chosen service's place among the eligible services ranked for the need (1 = first):
    # approving a referral sent to another one asks the coordinator why.
    match_rank: Mapped[int | None] = mapped_column(Integer)
    # [[code, {params}], ...] as computed by matching.rank() when the service was chosen.
    match_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When it joined the service's waiting list (its place in the queue); kept afterwards.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last coded reason: of a rejection, a decline or an outcome.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_note: Mapped[str | None] = mapped_column(String(1000))
    # When the nightly reminders said this referral is stalled in its current step (cleared
    # by every step, so each step is warned about once).
    stalled_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    household: Mapped[Household] = relationship()
    person: Mapped[Person | None] = relationship()
    from_organization: Mapped[Organization] = relationship(foreign_keys=[from_organization_id])
    to_organization: Mapped[Organization] = relationship(foreign_keys=[to_organization_id])
    service: Mapped[Service] = relationship()
    created_by: Mapped[User | None] = relationship()
    history: Mapped[list[ReferralStatusChange]] = relationship(
        back_populates="referral",
        order_by="(ReferralStatusChange.created_at, ReferralStatusChange.id)",
        cascade="all, delete-orphan",
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReferralStatusChange(Base):
    """One step of a referral's life: who moved it from what to what, and why."""

    __tablename__ = "referral_status_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )
    reason_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()
