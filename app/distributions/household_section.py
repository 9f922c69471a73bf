"""The household page's distributions section, an htmx fragment (app.households.sections)."""

from __future__ import annotations

from flask import Response
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.auth.policy import roles_required
from app.distributions import bp
from app.distributions.models import Distribution
from app.distributions.policy import visible_distributions
from app.extensions import db
from app.households.policy import USERS
from app.households.sections import open_section, render_section
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import gettext as _


@bp.get("/household/<int:household_id>")
@roles_required(*USERS)
def household_section(household_id: int) -> Response:
    household = open_section(household_id, "distributions")
    distributions = db.session.scalars(
        visible_distributions(current_user)
        .where(Distribution.household_id == household.id)
        .options(selectinload(Distribution.site))
        .order_by(Distribution.distributed_on.desc(), Distribution.id.desc())
        .limit(24)
    ).all()
    return render_section(
        "distributions/_household_section.html",
        household,
        _("Distribuzioni ricevute"),
        distributions=distributions,
        kinds=DISTRIBUTION_KINDS,
    )
