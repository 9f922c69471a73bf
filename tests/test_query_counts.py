"""No page's number of SQL statements grows with the data: the guard against N+1 queries.

The same pages are opened, by the role that uses them, on the city-scale generator's data at
two sizes (the second four times the first). Every list, dashboard and detail page must issue
exactly as many statements on both, and never more than a small fixed number.

A paginated list shows a full page at both sizes, so a query per row would cost the same on both:
the lists are opened again on the larger data with pages of 5 rows instead of 25 (issue #20).
Each must show fewer rows and issue exactly as many statements: a preload removed, a label read
per row, a lazy relationship in a template, and the counts differ.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from app.extensions import db as _db
from app.households.models import Household, Person
from app.housing.models import HousingUnit, Placement
from app.models import Organization, User
from app.projects.models import BudgetLine, Project
from app.referrals.models import Referral
from tests.conftest import _truncate
from tests.worlds import DEMO_PASSWORD, log_in

SMALL, LARGE = 1000, 4000
FEW = "few rows a page"  # the larger data, with FEW_ROWS rows a page
FEW_ROWS = 5
# Each list's page size, where the view reads it.
PAGE_SIZES = (
    "app.households.views",
    "app.referrals.views",
    "app.projects.views.listing",
    "app.housing.views.placements",
    "app.housing.views.risk_cases",
    "app.notifications.views",
    "app.registry.views",
    "app.admin.views",
    "app.audit.views",
)
# The pages whose rows are a page of a longer list: with FEW_ROWS they must show fewer rows.
PAGINATED = {
    ("coordinatore", "registro"),
    ("coordinatore", "registro, ricerca"),
    ("coordinatore", "nuclei"),
    ("coordinatore", "nuclei, ricerca"),
    ("coordinatore", "segnalazioni"),
    ("coordinatore", "segnalazioni, tutte"),
    ("coordinatore", "coda di approvazione"),
    ("coordinatore", "inserimenti"),
    ("coordinatore", "progetti"),
    ("coordinatore", "audit"),
    ("coordinatore", "nuclei, ricerca (frammento)"),
    ("coordinatore", "coda (frammento)"),
    ("coordinatore", "notifiche"),
    ("ente1", "nuclei"),
    ("ente1", "segnalazioni"),
    ("ente1", "segnalazioni ricevute"),
    ("ente1", "segnalazioni ricevute (frammento)"),
    ("ente1", "progetti"),
    ("ente1", "notifiche"),
    ("admin", "utenti"),
    ("admin", "audit"),
}
# Statements per page, whatever the data size: 31 to read (the City's home is the fullest: its
# latest section, the hubs short of stock, is one statement), and 2 for the audit event that
# names the households a page shows (the event, then its households in one bulk insert).
CEILING = 33


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
            ("segnalazioni, tutte", "/referrals/?status=completed"),
            ("coda di approvazione", "/referrals/?status=submitted"),
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
            # htmx fragments and exports (the exports are not paged: more rows at more data).
            ("nuclei, ricerca (frammento)", "/households/?q=ro" + FRAGMENT),
            ("coda (frammento)", "/referrals/?status=submitted" + FRAGMENT),
            ("nuclei, CSV", "/households/export.csv"),
            ("distribuzioni, CSV", "/distributions/export.csv"),
            ("inserimenti, CSV", "/housing/placements/export.csv"),
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
            ("segnalazioni ricevute", "/referrals/?status=approved"),
            ("segnalazioni ricevute (frammento)", "/referrals/?status=approved" + FRAGMENT),
            ("nuclei, CSV", "/households/export.csv"),
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


@dataclass(frozen=True)
class Visit:
    statements: list[str]
    rows: int  # table rows and list items the page shows


def seed(app: Flask, households: int) -> None:
    _truncate()
    result = app.test_cli_runner().invoke(args=["seed-scale", "--households", str(households)])
    assert result.exit_code == 0, result.output
    _db.session.remove()


# A visit's URL ending so marks an htmx request for the page's fragment.
FRAGMENT = "#frammento"
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def measure(app: Flask) -> dict[tuple[str, str], Visit]:
    counts: dict[tuple[str, str], Visit] = {}
    for username, visits in pages().items():
        client = app.test_client()
        log_in(client, username, DEMO_PASSWORD)
        _db.session.remove()
        for label, url in visits:
            fragment = url.endswith(FRAGMENT)
            with counting() as statements:
                response = client.get(url.removesuffix(FRAGMENT), headers=HTMX if fragment else {})
            assert response.status_code == 200, (username, label, url, response.status_code)
            body = response.get_data(as_text=True)
            if fragment:
                assert "<html" not in body, (username, label)
            if url.endswith(".csv"):
                rows = body.count("\n") - 1  # the lines of the file, less its header
            else:
                rows = len(re.findall(r"<tr[ >]|<li[ >]", body.split("<main", 1)[-1]))
            counts[(username, label)] = Visit(statements, rows)
            _db.session.remove()
    return counts


@contextmanager
def pages_of(rows: int) -> Iterator[None]:
    modules = [importlib.import_module(name) for name in PAGE_SIZES]
    before = [module.PAGE_SIZE for module in modules]
    for module in modules:
        module.PAGE_SIZE = rows
    try:
        yield
    finally:
        for module, size in zip(modules, before, strict=True):
            module.PAGE_SIZE = size


@pytest.fixture(scope="module")
def counts(app: Flask) -> Callable[[int | str], dict[tuple[str, str], Visit]]:
    # Counted without what the layout keeps between requests (app/web/versions.py): whether a
    # page finds it kept depends on the writes before it, not on the page's own rows.
    app.config["LAYOUT_CACHE"] = False
    try:
        return _measure_all(app)
    finally:
        app.config["LAYOUT_CACHE"] = True


def _measure_all(app: Flask) -> Callable[[int | str], dict[tuple[str, str], Visit]]:
    with app.app_context():
        seed(app, SMALL)
        measured: dict[int | str, dict[tuple[str, str], Visit]] = {SMALL: measure(app)}
        seed(app, LARGE)
        measured[LARGE] = measure(app)
        with pages_of(FEW_ROWS):
            measured[FEW] = measure(app)
        _db.session.remove()
        _truncate()
    return measured.__getitem__


def _shape(statement: str) -> str:
    """A statement without its parameters, short enough to read in a failure message."""
    return re.sub(r"\(\?(, \?)*\)|\d+", "…", " ".join(statement.split()))[:160]


def _grown(fewer: dict[tuple[str, str], Visit], more: dict[tuple[str, str], Visit]) -> dict:
    return {
        page: sorted(
            Counter(map(_shape, more[page].statements))
            - Counter(map(_shape, fewer[page].statements))
        )
        for page in fewer
        if len(more[page].statements) > len(fewer[page].statements)
    }


def _export(page: tuple[str, str]) -> bool:
    return page[1].endswith("CSV")


def test_no_page_issues_more_statements_on_four_times_the_data(counts):
    small, large = counts(SMALL), counts(LARGE)
    grown = _grown(
        {p: v for p, v in small.items() if not _export(p)},
        {p: v for p, v in large.items() if not _export(p)},
    )
    assert not grown, f"pagine con query che crescono con i dati (N+1): {grown}"


# An export reads its rows in batches of hundreds: a statement per row would be one per row.
ROWS_PER_EXTRA_STATEMENT = 100


def test_exports_read_their_rows_in_batches_not_one_by_one(counts):
    small, large = counts(SMALL), counts(LARGE)
    exports = [page for page in small if _export(page)]
    assert len(exports) >= 4
    for page in exports:
        more_rows = large[page].rows - small[page].rows
        assert more_rows > ROWS_PER_EXTRA_STATEMENT, page  # the file grew with the data
        more_statements = len(large[page].statements) - len(small[page].statements)
        assert more_statements <= more_rows / ROWS_PER_EXTRA_STATEMENT, (
            page,
            more_rows,
            sorted(Counter(map(_shape, large[page].statements))),
        )


def test_no_list_issues_more_statements_for_more_rows(counts):
    few, full = counts(FEW), counts(LARGE)
    shorter = {page for page in full if few[page].rows < full[page].rows}
    # The smaller pages took effect on every paginated list (else this would measure nothing).
    assert shorter >= PAGINATED, sorted(PAGINATED - shorter)
    grown = _grown(few, full)
    assert not grown, f"pagine con una query per riga (N+1): {grown}"


def test_every_page_stays_within_a_small_fixed_number_of_statements(counts):
    large = counts(LARGE)
    heavy = {
        page: len(v.statements)
        for page, v in large.items()
        if len(v.statements) > CEILING and not _export(page)
    }
    assert not heavy, f"pagine con più di {CEILING} query: {heavy}"
