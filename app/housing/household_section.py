"""The household page's housing section (placements and eviction prevention), an htmx fragment,
and the header buttons housing adds to the page (app.households.sections)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.auth.policy import roles_required
from app.extensions import db
from app.households.models import Household
from app.households.policy import USERS
from app.households.sections import HeaderAction, header_action, open_section, render_section
from app.housing import bp
from app.housing.models import HousingRiskCase, Placement
from app.housing.policy import (
    can_manage_risk_cases,
    can_propose_for,
    visible_placements,
    visible_risk_cases,
)
from app.housing.vocabulary import PLACEMENT_BADGES, PLACEMENT_STATUSES, RISK_KINDS, RISK_STATUSES
from app.i18n import gettext as _


@header_action
def housing_actions(user: Any, household: Household) -> Iterator[HeaderAction]:
    if can_propose_for(user, household):
        yield HeaderAction(
            _("Proponi un alloggio"), url_for("housing.new_placement", household=household.id)
        )
    if can_manage_risk_cases(user, household) and household.status == "active":
        yield HeaderAction(
            _("Apri un caso di prevenzione dello sfratto"),
            url_for("housing.new_risk_case", household=household.id),
        )


@bp.get("/household/<int:household_id>")
@roles_required(*USERS)
def household_section(household_id: int) -> Response:
    household = open_section(household_id, "housing")
    placements = db.session.scalars(
        visible_placements(current_user)
        .where(Placement.household_id == household.id)
        .options(selectinload(Placement.unit))
        .order_by(Placement.created_at.desc(), Placement.id.desc())
        .limit(50)
    ).all()
    risk_cases = db.session.scalars(
        visible_risk_cases(current_user)
        .where(HousingRiskCase.household_id == household.id)
        .order_by(HousingRiskCase.created_at.desc(), HousingRiskCase.id.desc())
        .limit(50)
    ).all()
    return render_section(
        "housing/_household_section.html",
        household,
        _("Casa"),
        placements=placements,
        placement_statuses=PLACEMENT_STATUSES,
        placement_badges=PLACEMENT_BADGES,
        risk_cases=risk_cases,
        risk_kinds=RISK_KINDS,
        risk_statuses=RISK_STATUSES,
    )
