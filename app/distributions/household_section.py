"""The household page's distributions section, an htmx fragment (app.households.sections)."""

from __future__ import annotations

from sqlalchemy.orm import selectinload

from app.distributions import bp
from app.distributions.models import Distribution
from app.distributions.policy import visible_distributions
from app.households.sections import Rows, household_section
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import lazy_gettext as _l

BASKETS = Rows(
    visible_distributions,
    Distribution,
    (selectinload(Distribution.site),),
    newest_by="distributed_on",
    limit=24,
)
household_section(
    bp, _l("Distribuzioni ricevute"), {"distributions": BASKETS}, kinds=DISTRIBUTION_KINDS
)
