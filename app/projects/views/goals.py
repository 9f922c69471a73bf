"""A project's goals and its monitoring meetings."""

from __future__ import annotations

from flask import Response, abort, redirect, url_for
from flask_login import current_user

from app.auth.models import Role
from app.auth.policy import roles_required
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.idempotency import claim, complete
from app.projects import bp, operations
from app.projects.forms import GoalForm, GoalStatusForm, MeetingForm
from app.projects.models import ProjectGoal
from app.projects.policy import can_edit, run_project_or_404
from app.projects.views.common import CLOSED_MESSAGE, detail_page, refused, replayed, see_other
from app.web.transactions import finish, roll_back


@bp.post("/<int:project_id>/goals")
@roles_required(Role.ENTITY_OPERATOR)
def add_goal(project_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    if not can_edit(current_user, project):
        return refused(str(CLOSED_MESSAGE), project)
    form = GoalForm(prefix="goal")
    if form.validate_on_submit():
        key, purpose = form.idempotency_key.data, f"project_goal:{project.id}"
        earlier = claim(key, current_user, purpose)
        if earlier is not None:
            return replayed(earlier, _("Obiettivo aggiunto."))
        try:
            goal = operations.add_goal(
                project, form.description.data or "", form.target_on.data, current_user
            )
        except DomainError as error:
            roll_back()
            form.description.errors.append(error.message)
        else:
            url = url_for("projects.detail", project_id=project.id, _anchor="goals-title")
            complete(key, current_user, purpose, goal, url)
            return finish(redirect(url, code=303), _("Obiettivo aggiunto."))
    return detail_page(project, status=422, goal_form=form)


@bp.post("/<int:project_id>/goals/<int:goal_id>")
@roles_required(Role.ENTITY_OPERATOR)
def set_goal_status(project_id: int, goal_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    goal = db.session.get(ProjectGoal, goal_id)
    if goal is None or goal.project_id != project.id:
        abort(404)
    if not can_edit(current_user, project):
        return refused(str(CLOSED_MESSAGE), project)
    form = GoalStatusForm(prefix=f"goal-{goal.id}")
    if not form.validate_on_submit():
        message = " ".join(str(e) for field in form for e in field.errors)
        return refused(message or _("Dati non validi."), project, 422)
    try:
        operations.set_goal_status(goal, form.status.data or "", current_user)
    except DomainError as error:
        roll_back()
        return refused(error.message, project)
    return finish(
        see_other("projects.detail", project_id=project.id, _anchor="goals-title"),
        _("Stato dell'obiettivo aggiornato."),
    )


@bp.post("/<int:project_id>/meetings")
@roles_required(Role.ENTITY_OPERATOR)
def add_meeting(project_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    if not can_edit(current_user, project):
        return refused(str(CLOSED_MESSAGE), project)
    form = MeetingForm(prefix="meeting")
    if form.validate_on_submit():
        key, purpose = form.idempotency_key.data, f"project_meeting:{project.id}"
        earlier = claim(key, current_user, purpose)
        if earlier is not None:
            return replayed(earlier, _("Incontro di monitoraggio registrato."))
        try:
            meeting = operations.add_meeting(
                project,
                form.held_on.data,
                form.notes.data or "",
                form.next_steps.data,
                current_user,
            )
        except DomainError as error:
            roll_back()
            form.form_errors.append(error.message)
        else:
            url = url_for("projects.detail", project_id=project.id, _anchor="meetings-title")
            complete(key, current_user, purpose, meeting, url)
            return finish(redirect(url, code=303), _("Incontro di monitoraggio registrato."))
    return detail_page(project, status=422, meeting_form=form)
