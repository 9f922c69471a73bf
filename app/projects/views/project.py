"""A project: the new one, its data, its page and its steps."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from app.audit.operations import commit_view, record_views
from app.auth.models import Role
from app.auth.policy import roles_required
from app.clock import today
from app.errors import DomainError
from app.households.models import Household, Person
from app.households.policy import editable_household_or_404
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.idempotency import claim, complete
from app.notifications.operations import mark_read, operators_of
from app.projects import bp, operations
from app.projects.forms import NewProjectForm, ProjectForm, StepForm
from app.projects.models import Project
from app.projects.operations import STEPS
from app.projects.policy import USERS, can_edit, run_project_or_404, visible_project_or_404
from app.projects.views.common import CLOSED_MESSAGE, detail_page, refused, replayed, see_other
from app.web.fields import bounded_int
from app.web.htmx import render
from app.web.transactions import finish, roll_back
from app.workflow import StaleState

STEP_DONE = {
    "submit": _l("Progetto inviato alla Città per l'approvazione."),
    "withdraw": _l("Richiesta ritirata: il progetto è di nuovo una bozza."),
    "approve": _l("Progetto e budget approvati."),
    "return": _l("Progetto rimandato all'ente con la nota."),
    "start": _l("Progetto avviato."),
    "close": _l("Progetto chiuso: da ora si può solo consultare."),
}


# A new project, its data -----------------------------------------------------------------------


def _member(household: Household, value: object) -> Person | None:
    return next((m for m in household.members if str(m.id) == str(value)), None)


def _default_person(household: Household, day: date) -> Person | None:
    """A young member (18-29) if there is one, else the reference person."""
    young = next((m for m in household.members if m.is_youth(day)), None)
    return young or household.reference_person or next(iter(household.members), None)


def _person_choice(person: Person, day: date) -> str:
    age = person.age(day)
    if age is None:
        return person.full_name
    if person.is_youth(day):
        return _("%(name)s, %(age)d anni (giovane 18-29)", name=person.full_name, age=age)
    return _("%(name)s, %(age)d anni", name=person.full_name, age=age)


def _fill_choices(
    form: ProjectForm, household: Household, day: date, project: Project | None
) -> None:
    form.person.choices = [(str(m.id), _person_choice(m, day)) for m in household.members]
    workers = operators_of(household.organization_id)
    current = project.case_worker if project is not None else None
    if current is not None and current not in workers:
        workers.append(current)
    form.case_worker.choices = [("", _("Scegli"))] + [
        (str(user.id), user.full_name) for user in sorted(workers, key=lambda u: u.full_name)
    ]


def _project_values(form: ProjectForm) -> dict[str, Any]:
    return {
        "title": (form.title.data or "").strip(),
        "summary": (form.summary.data or "").strip() or None,
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
        "youth": bool(form.youth.data),
        "case_worker_id": bounded_int(form.case_worker.data),
    }


def _youth_refused(form: ProjectForm, household: Household) -> bool:
    """A "giovani 18-29" flag for a person who is not 18-29: the message next to the box."""
    mismatch = operations.youth_mismatch(
        _member(household, form.person.data), bool(form.youth.data), form.starts_on.data
    )
    if mismatch is not None:
        form.youth.errors = [mismatch]
    return mismatch is not None


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def new() -> Response:
    household_id = bounded_int(request.args.get("household"))
    if household_id is None:
        abort(404)
    household = editable_household_or_404(current_user, household_id)
    day = today()
    form = NewProjectForm()
    _fill_choices(form, household, day, None)
    if request.method == "GET":
        chosen = _member(household, request.args.get("person")) or _default_person(household, day)
        form.person.data = str(chosen.id) if chosen else ""
        form.youth.data = chosen is not None and chosen.is_youth(day)
        form.case_worker.data = str(current_user.id)
    top_error: str | None = None
    created = _("Progetto creato come bozza: aggiungi obiettivi e voci di budget.")
    if form.validate_on_submit() and not _youth_refused(form, household):
        key, purpose = form.idempotency_key.data, f"project_new:{household.id}"
        earlier = claim(key, current_user, purpose)
        if earlier is not None:
            return replayed(earlier, created)
        try:
            project = operations.create(
                household,
                _member(household, form.person.data),
                _project_values(form),
                current_user,
            )
        except DomainError as error:
            roll_back()
            top_error = error.message
        else:
            url = url_for("projects.detail", project_id=project.id)
            complete(key, current_user, purpose, project, url)
            return finish(redirect(url, code=303), created)
    record_views("project_form_viewed", [household], household)
    commit_view()
    return render(
        "projects/new.html",
        form=form,
        household=household,
        top_error=top_error,
        status=422 if form.is_submitted() and (form.errors or top_error) else 200,
    )


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def edit(project_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    if not can_edit(current_user, project):
        return refused(str(CLOSED_MESSAGE), project)
    household = project.household
    day = today()
    form = ProjectForm(obj=project if request.method == "GET" else None)
    _fill_choices(form, household, day, project)
    if request.method == "GET":
        form.person.data = str(project.person_id or "")
        form.case_worker.data = str(project.case_worker_id or "")
    top_error: str | None = None
    if form.validate_on_submit() and not _youth_refused(form, household):
        person = _member(household, form.person.data)
        values = {**_project_values(form), "person_id": person.id if person else None}
        try:
            changes = operations.update(project, values, current_user)
        except DomainError as error:
            roll_back()
            top_error = error.message
        else:
            return finish(
                see_other("projects.detail", project_id=project.id),
                _("Dati del progetto aggiornati.")
                if changes
                else _("Nessuna modifica da salvare."),
            )
    record_views("project_edit_viewed", [household], project)
    commit_view()
    return render(
        "projects/edit.html",
        form=form,
        project=project,
        household=household,
        top_error=top_error,
        status=422 if form.is_submitted() and (form.errors or top_error) else 200,
    )


@bp.get("/<int:project_id>")
@roles_required(*USERS)
def detail(project_id: int) -> Response:
    project = visible_project_or_404(current_user, project_id)
    operations.record_view(project, current_user)
    mark_read(current_user, "project", project.id)
    commit_view()
    return detail_page(project)


# Steps ---------------------------------------------------------------------------------------


@bp.post("/<int:project_id>/<step>")
@roles_required(*USERS)
def act(project_id: int, step: str) -> Response:
    project = visible_project_or_404(current_user, project_id)
    if step not in STEPS:
        abort(404)
    form = StepForm()
    if not form.validate_on_submit():
        message = " ".join(str(e) for field in form for e in field.errors)
        return refused(message or _("Dati non validi."), project, 422)
    try:
        operations.transition(project, step, current_user, note=form.note.data)
    except StaleState as error:
        roll_back()
        if error.current_status == STEPS[step].target and operations.last_step(project) == (
            step,
            current_user.id,
        ):
            # This user's own second click: the step is done, answer as the first click was.
            flash(str(STEP_DONE[step]), "success")
            return see_other("projects.detail", project_id=project.id)
        return refused(error.message, project)
    except DomainError as error:
        roll_back()
        return refused(error.message, project)
    return finish(see_other("projects.detail", project_id=project.id), str(STEP_DONE[step]))
