"""Working days in Turin: weekends, Italian public holidays and San Giovanni (24 June) are off.

Used for deadlines such as "overdue after 5 working days unanswered". The calendar is the
`holidays` package's (Italy, province of Turin: the national holidays, 4 October again from 2026,
and the patron saint of the city of Turin, San Giovanni Battista on 24 June), not a list kept
here. The package covers the years 1870-2100; outside them only Saturdays and Sundays are off.

Every function accepts any `date`, up to `date.min` and `date.max`: a date typed in a filter
never makes the portal fail (OverflowError).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays as calendars

from app.clock import ROME

COUNTRY = "IT"
SUBDIVISION = "TO"  # Torino: San Giovanni Battista, 24 June
EARLIEST_UTC = datetime.min.replace(tzinfo=UTC)
LATEST_UTC = datetime.max.replace(tzinfo=UTC)


def calendar(years: int | list[int]) -> calendars.HolidayBase:
    """The package's holidays of Turin for `years` (names in Italian)."""
    return calendars.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=years, language="it_IT")


@cache
def holidays(year: int) -> frozenset[date]:
    """The public holidays of Turin in `year` (Sundays among them: Easter, 1st Sunday of
    November), as the `holidays` package knows them."""
    return frozenset(calendar(year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def _weekdays_from(start: date, end: date) -> int:
    """Mondays to Fridays in [start, end] (0 when end < start), without walking the days."""
    if end < start:
        return 0
    days = (end - start).days + 1
    weeks, rest = divmod(days, 7)
    first = start.weekday()
    return weeks * 5 + sum(1 for offset in range(rest) if (first + offset) % 7 < 5)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    first = start + timedelta(days=1)  # cannot overflow: start < end <= date.max
    count = _weekdays_from(first, end)
    for year in range(first.year, end.year + 1):
        count -= sum(1 for day in holidays(year) if first <= day <= end and day.weekday() < 5)
    return count


def nth_working_day_after(start: date, working_days: int) -> date:
    """The day on which `working_days` working days have passed since `start`: the last day a
    thing started on `start` is not yet overdue (`working_days` >= 1)."""
    day, counted = start, 0
    while counted < working_days:
        day += timedelta(days=1)
        counted += is_working_day(day)
    return day


@cache  # the same (today, N) for every row of a list
def overdue_before(today: date, working_days: int) -> date:
    """The first day a thing may have started on and still not be overdue today.

    A thing started on day D is overdue once more than `working_days` working days have passed
    since D, i.e. exactly when D < overdue_before(today, working_days).
    """
    # Walking back from today: `counted` is working_days_between(day, today); one day earlier
    # adds `day` itself when it is a working day.
    day, counted = today, 0
    while day > date.min:
        counted += is_working_day(day)
        if counted > working_days:
            return day
        day -= timedelta(days=1)
    return day


def start_of_day_utc(day: date) -> datetime:
    """Midnight of `day` in Turin, as a UTC instant (for comparing stored timestamps).

    The first and last days of the calendar have no such instant within `datetime`: they give
    its earliest and latest instants.
    """
    try:
        return datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)
    except OverflowError:
        return EARLIEST_UTC if day.year == date.min.year else LATEST_UTC


def month_start_utc(today: date) -> datetime:
    return start_of_day_utc(today.replace(day=1))


def local_date(moment: datetime) -> date:
    try:
        return moment.astimezone(ROME).date()
    except OverflowError:
        return date.min if moment.year == date.min.year else date.max
