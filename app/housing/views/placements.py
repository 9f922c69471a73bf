"""Placements: the proposal of a unit for a household, the list and its exports, a
placement's page and steps, its well-being checks, the follow-ups due."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.audit.operations import commit_view, record_views
from app.auth.models import Role
from app.auth.policy import roles_required
from app.clock import today
from app.errors import DomainError
from app.exports import ROW_LIMIT
from app.extensions import db
from app.households.models import Household
from app.housing import bp, operations, queries
from app.housing.forms import CheckForm, ProposalForm, StepForm
from app.housing.models import HousingUnit, Placement, WellbeingCheck
from app.housing.operations import STEPS, AlreadyDone, StepInputError, TargetMismatch
from app.housing.policy import (
    PLACEMENT_USERS,
    can_propose_for,
    can_record_checks,
    sees_reason_note,
    visible_placement_or_404,
    visible_placements,
)
from app.housing.views.common import (
    VOCABULARY,
    actor_names,
    household_from_query,
    household_view,
    see_other,
    timeline,
)
from app.housing.vocabulary import PLACEMENT_STATUSES, REASONS_BY_STATUS, UNIT_KINDS
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.idempotency import claim, complete
from app.notifications.operations import mark_read
from app.web.errors import error_response
from app.web.fields import bounded_int
from app.web.htmx import push_url, render, wants_fragment
from app.web.list_export import Column, export_list
from app.web.paging import paginate
from app.web.transactions import finish, roll_back

FOLLOW_UP_ROWS = 50  # the most overdue first; the page says how many there are in all
PROPOSAL_CHOICES = 60
PAGE_SIZE = 25
PROPOSAL_PURPOSE = "housing.new_placement"  # the idempotency keys of the proposal form
STEP_FIELDS = ("reason_code", "note", "on")
STEP_BUTTONS = {
    "approve": _l("Approva"),
    "reject": _l("Respingi"),
    "accept": _l("Accetta"),
    "decline": _l("Rifiuta"),
    "cancel": _l("Annulla l'inserimento"),
    "move_in": _l("Registra l'ingresso"),
    "end": _l("Registra l'uscita"),
}
REASON_FIELDS = {
    "reject": _l("Motivo del respingimento"),
    "decline": _l("Motivo del rifiuto"),
    "cancel": _l("Motivo dell'annullamento"),
    "end": _l("Motivo dell'uscita"),
}
DATE_FIELDS = {"move_in": _l("Data di ingresso"), "end": _l("Data di uscita")}

STEP_DONE = {
    "approve": _l("Inserimento approvato: ora risponde il gestore."),
    "reject": _l("Proposta respinta: il posto è di nuovo libero."),
    "accept": _l("Inserimento accettato: registra l'ingresso quando il nucleo arriva."),
    "decline": _l("Proposta rifiutata: il posto è di nuovo libero."),
    "cancel": _l("Inserimento annullato: il posto è di nuovo libero."),
    "move_in": _l("Ingresso registrato: l'inserimento è in corso."),
    "end": _l("Uscita registrata: il posto è di nuovo libero."),
}


def _sharing_problem(household: Household) -> str | None:
    try:
        operations.check_sharing(household)
    except DomainError as error:
        return error.message
    return None


@bp.route("/placements/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR, Role.ENTITY_OPERATOR)
def new_placement() -> Response:
    household = household_from_query()
    if not can_propose_for(current_user, household):
        return error_response(
            409, _("Il nucleo non è più in carico: non si possono proporre alloggi.")
        )
    # The filters come with the GET, and travel with the proposal as hidden fields.
    filters = queries.BoardFilters.from_args(request.values)
    is_city = current_user.has_role(Role.COORDINATOR)
    form = ProposalForm()
    include_declined = is_city and request.values.get("riproponi") == "1"
    top_error: str | None = None
    if form.validate_on_submit():
        unit_id = bounded_int(form.unit_id.data)
        chosen = (
            db.session.scalar(
                queries.board_query(current_user, queries.BoardFilters()).where(
                    HousingUnit.id == unit_id
                )
            )
            if unit_id
            else None
        )
        key = form.idempotency_key.data
        if chosen is None:
            form.unit_id.errors = [_("Scegli un alloggio tra quelli elencati.")]
        elif (earlier := claim(key, current_user, PROPOSAL_PURPOSE)) is not None:
            # The same form sent again (a double click, a slow line): the first one's answer.
            flash(_("La proposta era già stata inviata: eccola."), "info")
            return redirect(  # type: ignore[return-value]
                earlier.result_url or url_for("households.detail", household_id=household.id),
                code=303,
            )
        else:
            try:
                placement = operations.propose(
                    household,
                    chosen,
                    current_user,
                    form.motivation.data,
                    propose_again=include_declined,
                    target_reason=form.target_reason.data,
                    today=today(),
                )
            except TargetMismatch as warning:
                roll_back()
                form.target_reason.errors = [warning.message]
            except DomainError as error:
                roll_back()
                top_error = error.message
            else:
                # The answer is ready before the commit: nothing after it can fail.
                url = url_for("housing.placement", placement_id=placement.id)
                done = ngettext(
                    "Proposta inviata alla Città: %(num)d posto dell'alloggio «%(name)s» è "
                    "riservato al nucleo.",
                    "Proposta inviata alla Città: %(num)d posti dell'alloggio «%(name)s» "
                    "sono riservati al nucleo.",
                    placement.places,
                    name=chosen.name,
                )
                complete(key, current_user, PROPOSAL_PURPOSE, placement, url)
                return finish(redirect(url, code=303), done)
    units = queries.units_for_proposal(
        current_user, household, filters, include_declined, PROPOSAL_CHOICES + 1
    )
    day = today()
    context = {
        "form": form,
        "household": household,
        "places_needed": operations.places_needed(household),
        "mismatched": {
            unit.id
            for unit in units[:PROPOSAL_CHOICES]
            if operations.target_mismatch(household, unit, day)
        },
        "filters": filters,
        "units": units[:PROPOSAL_CHOICES],
        "more_units": len(units) > PROPOSAL_CHOICES,
        "declined": queries.declined_unit_ids(household.id),
        "holding": queries.holding_placement(household.id),
        "sharing_problem": _sharing_problem(household),
        "top_error": top_error,
        "is_city": is_city,
        "include_declined": include_declined,
        **VOCABULARY,
    }
    record_views("placement_form_viewed", [household], household)
    commit_view()  # a refused proposal was rolled back: only this event is saved
    if request.method == "GET" and wants_fragment():
        return render("housing/_unit_choices.html", **context)
    failed = form.is_submitted() and bool(form.errors or top_error)
    return render("housing/placement_new.html", status=422 if failed else 200, **context)


@bp.get("/placements/")
@roles_required(*PLACEMENT_USERS)
def placements() -> Response:
    status = request.args.get("stato", "")
    status = status if status in PLACEMENT_STATUSES else ""
    query = visible_placements(current_user)
    if status:
        query = query.where(Placement.status == status)
    paging = paginate(query, bounded_int(request.args.get("pagina")), PAGE_SIZE)
    rows = db.session.scalars(
        paging.rows_of(
            query.options(
                selectinload(Placement.household).selectinload(Household.members),
                selectinload(Placement.unit),
                selectinload(Placement.provider),
            ).order_by(Placement.status_changed_at.desc(), Placement.id.desc())
        )
    ).all()
    record_views(
        "placements_listed",
        [p.household_id for p in rows],
        changes={"filters": {"stato": status} if status else {}},
    )
    commit_view()
    response = render(
        "housing/placements.html",
        "housing/_placement_results.html",
        rows=[(p, household_view(p)) for p in rows],
        stato=status,
        **paging.context(),
        **VOCABULARY,
    )
    if wants_fragment():
        push_url(response, "housing.placements", **({"stato": status} if status else {}))
    return response


def _placement_export(kind: str) -> Response:
    """The placements list with its filter, as a spreadsheet; the export is an audit event.

    A housing provider gets only the initials and the size of a household until the City
    approves the placement, as on screen.
    """
    status = request.args.get("stato", "")
    status = status if status in PLACEMENT_STATUSES else ""
    query = visible_placements(current_user)
    if status:
        query = query.where(Placement.status == status)
    found = db.session.scalars(
        query.options(
            selectinload(Placement.household).selectinload(Household.members),
            selectinload(Placement.unit),
            selectinload(Placement.provider),
        )
        .order_by(Placement.status_changed_at.desc(), Placement.id.desc())
        .limit(ROW_LIMIT + 1)
    ).all()
    # Each placement with what its reader may see of the household (household_view).
    columns: list[Column[tuple[Placement, Any]]] = [
        Column(_("N."), lambda shown: shown[0].id),
        Column(_("Nucleo"), lambda shown: shown[1].name),
        Column(_("Componenti"), lambda shown: shown[1].size),
        Column(_("Alloggio"), lambda shown: shown[0].unit.name),
        Column(
            _("Tipologia"),
            lambda shown: str(UNIT_KINDS.get(shown[0].unit.kind, shown[0].unit.kind)),
        ),
        Column(_("Gestore"), lambda shown: shown[0].provider.name),
        Column(
            _("Stato"), lambda shown: str(PLACEMENT_STATUSES.get(shown[0].status, shown[0].status))
        ),
        Column(_("Motivo"), lambda shown: _reason_text(shown[0])),
        Column(_("Proposto il"), lambda shown: shown[0].created_at),
        Column(_("Approvato il"), lambda shown: shown[0].approved_at),
        Column(_("Ingresso"), lambda shown: shown[0].moved_in_on),
        Column(_("Uscita"), lambda shown: shown[0].ended_on),
        Column(_("Ultima modifica"), lambda shown: shown[0].status_changed_at),
    ]
    return export_list(
        kind,
        [(placement, household_view(placement)) for placement in found[:ROW_LIMIT]],
        columns,
        cut_at=ROW_LIMIT if len(found) > ROW_LIMIT else None,
        household_of=lambda shown: shown[0].household_id,
        filename=f"inserimenti-{today().isoformat()}",
        title=_("Inserimenti"),
        action="placements_exported",
        changes={"filters": {"stato": status} if status else {}},
    )


def _reason_text(placement: Placement) -> str:
    if not placement.reason_code:
        return ""
    reasons = REASONS_BY_STATUS.get(placement.status, {})
    return str(reasons.get(placement.reason_code, placement.reason_code))


@bp.get("/placements/export.csv")
@roles_required(*PLACEMENT_USERS)
def export_placements_csv() -> Response:
    return _placement_export("csv")


@bp.get("/placements/export.xlsx")
@roles_required(*PLACEMENT_USERS)
def export_placements_xlsx() -> Response:
    return _placement_export("xlsx")


@bp.get("/placements/<int:placement_id>")
@roles_required(*PLACEMENT_USERS)
def placement(placement_id: int) -> Response:
    # What the page names, in the same statement: the same number of queries whoever proposed.
    item = visible_placement_or_404(
        current_user,
        placement_id,
        joinedload(Placement.provider),
        joinedload(Placement.proposing_organization),
        joinedload(Placement.unit),
    )
    operations.record_view(item, current_user)
    mark_read(current_user, "placement", item.id)
    commit_view()
    return _placement_page(item)


def _placement_page(
    item: Placement,
    status: int = 200,
    error: str | None = None,
    failed_step: str | None = None,
    step_form: StepForm | None = None,
    check_form: CheckForm | None = None,
    field_error: tuple[str, str] | None = None,
) -> Response:
    day = today()
    events = timeline("placement", item.id, "placement_viewed")
    due = next((c for c in item.checks if c.done_on is None), None)
    if check_form is None:
        check_form = CheckForm(formdata=None, done_on=day)
    steps = operations.available_steps(current_user, item)
    return render(
        "housing/placement.html",
        status=status,
        placement=item,
        unit=item.unit,
        who=household_view(item, with_link=True),
        reason_note_visible=sees_reason_note(current_user, item),
        spoken=list(dict.fromkeys(c for m in item.household.members for c in m.languages or [])),
        today=day,
        steps=steps,
        step_table=STEPS,
        step_buttons=STEP_BUTTONS,
        reason_fields=REASON_FIELDS,
        date_fields=DATE_FIELDS,
        error=error,
        failed_step=failed_step,
        step_form=step_form,
        field_error=field_error,
        proposed_on=operations.proposed_on(item),
        events=events,
        actors=actor_names(events),
        due_check=due if item.status == "active" else None,
        can_record=can_record_checks(current_user, item) and item.status == "active",
        check_form=check_form,
        **VOCABULARY,
    )


@bp.post("/placements/<int:placement_id>/<step>")
@roles_required(*PLACEMENT_USERS)
def placement_step(placement_id: int, step: str) -> Response:
    item = visible_placement_or_404(current_user, placement_id)
    if step not in STEPS:
        abort(404)
    form = StepForm()
    if not form.validate_on_submit():
        message = " ".join(str(e) for f in form for e in f.errors) or _("Dati non validi.")
        wrong = next((f.name for f in form if f.errors and f.name in STEP_FIELDS), None)
        return _refused_step(item, step, form, message, 422, wrong)
    try:
        operations.transition(
            item,
            step,
            current_user,
            reason_code=form.reason_code.data or None,
            note=form.note.data,
            on=form.on.data,
            today=today(),
        )
    except AlreadyDone as done:
        # The same step pressed twice (a double click, a colleague): it is done, nothing to fix.
        roll_back()
        flash(done.message, "info")
        return see_other("housing.placement", placement_id=placement_id)
    except StepInputError as bad:
        roll_back()
        return _refused_step(item, step, form, bad.message, 422, bad.field)
    except DomainError as refused:
        roll_back()
        return _refused_step(item, step, form, refused.message, 409)
    return finish(see_other("housing.placement", placement_id=placement_id), str(STEP_DONE[step]))


def _refused_step(
    item: Placement,
    step: str,
    form: StepForm,
    message: str,
    status: int,
    field: str | None = None,
) -> Response:
    """The placement page again: a wrong field gets its message beside it, input kept; a
    refusal by the rules (409) shows the message and the state the placement is in now."""
    item = visible_placement_or_404(current_user, item.id)
    operations.record_view(item, current_user)
    commit_view()
    if field is not None:
        return _placement_page(item, status, None, step, form, field_error=(field, message))
    return _placement_page(item, status, message, step, form)


@bp.post("/placements/<int:placement_id>/checks/<int:check_id>")
@roles_required(*PLACEMENT_USERS)
def record_check(placement_id: int, check_id: int) -> Response:
    item = visible_placement_or_404(current_user, placement_id)
    check = db.session.get(WellbeingCheck, check_id)
    if check is None or check.placement_id != item.id:
        abort(404)
    form = CheckForm()
    error: str | None = None
    if form.validate_on_submit():
        try:
            operations.record_check(
                check,
                form.done_on.data,
                form.wellbeing.data,
                form.notes.data,
                current_user,
                today(),
            )
        except DomainError as refused:
            roll_back()
            error = refused.message
        else:
            return finish(
                see_other("housing.placement", placement_id=item.id),
                _("Verifica registrata; la prossima è in calendario."),
            )
    item = visible_placement_or_404(current_user, placement_id)
    operations.record_view(item, current_user)
    commit_view()
    status = 409 if error is not None else 422  # refused by the rules, or bad input
    return _placement_page(item, status, error, "check", check_form=form)


# Follow-ups ----------------------------------------------------------------------------------


@bp.get("/follow-ups")
@roles_required(*PLACEMENT_USERS)
def follow_ups() -> Response:
    day = today()
    rows = queries.follow_ups(current_user, day, limit=FOLLOW_UP_ROWS)
    query = queries.follow_ups_query(current_user, day)
    record_views("follow_ups_listed", [row.placement.household_id for row in rows])
    commit_view()
    return render(
        "housing/follow_ups.html",
        rows=[(row, household_view(row.placement)) for row in rows],
        total=db.session.scalar(select(func.count()).select_from(query.subquery())) or 0,
        overdue=queries.overdue_checks_count(current_user, day),
        horizon=queries.FOLLOW_UP_HORIZON_DAYS,
        today=day,
        **VOCABULARY,
    )
