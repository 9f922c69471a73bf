"""Working days in Turin: the Italian calendar of the `holidays` package with Turin's patron
saint, counting, the overdue cut-off, and any date a filter may carry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays as calendars
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workdays import (
    holidays,
    is_working_day,
    local_date,
    month_start_utc,
    overdue_before,
    start_of_day_utc,
    working_days_between,
)

YEARS = range(2026, 2031)


def every_day(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", YEARS)
def test_the_working_days_are_those_of_the_italian_calendar_for_turin(year):
    """Every day of 2026-2030, against the package's own calendar of Italy and the province
    of Turin (whose patron day is the city's: San Giovanni, 24 June)."""
    official = calendars.country_holidays("IT", subdiv="Torino", years=year)
    assert date(year, 6, 24) in official  # the package knows Turin's patron saint
    for day in every_day(year):
        assert is_working_day(day) is (day.weekday() < 5 and day not in official), day
    assert holidays(year) == frozenset(official)


def test_the_holidays_of_2026_written_out():
    """Written from the Italian calendar, not read from the package the portal uses."""
    assert holidays(2026) == {
        date(2026, 1, 1),  # Capodanno
        date(2026, 1, 6),  # Epifania
        date(2026, 4, 5),  # Pasqua
        date(2026, 4, 6),  # Lunedì dell'Angelo
        date(2026, 4, 25),  # Liberazione
        date(2026, 5, 1),  # Festa del lavoro
        date(2026, 6, 2),  # Festa della Repubblica
        date(2026, 6, 24),  # San Giovanni, patrono di Torino
        date(2026, 8, 15),  # Ferragosto
        date(2026, 10, 4),  # San Francesco d'Assisi (festa nazionale dal 2026)
        date(2026, 11, 1),  # Ognissanti
        date(2026, 12, 8),  # Immacolata
        date(2026, 12, 25),  # Natale
        date(2026, 12, 26),  # Santo Stefano
    }


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 10, 4),  # San Francesco d'Assisi, a national holiday again from 2026
        date(2027, 10, 4),  # ...on a Monday
        date(2028, 10, 4),  # ...on a Wednesday
        date(2026, 6, 24),  # San Giovanni, patron saint of Turin (a Wednesday)
        date(2027, 6, 24),
    ],
)
def test_san_francesco_and_san_giovanni_are_not_working_days(day):
    assert day in holidays(day.year)
    assert not is_working_day(day)


def test_ordinary_days_around_the_holidays():
    assert is_working_day(date(2027, 10, 5))  # the Tuesday after San Francesco
    assert is_working_day(date(2026, 6, 23))  # the eve of San Giovanni
    assert is_working_day(date(2026, 4, 7))  # the Tuesday after Easter
    assert not is_working_day(date(2026, 4, 6))  # Lunedì dell'Angelo
    assert not is_working_day(date(2026, 5, 9))  # Saturday
    assert not is_working_day(date(2026, 5, 10))  # Sunday
    assert is_working_day(date(2025, 10, 6))  # before 2026, 4 October was a working day...
    assert date(2025, 10, 4) not in holidays(2025)  # ...and not in the calendar


def test_a_referral_sent_before_san_francesco_is_not_late_a_day_early():
    # Thursday 30 September 2027 + 5 working days: 1, 5, 6, 7, 8 October (4 is San Francesco).
    assert working_days_between(date(2027, 9, 30), date(2027, 10, 7)) == 4
    assert working_days_between(date(2027, 9, 30), date(2027, 10, 8)) == 5
    assert overdue_before(date(2027, 10, 7), 5) == date(2027, 9, 29)


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


@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
    length=st.integers(min_value=0, max_value=800),
)
@settings(max_examples=200, deadline=None)
def test_counting_agrees_with_looking_at_each_day(start, length):
    end = start + timedelta(days=length)
    expected = sum(is_working_day(start + timedelta(days=n)) for n in range(1, length + 1))
    assert working_days_between(start, end) == expected


def test_overdue_before_on_an_ordinary_week():
    # Tuesday 12 May 2026, 5 working days: started on Tuesday 5 May -> 6, 7, 8, 11, 12 = 5.
    assert overdue_before(date(2026, 5, 12), 5) == date(2026, 5, 5)
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 12)) == 6


def test_overdue_before_moves_back_over_weekends_and_holidays():
    # Thursday 7 May 2026, 5 working days: 30 April, 4, 5, 6, 7 May (1 May and 2-3 May off).
    assert overdue_before(date(2026, 5, 7), 5) == date(2026, 4, 29)
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


def test_the_ends_of_the_calendar_do_not_overflow():
    """A filter may carry 0001-01-01 or 9999-12-31: every function still answers."""
    assert start_of_day_utc(date.min) == datetime.min.replace(tzinfo=UTC)
    assert start_of_day_utc(date.max) == datetime(9999, 12, 30, 23, 0, tzinfo=UTC)
    assert start_of_day_utc(date(1, 1, 2)) < start_of_day_utc(date(2026, 1, 1))
    assert month_start_utc(date.max) < datetime.max.replace(tzinfo=UTC)
    assert local_date(datetime.min.replace(tzinfo=UTC)) == date.min
    assert local_date(datetime.max.replace(tzinfo=UTC)) == date.max
    assert overdue_before(date.min + timedelta(days=3), 5) == date.min
    assert working_days_between(date(9999, 12, 24), date.max) == 5  # Mon 27 to Fri 31
    assert working_days_between(date.max, date.max) == 0
    assert is_working_day(date.max)  # a Friday, beyond the calendar's years
