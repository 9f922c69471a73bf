"""The programme's financial progress: the envelope from the settings, next to what the portal adds.

Line B adds the commitments and payments of projects the City approved; line C the cost of the
stays in housing units; line A is not paid through the portal. Every figure must be exact to the
cent, whatever the database (SQLite keeps Numeric columns as floating point).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.admin import settings as admin_settings
from app.admin.models import set_setting
from app.extensions import db as _db
from app.households.models import Household
from app.housing.models import HousingUnit, Placement
from app.money import ZERO
from app.projects.finance import (
    ENVELOPE_DEFAULTS,
    LineProgress,
    envelope_value,
    progress,
    stay_cost,
)
from app.projects.models import BudgetLine, Project
from app.registry.models import Organization
from tests import factories
from tests.worlds import make_unit

TODAY = date(2026, 6, 30)
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def request_context(app: Flask, db: object) -> Iterator[None]:
    with app.test_request_context():
        yield


def euro(text: str) -> Decimal:
    return Decimal(text)


def line(progress_: Any, code: str) -> LineProgress:
    [found] = [item for item in progress_.lines if item.code == code]
    return found


# Rows written directly: finance reads whatever the database holds ---------------------------------


def project(household: Household, status: str, *lines: tuple[str, str, str]) -> Project:
    """A project in `status` with lines of (approved, committed, paid)."""
    item = Project(
        household_id=household.id,
        organization_id=household.organization_id,
        title=f"Progetto {next(_seq)}",
        status=status,
    )
    _db.session.add(item)
    _db.session.flush()
    for approved, committed, paid in lines:
        _db.session.add(
            BudgetLine(
                project_id=item.id,
                category="training",
                description="Voce",
                planned=euro(approved),
                approved=euro(approved),
                committed=euro(committed),
                paid=euro(paid),
            )
        )
    _db.session.flush()
    return item


def unit(provider: Organization, monthly_cost: str | None) -> HousingUnit:
    return make_unit(
        provider,
        vacancies=4,
        target_groups=["families"],
        monthly_cost=None if monthly_cost is None else euro(monthly_cost),
    )


def placement(
    household: Household,
    housing: HousingUnit,
    status: str,
    moved_in_on: date | None = None,
    ended_on: date | None = None,
) -> Placement:
    item = Placement(
        household_id=household.id,
        unit_id=housing.id,
        provider_id=housing.provider_id,
        status=status,
        moved_in_on=moved_in_on,
        ended_on=ended_on,
    )
    _db.session.add(item)
    _db.session.flush()
    return item


@pytest.fixture
def household(db: object) -> Household:
    item = factories.household(factories.organization(is_hub=True))
    _db.session.commit()
    return item


@pytest.fixture
def provider(db: object) -> Organization:
    item = factories.organization(is_housing_provider=True, is_job_service=False)
    _db.session.commit()
    return item


# The envelope -------------------------------------------------------------------------------------


def test_the_envelope_defaults_are_the_citys_project_sheet(db):
    result = progress(TODAY)

    assert result.programmed == euro("5657142.86")
    assert result.admitted == euro("5657142.86")
    assert result.binding == euro("5657142.86")
    assert result.disbursed == euro("5657142.36")
    assert [item.code for item in result.lines] == ["A", "B", "C"]
    assert line(result, "A").envelope == euro("250000.00")
    assert line(result, "B").envelope == euro("2907142.86")
    assert line(result, "C").envelope == euro("2500000.00")  # the rest
    assert sum(item.envelope for item in result.lines) == result.programmed
    # Nothing recorded yet: everything remains, line A is not paid through the portal.
    assert line(result, "A").committed is None
    assert line(result, "A").paid is None
    assert line(result, "B").committed == ZERO
    assert line(result, "C").paid is None
    assert [item.remaining for item in result.lines] == [
        euro("250000.00"),
        euro("2907142.86"),
        euro("2500000.00"),
    ]
    assert result.recorded_committed == ZERO


def test_a_changed_setting_is_used_and_line_c_gets_the_rest(db):
    # Through the settings page's own save, as the admin changes them.
    admin_settings.save(
        {
            **admin_settings.current_values(),
            "programme_programmed": euro("6000000.00"),
            "programme_line_a": euro("300000.50"),
            "programme_line_b": euro("3000000.00"),
            "programme_disbursed": euro("1234567.89"),
        }
    )
    _db.session.commit()

    result = progress(TODAY)

    assert result.programmed == euro("6000000.00")
    assert result.disbursed == euro("1234567.89")
    assert result.admitted == euro("5657142.86")  # unchanged: still the default
    assert line(result, "A").envelope == euro("300000.50")
    assert line(result, "B").envelope == euro("3000000.00")
    assert line(result, "C").envelope == euro("2699999.50")


@pytest.mark.parametrize("stored", ["abc", "NaN", "-Infinity", "-5.00", "1e30", True, {"x": 1}])
def test_a_setting_the_form_could_not_have_stored_falls_back_to_the_default(db, stored):
    set_setting("programme_line_b", stored)
    _db.session.commit()

    assert envelope_value("programme_line_b") == ENVELOPE_DEFAULTS["programme_line_b"]
    result = progress(TODAY)  # and the page still adds up
    assert line(result, "B").committed_share == 0


def test_settings_stored_as_numbers_are_exact(db):
    set_setting("programme_line_a", 250000)
    set_setting("programme_line_b", "2907142.9")
    _db.session.commit()

    assert envelope_value("programme_line_a") == euro("250000.00")
    assert envelope_value("programme_line_b") == euro("2907142.90")


# Line B: projects the City approved ---------------------------------------------------------------


def test_line_b_adds_only_approved_active_and_closed_projects(household):
    project(household, "approved", ("1000.00", "600.00", "250.00"), ("500.50", "500.50", "0.00"))
    project(household, "active", ("2000.00", "1999.99", "1999.99"))
    project(household, "closed", ("300.00", "0.10", "0.10"), ("300.00", "0.20", "0.10"))
    # Whatever a draft or a submitted project holds is not money the City has agreed to spend.
    project(household, "draft", ("9000.00", "8000.00", "7000.00"))
    project(household, "submitted", ("9000.00", "5000.00", "4000.00"))
    _db.session.commit()

    b = line(progress(TODAY), "B")

    assert b.committed == euro("3100.79")  # 600 + 500.50 + 1999.99 + 0.10 + 0.20
    assert b.paid == euro("2250.19")  # 250 + 1999.99 + 0.10 + 0.10
    assert b.remaining == euro("2907142.86") - euro("3100.79")
    assert b.remaining == euro("2904042.07")
    assert b.committed_share == 0  # 0.1 %: rounds to nothing on the bar


def test_payments_move_the_programme_totals_exactly(household):
    from app.projects import operations

    coordinator = factories.user("coordinator")
    operator = factories.user("entity_operator", household.organization)
    item = project(household, "active", ("1000.00", "0.00", "0.00"))
    _db.session.commit()
    budget = item.lines[0]

    operations.update_line(budget, {"committed": euro("999.99"), "paid": euro("0.01")}, operator)
    _db.session.commit()
    b = line(progress(TODAY), "B")
    assert (b.committed, b.paid) == (euro("999.99"), euro("0.01"))

    operations.request_increase(budget, euro("1000.10"), operator)
    operations.decide_increase(budget, True, coordinator)
    operations.update_line(
        budget, {"committed": euro("1000.10"), "paid": euro("1000.10")}, operator
    )
    _db.session.commit()
    b = line(progress(TODAY), "B")
    assert (b.committed, b.paid) == (euro("1000.10"), euro("1000.10"))
    assert b.remaining == euro("2906142.76")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(
    amounts=st.lists(
        st.tuples(
            st.sampled_from(["draft", "submitted", "approved", "active", "closed"]),
            st.integers(min_value=0, max_value=10**9),  # committed, cents
            st.integers(min_value=0, max_value=10**9),  # paid, cents
        ),
        max_size=25,
    )
)
def test_line_b_is_the_exact_sum_of_the_lines_in_cents(household, amounts):
    expected_committed = expected_paid = 0
    try:
        for status, committed_cents, paid_cents in amounts:
            paid_cents = min(paid_cents, committed_cents)
            committed = Decimal(committed_cents).scaleb(-2)
            project(
                household,
                status,
                (str(committed), str(committed), str(Decimal(paid_cents).scaleb(-2))),
            )
            if status in ("approved", "active", "closed"):
                expected_committed += committed_cents
                expected_paid += paid_cents
        b = line(progress(TODAY), "B")
        assert b.committed == Decimal(expected_committed).scaleb(-2)
        assert b.paid == Decimal(expected_paid).scaleb(-2)
        assert b.remaining == euro("2907142.86") - b.committed
        assert 0 <= b.committed_share <= 100
    finally:
        _db.session.rollback()


# Line C: the stays in housing units ---------------------------------------------------------------


def test_stay_cost_is_monthly_cost_times_days_over_thirty_to_the_cent():
    day = date(2026, 1, 1)
    assert stay_cost(euro("900.00"), day, day) == euro("30.00")  # the day of moving in counts
    assert stay_cost(euro("900.00"), day, date(2026, 1, 30)) == euro("900.00")
    assert stay_cost(euro("1000.00"), day, date(2026, 1, 31)) == euro("1033.33")
    assert stay_cost(euro("1000.00"), day, date(2026, 1, 2)) == euro("66.67")
    assert stay_cost(euro("0.15"), day, day) == euro("0.01")  # 0.005: half up
    assert stay_cost(euro("0.14"), day, day) == euro("0.00")
    assert stay_cost(None, day, date(2026, 3, 1)) == ZERO
    assert stay_cost(euro("900.00"), day, date(2025, 12, 31)) == ZERO  # not moved in yet


@settings(max_examples=300, deadline=None)
@given(
    monthly_cents=st.integers(min_value=0, max_value=10**10 - 1),
    days=st.integers(min_value=1, max_value=3660),
)
def test_stay_cost_rounds_exactly_half_up(monthly_cents, days):
    moved_in = date(2026, 1, 1)
    until = moved_in + timedelta(days=days - 1)
    exact = Fraction(monthly_cents * days, 30)  # in cents
    rounded = (exact + Fraction(1, 2)).__floor__()

    cost = stay_cost(Decimal(monthly_cents).scaleb(-2), moved_in, until)

    assert cost == Decimal(rounded).scaleb(-2)
    assert cost.as_tuple().exponent == -2


def test_line_c_adds_the_stays_up_to_today_or_to_the_exit(household, provider):
    flat = unit(provider, "1000.00")
    room = unit(provider, "450.50")
    free = unit(provider, None)
    # Active since 1 June: 30 days to 30 June, one month.
    placement(household, flat, "active", moved_in_on=date(2026, 6, 1))
    # Ended: 1-31 January, 31 days.
    placement(household, room, "ended", moved_in_on=date(2026, 1, 1), ended_on=date(2026, 1, 31))
    # A unit with no cost recorded adds nothing.
    placement(household, free, "active", moved_in_on=date(2026, 2, 1))
    # Not (or no longer) living there: nothing.
    placement(household, flat, "proposed")
    placement(household, flat, "approved")
    placement(household, flat, "accepted")
    placement(household, flat, "cancelled", moved_in_on=date(2026, 3, 1))
    placement(household, flat, "rejected")
    _db.session.commit()

    result = progress(TODAY)
    c = line(result, "C")

    expected = euro("1000.00") + euro("465.52")  # 450.50 × 31 / 30 = 465.5166…
    assert c.committed == expected
    assert c.paid is None  # payments to providers are not recorded in the portal
    assert c.remaining == euro("2500000.00") - expected
    # A day later the active stay costs one more day; the ended one does not change.
    assert line(progress(TODAY + timedelta(days=1)), "C").committed == expected + euro("33.33")
    assert result.recorded_committed == expected
    assert result.recorded_paid == ZERO


def test_an_ended_stay_without_an_exit_date_counts_to_today(household, provider):
    flat = unit(provider, "300.00")
    placement(household, flat, "ended", moved_in_on=date(2026, 6, 21))
    _db.session.commit()

    assert line(progress(TODAY), "C").committed == euro("100.00")  # 10 days


# The bars -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("envelope", "committed", "share"),
    [
        ("1000.00", None, 0),
        ("1000.00", "0.00", 0),
        ("1000.00", "333.33", 33),
        ("1000.00", "5.00", 1),  # 0.5 %: half up
        ("1000.00", "4.99", 0),
        ("1000.00", "999.99", 100),
        ("1000.00", "1000.00", 100),
        ("1000.00", "2500.00", 100),  # over-committed: a full bar, never more
        ("0.00", "10.00", 0),
        ("-10.00", "10.00", 0),
    ],
)
def test_the_committed_share_is_a_whole_percent_between_0_and_100(envelope, committed, share):
    item = LineProgress("B", euro(envelope), None if committed is None else euro(committed), None)

    assert item.committed_share == share
    assert item.remaining == euro(envelope) - (euro(committed) if committed else ZERO)


def test_an_over_committed_line_shows_a_full_bar_and_a_negative_remainder(household):
    set_setting("programme_line_b", "1000.00")
    project(household, "active", ("1500.00", "1200.50", "100.00"))
    _db.session.commit()

    b = line(progress(TODAY), "B")

    assert b.committed_share == 100
    assert b.remaining == euro("-200.50")


@settings(max_examples=300, deadline=None)
@given(
    envelope=st.integers(min_value=0, max_value=10**10).map(lambda c: Decimal(c).scaleb(-2)),
    committed=st.integers(min_value=0, max_value=10**11).map(lambda c: Decimal(c).scaleb(-2)),
)
def test_share_and_remaining_are_bounded_and_exact(envelope, committed):
    item = LineProgress("B", envelope, committed, None)

    assert 0 <= item.committed_share <= 100
    assert item.remaining == envelope - committed
    if envelope and committed <= envelope:
        exact = Fraction(int(committed * 100) * 100, int(envelope * 100))
        assert abs(item.committed_share - exact) <= Fraction(1, 2)
