"""Working days in Turin: weekends, Italian public holidays and San Giovanni (24 June) are off.

Used for deadlines such as "overdue after 5 working days unanswered".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from app.clock import ROME

FIXED_HOLIDAYS = (
    (1, 1),  # Capodanno
    (1, 6),  # Epifania
    (4, 25),  # Liberazione
    (5, 1),  # Festa del lavoro
    (6, 2),  # Festa della Repubblica
    (6, 24),  # San Giovanni, patrono di Torino
    (8, 15),  # Ferragosto
    (11, 1),  # Ognissanti
    (12, 8),  # Immacolata
    (12, 25),  # Natale
    (12, 26),  # Santo Stefano
)


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return date(year, month, day)


@cache
def holidays(year: int) -> frozenset[date]:
    days = {date(year, month, day) for month, day in FIXED_HOLIDAYS}
    days.add(easter(year) + timedelta(days=1))  # Lunedì dell'Angelo
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


@cache  # the same (today, N) for every row of a list
def overdue_before(today: date, working_days: int) -> date:
    """The first day a thing may have started on and still not be overdue today.

    A thing started on day D is overdue once more than `working_days` working days have passed
    since D, i.e. exactly when D < overdue_before(today, working_days).
    """
    day = today
    while working_days_between(day - timedelta(days=1), today) <= working_days:
        day -= timedelta(days=1)
    return day


def start_of_day_utc(day: date) -> datetime:
    """Midnight of `day` in Turin, as a UTC instant (for comparing stored timestamps)."""
    return datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)


def month_start_utc(today: date) -> datetime:
    return start_of_day_utc(today.replace(day=1))


def local_date(moment: datetime) -> date:
    return moment.astimezone(ROME).date()
