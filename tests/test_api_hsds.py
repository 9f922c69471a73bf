"""The HSDS 3.0 read API: real answers validated against the Open Referral schemas, filters,
pagination, errors in Italian, and what never appears (inactive organizations, personal data)."""

from __future__ import annotations

import functools
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import event

from app.clock import today
from app.extensions import db as _db
from app.registry.models import Accreditation, Organization, Service, Site
from tests import factories

# Schemas ---------------------------------------------------------------------------------------

HSDS_DIR = Path(__file__).parent / "hsds"
REMOTE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/compiled/"
OPENAPI_URI = "urn:hsds-3.0:openapi.json"
COMPILED = (
    "service",
    "service_list",
    "organization",
    "organization_list",
    "service_at_location",
    "service_at_location_list",
)
# Single-object schemas: the taxonomies (3.0) and the service capacity of 3.1.
SCHEMAS = {
    "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/": (
        "schema",
        ("taxonomy", "taxonomy_term", "metadata"),
    ),
    "https://raw.githubusercontent.com/openreferral/specification/3.1-dev/schema/": (
        "3.1",
        ("service_capacity", "unit"),
    ),
}
CAPACITY_URI = (
    "https://raw.githubusercontent.com/openreferral/specification/3.1-dev/schema/"
    "service_capacity.json"
)

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
LAST_MODIFIED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

# jsonschema checks uuid, email and date itself; date-time and uri need optional packages the
# project does not install, so they are checked here.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return True


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path))


@functools.cache
def _registry() -> Registry:
    resources = [
        (
            REMOTE + f"{name}.json",
            Resource.from_contents(
                json.loads((HSDS_DIR / "compiled" / f"{name}.json").read_text(encoding="utf-8")),
                default_specification=DRAFT202012,
            ),
        )
        for name in COMPILED
    ]
    for base, (folder, names) in SCHEMAS.items():
        for name in names:
            contents = json.loads((HSDS_DIR / folder / f"{name}.json").read_text(encoding="utf-8"))
            resources.append(
                (
                    base + f"{name}.json",
                    Resource.from_contents(contents, default_specification=DRAFT202012),
                )
            )
    openapi = json.loads((HSDS_DIR / "openapi.json").read_text(encoding="utf-8"))
    assert openapi["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    resources.append((OPENAPI_URI, DRAFT202012.create_resource(openapi)))
    return Registry().with_resources(resources)


@functools.cache
def _validator(openapi_path: str) -> Draft202012Validator:
    """The schema of the 200 answer of `openapi_path` in the HSDS openapi.json."""
    pointer = "/".join(
        [
            "#/paths",
            openapi_path.replace("~", "~0").replace("/", "~1"),
            "get/responses/200/content/application~1json/schema",
        ]
    )
    return Draft202012Validator(
        {"$ref": OPENAPI_URI + pointer}, registry=_registry(), format_checker=FORMATS
    )


def errors_against(uri: str, instance: Any) -> list[str]:
    """Errors of `instance` against one schema of the registry (not an openapi answer)."""
    validator = Draft202012Validator({"$ref": uri}, registry=_registry(), format_checker=FORMATS)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def schema_errors(openapi_path: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validator(openapi_path).iter_errors(instance)
    ]


PAGE_FIELDS = {
    "total_items": int,
    "total_pages": int,
    "page_number": int,
    "size": int,
    "first_page": bool,
    "last_page": bool,
    "empty": bool,
    "contents": list,
}


def assert_valid_page(openapi_path: str, body: dict[str, Any]) -> None:
    """The page fields are all there (the Page schema requires none of them) and it validates."""
    for field, kind in PAGE_FIELDS.items():
        assert isinstance(body.get(field), kind), (field, body.get(field))
    assert schema_errors(openapi_path, body) == []


# Registry rows ---------------------------------------------------------------------------------

_seq = itertools.count(1)
LONG_AGO = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


def make_org(**fields: Any) -> Organization:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Cooperativa Prova {n:03d}",
        "description": "Ente del Terzo settore della rete.",
        "tax_code": f"{97000000000 + n:011d}",
    }
    values.update(fields)
    return factories.organization(**values)


def make_accreditation(org: Organization, **fields: Any) -> Accreditation:
    values: dict[str, Any] = {
        "organization": org,
        "regional_number": f"PIE-LAV-{next(_seq):04d}",
        "status": "active",
        "granted_on": date(2023, 1, 15),
        "expires_on": today() + timedelta(days=365),
        "fn_orientation": True,
    }
    values.update(fields)
    accreditation = Accreditation(**values)
    _db.session.add(accreditation)
    _db.session.flush()
    return accreditation


def make_site(org: Organization, **fields: Any) -> Site:
    n = next(_seq)
    values: dict[str, Any] = {
        "organization": org,
        "name": f"Sede {n:03d}",
        "address": f"Via Nizza {n}",
        "postal_code": "10126",
        "circoscrizione": 8,
    }
    values.update(fields)
    site = Site(**values)
    _db.session.add(site)
    _db.session.flush()
    return site


def make_service(org: Organization, **fields: Any) -> Service:
    n = next(_seq)
    values: dict[str, Any] = {
        "organization": org,
        "name": f"Servizio {n:03d}",
        "service_type": "orientation",
        "languages": ["it"],
        "monthly_capacity": 10,
    }
    values.update(fields)
    service = Service(**values)
    _db.session.add(service)
    _db.session.flush()
    return service


def get_json(client: Any, url: str) -> tuple[int, Any]:
    response = client.get(url)
    assert response.mimetype == "application/json", (url, response.mimetype)
    return response.status_code, response.get_json()


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# Access ----------------------------------------------------------------------------------------

ROUTES = [
    "/api/hsds/",
    "/api/hsds/services",
    f"/api/hsds/services/{uuid.uuid4()}",
    "/api/hsds/organizations",
    f"/api/hsds/organizations/{uuid.uuid4()}",
]


# Named ids: the random uuids would differ between pytest-xdist's workers, which must collect
# the same tests.
@pytest.mark.parametrize(
    "url", ROUTES, ids=["root", "services", "a-service", "organizations", "an-organization"]
)
def test_anonymous_gets_401_in_json_not_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert "Location" not in response.headers
    assert "accedi al portale" in response.get_json()["error"]


@pytest.mark.parametrize("role", ["admin", "coordinator", "entity_operator", "housing_provider"])
def test_every_logged_in_role_reads_the_api(client, login_as, role):
    login_as(role)
    org = make_org(name="Cooperativa Letta Da Tutti")
    make_service(org, name="Servizio Letto Da Tutti")
    _db.session.commit()
    status, body = get_json(client, "/api/hsds/services")
    assert status == 200
    assert [item["name"] for item in body["contents"]] == ["Servizio Letto Da Tutti"]


def test_the_api_root_names_the_hsds_version_and_links_the_lists(client, login_as):
    login_as("coordinator")
    status, body = get_json(client, "/api/hsds/")
    assert status == 200
    assert body["version"] == "3.0"
    assert body["services"] == "http://localhost/api/hsds/services"
    assert body["organizations"] == "http://localhost/api/hsds/organizations"
    assert schema_errors("/", body) == []


def test_the_api_is_read_only(client, login_as):
    login_as("coordinator")
    assert client.post("/api/hsds/services").status_code == 405


# Service detail --------------------------------------------------------------------------------


def full_service() -> tuple[Organization, Service, Site, Accreditation]:
    org = make_org(
        name="Cooperativa Sociale Aurora",
        legal_form="coop_a",
        tax_code="97501230015",
        email="info@aurora.example.org",
        website="https://aurora.example.org",
        phone="011 123 4567",
        is_hub=True,
    )
    accreditation = make_accreditation(org, regional_number="PIE-LAV-0421")
    site = make_site(
        org,
        name="Sede di San Salvario",
        address="Via Nizza 10",
        postal_code="10125",
        opening_hours="lun-ven 9-13, mar e gio anche 14-17",
        phone="011 765 4321",
        is_hub=True,
    )
    service = make_service(
        org,
        name="Orientamento al lavoro per giovani",
        service_type="orientation",
        description="Colloqui individuali e di gruppo.",
        languages=["it", "en", "ar"],
        age_min=18,
        age_max=29,
        youth_focus=True,
        neet_focus=True,
        last_verified=date(2025, 3, 14),
    )
    service.sites.append(site)
    _db.session.commit()
    return org, service, site, accreditation


def test_a_service_validates_against_the_hsds_service_schema(client, login_as):
    login_as("coordinator")
    org, service, site, _accreditation = full_service()
    status, body = get_json(client, f"/api/hsds/services/{service.uuid}")
    assert status == 200
    assert schema_errors("/services/{id}", body) == []

    assert body["id"] == service.uuid
    assert body["organization_id"] == org.uuid
    assert body["organization"]["id"] == org.uuid
    assert body["organization"]["legal_status"] == "Cooperativa sociale di tipo A"
    assert body["name"] == "Orientamento al lavoro per giovani"
    assert body["status"] == "active"
    assert body["minimum_age"] == 18
    assert body["maximum_age"] == 29
    assert "18 a 29 anni" in body["eligibility_description"]
    assert "NEET" in body["eligibility_description"]
    assert body["assured_date"] == "2025-03-14"
    assert LAST_MODIFIED.fullmatch(body["last_modified"]), body["last_modified"]
    assert [(lang["code"], lang["name"]) for lang in body["languages"]] == [
        ("it", "italiano"),
        ("en", "inglese"),
        ("ar", "arabo"),
    ]

    [term] = [attribute["taxonomy_term"] for attribute in body["attributes"]]
    assert (term["code"], term["name"], term["language"]) == ("orientation", "Orientamento", "it")

    [at_site] = body["service_at_locations"]
    assert at_site["service_id"] == service.uuid
    assert at_site["location_id"] == site.uuid
    location = at_site["location"]
    assert location["id"] == site.uuid
    assert location["name"] == "Sede di San Salvario"
    assert location["addresses"][0]["address_1"] == "Via Nizza 10"
    assert location["addresses"][0]["postal_code"] == "10125"
    assert location["addresses"][0]["city"] == "Torino"
    assert location["phones"][0]["number"] == "011 765 4321"
    assert [s["description"] for s in location["schedules"]] == [
        "lun-ven 9-13, mar e gio anche 14-17"
    ]
    assert "Circoscrizione 8" in location["description"]


def test_derived_ids_are_stable_between_answers(client, login_as):
    login_as("coordinator")
    _org, service, _site, _accreditation = full_service()
    first = client.get(f"/api/hsds/services/{service.uuid}").get_json()
    second = client.get(f"/api/hsds/services/{service.uuid}").get_json()
    assert first == second
    ids = [lang["id"] for lang in first["languages"]]
    assert len(set(ids)) == 3


def test_a_service_without_optional_data_still_validates(client, login_as):
    login_as("coordinator")
    org = make_org(description=None, tax_code=None, is_job_service=True)
    service = make_service(org, languages=[], description=None)
    service.sites.append(make_site(org, postal_code=None, opening_hours=None))
    _db.session.commit()
    status, body = get_json(client, f"/api/hsds/services/{service.uuid}")
    assert status == 200
    assert schema_errors("/services/{id}", body) == []
    assert body["organization"]["description"] == "Servizio al lavoro"
    assert "addresses" not in body["service_at_locations"][0]["location"]
    assert "Via Nizza" in body["service_at_locations"][0]["location"]["description"]
    assert "eligibility_description" not in body
    assert "assured_date" not in body


def test_the_schemas_catch_a_broken_service(client, login_as):
    """The validation is real: a missing id, a non-uuid id and a bad date-time are caught."""
    login_as("coordinator")
    _org, service, _site, _accreditation = full_service()
    body = client.get(f"/api/hsds/services/{service.uuid}").get_json()
    del body["status"]
    body["languages"][0]["id"] = "42"
    body["last_modified"] = "14/03/2025"
    errors = " | ".join(schema_errors("/services/{id}", body))
    assert "'status' is a required property" in errors
    assert "'42' is not a 'uuid'" in errors
    assert "is not a 'date-time'" in errors


def test_an_unknown_or_malformed_service_id_is_404_json(client, login_as):
    login_as("coordinator")
    for url in (f"/api/hsds/services/{uuid.uuid4()}", "/api/hsds/services/123"):
        status, body = get_json(client, url)
        assert status == 404
        assert body == {"error": "Servizio non trovato."}


# Organization identifiers ----------------------------------------------------------------------


def identifiers(organization: dict[str, Any]) -> dict[str, str]:
    return {
        entry.get("identifier_scheme", entry["identifier_type"]): entry["identifier"]
        for entry in organization.get("organization_identifiers", [])
    }


def test_the_regional_accreditation_and_tax_code_are_organization_identifiers(client, login_as):
    login_as("coordinator")
    org, service, _site, _accreditation = full_service()
    service_body = client.get(f"/api/hsds/services/{service.uuid}").get_json()
    status, org_body = get_json(client, f"/api/hsds/organizations/{org.uuid}")
    assert status == 200
    for organization in (service_body["organization"], org_body):
        assert identifiers(organization) == {
            "IT-PIE-ACCR-LAVORO": "PIE-LAV-0421",
            "IT-CF": "97501230015",
        }
        [accreditation] = [
            entry
            for entry in organization["organization_identifiers"]
            if entry.get("identifier_scheme") == "IT-PIE-ACCR-LAVORO"
        ]
        assert accreditation["identifier_type"] == "Accreditamento regionale servizi al lavoro"
        assert accreditation["organization_id"] == org.uuid


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "pending"},
        {"status": "suspended"},
        {"status": "expired"},
        {"status": "active", "expires_on": today() - timedelta(days=1)},
    ],
    ids=["pending", "suspended", "expired", "active-past-expiry"],
)
def test_an_accreditation_not_in_force_is_no_identifier(client, login_as, fields):
    login_as("coordinator")
    org = make_org(tax_code="97501230015")
    make_accreditation(org, regional_number="PIE-LAV-0999", **fields)
    _db.session.commit()
    body = client.get(f"/api/hsds/organizations/{org.uuid}").get_json()
    assert identifiers(body) == {"IT-CF": "97501230015"}


def test_a_personal_tax_code_never_appears(client, login_as):
    """A 16-character codice fiscale is a person's: personal data stays out of the API."""
    login_as("coordinator")
    org = make_org(tax_code="RSSMRA80A01L219M")
    service = make_service(org)
    _db.session.commit()
    for url in (
        f"/api/hsds/organizations/{org.uuid}",
        f"/api/hsds/services/{service.uuid}",
        "/api/hsds/organizations",
        "/api/hsds/services",
    ):
        assert "RSSMRA80A01L219M" not in client.get(url).get_data(as_text=True)


# Organizations ---------------------------------------------------------------------------------


def test_an_organization_comes_with_its_services_and_sites(client, login_as):
    operator = login_as("entity_operator")
    org, service, site, _accreditation = full_service()
    other = make_service(org, name="Bilancio di competenze", service_type="skills_assessment")
    stranger = make_service(make_org(), name="Servizio di un altro ente")
    _db.session.commit()
    status, body = get_json(client, f"/api/hsds/organizations/{org.uuid}")
    assert status == 200
    assert schema_errors("/organizations/{id}", body) == []
    assert [s["id"] for s in body["services"]] == [other.uuid, service.uuid]
    assert stranger.uuid not in json.dumps(body)
    assert [location["id"] for location in body["locations"]] == [site.uuid]
    assert body["phones"][0]["number"] == "011 123 4567"
    text = json.dumps(body)
    assert operator.full_name not in text
    assert operator.email not in text


def test_the_organization_list_validates_and_is_sorted_by_name(client, login_as):
    login_as("coordinator")
    make_org(name="Consorzio Zeta")
    make_org(name="Associazione Alfa")
    make_org(name="Fondazione Beta")
    _db.session.commit()
    status, body = get_json(client, "/api/hsds/organizations?per_page=2")
    assert status == 200
    assert_valid_page("/organizations", body)
    assert [o["name"] for o in body["contents"]] == ["Associazione Alfa", "Consorzio Zeta"]
    assert (body["total_items"], body["total_pages"], body["size"]) == (3, 2, 2)


def test_organizations_are_searched_by_name_or_description(client, login_as):
    login_as("coordinator")
    make_org(name="Associazione Mirafiori Insieme", description="Doposcuola.")
    make_org(name="Cooperativa Lingotto", description="Sportello lavoro a MIRAFIORI sud.")
    make_org(name="Fondazione Vallette", description="Mensa.")
    _db.session.commit()
    body = client.get("/api/hsds/organizations?search=mirafiori").get_json()
    assert [o["name"] for o in body["contents"]] == [
        "Associazione Mirafiori Insieme",
        "Cooperativa Lingotto",
    ]
    assert body["total_items"] == 2


def test_organizations_modified_after(client, login_as):
    login_as("coordinator")
    make_org(name="Ente Vecchio", updated_at=LONG_AGO)
    make_org(name="Ente Nuovo")
    changed_service = make_org(name="Ente Con Servizio Nuovo", updated_at=LONG_AGO)
    make_service(changed_service)
    _db.session.commit()
    body = client.get("/api/hsds/organizations?modified_after=2024-06-01").get_json()
    assert [o["name"] for o in body["contents"]] == ["Ente Con Servizio Nuovo", "Ente Nuovo"]


def test_an_unknown_organization_is_404_json(client, login_as):
    login_as("coordinator")
    status, body = get_json(client, f"/api/hsds/organizations/{uuid.uuid4()}")
    assert status == 404
    assert body == {"error": "Ente non trovato."}


# Inactive organizations ------------------------------------------------------------------------


def test_an_inactive_organization_and_its_services_do_not_appear(client, login_as):
    login_as("coordinator")
    closed = make_org(name="Ente Chiuso", active=False)
    hidden = make_service(closed, name="Servizio Dell'Ente Chiuso")
    open_org = make_org(name="Ente Aperto")
    make_service(open_org, name="Servizio Dell'Ente Aperto")
    _db.session.commit()

    services = client.get("/api/hsds/services").get_json()
    assert [s["name"] for s in services["contents"]] == ["Servizio Dell'Ente Aperto"]
    assert services["total_items"] == 1
    organizations = client.get("/api/hsds/organizations").get_json()
    assert [o["name"] for o in organizations["contents"]] == ["Ente Aperto"]
    assert organizations["total_items"] == 1
    assert client.get(f"/api/hsds/services/{hidden.uuid}").status_code == 404
    assert client.get(f"/api/hsds/organizations/{closed.uuid}").status_code == 404
    by_org = client.get(f"/api/hsds/services?organization_id={closed.uuid}").get_json()
    assert (by_org["total_items"], by_org["contents"]) == (0, [])


def test_an_inactive_service_of_an_active_organization_says_so(client, login_as):
    login_as("coordinator")
    service = make_service(make_org(), active=False)
    _db.session.commit()
    body = client.get(f"/api/hsds/services/{service.uuid}").get_json()
    assert body["status"] == "inactive"


# Pagination ------------------------------------------------------------------------------------


def test_seven_services_in_pages_of_three(client, login_as):
    login_as("coordinator")
    org = make_org()
    names = [f"Servizio {letter}" for letter in "GFEDCBA"]
    for name in names:
        make_service(org, name=name)
    _db.session.commit()

    pages = {}
    for number in (1, 2, 3, 4):
        status, body = get_json(client, f"/api/hsds/services?per_page=3&page={number}")
        assert status == 200
        assert_valid_page("/services", body)
        pages[number] = body

    expected = {
        # page: (size, first_page, last_page, empty)
        1: (3, True, False, False),
        2: (3, False, False, False),
        3: (1, False, True, False),
        4: (0, False, True, True),
    }
    for number, (size, first, last, empty) in expected.items():
        body = pages[number]
        assert (body["total_items"], body["total_pages"], body["page_number"]) == (7, 3, number)
        assert (body["size"], body["first_page"], body["last_page"], body["empty"]) == (
            size,
            first,
            last,
            empty,
        )
        assert len(body["contents"]) == size
    listed = [s["name"] for number in (1, 2, 3) for s in pages[number]["contents"]]
    assert listed == sorted(names)
    assert pages[4]["contents"] == []


def test_default_page_size_is_fifty(client, login_as):
    login_as("coordinator")
    org = make_org()
    for n in range(51):
        make_service(org, name=f"Servizio {n:02d}")
    _db.session.commit()
    body = client.get("/api/hsds/services").get_json()
    assert (body["size"], body["total_items"], body["total_pages"]) == (50, 51, 2)
    assert client.get("/api/hsds/services?per_page=200").get_json()["size"] == 51


def test_services_with_the_same_name_keep_a_stable_order(client, login_as):
    login_as("coordinator")
    org = make_org()
    twins = [make_service(org, name="Sportello lavoro") for _ in range(3)]
    _db.session.commit()
    listed = [
        client.get(f"/api/hsds/services?per_page=1&page={n}").get_json()["contents"][0]["id"]
        for n in (1, 2, 3)
    ]
    assert listed == [s.uuid for s in sorted(twins, key=lambda s: s.id)]


def test_an_empty_registry_gives_an_empty_first_page(client, login_as):
    login_as("coordinator")
    body = client.get("/api/hsds/services").get_json()
    assert_valid_page("/services", body)
    assert (body["total_items"], body["total_pages"], body["size"]) == (0, 0, 0)
    assert (body["first_page"], body["last_page"], body["empty"]) == (True, True, True)


# Filters ---------------------------------------------------------------------------------------


def test_search_matches_name_or_description_ignoring_case(client, login_as):
    login_as("coordinator")
    org = make_org()
    make_service(org, name="Orientamento Giovani", description="Colloqui.")
    make_service(org, name="Sportello", description="Aiuto a scrivere il CURRICULUM.")
    make_service(org, name="Corso di italiano", description=None)
    _db.session.commit()

    def names(query: str) -> list[str]:
        body = client.get(f"/api/hsds/services?{query}").get_json()
        assert body["total_items"] == len(body["contents"])
        return [s["name"] for s in body["contents"]]

    assert names("search=orientamento") == ["Orientamento Giovani"]
    assert names("search=Curriculum") == ["Sportello"]
    assert names("search=o") == ["Corso di italiano", "Orientamento Giovani", "Sportello"]
    assert names("search=%25") == []  # a literal %, not a wildcard
    assert names("search=nessuno") == []


def test_services_of_one_organization(client, login_as):
    login_as("coordinator")
    mine = make_org()
    theirs = make_org()
    make_service(mine, name="Servizio A")
    make_service(theirs, name="Servizio B")
    make_service(mine, name="Servizio C")
    _db.session.commit()
    body = client.get(f"/api/hsds/services?organization_id={mine.uuid}").get_json()
    assert [s["name"] for s in body["contents"]] == ["Servizio A", "Servizio C"]
    assert {s["organization"]["id"] for s in body["contents"]} == {mine.uuid}
    assert body["total_items"] == 2
    nobody = client.get(f"/api/hsds/services?organization_id={uuid.uuid4()}").get_json()
    assert nobody["total_items"] == 0


def test_services_modified_after(client, login_as):
    login_as("coordinator")
    org = make_org(updated_at=LONG_AGO)
    make_service(org, name="Servizio Vecchio", updated_at=LONG_AGO)
    make_service(
        org, name="Servizio Di Fine Maggio", updated_at=datetime(2024, 5, 31, 23, 0, tzinfo=UTC)
    )
    moved = make_service(org, name="Servizio Con Sede Nuova", updated_at=LONG_AGO)
    moved.sites.append(make_site(org))
    _db.session.commit()

    def names(value: str) -> list[str]:
        response = client.get("/api/hsds/services", query_string={"modified_after": value})
        assert response.status_code == 200, response.get_json()
        return [s["name"] for s in response.get_json()["contents"]]

    # A date is midnight in Turin: 2024-06-01 00:00 CEST is 2024-05-31 22:00 UTC.
    assert names("2024-06-01") == ["Servizio Con Sede Nuova", "Servizio Di Fine Maggio"]
    assert names("2024-06-01T00:00:00Z") == ["Servizio Con Sede Nuova"]
    assert names("2024-05-31T23:00:00+00:00") == [
        "Servizio Con Sede Nuova",
        "Servizio Di Fine Maggio",
    ]
    assert len(names("2024-01-01")) == 3
    assert names((datetime.now(UTC) + timedelta(days=1)).isoformat()) == []


def test_last_modified_counts_the_sites_of_the_service(client, login_as):
    login_as("coordinator")
    org = make_org(updated_at=LONG_AGO)
    service = make_service(org, updated_at=LONG_AGO)
    service.sites.append(make_site(org, updated_at=datetime(2025, 2, 3, 4, 5, 6, 789000, UTC)))
    _db.session.commit()
    body = client.get(f"/api/hsds/services/{service.uuid}").get_json()
    assert body["last_modified"] == "2025-02-03T04:05:06.789Z"


BAD_PARAMETERS = [
    ("page=0", "page"),
    ("page=-2", "page"),
    ("page=due", "page"),
    ("per_page=0", "per_page"),
    ("per_page=201", "per_page"),
    ("per_page=1.5", "per_page"),
    ("per_page=1_0", "per_page"),
    ("modified_after=31/05/2024", "modified_after"),
    ("modified_after=ieri", "modified_after"),
    ("modified_after=9999-12-31T23:59:59-05:00", "modified_after"),
    ("organization_id=ente-1", "organization_id"),
    ("search=" + "x" * 201, "search"),
]


@pytest.mark.parametrize(("query", "name"), BAD_PARAMETERS, ids=[q[:30] for q, _ in BAD_PARAMETERS])
def test_bad_parameters_are_a_400_in_italian(client, login_as, query, name):
    login_as("coordinator")
    status, body = get_json(client, f"/api/hsds/services?{query}")
    assert status == 400
    assert f"Il parametro {name} " in body["error"]


@pytest.mark.parametrize("query", ["page=0", "per_page=500", "modified_after=domani"])
def test_bad_parameters_of_the_organization_list(client, login_as, query):
    login_as("coordinator")
    status, body = get_json(client, f"/api/hsds/organizations?{query}")
    assert status == 400
    assert body["error"].startswith("Il parametro ")


# Queries ---------------------------------------------------------------------------------------


def _query_count(client: Any, url: str) -> int:
    with counted_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_lists_and_details_do_not_query_once_per_row(client, login_as):
    login_as("coordinator")

    def add_services(count: int) -> Organization:
        org = make_org()
        make_accreditation(org)
        for _ in range(count):
            service = make_service(org, languages=["it", "fr"])
            service.sites.extend([make_site(org), make_site(org)])
        _db.session.commit()
        return org

    def counts(org: Organization) -> list[int]:
        urls = (
            "/api/hsds/services",
            "/api/hsds/organizations",
            f"/api/hsds/organizations/{org.uuid}",
        )
        return [_query_count(client, url) for url in urls]

    few = counts(add_services(2))
    big = add_services(8)
    for _ in range(3):
        add_services(1)
    assert counts(big) == few


def test_api_errors_outside_the_views_are_json_too(client, login_as):
    login_as("coordinator")
    for response in (client.post("/api/hsds/services"), client.get("/api/hsds/nothing-here")):
        assert response.mimetype == "application/json"
        assert "error" in response.json


# HSDS operations and parameters beyond the first version (issue #24) --------------------------


def test_a_service_publishes_its_places_left_this_month_the_hsds_31_way(app, client, login_as):
    from tests.worlds import make_referral

    login_as("coordinator")
    org = make_org()
    full = make_service(org, name="Sportello pieno", monthly_capacity=5)
    household = factories.household(factories.organization())
    _db.session.flush()
    make_referral(household, full, "accepted")
    make_referral(household, full, "in_progress", need="training")
    make_referral(household, full, "completed", days_ago=45)  # a place of an earlier month
    _db.session.commit()
    status, body = get_json(client, f"/api/hsds/services/{full.uuid}")
    assert status == 200
    assert schema_errors("/services/{id}", body) == []  # still a valid 3.0 service
    (capacity,) = body["capacities"]
    assert errors_against(CAPACITY_URI, capacity) == []
    assert (capacity["available"], capacity["maximum"]) == (3, 5)
    assert capacity["unit"]["name"] == "posti al mese"
    assert capacity["service_id"] == full.uuid
    assert "3 liberi su 5" in capacity["description"]
    # The capacity is the same in the fully nested list.
    listed = client.get("/api/hsds/services?full=true").get_json()
    (item,) = listed["contents"]
    assert item["capacities"][0]["available"] == 3
    assert schema_errors("/services/{id}", item) == []


def test_the_places_published_count_the_referrals_in_flight_too(app, client, login_as):
    """Issue #24: a referral submitted or approved holds its place while the City and the
    entity answer; a waiting one holds none (it waits for one)."""
    from tests.worlds import make_referral

    login_as("entity_operator")
    org = make_org()
    service = make_service(org, name="Sportello quasi pieno", monthly_capacity=4)
    household = factories.household(factories.organization())
    _db.session.flush()
    make_referral(household, service, "accepted")
    make_referral(household, service, "submitted", need="training")
    make_referral(household, service, "approved", need="traineeship")
    make_referral(household, service, "rejected", need="digital_skills")
    _db.session.commit()
    status, body = get_json(client, f"/api/hsds/services/{service.uuid}")
    assert status == 200
    (capacity,) = body["capacities"]
    assert errors_against(CAPACITY_URI, capacity) == []
    assert (capacity["available"], capacity["maximum"]) == (1, 4)
    make_referral(household, service, "approved", need="italian_language")
    make_referral(household, service, "waiting", need="self_employment")
    _db.session.commit()
    (capacity,) = get_json(client, f"/api/hsds/services/{service.uuid}")[1]["capacities"]
    assert (capacity["available"], capacity["maximum"]) == (0, 4)
    assert errors_against(CAPACITY_URI, capacity) == []


def test_the_service_types_are_a_taxonomy_and_services_filter_by_its_terms(client, login_as):
    login_as("entity_operator")
    org = make_org()
    make_service(org, name="Orientamento", service_type="orientation")
    make_service(org, name="Tirocinio", service_type="traineeship")
    _db.session.commit()
    status, taxonomies = get_json(client, "/api/hsds/taxonomies")
    assert status == 200
    assert_valid_page("/taxonomies", taxonomies)
    (taxonomy,) = taxonomies["contents"]
    assert (
        schema_errors(
            "/taxonomies/{id}", get_json(client, f"/api/hsds/taxonomies/{taxonomy['id']}")[1]
        )
        == []
    )
    _status, terms = get_json(client, f"/api/hsds/taxonomy_terms?taxonomy_id={taxonomy['id']}")
    assert_valid_page("/taxonomy_terms", terms)
    by_code = {term["code"]: term for term in terms["contents"]}
    assert {"orientation", "traineeship"} <= set(by_code)
    assert all(term["taxonomy_id"] == taxonomy["id"] for term in by_code.values())
    status, term = get_json(client, f"/api/hsds/taxonomy_terms/{by_code['traineeship']['id']}")
    assert status == 200
    assert schema_errors("/taxonomy_terms/{id}", term) == []
    assert term["taxonomy_detail"]["id"] == taxonomy["id"]

    def names(query: str) -> list[str]:
        return [s["name"] for s in client.get(f"/api/hsds/services?{query}").get_json()["contents"]]

    assert names(f"taxonomy_term_id={by_code['traineeship']['id']}") == ["Tirocinio"]
    assert names(f"taxonomy_id={taxonomy['id']}") == ["Orientamento", "Tirocinio"]
    assert names(f"taxonomy_id={uuid.uuid4()}") == []
    assert names(f"taxonomy_term_id={uuid.uuid4()}") == []
    bad = client.get("/api/hsds/services?taxonomy_term_id=tirocinio")
    assert bad.status_code == 400
    assert "taxonomy_term_id" in bad.get_json()["error"]
    elsewhere = client.get(f"/api/hsds/taxonomy_terms?taxonomy_id={uuid.uuid4()}").get_json()
    assert elsewhere["total_items"] == 0
    assert client.get(f"/api/hsds/taxonomy_terms/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/api/hsds/taxonomies/{uuid.uuid4()}").status_code == 404


def test_each_service_at_each_of_its_sites_is_listed_and_found_by_its_id(client, login_as):
    login_as("coordinator")
    org = make_org()
    north = factories.site(org, name="Sede Nord", postal_code="10151")
    south = factories.site(org, name="Sede Sud", postal_code="10127")
    service = make_service(org, name="Sportello lavoro")
    service.sites.extend([north, south])
    _db.session.commit()
    status, body = get_json(client, "/api/hsds/service_at_locations")
    assert status == 200
    assert_valid_page("/service_at_locations", body)
    assert [(i["service"]["name"], i["location"]["name"]) for i in body["contents"]] == [
        ("Sportello lavoro", "Sede Nord"),
        ("Sportello lavoro", "Sede Sud"),
    ]
    only_south = client.get("/api/hsds/service_at_locations?postcode=10127").get_json()
    assert [i["location"]["name"] for i in only_south["contents"]] == ["Sede Sud"]
    link = body["contents"][1]
    status, detail = get_json(client, f"/api/hsds/service_at_locations/{link['id']}")
    assert status == 200
    schema = (
        "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/compiled/"
        "service_at_location.json"
    )
    assert errors_against(schema, detail) == []
    assert (detail["service"]["id"], detail["location"]["id"]) == (service.uuid, south.uuid)
    assert detail["service"]["capacities"][0]["maximum"] == 10
    assert client.get(f"/api/hsds/service_at_locations/{uuid.uuid4()}").status_code == 404
    # The id is the same in every answer.
    again = client.get("/api/hsds/service_at_locations").get_json()
    assert [i["id"] for i in again["contents"]] == [i["id"] for i in body["contents"]]


def test_ndjson_gives_every_result_and_minimal_only_ids_and_dates(client, login_as):
    login_as("coordinator")
    org = make_org()
    for n in range(7):
        make_service(org, name=f"Servizio {n}")
    _db.session.commit()
    lines = client.get("/api/hsds/services?format=ndjson&per_page=3")
    assert lines.mimetype == "application/x-ndjson"
    rows = [json.loads(line) for line in lines.get_data(as_text=True).splitlines()]
    assert [r["name"] for r in rows] == [f"Servizio {n}" for n in range(7)]  # no pages
    assert all(schema_errors("/services/{id}", r) == [] for r in rows)
    minimal = client.get("/api/hsds/services?minimal=true").get_json()
    assert minimal["total_items"] == 7
    assert all(set(item) == {"id", "last_modified"} for item in minimal["contents"])
    assert all(LAST_MODIFIED.fullmatch(item["last_modified"]) for item in minimal["contents"])
    for query, name in (("format=xml", "format"), ("minimal=forse", "minimal"), ("full=2", "full")):
        answer = client.get(f"/api/hsds/services?{query}")
        assert answer.status_code == 400, query
        assert name in answer.get_json()["error"]
    terms = client.get("/api/hsds/taxonomy_terms?format=ndjson").get_data(as_text=True)
    assert len(terms.splitlines()) == len(
        client.get("/api/hsds/taxonomy_terms?per_page=200").get_json()["contents"]
    )


def test_search_finds_words_written_with_or_without_accents(client, login_as):
    login_as("coordinator")
    org = make_org(name="Società Cooperativa Opportunità")
    make_service(org, name="Opportunità di lavoro", description="Più occasioni.")
    make_service(org, name="Orientamento", description="PERCORSI PER L'AUTONOMIA E LA CITTÀ")
    _db.session.commit()

    def names(path: str) -> list[str]:
        return [s["name"] for s in client.get(path).get_json()["contents"]]

    assert names("/api/hsds/services?search=opportunita") == ["Opportunità di lavoro"]
    assert names("/api/hsds/services?search=OPPORTUNITÀ") == ["Opportunità di lavoro"]
    assert names("/api/hsds/services?search=piu") == ["Opportunità di lavoro"]
    assert names("/api/hsds/services?search=citta") == ["Orientamento"]
    assert names("/api/hsds/organizations?search=societa") == ["Società Cooperativa Opportunità"]
    assert names("/api/hsds/taxonomy_terms?search=orientamento") != []
