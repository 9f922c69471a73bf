"""The audit log in Italian: real events written by the operations (a household taken in charge
and updated, a placement approved, a budget line's amount, a housing unit) show Italian field
labels, dates dd/mm/yyyy, Europe/Rome times, € amounts and the vocabularies' words, on the page,
in its exports and in the data-subject extract; unknown keys fall back to a readable form."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

# app.admin first: importing app.households before it is a circular import (app/admin/settings.py).
import app.admin  # noqa: F401
from app.audit.format import change_text, field_label, value_text
from app.extensions import db as _db
from app.households import operations as households
from app.housing import operations as housing
from app.projects import operations as projects
from app.projects.models import BudgetLine, Project
from tests import factories

RAW = ("household_id", "isee_value", "housing_situation", "temporary_flat", "480.00", "2027-01-31")


@pytest.fixture
def events(app, db):
    """Events of every kind the issue names, written by the operations themselves."""
    hub = factories.organization(is_hub=True, is_job_service=False)
    operator = factories.user("entity_operator", hub)
    coordinator = factories.user("coordinator")
    provider = factories.organization(is_housing_provider=True, is_job_service=False)
    provider_user = factories.user("housing_provider", provider)
    _db.session.commit()
    with app.test_request_context():
        household = households.take_in_charge(
            hub.id,
            {"address": "Via Nizza 3", "circoscrizione": 8, "housing_situation": "rented"},
            [{"first_name": "Anna", "last_name": "Verdi", "relation": "reference"}],
            operator,
            [],
        )
        households.update_household(
            household,
            {
                "isee_value": Decimal("480.00"),
                "isee_expires_on": date(2027, 1, 31),
                "housing_situation": "eviction_risk",
            },
        )
        unit = housing.create_unit(
            provider.id,
            {
                "name": "Alloggio Via Nizza",
                "kind": "temporary_flat",
                "address": "Via Nizza 1",
                "circoscrizione": 8,
                "capacity": 4,
                "vacancies": 2,
                "target_groups": [],
            },
            provider_user,
        )
        households.record_privacy_notice(household, date(2026, 1, 2), operator)
        for purpose in ("job_services", "housing"):
            households.record_consent(
                household, purpose, None, date(2026, 1, 2), None, "Prot. 1", operator
            )
        placement = housing.propose(household, unit, operator, "Serve un alloggio.")
        housing.transition(placement, "approve", coordinator)
        project = Project(
            household_id=household.id,
            organization_id=hub.id,
            title="Percorso",
            status="active",
        )
        _db.session.add(project)
        _db.session.flush()
        line = BudgetLine(
            project_id=project.id,
            category="training",
            description="Corso",
            planned=Decimal("1000.00"),
            approved=Decimal("1000.00"),
            committed=Decimal("0.00"),
            paid=Decimal("0.00"),
        )
        _db.session.add(line)
        _db.session.flush()
        projects.update_line(line, {"committed": Decimal("480.00")}, operator)
        _db.session.commit()
    return household


def test_the_audit_page_speaks_italian(client, login_as, events):
    login_as("coordinator")

    html = client.get("/audit/").get_data(as_text=True)

    assert "Situazione abitativa" in html
    assert "in affitto" in html  # old value in words too
    assert "a rischio sfratto" in html
    assert "ISEE" in html
    assert "€ 480,00" in html
    assert "31/01/2027" in html
    assert "Nucleo" in html  # household_id of person_created
    assert "approvato, in attesa del gestore" in html  # placement status
    assert "proposto, in attesa della Città" in html
    assert "alloggio temporaneo" in html  # housing_unit_created's kind
    assert "Impegnato" in html
    for raw in RAW:
        assert raw not in html.split("<main", 1)[1], raw


def test_the_audit_exports_speak_italian(client, login_as, events):
    login_as("coordinator")

    text = client.get("/audit/export.csv").data.decode("utf-8-sig")
    changes = [row[8] for row in csv.reader(io.StringIO(text), delimiter=";")][1:]
    workbook = load_workbook(io.BytesIO(client.get("/audit/export.xlsx").data))
    xlsx_changes = [row[8] for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)]

    for cells in (changes, xlsx_changes):
        joined = "\n".join(str(cell or "") for cell in cells)
        assert "Situazione abitativa: in affitto → a rischio sfratto" in joined
        assert "ISEE: — → € 480,00" in joined
        assert "Impegnato: € 0,00 → € 480,00" in joined
        assert "Stato: proposto, in attesa della Città → approvato, in attesa del gestore" in joined
        for raw in RAW:
            assert raw not in joined, raw


def test_the_data_subject_extract_speaks_italian(client, login_as, events):
    login_as("coordinator")  # data-subject rights are the City's
    person = events.members[0]

    response = client.get(f"/households/{events.id}/people/{person.id}/export")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Situazione abitativa: in affitto → a rischio sfratto" in html
    assert "ISEE: — → € 480,00" in html
    assert "31/01/2027" in html
    for raw in RAW:
        assert raw not in html.split("<main", 1)[1], raw


def test_values_of_every_kind_and_unknown_keys_never_crash():
    assert field_label("household_id") == "Nucleo"
    assert field_label("some_new_key") == "Some new key"
    assert field_label("partner_site_id") == "Partner site"
    assert value_text("kind", "temporary_flat", "housing_unit") == "alloggio temporaneo"
    assert value_text("kind", "food_basket") == "paniere alimentare"
    assert value_text("isee_value", "480.00") == "€ 480,00"
    assert value_text("paid", "not a number") == "not a number"
    assert value_text("closed_on", "2026-03-10") == "10/03/2026"
    assert value_text("at", "2026-07-01T10:30:00+00:00") == "01/07/2026 12:30"  # Turin, summer
    assert value_text("at", "2026-13-45") == "2026-13-45"
    assert value_text("active", True) == "sì"
    assert value_text("filters", {"q": "x", "linea": "A"}) == "Ricerca: x; Linea di azione: A"
    assert value_text("whatever", object()) is not None
    assert change_text("status", ["active", "closed"], "household") == "in carico → chiuso"
    # A list of codes recorded as a value is not mistaken for [old, new].
    assert change_text("needs", ["food", "work"]) == "cibo e beni di prima necessità, lavoro"
    assert change_text("needs", [["food"], ["food", "work"]]) == (
        "cibo e beni di prima necessità → cibo e beni di prima necessità, lavoro"
    )


def test_account_requests_and_demo_loads_read_in_italian(app):
    """The four-eyes requests and the demo's own events have their words, not their codes."""
    from app.audit.labels import audit_label

    with app.test_request_context():
        assert value_text("kind", "create", "account_change_request") == "creazione dell'account"
        assert value_text("status", "pending", "account_change_request") == "in attesa di conferma"
        assert audit_label("demo_projects_loaded") == "progetti dimostrativi caricati"
