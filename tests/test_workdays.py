"""Working days in Turin: the Italian calendar with Turin's patron saint (checked against dates
written out here, not against the package the portal reads them from), counting, the overdue
cut-off, and any date a filter may carry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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

# The public holidays of Turin in 2027, written out from the Italian calendar (law 260/1949 and
# its amendments, Easter from the Gregorian computus, the city's patron saint), not read from the
# `holidays` package the portal uses.
HOLIDAYS_2027 = {
    date(2027, 1, 1),  # Capodanno (Friday)
    date(2027, 1, 6),  # Epifania (Wednesday)
    date(2027, 3, 28),  # Pasqua (Sunday)
    date(2027, 3, 29),  # Lunedì dell'Angelo
    date(2027, 4, 25),  # Liberazione (Sunday)
    date(2027, 5, 1),  # Festa del lavoro (Saturday)
    date(2027, 6, 2),  # Festa della Repubblica (Wednesday)
    date(2027, 6, 24),  # San Giovanni, patrono di Torino (Thursday)
    date(2027, 8, 15),  # Ferragosto (Sunday)
    date(2027, 10, 4),  # San Francesco d'Assisi (Monday; national holiday again from 2026)
    date(2027, 11, 1),  # Ognissanti (Monday)
    date(2027, 11, 7),  # Unità nazionale e Forze armate, first Sunday of November
    date(2027, 12, 8),  # Immacolata (Wednesday)
    date(2027, 12, 25),  # Natale (Saturday)
    date(2027, 12, 26),  # Santo Stefano (Sunday)
}
# The holidays of 2027 falling from Monday to Friday: the days off besides the weekends.
WEEKDAY_HOLIDAYS_2027 = {
    date(2027, 1, 1),
    date(2027, 1, 6),
    date(2027, 3, 29),
    date(2027, 6, 2),
    date(2027, 6, 24),
    date(2027, 10, 4),
    date(2027, 11, 1),
    date(2027, 12, 8),
}


def every_day(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def test_the_holidays_of_2027_written_out():
    assert holidays(2027) == HOLIDAYS_2027
    assert {day for day in HOLIDAYS_2027 if day.weekday() < 5} == WEEKDAY_HOLIDAYS_2027


def test_every_day_of_2027_is_a_working_day_unless_a_weekend_or_a_holiday():
    """365 days: 104 Saturdays and Sundays, 8 holidays on weekdays, 253 working days."""
    days = every_day(2027)
    off = [day for day in days if not is_working_day(day)]
    assert len(days) - len(off) == 253
    assert {day for day in off if day.weekday() < 5} == WEEKDAY_HOLIDAYS_2027
    assert all(not is_working_day(day) for day in days if day.weekday() >= 5)
    assert working_days_between(date(2026, 12, 31), date(2027, 12, 31)) == 253


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
