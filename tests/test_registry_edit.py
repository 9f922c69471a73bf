"""Who changes what in the registry, with clear messages for bad input, all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.clock import today
from app.extensions import db as _db
from app.notifications.models import Notification
from app.registry.models import Accreditation, Organization, Service, Site
from tests import factories
from tests.conftest import csrf_token_from

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def post(client, path, data, headers=None):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, headers=headers or {})


def profile(org, **overrides):
    data = {
        "name": org.name,
        "legal_form": "coop_a",
        "tax_code": org.tax_code,
        "runts_section": "d",
        "runts_number": "1234",
        "address": "Via Cigna 10",
        "postal_code": "10152",
        "circoscrizione": str(org.circoscrizione),
        "phone": "011 123456",
        "email": "info@ente.example.it",
        "website": "https://www.ente.example.it",
        "description": "Servizi al lavoro",
    }
    data.update(overrides)
    return data


def events(action):
    return _db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_operator_edits_own_profile_and_the_change_is_audited(client, login_as, db):
    org = factories.organization(name="Cooperativa Aurora")
    login_as("entity_operator", org=org)
    response = post(
        client, f"/entities/{org.id}/edit", profile(org, address="Corso Giulio Cesare 5")
    )
    assert response.status_code == 303
    assert _db.session.get(Organization, org.id).address == "Corso Giulio Cesare 5"
    (event,) = events("organization_updated")
    assert event.changes["address"] == [None, "Corso Giulio Cesare 5"]


def test_operator_cannot_reach_another_entitys_edit_urls(client, login_as, db):
    mine = factories.organization()
    theirs = factories.organization(name="Altro Ente")
    service = factories.service(theirs)
    site = factories.site(theirs)
    login_as("entity_operator", org=mine)
    for path in (
        f"/entities/{theirs.id}/edit",
        f"/entities/{theirs.id}/accreditation",
        f"/entities/{theirs.id}/services/new",
        f"/entities/{theirs.id}/services/{service.id}",
        f"/entities/{theirs.id}/sites/new",
        f"/entities/{theirs.id}/sites/{site.id}",
        f"/entities/{mine.id}/services/{service.id}",  # own org in the URL, other's service
    ):
        assert client.get(path).status_code == 404, path
        assert post(client, path, profile(theirs, name="Preso!")).status_code == 404, path
    assert _db.session.get(Organization, theirs.id).name == "Altro Ente"
    assert _db.session.get(Service, service.id).name == service.name
    assert events("organization_updated") == []


def test_operator_cannot_change_the_kinds_of_their_entity(client, login_as, db):
    org = factories.organization(is_hub=False, is_housing_provider=False)
    login_as("entity_operator", org=org)
    post(
        client,
        f"/entities/{org.id}/edit",
        profile(org, is_hub="y", is_housing_provider="y", active=""),
    )
    refreshed = _db.session.get(Organization, org.id)
    assert (refreshed.is_hub, refreshed.is_housing_provider, refreshed.active) == (
        False,
        False,
        True,
    )


@pytest.mark.parametrize(
    ("tax_code", "message"),
    [
        ("1234567", "ne hai inseriti 7"),
        ("10000000018", "L&#39;ultima cifra (di controllo) non corrisponde"),
        ("1000000001A", "contiene solo cifre"),
        ("RSSMRA85T10A562X", "L&#39;ultimo carattere (di controllo) non corrisponde"),
    ],
)
def test_invalid_tax_codes_are_explained(client, login_as, db, tax_code, message):
    login_as("coordinator")
    org = factories.organization()
    _db.session.commit()
    response = post(client, f"/entities/{org.id}/edit", profile(org, tax_code=tax_code))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body.replace("'", "&#39;")
    assert f'value="{tax_code}"' in body


def test_duplicate_tax_code_links_to_the_existing_entity(client, login_as, db):
    existing = factories.organization(name="Ente Esistente")
    login_as("coordinator")
    _db.session.commit()
    data = profile(existing, name="Ente Nuovo", is_job_service="y")
    response = post(client, "/entities/new", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "già registrato" in body
    assert f'href="/entities/{existing.id}"' in body
    assert _db.session.scalar(select(Organization).where(Organization.name == "Ente Nuovo")) is None


def test_html_in_a_name_is_refused_and_shown_escaped(client, login_as, db):
    org = factories.organization(name="Ente Pulito")
    login_as("entity_operator", org=org)
    response = post(
        client, f"/entities/{org.id}/edit", profile(org, name="<script>alert(1)</script>")
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Non usare i caratteri &lt; e &gt;." in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert _db.session.get(Organization, org.id).name == "Ente Pulito"


def test_over_long_name_is_refused(client, login_as, db):
    org = factories.organization()
    login_as("entity_operator", org=org)
    response = post(client, f"/entities/{org.id}/edit", profile(org, name="x" * 201))
    assert response.status_code == 422
    assert "200" in response.get_data(as_text=True)


def test_coordinator_registers_a_new_entity(client, login_as, db):
    login_as("coordinator")
    data = profile(
        factories.organization.__globals__["Organization"](
            circoscrizione=4, tax_code=factories.tax_code()
        ),
        name="Nuova Cooperativa San Donato",
        is_job_service="y",
    )
    response = post(client, "/entities/new", data)
    assert response.status_code == 303
    org = _db.session.scalar(
        select(Organization).where(Organization.name == "Nuova Cooperativa San Donato")
    )
    assert org.is_job_service
    assert org.circoscrizione == 4
    assert events("organization_created")


# Accreditation -----------------------------------------------------------------------------


def accreditation_data(**overrides):
    data = {
        "regional_number": "ACC-LAV-2020-0001",
        "granted_on": "2024-01-15",
        "expires_on": "2027-01-15",
        "fn_information": "y",
        "fn_orientation": "y",
    }
    data.update(overrides)
    return data


def test_accreditation_changed_by_the_entity_goes_back_to_pending(client, login_as, db):
    org = factories.organization()
    factories.accreditation(org, regional_number="ACC-1")
    login_as("entity_operator", org=org)
    response = post(
        client, f"/entities/{org.id}/accreditation", accreditation_data(regional_number="ACC-2")
    )
    assert response.status_code == 303
    acc = _db.session.scalar(select(Accreditation).where(Accreditation.organization_id == org.id))
    assert acc.status == "pending"
    (event,) = events("accreditation_updated")
    assert event.changes["regional_number"] == ["ACC-1", "ACC-2"]
    assert event.changes["status"] == ["active", "pending"]


def test_expiry_must_follow_the_grant(client, login_as, db):
    org = factories.organization()
    login_as("entity_operator", org=org)
    response = post(
        client,
        f"/entities/{org.id}/accreditation",
        accreditation_data(granted_on="2025-05-01", expires_on="2025-04-30"),
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "La scadenza deve essere successiva alla concessione." in body
    assert 'value="2025-04-30"' in body
    assert _db.session.scalar(select(Accreditation)) is None


def test_coordinator_verifies_suspends_and_reactivates(client, login_as, db):
    org = factories.organization()
    factories.accreditation(org, status="pending")
    coordinator = login_as("coordinator")
    assert post(client, f"/entities/{org.id}/accreditation/verify", {}).status_code == 303
    acc = _db.session.scalar(select(Accreditation))
    assert acc.status == "active"
    assert acc.verified_by_id == coordinator.id

    response = post(client, f"/entities/{org.id}/accreditation/suspend", {"reason": ""})
    assert _db.session.scalar(select(Accreditation.status)) == "active"
    assert response.status_code == 303
    post(client, f"/entities/{org.id}/accreditation/suspend", {"reason": "Polizza scaduta"})
    assert _db.session.scalar(select(Accreditation.status)) == "suspended"
    (event,) = events("accreditation_suspend")
    assert event.changes == {"status": ["active", "suspended"], "reason": "Polizza scaduta"}
    post(client, f"/entities/{org.id}/accreditation/reactivate", {})
    assert _db.session.scalar(select(Accreditation.status)) == "active"


def test_illegal_transition_is_refused_with_a_clear_message(client, login_as, db):
    org = factories.organization()
    factories.accreditation(org, status="active")
    login_as("coordinator")
    response = post(client, f"/entities/{org.id}/accreditation/verify", {})
    assert response.status_code == 409
    assert "questa azione non è possibile" in response.get_data(as_text=True)
    htmx = post(client, f"/entities/{org.id}/accreditation/reactivate", {}, headers=HTMX)
    assert htmx.status_code == 409
    assert htmx.headers["HX-Retarget"] == "#messages"
    assert _db.session.scalar(select(Accreditation.status)) == "active"


def test_only_coordinators_verify(client, login_as, db):
    org = factories.organization()
    factories.accreditation(org, status="pending")
    login_as("entity_operator", org=org)
    assert post(client, f"/entities/{org.id}/accreditation/verify", {}).status_code == 403
    assert _db.session.scalar(select(Accreditation.status)) == "pending"


# Services ----------------------------------------------------------------------------------


def service_data(**overrides):
    data = {
        "name": "Orientamento al lavoro",
        "service_type": "orientation",
        "description": "Colloqui individuali",
        "languages": ["it", "ar"],
        "age_min": "18",
        "age_max": "29",
        "youth_focus": "y",
        "monthly_capacity": "8",
        "active": "y",
    }
    data.update(overrides)
    return data


def test_inline_service_edit_returns_the_updated_row(client, login_as, db):
    org = factories.organization()
    service = factories.service(
        org, name="Vecchio nome", last_verified=today() - timedelta(days=300)
    )
    login_as("entity_operator", org=org)
    form_row = client.get(f"/entities/{org.id}/services/{service.id}", headers=HTMX).get_data(
        as_text=True
    )
    assert "<html" not in form_row
    assert form_row.lstrip().startswith("<tr")
    assert 'value="Vecchio nome"' in form_row

    response = post(
        client,
        f"/entities/{org.id}/services/{service.id}",
        service_data(name="Nuovo nome"),
        headers=HTMX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith("<tr")
    assert "Nuovo nome" in body
    saved = _db.session.get(Service, service.id)
    assert saved.languages == ["it", "ar"]
    assert saved.last_verified == today()
    (event,) = events("service_updated")
    assert event.changes["name"] == ["Vecchio nome", "Nuovo nome"]


def test_negative_capacity_keeps_the_inline_form_with_the_message(client, login_as, db):
    org = factories.organization()
    service = factories.service(org, monthly_capacity=5)
    login_as("entity_operator", org=org)
    response = post(
        client,
        f"/entities/{org.id}/services/{service.id}",
        service_data(monthly_capacity="-3"),
        headers=HTMX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith("<tr")
    assert "Un numero intero, zero o più." in body
    assert 'value="-3"' in body
    assert _db.session.get(Service, service.id).monthly_capacity == 5


def test_new_service_offered_at_own_sites_only(client, login_as, db):
    org = factories.organization()
    own_site = factories.site(org)
    other_site = factories.site(factories.organization())
    login_as("entity_operator", org=org)
    bad = post(client, f"/entities/{org.id}/services/new", service_data(sites=[str(other_site.id)]))
    assert bad.status_code == 422
    ok = post(client, f"/entities/{org.id}/services/new", service_data(sites=[str(own_site.id)]))
    assert ok.status_code == 303
    created = _db.session.scalar(select(Service).where(Service.organization_id == org.id))
    assert [s.id for s in created.sites] == [own_site.id]


def test_stale_services_are_shown_to_their_owner_who_can_confirm_them(client, login_as, db):
    org = factories.organization()
    stale = factories.service(
        org, name="Bilancio competenze", last_verified=today() - timedelta(days=200)
    )
    login_as("entity_operator", org=org)
    home = client.get("/").get_data(as_text=True)
    assert "Servizi da riverificare" in home
    assert "Bilancio competenze" in home
    assert "da riverificare" in client.get(f"/entities/{org.id}").get_data(as_text=True)
    response = post(client, f"/entities/{org.id}/services/{stale.id}/confirm", {}, headers=HTMX)
    assert response.status_code == 200
    assert "da riverificare" not in response.get_data(as_text=True)
    assert _db.session.get(Service, stale.id).last_verified == today()
    assert "Bilancio competenze" not in client.get("/").get_data(as_text=True)


def test_others_do_not_see_staleness_warnings(client, login_as, db):
    org = factories.organization()
    factories.service(org, last_verified=today() - timedelta(days=200))
    login_as("entity_operator")
    assert "da riverificare" not in client.get(f"/entities/{org.id}").get_data(as_text=True)


# Sites -------------------------------------------------------------------------------------


def test_a_hub_site_needs_its_distribution_days(client, login_as, db):
    org = factories.organization(is_hub=True)
    login_as("entity_operator", org=org)
    data = {
        "name": "Snodo Barriera",
        "address": "Via Cigna 1",
        "circoscrizione": "6",
        "is_hub": "y",
    }
    response = post(client, f"/entities/{org.id}/sites/new", data)
    assert response.status_code == 422
    assert "almeno un giorno di distribuzione" in response.get_data(as_text=True)
    response = post(
        client, f"/entities/{org.id}/sites/new", {**data, "distribution_days": ["tue", "fri"]}
    )
    assert response.status_code == 303
    site = _db.session.scalar(select(Site).where(Site.organization_id == org.id))
    assert site.distribution_days == ["tue", "fri"]
    detail = client.get(f"/entities/{org.id}").get_data(as_text=True)
    assert "martedì, venerdì" in detail


def test_entity_identity_change_goes_back_to_the_citys_check(client, login_as, db):
    org = factories.organization(name="Cooperativa Aurora")
    factories.accreditation(org)
    coordinator = factories.user(role="coordinator")
    login_as("entity_operator", org=org)
    new_tax_code = factories.tax_code()
    response = post(
        client,
        f"/entities/{org.id}/edit",
        profile(org, name="Cooperativa Aurora Nuova", tax_code=new_tax_code),
    )
    assert response.status_code == 303
    org = _db.session.get(Organization, org.id)
    assert (org.name, org.tax_code) == ("Cooperativa Aurora Nuova", new_tax_code)
    assert org.accreditation.status == "pending"
    assert "da verificare" in client.get(f"/entities/{org.id}").get_data(as_text=True)
    (event,) = events("accreditation_updated")
    assert event.changes == {"status": ["active", "pending"]}
    (notice,) = _db.session.scalars(
        select(Notification).where(Notification.user_id == coordinator.id)
    ).all()
    assert (notice.kind, notice.object_id) == ("organization_identity_changed", org.id)


def test_entity_contact_change_keeps_the_accreditation(client, login_as, db):
    org = factories.organization(legal_form="coop_a", runts_section="d", runts_number="1234")
    factories.accreditation(org)
    login_as("entity_operator", org=org)
    response = post(client, f"/entities/{org.id}/edit", profile(org, phone="011 999999"))
    assert response.status_code == 303
    assert _db.session.get(Organization, org.id).accreditation.status == "active"
    assert _db.session.scalars(select(Notification)).all() == []


@pytest.mark.parametrize(
    "name", ["Città di Torino - Servizi sociali", "CITTA' DI TORINO", "Il Comune di  Torino"]
)
def test_an_entity_cannot_pass_itself_off_as_the_city(client, login_as, db, name):
    org = factories.organization(name="Cooperativa Aurora")
    login_as("entity_operator", org=org)
    response = post(client, f"/entities/{org.id}/edit", profile(org, name=name))
    assert response.status_code == 422
    assert "non può richiamare la Città di Torino" in response.get_data(as_text=True)
    assert _db.session.get(Organization, org.id).name == "Cooperativa Aurora"


def test_an_entity_cannot_take_the_citys_tax_code(client, login_as, db):
    org = factories.organization()
    login_as("entity_operator", org=org)
    response = post(client, f"/entities/{org.id}/edit", profile(org, tax_code="00514490010"))
    assert response.status_code == 422
    assert "codice fiscale della Città di Torino" in response.get_data(as_text=True)


def test_the_citys_own_edit_of_an_identity_needs_no_second_check(client, login_as, db):
    org = factories.organization()
    factories.accreditation(org)
    login_as("coordinator")
    response = post(client, f"/entities/{org.id}/edit", profile(org, name="Nuovo nome"))
    assert response.status_code == 303
    assert _db.session.get(Organization, org.id).accreditation.status == "active"
