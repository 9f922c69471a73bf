"""Project and life-budget changes: one transition table, money rules, audit in the same
transaction. Anything refused raises DomainError and changes nothing. Views commit.

Money rules (amounts are Decimal to the cent, the database CHECKs them too):
- while a project is a draft its lines are planned freely; approving the project approves each
  line at its planned amount;
- committed never exceeds approved, paid never exceeds committed;
- going beyond the approved amount needs an increase request that a coordinator approves;
- a closed project is read-only.

Two people acting on the same project at once (a coordinator approving while the entity withdraws,
two coordinators deciding the same increase, two colleagues recording spending on one line): every
write here starts by holding the project's row, so they take turns, and each checks the rules
against what the other left. A transition is one conditional UPDATE (`app.workflow.move`): the
loser gets `StaleState` with the status the project is in now, and nothing of it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy import update as sql_update

from app.audit.models import AuditEvent
from app.audit.operations import diff, record, record_views
from app.auth.models import Role, User
from app.clock import today as current_day
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household, Person
from app.households.policy import can_edit_household, sending_organization
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.money import ABSURD, CENT, ZERO, total
from app.notifications.operations import coordinators, notify, operators_of
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.projects.policy import can_decide, can_edit, runs_project
from app.projects.vocabulary import CATEGORIES, GOAL_STATUSES, STATUSES
from app.workflow import StaleState, lock_row, move

PROJECT_FIELDS = (
    "title",
    "summary",
    "person_id",
    "youth",
    "starts_on",
    "ends_on",
    "case_worker_id",
)
LINE_FIELDS = ("category", "description", "supplier", "planned")


@dataclass(frozen=True)
class Totals:
    planned: Decimal
    approved: Decimal
    committed: Decimal
    paid: Decimal

    @property
    def available(self) -> Decimal:
        """Approved and not yet committed."""
        return self.approved - self.committed

    @property
    def to_pay(self) -> Decimal:
        return self.committed - self.paid


def totals(lines: list[BudgetLine]) -> Totals:
    return Totals(
        planned=total(line.planned for line in lines),
        approved=total(line.approved for line in lines),
        committed=total(line.committed for line in lines),
        paid=total(line.paid for line in lines),
    )


# Transitions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    sources: tuple[str, ...]
    target: str
    by_city: bool  # True: a coordinator; False: the owning organization
    label: object
    note_required: bool = False


STEPS: dict[str, Step] = {
    "submit": Step(("draft",), "submitted", False, _l("inviare alla Città")),
    "withdraw": Step(("submitted",), "draft", False, _l("ritirare")),
    "approve": Step(("submitted",), "approved", True, _l("approvare")),
    "return": Step(("submitted",), "draft", True, _l("rimandare all'ente"), True),
    "start": Step(("approved",), "active", False, _l("avviare")),
    "close": Step(("approved", "active"), "closed", False, _l("chiudere"), True),
}


def available_steps(user: User, project: Project) -> list[str]:
    return [
        name
        for name, step in STEPS.items()
        if project.status in step.sources
        and (can_decide(user) if step.by_city else runs_project(user, project))
    ]


# Whole sentences for each step (issue #26), never a verb pasted into a shared sentence.
STEP_REFUSED = {
    "submit": _l("Il progetto è «%(status)s»: ora non si può inviarlo alla Città."),
    "withdraw": _l("Il progetto è «%(status)s»: ora non si può ritirare."),
    "approve": _l("Il progetto è «%(status)s»: ora non si può approvare."),
    "return": _l("Il progetto è «%(status)s»: ora non si può rimandarlo all'ente."),
    "start": _l("Il progetto è «%(status)s»: ora non si può avviare."),
    "close": _l("Il progetto è «%(status)s»: ora non si può chiudere."),
}
STEP_NOT_YOURS = {
    "submit": _l("Non spetta a te inviare questo progetto alla Città."),
    "withdraw": _l("Non spetta a te ritirare questo progetto."),
    "approve": _l("Non spetta a te approvare questo progetto."),
    "return": _l("Non spetta a te rimandare questo progetto all'ente."),
    "start": _l("Non spetta a te avviare questo progetto."),
    "close": _l("Non spetta a te chiudere questo progetto."),
}


def _step_refused(step: Step, status: str | None) -> str:
    name = next(key for key, value in STEPS.items() if value is step)
    return str(STEP_REFUSED[name]) % {"status": STATUSES.get(status or "", status)}


def hold(project: Project) -> Project:
    """Hold the project's row until the transaction ends and read it again: the first write of
    every change to a project, its goals, meetings and budget lines. A colleague's change to the
    same project waits for this one, then sees what it left (and the other way round)."""
    db.session.flush()  # this request's own pending changes go first (refresh would drop them)
    lock_row(Project, project.id)
    _forget_children(project)
    db.session.refresh(project)
    return project


def _forget_children(project: Project) -> None:
    """Drop the goals, meetings and lines this request loaded: they reload fresh when next
    read. (Refreshing the project would refresh them too, and fail on a line a colleague has
    just removed.)"""
    db.session.expire(project, ["lines", "goals", "meetings"])


def line_exists(line_id: int) -> bool:
    return db.session.scalar(select(BudgetLine.id).where(BudgetLine.id == line_id)) is not None


def _fresh_line(line: BudgetLine, project: Project) -> BudgetLine:
    """The line as the database has it now, once the project is held; gone: StaleState."""
    if not line_exists(inspect(line).identity[0]):
        raise StaleState(
            _("Nel frattempo questa voce di budget è stata eliminata."), project.status
        )
    db.session.refresh(line)
    return line


def _fresh_lines(project: Project) -> list[BudgetLine]:
    """The project's lines as the database has them now (not as this request first read them)."""
    db.session.expire(project, ["lines"])
    return list(
        db.session.scalars(
            select(BudgetLine)
            .where(BudgetLine.project_id == project.id)
            .order_by(BudgetLine.id)
            .execution_options(populate_existing=True)
        )
    )


def transition(
    project: Project, step_name: str, actor: User, note: str | None = None, day: date | None = None
) -> Project:
    """Move the project one step. The status changes with one conditional UPDATE: of two steps
    from the same status at once (approve and withdraw, two approvals) exactly one passes; the
    other raises StaleState with the status now, and writes nothing."""
    step = STEPS.get(step_name)
    if step is None:
        raise DomainError(_("Azione sconosciuta."))
    allowed = can_decide(actor) if step.by_city else runs_project(actor, project)
    if not allowed:
        raise DomainError(str(STEP_NOT_YOURS[step_name]))
    if project.status not in step.sources:
        raise StaleState(_step_refused(step, project.status), project.status)
    note = (note or "").strip() or None
    if step.note_required and not note:
        raise DomainError(_("Scrivi una nota per spiegare la decisione."))
    if step_name == "submit":
        _check_complete(project)
    previous = project.status
    now = utcnow()
    values: dict[str, Any] = {"status": step.target, "status_changed_at": now, "status_note": note}
    if step_name == "submit":
        values["submitted_at"] = now
    if step_name == "approve":
        values["approved_at"] = now
        values["approved_by_id"] = actor.id
    if step_name == "close":
        values["closed_on"] = day or current_day()
    # From here this request holds the project's row: what follows reads what others left.
    _forget_children(project)
    move(project, step.sources, values, refused=lambda status: _step_refused(step, status))
    changes: dict[str, Any] = {"status": [previous, step.target]}
    if step_name == "submit":
        _check_complete(project)  # a colleague may have removed the last line meanwhile
    if step_name == "approve":
        db.session.execute(
            sql_update(BudgetLine)
            .where(BudgetLine.project_id == project.id)
            .values(approved=BudgetLine.planned)
            .execution_options(synchronize_session=False)
        )
        changes["approved_total"] = str(totals(_fresh_lines(project)).approved)
    if step_name == "close":
        # A closed project spends nothing more: increases still waiting lapse with it.
        dropped = [line for line in _fresh_lines(project) if line.increase_requested is not None]
        if dropped:
            changes["increases_dropped"] = {
                str(line.id): str(line.increase_requested) for line in dropped
            }
        for line in dropped:
            line.increase_requested = None
    record(f"project_{step_name}", project, changes, actor=actor)
    if step_name == "submit":
        notify(coordinators(), "project_submitted", project, exclude=actor)
    elif step.by_city:
        notify(
            operators_of(project.organization_id), f"project_{step_name}", project, exclude=actor
        )
    db.session.flush()
    return project


def last_step(project: Project) -> tuple[str, int | None] | None:
    """The latest step taken on the project and who took it, from the audit log."""
    row = db.session.execute(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(
            AuditEvent.object_type == "project",
            AuditEvent.object_id == project.id,
            AuditEvent.action.in_([f"project_{name}" for name in STEPS]),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0].removeprefix("project_"), row[1])


def _check_complete(project: Project) -> None:
    if not project.lines:
        raise DomainError(_("Aggiungi almeno una voce di budget prima di inviare."))
    if not project.goals:
        raise DomainError(_("Aggiungi almeno un obiettivo prima di inviare."))


# Creating and editing ------------------------------------------------------------------------


def youth_mismatch(person: Person | None, youth: bool, starts_on: date | None) -> str | None:
    """Why a project cannot be flagged "giovani 18-29" for `person`, or None when it can.

    The flag counts in the programme's youth quota and in the reports: it needs a person of the
    household whose birth date makes them 18-29 on the day the project starts (today if unset).
    """
    if not youth:
        return None
    day = starts_on or current_day()
    if person is None:
        return _("Per un progetto giovani 18-29 scegli la persona giovane del nucleo.")
    age = person.age(day)
    if age is None:
        return _(
            "Manca la data di nascita di %(name)s: senza, il progetto non può contare come "
            "progetto giovani 18-29.",
            name=person.full_name,
        )
    if not person.is_youth(day):
        return _(
            "%(name)s ha %(age)d anni all'inizio del progetto: il progetto giovani è per persone "
            "dai 18 ai 29 anni. Togli la spunta o scegli la persona giovane del nucleo.",
            name=person.full_name,
            age=age,
        )
    return None


def create(
    household: Household, person: Person | None, values: dict[str, Any], actor: User
) -> Project:
    if not can_edit_household(actor, household):
        raise DomainError(_("Solo l'ente che ha in carico il nucleo può aprire un progetto."))
    if person is not None and person.household_id != household.id:
        raise DomainError(_("La persona indicata non fa parte del nucleo."))
    _check_dates(values.get("starts_on"), values.get("ends_on"))
    mismatch = youth_mismatch(person, bool(values.get("youth")), values.get("starts_on"))
    if mismatch is not None:
        raise DomainError(mismatch)
    organization_id = sending_organization(actor, household)  # a co-holder opens in its name
    if values.get("case_worker_id"):
        _check_case_worker(values["case_worker_id"], organization_id)
    project = Project(
        household_id=household.id,
        person_id=person.id if person else None,
        organization_id=organization_id,
        case_worker_id=values.get("case_worker_id") or actor.id,
        title=values["title"],
        summary=values.get("summary"),
        youth=bool(values.get("youth")),
        starts_on=values.get("starts_on"),
        ends_on=values.get("ends_on"),
        status="draft",
    )
    db.session.add(project)
    db.session.flush()
    record(
        "project_created",
        project,
        {"household_id": household.id, "person_id": project.person_id, "youth": project.youth},
        actor=actor,
    )
    return project


def _check_case_worker(user_id: int, organization_id: int) -> None:
    worker = db.session.get(User, user_id)
    if (
        worker is None
        or not worker.has_role(Role.ENTITY_OPERATOR)
        or worker.organization_id != organization_id
    ):
        raise DomainError(_("Il referente del progetto deve essere un operatore dell'ente."))


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise DomainError(_("La data di fine non può precedere quella di inizio."))


def _require_editable(project: Project, actor: User) -> None:
    if project.read_only:
        raise DomainError(_("Il progetto è chiuso: non si può più modificare."))
    if not can_edit(actor, project):
        raise DomainError(_("Solo l'ente che segue il progetto può modificarlo."))


def update(project: Project, values: dict[str, Any], actor: User) -> dict[str, list[Any]]:
    hold(project)
    _require_editable(project, actor)
    wanted = {k: values[k] for k in PROJECT_FIELDS if k in values}
    _check_dates(wanted.get("starts_on", project.starts_on), wanted.get("ends_on", project.ends_on))
    if wanted.get("person_id") is not None and wanted["person_id"] != project.person_id:
        person = db.session.get(Person, wanted["person_id"])
        if person is None or person.household_id != project.household_id:
            raise DomainError(_("La persona indicata non fa parte del nucleo."))
    if wanted.get("case_worker_id") and wanted["case_worker_id"] != project.case_worker_id:
        _check_case_worker(wanted["case_worker_id"], project.organization_id)
    person_id = wanted.get("person_id", project.person_id)
    mismatch = youth_mismatch(
        db.session.get(Person, person_id) if person_id is not None else None,
        bool(wanted.get("youth", project.youth)),
        wanted.get("starts_on", project.starts_on),
    )
    changes = diff(project, wanted)
    if mismatch is not None and {"youth", "person_id", "starts_on"} & set(changes):
        raise DomainError(mismatch)
    for field in changes:
        setattr(project, field, wanted[field])
    if changes:
        record("project_updated", project, changes, actor=actor)
    db.session.flush()
    return changes


def add_goal(
    project: Project, description: str, target_on: date | None, actor: User
) -> ProjectGoal:
    hold(project)
    _require_editable(project, actor)
    if not description.strip():
        raise DomainError(_("Descrivi l'obiettivo."))
    goal = ProjectGoal(project=project, description=description.strip(), target_on=target_on)
    db.session.add(goal)
    db.session.flush()
    record("project_goal_added", project, {"goal_id": goal.id}, actor=actor)
    return goal


def set_goal_status(goal: ProjectGoal, status: str, actor: User) -> None:
    hold(goal.project)
    db.session.refresh(goal)
    _require_editable(goal.project, actor)
    if status not in GOAL_STATUSES:
        raise DomainError(_("Scegli lo stato dell'obiettivo."))
    if goal.status != status:
        record(
            "project_goal_updated",
            goal.project,
            {"goal_id": goal.id, "status": [goal.status, status]},
            actor=actor,
        )
        goal.status = status
    db.session.flush()


def add_meeting(
    project: Project,
    held_on: date,
    notes: str,
    next_steps: str | None,
    actor: User,
    day: date | None = None,
) -> ProjectMeeting:
    hold(project)
    _require_editable(project, actor)
    if held_on > (day or current_day()):
        raise DomainError(_("La data dell'incontro non può essere nel futuro."))
    if not notes.strip():
        raise DomainError(_("Scrivi le note dell'incontro."))
    meeting = ProjectMeeting(
        project=project,
        held_on=held_on,
        notes=notes.strip(),
        next_steps=(next_steps or "").strip() or None,
        recorded_by_id=actor.id,
    )
    db.session.add(meeting)
    db.session.flush()
    record("project_meeting_added", project, {"meeting_id": meeting.id}, actor=actor)
    return meeting


# Budget lines --------------------------------------------------------------------------------


def _check_amount(value: Decimal | None, label: str) -> Decimal:
    if value is None:
        raise DomainError(_("Indica l'importo: %(field)s.", field=label))
    if not value.is_finite():
        raise DomainError(_("Scrivi un importo in euro, per esempio 1.234,56."))
    if value < ZERO:
        raise DomainError(_("L'importo non può essere negativo."))
    # Checked before quantizing (a huge amount does not fit the decimal context), and well
    # within the Numeric(12, 2) columns.
    if value > ABSURD:
        raise DomainError(_("L'importo è troppo alto: controlla le cifre."))
    if value != value.quantize(CENT):
        raise DomainError(_("Un importo in euro ha al massimo due decimali."))
    return value


def add_line(project: Project, values: dict[str, Any], actor: User) -> BudgetLine:
    """A new line: planned freely in a draft; after approval it waits for the City (its planned
    amount is an increase request)."""
    hold(project)
    _require_editable(project, actor)
    if project.status == "submitted":
        raise DomainError(_("Il progetto è in attesa di approvazione: ritiralo per modificarlo."))
    if values.get("category") not in CATEGORIES:
        raise DomainError(_("Scegli la categoria della spesa."))
    planned = _check_amount(values.get("planned"), str(_("previsto")))
    line = BudgetLine(
        project=project,
        category=values["category"],
        description=values["description"],
        supplier=values.get("supplier"),
        planned=planned,
        approved=ZERO,
        committed=ZERO,
        paid=ZERO,
    )
    if project.status != "draft" and planned > ZERO:
        line.increase_requested = planned
    db.session.add(line)
    db.session.flush()
    record(
        "budget_line_added",
        project,
        {"line_id": line.id, "category": line.category, "planned": str(planned)},
        actor=actor,
    )
    if line.increase_requested is not None:
        notify(coordinators(), "budget_increase_requested", project, exclude=actor)
    return line


def update_line(line: BudgetLine, values: dict[str, Any], actor: User) -> dict[str, list[Any]]:
    """Edit a line in place. Planned, category and description only in a draft; committed and
    paid once the project is approved, within the approved amount; the supplier until closed."""
    project = hold(line.project)
    _fresh_line(line, project)  # the amounts a colleague may have just recorded
    _require_editable(project, actor)
    if values.get("seen") is not None and values["seen"] != (line.committed, line.paid):
        raise StaleState(
            _(
                "Nel frattempo un collega ha aggiornato la voce: ora l'impegnato è "
                "%(committed)s e il pagato %(paid)s. Controlla e salva di nuovo.",
                committed=_euro(line.committed),
                paid=_euro(line.paid),
            ),
            project.status,
        )
    wanted: dict[str, Any] = {}
    if "supplier" in values and (values["supplier"] or None) != line.supplier:
        wanted["supplier"] = values["supplier"] or None
    for field in ("category", "description", "planned"):
        if field in values and values[field] != getattr(line, field):
            if project.status != "draft":
                raise DomainError(
                    _("Dopo l'approvazione si aggiornano solo l'impegnato e il pagato.")
                )
            wanted[field] = values[field]
    if "category" in wanted and wanted["category"] not in CATEGORIES:
        raise DomainError(_("Scegli la categoria della spesa."))
    if "planned" in wanted:
        _check_amount(wanted["planned"], str(_("previsto")))
    committed = values.get("committed", line.committed)
    paid = values.get("paid", line.paid)
    if committed != line.committed or paid != line.paid:
        if project.status not in ("approved", "active"):
            raise DomainError(_("Impegni e pagamenti si registrano solo su un progetto approvato."))
        _check_amount(committed, str(_("impegnato")))
        _check_amount(paid, str(_("pagato")))
        if committed > line.approved:
            raise DomainError(
                _(
                    "L'impegnato (%(committed)s) supera l'importo approvato (%(approved)s): "
                    "chiedi alla Città di approvare l'aumento.",
                    committed=_euro(committed),
                    approved=_euro(line.approved),
                )
            )
        if paid > committed:
            raise DomainError(
                _(
                    "Il pagato (%(paid)s) non può superare l'impegnato (%(committed)s).",
                    paid=_euro(paid),
                    committed=_euro(committed),
                )
            )
        wanted["committed"] = committed
        wanted["paid"] = paid
    dates = {f: values[f] for f in ("committed_on", "paid_on") if f in values}
    if any(dates[f] != getattr(line, f) for f in dates):
        if project.status not in ("approved", "active"):
            raise DomainError(_("Impegni e pagamenti si registrano solo su un progetto approvato."))
        wanted.update(dates)
    changes = diff(line, wanted)
    for field in changes:
        setattr(line, field, wanted[field])
    if changes:
        record("budget_line_updated", project, {"line_id": line.id, **changes}, actor=actor)
    db.session.flush()
    return changes


def remove_line(line: BudgetLine, actor: User) -> None:
    project = hold(line.project)
    _fresh_line(line, project)  # removed by a twin click meanwhile: StaleState, not a 500
    _require_editable(project, actor)
    if project.status != "draft":
        raise DomainError(_("Dopo l'invio le voci di budget non si eliminano."))
    record(
        "budget_line_removed",
        project,
        {"line_id": line.id, "category": line.category, "planned": str(line.planned)},
        actor=actor,
    )
    # Out of the project's collection (delete-orphan deletes the row): totals and checks made
    # later in the same request must not see it.
    project.lines.remove(line)
    db.session.flush()


def request_increase(line: BudgetLine, amount: Decimal, actor: User) -> None:
    project = hold(line.project)
    _fresh_line(line, project)
    _require_editable(project, actor)
    if project.status not in ("approved", "active"):
        raise DomainError(_("Gli aumenti si chiedono su un progetto approvato."))
    _check_amount(amount, str(_("nuovo importo")))
    if amount <= line.approved:
        raise DomainError(_("Il nuovo importo deve superare quello approvato."))
    line.increase_requested = amount
    record(
        "budget_increase_requested",
        project,
        {"line_id": line.id, "approved": [str(line.approved), str(amount)]},
        actor=actor,
    )
    notify(coordinators(), "budget_increase_requested", project, exclude=actor)
    db.session.flush()


def decide_increase(
    line: BudgetLine, approve: bool, actor: User, seen: Decimal | None = None
) -> None:
    """The City approves or rejects the increase asked on a line: once. `seen` is the amount the
    coordinator's page showed; a decision taken meanwhile by a colleague, or a request changed
    since, refuses this one (StaleState) and changes nothing."""
    if not can_decide(actor):
        raise DomainError(_("Solo la Città approva gli aumenti di budget."))
    project = hold(line.project)
    _fresh_line(line, project)
    if project.read_only:
        raise StaleState(_("Il progetto è chiuso: non si può più modificare."), project.status)
    if line.increase_requested is None:
        raise StaleState(
            _(
                "Non c'è nessun aumento da decidere su questa voce: l'importo approvato è "
                "%(approved)s.",
                approved=_euro(line.approved),
            ),
            project.status,
        )
    requested = line.increase_requested
    if seen is not None and seen != requested:
        raise StaleState(
            _(
                "Nel frattempo la richiesta di aumento è cambiata: ora chiede %(amount)s. "
                "Controlla e decidi di nuovo.",
                amount=_euro(requested),
            ),
            project.status,
        )
    line.increase_requested = None
    if approve:
        record(
            "budget_increase_approved",
            project,
            {"line_id": line.id, "approved": [str(line.approved), str(requested)]},
            actor=actor,
        )
        line.approved = requested
    else:
        record(
            "budget_increase_rejected",
            project,
            {"line_id": line.id, "requested": str(requested)},
            actor=actor,
        )
    notify(
        operators_of(project.organization_id),
        "budget_increase_approved" if approve else "budget_increase_rejected",
        project,
        exclude=actor,
    )
    db.session.flush()


def record_view(project: Project, actor: User) -> None:
    record_views("project_viewed", [project.household_id], project, actor=actor)


def _euro(amount: Decimal) -> str:
    from app.web.formatting import format_money

    return format_money(amount)
