"""The date in Turin: what "today" means for expiries, staleness and monthly counts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def today() -> date:
    return datetime.now(ROME).date()
