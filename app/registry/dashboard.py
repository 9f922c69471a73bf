"""What the registry asks of each role on their home page."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.registry.models import (
    EXPIRY_WARNING_DAYS,
    SERVICE_STALE_AFTER_DAYS,
    Accreditation,
    Organization,
    Service,
)


def accreditations_to_verify() -> list[Accreditation]:
    return list(
        db.session.scalars(
            select(Accreditation)
            .join(Organization)
            .where(Accreditation.status == "pending")
            .order_by(Organization.name)
        )
    )


def accreditations_expiring(today: date) -> list[Accreditation]:
    """Active accreditations that expire within 60 days (or have just passed their date)."""
    return list(
        db.session.scalars(
            select(Accreditation)
            .join(Organization)
            .where(
                Accreditation.status == "active",
                Accreditation.expires_on.is_not(None),
                Accreditation.expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS),
            )
            .order_by(Accreditation.expires_on)
        )
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
