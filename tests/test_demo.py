"""The demo data: the accounts of the stable contract, organizations in every district."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import Role, User
from app.cli import seed_demo_command
from app.extensions import db as _db
from app.registry.models import Organization
from tests.conftest import csrf_token_from

ACCOUNTS = {
    "admin": Role.ADMIN,
    "coordinatore": Role.COORDINATOR,
    "ente1": Role.ENTITY_OPERATOR,
    "ente2": Role.ENTITY_OPERATOR,
    "alloggi1": Role.HOUSING_PROVIDER,
}


def run_seed(app, *args):
    return app.test_cli_runner().invoke(seed_demo_command, list(args))


def test_seed_demo_creates_the_contract_accounts_and_all_districts(app, db):
    result = run_seed(app)
    assert result.exit_code == 0, result.output
    users = {u.username: u for u in _db.session.scalars(select(User))}
    assert {name: Role(u.role) for name, u in users.items()} == ACCOUNTS
    ente1_org = users["ente1"].organization
    assert ente1_org.is_hub
    assert ente1_org.is_job_service
    assert users["ente2"].organization_id != ente1_org.id
    assert users["ente2"].organization.is_job_service
    assert users["alloggi1"].organization.is_housing_provider
    districts = set(_db.session.scalars(select(Organization.circoscrizione)))
    assert districts == set(range(1, 9))


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_demo_accounts_log_in_with_the_published_password(app, client, db, username):
    run_seed(app)
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": "demo-Torino-2026", "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_seed_if_empty_leaves_a_populated_database_alone(app, db):
    run_seed(app)
    result = run_seed(app, "--if-empty")
    assert result.exit_code == 0
    assert "non ricaricati" in result.output
    assert _db.session.scalar(select(func.count()).select_from(User)) == len(ACCOUNTS)


def test_seed_refuses_a_populated_database(app, db):
    run_seed(app)
    result = run_seed(app)
    assert result.exit_code != 0
    assert "database vuoto" in result.output


def test_demo_registry_covers_what_the_city_needs_to_see(app, db):
    from app.clock import today
    from app.registry.models import Accreditation, Service, Site

    run_seed(app)
    orgs = _db.session.scalars(select(Organization)).all()
    now = today()
    assert len(orgs) >= 12
    accredited_jobs = [
        o
        for o in orgs
        if o.is_job_service
        and o.accreditation
        and o.accreditation.effective_status(now) == "active"
    ]
    assert len(accredited_jobs) >= 6
    assert sum(o.is_hub for o in orgs) >= 4
    assert sum(o.is_housing_provider for o in orgs) >= 3
    assert any(len(o.kinds) > 1 for o in orgs)
    accreditations = _db.session.scalars(select(Accreditation)).all()
    assert sum(a.expires_within(now) for a in accreditations) >= 1
    assert any(a.status == "suspended" for a in accreditations)
    assert _db.session.scalar(select(func.count()).select_from(Service)) >= 12
    assert (
        _db.session.scalar(select(func.count()).select_from(Site).where(Site.is_hub.is_(True))) >= 4
    )


def test_demo_households_are_many_valid_and_everywhere(app, db):
    from app.clock import today
    from app.households.codice_fiscale import consistency_problem, format_problem
    from app.households.models import Distribution, Household, Person

    run_seed(app)
    households = _db.session.scalars(select(Household)).all()
    assert len(households) >= 60
    assert {h.circoscrizione for h in households} == set(range(1, 9))
    people = _db.session.scalars(select(Person)).all()
    with app.test_request_context():
        for person in people:
            assert format_problem(person.codice_fiscale) is None
            assert consistency_problem(person.codice_fiscale, person.birth_date, person.sex) is None
    assert sum(p.is_youth(today()) for p in people) >= 20
    ente1 = _db.session.scalar(select(User).where(User.username == "ente1"))
    assert sum(h.organization_id == ente1.organization_id for h in households) >= 10
    months = {d.distributed_on.replace(day=1) for d in _db.session.scalars(select(Distribution))}
    assert len(months) >= 3
