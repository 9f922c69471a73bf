"""The home pages tell each role what waits for them: referrals, placements, follow-ups."""

from __future__ import annotations

from datetime import timedelta

from app.clock import today
from app.db import utcnow
from app.extensions import db as _db
from app.housing.models import HousingRiskCase, Placement, WellbeingCheck
from app.projects.models import Project
from tests import factories
from tests.worlds import make_referral, make_unit


def _unit(provider, **fields):
    values = {"name": "Alloggio di via Nizza", "address": "Via Nizza 10", "circoscrizione": 8}
    return make_unit(provider, **{**values, **fields})


def _referral(household, service, status, **fields):
    values = {"days_ago": 20, "need": "job_search", "motivation": "Cerca lavoro"}
    return make_referral(household, service, status, **{**values, **fields})


def test_coordinator_home_counts_the_queue_and_the_overdue_ones(client, login_as):
    sender = factories.organization(is_hub=True)
    receiver = factories.organization(is_job_service=True)
    service = factories.service(receiver, name="Orientamento Barriera")
    household = factories.household(sender)
    late = _referral(household, service, "submitted")
    _referral(factories.household(sender), service, "submitted", status_changed_at=utcnow())
    _db.session.commit()
    login_as("coordinator")

    html = client.get("/").get_data(as_text=True)

    assert "Segnalazioni da approvare" in html
    assert f"N. {late.id}" in html
    assert "1 in ritardo" in html
    assert "/referrals/?status=submitted" in html


def test_coordinator_home_lists_placements_to_approve_and_upcoming_hearings(client, login_as):
    provider = factories.organization(is_housing_provider=True)
    unit = _unit(provider)
    household = factories.household(factories.organization(is_hub=True))
    placement = Placement(
        household_id=household.id, unit_id=unit.id, provider_id=provider.id, status="proposed"
    )
    case = HousingRiskCase(
        household_id=household.id,
        kind="eviction_notice",
        status="open",
        hearing_on=today() + timedelta(days=10),
    )
    _db.session.add_all([placement, case])
    _db.session.commit()
    login_as("coordinator")

    html = client.get("/").get_data(as_text=True)

    assert "Inserimenti da approvare" in html
    assert f"/housing/placements/{placement.id}" in html
    assert f"/housing/risk-cases/{case.id}" in html
    assert "Udienze e sfratti nei prossimi 30 giorni" in html


def test_provider_home_shows_proposals_to_answer_stale_units_and_late_checks(client, login_as):
    provider = factories.organization(is_housing_provider=True)
    fresh = _unit(provider, name="Alloggio aggiornato")
    _unit(provider, name="Alloggio dimenticato", vacancies_updated_at=utcnow() - timedelta(days=9))
    household = factories.household(factories.organization(is_hub=True))
    waiting = Placement(
        household_id=household.id,
        unit_id=fresh.id,
        provider_id=provider.id,
        status="approved",
        approved_at=utcnow(),
    )
    staying = Placement(
        household_id=factories.household(factories.organization()).id,
        unit_id=fresh.id,
        provider_id=provider.id,
        status="active",
        approved_at=utcnow(),
        moved_in_on=today() - timedelta(days=40),
    )
    _db.session.add_all([waiting, staying])
    _db.session.flush()
    _db.session.add(WellbeingCheck(placement_id=staying.id, due_on=today() - timedelta(days=10)))
    _db.session.commit()
    login_as("housing_provider", org=provider)

    html = client.get("/").get_data(as_text=True)

    assert "Proposte di inserimento da accettare o rifiutare" in html
    assert f"/housing/placements/{waiting.id}" in html
    assert "Posti liberi non confermati da più di 7 giorni." in html
    assert "Verifiche del benessere in ritardo" in html
    assert '<span class="badge bg-danger">1</span>' in html


def test_operator_home_shows_incoming_referrals_only_once_approved(client, login_as):
    receiver = factories.organization(is_job_service=True)
    service = factories.service(receiver, name="Tirocini San Paolo")
    sender = factories.organization(is_hub=True)
    approved = _referral(factories.household(sender), service, "approved", approved_at=utcnow())
    hidden = _referral(factories.household(sender), service, "submitted")
    _db.session.commit()
    login_as("entity_operator", org=receiver)

    html = client.get("/").get_data(as_text=True)

    assert "Segnalazioni in arrivo da gestire" in html
    assert f"/referrals/{approved.id}" in html
    assert f"/referrals/{hidden.id}" not in html


def test_coordinator_home_counts_projects_to_approve_and_links_the_filtered_list(client, login_as):
    household = factories.household(factories.organization(is_hub=True))
    for _index in range(2):
        _db.session.add(
            Project(
                household_id=household.id,
                organization_id=household.organization_id,
                title="Percorso di autonomia",
                status="submitted",
            )
        )
    _db.session.commit()
    login_as("coordinator")

    html = client.get("/").get_data(as_text=True)

    assert 'href="/projects/?stato=submitted">in attesa di approvazione</a>' in html
    assert '<span class="badge bg-warning">2</span>' in html
    assert "/projects/programme" in html
    listed = client.get("/projects/?stato=submitted").get_data(as_text=True)
    assert listed.count("Percorso di autonomia") == 2


def _figure(html, label):
    """The number shown on the home card whose label is `label`, and the card's link."""
    import re

    match = re.search(
        r'<a class="card[^"]*" href="([^"]+)">\s*<span class="card-body d-block">\s*'
        r'<span class="d-block h3 mb-1">([^<]+)</span>\s*<span class="d-block">' + re.escape(label),
        html,
    )
    assert match, f"no figure {label!r}"
    return match.group(2), match.group(1)


def test_operator_figures_count_only_the_own_organization_and_link_the_lists(client, login_as):
    mine = factories.organization(is_hub=True)
    for _index in range(3):
        factories.household(mine)
    factories.household(factories.organization(is_hub=True))
    _db.session.commit()
    login_as("entity_operator", org=mine)

    html = client.get("/").get_data(as_text=True)

    assert _figure(html, "Nuclei in carico") == ("3", "/households/")
    assert _figure(html, "Segnalazioni in ritardo") == ("0", "/referrals/?scadute=1")


def test_coordinator_figures_flag_late_referrals_and_stale_units(client, login_as):
    sender = factories.organization(is_hub=True)
    service = factories.service(factories.organization(is_job_service=True))
    _referral(factories.household(sender), service, "submitted")
    provider = factories.organization(is_housing_provider=True)
    _unit(provider, vacancies=2)
    _unit(provider, vacancies=1, vacancies_updated_at=utcnow() - timedelta(days=8))
    _db.session.commit()
    login_as("coordinator")

    html = client.get("/").get_data(as_text=True)

    assert _figure(html, "Segnalazioni in ritardo") == ("1", "/referrals/?scadute=1")
    assert _figure(html, "Posti liberi ora") == ("3", "/housing/")
    assert _figure(html, "Alloggi non aggiornati da 7 giorni") == ("1", "/housing/")
    assert "da controllare" in html
    late = client.get("/referrals/?scadute=1").get_data(as_text=True)
    assert "in ritardo" in late
