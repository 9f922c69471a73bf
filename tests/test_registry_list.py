"""The registry list: active search, combined filters, pagination in the URL, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from app.clock import today
from app.extensions import db as _db
from tests import factories

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def network(db):
    """Three organizations with distinct services, languages and districts."""
    barriera = factories.organization(name="Cooperativa Barriera Lavoro", circoscrizione=6)
    factories.accreditation(barriera)
    factories.service(
        barriera, name="Orientamento giovani", service_type="orientation", languages=["it", "ar"]
    )
    crocetta = factories.organization(name="Associazione Crocetta Formazione", circoscrizione=1)
    factories.accreditation(crocetta, status="suspended", status_reason="polizza scaduta")
    factories.service(
        crocetta, name="Corso di italiano", service_type="italian_language", languages=["it", "fr"]
    )
    vallette = factories.organization(name="Fondazione Vallette", circoscrizione=5)
    factories.accreditation(vallette, expires_on=today() - timedelta(days=1))
    factories.service(
        vallette, name="Tirocini in azienda", service_type="traineeship", languages=["it", "ar"]
    )
    _db.session.commit()
    return barriera, crocetta, vallette


def names_in(body: str, *names: str) -> list[str]:
    return [name for name in names if name in body]


ALL = ("Cooperativa Barriera Lavoro", "Associazione Crocetta Formazione", "Fondazione Vallette")


def test_active_search_answers_a_fragment_with_the_matching_entities(client, login_as, network):
    login_as("entity_operator")
    response = client.get("/entities/?q=barriera", headers=HTMX)
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert names_in(body, *ALL) == ["Cooperativa Barriera Lavoro"]
    page = client.get("/entities/?q=barriera").get_data(as_text=True)
    assert "<html" in page
    assert names_in(page, *ALL) == ["Cooperativa Barriera Lavoro"]


def test_search_also_finds_an_entity_by_its_services(client, login_as, network):
    login_as("coordinator")
    body = client.get("/entities/?q=tirocini", headers=HTMX).get_data(as_text=True)
    assert names_in(body, *ALL) == ["Fondazione Vallette"]


def test_filters_combine(client, login_as, network):
    login_as("coordinator")
    body = client.get("/entities/?lingua=ar", headers=HTMX).get_data(as_text=True)
    assert names_in(body, *ALL) == ["Cooperativa Barriera Lavoro", "Fondazione Vallette"]
    body = client.get("/entities/?lingua=ar&circ=5", headers=HTMX).get_data(as_text=True)
    assert names_in(body, *ALL) == ["Fondazione Vallette"]
    body = client.get("/entities/?tipo=italian_language&circ=5", headers=HTMX).get_data(
        as_text=True
    )
    assert names_in(body, *ALL) == []


def test_status_filter_uses_the_expiry_date_even_before_the_nightly_job(client, login_as, network):
    login_as("coordinator")
    active = client.get("/entities/?stato=active", headers=HTMX).get_data(as_text=True)
    assert names_in(active, *ALL) == ["Cooperativa Barriera Lavoro"]
    expired = client.get("/entities/?stato=expired", headers=HTMX).get_data(as_text=True)
    assert names_in(expired, *ALL) == ["Fondazione Vallette"]
    suspended = client.get("/entities/?stato=suspended", headers=HTMX).get_data(as_text=True)
    assert names_in(suspended, *ALL) == ["Associazione Crocetta Formazione"]


def test_sort_by_district(client, login_as, network):
    login_as("coordinator")
    body = client.get("/entities/?ordina=circoscrizione", headers=HTMX).get_data(as_text=True)
    positions = [body.index(name) for name in ALL]
    # districts 6, 1, 5 -> Crocetta (1), Vallette (5), Barriera (6)
    assert positions[1] < positions[2] < positions[0]


def test_pagination_keeps_the_filters_in_the_links(client, login_as, db):
    for n in range(25):
        org = factories.organization(name=f"Ente Lingotto {n:02d}", circoscrizione=8)
        factories.service(org, languages=["it", "ro"])
    _db.session.commit()
    login_as("coordinator")
    body = client.get("/entities/?circ=8&lingua=ro").get_data(as_text=True)
    assert "25 enti trovati" in body
    assert "/entities/?circ=8&amp;lingua=ro&amp;pagina=2" in body
    second = client.get("/entities/?circ=8&lingua=ro&pagina=2").get_data(as_text=True)
    assert "Ente Lingotto 24" in second
    assert "Ente Lingotto 00" not in second


def test_malformed_filters_are_ignored_not_errors(client, login_as, network):
    login_as("coordinator")
    response = client.get("/entities/?circ=99&stato=boh&pagina=-3&ordina=x")
    assert response.status_code == 200
    assert names_in(response.get_data(as_text=True), *ALL) == list(ALL)


def test_inactive_entities_are_hidden_from_operators_but_not_from_the_city(client, login_as, db):
    factories.organization(name="Ente Chiuso", active=False)
    _db.session.commit()
    login_as("entity_operator")
    assert "Ente Chiuso" not in client.get("/entities/").get_data(as_text=True)


def test_coordinator_sees_inactive_entities(client, login_as, db):
    factories.organization(name="Ente Chiuso", active=False)
    _db.session.commit()
    login_as("coordinator")
    assert "Ente Chiuso" in client.get("/entities/").get_data(as_text=True)


def test_csv_export_opens_in_an_italian_spreadsheet(client, login_as, network):
    login_as("entity_operator")
    response = client.get("/entities/export.csv?lingua=ar")
    assert response.mimetype == "text/csv"
    raw = response.get_data(as_text=True)
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Denominazione"
    assert sorted(row[0] for row in rows[1:]) == [
        "Cooperativa Barriera Lavoro",
        "Fondazione Vallette",
    ]
    vallette = next(row for row in rows if row[0] == "Fondazione Vallette")
    assert vallette[8] == "scaduto"
    assert vallette[10] == (today() - timedelta(days=1)).strftime("%d/%m/%Y")


def test_admin_reads_the_registry_but_changes_nothing(client, login_as, network):
    barriera = network[0]
    login_as("admin")
    assert client.get("/entities/").status_code == 200
    detail = client.get(f"/entities/{barriera.id}").get_data(as_text=True)
    assert "Cooperativa Barriera Lavoro" in detail
    assert f"/entities/{barriera.id}/edit" not in detail
    assert client.get(f"/entities/{barriera.id}/edit").status_code == 403
