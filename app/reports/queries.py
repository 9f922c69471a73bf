"""What the monitoring reports count. Every figure is aggregated by the database (GROUP BY,
COUNT DISTINCT, SUM, a median in SQL): no query here loads rows to count them in Python, so
the report stays fast at city scale (DESIGN.md). Every query starts from the domain's visible_*
select, so the policy decides the scope (the report is the City's: coordinators see it all).

What "in the period" means (the page says it too):
- a distribution: given on a day of the period;
- a referral: sent to the City (submitted) in the period; its status is today's. The medians
  are over the same referrals: submission to the City's decision (approved_at, or closed_at of a
  rejection), and submission to the outcome (closed_at of completed / failed);
- a placement: proposed in the period (by status); an exit: the stay ended in the period; a
  household is reached by a stay that overlaps the period (moved in by its end, not gone before
  its start);
- a project: existing in the period (created by its end, not closed before its start); it
  reaches its household once approved (approved, active or closed);
- occupancy of the units: today's places (vacancies are a live figure, not a history).
The circoscrizione is the household's; for hubs and housing units, the site's or the unit's.
Young people: aged 18-29 on the last day of the period, referred or in a project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    distinct,
    extract,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.distributions.models import Distribution
from app.distributions.policy import visible_distributions
from app.extensions import db
from app.households.models import Household, Person
from app.households.policy import of_visible_households
from app.housing.models import HousingUnit, Placement
from app.housing.policy import visible_placements, visible_units
from app.i18n import lazy_gettext as _l
from app.projects.finance import SPENDING_PROJECT_STATUSES
from app.projects.models import BudgetLine, Project
from app.projects.policy import visible_projects
from app.referrals.models import Referral, ReferralStatusChange
from app.referrals.policy import visible_referrals
from app.registry.models import Organization, Service, Site
from app.workdays import start_of_day_utc

# The action lines of the programme (DESIGN.md): code -> name.
ACTION_LINES = {
    "A": _l("Snodi di comunità, distribuzioni e segnalazioni"),
    "B": _l("Progetti individualizzati e budget di vita"),
    "C": _l("Housing sociale e accoglienza"),
}
YOUTH_MIN_AGE = 18
YOUTH_MAX_AGE = 29
REACHING_PLACEMENT_STATUSES = ("active", "ended")
OUTCOME_STATUSES = ("completed", "failed")


# Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    start: date  # first day of the period
    end: date  # last day of the period (included)
    circ: int | None = None  # None: the whole city
    line: str | None = None  # "A", "B", "C"; None: every line

    def shows(self, line: str) -> bool:
        return self.line is None or self.line == line

    @property
    def start_utc(self) -> datetime:
        return start_of_day_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        """The instant the period is over (midnight in Turin after its last day)."""
        return start_of_day_utc(self.end + timedelta(days=1))

    def as_audit(self) -> dict[str, Any]:
        return {
            "dal": self.start.isoformat(),
            "al": self.end.isoformat(),
            "circoscrizione": self.circ,
            "linea": self.line,
        }


def last_full_quarter(today: date) -> tuple[date, date]:
    """The quarter before the one `today` is in: (first day, last day)."""
    this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = this_quarter - timedelta(days=1)
    return date(end.year, end.month - 2, 1), end


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


# Scope helpers ------------------------------------------------------------------------------


def _of_households_in(column: Any, filters: ReportFilters) -> ColumnElement[bool]:
    """`column` (a household id) belongs to a household of the chosen circoscrizione."""
    if filters.circ is None:
        return literal(True)
    return column.in_(
        select(Household.id).where(Household.circoscrizione == filters.circ).correlate(None)
    )


def _in_period_at(column: Any, filters: ReportFilters) -> ColumnElement[bool]:
    """A stored UTC timestamp falls on a day (in Turin) of the period."""
    return and_(column >= filters.start_utc, column < filters.end_utc)


def _in_period_on(column: Any, filters: ReportFilters) -> ColumnElement[bool]:
    return and_(column >= filters.start, column <= filters.end)


def period_distributions(user: User, filters: ReportFilters) -> Select[Any]:
    return visible_distributions(user).where(_in_period_on(Distribution.distributed_on, filters))


def period_referrals(user: User, filters: ReportFilters) -> Select[Any]:
    return visible_referrals(user).where(
        _in_period_at(Referral.submitted_at, filters),
        _of_households_in(Referral.household_id, filters),
    )


def period_placements(user: User, filters: ReportFilters) -> Select[Any]:
    """Placements proposed in the period."""
    return visible_placements(user).where(
        _in_period_at(Placement.created_at, filters),
        _of_households_in(Placement.household_id, filters),
    )


def overlapping_stays(user: User, filters: ReportFilters) -> Select[Any]:
    """Stays under way at some moment of the period."""
    return visible_placements(user).where(
        Placement.status.in_(REACHING_PLACEMENT_STATUSES),
        Placement.moved_in_on <= filters.end,
        or_(Placement.ended_on.is_(None), Placement.ended_on >= filters.start),
    )


def period_projects(user: User, filters: ReportFilters) -> Select[Any]:
    """Projects existing in the period: created by its end, not closed before its start."""
    return visible_projects(user).where(
        Project.created_at < filters.end_utc,
        or_(Project.closed_on.is_(None), Project.closed_on >= filters.start),
        _of_households_in(Project.household_id, filters),
    )


def reaching_projects(user: User, filters: ReportFilters) -> Select[Any]:
    """Projects of the period that reached their household: approved by the period's end."""
    return period_projects(user, filters).where(
        Project.status.in_(SPENDING_PROJECT_STATUSES),
        Project.approved_at < filters.end_utc,
    )


# Households and young people reached --------------------------------------------------------

# The household of a young person, as an alias: the policies' subqueries on `household` must not
# be correlated to it.
HOME = aliased(Household, name="home")


def _reached_household_ids(user: User, filters: ReportFilters) -> Any:
    sources: list[Select[Any]] = []
    if filters.shows("A"):
        sources.append(
            period_distributions(user, filters).with_only_columns(Distribution.household_id)
        )
        sources.append(period_referrals(user, filters).with_only_columns(Referral.household_id))
    if filters.shows("B"):
        sources.append(reaching_projects(user, filters).with_only_columns(Project.household_id))
    if filters.shows("C"):
        sources.append(overlapping_stays(user, filters).with_only_columns(Placement.household_id))
    return union(*sources) if len(sources) > 1 else sources[0]


def households_reached(user: User, filters: ReportFilters) -> dict[int, int]:
    """Distinct households reached in the period by the chosen line(s), per circoscrizione.

    The sources are already scoped by their policies; the households' own policy is asked too.
    The outer household is an alias, so the policies' subqueries on `household` stay whole.
    """
    reached = aliased(Household)
    query = (
        select(reached.circoscrizione, func.count(distinct(reached.id)))
        .where(
            reached.id.in_(_reached_household_ids(user, filters)),
            of_visible_households(user, reached.id),
        )
        .group_by(reached.circoscrizione)
    )
    if filters.circ is not None:
        query = query.where(reached.circoscrizione == filters.circ)
    return {int(circ): int(count) for circ, count in db.session.execute(query)}


def youth_birth_bounds(filters: ReportFilters) -> tuple[date, date]:
    """Born after the first date and on or before the second: 18-29 on the period's last day."""
    return (
        years_before(filters.end, YOUTH_MAX_AGE + 1),
        years_before(filters.end, YOUTH_MIN_AGE),
    )


def _young_person_ids(user: User, filters: ReportFilters) -> Any | None:
    sources: list[Select[Any]] = []
    if filters.shows("A"):
        sources.append(
            period_referrals(user, filters)
            .with_only_columns(Referral.person_id)
            .where(Referral.person_id.is_not(None))
        )
    if filters.shows("B"):
        sources.append(
            reaching_projects(user, filters)
            .with_only_columns(Project.person_id)
            .where(Project.person_id.is_not(None))
        )
    if not sources:
        return None
    return union(*sources) if len(sources) > 1 else sources[0]


def _young_people(user: User, filters: ReportFilters) -> Select[Any] | None:
    ids = _young_person_ids(user, filters)
    if ids is None:
        return None
    born_after, born_by = youth_birth_bounds(filters)
    query = (
        select(Person.id)
        .join(HOME, HOME.id == Person.household_id)
        .where(
            Person.id.in_(ids),
            Person.birth_date > born_after,
            Person.birth_date <= born_by,
            of_visible_households(user, HOME.id),
        )
    )
    if filters.circ is not None:
        query = query.where(HOME.circoscrizione == filters.circ)
    return query


def young_people_reached(user: User, filters: ReportFilters) -> dict[int, int] | None:
    """Distinct people aged 18-29 referred or in a project, per circoscrizione of their
    household; None when the chosen line has no people to count (C)."""
    query = _young_people(user, filters)
    if query is None:
        return None
    counted = query.with_only_columns(
        HOME.circoscrizione, func.count(distinct(Person.id))
    ).group_by(HOME.circoscrizione)
    return {int(circ): int(count) for circ, count in db.session.execute(counted)}


# Distributions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubRow:
    site_id: int
    hub: str
    organization: str
    circoscrizione: int
    by_kind: dict[str, int]
    households: int

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def distributions_by_hub(user: User, filters: ReportFilters) -> list[HubRow]:
    """Per hub (site) and kind: distributions in the period; and distinct households served per
    hub. Hubs of the chosen circoscrizione; most active first."""
    base = period_distributions(user, filters).join_from(
        Distribution, Site, Site.id == Distribution.site_id
    )
    if filters.circ is not None:
        base = base.where(Site.circoscrizione == filters.circ)
    by_kind = base.with_only_columns(
        Distribution.site_id, Distribution.kind, func.count(Distribution.id)
    ).group_by(Distribution.site_id, Distribution.kind)
    per_hub = (
        base.join(Organization, Organization.id == Site.organization_id)
        .with_only_columns(
            Site.id,
            Site.name,
            Organization.name,
            Site.circoscrizione,
            func.count(distinct(Distribution.household_id)),
        )
        .group_by(Site.id, Site.name, Organization.name, Site.circoscrizione)
    )
    kinds: dict[int, dict[str, int]] = {}
    for site_id, kind, count in db.session.execute(by_kind):
        kinds.setdefault(int(site_id), {})[kind] = int(count)
    rows = [
        HubRow(int(site_id), hub, org, int(circ), kinds.get(int(site_id), {}), int(households))
        for site_id, hub, org, circ, households in db.session.execute(per_hub)
    ]
    return sorted(rows, key=lambda r: (-r.total, r.hub.lower(), r.site_id))


# Referrals ----------------------------------------------------------------------------------


def referrals_by_status(user: User, filters: ReportFilters) -> dict[str, int]:
    query = (
        period_referrals(user, filters)
        .with_only_columns(Referral.status, func.count(Referral.id))
        .group_by(Referral.status)
    )
    return {status: int(count) for status, count in db.session.execute(query)}


def referrals_by_outcome(user: User, filters: ReportFilters) -> dict[tuple[str, str], int]:
    """(status, reason code) -> count, for referrals closed with an outcome."""
    query = (
        period_referrals(user, filters)
        .where(Referral.status.in_(OUTCOME_STATUSES))
        .with_only_columns(Referral.status, Referral.reason_code, func.count(Referral.id))
        .group_by(Referral.status, Referral.reason_code)
    )
    return {(status, code or ""): int(count) for status, code, count in db.session.execute(query)}


def referrals_by_service_type(user: User, filters: ReportFilters) -> dict[str, tuple[int, int]]:
    """Service type -> (referrals, of which completed with a positive outcome)."""
    completed = func.sum(case((Referral.status == "completed", 1), else_=0))
    query = (
        period_referrals(user, filters)
        .join(Service, Service.id == Referral.service_id)
        .with_only_columns(Service.service_type, func.count(Referral.id), completed)
        .group_by(Service.service_type)
    )
    return {kind: (int(count), int(done or 0)) for kind, count, done in db.session.execute(query)}


def _days_between(later: Any, earlier: Any) -> ColumnElement[Any]:
    """Elapsed days (with fractions) between two stored timestamps, in SQL."""
    if db.engine.dialect.name == "postgresql":
        return extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


@dataclass(frozen=True)
class Median:
    count: int
    days: float | None  # None when there is nothing to take the median of
    p90: float | None = None  # the 90th percentile, where asked for


def median_days(query: Select[Any], later: Any, earlier: Any) -> Median:
    """The median of (later - earlier) in days over the rows of `query`, computed by the
    database, with the number of rows it is taken over, and the 90th percentile."""
    count, (median, p90) = percentile_days(query, later, earlier, (0.5, 0.9))
    return Median(count, median, p90)


def percentile_days(
    query: Select[Any], later: Any, earlier: Any, fractions: tuple[float, ...]
) -> tuple[int, list[float | None]]:
    """Percentiles of (later - earlier) in days over the rows of `query`, computed by the
    database as percentile_cont does (linear interpolation between the two nearest rows), with
    the number of rows they are taken over.

    PostgreSQL has percentile_cont. SQLite has no percentile function: there, a window function
    numbers the sorted differences and one aggregate weighs the two rows around each fraction's
    position (1 + q * (n - 1)), so only one row comes back either way. Both agree on every input.
    """
    diff = _days_between(later, earlier)
    rows = query.where(later.is_not(None), earlier.is_not(None))
    if db.engine.dialect.name == "postgresql":
        found = rows.with_only_columns(
            func.count(), *(func.percentile_cont(q).within_group(diff) for q in fractions)
        ).order_by(None)
        count, *values = db.session.execute(found).one()
    else:
        ranked = rows.with_only_columns(
            diff.label("days"),
            func.row_number().over(order_by=diff).label("position"),
            func.count().over().label("total"),
        ).subquery()
        weighed = []
        for q in fractions:
            place = 1 + q * (ranked.c.total - 1)
            below = cast(place, Integer)  # positions are >= 1: the cast is the floor
            weight = place - below
            weighed.append(
                func.sum(
                    case(
                        (ranked.c.position == below, ranked.c.days * (1 - weight)),
                        (ranked.c.position == below + 1, ranked.c.days * weight),
                        else_=0,
                    )
                )
            )
        count, *values = db.session.execute(select(func.max(ranked.c.total), *weighed)).one()
    if not count:
        return 0, [None for _q in fractions]
    return int(count), [None if v is None else float(v) for v in values]


def decision_time(user: User, filters: ReportFilters) -> Median:
    """Days from submission to the City's decision (approval or rejection)."""
    decided_at = case(
        (Referral.approved_at.is_not(None), Referral.approved_at),
        (Referral.status == "rejected", Referral.closed_at),
        else_=None,
    )
    return median_days(period_referrals(user, filters), decided_at, Referral.submitted_at)


def outcome_time(user: User, filters: ReportFilters) -> Median:
    """Days from submission to the outcome (completed or failed)."""
    closed = period_referrals(user, filters).where(Referral.status.in_(OUTCOME_STATUSES))
    return median_days(closed, Referral.closed_at, Referral.submitted_at)


@dataclass(frozen=True)
class StepTime:
    code: str  # the step's expiry reason code (app/referrals/queries.STALL_STEPS)
    time: Median  # how long the step waited, over the referrals that left it
    expired: int  # how many it returned to their senders, unanswered


def _left_step(code: str) -> tuple[Any, Any]:
    """(entered, left) of a step, as SQL over a referral: left is when somebody answered or,
    for the referrals that expired in it, when it expired."""
    expired_here = and_(Referral.status == "expired", Referral.reason_code == code)
    if code == "no_approval":
        answered = case(
            (Referral.approved_at.is_not(None), Referral.approved_at),
            (or_(Referral.status == "rejected", expired_here), Referral.closed_at),
            else_=None,
        )
        return Referral.submitted_at, answered
    if code == "no_answer":
        answered = case(
            (Referral.accepted_at.is_not(None), Referral.accepted_at),
            (or_(Referral.status == "declined", expired_here), Referral.closed_at),
            else_=None,
        )
        return Referral.approved_at, answered
    started = (
        select(func.min(ReferralStatusChange.created_at))
        .where(
            ReferralStatusChange.referral_id == Referral.id,
            ReferralStatusChange.to_status == "in_progress",
        )
        .scalar_subquery()
    )
    answered = case(
        (expired_here, Referral.closed_at),
        else_=started,
    )
    return Referral.accepted_at, answered


def step_times(user: User, filters: ReportFilters) -> list[StepTime]:
    """For each waiting step of the referrals sent in the period: the days it waited (median and
    90th percentile) and how many expired in it (issue #24)."""
    from app.referrals.queries import STALL_STEPS

    found = []
    for step in STALL_STEPS:
        entered, left = _left_step(step.code)
        time = median_days(period_referrals(user, filters), left, entered)
        expired = db.session.scalar(
            period_referrals(user, filters)
            .with_only_columns(func.count())
            .where(Referral.status == "expired", Referral.reason_code == step.code)
            .order_by(None)
        )
        found.append(StepTime(step.code, time, int(expired or 0)))
    return found


# Housing ------------------------------------------------------------------------------------


def placements_by_status(user: User, filters: ReportFilters) -> dict[str, int]:
    query = (
        period_placements(user, filters)
        .with_only_columns(Placement.status, func.count(Placement.id))
        .group_by(Placement.status)
    )
    return {status: int(count) for status, count in db.session.execute(query)}


def exits_by_reason(user: User, filters: ReportFilters) -> dict[str, int]:
    """Stays that ended in the period, by exit reason."""
    query = (
        visible_placements(user)
        .where(
            Placement.status == "ended",
            _in_period_on(Placement.ended_on, filters),
            _of_households_in(Placement.household_id, filters),
        )
        .with_only_columns(Placement.reason_code, func.count(Placement.id))
        .group_by(Placement.reason_code)
    )
    return {code or "other": int(count) for code, count in db.session.execute(query)}


@dataclass(frozen=True)
class OccupancyRow:
    kind: str
    units: int
    capacity: int
    vacancies: int

    @property
    def occupied(self) -> int:
        """Places taken or held for a household (a proposal reserves its place)."""
        return self.capacity - self.vacancies

    @property
    def occupancy(self) -> float | None:
        return round(100 * self.occupied / self.capacity, 1) if self.capacity else None


def occupancy_by_kind(user: User, filters: ReportFilters) -> list[OccupancyRow]:
    """Active units today, per kind: units, places, free places (the unit's circoscrizione)."""
    query = (
        visible_units(user)
        .where(HousingUnit.active.is_(True))
        .with_only_columns(
            HousingUnit.kind,
            func.count(HousingUnit.id),
            func.coalesce(func.sum(HousingUnit.capacity), 0),
            func.coalesce(func.sum(HousingUnit.vacancies), 0),
        )
        .group_by(HousingUnit.kind)
    )
    if filters.circ is not None:
        query = query.where(HousingUnit.circoscrizione == filters.circ)
    return [
        OccupancyRow(kind, int(units), int(capacity), int(vacancies))
        for kind, units, capacity, vacancies in db.session.execute(query)
    ]


# Projects -----------------------------------------------------------------------------------


def projects_by_status(user: User, filters: ReportFilters) -> dict[str, int]:
    query = (
        period_projects(user, filters)
        .with_only_columns(Project.status, func.count(Project.id))
        .group_by(Project.status)
    )
    return {status: int(count) for status, count in db.session.execute(query)}


def youth_projects(user: User, filters: ReportFilters) -> tuple[int, int]:
    """(projects of the period flagged for young people, all projects of the period)."""
    query = period_projects(user, filters).with_only_columns(
        func.coalesce(func.sum(case((Project.youth.is_(True), 1), else_=0)), 0),
        func.count(Project.id),
    )
    youth, total = db.session.execute(query).one()
    return int(youth or 0), int(total or 0)


@dataclass(frozen=True)
class SpendingRow:
    category: str
    approved: Decimal
    committed: Decimal
    paid: Decimal


def spending_by_category(user: User, filters: ReportFilters) -> list[SpendingRow]:
    """Approved, committed and paid amounts of the budget lines of the period's approved,
    active and closed projects, per category."""
    query = (
        period_projects(user, filters)
        .where(Project.status.in_(SPENDING_PROJECT_STATUSES))
        .join(BudgetLine, BudgetLine.project_id == Project.id)
        .with_only_columns(
            BudgetLine.category,
            func.coalesce(func.sum(BudgetLine.approved), 0),
            func.coalesce(func.sum(BudgetLine.committed), 0),
            func.coalesce(func.sum(BudgetLine.paid), 0),
        )
        .group_by(BudgetLine.category)
    )
    cent = Decimal("0.01")
    return [
        SpendingRow(
            category,
            Decimal(str(approved)).quantize(cent),
            Decimal(str(committed)).quantize(cent),
            Decimal(str(paid)).quantize(cent),
        )
        for category, approved, committed, paid in db.session.execute(query)
    ]
