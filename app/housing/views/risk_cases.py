"""Eviction prevention: the risk cases of the households one follows, with their deadlines."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.audit.operations import commit_view, record_views
from app.auth.policy import roles_required
from app.clock import today
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household
from app.households.policy import USERS as HOUSEHOLD_USERS
from app.households.policy import household_link
from app.housing import bp, operations, queries
from app.housing.forms import CloseRiskCaseForm, RiskCaseForm
from app.housing.models import HousingRiskCase
from app.housing.policy import (
    can_manage_risk_cases,
    managed_risk_case_or_404,
    visible_risk_case_or_404,
    visible_risk_cases,
)
from app.housing.views.common import (
    VOCABULARY,
    actor_names,
    household_from_query,
    see_other,
    timeline,
)
from app.i18n import gettext as _
from app.web.fields import bounded_int
from app.web.htmx import render
from app.web.paging import paginate
from app.web.transactions import finish, roll_back

PAGE_SIZE = 25


@bp.get("/risk-cases")
@roles_required(*HOUSEHOLD_USERS)
def risk_cases() -> Response:
    day = today()
    status = request.args.get("stato", "open")
    status = status if status in ("open", "closed", "tutti") else "open"
    query = visible_risk_cases(current_user)
    if status != "tutti":
        query = query.where(HousingRiskCase.status == status)
    paging = paginate(query, bounded_int(request.args.get("pagina")), PAGE_SIZE)
    cases = db.session.scalars(
        paging.rows_of(
            query.options(
                selectinload(HousingRiskCase.household).selectinload(Household.members)
            ).order_by(HousingRiskCase.created_at.desc(), HousingRiskCase.id.desc())
        )
    ).all()
    deadlines = queries.upcoming_deadlines(current_user, day)
    record_views(
        "risk_cases_listed",
        [c.household_id for c in cases] + [d.case.household_id for d in deadlines],
        changes={"filters": {"stato": status}},
    )
    commit_view()
    return render(
        "housing/risk_cases.html",
        cases=cases,
        deadlines=deadlines,
        deadline_total=queries.deadline_count(current_user, day),
        horizon=queries.DEADLINE_HORIZON_DAYS,
        stato=status,
        **paging.context(),
        today=day,
        **VOCABULARY,
    )


@bp.route("/risk-cases/new", methods=["GET", "POST"])
@roles_required(*HOUSEHOLD_USERS)
def new_risk_case() -> Response:
    household = household_from_query()
    if not can_manage_risk_cases(current_user, household):
        abort(404)
    form = RiskCaseForm()
    top_error: str | None = None
    if form.validate_on_submit():
        try:
            case = operations.open_risk_case(household, form.values(), current_user)
        except DomainError as error:
            roll_back()
            top_error = error.message
        else:
            return finish(
                see_other("housing.risk_case", case_id=case.id),
                _("Caso di prevenzione dello sfratto aperto."),
            )
    record_views("risk_case_form_viewed", [household], household)
    commit_view()  # a refused case was rolled back: only this event is saved
    return render(
        "housing/risk_case_new.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        household=household,
        top_error=top_error,
        **VOCABULARY,
    )


@bp.get("/risk-cases/<int:case_id>")
@roles_required(*HOUSEHOLD_USERS)
def risk_case(case_id: int) -> Response:
    case = visible_risk_case_or_404(current_user, case_id)
    record_views("risk_case_viewed", [case.household_id], case)
    commit_view()
    return _risk_case_page(case)


def _risk_case_page(
    case: HousingRiskCase,
    status: int = 200,
    form: RiskCaseForm | None = None,
    close_form: CloseRiskCaseForm | None = None,
    error: str | None = None,
) -> Response:
    if form is None:
        form = RiskCaseForm(formdata=None, obj=case)
    if close_form is None:
        close_form = CloseRiskCaseForm(formdata=None, closed_on=today())
    events = timeline("housing_risk_case", case.id, "risk_case_viewed")
    return render(
        "housing/risk_case.html",
        status=status,
        case=case,
        form=form,
        close_form=close_form,
        error=error,
        can_manage=case.status == "open" and can_manage_risk_cases(current_user, case.household),
        household_link=household_link(current_user, case.household),
        events=events,
        actors=actor_names(events),
        today=today(),
        **VOCABULARY,
    )


def _rerender_case(case_id: int, **context: Any) -> Response:
    case = visible_risk_case_or_404(current_user, case_id)
    record_views("risk_case_viewed", [case.household_id], case)
    commit_view()
    return _risk_case_page(case, **context)


@bp.post("/risk-cases/<int:case_id>/edit")
@roles_required(*HOUSEHOLD_USERS)
def edit_risk_case(case_id: int) -> Response:
    case = managed_risk_case_or_404(current_user, case_id)
    form = RiskCaseForm()
    if form.validate_on_submit():
        try:
            changes = operations.update_risk_case(case, form.values(), current_user)
        except DomainError as refused:
            roll_back()
            return _rerender_case(case_id, status=422, form=form, error=refused.message)
        return finish(
            see_other("housing.risk_case", case_id=case.id),
            _("Caso aggiornato.") if changes else _("Nessuna modifica da salvare."),
        )
    return _rerender_case(case_id, status=422, form=form)


@bp.post("/risk-cases/<int:case_id>/close")
@roles_required(*HOUSEHOLD_USERS)
def close_risk_case(case_id: int) -> Response:
    case = managed_risk_case_or_404(current_user, case_id)
    form = CloseRiskCaseForm()
    if form.validate_on_submit():
        try:
            operations.close_risk_case(
                case, form.outcome.data, form.closed_on.data, current_user, today()
            )
        except DomainError as refused:
            roll_back()
            return _rerender_case(case_id, status=409, close_form=form, error=refused.message)
        return finish(see_other("housing.risk_case", case_id=case.id), _("Caso chiuso."))
    return _rerender_case(case_id, status=422, close_form=form)
