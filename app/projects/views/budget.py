"""The life budget: its lines edited inline with htmx (the totals updated out of band), the
increases asked of the City, and the programme's financial progress."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_login import current_user

from app.auth.models import Role
from app.auth.policy import roles_required
from app.clock import today
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.idempotency import claim, complete
from app.money import ABSURD, ZERO
from app.projects import bp, finance, operations
from app.projects.forms import IncreaseForm, LineForm, NewLineForm, SpendingForm
from app.projects.models import BudgetLine, Project
from app.projects.policy import USERS, can_edit, run_project_or_404, visible_project_or_404
from app.projects.views.common import (
    CLOSED_MESSAGE,
    SPENDING_STATUSES,
    SUBMITTED_MESSAGE,
    budget_context,
    detail_page,
    refused,
    see_other,
)
from app.web.htmx import render, wants_fragment
from app.web.transactions import finish, roll_back
from app.workflow import StaleState

# The action lines of the programme (DESIGN.md): code -> name.
ACTION_LINES = {
    "A": _l("Snodi di comunità"),
    "B": _l("Progetti individualizzati e budget di vita"),
    "C": _l("Housing sociale e accoglienza"),
}


# Budget lines (inline with htmx) ---------------------------------------------------------------


def _line_or_404(project: Project, line_id: int) -> BudgetLine:
    line = db.session.get(BudgetLine, line_id)
    if line is None or line.project_id != project.id:
        abort(404)
    return line


def _line_edit_refusal(project: Project) -> str | None:
    if not can_edit(current_user, project):
        return str(CLOSED_MESSAGE)
    if project.status == "submitted":
        return str(SUBMITTED_MESSAGE)
    return None


def _line_form(project: Project, line: BudgetLine, submitted: bool) -> LineForm | SpendingForm:
    """The form of the line's editor: the plan in a draft, commitments and payments after
    approval. Prefilled with the line (GET) or with what was posted."""
    prefix = f"line-{line.id}"
    if project.status in SPENDING_STATUSES:
        if submitted:
            return SpendingForm(prefix=prefix)
        return SpendingForm(
            formdata=None,
            prefix=prefix,
            data={
                "committed": line.committed,
                "committed_on": line.committed_on,
                "paid": line.paid,
                "paid_on": line.paid_on,
                "supplier": line.supplier,
                "seen_committed": str(line.committed),
                "seen_paid": str(line.paid),
            },
        )
    if submitted:
        return LineForm(prefix=prefix)
    return LineForm(
        formdata=None,
        prefix=prefix,
        data={
            "category": line.category,
            "description": line.description,
            "supplier": line.supplier,
            "planned": line.planned,
        },
    )


def _line_editor(
    project: Project,
    line: BudgetLine,
    form: LineForm | SpendingForm | None = None,
    increase_form: IncreaseForm | None = None,
    status: int = 200,
) -> Response:
    """The line as an inline form (a table row for htmx, a page otherwise)."""
    spending = project.status in SPENDING_STATUSES
    form = form or _line_form(project, line, submitted=False)
    if wants_fragment():
        # The row became a form where the user clicked: take the focus there; when the form
        # comes back refused, to the first field in error.
        fields = [*form, *(increase_form or [])]
        first = next((f for f in fields if f.errors and f.type != "CSRFTokenField"), None) or (
            form.committed if isinstance(form, SpendingForm) else form.category
        )
        first.render_kw = {**(first.render_kw or {}), "autofocus": True}
    return render(
        "projects/line.html",
        "projects/_line_form_row.html",
        status=status,
        line=line,
        form=form,
        increase_form=(increase_form or IncreaseForm(formdata=None, prefix=f"increase-{line.id}"))
        if spending
        else None,
        inline=wants_fragment(),
        **budget_context(project),
    )


def _line_saved(project: Project, line: BudgetLine, message: str) -> Response:
    """After a change: the row and the totals (out of band) for htmx, else back to the page;
    the answer is prepared, then the change committed (`finish`)."""
    if wants_fragment():
        # The focus goes back to the row's edit button (the form it was in is gone).
        return finish(
            render(
                "projects/_line_saved.html",
                line=line,
                saved_id=line.id,
                focus_id=line.id,
                saved_message=message,
                **budget_context(project),
            )
        )
    return finish(
        see_other("projects.detail", project_id=project.id, _anchor=f"line-{line.id}"), message
    )


def _line_added(project: Project, line: BudgetLine, save: bool = False) -> Response:
    """After a line was added (or the same form sent again): a fresh form, the lines and the
    totals for htmx; else back to the page at the line. With `save`, the answer is prepared,
    then the new line committed (`finish`)."""
    message = (
        _("Voce di budget aggiunta.")
        if project.status == "draft"
        else _("Nuova voce inviata alla Città come richiesta di aumento.")
    )
    if wants_fragment():
        added = render(
            "projects/_line_added.html",
            line_form=NewLineForm(formdata=None, prefix="line"),
            saved_id=line.id,
            added_message=message,
            **budget_context(project),
        )
        return finish(added) if save else added
    back = see_other("projects.detail", project_id=project.id, _anchor=f"line-{line.id}")
    if save:
        return finish(back, message)
    flash(message, "success")
    return back


@bp.post("/<int:project_id>/lines")
@roles_required(Role.ENTITY_OPERATOR)
def add_line(project_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    if not can_edit(current_user, project):
        return refused(str(CLOSED_MESSAGE), project)
    form = NewLineForm(prefix="line")
    if form.validate_on_submit():
        values = {
            "category": form.category.data,
            "description": (form.description.data or "").strip(),
            "supplier": (form.supplier.data or "").strip() or None,
            "planned": form.planned.data,
        }
        key, purpose = form.idempotency_key.data, f"budget_line:{project.id}"
        earlier = claim(key, current_user, purpose)
        if earlier is not None:
            line = db.session.get(BudgetLine, earlier.object_id or 0)
            if line is None or line.project_id != project.id:  # removed since: the page now
                return see_other("projects.detail", project_id=project.id, _anchor="budget-title")
            return _line_added(project, line)
        try:
            line = operations.add_line(project, values, current_user)
        except DomainError as error:
            roll_back()
            form.form_errors.append(error.message)
        else:
            url = url_for("projects.detail", project_id=project.id, _anchor=f"line-{line.id}")
            complete(key, current_user, purpose, line, url)
            return _line_added(project, line, save=True)
    if wants_fragment():
        return render(
            "projects/_line_add.html", status=422, line_form=form, **budget_context(project)
        )
    return detail_page(project, status=422, line_form=form)


@bp.get("/<int:project_id>/lines/<int:line_id>/edit")
@roles_required(Role.ENTITY_OPERATOR)
def edit_line(project_id: int, line_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    line = _line_or_404(project, line_id)
    refusal = _line_edit_refusal(project)
    if refusal:
        return refused(refusal, project)
    return _line_editor(project, line)


def _place_line_error(form: LineForm | SpendingForm, line: BudgetLine, message: str) -> None:
    """Put the operation's refusal next to the amount it is about."""
    if isinstance(form, SpendingForm) and form.committed.data is not None:
        if form.committed.data > line.approved:
            form.committed.errors.append(message)
            return
        if form.paid.data is not None and form.paid.data > form.committed.data:
            form.paid.errors.append(message)
            return
    form.form_errors.append(message)


@bp.post("/<int:project_id>/lines/<int:line_id>")
@roles_required(Role.ENTITY_OPERATOR)
def save_line(project_id: int, line_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    line = _line_or_404(project, line_id)
    refusal = _line_edit_refusal(project)
    if refusal:
        return refused(refusal, project)
    form = _line_form(project, line, submitted=True)
    if form.validate_on_submit():
        if isinstance(form, SpendingForm):
            values: dict[str, Any] = {
                "committed": form.committed.data,
                "committed_on": form.committed_on.data,
                "paid": form.paid.data,
                "paid_on": form.paid_on.data,
                "supplier": (form.supplier.data or "").strip() or None,
                "seen": _seen_amounts(form),
            }
        else:
            values = {
                "category": form.category.data,
                "description": (form.description.data or "").strip(),
                "supplier": (form.supplier.data or "").strip() or None,
                "planned": form.planned.data,
            }
        try:
            changes = operations.update_line(line, values, current_user)
        except StaleState as error:
            roll_back()
            if not operations.line_exists(line_id):
                return refused(error.message, project)
            if isinstance(form, SpendingForm):  # from now on the user has seen what is there
                form.seen_committed.data = str(line.committed)
                form.seen_paid.data = str(line.paid)
            form.form_errors.append(error.message)
            return _line_editor(project, line, form=form, status=409)
        except DomainError as error:
            roll_back()
            _place_line_error(form, line, error.message)
        else:
            return _line_saved(
                project,
                line,
                _("Voce di budget aggiornata.") if changes else _("Nessuna modifica da salvare."),
            )
    return _line_editor(project, line, form=form, status=422)


def _amount_shown(raw: str | None) -> Decimal | None:
    """An amount the page wrote in a hidden field (plain `1234.50`); anything else: none."""
    try:
        value = Decimal((raw or "").strip())
    except ArithmeticError:
        return None
    if not value.is_finite() or not ZERO <= value <= ABSURD:
        return None
    return value


def _seen_amounts(form: SpendingForm) -> tuple[Decimal, Decimal] | None:
    committed, paid = _amount_shown(form.seen_committed.data), _amount_shown(form.seen_paid.data)
    return None if committed is None or paid is None else (committed, paid)


@bp.get("/<int:project_id>/lines/<int:line_id>/row")
@roles_required(*USERS)
def line_row(project_id: int, line_id: int) -> Response:
    """The read-only row again (the Cancel button of the inline editor)."""
    project = visible_project_or_404(current_user, project_id)
    line = _line_or_404(project, line_id)
    if not wants_fragment():
        return see_other("projects.detail", project_id=project.id, _anchor=f"line-{line.id}")
    return render(
        "projects/_line_row.html",
        line=line,
        saved_id=None,
        focus_id=line.id,  # back on the edit button the editor was opened from
        **budget_context(project),
    )


@bp.post("/<int:project_id>/lines/<int:line_id>/delete")
@roles_required(Role.ENTITY_OPERATOR)
def remove_line(project_id: int, line_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    line = _line_or_404(project, line_id)
    try:
        operations.remove_line(line, current_user)
    except StaleState:
        # Removed meanwhile (a double click, a colleague): what the user asked for is done.
        roll_back()
        if wants_fragment():
            return render("projects/_line_removed.html", **budget_context(project))
        flash(_("Voce di budget eliminata."), "success")
        return see_other("projects.detail", project_id=project.id, _anchor="budget-title")
    except DomainError as error:
        roll_back()
        return refused(error.message, project)
    if wants_fragment():
        return finish(render("projects/_line_removed.html", **budget_context(project)))
    return finish(
        see_other("projects.detail", project_id=project.id, _anchor="budget-title"),
        _("Voce di budget eliminata."),
    )


@bp.post("/<int:project_id>/lines/<int:line_id>/increase")
@roles_required(Role.ENTITY_OPERATOR)
def request_increase(project_id: int, line_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    line = _line_or_404(project, line_id)
    refusal = _line_edit_refusal(project)
    if refusal:
        return refused(refusal, project)
    form = IncreaseForm(prefix=f"increase-{line.id}")
    if form.validate_on_submit():
        try:
            operations.request_increase(line, form.amount.data, current_user)
        except DomainError as error:
            roll_back()
            if project.status not in SPENDING_STATUSES:
                return refused(error.message, project)
            form.amount.errors.append(error.message)
        else:
            return _line_saved(project, line, _("Richiesta di aumento inviata alla Città."))
    if project.status not in SPENDING_STATUSES:
        return refused(_("Gli aumenti si chiedono su un progetto approvato."), project)
    return _line_editor(project, line, increase_form=form, status=422)


@bp.post("/<int:project_id>/lines/<int:line_id>/increase/<decision>")
@roles_required(Role.COORDINATOR)
def decide_increase(project_id: int, line_id: int, decision: str) -> Response:
    if decision not in ("approve", "reject"):
        abort(404)
    project = visible_project_or_404(current_user, project_id)
    line = _line_or_404(project, line_id)
    approve = decision == "approve"
    seen = _amount_shown(request.form.get("requested"))
    try:
        operations.decide_increase(line, approve, current_user, seen=seen)
    except DomainError as error:
        roll_back()
        return refused(error.message, project)
    return _line_saved(
        project,
        line,
        _("Aumento approvato: il nuovo importo è disponibile.")
        if approve
        else _("Aumento respinto: l'importo approvato resta quello di prima."),
    )


# The programme's financial progress ------------------------------------------------------------


@bp.get("/programme")
@roles_required(Role.COORDINATOR)
def programme() -> Response:
    return render(
        "projects/programme.html",
        progress=finance.progress(today()),
        action_lines=ACTION_LINES,
    )
