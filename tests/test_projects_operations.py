"""Individualised projects: who opens and moves them, the life-budget money rules, audit, notices.

Operations are called directly with an explicit actor, as the views call them. Every refusal is a
DomainError that changes nothing: to prove it, the session is committed after the refusal (as a
view would commit whatever else the request did) and the rows are read back from the database.
A hypothesis test drives random commitments, payments and increase requests, valid or not, and
checks the budget invariants and exact totals after every step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.errors import DomainError
from app.extensions import db as _db
from app.households.models import Household
from app.money import ABSURD, ZERO
from app.notifications.models import Notification
from app.projects import operations
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.projects.operations import totals
from app.registry.models import Organization
from tests import factories


@pytest.fixture(autouse=True)
def request_context(app: Flask, db: object) -> Iterator[None]:
    """The operations' messages are translated for the user of a request, as in the views."""
    with app.test_request_context():
        yield


# The people around a project ---------------------------------------------------------------------


@dataclass
class World:
    hub: Organization
    operator: User
    colleague: User
    coordinator: User
    coordinator_colleague: User
    outsider: User  # an operator of another organization
    provider: User
    admin: User
    household: Household
    other_household: Household
    inactive: list[User] = field(default_factory=list)

    def actor(self, name: str) -> User:
        return getattr(self, name)


def young_household(org: Any, members: int) -> Household:
    """A household whose members are 18-29 today, so a "giovani 18-29" project fits them."""
    household = factories.household(org, members=0)
    for index in range(members):
        factories.person(
            household,
            relation="reference" if index == 0 else "child",
            birth_date=date(today().year - 20 - index, 3, 1),
        )
    _db.session.refresh(household)
    return household


@pytest.fixture
def world(db: object) -> World:
    hub = factories.organization(is_hub=True)
    other = factories.organization(is_hub=True)
    made = World(
        hub=hub,
        operator=factories.user("entity_operator", hub),
        colleague=factories.user("entity_operator", hub),
        coordinator=factories.user("coordinator"),
        coordinator_colleague=factories.user("coordinator"),
        outsider=factories.user("entity_operator", other),
        provider=factories.user("housing_provider"),
        admin=factories.user("admin"),
        household=young_household(hub, members=2),
        other_household=young_household(other, members=1),
    )
    # Nobody tells people who cannot log in.
    made.inactive = [
        factories.user("coordinator", active=False),
        factories.user("entity_operator", hub, active=False),
    ]
    _db.session.commit()
    return made


def euro(text: str) -> Decimal:
    return Decimal(text)


def new_draft(
    world: World,
    lines: tuple[str, ...] = ("1000.00", "250.50"),
    goals: int = 1,
    **values: Any,
) -> Project:
    household = world.household
    project = operations.create(
        household,
        household.members[0],
        {
            "title": "Percorso verso il lavoro",
            "youth": True,
            "starts_on": today(),
            "ends_on": today() + timedelta(days=180),
            **values,
        },
        world.operator,
    )
    for n in range(goals):
        operations.add_goal(
            project, f"Obiettivo {n + 1}", today() + timedelta(days=90), world.operator
        )
    for n, planned in enumerate(lines):
        operations.add_line(
            project,
            {"category": "training", "description": f"Corso {n + 1}", "planned": euro(planned)},
            world.operator,
        )
    return project


def approved_project(world: World, lines: tuple[str, ...] = ("1000.00", "250.50")) -> Project:
    project = new_draft(world, lines)
    operations.transition(project, "submit", world.operator)
    operations.transition(project, "approve", world.coordinator)
    _db.session.commit()
    return project


def reach(world: World, status: str) -> Project:
    """A project in `status`, reached through the real steps."""
    project = new_draft(world)
    path = {
        "draft": [],
        "submitted": [("submit", "operator", None)],
        "approved": [("submit", "operator", None), ("approve", "coordinator", None)],
        "active": [
            ("submit", "operator", None),
            ("approve", "coordinator", None),
            ("start", "operator", None),
        ],
        "closed": [
            ("submit", "operator", None),
            ("approve", "coordinator", None),
            ("start", "operator", None),
            ("close", "operator", "Obiettivi raggiunti, assunta a tempo determinato."),
        ],
    }[status]
    for step, actor, note in path:
        operations.transition(project, step, world.actor(actor), note=note)
    _db.session.commit()
    assert project.status == status
    return project


# What the database holds -------------------------------------------------------------------------


def count(model: Any, *where: Any) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def audit(project: Project | None = None, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if project is not None:
        query = query.where(AuditEvent.object_type == "project", AuditEvent.object_id == project.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(_db.session.scalars(query))


def notified(kind: str, project: Project) -> set[int]:
    return set(
        _db.session.scalars(
            select(Notification.user_id).where(
                Notification.kind == kind,
                Notification.object_type == "project",
                Notification.object_id == project.id,
            )
        )
    )


def rows(table: Any, *where: Any) -> list[tuple[Any, ...]]:
    return [
        tuple(row) for row in _db.session.execute(select(table).where(*where).order_by(table.c.id))
    ]


def state() -> dict[str, Any]:
    """Everything a refused action could have touched, read from the database."""
    return {
        "projects": rows(Project.__table__),
        "goals": rows(ProjectGoal.__table__),
        "meetings": rows(ProjectMeeting.__table__),
        "lines": rows(BudgetLine.__table__),
        "audit": count(AuditEvent),
        "notifications": count(Notification),
    }


def refused(call: Callable[[], object], match: str | None = None) -> str:
    """`call` raises DomainError and, even if the request then commits, nothing has changed;
    its message contains the text `match` (taken literally), which names the refusal."""
    _db.session.commit()
    before = state()
    with pytest.raises(DomainError, match=None if match is None else re.escape(match)) as error:
        call()
    _db.session.commit()
    _db.session.expire_all()
    assert state() == before
    return error.value.message


def line_row(line: BudgetLine) -> dict[str, Any]:
    row = _db.session.execute(
        select(
            BudgetLine.planned,
            BudgetLine.approved,
            BudgetLine.committed,
            BudgetLine.paid,
            BudgetLine.increase_requested,
        ).where(BudgetLine.id == line.id)
    ).one()
    return dict(row._mapping)


# Creating ----------------------------------------------------------------------------------------


def test_the_owning_organization_drafts_a_project_for_a_person_of_the_household(world):
    young = world.household.members[1]

    project = operations.create(
        world.household,
        young,
        {"title": "Tirocinio in officina", "youth": True, "starts_on": date(2026, 3, 1)},
        world.operator,
    )
    _db.session.commit()

    saved = _db.session.get(Project, project.id)
    assert saved.status == "draft"
    assert saved.person_id == young.id
    assert saved.household_id == world.household.id
    assert saved.organization_id == world.hub.id
    assert saved.case_worker_id == world.operator.id
    assert saved.youth is True
    [event] = audit(project)
    assert event.action == "project_created"
    assert event.actor_id == world.operator.id
    assert count(Notification) == 0


@pytest.mark.parametrize("actor", ["coordinator", "outsider", "provider", "admin"])
def test_only_the_organization_in_charge_of_the_household_opens_a_project(world, actor):
    message = refused(
        lambda: operations.create(world.household, None, {"title": "Progetto"}, world.actor(actor))
    )
    assert "nucleo" in message
    assert count(Project) == 0


def test_the_person_must_belong_to_the_household(world):
    stranger = world.other_household.members[0]

    message = refused(
        lambda: operations.create(world.household, stranger, {"title": "Progetto"}, world.operator)
    )

    assert message == "La persona indicata non fa parte del nucleo."


def test_a_closed_household_gets_no_new_project(world):
    world.household.status = "closed"

    refused(
        lambda: operations.create(world.household, None, {"title": "Progetto"}, world.operator),
        match="Solo l'ente che ha in carico il nucleo può aprire un progetto",
    )


def test_the_end_cannot_precede_the_start(world):
    refused(
        lambda: operations.create(
            world.household,
            None,
            {"title": "Progetto", "starts_on": date(2026, 5, 1), "ends_on": date(2026, 4, 30)},
            world.operator,
        ),
        match="fine non può precedere",
    )


def test_a_project_cannot_be_moved_to_someone_outside_the_household(world):
    project = new_draft(world)

    refused(
        lambda: operations.update(
            project, {"person_id": world.other_household.members[0].id}, world.operator
        ),
        match="non fa parte del nucleo",
    )


def test_the_case_worker_is_an_operator_of_the_organization(world):
    refused(
        lambda: operations.create(
            world.household,
            None,
            {"title": "Progetto", "case_worker_id": world.outsider.id},
            world.operator,
        ),
        match="Il referente del progetto deve essere un operatore dell'ente.",
    )
    project = new_draft(world)
    refused(
        lambda: operations.update(
            project, {"case_worker_id": world.coordinator.id}, world.operator
        ),
        match="Il referente del progetto deve essere un operatore dell'ente.",
    )

    operations.update(project, {"case_worker_id": world.colleague.id}, world.operator)
    _db.session.commit()

    assert _db.session.get(Project, project.id).case_worker_id == world.colleague.id
    assert audit(project, "project_updated")[-1].changes == {
        "case_worker_id": [world.operator.id, world.colleague.id]
    }


def test_editing_the_project_is_audited_once_and_only_when_something_changes(world):
    project = new_draft(world)
    before = len(audit(project))

    changes = operations.update(project, {"title": "Nuovo titolo", "youth": True}, world.operator)
    _db.session.commit()

    assert changes == {"title": ["Percorso verso il lavoro", "Nuovo titolo"]}
    assert len(audit(project)) == before + 1
    assert operations.update(project, {"title": "Nuovo titolo"}, world.operator) == {}
    assert len(audit(project)) == before + 1
    refused(
        lambda: operations.update(project, {"title": "Altro"}, world.outsider),
        match="Solo l'ente che segue il progetto può modificarlo",
    )


# Goals and meetings ------------------------------------------------------------------------------


def test_goals_and_meetings_are_recorded_and_audited(world):
    project = new_draft(world, goals=0)

    goal = operations.add_goal(project, "  Patente B  ", date(2026, 9, 1), world.operator)
    operations.set_goal_status(goal, "partly_achieved", world.colleague)
    meeting = operations.add_meeting(
        project, today(), "Colloquio con la tutor.", "  ", world.operator
    )
    _db.session.commit()

    assert goal.description == "Patente B"
    assert _db.session.get(ProjectGoal, goal.id).status == "partly_achieved"
    assert _db.session.get(ProjectMeeting, meeting.id).next_steps is None
    actions = [event.action for event in audit(project)][-3:]
    assert actions == ["project_goal_added", "project_goal_updated", "project_meeting_added"]

    refused(
        lambda: operations.add_goal(project, "   ", None, world.operator),
        match="Descrivi l'obiettivo.",
    )
    refused(
        lambda: operations.set_goal_status(goal, "forse", world.operator),
        match="Scegli lo stato dell'obiettivo",
    )
    refused(
        lambda: operations.add_meeting(
            project, today() + timedelta(days=1), "Domani", None, world.operator
        ),
        match="La data dell'incontro non può essere nel futuro.",
    )
    refused(
        lambda: operations.add_meeting(project, today(), "  ", None, world.operator),
        match="Scrivi le note dell'incontro",
    )
    refused(
        lambda: operations.add_goal(project, "Altro", None, world.outsider),
        match="Solo l'ente che segue il progetto può modificarlo",
    )
    refused(
        lambda: operations.add_goal(project, "Altro", None, world.coordinator),
        match="Solo l'ente che segue il progetto può modificarlo",
    )


# Transitions -------------------------------------------------------------------------------------


def test_submitting_needs_at_least_one_goal_and_one_line(world):
    no_goal = new_draft(world, goals=0)
    no_line = new_draft(world, lines=())

    assert refused(lambda: operations.transition(no_goal, "submit", world.operator)) == (
        "Aggiungi almeno un obiettivo prima di inviare."
    )
    assert refused(lambda: operations.transition(no_line, "submit", world.operator)) == (
        "Aggiungi almeno una voce di budget prima di inviare."
    )


def test_from_draft_to_closed_with_the_right_people(world):
    project = new_draft(world, lines=("1000.00", "250.50", "0.00"))
    planned = [line.planned for line in project.lines]

    operations.transition(project, "submit", world.colleague)
    _db.session.commit()
    assert project.status == "submitted"
    assert project.submitted_at is not None
    assert all(line.approved == ZERO for line in project.lines)
    # Every active coordinator is told; operators and people who cannot log in are not.
    assert notified("project_submitted", project) == {
        world.coordinator.id,
        world.coordinator_colleague.id,
    }

    operations.transition(project, "approve", world.coordinator)
    _db.session.commit()
    _db.session.expire_all()
    assert project.status == "approved"
    assert project.approved_by_id == world.coordinator.id
    assert project.approved_at is not None
    assert [line_row(line)["approved"] for line in project.lines] == planned
    assert totals(project.lines).approved == Decimal("1250.50")
    # The organization's operators are told, the coordinator who approved is not.
    assert notified("project_approve", project) == {world.operator.id, world.colleague.id}

    operations.transition(project, "start", world.operator)
    operations.transition(
        project, "close", world.colleague, note="  Percorso concluso.  ", day=date(2026, 12, 31)
    )
    _db.session.commit()
    _db.session.expire_all()
    assert project.status == "closed"
    assert project.read_only
    assert project.closed_on == date(2026, 12, 31)
    assert project.status_note == "Percorso concluso."

    assert [event.action for event in audit(project)][-4:] == [
        "project_submit",
        "project_approve",
        "project_start",
        "project_close",
    ]
    assert audit(project, "project_submit")[0].changes["status"] == ["draft", "submitted"]
    assert audit(project, "project_approve")[0].actor_id == world.coordinator.id
    # Starting and closing tell nobody; nobody is ever told of their own action.
    assert count(Notification) == 4
    assert count(Notification, Notification.user_id == world.operator.id) == 1
    for user in world.inactive:
        assert count(Notification, Notification.user_id == user.id) == 0


@pytest.mark.parametrize(
    ("status", "step", "actor"),
    [
        ("draft", "submit", "coordinator"),
        ("draft", "submit", "outsider"),
        ("draft", "submit", "provider"),
        ("draft", "submit", "admin"),
        ("submitted", "approve", "operator"),
        ("submitted", "approve", "outsider"),
        ("submitted", "approve", "admin"),
        ("submitted", "return", "operator"),
        ("submitted", "withdraw", "coordinator"),
        ("approved", "start", "coordinator"),
        ("approved", "start", "outsider"),
        ("active", "close", "coordinator"),
        ("active", "close", "outsider"),
    ],
)
def test_a_step_by_the_wrong_person_is_refused(world, status, step, actor):
    project = reach(world, status)

    message = refused(
        lambda: operations.transition(project, step, world.actor(actor), note="Una nota")
    )

    assert message.startswith("Non spetta a te")
    assert _db.session.get(Project, project.id).status == status
    assert step not in operations.available_steps(world.actor(actor), project)


@pytest.mark.parametrize(
    ("status", "step", "actor"),
    [
        ("draft", "approve", "coordinator"),
        ("draft", "return", "coordinator"),
        ("draft", "withdraw", "operator"),
        ("draft", "start", "operator"),
        ("draft", "close", "operator"),
        ("submitted", "submit", "operator"),
        ("submitted", "start", "operator"),
        ("submitted", "close", "operator"),
        ("approved", "submit", "operator"),
        ("approved", "approve", "coordinator"),
        ("approved", "withdraw", "operator"),
        ("active", "start", "operator"),
        ("active", "return", "coordinator"),
        ("closed", "close", "operator"),
        ("closed", "start", "operator"),
        ("closed", "submit", "operator"),
        ("closed", "approve", "coordinator"),
    ],
)
def test_a_step_out_of_order_is_refused(world, status, step, actor):
    project = reach(world, status)

    message = refused(
        lambda: operations.transition(project, step, world.actor(actor), note="Una nota")
    )

    assert "ora non si può" in message
    assert step not in operations.available_steps(world.actor(actor), project)


def test_the_steps_offered_are_the_ones_that_work(world):
    assert operations.available_steps(world.operator, reach(world, "draft")) == ["submit"]
    submitted = reach(world, "submitted")
    assert operations.available_steps(world.operator, submitted) == ["withdraw"]
    assert operations.available_steps(world.coordinator, submitted) == ["approve", "return"]
    assert operations.available_steps(world.outsider, submitted) == []
    assert operations.available_steps(world.operator, reach(world, "approved")) == [
        "start",
        "close",
    ]
    assert operations.available_steps(world.operator, reach(world, "closed")) == []
    refused(
        lambda: operations.transition(submitted, "delete", world.coordinator),
        match="Azione sconosciuta.",
    )


def test_sending_back_needs_a_note_and_returns_the_project_to_draft(world):
    project = reach(world, "submitted")

    for note in (None, "", "   "):
        refused(
            lambda note=note: operations.transition(
                project, "return", world.coordinator, note=note
            ),
            match="Scrivi una nota per spiegare la decisione.",
        )

    operations.transition(project, "return", world.coordinator, note="Manca il preventivo.")
    _db.session.commit()

    assert project.status == "draft"
    assert project.status_note == "Manca il preventivo."
    assert notified("project_return", project) == {world.operator.id, world.colleague.id}
    # Back in the organization's hands: the plan can change and go again.
    line = project.lines[0]
    operations.update_line(line, {"planned": Decimal("1200.00")}, world.operator)
    operations.transition(project, "submit", world.operator)
    operations.transition(project, "approve", world.coordinator)
    _db.session.commit()
    assert line_row(line)["approved"] == Decimal("1200.00")


def test_the_organization_withdraws_a_submitted_project(world):
    project = reach(world, "submitted")
    before = count(Notification)

    operations.transition(project, "withdraw", world.operator)
    _db.session.commit()

    assert project.status == "draft"
    assert count(Notification) == before
    assert audit(project)[-1].action == "project_withdraw"


def test_closing_needs_a_note(world):
    project = reach(world, "active")

    refused(
        lambda: operations.transition(project, "close", world.operator),
        match="Scrivi una nota per spiegare la decisione.",
    )
    refused(
        lambda: operations.transition(project, "close", world.operator, note="  "),
        match="Scrivi una nota per spiegare la decisione",
    )


# A closed project is read-only -------------------------------------------------------------------


EDITS: dict[str, Callable[[World, Project], object]] = {
    "update": lambda w, p: operations.update(p, {"title": "Altro titolo"}, w.operator),
    "add_goal": lambda w, p: operations.add_goal(p, "Nuovo obiettivo", None, w.operator),
    "set_goal_status": lambda w, p: operations.set_goal_status(p.goals[0], "achieved", w.operator),
    "add_meeting": lambda w, p: operations.add_meeting(p, today(), "Incontro", None, w.operator),
    "add_line": lambda w, p: operations.add_line(
        p,
        {"category": "transport", "description": "Abbonamento", "planned": euro("35.00")},
        w.operator,
    ),
    "commit": lambda w, p: operations.update_line(
        p.lines[0], {"committed": euro("500.00")}, w.operator
    ),
    "pay": lambda w, p: operations.update_line(p.lines[0], {"paid": euro("100.00")}, w.operator),
    "supplier": lambda w, p: operations.update_line(
        p.lines[0], {"supplier": "Autoscuola Centrale"}, w.operator
    ),
    "remove_line": lambda w, p: operations.remove_line(p.lines[0], w.operator),
    "request_increase": lambda w, p: operations.request_increase(
        p.lines[0], euro("5000.00"), w.operator
    ),
    "decide_increase": lambda w, p: operations.decide_increase(p.lines[1], True, w.coordinator),
    "reject_increase": lambda w, p: operations.decide_increase(p.lines[1], False, w.coordinator),
    "reopen": lambda w, p: operations.transition(p, "start", w.operator),
    "close_again": lambda w, p: operations.transition(p, "close", w.operator, note="Di nuovo"),
}


CLOSED = "Il progetto è chiuso: non si può più modificare."
# The steps of the workflow say which step a closed project no longer allows.
CLOSED_REFUSALS = {
    "reopen": "Il progetto è «chiuso»: ora non si può avviare.",
    "close_again": "Il progetto è «chiuso»: ora non si può chiudere.",
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_closed_project_refuses_every_edit(world, edit):
    project = approved_project(world)
    operations.update_line(
        project.lines[0], {"committed": euro("600.00"), "paid": euro("200.00")}, world.operator
    )
    # An increase still waiting when the project closes cannot be decided any more.
    operations.request_increase(project.lines[1], euro("400.00"), world.operator)
    operations.transition(project, "close", world.operator, note="Chiuso in anticipo.")
    _db.session.commit()

    refused(lambda: EDITS[edit](world, project), match=CLOSED_REFUSALS.get(edit, CLOSED))


def test_closing_lets_waiting_increases_lapse(world):
    project = reach(world, "active")
    waiting = project.lines[1]
    operations.request_increase(waiting, euro("400.00"), world.operator)
    _db.session.commit()

    operations.transition(project, "close", world.operator, note="Percorso concluso.")
    _db.session.commit()

    assert line_row(waiting)["increase_requested"] is None
    assert line_row(waiting)["approved"] == euro("250.50")
    [event] = audit(project, "project_close")
    assert event.changes["increases_dropped"] == {str(waiting.id): "400.00"}
    refused(
        lambda: operations.decide_increase(waiting, True, world.coordinator),
        match="Il progetto è chiuso: non si può più modificare.",
    )


# Money rules -------------------------------------------------------------------------------------


def test_commitments_and_payments_within_the_approved_amount(world):
    project = approved_project(world)
    line = project.lines[0]
    before = len(audit(project))

    operations.update_line(
        line,
        {"committed": euro("600.00"), "paid": euro("250.00"), "committed_on": date(2026, 4, 1)},
        world.operator,
    )
    _db.session.commit()
    _db.session.expire_all()

    assert line_row(line) == {
        "planned": euro("1000.00"),
        "approved": euro("1000.00"),
        "committed": euro("600.00"),
        "paid": euro("250.00"),
        "increase_requested": None,
    }
    assert line.committed_on == date(2026, 4, 1)
    [event] = audit(project)[before:]
    assert event.action == "budget_line_updated"
    assert event.changes["committed"] == ["0.00", "600.00"]
    assert event.changes["paid"] == ["0.00", "250.00"]
    summary = totals(project.lines)
    assert (summary.approved, summary.committed, summary.paid) == (
        euro("1250.50"),
        euro("600.00"),
        euro("250.00"),
    )
    assert summary.available == euro("650.50")
    assert summary.to_pay == euro("350.00")

    # Committing all that is approved is allowed, to the cent.
    operations.update_line(line, {"committed": euro("1000.00")}, world.operator)
    operations.update_line(line, {"paid": euro("1000.00")}, world.colleague)
    _db.session.commit()
    assert line_row(line)["paid"] == euro("1000.00")
    assert len(audit(project)) == before + 3


def test_committing_more_than_approved_asks_for_an_increase(world):
    project = approved_project(world)

    message = refused(
        lambda: operations.update_line(
            project.lines[0], {"committed": euro("1000.01")}, world.operator
        )
    )

    assert message == (
        "L'impegnato (€ 1.000,01) supera l'importo approvato (€ 1.000,00): "
        "chiedi alla Città di approvare l'aumento."
    )


def test_paid_never_exceeds_committed(world):
    project = approved_project(world)
    line = project.lines[0]
    operations.update_line(
        line, {"committed": euro("300.00"), "paid": euro("300.00")}, world.operator
    )

    message = refused(
        lambda: operations.update_line(line, {"paid": euro("300.01")}, world.operator)
    )
    assert message == "Il pagato (€ 300,01) non può superare l'impegnato (€ 300,00)."
    # Lowering the commitment below what was already paid is the same mistake.
    refused(
        lambda: operations.update_line(line, {"committed": euro("299.99")}, world.operator),
        match="Il pagato",
    )
    assert line_row(line)["paid"] == euro("300.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("-0.01"), "negativo"),
        (Decimal("10.005"), "due decimali"),
        (Decimal("0.001"), "due decimali"),
        (None, "Indica l'importo"),
        (ABSURD + Decimal("0.01"), "troppo alto"),
        (Decimal("1E+12"), "troppo alto"),  # beyond the column: refused, not a database error
    ],
)
def test_bad_amounts_are_refused_everywhere(world, amount, message):
    project = approved_project(world)
    line = project.lines[0]
    draft = new_draft(world)
    _db.session.commit()

    refused(
        lambda: operations.update_line(line, {"committed": amount}, world.operator), match=message
    )
    refused(lambda: operations.update_line(line, {"paid": amount}, world.operator), match=message)
    refused(lambda: operations.request_increase(line, amount, world.operator), match=message)
    refused(
        lambda: operations.add_line(
            draft, {"category": "tools", "description": "PC", "planned": amount}, world.operator
        ),
        match=message,
    )
    refused(
        lambda: operations.update_line(draft.lines[0], {"planned": amount}, world.operator),
        match=message,
    )


def test_commitments_only_on_an_approved_project(world):
    for status in ("draft", "submitted"):
        project = reach(world, status)
        refused(
            lambda project=project: operations.update_line(
                project.lines[0], {"committed": euro("10.00")}, world.operator
            ),
            match="Impegni e pagamenti si registrano solo su un progetto approvato",
        )


def test_only_the_organization_records_commitments(world):
    project = approved_project(world)

    for actor in (world.coordinator, world.outsider, world.admin):
        refused(
            lambda actor=actor: operations.update_line(
                project.lines[0], {"committed": euro("10.00")}, actor
            ),
            match="Solo l'ente che segue il progetto può modificarlo",
        )


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        # paid above committed (500)
        ({"paid": euro("700.00")}, "ck_budget_line_paid_within_committed"),
        # committed above approved (1000)
        ({"committed": euro("1000.01")}, "ck_budget_line_committed_within_approved"),
        (
            {"committed": euro("-1.00"), "paid": euro("-1.00")},
            "ck_budget_line_amounts_not_negative",
        ),
        ({"planned": euro("-0.01")}, "ck_budget_line_amounts_not_negative"),
        # an increase that is not one
        ({"increase_requested": euro("1000.00")}, "ck_budget_line_increase_above_approved"),
    ],
    ids=["paid>committed", "committed>approved", "negative", "negative-planned", "no-increase"],
)
def test_the_database_refuses_impossible_amounts_even_written_directly(world, values, constraint):
    """Each impossible line is refused by its own check (not by some other failure)."""
    project = approved_project(world)
    line = project.lines[0]
    operations.update_line(
        line, {"committed": euro("500.00"), "paid": euro("200.00")}, world.operator
    )
    _db.session.commit()
    before = line_row(line)

    with pytest.raises(IntegrityError, match=constraint):
        _db.session.execute(update(BudgetLine).where(BudgetLine.id == line.id).values(**values))
    _db.session.rollback()

    assert line_row(line) == before


# Increases ---------------------------------------------------------------------------------------


def test_an_approved_increase_allows_a_bigger_commitment(world):
    project = approved_project(world)
    line = project.lines[0]
    refused(
        lambda: operations.update_line(line, {"committed": euro("1500.00")}, world.operator),
        match="chiedi alla Città di approvare l'aumento",
    )
    before = len(audit(project))

    operations.request_increase(line, euro("1500.00"), world.operator)
    _db.session.commit()
    assert line_row(line)["increase_requested"] == euro("1500.00")
    assert line_row(line)["approved"] == euro("1000.00")
    assert notified("budget_increase_requested", project) == {
        world.coordinator.id,
        world.coordinator_colleague.id,
    }
    # Waiting for the City is not yet approved.
    refused(
        lambda: operations.update_line(line, {"committed": euro("1500.00")}, world.operator),
        match="chiedi alla Città di approvare l'aumento",
    )

    operations.decide_increase(line, True, world.coordinator_colleague)
    _db.session.commit()
    assert line_row(line)["approved"] == euro("1500.00")
    assert line_row(line)["increase_requested"] is None
    assert notified("budget_increase_approved", project) == {world.operator.id, world.colleague.id}

    operations.update_line(line, {"committed": euro("1500.00")}, world.operator)
    _db.session.commit()
    assert line_row(line)["committed"] == euro("1500.00")
    assert [event.action for event in audit(project)[before:]] == [
        "budget_increase_requested",
        "budget_increase_approved",
        "budget_line_updated",
    ]
    assert audit(project, "budget_increase_approved")[0].actor_id == world.coordinator_colleague.id
    assert totals(project.lines).approved == euro("1750.50")


def test_a_rejected_increase_leaves_the_approved_amount(world):
    project = approved_project(world)
    line = project.lines[0]
    operations.request_increase(line, euro("1500.00"), world.operator)

    operations.decide_increase(line, False, world.coordinator)
    _db.session.commit()

    assert line_row(line)["approved"] == euro("1000.00")
    assert line_row(line)["increase_requested"] is None
    assert notified("budget_increase_rejected", project) == {world.operator.id, world.colleague.id}
    assert notified("budget_increase_approved", project) == set()
    assert audit(project)[-1].action == "budget_increase_rejected"
    refused(
        lambda: operations.update_line(line, {"committed": euro("1000.01")}, world.operator),
        match="chiedi alla Città di approvare l'aumento",
    )
    # Nothing left to decide.
    refused(
        lambda: operations.decide_increase(line, True, world.coordinator),
        match="Non c'è nessun aumento da decidere su questa voce",
    )


def test_increase_requests_and_decisions_belong_to_the_right_people(world):
    project = approved_project(world)
    line = project.lines[0]

    refused(
        lambda: operations.request_increase(line, euro("1000.00"), world.operator),
        match="Il nuovo importo deve superare quello approvato.",
    )
    refused(
        lambda: operations.request_increase(line, euro("999.99"), world.operator),
        match="Il nuovo importo deve superare quello approvato",
    )
    refused(
        lambda: operations.request_increase(line, euro("2000.00"), world.coordinator),
        match="Solo l'ente che segue il progetto può modificarlo",
    )
    refused(
        lambda: operations.request_increase(line, euro("2000.00"), world.outsider),
        match="Solo l'ente che segue il progetto può modificarlo",
    )
    refused(
        lambda: operations.decide_increase(line, True, world.coordinator),
        match="Non c'è nessun aumento da decidere su questa voce",
    )

    operations.request_increase(line, euro("2000.00"), world.operator)
    _db.session.commit()
    refused(
        lambda: operations.decide_increase(line, True, world.operator),
        match="Solo la Città approva gli aumenti di budget.",
    )
    refused(
        lambda: operations.decide_increase(line, True, world.admin),
        match="Solo la Città approva gli aumenti di budget",
    )

    draft = new_draft(world)
    refused(
        lambda: operations.request_increase(draft.lines[0], euro("5000.00"), world.operator),
        match="Gli aumenti si chiedono su un progetto approvato",
    )


def test_a_line_added_after_approval_waits_for_the_city(world):
    project = reach(world, "active")
    before = len(audit(project))

    line = operations.add_line(
        project,
        {"category": "transport", "description": "Abbonamento GTT", "planned": euro("310.00")},
        world.colleague,
    )
    _db.session.commit()

    assert line_row(line) == {
        "planned": euro("310.00"),
        "approved": ZERO,
        "committed": ZERO,
        "paid": ZERO,
        "increase_requested": euro("310.00"),
    }
    assert notified("budget_increase_requested", project) == {
        world.coordinator.id,
        world.coordinator_colleague.id,
    }
    assert [event.action for event in audit(project)[before:]] == ["budget_line_added"]
    refused(
        lambda: operations.update_line(line, {"committed": euro("10.00")}, world.operator),
        match="chiedi alla Città di approvare l'aumento",
    )

    operations.decide_increase(line, True, world.coordinator)
    operations.update_line(line, {"committed": euro("310.00")}, world.operator)
    _db.session.commit()
    assert line_row(line)["approved"] == euro("310.00")
    assert totals(project.lines).planned == euro("1560.50")


def test_lines_are_planned_in_a_draft_and_frozen_once_submitted(world):
    project = reach(world, "submitted")
    refused(
        lambda: operations.add_line(
            project,
            {"category": "tools", "description": "PC", "planned": euro("400.00")},
            world.operator,
        ),
        match="Il progetto è in attesa di approvazione: ritiralo per modificarlo.",
    )
    refused(
        lambda: operations.remove_line(project.lines[0], world.operator),
        match="Dopo l'invio le voci di budget non si eliminano",
    )

    approved = approved_project(world)
    line = approved.lines[0]
    refused(
        lambda: operations.update_line(line, {"planned": euro("2000.00")}, world.operator),
        match="Dopo l'approvazione si aggiornano solo l'impegnato e il pagato",
    )
    refused(
        lambda: operations.update_line(line, {"category": "health"}, world.operator),
        match="Dopo l'approvazione si aggiornano solo l'impegnato e il pagato",
    )
    refused(
        lambda: operations.update_line(line, {"description": "Altro"}, world.operator),
        match="Dopo l'approvazione si aggiornano solo l'impegnato e il pagato",
    )
    refused(
        lambda: operations.remove_line(line, world.operator),
        match="Dopo l'invio le voci di budget non si eliminano",
    )
    # Who is paid is learnt when the money is committed: the supplier stays editable.
    operations.update_line(line, {"supplier": "Ente di formazione CIOFS"}, world.operator)
    _db.session.commit()
    assert _db.session.get(BudgetLine, line.id).supplier == "Ente di formazione CIOFS"


def test_editing_and_removing_lines_of_a_draft(world):
    project = new_draft(world, lines=("1000.00", "250.50", "99.99"))
    first, second, third = project.lines

    operations.update_line(
        first, {"planned": euro("1100.00"), "category": "health"}, world.operator
    )
    operations.remove_line(third, world.operator)

    # The totals of the same request (the htmx answer) already leave the removed line out.
    assert totals(project.lines).planned == euro("1350.50")
    _db.session.commit()
    _db.session.expire_all()
    assert [line.id for line in project.lines] == [first.id, second.id]
    assert totals(project.lines).planned == euro("1350.50")
    assert [event.action for event in audit(project)][-2:] == [
        "budget_line_updated",
        "budget_line_removed",
    ]
    refused(
        lambda: operations.update_line(second, {"category": "gelati"}, world.operator),
        match="Scegli la categoria della spesa",
    )
    refused(
        lambda: operations.add_line(
            project,
            {"category": "gelati", "description": "x", "planned": euro("1.00")},
            world.operator,
        ),
        match="Scegli la categoria della spesa.",
    )


def test_removing_the_only_line_blocks_submission_in_the_same_request(world):
    project = new_draft(world, lines=("500.00",))

    operations.remove_line(project.lines[0], world.operator)

    with pytest.raises(
        DomainError, match=re.escape("Aggiungi almeno una voce di budget prima di inviare.")
    ):
        operations.transition(project, "submit", world.operator)


# Random budget operations keep the invariants ----------------------------------------------------

OPERATIONS = ("commit", "pay", "request", "approve", "reject")
INVALID_AMOUNTS = (
    None,
    Decimal("-0.01"),
    Decimal("-100"),
    Decimal("12.345"),
    Decimal("0.001"),
    ABSURD + Decimal("0.01"),
    Decimal("10000000000.00"),
)


def _money(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=_cents(low), max_value=_cents(high)).map(
        lambda c: Decimal(c).scaleb(-2)
    )


def amounts_for(name: str, line: dict[str, Any]) -> st.SearchStrategy[Decimal | None]:
    """Amounts around the limits the rule checks for this line now: inside, on the edge, one
    cent beyond, anywhere, or not an amount at all."""
    low, high = {
        "commit": (line["paid"], line["approved"]),
        "pay": (ZERO, line["committed"]),
        "request": (line["approved"], line["approved"] + Decimal("2000.00")),
    }.get(name, (ZERO, ZERO))
    edges = [low, high, high + Decimal("0.01")]
    if low > ZERO:
        edges.append(low - Decimal("0.01"))
    return st.one_of(
        _money(low, high),
        st.sampled_from(edges),
        _money(ZERO, Decimal("5000.00")),
        st.sampled_from(INVALID_AMOUNTS),
    )


def _valid(amount: Decimal | None) -> bool:
    return (
        amount is not None
        and ZERO <= amount <= ABSURD
        and amount == amount.quantize(Decimal("0.01"))
    )


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _expected(
    name: str, amount: Decimal | None, line: dict[str, Any]
) -> tuple[bool, bool, dict[str, Any]]:
    """Whether the rules accept the operation, whether it changes the line, and how."""
    if name == "commit":
        ok = _valid(amount) and line["paid"] <= amount <= line["approved"]
        return ok, ok and amount != line["committed"], {"committed": amount}
    if name == "pay":
        ok = _valid(amount) and amount <= line["committed"]
        return ok, ok and amount != line["paid"], {"paid": amount}
    if name == "request":
        ok = _valid(amount) and amount > line["approved"]
        return ok, ok, {"increase_requested": amount}
    ok = line["increase_requested"] is not None
    after: dict[str, Any] = {"increase_requested": None}
    if name == "approve" and ok:
        after["approved"] = line["increase_requested"]
    return ok, ok, after


def _apply(world: World, name: str, line: BudgetLine, amount: Decimal | None) -> None:
    if name == "commit":
        operations.update_line(line, {"committed": amount}, world.operator)
    elif name == "pay":
        operations.update_line(line, {"paid": amount}, world.operator)
    elif name == "request":
        operations.request_increase(line, amount, world.operator)  # type: ignore[arg-type]
    else:
        operations.decide_increase(line, name == "approve", world.coordinator)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_random_budget_operations_keep_the_invariants(world, data):
    project = new_draft(world, lines=("1000.00", "250.50", "0.00"))
    operations.transition(project, "submit", world.operator)
    operations.transition(project, "approve", world.coordinator)
    _db.session.flush()
    lines = list(project.lines)
    model = [
        {
            "planned": line.planned,
            "approved": line.planned,
            "committed": ZERO,
            "paid": ZERO,
            "increase_requested": None,
        }
        for line in lines
    ]
    try:
        for _step in range(data.draw(st.integers(min_value=5, max_value=30), label="steps")):
            name = data.draw(st.sampled_from(OPERATIONS), label="operation")
            index = data.draw(st.sampled_from([0, 0, 1, 2]), label="line")
            pending = [i for i, row in enumerate(model) if row["increase_requested"] is not None]
            if name in ("approve", "reject") and pending and data.draw(st.booleans()):
                index = data.draw(st.sampled_from(pending), label="pending line")
            line, expected = lines[index], model[index]
            amount = data.draw(amounts_for(name, expected), label="amount")
            audit_before = count(AuditEvent)
            ok, changed, after = _expected(name, amount, expected)
            try:
                _apply(world, name, line, amount)
                accepted = True
            except DomainError:
                accepted = False
            _db.session.flush()  # the database CHECKs see every accepted change
            assert accepted == ok, (name, index, amount, expected)
            event(f"{name} {'accepted' if ok else 'refused'}")
            if ok:
                expected.update(after)
            assert count(AuditEvent) == audit_before + (1 if changed else 0)

            stored = [line_row(item) for item in lines]
            assert stored == model
            for row in stored:
                assert ZERO <= row["paid"] <= row["committed"] <= row["approved"]
                assert row["planned"] >= ZERO
                assert (
                    row["increase_requested"] is None or row["increase_requested"] > row["approved"]
                )
            summary = totals(lines)
            for key in ("planned", "approved", "committed", "paid"):
                assert _cents(getattr(summary, key)) == sum(_cents(row[key]) for row in model)
            assert summary.available == summary.approved - summary.committed >= ZERO
            assert ZERO <= summary.paid <= summary.committed <= summary.approved
    finally:
        _db.session.rollback()
