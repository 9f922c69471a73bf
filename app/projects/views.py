"""Project pages: the list, a new project, the detail with goals, meetings and the life budget
(lines edited inline with htmx, the totals updated out of band), the steps, and the programme's
financial progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from app.audit.operations import commit_view, record_views
from app.auth.models import Role, User
from app.auth.policy import roles_required
from app.clock import today
from app.errors import DomainError
from app.exports import ROW_LIMIT, list_response
from app.extensions import db
from app.households.models import Household, Person
from app.households.policy import editable_household_or_404, visible_households
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.idempotency import Submission, claim, complete
from app.money import ABSURD, ZERO
from app.notifications.operations import mark_read, operators_of
from app.projects import bp, finance, operations
from app.projects.forms import (
    GoalForm,
    GoalStatusForm,
    IncreaseForm,
    LineForm,
    MeetingForm,
    NewLineForm,
    NewProjectForm,
    ProjectForm,
    SpendingForm,
    StepForm,
)
from app.projects.models import BudgetLine, Project, ProjectGoal
from app.projects.operations import STEPS, available_steps, totals
from app.projects.policy import (
    USERS,
    can_decide,
    can_edit,
    run_project_or_404,
    visible_project_or_404,
    visible_projects,
)
from app.projects.vocabulary import CATEGORIES, GOAL_STATUSES, STATUS_BADGES, STATUSES
from app.registry.models import Organization
from app.web.errors import error_response
from app.web.fields import bounded_int
from app.web.htmx import render, wants_fragment
from app.web.paging import capped_total, page_count
from app.workflow import StaleState

PAGE_SIZE = 25
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
STEP_DONE = {
    "submit": _l("Progetto inviato alla Città per l'approvazione."),
    "withdraw": _l("Richiesta ritirata: il progetto è di nuovo una bozza."),
    "approve": _l("Progetto e budget approvati."),
    "return": _l("Progetto rimandato all'ente con la nota."),
    "start": _l("Progetto avviato."),
    "close": _l("Progetto chiuso: da ora si può solo consultare."),
}
NOTE_LABELS = {
    "return": _l("Cosa deve cambiare l'ente (obbligatorio)"),
    "close": _l("Nota di chiusura: esito del percorso (obbligatoria)"),
}
# The action lines of the programme (DESIGN.md): code -> name.
ACTION_LINES = {
    "A": _l("Snodi di comunità"),
    "B": _l("Progetti individualizzati e budget di vita"),
    "C": _l("Housing sociale e accoglienza"),
}
CLOSED_MESSAGE = _l("Il progetto è chiuso: non si può più modificare.")
SUBMITTED_MESSAGE = _l("Il progetto è in attesa di approvazione: ritiralo per modificarlo.")
SPENDING_STATUSES = ("approved", "active")


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


def _refused(message: str, project: Project, status: int = 409) -> Response:
    """A refused action: an alert in the page's message area (htmx), or the detail page as it
    is now with the message on top, answered with the refusal's status. Nothing was changed."""
    if wants_fragment():
        return error_response(status, message)
    db.session.rollback()  # whatever the request had begun; the page reads the project afresh
    flash(message, "danger")
    operations.record_view(project, current_user)
    commit_view()
    return _detail_page(project, status=status)


def _replayed(earlier: Submission, message: str) -> Response:
    """The same form sent again (a double click): the answer the first submission got."""
    flash(message, "success")
    return redirect(earlier.result_url or url_for("projects.index"), code=303)  # type: ignore[return-value]


# List ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectFilters:
    stato: str = ""
    ente: int | None = None
    giovani: bool = False
    circ: int | None = None
    aumenti: bool = False  # only projects with a budget increase waiting for the City
    pagina: int = 1

    @classmethod
    def from_args(cls, args: MultiDict[str, str], coordinator: bool) -> ProjectFilters:
        circ = bounded_int(args.get("circ"))
        return cls(
            stato=args.get("stato", "") if args.get("stato") in STATUSES else "",
            ente=bounded_int(args.get("ente")) if coordinator else None,
            giovani=args.get("giovani") == "1",
            circ=circ if circ in range(1, 9) else None,
            aumenti=args.get("aumenti") == "1",
            pagina=max(min(bounded_int(args.get("pagina")) or 1, 100000), 1),
        )

    def url_args(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "stato": self.stato,
            "ente": self.ente,
            "giovani": "1" if self.giovani else None,
            "circ": self.circ,
            "aumenti": "1" if self.aumenti else None,
            "pagina": self.pagina,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "") and (k, v) != ("pagina", 1)}


def filtered_projects(user: User, filters: ProjectFilters) -> Any:
    query = visible_projects(user)
    if filters.stato:
        query = query.where(Project.status == filters.stato)
    if filters.ente:
        query = query.where(Project.organization_id == filters.ente)
    if filters.giovani:
        query = query.where(Project.youth.is_(True))
    if filters.aumenti:  # what the coordinator's home counts as "aumenti di budget da decidere"
        query = query.where(
            Project.status != "closed",
            Project.id.in_(
                select(BudgetLine.project_id).where(BudgetLine.increase_requested.is_not(None))
            ),
        )
    if filters.circ:
        query = query.where(
            Project.household_id.in_(
                select(Household.id).where(Household.circoscrizione == filters.circ)
            )
        )
    return query


def _organization_options() -> list[tuple[int, str]]:
    """The organizations that run projects: the choices of the coordinator's filter."""
    running = select(Project.organization_id).distinct()
    rows = db.session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.id.in_(running))
        .order_by(Organization.name, Organization.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


@bp.get("/")
@roles_required(*USERS)
def index() -> Response:
    coordinator = current_user.has_role(Role.COORDINATOR)
    filters = ProjectFilters.from_args(request.args, coordinator)
    query = filtered_projects(current_user, filters)
    total = capped_total(query)
    pages = page_count(total, PAGE_SIZE)
    page = min(filters.pagina, pages)
    projects = db.session.scalars(
        query.options(
            selectinload(Project.lines),
            selectinload(Project.person),
            selectinload(Project.organization),
            selectinload(Project.household).selectinload(Household.members),
        )
        .order_by(Project.status_changed_at.desc(), Project.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    record_views(
        "projects_listed",
        [p.household_id for p in projects],
        changes={"filters": filters.url_args(pagina=page)},
    )
    commit_view()
    response = render(
        "projects/index.html",
        "projects/_results.html",
        rows=[(project, totals(project.lines)) for project in projects],
        filters=filters,
        total=total,
        page=page,
        pages=pages,
        show_organization=coordinator,
        organization_options=_organization_options() if coordinator else [],
        can_see_programme=coordinator,
        **VOCABULARY,
    )
    if wants_fragment():
        response.headers["HX-Push-Url"] = url_for("projects.index", **filters.url_args())
    return response


def _project_export(kind: str) -> Response:
    """The list with its current filters, as a spreadsheet; the export is an audit event."""
    coordinator = current_user.has_role(Role.COORDINATOR)
    filters = ProjectFilters.from_args(request.args, coordinator)
    projects = list(
        db.session.scalars(
            filtered_projects(current_user, filters)
            .options(
                selectinload(Project.lines),
                selectinload(Project.person),
                selectinload(Project.organization),
                selectinload(Project.household).selectinload(Household.members),
            )
            .order_by(Project.status_changed_at.desc(), Project.id.desc())
            .limit(ROW_LIMIT + 1)
        )
    )
    header = [
        _("N."), _("Progetto"), _("Persona"), _("Nucleo"), _("Ente"), _("Giovani 18-29"),
        _("Stato"), _("Inizio"), _("Fine"), _("Previsto"), _("Approvato"), _("Impegnato"),
        _("Pagato"), _("Disponibile"),
    ]  # fmt: skip
    rows: list[list[Any]] = []
    for project in projects[:ROW_LIMIT]:
        money = totals(project.lines)
        rows.append(
            [
                project.id,
                project.title,
                project.person.full_name if project.person else "",
                project.household.display_name,
                project.organization.name,
                project.youth,
                str(STATUSES.get(project.status, project.status)),
                project.starts_on,
                project.ends_on,
                money.planned,
                money.approved,
                money.committed,
                money.paid,
                money.available,
            ]
        )
    record_views(
        "projects_exported",
        [p.household_id for p in projects[:ROW_LIMIT]],
        changes={"filters": filters.url_args(pagina=1), "rows": len(rows), "format": kind},
    )
    db.session.commit()
    return list_response(
        kind,
        f"progetti-{today().isoformat()}",
        _("Progetti"),
        header,
        rows,
        ROW_LIMIT if len(projects) > ROW_LIMIT else None,
    )


@bp.get("/export.csv")
@roles_required(*USERS)
def export_csv() -> Response:
    return _project_export("csv")


@bp.get("/export.xlsx")
@roles_required(*USERS)
def export_xlsx() -> Response:
    return _project_export("xlsx")


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
            return _replayed(earlier, created)
        try:
            project = operations.create(
                household,
                _member(household, form.person.data),
                _project_values(form),
                current_user,
            )
        except DomainError as error:
            db.session.rollback()
            top_error = error.message
        else:
            url = url_for("projects.detail", project_id=project.id)
            complete(key, current_user, purpose, project, url)
            db.session.commit()
            flash(created, "success")
            return redirect(url, code=303)  # type: ignore[return-value]
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
        return _refused(str(CLOSED_MESSAGE), project)
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
            db.session.rollback()
            top_error = error.message
        else:
            db.session.commit()
            flash(
                _("Dati del progetto aggiornati.")
                if changes
                else _("Nessuna modifica da salvare."),
                "success",
            )
            return _see_other("projects.detail", project_id=project.id)
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


# Detail --------------------------------------------------------------------------------------


def _can_see_household(user: User, household_id: int) -> bool:
    return (
        db.session.scalar(
            visible_households(user)
            .with_only_columns(Household.id)
            .where(Household.id == household_id)
        )
        is not None
    )


def _budget_context(project: Project) -> dict[str, Any]:
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


def _detail_page(
    project: Project,
    status: int = 200,
    goal_form: GoalForm | None = None,
    meeting_form: MeetingForm | None = None,
    line_form: NewLineForm | None = None,
) -> Response:
    day = today()
    context = _budget_context(project)
    editor = context["can_edit"]
    return render(
        "projects/detail.html",
        status=status,
        person=project.person or project.household.reference_person,
        show_household_link=_can_see_household(current_user, project.household_id),
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


@bp.get("/<int:project_id>")
@roles_required(*USERS)
def detail(project_id: int) -> Response:
    project = visible_project_or_404(current_user, project_id)
    operations.record_view(project, current_user)
    mark_read(current_user, "project", project.id)
    commit_view()
    return _detail_page(project)


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
        return _refused(message or _("Dati non validi."), project, 422)
    try:
        operations.transition(project, step, current_user, note=form.note.data)
    except StaleState as error:
        db.session.rollback()
        if error.current_status == STEPS[step].target and operations.last_step(project) == (
            step,
            current_user.id,
        ):
            # This user's own second click: the step is done, answer as the first click was.
            flash(str(STEP_DONE[step]), "success")
            return _see_other("projects.detail", project_id=project.id)
        return _refused(error.message, project)
    except DomainError as error:
        db.session.rollback()
        return _refused(error.message, project)
    db.session.commit()
    flash(str(STEP_DONE[step]), "success")
    return _see_other("projects.detail", project_id=project.id)


# Goals and meetings --------------------------------------------------------------------------


@bp.post("/<int:project_id>/goals")
@roles_required(Role.ENTITY_OPERATOR)
def add_goal(project_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    if not can_edit(current_user, project):
        return _refused(str(CLOSED_MESSAGE), project)
    form = GoalForm(prefix="goal")
    if form.validate_on_submit():
        key, purpose = form.idempotency_key.data, f"project_goal:{project.id}"
        earlier = claim(key, current_user, purpose)
        if earlier is not None:
            return _replayed(earlier, _("Obiettivo aggiunto."))
        try:
            goal = operations.add_goal(
                project, form.description.data or "", form.target_on.data, current_user
            )
        except DomainError as error:
            db.session.rollback()
            form.description.errors.append(error.message)
        else:
            url = url_for("projects.detail", project_id=project.id, _anchor="goals-title")
            complete(key, current_user, purpose, goal, url)
            db.session.commit()
            flash(_("Obiettivo aggiunto."), "success")
            return redirect(url, code=303)  # type: ignore[return-value]
    return _detail_page(project, status=422, goal_form=form)


@bp.post("/<int:project_id>/goals/<int:goal_id>")
@roles_required(Role.ENTITY_OPERATOR)
def set_goal_status(project_id: int, goal_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    goal = db.session.get(ProjectGoal, goal_id)
    if goal is None or goal.project_id != project.id:
        abort(404)
    if not can_edit(current_user, project):
        return _refused(str(CLOSED_MESSAGE), project)
    form = GoalStatusForm(prefix=f"goal-{goal.id}")
    if not form.validate_on_submit():
        message = " ".join(str(e) for field in form for e in field.errors)
        return _refused(message or _("Dati non validi."), project, 422)
    try:
        operations.set_goal_status(goal, form.status.data or "", current_user)
    except DomainError as error:
        db.session.rollback()
        return _refused(error.message, project)
    db.session.commit()
    flash(_("Stato dell'obiettivo aggiornato."), "success")
    return _see_other("projects.detail", project_id=project.id, _anchor="goals-title")


@bp.post("/<int:project_id>/meetings")
@roles_required(Role.ENTITY_OPERATOR)
def add_meeting(project_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    if not can_edit(current_user, project):
        return _refused(str(CLOSED_MESSAGE), project)
    form = MeetingForm(prefix="meeting")
    if form.validate_on_submit():
        key, purpose = form.idempotency_key.data, f"project_meeting:{project.id}"
        earlier = claim(key, current_user, purpose)
        if earlier is not None:
            return _replayed(earlier, _("Incontro di monitoraggio registrato."))
        try:
            meeting = operations.add_meeting(
                project,
                form.held_on.data,
                form.notes.data or "",
                form.next_steps.data,
                current_user,
            )
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            url = url_for("projects.detail", project_id=project.id, _anchor="meetings-title")
            complete(key, current_user, purpose, meeting, url)
            db.session.commit()
            flash(_("Incontro di monitoraggio registrato."), "success")
            return redirect(url, code=303)  # type: ignore[return-value]
    return _detail_page(project, status=422, meeting_form=form)


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
        **_budget_context(project),
    )


def _line_saved(project: Project, line: BudgetLine, message: str) -> Response:
    """After a change: the row and the totals (out of band) for htmx, else back to the page."""
    if wants_fragment():
        # The focus goes back to the row's edit button (the form it was in is gone).
        return render(
            "projects/_line_saved.html",
            line=line,
            saved_id=line.id,
            focus_id=line.id,
            saved_message=message,
            **_budget_context(project),
        )
    flash(message, "success")
    return _see_other("projects.detail", project_id=project.id, _anchor=f"line-{line.id}")


def _line_added(project: Project, line: BudgetLine) -> Response:
    """After a line was added (or the same form sent again): a fresh form, the lines and the
    totals for htmx; else back to the page at the line."""
    message = (
        _("Voce di budget aggiunta.")
        if project.status == "draft"
        else _("Nuova voce inviata alla Città come richiesta di aumento.")
    )
    if wants_fragment():
        return render(
            "projects/_line_added.html",
            line_form=NewLineForm(formdata=None, prefix="line"),
            saved_id=line.id,
            added_message=message,
            **_budget_context(project),
        )
    flash(message, "success")
    return _see_other("projects.detail", project_id=project.id, _anchor=f"line-{line.id}")


@bp.post("/<int:project_id>/lines")
@roles_required(Role.ENTITY_OPERATOR)
def add_line(project_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    if not can_edit(current_user, project):
        return _refused(str(CLOSED_MESSAGE), project)
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
                return _see_other("projects.detail", project_id=project.id, _anchor="budget-title")
            return _line_added(project, line)
        try:
            line = operations.add_line(project, values, current_user)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            url = url_for("projects.detail", project_id=project.id, _anchor=f"line-{line.id}")
            complete(key, current_user, purpose, line, url)
            db.session.commit()
            return _line_added(project, line)
    if wants_fragment():
        return render(
            "projects/_line_add.html", status=422, line_form=form, **_budget_context(project)
        )
    return _detail_page(project, status=422, line_form=form)


@bp.get("/<int:project_id>/lines/<int:line_id>/edit")
@roles_required(Role.ENTITY_OPERATOR)
def edit_line(project_id: int, line_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    line = _line_or_404(project, line_id)
    refusal = _line_edit_refusal(project)
    if refusal:
        return _refused(refusal, project)
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
        return _refused(refusal, project)
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
            db.session.rollback()
            if not operations.line_exists(line_id):
                return _refused(error.message, project)
            if isinstance(form, SpendingForm):  # from now on the user has seen what is there
                form.seen_committed.data = str(line.committed)
                form.seen_paid.data = str(line.paid)
            form.form_errors.append(error.message)
            return _line_editor(project, line, form=form, status=409)
        except DomainError as error:
            db.session.rollback()
            _place_line_error(form, line, error.message)
        else:
            db.session.commit()
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
        return _see_other("projects.detail", project_id=project.id, _anchor=f"line-{line.id}")
    return render(
        "projects/_line_row.html",
        line=line,
        saved_id=None,
        focus_id=line.id,  # back on the edit button the editor was opened from
        **_budget_context(project),
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
        db.session.rollback()
    except DomainError as error:
        db.session.rollback()
        return _refused(error.message, project)
    else:
        db.session.commit()
    if wants_fragment():
        return render("projects/_line_removed.html", **_budget_context(project))
    flash(_("Voce di budget eliminata."), "success")
    return _see_other("projects.detail", project_id=project.id, _anchor="budget-title")


@bp.post("/<int:project_id>/lines/<int:line_id>/increase")
@roles_required(Role.ENTITY_OPERATOR)
def request_increase(project_id: int, line_id: int) -> Response:
    project = run_project_or_404(current_user, project_id)
    line = _line_or_404(project, line_id)
    refusal = _line_edit_refusal(project)
    if refusal:
        return _refused(refusal, project)
    form = IncreaseForm(prefix=f"increase-{line.id}")
    if form.validate_on_submit():
        try:
            operations.request_increase(line, form.amount.data, current_user)
        except DomainError as error:
            db.session.rollback()
            if project.status not in SPENDING_STATUSES:
                return _refused(error.message, project)
            form.amount.errors.append(error.message)
        else:
            db.session.commit()
            return _line_saved(project, line, _("Richiesta di aumento inviata alla Città."))
    if project.status not in SPENDING_STATUSES:
        return _refused(_("Gli aumenti si chiedono su un progetto approvato."), project)
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
        db.session.rollback()
        return _refused(error.message, project)
    db.session.commit()
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
