"""The referral figures of the home pages: what waits for whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.referrals.models import Referral
from app.referrals.policy import received_clause
from app.referrals.queries import overdue_clause

HOME_ROWS = 5


@dataclass(frozen=True)
class Waiting:
    total: int
    overdue: int
    oldest: list[Referral]


def _waiting(where: list[object], today: date) -> Waiting:
    base = select(Referral).where(*where)  # type: ignore[arg-type]
    overdue_flag = case((overdue_clause(today), 1), else_=0)
    total, overdue = db.session.execute(
        select(func.count(), func.coalesce(func.sum(overdue_flag), 0)).where(*where)  # type: ignore[arg-type]
    ).one()
    oldest = list(
        db.session.scalars(
            base.options(
                joinedload(Referral.from_organization),
                joinedload(Referral.to_organization),
                joinedload(Referral.service),
            )
            .order_by(Referral.status_changed_at, Referral.id)
            .limit(HOME_ROWS)
        )
    )
    return Waiting(int(total), int(overdue), oldest)


def coordinator_queue(today: date) -> Waiting:
    """Submitted referrals waiting for the City's decision."""
    return _waiting([Referral.status == "submitted"], today)


def incoming(organization_id: int, today: date) -> Waiting:
    """Approved referrals to the organization's services waiting for its answer."""
    return _waiting([received_clause(organization_id), Referral.status == "approved"], today)


def outgoing_counts(organization_id: int) -> dict[str, int]:
    """The organization's own referrals, by status."""
    rows = db.session.execute(
        select(Referral.status, func.count())
        .where(Referral.from_organization_id == organization_id)
        .group_by(Referral.status)
    ).all()
    return {row[0]: row[1] for row in rows}
