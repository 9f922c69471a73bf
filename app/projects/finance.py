"""The programme's financial progress: the configured envelope next to what the portal records.

The envelope (the City's project sheet: programmed, admitted, legally binding and disbursed
amounts, and the split by action line) is a set of settings the admin edits, never constants.
What the portal adds up:
- action line B: committed and paid of the budget lines of approved, active and closed projects;
- action line C: the cost of the stays in housing units (monthly cost × days of stay / 30, up to
  today or the exit date, each day at the unit's cost in force that day: `housing_unit_rate`),
  counted as committed once a household moves in; the portal does not record payments to
  housing providers;
- action line A: the hubs and job services are not paid through the portal: nothing to add.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from app.admin.models import get_setting
from app.extensions import db
from app.housing.models import HousingUnit, Placement, UnitRate
from app.money import ABSURD, CENT, ZERO, total
from app.projects.models import BudgetLine, Project

# Setting key -> default amount (the City's project sheet, PON Metro TO7.1.1.a).
ENVELOPE_DEFAULTS: dict[str, Decimal] = {
    "programme_programmed": Decimal("5657142.86"),
    "programme_admitted": Decimal("5657142.86"),
    "programme_binding": Decimal("5657142.86"),
    "programme_disbursed": Decimal("5657142.36"),
    "programme_line_a": Decimal("250000.00"),
    "programme_line_b": Decimal("2907142.86"),
}
SPENDING_PROJECT_STATUSES = ("approved", "active", "closed")
STAY_STATUSES = ("active", "ended")


def envelope_value(key: str) -> Decimal:
    raw = get_setting(key)
    if raw is None:
        return ENVELOPE_DEFAULTS[key]
    try:
        value = Decimal(str(raw))
        # A value the settings form could not have stored (NaN, negative, absurd): the default.
        if not value.is_finite() or not ZERO <= value <= ABSURD:
            return ENVELOPE_DEFAULTS[key]
        return value.quantize(CENT)
    except ArithmeticError:
        return ENVELOPE_DEFAULTS[key]


@dataclass(frozen=True)
class LineProgress:
    code: str  # "A", "B", "C"
    envelope: Decimal
    committed: Decimal | None  # None: not recorded in the portal
    paid: Decimal | None

    @property
    def remaining(self) -> Decimal:
        return self.envelope - (self.committed or ZERO)

    @property
    def committed_share(self) -> int:
        """Whole percent of the envelope committed (for the bar), 0..100."""
        if not self.envelope or not self.committed:
            return 0
        share = (self.committed * 100 / self.envelope).to_integral_value(ROUND_HALF_UP)
        return int(min(max(share, 0), 100))


@dataclass(frozen=True)
class Progress:
    programmed: Decimal
    admitted: Decimal
    binding: Decimal
    disbursed: Decimal
    lines: tuple[LineProgress, ...]

    @property
    def recorded_committed(self) -> Decimal:
        return total(line.committed for line in self.lines)

    @property
    def recorded_paid(self) -> Decimal:
        return total(line.paid for line in self.lines)


def project_spending() -> tuple[Decimal, Decimal]:
    committed, paid = db.session.execute(
        select(
            func.coalesce(func.sum(BudgetLine.committed), 0),
            func.coalesce(func.sum(BudgetLine.paid), 0),
        )
        .join(Project, Project.id == BudgetLine.project_id)
        .where(Project.status.in_(SPENDING_PROJECT_STATUSES))
    ).one()
    return Decimal(committed).quantize(CENT), Decimal(paid).quantize(CENT)


def stay_cost(monthly_cost: Decimal | None, moved_in_on: date, until: date) -> Decimal:
    """Monthly cost × days of stay / 30, to the cent."""
    if monthly_cost is None or until < moved_in_on:
        return ZERO
    days = (until - moved_in_on).days + 1
    return (monthly_cost * days / 30).quantize(CENT, rounding=ROUND_HALF_UP)


Rate = tuple[date, Decimal | None]  # (in force from, monthly cost)


def stay_cost_at_rates(rates: Sequence[Rate], moved_in_on: date, until: date) -> Decimal:
    """Each day of the stay at the monthly cost in force that day, / 30, rounded once per stay.

    `rates` are the unit's costs by the day they took effect, oldest first; days before the
    first one are counted at the first one (the cost the unit was registered with)."""
    if not rates or until < moved_in_on:
        return ZERO
    exact = Decimal(0)
    for index, (valid_from, cost) in enumerate(rates):
        begin = moved_in_on if index == 0 else max(valid_from, moved_in_on)
        end = until
        if index + 1 < len(rates):
            end = min(end, rates[index + 1][0] - timedelta(days=1))
        if cost is None or end < begin:
            continue
        exact += cost * ((end - begin).days + 1)
    return (exact / 30).quantize(CENT, rounding=ROUND_HALF_UP)


def housing_spending(today: date) -> Decimal:
    """Line C: every stay (moved in, active or ended) at the costs in force during it."""
    stays = db.session.execute(
        select(
            Placement.unit_id, HousingUnit.monthly_cost, Placement.moved_in_on, Placement.ended_on
        )
        .join(HousingUnit, HousingUnit.id == Placement.unit_id)
        .where(Placement.moved_in_on.is_not(None), Placement.status.in_(STAY_STATUSES))
    ).all()
    stayed_in = (
        select(Placement.unit_id)
        .where(Placement.moved_in_on.is_not(None), Placement.status.in_(STAY_STATUSES))
        .distinct()
    )
    history: dict[int, list[Rate]] = defaultdict(list)
    for unit_id, valid_from, cost in db.session.execute(
        select(UnitRate.unit_id, UnitRate.valid_from, UnitRate.monthly_cost)
        .where(UnitRate.unit_id.in_(stayed_in))
        .order_by(UnitRate.unit_id, UnitRate.valid_from)
    ):
        history[unit_id].append((valid_from, cost))
    return total(
        # A unit without a history (written outside the portal): its current cost.
        stay_cost_at_rates(history.get(unit_id) or [(moved_in, cost)], moved_in, ended or today)
        for unit_id, cost, moved_in, ended in stays
    )


def progress(today: date) -> Progress:
    programmed = envelope_value("programme_programmed")
    line_a = envelope_value("programme_line_a")
    line_b = envelope_value("programme_line_b")
    b_committed, b_paid = project_spending()
    c_committed = housing_spending(today)
    return Progress(
        programmed=programmed,
        admitted=envelope_value("programme_admitted"),
        binding=envelope_value("programme_binding"),
        disbursed=envelope_value("programme_disbursed"),
        lines=(
            LineProgress("A", line_a, None, None),
            LineProgress("B", line_b, b_committed, b_paid),
            LineProgress("C", programmed - line_a - line_b, c_committed, None),
        ),
    )
