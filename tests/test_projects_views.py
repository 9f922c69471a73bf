"""Project pages: the list, a new project, the detail with goals, meetings and the life budget
edited inline (totals out of band), the steps, money typed the Italian way, the rules that refuse
(nothing changed), other entities' projects, and the programme's financial progress."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

# app.admin first: importing app.households before it is a circular import (app/admin/settings.py).
import app.admin  # noqa: F401
from app.admin.models import set_setting
from app.audit.models import AuditEvent
from app.clock import today
from app.extensions import db as _db
from app.notifications.models import Notification
from app.projects import operations
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from tests import factories
from tests.conftest import csrf_token_from
from tests.worlds import signed_in

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


# Helpers --------------------------------------------------------------------------------------


def years_ago(years: int) -> date:
    """A birth date: `years` old today."""
    return date(today().year - years, 1, 1)


def household_with_young_member(org):
    """A reference person of 52 and a son of 24 (18-29: young)."""
    household = factories.household(org, members=0)
    factories.person(household, relation="reference", birth_date=years_ago(52), first_name="Rosa")
    factories.person(household, relation="child", birth_date=years_ago(24), first_name="Luca")
    _db.session.refresh(household)
    return household


def token_of(client) -> str:
    return csrf_token_from(client.get("/account").get_data(as_text=True))


def post(client, path, data=None, headers=None):
    return client.post(
        path, data={**(data or {}), "csrf_token": token_of(client)}, headers=headers or {}
    )


def make_project(household, actor, status="draft", lines=(), goals=1, **values):
    """A project as the operations leave it; `lines` are planned amounts (strings)."""
    # A "giovani 18-29" project is for the young member (the flag is checked against age).
    young = [m for m in household.members if m.is_youth(values.get("starts_on") or today())]
    project = operations.create(
        household,
        young[0] if values.get("youth") and young else household.members[0],
        {"title": values.pop("title", "Percorso verso il lavoro"), **values},
        actor,
    )
    for n in range(goals):
        operations.add_goal(project, f"Obiettivo {n + 1}", None, actor)
    for n, planned in enumerate(lines):
        operations.add_line(
            project,
            {"category": "training", "description": f"Voce {n + 1}", "planned": Decimal(planned)},
            actor,
        )
    _db.session.flush()
    if status != "draft":
        coordinator = factories.user(role="coordinator")
        operations.transition(project, "submit", actor)
        if status in ("approved", "active", "closed"):
            operations.transition(project, "approve", coordinator)
        if status in ("active", "closed"):
            operations.transition(project, "start", actor)
        if status == "closed":
            operations.transition(project, "close", actor, note="Percorso concluso")
    _db.session.commit()
    return project


@pytest.fixture
def world(client, login_as, db):
    """ente1's operator logged in, with a household that has a young member."""
    org = factories.organization(is_hub=True, name="Ente Uno")
    household = household_with_young_member(org)
    operator = login_as("entity_operator", org=org)
    return {"org": org, "household": household, "operator": operator}


def audit_actions(project_id: int) -> list[str]:
    return list(
        _db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "project", AuditEvent.object_id == project_id)
            .order_by(AuditEvent.id)
        )
    )


def line_ids(project_id: int) -> list[int]:
    return list(
        _db.session.scalars(
            select(BudgetLine.id).where(BudgetLine.project_id == project_id).order_by(BudgetLine.id)
        )
    )


def totals_footer(html: str) -> str:
    match = re.search(r'<tfoot id="budget-totals">.*?</tfoot>', html, re.S)
    assert match, "no totals footer"
    return re.sub(r"\s+", " ", match.group(0))


def amounts(fragment: str) -> list[str]:
    return re.findall(r"€\xa0?\s?[\d.]+,\d\d", fragment)


# The whole flow -------------------------------------------------------------------------------


def test_operator_drafts_submits_city_approves_and_payments_update_the_totals(app, client, world):
    household = world["household"]
    page = client.get(f"/projects/new?household={household.id}")
    assert page.status_code == 200
    response = post(
        client,
        f"/projects/new?household={household.id}",
        {
            "person": str(household.members[1].id),
            "title": "Patente e tirocinio",
            "summary": "Luca vuole lavorare come magazziniere.",
            "starts_on": today().isoformat(),
            "ends_on": (today() + timedelta(days=180)).isoformat(),
            "youth": "y",
            "case_worker": str(world["operator"].id),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    project = _db.session.scalar(select(Project))
    assert project.youth
    assert project.status == "draft"
    assert project.person.first_name == "Luca"
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    base = f"/projects/{project.id}"

    assert (
        post(client, f"{base}/goals", {"goal-description": "Patente B entro l'estate"}).status_code
        == 303
    )
    for category, description, planned in (
        ("training", "Corso per la patente", "1.234,56"),
        ("transport", "Abbonamento GTT", "310,50"),
        ("tools", "Scarpe antinfortunistiche", "89.99"),
    ):
        added = post(
            client,
            f"{base}/lines",
            {
                "line-category": category,
                "line-description": description,
                "line-planned": planned,
            },
            headers=HTMX,
        )
        assert added.status_code == 200, added.get_data(as_text=True)[:3000]
    html = client.get(base).get_data(as_text=True)
    # 1.234,56 + 310,50 + 89,99 = 1.635,05, to the cent
    assert "€ 1.635,05" in totals_footer(html)

    assert post(client, f"{base}/submit").status_code == 303
    assert _db.session.get(Project, project.id).status == "submitted"

    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    city = signed_in(app, coordinator)
    assert "Approva il progetto e il budget" in city.get(base).get_data(as_text=True)
    assert post(city, f"{base}/approve").status_code == 303
    assert _db.session.get(Project, project.id).status == "approved"

    first, second, _third = line_ids(project.id)
    saved = post(
        client,
        f"{base}/lines/{first}",
        {f"line-{first}-committed": "1.234,56", f"line-{first}-paid": "1.000,00"},
        headers=HTMX,
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)[:3000]
    saved = post(
        client,
        f"{base}/lines/{second}",
        {
            f"line-{second}-committed": "310,50",
            f"line-{second}-committed_on": today().isoformat(),
            f"line-{second}-paid": "155,25",
            f"line-{second}-paid_on": today().isoformat(),
        },
        headers=HTMX,
    )
    assert saved.status_code == 200
    footer = totals_footer(saved.get_data(as_text=True))
    # planned, approved, committed (1.234,56 + 310,50), paid (1.000 + 155,25), available (89,99)
    assert amounts(footer) == [
        "€ 1.635,05",
        "€ 1.635,05",
        "€ 1.545,06",
        "€ 1.155,25",
        "€ 89,99",
    ]
    listing = city.get("/projects/").get_data(as_text=True)
    assert "Patente e tirocinio" in listing
    assert "€ 1.155,25" in listing
    programme = city.get("/projects/programme").get_data(as_text=True)
    line_b = re.search(r'<tr id="action-line-B">.*?</tr>', programme, re.S).group(0)
    assert "€ 1.545,06" in line_b
    assert "€ 1.155,25" in line_b
    # every change is in the audit log, in order (views are there too)
    assert [a for a in audit_actions(project.id) if a != "project_viewed"] == [
        "project_created",
        "project_goal_added",
        "budget_line_added",
        "budget_line_added",
        "budget_line_added",
        "project_submit",
        "project_approve",
        "budget_line_updated",
        "budget_line_updated",
    ]
    assert "project_viewed" in audit_actions(project.id)


# A new project --------------------------------------------------------------------------------


def test_new_project_proposes_the_young_member_with_the_youth_box_ticked(client, world):
    household = world["household"]
    html = client.get(f"/projects/new?household={household.id}").get_data(as_text=True)
    luca = household.members[1]
    assert re.search(
        rf'<option selected value="{luca.id}">|<option value="{luca.id}" selected', html
    )
    assert "giovane 18-29" in html
    assert re.search(r'<input[^>]*checked[^>]*id="youth"|<input[^>]*id="youth"[^>]*checked', html)

    rosa = household.members[0]
    html = client.get(f"/projects/new?household={household.id}&person={rosa.id}").get_data(
        as_text=True
    )
    assert not re.search(r'<input[^>]*id="youth"[^>]*checked', html)


def test_new_project_without_a_title_is_refused_next_to_the_field(client, world):
    household = world["household"]
    response = post(
        client,
        f"/projects/new?household={household.id}",
        {"person": str(household.members[0].id), "title": "", "summary": "Da tenere"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Scrivi il titolo del progetto." in html
    assert "Da tenere" in html
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_another_entitys_household_cannot_get_a_project(client, world):
    other = factories.household(factories.organization())
    _db.session.commit()
    assert client.get(f"/projects/new?household={other.id}").status_code == 404
    response = post(client, f"/projects/new?household={other.id}", {"title": "X"})
    assert response.status_code == 404
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 0


# Money typed the Italian way ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12,345", "Un importo in euro ha al massimo due decimali."),
        ("-5", "L'importo non può essere negativo."),
        ("abc", "Scrivi un importo in euro, per esempio 1.234,56."),
        ("1.2345,00", "Scrivi un importo in euro, per esempio 1.234,56."),
        ("999999999", "L'importo è troppo alto: controlla le cifre."),
        ("", "Indica l'importo previsto."),
    ],
)
def test_bad_amounts_are_refused_with_the_message_and_the_input_kept(client, world, typed, message):
    project = make_project(world["household"], world["operator"], lines=("100.00",))
    response = post(
        client,
        f"/projects/{project.id}/lines",
        {"line-category": "transport", "line-description": "Abbonamento", "line-planned": typed},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in html
    assert message.replace("'", "&#39;") in html
    field = re.search(r'<input[^>]*name="line-planned"[^>]*>', html).group(0)
    assert f'value="{typed}"' in field  # what was typed stays in the field
    assert 'id="line-planned-error"' in html
    assert len(line_ids(project.id)) == 1
    assert audit_actions(project.id).count("budget_line_added") == 1


def test_italian_amount_is_accepted_in_the_inline_editor_and_totals_come_out_of_band(client, world):
    project = make_project(world["household"], world["operator"], lines=("100.00", "50.00"))
    first, _second = line_ids(project.id)
    editor = client.get(f"/projects/{project.id}/lines/{first}/edit", headers=HTMX)
    html = editor.get_data(as_text=True)
    assert editor.status_code == 200
    assert "<html" not in html
    assert 'class="row-editing"' in html
    assert 'value="100,00"' in html  # the planned amount, written the Italian way

    response = post(
        client,
        f"/projects/{project.id}/lines/{first}",
        {
            f"line-{first}-category": "training",
            f"line-{first}-description": "Corso di italiano",
            f"line-{first}-supplier": "CPIA 1 Torino",
            f"line-{first}-planned": "1.234,56",
        },
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith(f'<tr id="line-{first}"')
    assert "Corso di italiano" in html
    assert "€ 1.234,56" in html
    partial = re.search(
        r'<hx-partial hx-target="#budget-totals" hx-swap="outerHTML">(.*?)</hx-partial>', html, re.S
    )
    assert partial, "the totals footer is not sent out of band"
    assert amounts(totals_footer(partial.group(1)))[0] == "€ 1.284,56"  # 1.234,56 + 50,00
    assert _db.session.get(BudgetLine, first).planned == Decimal("1234.56")
    assert "budget_line_updated" in audit_actions(project.id)

    cancel = client.get(f"/projects/{project.id}/lines/{first}/row", headers=HTMX)
    assert cancel.get_data(as_text=True).lstrip().startswith(f'<tr id="line-{first}"')
    assert "row-editing" not in cancel.get_data(as_text=True)


def test_plain_post_of_a_line_falls_back_to_the_detail_page(client, world):
    project = make_project(world["household"], world["operator"], lines=("100.00",))
    (line_id,) = line_ids(project.id)
    page = client.get(f"/projects/{project.id}/lines/{line_id}/edit")
    assert page.status_code == 200
    assert "<html" in page.get_data(as_text=True)
    response = post(
        client,
        f"/projects/{project.id}/lines/{line_id}",
        {
            f"line-{line_id}-category": "training",
            f"line-{line_id}-description": "Corso",
            f"line-{line_id}-planned": "250,00",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/projects/{project.id}#line-{line_id}")
    assert "Voce di budget aggiornata." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert _db.session.get(BudgetLine, line_id).planned == Decimal("250.00")


def test_a_draft_line_is_removed_and_the_totals_follow(client, world):
    project = make_project(world["household"], world["operator"], lines=("100.00", "0.01"))
    first, second = line_ids(project.id)
    response = post(client, f"/projects/{project.id}/lines/{first}/delete", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="line-{first}"' not in html
    assert amounts(totals_footer(html))[0] == "€ 0,01"
    assert line_ids(project.id) == [second]
    assert "budget_line_removed" in audit_actions(project.id)


# Money rules after approval ------------------------------------------------------------------


def spend(client, project, line_id, committed, paid, headers=HTMX):
    return post(
        client,
        f"/projects/{project.id}/lines/{line_id}",
        {f"line-{line_id}-committed": committed, f"line-{line_id}-paid": paid},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("committed", "paid", "message", "field"),
    [
        ("600,00", "0", "supera l&#39;importo approvato", "committed"),
        ("200,00", "200,01", "non può superare l&#39;impegnato", "paid"),
        ("12,345", "0", "al massimo due decimali", "committed"),
        ("-5", "0", "non può essere negativo", "committed"),
        ("abc", "0", "Scrivi un importo in euro", "committed"),
    ],
)
def test_commitments_and_payments_beyond_the_rules_are_refused(
    client, world, committed, paid, message, field
):
    project = make_project(world["household"], world["operator"], "approved", lines=("500.00",))
    (line_id,) = line_ids(project.id)
    response = spend(client, project, line_id, committed, paid)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in html
    assert 'class="row-editing"' in html
    error = re.search(rf'id="line-{line_id}-{field}-error"[^>]*>(.*?)</div>', html, re.S)
    assert error
    assert message in error.group(1)
    assert f'value="{committed}"' in html  # what was typed stays in the field
    line = _db.session.get(BudgetLine, line_id)
    assert (line.committed, line.paid) == (Decimal("0.00"), Decimal("0.00"))
    assert "budget_line_updated" not in audit_actions(project.id)


def test_city_approved_increase_lets_a_bigger_commitment_pass(app, client, world):
    project = make_project(world["household"], world["operator"], "active", lines=("500.00",))
    (line_id,) = line_ids(project.id)
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    assert spend(client, project, line_id, "650,00", "0").status_code == 422

    asked = post(
        client,
        f"/projects/{project.id}/lines/{line_id}/increase",
        {f"increase-{line_id}-amount": "650,00"},
        headers=HTMX,
    )
    assert asked.status_code == 200
    assert "aumento richiesto: € 650,00" in asked.get_data(as_text=True)
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.user_id == coordinator.id,
            Notification.kind == "budget_increase_requested",
            Notification.read_at.is_(None),
        )
    )
    assert _db.session.scalar(unread) == 1
    city = signed_in(app, coordinator)
    detail = city.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "1 richiesta di aumento in attesa della Città." in detail
    assert "Approva l’aumento" in detail
    assert _db.session.scalar(unread) == 0  # opening the project read the notification
    decided = post(city, f"/projects/{project.id}/lines/{line_id}/increase/approve", headers=HTMX)
    html = decided.get_data(as_text=True)
    assert decided.status_code == 200
    assert amounts(totals_footer(html))[1] == "€ 650,00"  # approved total
    pending = re.search(r'hx-target="#pending-increases"[^>]*>(.*?)</hx-partial>', html, re.S)
    assert pending, "the pending-increase notice is not refreshed out of band"
    assert "richiesta di aumento" not in pending.group(1)

    response = spend(client, project, line_id, "650,00", "100,00")
    assert response.status_code == 200
    line = _db.session.get(BudgetLine, line_id)
    assert (line.approved, line.committed, line.paid) == (
        Decimal("650.00"),
        Decimal("650.00"),
        Decimal("100.00"),
    )
    actions = audit_actions(project.id)
    assert "budget_increase_requested" in actions
    assert "budget_increase_approved" in actions


def test_an_increase_the_city_rejects_leaves_the_approved_amount(app, client, world):
    project = make_project(world["household"], world["operator"], "approved", lines=("500.00",))
    (line_id,) = line_ids(project.id)
    post(
        client,
        f"/projects/{project.id}/lines/{line_id}/increase",
        {f"increase-{line_id}-amount": "700"},
    )
    city = signed_in(app, factories.user(role="coordinator"))
    response = post(city, f"/projects/{project.id}/lines/{line_id}/increase/reject")
    assert response.status_code == 303
    line = _db.session.get(BudgetLine, line_id)
    assert (line.approved, line.increase_requested) == (Decimal("500.00"), None)
    assert "budget_increase_rejected" in audit_actions(project.id)


def test_plain_commitment_above_approved_shows_the_line_page_with_the_message(client, world):
    project = make_project(world["household"], world["operator"], "approved", lines=("80.00",))
    (line_id,) = line_ids(project.id)
    response = spend(client, project, line_id, "80,01", "0", headers={})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" in html
    assert "chiedi alla Città di approvare l&#39;aumento" in html
    assert _db.session.get(BudgetLine, line_id).committed == Decimal("0.00")


def test_operator_cannot_decide_an_increase(client, world):
    project = make_project(world["household"], world["operator"], "approved", lines=("500.00",))
    (line_id,) = line_ids(project.id)
    post(
        client,
        f"/projects/{project.id}/lines/{line_id}/increase",
        {f"increase-{line_id}-amount": "700"},
    )
    response = post(client, f"/projects/{project.id}/lines/{line_id}/increase/approve")
    assert response.status_code == 403
    assert _db.session.get(BudgetLine, line_id).approved == Decimal("500.00")


# Closed projects, other entities' projects ----------------------------------------------------


def test_a_closed_project_is_read_only(client, world):
    project = make_project(world["household"], world["operator"], "closed", lines=("500.00",))
    (line_id,) = line_ids(project.id)
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "si può solo consultare" in html
    assert "Percorso concluso" in html  # the closing note
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<form" not in main
    assert f"/lines/{line_id}/edit" not in main

    before = audit_actions(project.id)
    attempts = [
        client.get(f"/projects/{project.id}/lines/{line_id}/edit", headers=HTMX),
        spend(client, project, line_id, "100,00", "0"),
        post(
            client,
            f"/projects/{project.id}/lines",
            {"line-category": "other", "line-description": "X", "line-planned": "1"},
            headers=HTMX,
        ),
        post(
            client,
            f"/projects/{project.id}/lines/{line_id}/increase",
            {f"increase-{line_id}-amount": "900"},
            headers=HTMX,
        ),
        post(client, f"/projects/{project.id}/goals", {"goal-description": "Nuovo"}, headers=HTMX),
        post(
            client,
            f"/projects/{project.id}/meetings",
            {"meeting-held_on": today().isoformat(), "meeting-notes": "X"},
            headers=HTMX,
        ),
    ]
    for response in attempts:
        assert response.status_code == 409
        assert "Il progetto è chiuso: non si può più modificare." in response.get_data(as_text=True)
    # Without htmx: the project's page as it is, with the reason, answered 409.
    plain = spend(client, project, line_id, "100,00", "0", headers={})
    assert plain.status_code == 409
    assert "Il progetto è chiuso" in plain.get_data(as_text=True)
    assert "si può solo consultare" in plain.get_data(as_text=True)
    edit = client.get(f"/projects/{project.id}/edit")
    assert edit.status_code == 409
    line = _db.session.get(BudgetLine, line_id)
    assert line.committed == Decimal("0.00")
    assert line.approved == Decimal("500.00")
    assert _db.session.scalar(select(func.count()).select_from(ProjectGoal)) == 1
    assert _db.session.scalar(select(func.count()).select_from(ProjectMeeting)) == 0
    assert [a for a in audit_actions(project.id) if a != "project_viewed"] == [
        a for a in before if a != "project_viewed"
    ]


def test_another_entitys_project_is_not_there(client, world):
    stranger = factories.user(role="entity_operator")
    theirs = factories.household(stranger.organization)
    project = make_project(theirs, stranger, "submitted", lines=("300.00",))
    (line_id,) = line_ids(project.id)
    paths = [
        ("get", f"/projects/{project.id}"),
        ("get", f"/projects/{project.id}/edit"),
        ("get", f"/projects/{project.id}/lines/{line_id}/edit"),
        ("get", f"/projects/{project.id}/lines/{line_id}/row"),
        ("post", f"/projects/{project.id}/lines/{line_id}"),
        ("post", f"/projects/{project.id}/lines/{line_id}/delete"),
        ("post", f"/projects/{project.id}/withdraw"),
        ("post", f"/projects/{project.id}/goals"),
    ]
    for method, path in paths:
        response = client.get(path) if method == "get" else post(client, path)
        assert response.status_code == 404, (path, response.status_code)
    assert _db.session.get(Project, project.id).status == "submitted"
    listing = client.get("/projects/").get_data(as_text=True)
    assert project.title not in listing
    assert "0 progetti trovati" in listing


def test_a_line_of_another_project_is_not_reachable_through_mine(client, world):
    mine = make_project(world["household"], world["operator"], lines=("10.00",))
    stranger = factories.user(role="entity_operator")
    theirs = make_project(factories.household(stranger.organization), stranger, lines=("20.00",))
    (their_line,) = line_ids(theirs.id)
    assert (
        client.get(f"/projects/{mine.id}/lines/{their_line}/edit", headers=HTMX).status_code == 404
    )
    assert post(client, f"/projects/{mine.id}/lines/{their_line}/delete").status_code == 404
    assert line_ids(theirs.id) == [their_line]


# Steps ----------------------------------------------------------------------------------------


def test_the_city_must_say_why_it_sends_a_project_back(app, client, world):
    project = make_project(world["household"], world["operator"], "submitted", lines=("100.00",))
    city = signed_in(app, factories.user(role="coordinator"))
    refused = post(city, f"/projects/{project.id}/return", {"note": "  "})
    assert refused.status_code == 409
    assert "Scrivi una nota per spiegare la decisione." in refused.get_data(as_text=True)
    assert _db.session.get(Project, project.id).status == "submitted"

    assert (
        post(city, f"/projects/{project.id}/return", {"note": "Manca il preventivo"}).status_code
        == 303
    )
    assert _db.session.get(Project, project.id).status == "draft"
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Manca il preventivo" in html
    assert "project_return" in audit_actions(project.id)


def test_a_project_without_lines_cannot_be_submitted(client, world):
    project = make_project(world["household"], world["operator"])
    response = post(client, f"/projects/{project.id}/submit")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Aggiungi almeno una voce di budget prima di inviare." in page
    assert _db.session.get(Project, project.id).status == "draft"


def test_an_operator_cannot_approve_its_own_project(client, world):
    project = make_project(world["household"], world["operator"], "submitted", lines=("100.00",))
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Approva il progetto e il budget" not in html
    post(client, f"/projects/{project.id}/approve")
    assert _db.session.get(Project, project.id).status == "submitted"
    assert post(client, f"/projects/{project.id}/nonsense").status_code == 404


# Goals and meetings ---------------------------------------------------------------------------


def test_goals_and_meetings_are_recorded_and_a_future_meeting_is_refused(client, world):
    project = make_project(world["household"], world["operator"], "active", lines=("100.00",))
    goal = project.goals[0]
    response = post(
        client, f"/projects/{project.id}/goals/{goal.id}", {f"goal-{goal.id}-status": "achieved"}
    )
    assert response.status_code == 303
    assert _db.session.get(ProjectGoal, goal.id).status == "achieved"

    future = post(
        client,
        f"/projects/{project.id}/meetings",
        {
            "meeting-held_on": (today() + timedelta(days=3)).isoformat(),
            "meeting-notes": "Luca ha superato la teoria.",
        },
    )
    html = future.get_data(as_text=True)
    assert future.status_code == 422
    assert "La data dell&#39;incontro non può essere nel futuro." in html
    assert "Luca ha superato la teoria." in html  # the notes typed are still there
    assert _db.session.scalar(select(func.count()).select_from(ProjectMeeting)) == 0

    done = post(
        client,
        f"/projects/{project.id}/meetings",
        {
            "meeting-held_on": today().isoformat(),
            "meeting-notes": "Luca ha superato la teoria.",
            "meeting-next_steps": "Prenotare la guida.",
        },
    )
    assert done.status_code == 303
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Prenotare la guida." in html
    assert "project_goal_updated" in audit_actions(project.id)
    assert "project_meeting_added" in audit_actions(project.id)


@pytest.mark.parametrize("held_on", ["", " ", "31/02/2026"])
def test_a_meeting_without_a_valid_date_is_refused_next_to_the_field(client, world, held_on):
    project = make_project(world["household"], world["operator"], "active", lines=("100.00",))
    response = post(
        client,
        f"/projects/{project.id}/meetings",
        {"meeting-held_on": held_on, "meeting-notes": "Colloquio con la tutor."},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Inserisci una data valida (gg/mm/aaaa)." in html
    assert "Colloquio con la tutor." in html  # the notes typed are still there
    assert _db.session.scalar(select(func.count()).select_from(ProjectMeeting)) == 0


def test_project_data_are_edited_and_the_change_is_audited(client, world):
    project = make_project(world["household"], world["operator"])
    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert 'value="Percorso verso il lavoro"' in page
    response = post(
        client,
        f"/projects/{project.id}/edit",
        {
            "person": str(project.person_id),
            "title": "Percorso verso il lavoro e la casa",
            "starts_on": "2026-03-01",
            "ends_on": "2026-02-01",
            "case_worker": str(world["operator"].id),
        },
    )
    assert response.status_code == 422
    assert "La data di fine non può precedere quella di inizio." in response.get_data(as_text=True)
    response = post(
        client,
        f"/projects/{project.id}/edit",
        {
            "person": str(project.person_id),
            "title": "Percorso verso il lavoro e la casa",
            "case_worker": str(world["operator"].id),
        },
    )
    assert response.status_code == 303
    assert _db.session.get(Project, project.id).title == "Percorso verso il lavoro e la casa"
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "project_updated"))
    assert event.changes["title"] == [
        "Percorso verso il lavoro",
        "Percorso verso il lavoro e la casa",
    ]


# Audit ----------------------------------------------------------------------------------------


def test_viewing_is_audited_and_reads_the_notifications(app, client, world):
    project = make_project(world["household"], world["operator"], lines=("100.00",))
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    post(client, f"/projects/{project.id}/submit")
    city = signed_in(app, coordinator)
    note = select(Notification).where(Notification.user_id == coordinator.id)
    assert _db.session.scalar(note).kind == "project_submitted"
    city.get(f"/projects/{project.id}")
    assert _db.session.scalar(note).read_at is not None
    viewed = _db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "project_viewed", AuditEvent.object_id == project.id
        )
    ).all()
    assert coordinator.id in {event.actor_id for event in viewed}
    assert audit_actions(project.id)[:4] == [
        "project_created",
        "project_goal_added",
        "budget_line_added",
        "project_submit",
    ]


# List -----------------------------------------------------------------------------------------


def test_list_is_scoped_and_filtered_live(app, client, world):
    household = world["household"]
    household.circoscrizione = 1  # not 8, where the other entity's household is (filter below)
    make_project(
        household,
        world["operator"],
        "active",
        lines=("100.00",),
        title="Patente per Luca",
        youth=True,
    )
    make_project(household, world["operator"], title="Casa per Rosa")
    other_org = factories.organization(name="Ente Due")
    stranger = factories.user(role="entity_operator", organization=other_org)
    far = factories.household(other_org, circoscrizione=8)
    make_project(far, stranger, title="Progetto di un altro ente")

    html = client.get("/projects/").get_data(as_text=True)
    assert "Patente per Luca" in html
    assert "Casa per Rosa" in html
    assert "Progetto di un altro ente" not in html
    assert 'name="ente"' not in html  # the organization filter is the City's

    fragment = client.get("/projects/?giovani=1", headers=HTMX)
    text = fragment.get_data(as_text=True)
    assert "<html" not in text
    assert "Patente per Luca" in text
    assert "Casa per Rosa" not in text
    assert fragment.headers["HX-Push-Url"] == "/projects/?giovani=1"
    text = client.get("/projects/?stato=active", headers=HTMX).get_data(as_text=True)
    assert "Patente per Luca" in text
    assert "Casa per Rosa" not in text

    city = signed_in(app, factories.user(role="coordinator"))
    html = city.get("/projects/").get_data(as_text=True)
    assert "Progetto di un altro ente" in html
    assert 'name="ente"' in html
    text = city.get(f"/projects/?ente={other_org.id}", headers=HTMX).get_data(as_text=True)
    assert "Progetto di un altro ente" in text
    assert "Patente per Luca" not in text
    text = city.get("/projects/?circ=8", headers=HTMX).get_data(as_text=True)
    assert "Progetto di un altro ente" in text
    assert "Patente per Luca" not in text


def test_list_pages_by_25(client, world):
    for n in range(26):
        make_project(world["household"], world["operator"], goals=0, title=f"Progetto {n:02d}")
    first = client.get("/projects/").get_data(as_text=True)
    assert "26 progetti trovati" in first
    assert first.count('href="/projects/') - first.count('href="/projects/?') >= 25
    second = client.get("/projects/?pagina=2", headers=HTMX).get_data(as_text=True)
    assert second.count("<tr>") == 2  # header row and the 26th project


# Programme ------------------------------------------------------------------------------------


def test_programme_shows_the_configured_envelope_and_what_was_paid(app, client, world):
    coordinator = factories.user(role="coordinator")
    set_setting("programme_line_b", "3000000.00")
    _db.session.commit()
    city = signed_in(app, coordinator)
    html = city.get("/projects/programme").get_data(as_text=True)
    assert "€ 5.657.142,86" in html
    assert "€ 5.657.142,36" in html
    line_a = re.search(r'<tr id="action-line-A">.*?</tr>', html, re.S).group(0)
    line_b = re.search(r'<tr id="action-line-B">.*?</tr>', html, re.S).group(0)
    line_c = re.search(r'<tr id="action-line-C">.*?</tr>', html, re.S).group(0)
    assert "€ 250.000,00" in line_a
    assert "non registrato nel portale" in line_a
    assert "€ 3.000.000,00" in line_b
    assert "€ 2.407.142,86" in line_c  # the rest: 5.657.142,86 - 250.000 - 3.000.000

    project = make_project(world["household"], world["operator"], "active", lines=("1234.56",))
    (line_id,) = line_ids(project.id)
    assert spend(client, project, line_id, "1.234,56", "1.000,01").status_code == 200
    html = city.get("/projects/programme").get_data(as_text=True)
    line_b = re.search(r'<tr id="action-line-B">.*?</tr>', html, re.S).group(0)
    assert amounts(line_b) == ["€ 3.000.000,00", "€ 1.234,56", "€ 1.000,01", "€ 2.998.765,44"]
    assert 'aria-valuenow="0"' in line_b  # 0.04 % of the envelope rounds to 0
    assert "della dotazione impegnato" in line_b


def test_programme_is_the_citys_page(client, world):
    assert client.get("/projects/programme").status_code == 403


def test_youth_flag_for_a_person_over_29_is_refused_next_to_the_box(client, world):
    household = world["household"]
    rosa = household.members[0]  # 52 years old
    response = post(
        client,
        f"/projects/new?household={household.id}",
        {
            "person": str(rosa.id),
            "title": "Tirocinio in sartoria",
            "starts_on": today().isoformat(),
            "youth": "y",
            "case_worker": str(world["operator"].id),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    box = html.split('id="youth-field"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "ha 52 anni" in box
    assert "dai 18 ai 29 anni" in box
    assert 'value="Tirocinio in sartoria"' in html
    assert _db.session.scalar(select(func.count(Project.id))) == 0


def test_youth_flag_cannot_be_ticked_later_for_an_adult(client, world):
    household = world["household"]
    rosa = household.members[0]
    created = post(
        client,
        f"/projects/new?household={household.id}",
        {"person": str(rosa.id), "title": "Percorso", "case_worker": str(world["operator"].id)},
    )
    assert created.status_code == 303
    project = _db.session.scalar(select(Project))
    response = post(
        client,
        f"/projects/{project.id}/edit",
        {
            "person": str(rosa.id),
            "title": "Percorso",
            "youth": "y",
            "case_worker": str(world["operator"].id),
        },
    )
    assert response.status_code == 422
    assert "dai 18 ai 29 anni" in response.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(Project, project.id).youth is False
