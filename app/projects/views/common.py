"""What the project pages share: the vocabulary, the project's page (which a refused action
shows again), the budget's context, and the answers to a refusal and to a form sent twice."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, url_for
from flask_login import current_user

from app.audit.operations import commit_view
from app.clock import today
from app.households.policy import household_link
from app.i18n import lazy_gettext as _l
from app.idempotency import Submission
from app.projects import operations
from app.projects.forms import GoalForm, GoalStatusForm, MeetingForm, NewLineForm
from app.projects.models import Project
from app.projects.operations import STEPS, available_steps, totals
from app.projects.policy import can_decide, can_edit
from app.projects.vocabulary import CATEGORIES, GOAL_STATUSES, STATUS_BADGES, STATUSES
from app.web.errors import error_response
from app.web.htmx import render, wants_fragment
from app.web.transactions import roll_back

VOCABULARY = {
    "statuses": STATUSES,
    "status_badges": STATUS_BADGES,
    "categories": CATEGORIES,
    "goal_statuses": GOAL_STATUSES,
}
STEP_BUTTONS = {
    "submit": _l("Invia alla Città per l'approvazione"),
    "withdraw": _l("Ritira la richiesta"),
    "approve": _l("Approva il progetto e il budget"),
    "return": _l("Rimanda all'ente"),
    "start": _l("Avvia il progetto"),
    "close": _l("Chiudi il progetto"),
}
NOTE_LABELS = {
    "return": _l("Cosa deve cambiare l'ente (obbligatorio)"),
    "close": _l("Nota di chiusura: esito del percorso (obbligatoria)"),
}
CLOSED_MESSAGE = _l("Il progetto è chiuso: non si può più modificare.")
SUBMITTED_MESSAGE = _l("Il progetto è in attesa di approvazione: ritiralo per modificarlo.")
SPENDING_STATUSES = ("approved", "active")


def see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


def refused(message: str, project: Project, status: int = 409) -> Response:
    """A refused action: an alert in the page's message area (htmx), or the detail page as it
    is now with the message on top, answered with the refusal's status. Nothing was changed."""
    if wants_fragment():
        return error_response(status, message)
    roll_back()  # whatever the request had begun; the page reads the project afresh
    flash(message, "danger")
    operations.record_view(project, current_user)
    commit_view()
    return detail_page(project, status=status)


def replayed(earlier: Submission, message: str) -> Response:
    """The same form sent again (a double click): the answer the first submission got."""
    flash(message, "success")
    return redirect(earlier.result_url or url_for("projects.index"), code=303)  # type: ignore[return-value]


def budget_context(project: Project) -> dict[str, Any]:
    """What the budget table and its rows need: the totals and who may do what."""
    editor = can_edit(current_user, project)
    decider = can_decide(current_user) and not project.read_only
    return {
        "project": project,
        "totals": totals(project.lines),
        "can_edit": editor,
        "can_decide": decider,
        "show_actions": editor or decider,
        "spending": project.status in SPENDING_STATUSES,
        "line_columns": 9 if editor or decider else 8,
        "pending_increases": [x for x in project.lines if x.increase_requested is not None],
        **VOCABULARY,
    }


def detail_page(
    project: Project,
    status: int = 200,
    goal_form: GoalForm | None = None,
    meeting_form: MeetingForm | None = None,
    line_form: NewLineForm | None = None,
) -> Response:
    day = today()
    context = budget_context(project)
    editor = context["can_edit"]
    return render(
        "projects/detail.html",
        status=status,
        person=project.person or project.household.reference_person,
        household_link=household_link(current_user, project.household),
        steps=available_steps(current_user, project),
        step_buttons=STEP_BUTTONS,
        note_labels=NOTE_LABELS,
        note_required={name for name, step in STEPS.items() if step.note_required},
        goal_status_forms={
            goal.id: GoalStatusForm(
                formdata=None, prefix=f"goal-{goal.id}", data={"status": goal.status}
            )
            for goal in project.goals
        }
        if editor
        else {},
        goal_form=goal_form or GoalForm(formdata=None, prefix="goal"),
        meeting_form=meeting_form or MeetingForm(formdata=None, prefix="meeting", held_on=day),
        line_form=line_form or NewLineForm(formdata=None, prefix="line"),
        show_line_add=editor and project.status in ("draft", *SPENDING_STATUSES),
        today=day,
        **context,
    )
