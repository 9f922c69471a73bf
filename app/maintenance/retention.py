"""Apply the retention setting: anonymise every closed household whose period is over.

The anonymisation itself is `anonymise_household` (data-subject rights): this module only picks
the households whose time has come, so the rule (and its audit event per household) stays in one
place. Counts are kept: members become "Persona N Anonimo", distributions and joint-care requests
stay. Running it twice changes nothing the second time and writes no audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.audit.operations import record
from app.extensions import db
from app.households.models import Household
from app.rights.operations import (
    anonymisable_from,
    anonymise_household,
    retention_years,
)

RETENTION_APPLIED = "retention_applied"


@dataclass
class RetentionSummary:
    today: date
    retention_years: int
    household_ids: list[int] = field(default_factory=list)
    members: int = 0
    distributions: int = 0
    joint_care_requests: int = 0
    closed_without_date: int = 0

    @property
    def households(self) -> int:
        return len(self.household_ids)

    def audit_changes(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "retention_years": self.retention_years,
            "households": self.households,
            "members": self.members,
            "distributions": self.distributions,
            "joint_care_requests": self.joint_care_requests,
        }


def households_due(today: date, years: int) -> tuple[list[Household], int]:
    """Closed, not yet anonymised households past the retention period, and how many closed
    households lack a closing date (they are never anonymised automatically)."""
    candidates = db.session.scalars(
        select(Household)
        .where(Household.status == "closed", Household.anonymised_at.is_(None))
        .order_by(Household.id)
    ).all()
    due = [
        household
        for household in candidates
        if household.closed_on is not None
        and anonymisable_from(household.closed_on, years) <= today
    ]
    without_date = sum(1 for household in candidates if household.closed_on is None)
    return due, without_date


def apply_retention(today: date) -> RetentionSummary:
    """Anonymise what the retention period allows; one summary audit event if anything changed.

    Adds to the session and flushes; the caller commits.
    """
    years = retention_years()
    due, without_date = households_due(today, years)
    summary = RetentionSummary(today=today, retention_years=years, closed_without_date=without_date)
    for household in due:
        counts = anonymise_household(household, today)
        summary.household_ids.append(household.id)
        summary.members += counts["members"]
        summary.distributions += counts["distributions"]
        summary.joint_care_requests += counts["joint_care_requests"]
    if summary.households:
        record(RETENTION_APPLIED, None, summary.audit_changes(), actor=None)
        db.session.flush()
    return summary
