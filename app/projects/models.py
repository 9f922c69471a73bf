"""Individualised projects (progetti individualizzati), their goals, meetings and life budget."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.households.models import Household, Person
    from app.registry.models import Organization

PROJECT_STATUSES = ("draft", "submitted", "approved", "active", "closed")
MONEY = Numeric(12, 2)


class Project(TimestampMixin, Base):
    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'active', 'closed')", name="status"
        ),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates"
        ),
        Index("ix_project_organization_status", "organization_id", "status"),
        Index("ix_project_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    case_worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    youth: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    closed_on: Mapped[date | None] = mapped_column(Date)
    # The coordinator's note when sending a project back, or the closing note.
    status_note: Mapped[str | None] = mapped_column(String(1000))

    household: Mapped[Household] = relationship()
    person: Mapped[Person | None] = relationship()
    organization: Mapped[Organization] = relationship()
    case_worker: Mapped[User | None] = relationship(foreign_keys=[case_worker_id])
    goals: Mapped[list[ProjectGoal]] = relationship(
        back_populates="project",
        order_by="(ProjectGoal.target_on, ProjectGoal.id)",
        cascade="all, delete-orphan",
    )
    meetings: Mapped[list[ProjectMeeting]] = relationship(
        back_populates="project",
        order_by="(ProjectMeeting.held_on.desc(), ProjectMeeting.id.desc())",
        cascade="all, delete-orphan",
    )
    lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="project", order_by="BudgetLine.id", cascade="all, delete-orphan"
    )

    @property
    def read_only(self) -> bool:
        return self.status == "closed"


class ProjectGoal(TimestampMixin, Base):
    __tablename__ = "project_goal"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'achieved', 'partly_achieved', 'not_achieved')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(String(500))
    target_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")

    project: Mapped[Project] = relationship(back_populates="goals")


class ProjectMeeting(TimestampMixin, Base):
    """A monitoring meeting: what was seen, what comes next."""

    __tablename__ = "project_meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    project: Mapped[Project] = relationship(back_populates="meetings")
    recorded_by: Mapped[User | None] = relationship()


class BudgetLine(TimestampMixin, Base):
    """One line of the life budget: planned, then approved by the City, committed, paid."""

    __tablename__ = "budget_line"
    __table_args__ = (
        # Only the lines with a request (a few hundred of 50,000): the City's count of increases
        # to decide walks them alone.
        Index(
            "ix_budget_line_increase",
            "project_id",
            "increase_requested",
            sqlite_where=text("increase_requested IS NOT NULL"),
            postgresql_where=text("increase_requested IS NOT NULL"),
        ),
        CheckConstraint(
            "planned >= 0 AND approved >= 0 AND committed >= 0 AND paid >= 0",
            name="amounts_not_negative",
        ),
        CheckConstraint("paid <= committed", name="paid_within_committed"),
        CheckConstraint("committed <= approved", name="committed_within_approved"),
        CheckConstraint(
            "increase_requested IS NULL OR increase_requested > approved",
            name="increase_above_approved",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300))
    supplier: Mapped[str | None] = mapped_column(String(200))
    planned: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    approved: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    committed: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    # An operator asks to raise the approved amount to this; a coordinator decides.
    increase_requested: Mapped[Decimal | None] = mapped_column(MONEY)
    committed_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)

    project: Mapped[Project] = relationship(back_populates="lines")

    @property
    def available(self) -> Decimal:
        """Approved but not yet committed."""
        return self.approved - self.committed
