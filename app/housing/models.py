"""Housing units and their vacancies, placements of households, follow-ups, eviction cases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.households.models import Household
    from app.registry.models import Organization

UNIT_STALE_AFTER_DAYS = 7
DEFAULT_CHECK_INTERVAL_DAYS = 30

PLACEMENT_STATUSES = (
    "proposed",
    "approved",
    "rejected",
    "accepted",
    "declined",
    "active",
    "ended",
    "cancelled",
)
# A proposed, approved or accepted placement holds its places of the unit; an active one too.
HOLDING_STATUSES = ("proposed", "approved", "accepted", "active")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class HousingUnit(TimestampMixin, Base):
    """A place to stay offered by a housing provider; `vacancies` are its free places now."""

    __tablename__ = "housing_unit"
    __table_args__ = (
        CheckConstraint("circoscrizione BETWEEN 1 AND 8", name="circoscrizione"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("vacancies >= 0", name="vacancies_not_negative"),
        CheckConstraint("vacancies <= capacity", name="vacancies_within_capacity"),
        CheckConstraint("max_stay_days IS NULL OR max_stay_days > 0", name="max_stay_positive"),
        CheckConstraint("monthly_cost IS NULL OR monthly_cost >= 0", name="cost_not_negative"),
        Index("ix_housing_unit_board", "active", "circoscrizione", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(200))
    circoscrizione: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    vacancies: Mapped[int] = mapped_column(Integer, default=0)
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    max_stay_days: Mapped[int | None] = mapped_column(Integer)
    monthly_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the provider last confirmed or changed the free places (the board's freshness).
    vacancies_updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Optimistic locking: every change bumps it; a change made from an older version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)

    provider: Mapped[Organization] = relationship()

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class UnitRate(Base):
    """The monthly cost of a unit in force from `valid_from` until the next row of the unit.

    Line C of the programme counts each day of a stay at the cost in force on that day, so a
    provider changing the cost today never rewrites what past stays cost."""

    __tablename__ = "housing_unit_rate"
    __table_args__ = (
        UniqueConstraint("unit_id", "valid_from"),
        CheckConstraint("monthly_cost IS NULL OR monthly_cost >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("housing_unit.id", ondelete="CASCADE"))
    monthly_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    valid_from: Mapped[date] = mapped_column(Date)
    set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Placement(TimestampMixin, Base):
    """A household placed (or proposed) in a housing unit."""

    __tablename__ = "placement"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(PLACEMENT_STATUSES)}", name="status"),
        CheckConstraint("check_interval_days BETWEEN 1 AND 365", name="check_interval_in_range"),
        CheckConstraint("places >= 1", name="places_positive"),
        CheckConstraint(
            "ended_on IS NULL OR moved_in_on IS NULL OR ended_on >= moved_in_on",
            name="end_after_move_in",
        ),
        Index("ix_placement_unit_status", "unit_id", "status"),
        Index("ix_placement_household_unit", "household_id", "unit_id"),
        Index("ix_placement_status_changed", "status", "status_changed_at"),
        Index("ix_placement_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("housing_unit.id", ondelete="RESTRICT"))
    # The unit's provider, kept on the row so scoping needs no join.
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    proposing_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    motivation: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moved_in_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    # The last coded reason: of a rejection, a decline, a cancellation or an exit.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_note: Mapped[str | None] = mapped_column(String(1000))
    check_interval_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_CHECK_INTERVAL_DAYS)
    # The unit's places this placement holds: one per person of the household at the proposal.
    places: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Why the household was proposed although it is not among the unit's target groups.
    target_reason: Mapped[str | None] = mapped_column(String(1000))

    household: Mapped[Household] = relationship()
    unit: Mapped[HousingUnit] = relationship()
    provider: Mapped[Organization] = relationship(foreign_keys=[provider_id])
    proposing_organization: Mapped[Organization | None] = relationship(
        foreign_keys=[proposing_organization_id]
    )
    proposed_by: Mapped[User | None] = relationship()
    checks: Mapped[list[WellbeingCheck]] = relationship(
        back_populates="placement",
        order_by="(WellbeingCheck.due_on, WellbeingCheck.id)",
        cascade="all, delete-orphan",
    )

    @property
    def holds_a_place(self) -> bool:
        return self.status in HOLDING_STATUSES


class WellbeingCheck(TimestampMixin, Base):
    """A scheduled follow-up visit or call during a stay, and what it found."""

    __tablename__ = "wellbeing_check"
    __table_args__ = (
        CheckConstraint(
            "wellbeing IS NULL OR wellbeing IN ('good', 'some_difficulties', 'critical')",
            name="wellbeing",
        ),
        CheckConstraint("(done_on IS NULL) = (wellbeing IS NULL)", name="done_has_outcome"),
        # With the placement: the follow-ups due (home) are counted from the index alone.
        Index("ix_wellbeing_check_due", "done_on", "due_on", "placement_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    done_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    wellbeing: Mapped[str | None] = mapped_column(String(24))
    notes: Mapped[str | None] = mapped_column(Text)

    placement: Mapped[Placement] = relationship(back_populates="checks")
    done_by: Mapped[User | None] = relationship()


class HousingRiskCase(TimestampMixin, Base):
    """Eviction prevention: a household at risk of losing its home, its dates and actions."""

    __tablename__ = "housing_risk_case"
    __table_args__ = (
        CheckConstraint("kind IN ('no_fault_arrears', 'eviction_notice', 'other')", name="kind"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint(
            "arrears_amount IS NULL OR arrears_amount >= 0", name="arrears_not_negative"
        ),
        CheckConstraint("(status = 'closed') = (outcome IS NOT NULL)", name="closed_has_outcome"),
        Index("ix_housing_risk_case_hearing", "status", "hearing_on"),
        Index("ix_housing_risk_case_execution", "status", "execution_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(24))
    arrears_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    notice_on: Mapped[date | None] = mapped_column(Date)
    hearing_on: Mapped[date | None] = mapped_column(Date)
    execution_on: Mapped[date | None] = mapped_column(Date)
    # Coded actions taken (mediation, fund contribution, ...), and free notes.
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(32))
    closed_on: Mapped[date | None] = mapped_column(Date)

    household: Mapped[Household] = relationship()
    organization: Mapped[Organization | None] = relationship()
