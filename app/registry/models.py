"""The shared registry: organizations, their accreditation, services, sites and hubs."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime

CIRCOSCRIZIONI: dict[int, str] = {
    1: "Centro, Crocetta",
    2: "Santa Rita, Mirafiori Nord, Mirafiori Sud",
    3: "San Paolo, Cenisia, Pozzo Strada, Cit Turin, Borgata Lesna",
    4: "San Donato, Campidoglio, Parella",
    5: "Borgo Vittoria, Madonna di Campagna, Lucento, Vallette",
    6: "Barriera di Milano, Regio Parco, Barca, Bertolla, Falchera, Rebaudengo, Villaretto",
    7: "Aurora, Vanchiglia, Sassi, Madonna del Pilone",
    8: "San Salvario, Cavoretto, Borgo Po, Nizza Millefonti, Lingotto, Filadelfia",
}

# Districts that share a border (used by matching: "same district, then neighbouring").
NEIGHBOURS: dict[int, frozenset[int]] = {
    1: frozenset({2, 3, 4, 7, 8}),
    2: frozenset({1, 3, 8}),
    3: frozenset({1, 2, 4}),
    4: frozenset({1, 3, 5, 7}),
    5: frozenset({4, 6}),
    6: frozenset({5, 7}),
    7: frozenset({1, 4, 6, 8}),
    8: frozenset({1, 2, 7}),
}

SERVICE_STALE_AFTER_DAYS = 183  # six months
EXPIRY_WARNING_DAYS = 60


def new_uuid() -> str:
    return str(uuid.uuid4())


service_site = Table(
    "service_site",
    Base.metadata,
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)


class Organization(TimestampMixin, Base):
    __tablename__ = "organization"
    __table_args__ = (CheckConstraint("circoscrizione BETWEEN 1 AND 8", name="circoscrizione"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    legal_form: Mapped[str | None] = mapped_column(String(32))
    tax_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    runts_section: Mapped[str | None] = mapped_column(String(1))
    runts_number: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    circoscrizione: Mapped[int] = mapped_column(Integer, index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    is_job_service: Mapped[bool] = mapped_column(Boolean, default=False)
    is_hub: Mapped[bool] = mapped_column(Boolean, default=False)
    is_housing_provider: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    accreditation: Mapped[Accreditation | None] = relationship(
        back_populates="organization", uselist=False, lazy="selectin"
    )
    services: Mapped[list[Service]] = relationship(
        back_populates="organization", order_by="Service.name", lazy="select"
    )
    sites: Mapped[list[Site]] = relationship(
        back_populates="organization", order_by="Site.name", lazy="select"
    )

    @property
    def kinds(self) -> list[str]:
        return [
            kind
            for kind, flag in (
                ("job_service", self.is_job_service),
                ("hub", self.is_hub),
                ("housing_provider", self.is_housing_provider),
            )
            if flag
        ]

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r}>"


class Accreditation(TimestampMixin, Base):
    """Regional accreditation to labour services (DGR 30-4008/2012, art. 21 L.R. 34/2008)."""

    __tablename__ = "accreditation"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'suspended', 'expired')", name="status"),
        CheckConstraint(
            "expires_on IS NULL OR granted_on IS NULL OR expires_on > granted_on",
            name="expiry_after_grant",
        ),
        Index("ix_accreditation_status_expires_on", "status", "expires_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), unique=True
    )
    regional_number: Mapped[str] = mapped_column(String(40))
    granted_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    fn_information: Mapped[bool] = mapped_column(Boolean, default=False)
    fn_counselling: Mapped[bool] = mapped_column(Boolean, default=False)
    fn_orientation: Mapped[bool] = mapped_column(Boolean, default=False)
    fn_secretariat: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship(back_populates="accreditation")

    @property
    def functions(self) -> list[str]:
        return [
            name
            for name in ("information", "counselling", "orientation", "secretariat")
            if getattr(self, f"fn_{name}")
        ]

    def effective_status(self, today: date) -> str:
        """The status as of `today`: an active accreditation past its expiry date is expired,
        even before the nightly command has written it down."""
        if self.status == "active" and self.expires_on is not None and self.expires_on < today:
            return "expired"
        return self.status

    def expires_within(self, today: date, days: int = EXPIRY_WARNING_DAYS) -> bool:
        return (
            self.effective_status(today) == "active"
            and self.expires_on is not None
            and (self.expires_on - today).days <= days
        )


class Service(TimestampMixin, Base):
    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("monthly_capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range"
        ),
        CheckConstraint("age_min IS NULL OR age_min >= 0", name="age_min_not_negative"),
        Index("ix_service_type_active", "service_type", "active"),
        Index("ix_service_name", "name", "id"),  # the open-data list, by name
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    service_type: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_min: Mapped[int | None] = mapped_column(Integer)
    age_max: Mapped[int | None] = mapped_column(Integer)
    youth_focus: Mapped[bool] = mapped_column(Boolean, default=False)
    neet_focus: Mapped[bool] = mapped_column(Boolean, default=False)
    monthly_capacity: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_verified: Mapped[date | None] = mapped_column(Date)

    organization: Mapped[Organization] = relationship(back_populates="services")
    sites: Mapped[list[Site]] = relationship(
        secondary=service_site, back_populates="services", order_by="Site.name"
    )

    def is_stale(self, today: date) -> bool:
        return (
            self.last_verified is None
            or (today - self.last_verified).days > SERVICE_STALE_AFTER_DAYS
        )


class Site(TimestampMixin, Base):
    """A site (sede) of an organization; a Torino Solidale hub (snodo) when is_hub is set."""

    __tablename__ = "site"
    __table_args__ = (
        CheckConstraint("circoscrizione BETWEEN 1 AND 8", name="circoscrizione"),
        CheckConstraint(
            "households_served IS NULL OR households_served >= 0", name="households_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    circoscrizione: Mapped[int] = mapped_column(Integer, index=True)
    opening_hours: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(40))
    is_hub: Mapped[bool] = mapped_column(Boolean, default=False)
    distribution_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    households_served: Mapped[int | None] = mapped_column(Integer)

    organization: Mapped[Organization] = relationship(back_populates="sites")
    services: Mapped[list[Service]] = relationship(
        secondary=service_site, back_populates="sites", order_by="Service.name"
    )
