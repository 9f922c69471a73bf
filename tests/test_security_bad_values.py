"""Values that used to crash the portal are now refused with a message; refused access is logged."""

from __future__ import annotations

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
        select(AuditEvent).where(AuditEvent.action == "access_denied")
    ).all()
    assert [(e.actor_id, e.changes["status"], e.changes["path"]) for e in events] == [
        (user.id, 404, f"/households/{household.id}"),
        (user.id, 403, "/admin/"),
    ]
