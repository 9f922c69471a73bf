"""The household page's referrals section, an htmx fragment (app.households.sections)."""

from __future__ import annotations

from flask import Response
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.auth.policy import roles_required
from app.extensions import db
from app.households.policy import USERS
from app.households.sections import open_section, render_section
from app.i18n import gettext as _
from app.referrals import bp
from app.referrals.models import Referral
from app.referrals.policy import visible_referrals
from app.referrals.vocabulary import NEED_LABELS, STATUS_BADGES, STATUSES


@bp.get("/household/<int:household_id>")
@roles_required(*USERS)
def household_section(household_id: int) -> Response:
    household = open_section(household_id, "referrals")
    referrals = db.session.scalars(
        visible_referrals(current_user)
        .where(Referral.household_id == household.id)
        .options(selectinload(Referral.service), selectinload(Referral.person))
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(50)
    ).all()
    return render_section(
        "referrals/_household_section.html",
        household,
        _("Segnalazioni"),
        referrals=referrals,
        referral_statuses=STATUSES,
        referral_badges=STATUS_BADGES,
        referral_needs=NEED_LABELS,
    )
