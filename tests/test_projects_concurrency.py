"""Two people on the same project at once: exactly one wins, the other is told the state now.

Each thread is one web request: its own application context, hence its own database session and
connection, and its own commit. A barrier releases the threads together, after each has loaded
what its page showed. Runs on SQLite (writers take turns, waiting on the busy timeout) and on
PostgreSQL (row locks; DATABASE_URL=postgresql://...). The last tests go through the web pages:
a step or a form sent twice answers the second click as the first, never with a second record.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

# app.admin first: importing app.households before it is a circular import (app/admin/settings.py).
import app.admin  # noqa: F401
from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.errors import DomainError
from app.extensions import db as _db
from app.idempotency import Submission
from app.notifications.models import Notification
from app.projects import operations
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.workflow import StaleState
from tests import factories
from tests.concurrency import count, only_domain_errors, race
from tests.conftest import csrf_token_from
from tests.worlds import log_in

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def events(project_id: int, *actions: str) -> list[str]:
    return list(
        _db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "project",
                AuditEvent.object_id == project_id,
                AuditEvent.action.in_(actions),
            )
        )
    )


@pytest.fixture
def people(db: object) -> dict[str, int]:
    hub = factories.organization(is_hub=True)
    made = {
        "operator": factories.user("entity_operator", hub),
        "colleague": factories.user("entity_operator", hub),
        "coordinator": factories.user("coordinator"),
        "coordinator_colleague": factories.user("coordinator"),
    }
    household = factories.household(hub, members=2)
    _db.session.commit()
    return {"household": household.id, **{name: user.id for name, user in made.items()}}


def project_in(people: dict[str, int], status: str, planned: str = "1000.00") -> int:
    """A project with one goal and one line, walked to `status` by the real steps."""
    from app.households.models import Household

    household = _db.session.get(Household, people["household"])
    operator = _db.session.get(User, people["operator"])
    coordinator = _db.session.get(User, people["coordinator"])
    project = operations.create(household, household.members[0], {"title": "Percorso"}, operator)
    operations.add_goal(project, "Un lavoro stabile", None, operator)
    operations.add_line(
        project,
        {"category": "training", "description": "Corso", "planned": Decimal(planned)},
        operator,
    )
    walk = {"submitted": ["submit"], "approved": ["submit", "approve"]}
    walk["active"] = [*walk["approved"], "start"]
    for step in walk.get(status, []):
        actor = coordinator if operations.STEPS[step].by_city else operator
        operations.transition(project, step, actor)
    _db.session.commit()
    return project.id


def load(project_id: int, user_id: int) -> tuple[Project, User]:
    project = _db.session.get(Project, project_id)
    assert project is not None
    project.lines  # noqa: B018 - what the page showed, loaded before the other request acts
    return project, _db.session.get(User, user_id)


# Steps ------------------------------------------------------------------------------------------


@pytest.fixture
def request_context(app: Flask) -> Any:
    with app.test_request_context():
        yield


def test_approve_and_withdraw_at_once_exactly_one_wins(app, people, request_context):
    project_id = project_in(people, "submitted")
    who = [("approve", people["coordinator"]), ("withdraw", people["operator"])]

    outcomes = race(
        app,
        lambda i: load(project_id, who[i][1]),
        lambda i, loaded: operations.transition(loaded[0], who[i][0], loaded[1]) and who[i][0],
    )

    (winner,) = [o.value for o in outcomes if o.won]
    (loser,) = only_domain_errors(outcomes, StaleState)
    target = operations.STEPS[winner].target
    assert loser.current_status == target
    label = "approvato" if winner == "approve" else "bozza"
    assert f"Il progetto è «{label}»" in loser.message
    project = _db.session.get(Project, project_id)
    assert project.status == target
    assert events(project_id, "project_approve", "project_withdraw") == [f"project_{winner}"]
    line = project.lines[0]
    assert line.approved == (Decimal("1000.00") if winner == "approve" else Decimal("0.00"))


def test_two_coordinators_approving_at_once_make_one_approval(app, people, request_context):
    project_id = project_in(people, "submitted")
    deciders = [people["coordinator"], people["coordinator_colleague"]]

    outcomes = race(
        app,
        lambda i: load(project_id, deciders[i]),
        lambda i, loaded: operations.transition(loaded[0], "approve", loaded[1]).approved_by_id,
    )

    (winner,) = [o.value for o in outcomes if o.won]
    (loser,) = only_domain_errors(outcomes, StaleState)
    assert loser.current_status == "approved"
    assert "Il progetto è «approvato»: ora non si può approvare." in loser.message
    project = _db.session.get(Project, project_id)
    assert (project.status, project.approved_by_id) == ("approved", winner)
    assert events(project_id, "project_approve") == ["project_approve"]
    # The entity is told once, not once per click.
    assert count(Notification, Notification.kind == "project_approve") == 2  # its two operators


def test_closing_while_the_city_decides_an_increase_never_both(app, people, request_context):
    project_id = project_in(people, "active")
    line_id = _db.session.get(Project, project_id).lines[0].id
    operations.request_increase(
        _db.session.get(BudgetLine, line_id),
        Decimal("1500.00"),
        _db.session.get(User, people["operator"]),
    )
    _db.session.commit()

    def act(i: int, loaded: tuple[Project, User]) -> str:
        project, actor = loaded
        if i == 0:
            operations.transition(project, "close", actor, note="Percorso concluso")
            return "close"
        operations.decide_increase(project.lines[0], True, actor)
        return "approve"

    who = [people["operator"], people["coordinator"]]
    outcomes = race(app, lambda i: load(project_id, who[i]), act)

    winners = [o.value for o in outcomes if o.won]
    errors = [o.error for o in outcomes if o.error is not None]
    assert all(isinstance(e, DomainError) for e in errors), errors
    project = _db.session.get(Project, project_id)
    line = _db.session.get(BudgetLine, line_id)
    assert line.increase_requested is None
    if winners == ["close"]:  # the increase lapsed with the project, and was not approved
        assert line.approved == Decimal("1000.00")
        (close,) = _db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "project_close")
        )
        assert close.changes["increases_dropped"] == {str(line_id): "1500.00"}
    else:  # approved first; the project then closes with nothing left to drop
        assert line.approved == Decimal("1500.00")
        if "close" in winners:
            (close,) = _db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "project_close")
            )
            assert "increases_dropped" not in close.changes
    assert project.status == ("closed" if "close" in winners else "active")


# Budget decisions -------------------------------------------------------------------------------


@pytest.mark.parametrize("decisions", [(True, True), (True, False)], ids=["twice", "yes-and-no"])
def test_one_increase_decided_twice_at_once_is_decided_once(
    app, people, request_context, decisions
):
    project_id = project_in(people, "approved")
    line_id = _db.session.get(Project, project_id).lines[0].id
    operations.request_increase(
        _db.session.get(BudgetLine, line_id),
        Decimal("1500.00"),
        _db.session.get(User, people["operator"]),
    )
    _db.session.commit()
    deciders = [people["coordinator"], people["coordinator_colleague"]]

    def act(i: int, loaded: tuple[Project, User]) -> bool:
        project, coordinator = loaded
        operations.decide_increase(project.lines[0], decisions[i], coordinator)
        return decisions[i]

    outcomes = race(app, lambda i: load(project_id, deciders[i]), act)

    (approved,) = [o.value for o in outcomes if o.won]
    (loser,) = only_domain_errors(outcomes, StaleState)
    assert "Non c'è nessun aumento da decidere su questa voce" in loser.message
    line = _db.session.get(BudgetLine, line_id)
    assert line.increase_requested is None
    assert line.approved == (Decimal("1500.00") if approved else Decimal("1000.00"))
    decided = events(project_id, "budget_increase_approved", "budget_increase_rejected")
    assert decided == ["budget_increase_approved" if approved else "budget_increase_rejected"]


def test_a_decision_on_a_request_changed_meanwhile_is_refused(app, people, request_context):
    project_id = project_in(people, "approved")
    line = _db.session.get(Project, project_id).lines[0]
    operator = _db.session.get(User, people["operator"])
    operations.request_increase(line, Decimal("1500.00"), operator)
    _db.session.commit()
    operations.request_increase(line, Decimal("9000.00"), operator)  # after the City's page loaded
    _db.session.commit()

    with pytest.raises(StaleState, match="ora chiede"):
        operations.decide_increase(
            line, True, _db.session.get(User, people["coordinator"]), seen=Decimal("1500.00")
        )
    _db.session.rollback()
    line = _db.session.get(BudgetLine, line.id)
    assert (line.approved, line.increase_requested) == (Decimal("1000.00"), Decimal("9000.00"))


# Spending on one line ---------------------------------------------------------------------------


def test_two_colleagues_saving_the_same_line_never_break_its_limits(app, people, request_context):
    """One lowers the commitment to 100 while the other records a payment of 500 on the 800 he
    saw committed: together they would pay more than is committed."""
    project_id = project_in(people, "active")
    line = _db.session.get(Project, project_id).lines[0]
    operations.update_line(
        line,
        {"committed": Decimal("800.00"), "paid": Decimal("0.00")},
        _db.session.get(User, people["operator"]),
    )
    _db.session.commit()
    seen = (Decimal("800.00"), Decimal("0.00"))
    wanted = [(Decimal("100.00"), Decimal("0.00")), (Decimal("800.00"), Decimal("500.00"))]
    who = [people["operator"], people["colleague"]]

    def act(i: int, loaded: tuple[Project, User]) -> tuple[Decimal, Decimal]:
        project, actor = loaded
        committed, paid = wanted[i]
        values = {"committed": committed, "paid": paid, "seen": seen}
        operations.update_line(project.lines[0], values, actor)
        return wanted[i]

    outcomes = race(app, lambda i: load(project_id, who[i]), act)

    (winner,) = [o.value for o in outcomes if o.won]
    (loser,) = only_domain_errors(outcomes, StaleState)
    assert "Nel frattempo un collega ha aggiornato la voce" in loser.message
    line = _db.session.get(BudgetLine, line.id)
    assert (line.committed, line.paid) == winner
    assert count(AuditEvent, AuditEvent.action == "budget_line_updated") == 2  # setup + winner


def test_a_line_removed_twice_at_once_is_removed_once(app, people, request_context):
    project_id = project_in(people, "draft")
    line_id = _db.session.get(Project, project_id).lines[0].id
    who = [people["operator"], people["colleague"]]

    def act(i: int, loaded: tuple[Project, User]) -> None:
        project, actor = loaded
        operations.remove_line(project.lines[0], actor)

    outcomes = race(app, lambda i: load(project_id, who[i]), act)

    (loser,) = only_domain_errors(outcomes, StaleState)  # not a 500 for the second click
    assert "è stata eliminata" in loser.message
    assert count(BudgetLine, BudgetLine.id == line_id) == 0
    assert count(AuditEvent, AuditEvent.action == "budget_line_removed") == 1


def test_submitting_while_a_colleague_removes_the_last_line_never_sends_an_empty_budget(
    app, people, request_context
):
    project_id = project_in(people, "draft")
    who = [people["operator"], people["colleague"]]

    def act(i: int, loaded: tuple[Project, User]) -> str:
        project, actor = loaded
        if i == 0:
            operations.transition(project, "submit", actor)
            return "submit"
        operations.remove_line(project.lines[0], actor)
        return "remove"

    outcomes = race(app, lambda i: load(project_id, who[i]), act)

    (winner,) = [o.value for o in outcomes if o.won]
    (loser,) = [o.error for o in outcomes if o.error is not None]
    assert isinstance(loser, DomainError), loser
    project = _db.session.get(Project, project_id)
    if winner == "submit":
        assert "non si eliminano" in loser.message
        assert (project.status, len(project.lines)) == ("submitted", 1)
    else:
        assert "Aggiungi almeno una voce di budget" in loser.message
        assert (project.status, len(project.lines)) == ("draft", 0)


# Through the pages ------------------------------------------------------------------------------


def browser(app: Flask, user_id: int) -> Any:
    """A logged-in browser of its own for `user_id`."""
    return log_in(app.test_client(), _db.session.get(User, user_id))


def token_of(client: Any) -> str:
    return csrf_token_from(client.get("/account").get_data(as_text=True))


SOME_KEY = "the-same-key-twice-0123456789"


def hidden_key(html: str, name: str, default: str | None = None) -> str:
    """The value of the form's hidden field `name` (`default` if the form has none)."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    if tag is None and default is not None:
        return default
    assert tag, f"no field {name} in the form"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    assert value, f"no value for {name}"
    return value.group(1)


def test_a_second_coordinator_approving_is_told_the_state_with_409(app, people):
    project_id = project_in(people, "submitted")
    first, second = (
        browser(app, people["coordinator"]),
        browser(app, people["coordinator_colleague"]),
    )
    page = second.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "Approva il progetto e il budget" in page

    assert (
        first.post(
            f"/projects/{project_id}/approve", data={"csrf_token": token_of(first)}
        ).status_code
        == 303
    )
    late = second.post(f"/projects/{project_id}/approve", data={"csrf_token": token_of(second)})

    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Il progetto è «approvato»: ora non si può approvare." in html
    assert "Approva il progetto e il budget" not in html  # the page as it is now
    assert events(project_id, "project_approve") == ["project_approve"]
    htmx = second.post(
        f"/projects/{project_id}/withdraw", data={"csrf_token": token_of(second)}, headers=HTMX
    )
    assert htmx.status_code == 409
    assert "<html" not in htmx.get_data(as_text=True)


def test_a_double_click_on_a_step_answers_both_clicks_as_done(app, people):
    project_id = project_in(people, "submitted")
    city = browser(app, people["coordinator"])
    token = token_of(city)

    first = city.post(f"/projects/{project_id}/approve", data={"csrf_token": token})
    second = city.post(f"/projects/{project_id}/approve", data={"csrf_token": token})

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["Location"] == second.headers["Location"]
    html = city.get(second.headers["Location"]).get_data(as_text=True)
    assert "Progetto e budget approvati." in html
    assert "non si può approvare" not in html
    assert events(project_id, "project_approve") == ["project_approve"]


def test_the_new_project_form_sent_twice_makes_one_project(app, people):
    operator = browser(app, people["operator"])
    path = f"/projects/new?household={people['household']}"
    html = operator.get(path).get_data(as_text=True)
    person = re.search(r'<option[^>]*value="(\d+)"', html.split('name="person"', 1)[1]).group(1)
    data = {
        "csrf_token": csrf_token_from(html),
        "idempotency_key": hidden_key(html, "idempotency_key", SOME_KEY),
        "person": person,
        "title": "Percorso verso il lavoro",
    }

    first = operator.post(path, data=data)
    second = operator.post(path, data=data)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Project) == 1
    assert count(AuditEvent, AuditEvent.action == "project_created") == 1
    assert "Progetto creato come bozza" in operator.get(second.headers["Location"]).get_data(
        as_text=True
    )
    # A new blank form is a new submission.
    again = operator.get(path).get_data(as_text=True)
    assert hidden_key(again, "idempotency_key") != data["idempotency_key"]


@pytest.mark.parametrize("what", ["goal", "meeting"])
def test_a_goal_or_meeting_sent_twice_is_recorded_once(app, people, what):
    project_id = project_in(people, "draft")
    operator = browser(app, people["operator"])
    html = operator.get(f"/projects/{project_id}").get_data(as_text=True)
    fields = {
        "goal": {"goal-description": "Patente B", "goal-target_on": ""},
        "meeting": {"meeting-held_on": today().isoformat(), "meeting-notes": "Colloquio"},
    }[what]
    data = {
        "csrf_token": csrf_token_from(html),
        f"{what}-idempotency_key": hidden_key(html, f"{what}-idempotency_key", SOME_KEY),
        **fields,
    }
    path = f"/projects/{project_id}/{what}s"

    first = operator.post(path, data=data)
    second = operator.post(path, data=data)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["Location"] == second.headers["Location"]
    model = ProjectGoal if what == "goal" else ProjectMeeting
    assert count(model) == (2 if what == "goal" else 1)  # the goal of project_in, and this one
    assert count(AuditEvent, AuditEvent.action == f"project_{what}_added") == (
        2 if what == "goal" else 1
    )


def test_a_budget_line_sent_twice_at_once_makes_one_line_and_the_same_answer(app, people):
    project_id = project_in(people, "draft")
    # The same person in two tabs (two sessions), pressing the button of the same form at once.
    clients = [browser(app, people["operator"]) for _ in range(2)]
    html = clients[0].get(f"/projects/{project_id}").get_data(as_text=True)
    key = hidden_key(html, "line-idempotency_key", SOME_KEY)
    tokens = [token_of(c) for c in clients]
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def press(i: int) -> None:
        barrier.wait(timeout=30)
        with app.app_context():  # the test client's own bookkeeping wants one
            answers[i] = clients[i].post(
                f"/projects/{project_id}/lines",
                data={
                    "csrf_token": tokens[i],
                    "line-idempotency_key": key,
                    "line-category": "transport",
                    "line-description": "Abbonamento GTT",
                    "line-planned": "310,00",
                },
                headers=HTMX,
            )

    threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    _db.session.expire_all()

    assert [a.status_code for a in answers] == [200, 200]
    lines = list(
        _db.session.scalars(select(BudgetLine).where(BudgetLine.description == "Abbonamento GTT"))
    )
    assert len(lines) == 1
    for answer in answers:
        fragment = answer.get_data(as_text=True)
        assert "Voce di budget aggiunta." in fragment
        assert f'id="line-{lines[0].id}" class="row-saved"' in fragment
    assert count(AuditEvent, AuditEvent.action == "budget_line_added") == 2  # project_in's + one
    assert count(Submission, Submission.key == key) == 1


def test_a_line_editor_opened_before_a_colleagues_save_is_refused_with_409(app, people):
    project_id = project_in(people, "active")
    line_id = _db.session.get(Project, project_id).lines[0].id
    me, colleague = browser(app, people["operator"]), browser(app, people["colleague"])
    editor = me.get(f"/projects/{project_id}/lines/{line_id}/edit", headers=HTMX).get_data(
        as_text=True
    )
    seen = {
        f"line-{line_id}-seen_committed": hidden_key(editor, f"line-{line_id}-seen_committed"),
        f"line-{line_id}-seen_paid": hidden_key(editor, f"line-{line_id}-seen_paid"),
    }

    def save(client: Any, committed: str, paid: str, shown: dict[str, str]) -> Any:
        return client.post(
            f"/projects/{project_id}/lines/{line_id}",
            data={
                "csrf_token": token_of(client),
                f"line-{line_id}-committed": committed,
                f"line-{line_id}-paid": paid,
                **shown,
            },
            headers=HTMX,
        )

    assert save(colleague, "800,00", "300,00", seen).status_code == 200
    late = save(me, "900,00", "0", seen)

    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Nel frattempo un collega ha aggiornato la voce" in html
    assert 'value="900,00"' in html  # what I typed is kept
    line = _db.session.get(BudgetLine, line_id)
    assert (line.committed, line.paid) == (Decimal("800.00"), Decimal("300.00"))
    # Having seen the new amounts, the same form now saves.
    refreshed = {
        f"line-{line_id}-seen_committed": hidden_key(html, f"line-{line_id}-seen_committed"),
        f"line-{line_id}-seen_paid": hidden_key(html, f"line-{line_id}-seen_paid"),
    }
    assert save(me, "900,00", "300,00", refreshed).status_code == 200
    _db.session.expire_all()
    assert _db.session.get(BudgetLine, line_id).committed == Decimal("900.00")
