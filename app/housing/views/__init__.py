"""Housing pages, one module per domain: the availability board and its units (`board`), the
placements of households into units with their follow-ups (`placements`), eviction prevention
(`risk_cases`); what they share is in `common`. All on the `housing` blueprint."""

from app.housing.views import board, placements, risk_cases  # noqa: F401
from app.housing.views.common import initials

__all__ = ["initials"]
