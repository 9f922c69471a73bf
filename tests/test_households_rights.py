"""Data-subject rights: a coordinator exports what is held about a person and anonymises a
closed household once the retention period is over."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.admin.models import set_setting
from app.audit.models import AuditEvent
from app.audit.operations import record_views
from app.clock import today
from app.distributions.models import Distribution
from app.extensions import db as _db
from app.households.models import Consent, Household, Person
from app.housing.models import HousingRiskCase, HousingUnit, Placement, WellbeingCheck
from app.notifications.models import Notification
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.referrals.models import Referral, ReferralStatusChange
from app.rights.operations import anonymisable_from
from app.web.formatting import format_date
from tests import factories
from tests.conftest import csrf_token_from


def post(client, path, data=None):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token})


def events(action):
    return _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def distribution(household, site, on, kind="food_basket", quantity=1):
    item = Distribution(
        household_id=household.id,
        site_id=site.id,
        organization_id=site.organization_id,
        distributed_on=on,
        kind=kind,
        quantity=quantity,
    )
    _db.session.add(item)
    _db.session.flush()
    return item


def distributions_of(household_id):
    return _db.session.scalar(
        select(func.count())
        .select_from(Distribution)
        .where(Distribution.household_id == household_id)
    )


@pytest.fixture
def family(db):
    """A family of three taken in charge by a hub, two baskets, and a view by the hub's operator."""
    org = factories.organization(name="Snodo Aurora", is_hub=True)
    household = factories.household(
        org,
        members=3,
        address="Via Cuneo 12",
        isee_value=Decimal("8500.5"),
        isee_expires_on=date(2026, 12, 31),
        notes="Segue corso di italiano",
        housing_situation="rented",
    )
    reference, partner, child = household.members
    site = factories.site(org, name="Snodo di via Cuneo", is_hub=True)
    distribution(household, site, date(2026, 1, 15))
    distribution(household, site, date(2026, 2, 12), kind="basic_necessities", quantity=2)
    viewer = factories.user(role="entity_operator", organization=org, full_name="Giulia Bianchi")
    _db.session.add(
        AuditEvent(
            action="household_viewed",
            object_type="household",
            object_id=household.id,
            actor_id=viewer.id,
            actor_organization_id=org.id,
            created_at=datetime(2026, 2, 3, 9, 30, tzinfo=UTC),
            changes={"viewed_at": "2026-02-03T09:30:00+00:00"},
        )
    )
    _db.session.add(
        AuditEvent(
            action="person_updated",
            object_type="person",
            object_id=reference.id,
            actor_id=viewer.id,
            actor_organization_id=org.id,
            created_at=datetime(2026, 2, 4, 11, 0, tzinfo=UTC),
            changes={"employment_status": ["unemployed", "employed"]},
        )
    )
    _db.session.commit()
    return {
        "org": org,
        "household": household,
        "person": reference,
        "others": [partner, child],
        "site": site,
        "viewer": viewer,
    }


def export_url(household, person, suffix=".json"):
    return f"/households/{household.id}/people/{person.id}/export{suffix}"


# Export ----------------------------------------------------------------------------------------


def test_coordinator_downloads_everything_held_about_the_person(client, login_as, family):
    household, person = family["household"], family["person"]
    coordinator = login_as("coordinator", full_name="Chiara Rossi")

    response = client.get(export_url(household, person))

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="dati-persona-{person.id}.json"'
    )
    data = json.loads(response.get_data(as_text=True))
    assert data["person"]["codice_fiscale"] == person.codice_fiscale
    assert data["person"]["first_name"] == person.first_name
    assert data["person"]["birth_date"] == person.birth_date.isoformat()
    assert data["person"]["relation"] == {"code": "reference", "label": "persona di riferimento"}
    assert data["household"]["address"] == "Via Cuneo 12"
    assert data["household"]["isee_value"] == "8500.50"
    assert data["household"]["notes"] == "Segue corso di italiano"
    assert data["household"]["privacy_notice"]["given_on"] == "2026-01-10"
    assert [(c["purpose"]["code"], c["recipient"], c["given_on"]) for c in data["consents"]] == [
        ("job_services", "tutta la rete", "2026-01-10"),
        ("housing", "tutta la rete", "2026-01-10"),
        ("project", "tutta la rete", "2026-01-10"),
    ]
    assert [
        (d["date"], d["hub"], d["kind"]["code"], d["quantity"]) for d in data["distributions"]
    ] == [
        ("2026-01-15", "Snodo di via Cuneo", "food_basket", 1),
        ("2026-02-12", "Snodo di via Cuneo", "basic_necessities", 2),
    ]
    (viewed,) = [e for e in data["audit_trail"] if e["action"]["code"] == "household_viewed"]
    assert viewed["actor"] == "Giulia Bianchi"
    assert viewed["actor_organization"] == "Snodo Aurora"
    assert viewed["at"] == "2026-02-03T10:30:00+01:00"  # Europe/Rome
    (updated,) = [e for e in data["audit_trail"] if e["action"]["code"] == "person_updated"]
    assert updated["changes"] == {"employment_status": ["unemployed", "employed"]}
    (exported_entry,) = [
        e for e in data["audit_trail"] if e["action"]["code"] == "person_data_exported"
    ]
    assert exported_entry["actor"] == "Chiara Rossi"
    assert exported_entry["actor_organization"] == "Città di Torino"

    (event,) = events("person_data_exported")  # committed: read back from the database
    assert (event.object_type, event.object_id) == ("person", person.id)
    assert event.actor_id == coordinator.id
    assert event.changes["format"] == "json"


def test_export_leaves_out_the_other_members_names_and_codici_fiscali(client, login_as, family):
    household, person, others = family["household"], family["person"], family["others"]
    login_as("coordinator")

    json_body = client.get(export_url(household, person)).get_data(as_text=True)
    page = client.get(export_url(household, person, "")).get_data(as_text=True)

    for body in (json_body, page):
        assert person.codice_fiscale in body
        for other in others:
            assert other.first_name not in body
            assert other.last_name not in body
            assert other.codice_fiscale not in body
    data = json.loads(json_body)
    assert sorted(m["relation"]["code"] for m in data["other_members"]) == ["child", "child"]
    assert all(set(m) == {"relation", "age"} for m in data["other_members"])
    assert all(isinstance(m["age"], int) for m in data["other_members"])


def test_printable_page_is_a_full_italian_page_with_italian_dates(client, login_as, family):
    household, person = family["household"], family["person"]
    login_as("coordinator")

    response = client.get(export_url(household, person, ""))

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert '<html lang="it">' in body
    assert f"Dati personali di {person.first_name} {person.last_name}" in body
    assert person.codice_fiscale in body
    assert person.birth_date.strftime("%d/%m/%Y") in body
    assert "15/01/2026" in body
    assert "€ 8.500,50" in body
    assert "03/02/2026 10:30" in body
    assert "Giulia Bianchi" in body
    assert "scheda consultata" in body
    assert "Lavoro: disoccupato/a → occupato/a" in body
    assert "Snodo di via Cuneo" in body
    assert "paniere alimentare" in body
    assert "style=" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body), "no inline scripts"
    assert 'class="d-print-none' in body  # navigation and buttons stay off paper
    (event,) = events("person_data_exported")
    assert event.changes["format"] == "html"


@pytest.mark.parametrize("role", ["entity_operator", "admin", "housing_provider"])
def test_only_coordinators_exercise_data_rights(client, login_as, family, role):
    household, person = family["household"], family["person"]
    # The operator belongs to the very organization that holds the household: still not theirs.
    login_as(role, org=family["org"] if role == "entity_operator" else None)

    for path in (
        export_url(household, person),
        export_url(household, person, ""),
        f"/households/{household.id}/anonymise",
    ):
        assert client.get(path).status_code == 403, path
    assert post(client, f"/households/{household.id}/anonymise").status_code == 403
    assert events("person_data_exported") == []
    assert _db.session.get(Household, household.id).anonymised_at is None


def test_anonymous_visitors_are_sent_to_the_login(client, family):
    household, person = family["household"], family["person"]
    response = client.get(export_url(household, person))
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


def test_mismatched_or_unknown_ids_answer_404(client, login_as, family):
    household, person = family["household"], family["person"]
    stranger = factories.household(members=1).members[0]
    _db.session.commit()
    login_as("coordinator")

    for suffix in (".json", ""):
        assert client.get(export_url(household, stranger, suffix)).status_code == 404
        assert (
            client.get(f"/households/{household.id}/people/999999/export{suffix}").status_code
            == 404
        )
        assert (
            client.get(f"/households/999999/people/{person.id}/export{suffix}").status_code == 404
        )
    assert client.get("/households/999999/anonymise").status_code == 404
    assert events("person_data_exported") == []


# Anonymisation -------------------------------------------------------------------------------


def closed_family(family, closed_on):
    household = family["household"]
    household.status = "closed"
    household.closed_on = closed_on
    _db.session.commit()
    return household


def snapshot(household_id):
    household = _db.session.get(Household, household_id)
    return (
        household.address,
        household.anonymised_at,
        [(m.first_name, m.last_name, m.codice_fiscale, m.birth_date) for m in household.members],
    )


def test_anonymisation_is_refused_while_the_retention_period_runs(client, login_as, family):
    closed_on = today() - timedelta(days=365)
    household = closed_family(family, closed_on)
    before = snapshot(household.id)
    login_as("coordinator")

    page = client.get(f"/households/{household.id}/anonymise").get_data(as_text=True)
    response = post(client, f"/households/{household.id}/anonymise")

    message = (
        f"Il nucleo è chiuso dal {format_date(closed_on)}: "
        f"si può anonimizzare dal {format_date(anonymisable_from(closed_on, 5))}."
    )
    assert message in page
    assert "Anonimizza definitivamente" not in page
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert snapshot(household.id) == before
    assert events("household_anonymised") == []


def test_an_active_household_cannot_be_anonymised(client, login_as, family):
    household = family["household"]
    before = snapshot(household.id)
    login_as("coordinator")

    response = post(client, f"/households/{household.id}/anonymise")

    assert response.status_code == 409
    assert "ancora in carico" in response.get_data(as_text=True)
    assert snapshot(household.id) == before


def test_anonymisation_after_the_retention_period_keeps_only_what_reports_count(
    client, login_as, family
):
    household = closed_family(family, date(today().year - 6, 3, 15))
    members_before = [
        (m.id, m.first_name, m.last_name, m.codice_fiscale, m.birth_date, m.sex, m.relation)
        for m in household.members
    ]
    past_events = {e.id: e.changes for e in _db.session.scalars(select(AuditEvent))}
    login_as("coordinator")

    page = client.get(f"/households/{household.id}/anonymise").get_data(as_text=True)
    assert "Anonimizza definitivamente" in page
    assert all(first not in page for _, first, *_rest in members_before)  # no names shown
    response = post(client, f"/households/{household.id}/anonymise")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/households/{household.id}"
    household = _db.session.get(Household, household.id)
    assert household.anonymised_at is not None
    assert (household.address, household.notes, household.isee_value) == (None, None, None)
    assert (household.circoscrizione, household.needs, household.status) == (
        family["org"].circoscrizione,
        ["work"],
        "closed",
    )
    for person_id, first, last, _cf, birth, sex, relation in members_before:
        member = _db.session.get(Person, person_id)
        assert first not in member.full_name
        assert last not in member.full_name
        assert member.last_name == "Anonimo"
        assert member.codice_fiscale is None
        assert member.birth_date == date(birth.year, 1, 1)
        assert (member.sex, member.relation) == (sex, relation)
    assert distributions_of(household.id) == 2
    (event,) = events("household_anonymised")
    assert event.changes["members"] == 3
    assert event.changes["distributions"] == 2
    recorded = json.dumps(event.changes)
    for _id, first, last, cf, *_rest in members_before:
        assert first not in recorded
        assert last not in recorded
        assert cf not in recorded
    assert "Via Cuneo" not in recorded
    # The past stays as it was: same events, same ids, same content.
    assert {
        e.id: e.changes for e in _db.session.scalars(select(AuditEvent)) if e.id in past_events
    } == past_events

    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nucleo anonimizzato" in detail
    assert all(first not in detail for _, first, *_rest in members_before)


def test_export_after_anonymisation_does_not_bring_names_back(client, login_as, family):
    household = closed_family(family, date(today().year - 6, 3, 15))
    person = family["person"]
    _db.session.add(
        AuditEvent(
            action="person_updated",
            object_type="person",
            object_id=person.id,
            changes={"last_name": ["Vecchiocognome", person.last_name]},
            created_at=datetime(2026, 2, 5, tzinfo=UTC),
        )
    )
    _db.session.commit()
    old_names = (person.first_name, person.last_name, "Vecchiocognome", person.codice_fiscale)
    login_as("coordinator")
    assert post(client, f"/households/{household.id}/anonymise").status_code == 303

    body = client.get(export_url(household, person)).get_data(as_text=True)

    assert all(name not in body for name in old_names)
    assert json.loads(body)["person"]["last_name"] == "Anonimo"


def test_retention_period_comes_from_the_settings(client, login_as, family):
    closed_on = today() - timedelta(days=400)
    household = closed_family(family, closed_on)
    login_as("coordinator")
    assert post(client, f"/households/{household.id}/anonymise").status_code == 409

    set_setting("household_retention_years", 1)
    _db.session.commit()
    response = post(client, f"/households/{household.id}/anonymise")

    assert response.status_code == 303
    assert _db.session.get(Household, household.id).anonymised_at is not None
    assert events("household_anonymised")[0].changes["retention_years"] == 1


def test_a_household_is_anonymised_only_once(client, login_as, family):
    household = closed_family(family, date(today().year - 6, 3, 15))
    login_as("coordinator")
    assert post(client, f"/households/{household.id}/anonymise").status_code == 303

    response = post(client, f"/households/{household.id}/anonymise")

    assert response.status_code == 409
    assert "già stato anonimizzato" in response.get_data(as_text=True)
    assert len(events("household_anonymised")) == 1


def test_anonymisation_without_csrf_token_is_refused(client, login_as, family):
    household = closed_family(family, date(today().year - 6, 3, 15))
    before = snapshot(household.id)
    login_as("coordinator")

    response = client.post(f"/households/{household.id}/anonymise")

    assert response.status_code == 400
    assert snapshot(household.id) == before
    assert events("household_anonymised") == []


def _referral(family, motivation):
    """A closed referral of the family to another entity's service, with a noted decline."""
    receiver = factories.organization(name="Servizio Lavoro Borgo Po", is_job_service=True)
    service = factories.service(receiver, name="Orientamento al lavoro")
    household = family["household"]
    referral = Referral(
        household_id=household.id,
        person_id=family["person"].id,
        from_organization_id=household.organization_id,
        service_id=service.id,
        to_organization_id=receiver.id,
        need="job_search",
        motivation=motivation,
        status="declined",
        reason_code="other",
        reason_note="Il signor Rossi non ha risposto",
    )
    _db.session.add(referral)
    _db.session.flush()
    _db.session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status="approved",
            to_status="declined",
            reason_code="other",
            note="Il signor Rossi non ha risposto",
        )
    )
    _db.session.commit()
    return referral


def test_export_lists_the_referrals_of_the_household(client, login_as, family):
    _referral(family, "Cerca lavoro come magazziniere")
    login_as("coordinator")

    data = json.loads(client.get(export_url(family["household"], family["person"])).data)

    (referral,) = data["referrals"]
    assert referral["service"] == "Orientamento al lavoro"
    assert referral["status"]["label"] == "rifiutata dall'ente"
    assert referral["motivation"] == "Cerca lavoro come magazziniere"
    assert referral["reason_note"] == "Il signor Rossi non ha risposto"


def test_anonymisation_erases_the_free_text_of_referrals(client, login_as, family):
    referral = _referral(family, "Cerca lavoro come magazziniere, parla con Mario Rossi")
    household = closed_family(family, date(today().year - 6, 3, 15))
    login_as("coordinator")

    assert post(client, f"/households/{household.id}/anonymise").status_code == 303

    referral = _db.session.get(Referral, referral.id)
    assert referral.motivation == ""
    assert referral.reason_note is None
    assert referral.reason_code == "other"  # the coded reason is what reports count
    assert all(change.note is None for change in referral.history)
    (event,) = events("household_anonymised")
    assert event.changes["referrals"] == 1


def test_anonymisation_erases_the_free_text_of_stays_eviction_cases_and_projects(
    client, login_as, family
):
    household = family["household"]
    provider = factories.organization(name="Casa Amica", is_housing_provider=True)
    unit = HousingUnit(
        provider_id=provider.id,
        name="Alloggio di via Po",
        kind="temporary_flat",
        address="Via Po 3",
        circoscrizione=7,
        capacity=2,
        vacancies=1,
        target_groups=[],
    )
    _db.session.add(unit)
    _db.session.flush()
    placement = Placement(
        household_id=household.id,
        unit_id=unit.id,
        provider_id=provider.id,
        status="ended",
        motivation="Mario Rossi ha perso la casa",
        reason_code="family",
        reason_note="Torna dalla sorella Anna Rossi",
    )
    case = HousingRiskCase(
        household_id=household.id, kind="eviction_notice", status="open", notes="Sig. Rossi"
    )
    project = Project(
        household_id=household.id,
        organization_id=household.organization_id,
        title="Autonomia",
        summary="Mario Rossi cerca lavoro",
        status="closed",
        status_note="Concluso con Mario",
    )
    _db.session.add_all([placement, case, project])
    _db.session.flush()
    _db.session.add(WellbeingCheck(placement_id=placement.id, due_on=date(2020, 1, 1)))
    _db.session.add(
        ProjectMeeting(project_id=project.id, held_on=date(2020, 2, 1), notes="Mario sta bene")
    )
    _db.session.commit()
    closed_family(family, date(today().year - 6, 3, 15))
    login_as("coordinator")

    assert post(client, f"/households/{household.id}/anonymise").status_code == 303

    placement = _db.session.get(Placement, placement.id)
    assert (placement.motivation, placement.reason_note) == (None, None)
    assert placement.reason_code == "family"  # what the reports count stays
    assert _db.session.get(HousingRiskCase, case.id).notes is None
    project = _db.session.get(Project, project.id)
    assert (project.summary, project.status_note, project.title) == (None, None, "Autonomia")
    assert all("Mario" not in (m.notes or "") for m in project.meetings)
    (event,) = events("household_anonymised")
    assert (
        event.changes["placements"],
        event.changes["risk_cases"],
        event.changes["projects"],
    ) == (
        1,
        1,
        1,
    )


# Every domain, every view (issue #18, item 2) ----------------------------------------------------


@pytest.fixture
def housed(family):
    """The family's reference person with three stays, an eviction case, a project of the
    household with its goals, meetings and budget, a project of another member, and the views
    of a housing provider, of the hub's operator and of a list that showed the household."""
    household = family["household"]
    provider = factories.organization(name="Casa Amica", is_housing_provider=True)
    provider_user = factories.user(
        role="housing_provider", organization=provider, full_name="Paolo Gestore"
    )
    unit = HousingUnit(
        provider_id=provider.id,
        name="Alloggio di via Po",
        kind="temporary_flat",
        address="Via Po 3",
        circoscrizione=7,
        capacity=4,
        vacancies=1,
        target_groups=[],
    )
    _db.session.add(unit)
    _db.session.flush()
    stays = [
        Placement(
            household_id=household.id,
            unit_id=unit.id,
            provider_id=provider.id,
            status="ended",
            motivation="Sfratto eseguito a gennaio",
            moved_in_on=date(2025, 2, 1),
            ended_on=date(2025, 6, 30),
            reason_code="family",
            reason_note="Rientra presso la sorella",
        ),
        Placement(
            household_id=household.id,
            unit_id=unit.id,
            provider_id=provider.id,
            status="cancelled",
            motivation="Seconda proposta",
            reason_code="other",
            reason_note="In cura al SerD, serve un alloggio vicino",
        ),
        Placement(
            household_id=household.id,
            unit_id=unit.id,
            provider_id=provider.id,
            status="active",
            motivation="Terza accoglienza",
            moved_in_on=date(2026, 1, 10),
        ),
    ]
    case = HousingRiskCase(
        household_id=household.id,
        organization_id=household.organization_id,
        kind="eviction_notice",
        arrears_amount=Decimal("2450.00"),
        hearing_on=date(2026, 3, 2),
        actions=["mediation"],
        status="open",
        notes="Proprietario disponibile a un piano di rientro",
    )
    project = Project(
        household_id=household.id,
        organization_id=household.organization_id,
        title="Autonomia abitativa",
        summary="Percorso verso un affitto sostenibile",
        status="active",
    )
    other_member_project = Project(
        household_id=household.id,
        person_id=family["others"][0].id,
        organization_id=household.organization_id,
        title="Progetto del partner",
        status="active",
    )
    _db.session.add_all([*stays, case, project, other_member_project])
    _db.session.flush()
    _db.session.add_all(
        [
            WellbeingCheck(
                placement_id=stays[2].id,
                due_on=date(2026, 2, 10),
                done_on=date(2026, 2, 11),
                wellbeing="good",
                notes="Bambini inseriti a scuola",
            ),
            ProjectGoal(project_id=project.id, description="Trovare un lavoro stabile"),
            ProjectMeeting(
                project_id=project.id, held_on=date(2026, 2, 20), notes="Colloquio al CPI"
            ),
            BudgetLine(
                project_id=project.id,
                category="transport",
                description="Abbonamento GTT",
                planned=Decimal("300.00"),
                approved=Decimal("300.00"),
                committed=Decimal("120.00"),
                paid=Decimal("120.00"),
            ),
            Notification(
                user_id=provider_user.id,
                kind="placement_approved",
                object_type="placement",
                object_id=stays[2].id,
            ),
        ]
    )
    for action, obj, who in (
        ("placement_viewed", stays[0], provider_user),
        ("risk_case_viewed", case, family["viewer"]),
        ("project_viewed", project, family["viewer"]),
    ):
        _db.session.add(
            AuditEvent(
                action=action,
                object_type=obj.__tablename__,
                object_id=obj.id,
                actor_id=who.id,
                actor_organization_id=who.organization_id,
            )
        )
    lister = factories.user(
        role="entity_operator", organization=family["org"], full_name="Lucia Elenchi"
    )
    neighbour = factories.household(family["org"])
    record_views("households_listed", [household.id, neighbour.id], actor=lister)
    _db.session.commit()
    return {**family, "provider_user": provider_user, "lister": lister}


def test_the_extract_covers_stays_eviction_cases_projects_and_every_view(client, login_as, housed):
    household, person = housed["household"], housed["person"]
    login_as("coordinator")
    data = client.get(export_url(household, person)).get_json()

    assert len(data["placements"]) == 3
    assert {p["status"]["code"] for p in data["placements"]} == {"ended", "cancelled", "active"}
    ended = next(p for p in data["placements"] if p["status"]["code"] == "ended")
    assert (ended["unit"], ended["provider"], ended["moved_in_on"], ended["ended_on"]) == (
        "Alloggio di via Po",
        "Casa Amica",
        "2025-02-01",
        "2025-06-30",
    )
    assert ended["reason_note"] == "Rientra presso la sorella"
    active = next(p for p in data["placements"] if p["status"]["code"] == "active")
    (check,) = active["wellbeing_checks"]
    assert (check["done_on"], check["notes"]) == ("2026-02-11", "Bambini inseriti a scuola")
    (case,) = data["risk_cases"]
    assert (case["kind"]["code"], case["arrears_amount"], case["hearing_on"]) == (
        "eviction_notice",
        "2450.00",
        "2026-03-02",
    )
    assert case["notes"] == "Proprietario disponibile a un piano di rientro"
    (project,) = data["projects"]  # the partner's own project is the partner's data
    assert project["title"] == "Autonomia abitativa"
    assert project["goals"][0]["description"] == "Trovare un lavoro stabile"
    assert project["meetings"][0]["notes"] == "Colloquio al CPI"
    (line,) = project["budget_lines"]
    assert (line["planned"], line["paid"]) == ("300.00", "120.00")
    (notification,) = data["notifications"]
    assert notification["recipient"] == "Paolo Gestore"
    assert notification["recipient_organization"] == "Casa Amica"

    who = {(e["action"]["code"], e["actor"], e["actor_organization"]) for e in data["audit_trail"]}
    assert ("placement_viewed", "Paolo Gestore", "Casa Amica") in who
    assert ("risk_case_viewed", "Giulia Bianchi", "Snodo Aurora") in who
    assert ("project_viewed", "Giulia Bianchi", "Snodo Aurora") in who
    assert ("households_listed", "Lucia Elenchi", "Snodo Aurora") in who
    listed = next(e for e in data["audit_trail"] if e["action"]["code"] == "households_listed")
    assert listed["changes"] == {}  # how many others the list showed is not this person's data
    assert "Progetto del partner" not in json.dumps(data)

    # The printable page says the same.
    page = client.get(export_url(household, person, "")).get_data(as_text=True)
    for shown in (
        "Alloggio di via Po",
        "Rientra presso la sorella",
        "Bambini inseriti a scuola",
        "Proprietario disponibile a un piano di rientro",
        "€ 2.450,00",
        "Autonomia abitativa",
        "Trovare un lavoro stabile",
        "Colloquio al CPI",
        "Abbonamento GTT",
        "Paolo Gestore",
        "Casa Amica",
        "Lucia Elenchi",
    ):
        assert shown in page, shown
    assert "Progetto del partner" not in page
    assert page.count('class="rights-placement') == 3


def test_the_extract_lists_the_consents_given_and_withdrawn(client, login_as, family):
    household, person = family["household"], family["person"]
    login_as("entity_operator", family["org"])
    on = today().isoformat()
    consent = _db.session.scalar(
        select(Consent).where(
            Consent.household_id == household.id, Consent.purpose == "job_services"
        )
    )
    path = f"/households/{household.id}/consents/{consent.id}/withdraw"
    assert post(client, path, {"confirm": "y"}).status_code in (200, 303)
    client.post(
        "/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))}
    )
    login_as("coordinator")
    data = client.get(export_url(household, person)).get_json()
    (withdrawal,) = [
        c for c in data["consent_history"] if c["action"]["code"] == "consent_withdrawn"
    ]
    assert withdrawal["changes"]["withdrawn_on"] == on
    (job,) = [c for c in data["consents"] if c["purpose"]["code"] == "job_services"]
    assert job["withdrawn_on"] == on
    assert job["state"]["label"] == "revocato"
