"""Which distributions a user may see: those of the households in their scope."""

from __future__ import annotations

from sqlalchemy import Select, select

from app.auth.models import User
from app.distributions.models import Distribution
from app.households.policy import of_visible_households


def visible_distributions(user: User) -> Select[tuple[Distribution]]:
    """Distributions of the households the user may see."""
    return select(Distribution).where(of_visible_households(user, Distribution.household_id))
