"""The housing figures of the home pages: what waits for whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.auth.models import Role, User
from app.extensions import db
from app.housing import queries
from app.housing.models import HousingUnit, Placement
from app.housing.policy import visible_placements

HOME_ROWS = 5


@dataclass(frozen=True)
class HousingHome:
    waiting: list[Placement]  # placements that wait for this user's answer, oldest first
    waiting_total: int
    overdue_checks: int
    deadlines: list[queries.Deadline]
    deadline_total: int
    stale_units: int  # the provider's own units not confirmed for 7 days


def _waiting_status(user: User) -> str | None:
    if user.has_role(Role.COORDINATOR):
        return "proposed"
    if user.has_role(Role.HOUSING_PROVIDER):
        return "approved"
    return None


def for_user(user: User, today: date) -> HousingHome:
    status = _waiting_status(user)
    waiting: list[Placement] = []
    total = 0
    if status is not None:
        query = visible_placements(user).where(Placement.status == status)
        total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        waiting = list(
            db.session.scalars(
                query.options(joinedload(Placement.unit))
                .order_by(Placement.status_changed_at, Placement.id)
                .limit(HOME_ROWS)
            )
        )
    stale = 0
    if user.has_role(Role.HOUSING_PROVIDER) and user.organization_id is not None:
        stale = (
            db.session.scalar(
                select(func.count())
                .select_from(HousingUnit)
                .where(
                    HousingUnit.provider_id == user.organization_id,
                    HousingUnit.active.is_(True),
                    HousingUnit.vacancies_updated_at < queries.stale_before(),
                )
            )
            or 0
        )
    provider = user.has_role(Role.HOUSING_PROVIDER)
    deadlines = [] if provider else queries.upcoming_deadlines(user, today, limit=HOME_ROWS)
    deadline_total = 0 if provider else queries.deadline_count(user, today)
    return HousingHome(
        waiting=waiting,
        waiting_total=total,
        overdue_checks=queries.overdue_checks_count(user, today),
        deadlines=deadlines,
        deadline_total=deadline_total,
        stale_units=stale,
    )
