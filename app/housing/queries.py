"""Read-only housing queries: the board and its totals, proposals, follow-ups, deadlines.

Every query starts from a `visible_*` select of app/housing/policy.py, so nothing out of the
user's scope can be listed, counted or totalled. Home pages may use these too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.households.models import Household
from app.housing.models import (
    HOLDING_STATUSES,
    UNIT_STALE_AFTER_DAYS,
    HousingRiskCase,
    HousingUnit,
    Placement,
    WellbeingCheck,
)
from app.housing.policy import (
    can_manage_units,
    of_visible_placements,
    visible_risk_cases,
    visible_units,
)
from app.housing.vocabulary import TARGET_GROUPS, UNIT_KINDS
from app.web.fields import bounded_int

# Follow-ups due within this many days are listed as "in scadenza" with the overdue ones.
FOLLOW_UP_HORIZON_DAYS = 7
DEADLINE_HORIZON_DAYS = 30


def _flag(args: MultiDict[str, str], name: str) -> bool:
    return args.get(name) in ("1", "on", "y", "true")


# The board -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilters:
    """The board's filters, as they appear in its URL."""

    gruppo: str = ""  # a target group
    accessibile: bool = False
    liberi: bool = False  # only units with free places now
    tipo: str = ""  # a unit kind
    circ: int | None = None
    miei: bool = False  # a provider's own units (inactive ones too)
    raggruppa: str = "circ"  # sections by circoscrizione, or by kind ("tipo")

    @classmethod
    def from_args(cls, args: MultiDict[str, str], user: User | None = None) -> BoardFilters:
        circ = bounded_int(args.get("circ"))
        return cls(
            gruppo=args.get("gruppo", "") if args.get("gruppo") in TARGET_GROUPS else "",
            accessibile=_flag(args, "accessibile"),
            liberi=_flag(args, "liberi"),
            tipo=args.get("tipo", "") if args.get("tipo") in UNIT_KINDS else "",
            circ=circ if circ in range(1, 9) else None,
            miei=_flag(args, "miei") and user is not None and can_manage_units(user),
            raggruppa="tipo" if args.get("raggruppa") == "tipo" else "circ",
        )

    def url_args(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "gruppo": self.gruppo,
            "accessibile": "1" if self.accessibile else None,
            "liberi": "1" if self.liberi else None,
            "tipo": self.tipo,
            "circ": self.circ,
            "miei": "1" if self.miei else None,
            "raggruppa": self.raggruppa,
        }
        values.update(overrides)
        return {
            k: v
            for k, v in values.items()
            if v not in (None, "") and (k, v) != ("raggruppa", "circ")
        }

    def without(self, **changes: Any) -> BoardFilters:
        return replace(self, **changes)


def has_target_group(code: str) -> Any:
    """The unit welcomes this target group (target_groups is a JSON list of codes)."""
    return cast(HousingUnit.target_groups, String).like(f'%"{code}"%')


def board_query(user: User, filters: BoardFilters) -> Select[tuple[HousingUnit]]:
    """The units of the board: active ones (and, for "miei", all of the provider's own)."""
    query = visible_units(user)
    if filters.miei:
        query = query.where(HousingUnit.provider_id == user.organization_id)
    else:
        query = query.where(HousingUnit.active.is_(True))
    if filters.gruppo:
        query = query.where(has_target_group(filters.gruppo))
    if filters.accessibile:
        query = query.where(HousingUnit.accessible.is_(True))
    if filters.liberi:
        query = query.where(HousingUnit.vacancies > 0)
    if filters.tipo:
        query = query.where(HousingUnit.kind == filters.tipo)
    if filters.circ:
        query = query.where(HousingUnit.circoscrizione == filters.circ)
    return query


def board_units(user: User, filters: BoardFilters, limit: int) -> list[HousingUnit]:
    order = (
        (HousingUnit.kind, HousingUnit.circoscrizione, HousingUnit.name, HousingUnit.id)
        if filters.raggruppa == "tipo"
        else (HousingUnit.circoscrizione, HousingUnit.kind, HousingUnit.name, HousingUnit.id)
    )
    return list(
        db.session.scalars(
            board_query(user, filters)
            .options(selectinload(HousingUnit.provider))
            .order_by(*order)
            .limit(limit)
        )
    )


def stale_before(now: datetime | None = None) -> datetime:
    """Units whose free places were last confirmed before this moment are stale."""
    return (now or utcnow()) - timedelta(days=UNIT_STALE_AFTER_DAYS)


def is_stale(unit: HousingUnit, now: datetime | None = None) -> bool:
    return unit.vacancies_updated_at < stale_before(now)


@dataclass(frozen=True)
class DistrictTotal:
    circoscrizione: int | None  # None: the whole city
    units: int
    capacity: int
    free: int
    stale: int


def board_totals(user: User, filters: BoardFilters, now: datetime | None = None) -> list[Any]:
    """Units, capacity, free places and stale units per circoscrizione, then the city total."""
    units = board_query(user, filters).subquery()
    stale = case((units.c.vacancies_updated_at < stale_before(now), 1), else_=0)
    rows = db.session.execute(
        select(
            units.c.circoscrizione,
            func.count(),
            func.coalesce(func.sum(units.c.capacity), 0),
            func.coalesce(func.sum(units.c.vacancies), 0),
            func.coalesce(func.sum(stale), 0),
        )
        .group_by(units.c.circoscrizione)
        .order_by(units.c.circoscrizione)
    ).all()
    totals = [DistrictTotal(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]
    city = DistrictTotal(
        None,
        sum(t.units for t in totals),
        sum(t.capacity for t in totals),
        sum(t.free for t in totals),
        sum(t.stale for t in totals),
    )
    return [*totals, city]


# Proposals -----------------------------------------------------------------------------------


def declined_unit_ids(household_id: int) -> set[int]:
    """Units whose provider already declined this household: never offered again by default."""
    return set(
        db.session.scalars(
            select(Placement.unit_id).where(
                Placement.household_id == household_id, Placement.status == "declined"
            )
        )
    )


def units_for_proposal(
    user: User,
    household: Household,
    filters: BoardFilters,
    include_declined: bool,
    limit: int,
) -> list[HousingUnit]:
    """Active units with a free place for each person of the household, nearest first."""
    query = board_query(user, filters.without(liberi=True, miei=False)).where(
        HousingUnit.vacancies >= max(1, len(household.members))
    )
    if not include_declined:
        declined = declined_unit_ids(household.id)
        if declined:
            query = query.where(HousingUnit.id.not_in(declined))
    same_district = case((HousingUnit.circoscrizione == household.circoscrizione, 0), else_=1)
    return list(
        db.session.scalars(
            query.options(selectinload(HousingUnit.provider))
            .order_by(same_district, HousingUnit.circoscrizione, HousingUnit.kind, HousingUnit.name)
            .limit(limit)
        )
    )


def holding_placement(household_id: int) -> Placement | None:
    """The household's placement that holds (or asks for) a place now, if any."""
    return db.session.scalar(
        select(Placement).where(
            Placement.household_id == household_id, Placement.status.in_(HOLDING_STATUSES)
        )
    )


# Follow-ups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    check: WellbeingCheck
    placement: Placement
    overdue: bool
    days_late: int


def follow_ups_query(user: User, today: date, horizon_days: int = FOLLOW_UP_HORIZON_DAYS) -> Any:
    """Checks not yet done of active placements the user sees, due by today + horizon."""
    query = (
        select(WellbeingCheck)
        .join(Placement, Placement.id == WellbeingCheck.placement_id)
        .where(
            Placement.status == "active",
            WellbeingCheck.done_on.is_(None),
            WellbeingCheck.due_on <= today + timedelta(days=horizon_days),
        )
    )
    return query.where(of_visible_placements(user, WellbeingCheck.placement_id))


def follow_ups(
    user: User, today: date, horizon_days: int = FOLLOW_UP_HORIZON_DAYS, limit: int = 500
) -> list[FollowUp]:
    """Due and overdue well-being checks, the most overdue first."""
    checks = db.session.scalars(
        follow_ups_query(user, today, horizon_days)
        .options(
            selectinload(WellbeingCheck.placement)
            .selectinload(Placement.household)
            .selectinload(Household.members),
            selectinload(WellbeingCheck.placement).selectinload(Placement.unit),
        )
        .order_by(WellbeingCheck.due_on, WellbeingCheck.id)
        .limit(limit)
    ).all()
    return [
        FollowUp(
            check=c,
            placement=c.placement,
            overdue=c.due_on < today,
            days_late=max((today - c.due_on).days, 0),
        )
        for c in checks
    ]


def overdue_checks_count(user: User, today: date) -> int:
    """How many follow-ups are late (for a home page badge)."""
    query = follow_ups_query(user, today, 0).where(WellbeingCheck.due_on < today)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


# Eviction prevention -------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    on: date
    kind: str  # "hearing" | "execution"
    case: HousingRiskCase


DEADLINE_ROWS = 50  # the nearest deadlines listed; deadline_count() gives how many there are


def _deadline_scope(user: User, today: date, until: date) -> Select[tuple[HousingRiskCase]]:
    return visible_risk_cases(user).where(
        HousingRiskCase.status == "open",
        or_(
            HousingRiskCase.hearing_on.between(today, until),
            HousingRiskCase.execution_on.between(today, until),
        ),
    )


def upcoming_deadlines(
    user: User, today: date, days: int = DEADLINE_HORIZON_DAYS, limit: int = DEADLINE_ROWS
) -> list[Deadline]:
    """The nearest `limit` hearings and evictions of open cases the user sees, by date."""
    until = today + timedelta(days=days)
    hearing_in = HousingRiskCase.hearing_on.between(today, until)
    execution_in = HousingRiskCase.execution_on.between(today, until)
    # A case's first deadline in the window: the cases come in that order, so the first
    # `limit` cases hold the first `limit` deadlines.
    first = case(
        (
            and_(
                hearing_in,
                or_(~execution_in, HousingRiskCase.hearing_on <= HousingRiskCase.execution_on),
            ),
            HousingRiskCase.hearing_on,
        ),
        else_=HousingRiskCase.execution_on,
    )
    cases = db.session.scalars(
        _deadline_scope(user, today, until)
        .options(selectinload(HousingRiskCase.household).selectinload(Household.members))
        .order_by(first, HousingRiskCase.id)
        .limit(limit)
    )
    columns = {"hearing": HousingRiskCase.hearing_on, "execution": HousingRiskCase.execution_on}
    found: list[Deadline] = []
    for risk_case in cases:
        for kind, column in columns.items():
            on = getattr(risk_case, column.key)
            if on is not None and today <= on <= until:
                found.append(Deadline(on, kind, risk_case))
    found.sort(key=lambda d: (d.on, d.kind != "execution", d.case.id))
    return found[:limit]


def deadline_count(user: User, today: date, days: int = DEADLINE_HORIZON_DAYS) -> int:
    """How many hearings and evictions fall in the next `days` days (a case may have both)."""
    until = today + timedelta(days=days)
    scope = _deadline_scope(user, today, until).subquery()
    in_window = [
        func.coalesce(func.sum(case((scope.c[name].between(today, until), 1), else_=0)), 0)
        for name in ("hearing_on", "execution_on")
    ]
    hearings, executions = db.session.execute(select(*in_window)).one()
    return int(hearings) + int(executions)
