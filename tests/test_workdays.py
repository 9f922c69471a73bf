"""Working days in Turin: Easter, the holidays, counting, and the overdue cut-off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workdays import (
    easter,
    holidays,
    is_working_day,
    local_date,
    month_start_utc,
    overdue_before,
    start_of_day_utc,
    working_days_between,
)


@pytest.mark.parametrize(
    "sunday",
    [
        date(1818, 3, 22),  # the earliest possible
        date(1943, 4, 25),  # the latest possible
        date(2011, 4, 24),
        date(2019, 4, 21),
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
        date(2038, 4, 25),
    ],
)
def test_easter_of_known_years(sunday):
    assert easter(sunday.year) == sunday


@given(st.integers(min_value=1583, max_value=4099))
@settings(max_examples=200, deadline=None)
def test_easter_is_a_sunday_between_22_march_and_25_april(year):
    day = easter(year)
    assert day.weekday() == 6
    assert date(year, 3, 22) <= day <= date(year, 4, 25)


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2026, 1, 1), "Capodanno"),
        (date(2026, 1, 6), "Epifania"),
        (date(2026, 4, 6), "Lunedì dell'Angelo"),
        (date(2027, 3, 29), "Lunedì dell'Angelo"),
        (date(2026, 4, 25), "Liberazione"),
        (date(2026, 5, 1), "Festa del lavoro"),
        (date(2026, 6, 2), "Festa della Repubblica"),
        (date(2026, 6, 24), "San Giovanni"),
        (date(2026, 8, 15), "Ferragosto"),
        (date(2026, 11, 1), "Ognissanti"),
        (date(2026, 12, 8), "Immacolata"),
        (date(2026, 12, 25), "Natale"),
        (date(2026, 12, 26), "Santo Stefano"),
    ],
)
def test_holidays_of_turin(day, why):
    assert day in holidays(day.year), why
    assert not is_working_day(day)


def test_easter_sunday_and_ordinary_days():
    assert not is_working_day(easter(2026))  # a Sunday anyway
    assert is_working_day(date(2026, 4, 7))  # the Tuesday after Easter
    assert is_working_day(date(2026, 6, 23))  # the eve of San Giovanni
    assert is_working_day(date(2026, 4, 24))  # Friday before the Liberazione
    assert not is_working_day(date(2026, 5, 9))  # Saturday
    assert not is_working_day(date(2026, 5, 10))  # Sunday
    assert len(holidays(2026)) == 12


def test_working_days_between_skips_the_weekend():
    friday, monday = date(2026, 5, 8), date(2026, 5, 11)
    assert working_days_between(friday, monday) == 1
    assert working_days_between(friday, friday + timedelta(days=1)) == 0
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 8)) == 4
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 11)) == 5


def test_working_days_between_skips_holidays():
    # Thursday 30 April -> Monday 4 May 2026: 1 May is a holiday, then the weekend.
    assert working_days_between(date(2026, 4, 30), date(2026, 5, 4)) == 1
    # Easter 2026: Friday 3 April -> Tuesday 7 April.
    assert working_days_between(date(2026, 4, 3), date(2026, 4, 7)) == 1
    # Christmas week 2026: Thursday 24 -> Monday 28 December.
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 28)) == 1


def test_working_days_between_is_zero_backwards():
    assert working_days_between(date(2026, 5, 8), date(2026, 5, 4)) == 0
    assert working_days_between(date(2026, 5, 8), date(2026, 5, 8)) == 0


def test_overdue_before_on_an_ordinary_week():
    # Tuesday 12 May 2026, 5 working days: started on Tuesday 5 May -> 6, 7, 8, 11, 12 = 5.
    cut = overdue_before(date(2026, 5, 12), 5)
    assert cut == date(2026, 5, 5)
    # Monday 4 May -> 6 working days: overdue.
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 12)) == 6


def test_overdue_before_moves_back_over_weekends_and_holidays():
    # Thursday 7 May 2026, 5 working days: 30 April, 4, 5, 6, 7 May (1 May and 2-3 May off).
    cut = overdue_before(date(2026, 5, 7), 5)
    assert cut == date(2026, 4, 29)
    # Friday 15 May: started on Friday 8 May or on the weekend after, 5 working days (11-15).
    assert overdue_before(date(2026, 5, 15), 5) == date(2026, 5, 8)
    assert working_days_between(date(2026, 5, 9), date(2026, 5, 15)) == 5


@given(
    today=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    back=st.integers(min_value=0, max_value=40),
    limit=st.integers(min_value=1, max_value=15),
)
@settings(max_examples=200, deadline=None)
def test_started_before_the_cut_off_exactly_when_over_the_limit(today, back, limit):
    """The cut-off agrees with counting the working days since the start, for any day."""
    started = today - timedelta(days=back)
    overdue = working_days_between(started, today) > limit
    assert (started < overdue_before(today, limit)) is overdue


def test_days_in_turin_and_in_utc():
    # Summer time: midnight in Turin is 22:00 UTC of the day before.
    assert start_of_day_utc(date(2026, 7, 1)) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    # Winter time: 23:00 UTC.
    assert month_start_utc(date(2026, 1, 20)) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert local_date(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert local_date(datetime(2026, 6, 30, 21, 59, tzinfo=UTC)) == date(2026, 6, 30)
