"""Households taken in charge, their members and privacy records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

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
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.registry.models import Organization

YOUTH_MIN_AGE = 18
YOUTH_MAX_AGE = 29


def age_on(birth_date: date, today: date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


class Household(TimestampMixin, Base):
    __tablename__ = "household"
    __table_args__ = (
        CheckConstraint("circoscrizione BETWEEN 1 AND 8", name="circoscrizione"),
        CheckConstraint("isee_value IS NULL OR isee_value >= 0", name="isee_not_negative"),
        CheckConstraint("status IN ('active', 'closed')", name="status"),
        Index("ix_household_organization_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    case_worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    address: Mapped[str | None] = mapped_column(String(200))
    circoscrizione: Mapped[int] = mapped_column(Integer, index=True)
    isee_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    isee_expires_on: Mapped[date | None] = mapped_column(Date)
    housing_situation: Mapped[str | None] = mapped_column(String(32))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Why the care ended (households.vocabulary.CLOSING_REASONS) and the operator's note; both
    # emptied on reopening (the audit log keeps every closing and reopening).
    closing_reason: Mapped[str | None] = mapped_column(String(32))
    closing_note: Mapped[str | None] = mapped_column(String(1000))
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Privacy: the notice given to the family, and their authorisation to share with partners.
    privacy_notice_on: Mapped[date | None] = mapped_column(Date)
    privacy_notice_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # The consents to share its data: the ledger (`Consent`), one row per purpose and recipient.

    organization: Mapped[Organization] = relationship(lazy="joined")
    case_worker: Mapped[User | None] = relationship(foreign_keys=[case_worker_id])
    privacy_notice_by: Mapped[User | None] = relationship(foreign_keys=[privacy_notice_by_id])
    members: Mapped[list[Person]] = relationship(
        back_populates="household",
        order_by=lambda: list(MEMBER_ORDER),
        cascade="all, delete-orphan",
    )

    @property
    def reference_person(self) -> Person | None:
        return next((m for m in self.members if m.relation == "reference"), None)

    @property
    def display_name(self) -> str:
        ref = self.reference_person
        return f"{ref.last_name} {ref.first_name}" if ref else f"#{self.id}"


class Person(TimestampMixin, Base):
    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("sex IS NULL OR sex IN ('M', 'F')", name="sex"),
        Index("ix_person_names", "last_name", "first_name"),
        # The name search compares lower-cased prefixes: these make it an index range.
        Index("ix_person_lower_last_name", text("lower(last_name)")),
        Index("ix_person_lower_first_name", text("lower(first_name)")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    codice_fiscale: Mapped[str | None] = mapped_column(String(16), unique=True)
    birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    sex: Mapped[str | None] = mapped_column(String(1))
    relation: Mapped[str] = mapped_column(String(16), default="reference")
    employment_status: Mapped[str | None] = mapped_column(String(32))
    education: Mapped[str | None] = mapped_column(String(32))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # How to reach the person (issue #26): optional; the receiving service sees them only once
    # the City approved the referral, and only when the person agreed to be contacted.
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    household: Mapped[Household] = relationship(back_populates="members")

    def age(self, today: date) -> int | None:
        return age_on(self.birth_date, today) if self.birth_date else None

    def is_youth(self, today: date) -> bool:
        age = self.age(today)
        return age is not None and YOUTH_MIN_AGE <= age <= YOUTH_MAX_AGE

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# The order of a household's members (`Household.members`, the export's rows): the reference
# person first, then by birth date.
MEMBER_ORDER = (Person.relation != "reference", Person.birth_date, Person.id)


class JointCareRequest(TimestampMixin, Base):
    """An organization asks the City to follow, together with the owner, a person it met."""

    __tablename__ = "joint_care_request"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    requesting_organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    message: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decision_note: Mapped[str | None] = mapped_column(String(1000))

    household: Mapped[Household] = relationship()
    requesting_organization: Mapped[Organization] = relationship()


class HouseholdCoHolder(Base):
    """An organization that follows a household together with the one that took it in charge.

    Made when the City accepts a joint-care request; while `ended_at` is empty the organization
    sees and edits the household as the owner does (the households policy). The City ends it;
    the row stays, as the record of who held the household when.
    """

    __tablename__ = "household_co_holder"
    __table_args__ = (
        # One joint care in force per household and organization (two accepts at once: one).
        Index(
            "uq_household_co_holder_in_force",
            "household_id",
            "organization_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        # The visibility rule: the households an organization co-holds.
        Index("ix_household_co_holder_organization", "organization_id", "household_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    joint_care_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("joint_care_request.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    end_note: Mapped[str | None] = mapped_column(String(1000))

    household: Mapped[Household] = relationship()
    organization: Mapped[Organization] = relationship(lazy="joined")

    @property
    def in_force(self) -> bool:
        return self.ended_at is None


class Consent(Base):
    """The household's consent to share its data for one purpose with one recipient (an
    organization, or the whole network when `recipient_organization_id` is empty), from
    `given_on` to `expires_on` (empty: until withdrawn). A row is never deleted: a withdrawal
    dates it, and the shares made under it stay (`ConsentShare`). The rule of when a consent
    covers a sharing is in `app.households.consents`."""

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('job_services', 'housing', 'project', 'monitoring')", name="purpose"
        ),
        CheckConstraint("expires_on IS NULL OR expires_on >= given_on", name="expires_after_given"),
        Index("ix_consent_household_purpose", "household_id", "purpose"),
        # The operator's home: the consents expiring soon.
        Index("ix_consent_expires_on", "expires_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    recipient_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    given_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    # Where the signed form is: its protocol number or reference.
    signed_form: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    household: Mapped[Household] = relationship()
    recipient_organization: Mapped[Organization | None] = relationship(lazy="joined")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    shares: Mapped[list[ConsentShare]] = relationship(
        back_populates="consent", order_by="ConsentShare.id"
    )


class ConsentShare(Base):
    """Data of the household that went to a recipient under a consent: written when it goes
    (a referral approved: the receiving entity; a placement proposed: the housing provider)."""

    __tablename__ = "consent_share"
    __table_args__ = (
        CheckConstraint("object_type IN ('referral', 'placement', 'project')", name="object_type"),
        Index("ix_consent_share_consent", "consent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id", ondelete="CASCADE"))
    recipient_organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(Integer)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    shared_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    consent: Mapped[Consent] = relationship(back_populates="shares")
    recipient_organization: Mapped[Organization] = relationship(lazy="joined")
