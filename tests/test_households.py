"""Households: intake, duplicate checks, the visibility rule, privacy records, audited views."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.clock import today
from app.extensions import db as _db
from app.households.consents import consent_in_force
from app.households.models import Consent, Household, JointCareRequest, Person
from tests import factories
from tests.conftest import csrf_token_from

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def post(client, path, data, headers=None):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, headers=headers or {})


def member(index=0, **overrides):
    birth = overrides.pop("birth", date(1998, 4, 12))
    sex = overrides.pop("sex", "F")
    data = {
        "first_name": "Amina",
        "last_name": "Benali",
        "codice_fiscale": overrides.pop("cf", None) or factories.codice_fiscale(birth, sex),
        "birth_date": birth.isoformat(),
        "sex": sex,
        "relation": "reference" if index == 0 else "child",
        "employment_status": "unemployed",
        "education": "upper_secondary",
        "languages": ["it", "ar"],
    }
    data.update(overrides)
    return {f"members-{index}-{k}": v for k, v in data.items()}


def intake(**overrides):
    data = {
        "address": "Via Cigna 12",
        "circoscrizione": "6",
        "isee_value": "4500,00",
        "isee_expires_on": (today() + timedelta(days=100)).isoformat(),
        "housing_situation": "rented",
        "needs": ["food", "work"],
        "notes": "Prima accoglienza allo snodo.",
        "privacy_notice_given": "y",
        "privacy_notice_on": today().isoformat(),
    }
    data.update(member(0))
    data.update(overrides)
    return data


def count(model):
    return _db.session.scalar(select(func.count()).select_from(model))


def test_operator_takes_a_household_in_charge(client, login_as, db):
    org = factories.organization(is_hub=True)
    operator = login_as("entity_operator", org=org)
    data = intake(**member(1, first_name="Youssef", birth=date(2012, 9, 3), sex="M"))
    response = post(client, "/households/new", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    household = _db.session.scalar(select(Household))
    assert household.organization_id == org.id
    assert household.case_worker_id == operator.id
    assert household.privacy_notice_by_id == operator.id
    assert [m.first_name for m in household.members] == ["Amina", "Youssef"]
    assert household.isee_value == 4500
    actions = _db.session.scalars(select(AuditEvent.action)).all()
    assert "household_taken_in_charge" in actions
    assert actions.count("person_created") == 2
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Benali Amina" in detail
    assert "giovane 18-29" in detail


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (member(0, cf="BNLMNA98D52L21"), "ha 16 caratteri: ne hai inseriti 14"),
        (member(0, cf="BNLMNA98D52L219X"), "carattere (di controllo) non corrisponde"),
        (
            member(0, birth=date(1998, 4, 12), cf=factories.codice_fiscale(date(1998, 4, 13), "F")),
            "data di nascita",
        ),
        (member(0, sex="M", cf=factories.codice_fiscale(date(1998, 4, 12), "F")), "sesso indicato"),
        (member(0, birth=today() + timedelta(days=2), cf=""), "non può essere nel futuro"),
        (member(0, first_name=""), "Inserisci il nome."),
        ({"isee_value": "-10"}, "L'importo non può essere negativo."),
        ({"isee_value": "9999999"}, "tra 0 e 100.000"),
        ({"notes": "x" * 1_000_000}, "4000"),
        ({**member(0), "members-0-relation": "child"}, "una e una sola persona di riferimento"),
    ],
)
def test_bad_intake_is_explained_and_nothing_is_saved(client, login_as, db, overrides, message):
    login_as("entity_operator")
    response = post(client, "/households/new", intake(**overrides))
    body = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    assert message in body
    assert 'value="Via Cigna 12"' in body  # what was typed is kept
    assert count(Household) == 0
    assert count(Person) == 0


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("12.500", Decimal("12500.00")),
        ("12.500,00", Decimal("12500.00")),
        ("12500", Decimal("12500.00")),
        ("12,5", Decimal("12.50")),
        ("1.234,56", Decimal("1234.56")),
        ("€ 6.532,40", Decimal("6532.40")),
    ],
)
def test_isee_is_read_as_every_other_amount(client, login_as, db, typed, stored):
    """Issue #17, item 7: "12.500" was stored as 12,50 by a second money parser."""
    login_as("entity_operator")
    response = post(client, "/households/new", intake(isee_value=typed))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert _db.session.scalar(select(Household.isee_value)) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("dodicimila", "Scrivi un importo in euro, per esempio 1.234,56."),
        ("12,505", "Un importo in euro ha al massimo due decimali."),
        ("1,2,3", "Scrivi un importo in euro, per esempio 1.234,56."),
        ("NaN", "Scrivi un importo in euro, per esempio 1.234,56."),
        ("1e5", "Scrivi un importo in euro, per esempio 1.234,56."),
    ],
)
def test_isee_that_is_not_an_amount_is_explained_next_to_the_field(
    client, login_as, db, typed, message
):
    household = factories.household(factories.organization(), isee_value=Decimal("100"))
    _db.session.commit()
    login_as("entity_operator", org=household.organization)
    form = {
        "address": "Via Cigna 12",
        "circoscrizione": "6",
        "isee_value": typed,
        "needs": ["food"],
    }
    response = post(client, f"/households/{household.id}/edit", form, headers=HTMX)
    body = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    field = body[body.index('id="isee_value"') - 400 : body.index('id="isee_value"') + 800]
    assert message in field
    assert f'value="{typed}"' in body
    assert body.count(message) == 1
    _db.session.expire_all()
    assert _db.session.get(Household, household.id).isee_value == Decimal("100.00")


def test_member_rows_are_added_and_removed_keeping_what_was_typed(client, login_as, db):
    login_as("entity_operator")
    data = intake(**member(1, first_name="Youssef"))
    added = post(client, "/households/new/members/add", data, headers=HTMX).get_data(as_text=True)
    assert "<html" not in added
    assert 'value="Amina"' in added
    assert 'value="Youssef"' in added
    assert 'id="members-2-first_name"' in added
    removed = post(client, "/households/new/members/remove/0", data, headers=HTMX).get_data(
        as_text=True
    )
    assert 'value="Amina"' not in removed
    assert 'value="Youssef"' in removed


def test_codice_fiscale_of_own_household_links_to_it(client, login_as, db):
    org = factories.organization()
    existing = factories.household(org)
    login_as("entity_operator", org=org)
    code = existing.members[0].codice_fiscale
    person = existing.members[0]
    data = intake(**member(0, cf=code, birth=person.birth_date, sex=person.sex))
    response = post(client, "/households/new", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "già in carico al tuo ente" in body
    assert f'href="/households/{existing.id}"' in body
    assert count(Household) == 1


def test_codice_fiscale_held_by_another_entity_names_it_and_shows_nothing_else(
    client, login_as, db
):
    theirs = factories.organization(name="Associazione Lontana")
    existing = factories.household(theirs, address="Via Segreta 1")
    person = existing.members[0]
    login_as("entity_operator")
    data = intake(**member(0, cf=person.codice_fiscale, birth=person.birth_date, sex=person.sex))
    body = post(client, "/households/new", data).get_data(as_text=True)
    assert "già seguita da Associazione Lontana" in body
    assert person.first_name not in body.replace('value="Amina"', "")
    assert "Via Segreta" not in body
    response = post(
        client,
        "/households/joint-care",
        {"codice_fiscale": person.codice_fiscale, "message": "La seguiamo allo snodo"},
    )
    assert response.status_code == 303
    joint = _db.session.scalar(select(JointCareRequest))
    assert joint.household_id == existing.id
    assert joint.status == "pending"


def test_similar_person_warns_and_the_dismissal_is_recorded(client, login_as, db):
    org = factories.organization()
    existing = factories.household(org)
    person = existing.members[0]
    login_as("entity_operator", org=org)
    data = intake(
        **member(
            0,
            first_name=person.first_name,
            last_name=person.last_name,
            birth=person.birth_date,
            sex=person.sex,
            cf=factories.codice_fiscale(person.birth_date, person.sex),
        )
    )
    warned = post(client, "/households/new", data)
    assert warned.status_code == 422
    assert "possibili persone già registrate" in warned.get_data(as_text=True)
    assert count(Household) == 1
    saved = post(client, "/households/new", {**data, "confirm_not_duplicate": "y"})
    assert saved.status_code == 303
    event = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "duplicate_warning_dismissed")
    )
    assert event.changes == {"similar_people": [person.id]}


def test_another_entity_cannot_find_or_open_the_household(client, login_as, db):
    ente1 = factories.organization(name="Ente Uno")
    household = factories.household(ente1, members=2)
    person = household.members[0]
    login_as("entity_operator", org=factories.organization(name="Ente Due"))
    for query in (person.last_name, person.codice_fiscale, person.first_name):
        body = client.get(f"/households/?q={query}", headers=HTMX).get_data(as_text=True)
        # The search term comes back in the page's own links (pagination, downloads); the
        # household never does.
        assert household.display_name not in body
        assert f"/households/{household.id}" not in body
        assert "0 nuclei trovati" in body
    assert "0 nuclei trovati" in client.get("/households/?stato=tutti").get_data(as_text=True)
    for path in (
        f"/households/{household.id}",
        f"/households/{household.id}/edit",
        f"/households/{household.id}/members/new",
        f"/households/{household.id}/members/{person.id}",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        f"/households/{household.id}/edit",
        f"/households/{household.id}/close",
        f"/households/{household.id}/consents",
    ):
        assert (
            post(
                client, path, {"on": today().isoformat(), "circoscrizione": "1", "needs": ["food"]}
            ).status_code
            == 404
        )
    assert _db.session.get(Household, household.id).status == "active"
    assert (
        _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "household_viewed"))
        is None
    )


def test_opening_a_household_is_audited_with_who_viewed_it(client, login_as, db):
    household = factories.household()
    coordinator = login_as("coordinator")
    body = client.get(f"/households/{household.id}").get_data(as_text=True)
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "household_viewed"))
    assert event.actor_id == coordinator.id
    assert event.object_id == household.id
    assert "scheda consultata" in body


def test_coordinator_sees_every_household_and_the_owner(client, login_as, db):
    factories.household(factories.organization(name="Ente Uno"))
    factories.household(factories.organization(name="Ente Due"))
    login_as("coordinator")
    body = client.get("/households/").get_data(as_text=True)
    assert "2 nuclei trovati" in body
    assert "Ente Uno" in body
    assert "Ente Due" in body


@pytest.mark.parametrize("role", ["admin", "housing_provider"])
def test_roles_without_households_are_refused(client, login_as, db, role):
    household = factories.household()
    login_as(role)
    assert client.get("/households/").status_code == 403
    assert client.get(f"/households/{household.id}").status_code == 403


def test_a_consent_needs_the_privacy_notice_first_and_can_be_withdrawn(client, login_as, db):
    org = factories.organization()
    household = factories.household(
        org, privacy_notice_on=None, sharing_scope=None, sharing_authorised_on=None
    )
    login_as("entity_operator", org=org)
    values = {
        "consent-purpose": "job_services",
        "consent-recipient": "",
        "consent-given_on": today().isoformat(),
        "consent-expires_on": (today() + timedelta(days=365)).isoformat(),
        "consent-signed_form": "Prot. 2026/123",
    }
    refused = post(client, f"/households/{household.id}/consents", values, headers=HTMX)
    assert refused.status_code == 422
    assert "informativa" in refused.get_data(as_text=True)
    post(client, f"/households/{household.id}/privacy-notice", {"on": today().isoformat()})
    post(client, f"/households/{household.id}/consents", values)
    (consent,) = _db.session.scalars(select(Consent)).all()
    assert consent_in_force(household, "job_services", None)
    post(client, f"/households/{household.id}/consents/{consent.id}/withdraw", {"confirm": "y"})
    assert not consent_in_force(household, "job_services", None)
    actions = set(_db.session.scalars(select(AuditEvent.action)))
    assert {"privacy_notice_recorded", "consent_recorded", "consent_withdrawn"} <= actions


def test_a_closed_household_is_read_only(client, login_as, db):
    org = factories.organization()
    household = factories.household(org)
    login_as("entity_operator", org=org)
    assert (
        post(
            client,
            f"/households/{household.id}/close",
            {"on": today().isoformat(), "reason": "goals_met"},
        ).status_code
        == 303
    )
    assert client.get(f"/households/{household.id}/edit").status_code == 404
    assert "Chiudi la presa in carico" not in client.get(f"/households/{household.id}").get_data(
        as_text=True
    )


def test_edit_member_keeps_the_codice_fiscale_unique(client, login_as, db):
    org = factories.organization()
    household = factories.household(org, members=2)
    first, second = household.members
    login_as("entity_operator", org=org)
    data = {
        k.split("-", 2)[2]: v
        for k, v in member(
            0, cf=first.codice_fiscale, birth=first.birth_date, sex=first.sex
        ).items()
    }
    data["relation"] = "child"
    response = post(client, f"/households/{household.id}/members/{second.id}", data)
    assert response.status_code == 422
    assert "già registrato per un" in response.get_data(as_text=True)


def test_edit_member_refuses_a_second_reference_person_next_to_the_field(client, login_as, db):
    org = factories.organization()
    household = factories.household(org, members=2)
    first, second = household.members
    assert (first.relation, second.relation) == ("reference", "child")
    login_as("entity_operator", org=org)
    data = {
        k.split("-", 2)[2]: v
        for k, v in member(
            1, cf=second.codice_fiscale, birth=second.birth_date, sex=second.sex
        ).items()
    }
    data["relation"] = "reference"
    response = post(client, f"/households/{household.id}/members/{second.id}", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'id="relation-error"[^>]*>([^<]+)<', page)
    assert error is not None, "the message is not next to the relation field"
    assert error.group(1) == "Il nucleo ha già una persona di riferimento."
    _db.session.refresh(second)
    assert second.relation == "child"


def test_adding_a_second_reference_person_is_refused_next_to_the_field(client, login_as, db):
    """The member form of a household that has its reference person: a new member as another
    reference person is refused in Italian next to the relation field, nobody is added, and
    the corrected form can be sent."""
    org = factories.organization()
    household = factories.household(org, members=1)
    login_as("entity_operator", org=org)
    form = client.get(f"/households/{household.id}/members/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="idempotency_key"', form
    )
    assert key is not None
    data = {k.split("-", 2)[2]: v for k, v in member(1, first_name="Omar").items()}
    data["idempotency_key"] = key.group(1)

    response = post(
        client, f"/households/{household.id}/members/new", {**data, "relation": "reference"}
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'id="relation-error"[^>]*>([^<]+)<', page)
    assert error is not None, "the message is not next to the relation field"
    assert error.group(1) == "Il nucleo ha già una persona di riferimento."
    _db.session.expire_all()
    assert [p.relation for p in _db.session.get(Household, household.id).members] == ["reference"]
    corrected = post(client, f"/households/{household.id}/members/new", data)
    assert corrected.status_code == 303
    _db.session.expire_all()
    relations = sorted(p.relation for p in _db.session.get(Household, household.id).members)
    assert relations == ["child", "reference"]


def test_list_fragment_and_page(client, login_as, db):
    org = factories.organization()
    factories.household(org)
    login_as("entity_operator", org=org)
    fragment = client.get("/households/?circ=1", headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True)
    assert fragment.headers["HX-Push-Url"] == "/households/?circ=1"
    assert "<html" in client.get("/households/?circ=1").get_data(as_text=True)
