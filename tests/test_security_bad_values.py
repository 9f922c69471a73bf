"""Values that used to crash the portal are now refused with a message; refused access is logged."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.registry.models import Service
from tests import factories
from tests.conftest import csrf_token_from


def post(client, path, data):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def test_a_nul_byte_is_refused_with_a_message_and_nothing_saved(client, login_as, db):
    org = factories.organization(name="Ente Pulito")
    login_as("entity_operator", org=org)
    response = post(
        client,
        f"/entities/{org.id}/edit",
        {"name": "Ente\x00Sporco", "legal_form": "coop_a", "tax_code": org.tax_code,
         "address": "Via Roma 1", "circoscrizione": "1"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "caratteri non ammessi" in response.get_data(as_text=True)
    assert _db.session.get(type(org), org.id).name == "Ente Pulito"
    assert client.get("/entities/?q=a\x00b").status_code == 400


def test_a_number_too_big_to_store_is_a_form_error(client, login_as, db):
    org = factories.organization()
    service = factories.service(org, monthly_capacity=5)
    login_as("entity_operator", org=org)
    response = post(
        client,
        f"/entities/{org.id}/services/{service.id}",
        {"name": "Orientamento", "service_type": "orientation", "languages": ["it"],
         "monthly_capacity": "9" * 400, "age_min": "99999999999"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Scrivi un numero intero." in response.get_data(as_text=True)
    assert _db.session.get(Service, service.id).monthly_capacity == 5


def test_an_out_of_range_household_id_at_the_counter_is_not_found(client, login_as, db):
    hub = factories.organization(is_hub=True)
    factories.site(hub, is_hub=True, distribution_days=["mon"])
    login_as("entity_operator", org=hub)
    response = post(
        client,
        "/distributions/",
        {"household_id": str(2**31), "kind": "food_basket", "quantity": "1"},
    )
    assert response.status_code == 404


def test_refused_access_is_an_audit_event(client, login_as, db):
    household = factories.household()
    user = login_as("entity_operator")
    assert client.get(f"/households/{household.id}").status_code == 404
    assert client.get("/admin/").status_code == 403
    events = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access_denied").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.changes["status"], e.changes["path"]) for e in events] == [
        (user.id, 404, f"/households/{household.id}"),
        (user.id, 403, "/admin/"),
    ]


BEYOND_THE_CALENDAR = [("al", "9999-12-31"), ("dal", "0001-01-01"), ("al", "31/12/9999")]


@pytest.mark.parametrize(("name", "value"), BEYOND_THE_CALENDAR)
@pytest.mark.parametrize("path", ["/referrals/", "/referrals/export.csv", "/referrals/export.xlsx"])
def test_referrals_filtered_beyond_the_calendar_are_listed_not_a_crash(
    client, login_as, db, path, name, value
):
    login_as("coordinator")
    response = client.get(f"{path}?{name}={value}")
    assert response.status_code == 200
    response.close()


def test_a_filter_date_outside_2000_2099_is_a_message_not_a_period():
    from app.web.fields import parse_filter_day

    assert parse_filter_day("31/01/2026") == (date(2026, 1, 31), None)
    assert parse_filter_day("2026-01-31") == (date(2026, 1, 31), None)
    assert parse_filter_day("") == (None, None)
    for text in ("0001-01-01", "9999-12-31", "31/12/1999", "01/01/2100"):
        assert parse_filter_day(text) == (None, "Scegli una data tra il 2000 e il 2099."), text
    assert parse_filter_day("2026-02-30")[1] == "Scrivi una data valida, per esempio 31/01/2026."


@pytest.mark.parametrize("role", ["coordinator", "entity_operator", "housing_provider", "admin"])
def test_no_list_fails_on_dates_beyond_the_calendar(app, client, login_as, db, role):
    """Every page without ids in its path, with every date filter the portal reads set to the
    ends of the calendar: never a 500."""
    org = None
    if role in ("entity_operator", "housing_provider"):
        org = factories.organization(is_hub=True, is_job_service=True, is_housing_provider=True)
    login_as(role, org=org)
    hostile = [
        "dal=0001-01-01&al=9999-12-31&mese=9999-12",
        "dal=9999-12-31&al=0001-01-01&mese=0001-01",
        "dal=31/12/9999&al=01/01/0001&mese=2026-13",
    ]
    failures = []
    for rule in app.url_map.iter_rules():
        if (
            rule.arguments
            or "GET" not in rule.methods
            or rule.endpoint in ("static", "auth.logout")
        ):
            continue
        for query in hostile:
            response = client.get(f"{rule.rule}?{query}")
            if response.status_code >= 500:
                failures.append((rule.rule, query, response.status_code))
            response.close()
    assert failures == []


def organization_profile(org, **overrides):
    return {
        "name": org.name,
        "legal_form": "coop_a",
        "tax_code": org.tax_code,
        "runts_section": "d",
        "runts_number": "1234",
        "address": "Via Cigna 10",
        "circoscrizione": str(org.circoscrizione),
        **overrides,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("runts_number", "1234\x01"),
        ("runts_number", "12\x1b[31m34"),
        ("runts_number", "12\u200b34"),  # a zero-width space: looks like 1234
        ("runts_number", "1234\t"),
        ("name", "Ente\x07Sonoro"),
        ("address", "Via Roma\x0b1"),
        ("website", "https://www.ente.example.it/\x1b"),
        ("description", "Servizi\x08 al lavoro"),
    ],
)
def test_control_characters_in_the_organization_profile_are_refused(
    client, login_as, db, field, value
):
    org = factories.organization(name="Ente Pulito")
    login_as("entity_operator", org=org)
    response = post(client, f"/entities/{org.id}/edit", organization_profile(org, **{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Contiene caratteri invisibili o di controllo: riscrivi il valore." in page
    saved = _db.session.get(type(org), org.id)
    assert saved.name == "Ente Pulito"
    assert saved.runts_number != value


def test_line_breaks_in_a_description_are_kept(client, login_as, db):
    org = factories.organization(name="Ente Pulito")
    login_as("entity_operator", org=org)
    response = post(
        client,
        f"/entities/{org.id}/edit",
        organization_profile(org, description="Sportello lavoro\r\n\tmartedì e giovedì"),
    )
    assert response.status_code == 303
    assert "\tmartedì" in _db.session.get(type(org), org.id).description
