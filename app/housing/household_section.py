"""The household page's housing section (placements and eviction prevention), an htmx fragment,
and the header buttons housing adds to the page (app.households.sections)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import url_for
from sqlalchemy.orm import selectinload

from app.households.models import Household
from app.households.sections import HeaderAction, Rows, header_action, household_section
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
from app.i18n import lazy_gettext as _l


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


household_section(
    bp,
    _l("Casa"),
    {
        "placements": Rows(visible_placements, Placement, (selectinload(Placement.unit),)),
        "risk_cases": Rows(visible_risk_cases, HousingRiskCase),
    },
    placement_statuses=PLACEMENT_STATUSES,
    placement_badges=PLACEMENT_BADGES,
    risk_kinds=RISK_KINDS,
    risk_statuses=RISK_STATUSES,
)
