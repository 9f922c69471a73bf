"""No page's number of SQL statements grows with the data: the guard against N+1 queries.

The same pages are opened, by the role that uses them, on the city-scale generator's data at
two sizes (the second four times the first). Every list, dashboard and detail page must issue
exactly as many statements on both, and never more than a small fixed number.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from app.extensions import db as _db
from app.households.models import Household, Person
from app.housing.models import HousingUnit, Placement
from app.models import Organization, User
from app.projects.models import BudgetLine, Project
from app.referrals.models import Referral
from tests.conftest import _truncate, csrf_token_from

SMALL, LARGE = 1000, 4000
# Statements per page, whatever the data size: 31 to read (the City's home is the fullest: its
# latest section, the hubs short of stock, is one statement), and 2 for the audit event that
# names the households a page shows (the event, then its households in one bulk insert).
CEILING = 33

PASSWORD = "demo-Torino-2026"


def _largest(statement: object) -> int:
    return int(_db.session.scalar(statement))  # type: ignore[arg-type]


def _org_of(username: str) -> int:
    return int(_db.session.scalar(select(User.organization_id).where(User.username == username)))


def pages() -> dict[str, list[tuple[str, str]]]:
    """(label, url) per demo account: the lists, the homes and the richest detail pages."""
    ente1 = _org_of("ente1")
    provider = _org_of("alloggi1")
    # The households with the most to show: members, and a referral, a placement and a project.
    richest = (
        select(Household.id)
        .join(Person)
        .where(
            Household.id.in_(select(Referral.household_id)),
            Household.id.in_(select(Placement.household_id)),
            Household.id.in_(select(Project.household_id)),
        )
        .group_by(Household.id)
        .order_by(func.count(Person.id).desc(), Household.id)
        .limit(1)
    )
    own_household = _largest(richest.where(Household.organization_id == ente1))
    any_household = _largest(richest)
    project = _largest(
        select(Project.id)
        .join(BudgetLine)
        .group_by(Project.id)
        .order_by(func.count(BudgetLine.id).desc(), Project.id)
        .limit(1)
    )
    referral = _largest(
        select(func.max(Referral.id)).where(
            Referral.submitted_at.is_not(None),
            Referral.from_organization_id != Referral.to_organization_id,
        )
    )
    placement = _largest(select(func.max(Placement.id)))
    unit = _largest(select(func.min(HousingUnit.id)).where(HousingUnit.provider_id == provider))
    organization = _largest(select(func.min(Organization.id)))
    common = [("home", "/"), ("registro", "/entities/")]
    return {
        "coordinatore": [
            *common,
            ("notifiche", "/notifications/"),
            ("registro, ricerca", "/entities/?q=a"),
            ("scheda ente", f"/entities/{organization}"),
            ("nuclei", "/households/"),
            ("nuclei, ultima pagina", "/households/?pagina=100000"),
            ("nuclei, ricerca", "/households/?q=ro"),
            ("scheda nucleo", f"/households/{any_household}"),
            ("distribuzioni", "/distributions/"),
            ("scorte", "/supplies/"),
            ("report scorte", "/supplies/report"),
            ("segnalazioni", "/referrals/"),
            ("segnalazioni, tutte", "/referrals/?stato=tutte"),
            ("scheda segnalazione", f"/referrals/{referral}"),
            ("bacheca alloggi", "/housing/"),
            ("inserimenti", "/housing/placements/"),
            ("scheda inserimento", f"/housing/placements/{placement}"),
            ("verifiche", "/housing/follow-ups"),
            ("sfratti", "/housing/risk-cases"),
            ("progetti", "/projects/"),
            ("scheda progetto", f"/projects/{project}"),
            ("avanzamento finanziario", "/projects/programme"),
            ("report", "/reports/"),
            ("audit", "/audit/"),
        ],
        "ente1": [
            *common,
            ("notifiche", "/notifications/"),
            ("nuclei", "/households/"),
            ("scheda nucleo", f"/households/{own_household}"),
            ("nuova segnalazione con proposte", f"/referrals/new?household={own_household}"),
            ("distribuzioni", "/distributions/"),
            ("scorte", "/supplies/"),
            ("segnalazioni", "/referrals/"),
            ("progetti", "/projects/"),
            ("inserimenti", "/housing/placements/"),
        ],
        "alloggi1": [
            *common,
            ("notifiche", "/notifications/"),
            ("bacheca alloggi", "/housing/"),
            ("scheda alloggio", f"/housing/units/{unit}"),
            ("inserimenti", "/housing/placements/"),
            ("verifiche", "/housing/follow-ups"),
        ],
        "admin": [
            *common,
            ("utenti", "/admin/"),
            ("audit", "/audit/"),
            ("impostazioni", "/admin/settings"),
        ],
    }


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)


def log_in(client: FlaskClient, username: str) -> None:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"csrf_token": token, "username": username, "password": PASSWORD}
    )
    assert response.status_code == 303, f"{username} non riesce ad accedere"


def measure(app: Flask, households: int) -> dict[tuple[str, str], list[str]]:
    _truncate()
    result = app.test_cli_runner().invoke(args=["seed-scale", "--households", str(households)])
    assert result.exit_code == 0, result.output
    _db.session.remove()
    counts: dict[tuple[str, str], list[str]] = {}
    for username, visits in pages().items():
        client = app.test_client()
        log_in(client, username)
        _db.session.remove()
        for label, url in visits:
            with counting() as statements:
                response = client.get(url)
            assert response.status_code == 200, (username, label, url, response.status_code)
            counts[(username, label)] = statements
            _db.session.remove()
    return counts


@pytest.fixture(scope="module")
def counts(app: Flask) -> Callable[[int], dict[tuple[str, str], list[str]]]:
    with app.app_context():
        measured = {size: measure(app, size) for size in (SMALL, LARGE)}
        _db.session.remove()
        _truncate()
    return measured.__getitem__


def _shape(statement: str) -> str:
    """A statement without its parameters, short enough to read in a failure message."""
    return re.sub(r"\(\?(, \?)*\)|\d+", "…", " ".join(statement.split()))[:160]


def test_no_page_issues_more_statements_on_four_times_the_data(counts):
    small, large = counts(SMALL), counts(LARGE)
    grown = {
        page: sorted(Counter(map(_shape, large[page])) - Counter(map(_shape, small[page])))
        for page in small
        if len(large[page]) > len(small[page])
    }
    assert not grown, f"pagine con query che crescono con i dati (N+1): {grown}"


def test_every_page_stays_within_a_small_fixed_number_of_statements(counts):
    large = counts(LARGE)
    heavy = {page: len(found) for page, found in large.items() if len(found) > CEILING}
    assert not heavy, f"pagine con più di {CEILING} query: {heavy}"
