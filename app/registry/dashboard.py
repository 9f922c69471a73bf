"""What the registry asks of each role on their home page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.registry.models import (
    EXPIRY_WARNING_DAYS,
    SERVICE_STALE_AFTER_DAYS,
    Accreditation,
    Organization,
    Service,
)

HOME_ROWS = 10


@dataclass(frozen=True)
class Shortlist:
    """How many there are, and the first few to show on a home page."""

    total: int
    rows: list[Accreditation]


def _shortlist(query: Select[tuple[Accreditation]]) -> Shortlist:
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(contains_eager(Accreditation.organization)).limit(HOME_ROWS)
    ).all()
    return Shortlist(total, list(rows))


def accreditations_to_verify() -> Shortlist:
    return _shortlist(
        select(Accreditation)
        .join(Organization)
        .where(Accreditation.status == "pending")
        .order_by(Organization.name, Organization.id)
    )


def accreditations_expiring(today: date) -> Shortlist:
    """Active accreditations that expire within 60 days (or have just passed their date)."""
    return _shortlist(
        select(Accreditation)
        .join(Organization)
        .where(
            Accreditation.status == "active",
            Accreditation.expires_on.is_not(None),
            Accreditation.expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS),
        )
        .order_by(Accreditation.expires_on, Accreditation.id)
    )


def stale_services(organization_id: int, today: date) -> list[Service]:
    limit = today - timedelta(days=SERVICE_STALE_AFTER_DAYS)
    return list(
        db.session.scalars(
            select(Service)
            .where(
                Service.organization_id == organization_id,
                Service.active.is_(True),
                or_(Service.last_verified.is_(None), Service.last_verified < limit),
            )
            .order_by(Service.name)
        )
    )
