"""Monitoring reports: the figures on a small built world, the period and circoscrizione filters,
small-count suppression on screen and in exports, medians, bad filters, who may see the report,
XLSX and CSV exports (no person-level sheet) and their audit events, and SQL-only aggregation."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

# app.admin first: importing app.households before it is a circular import (app/admin/settings.py).
import app.admin  # noqa: F401
from app.audit.models import AuditEvent
from app.clock import ROME, today
from app.distributions.models import Distribution
from app.exports import pseudonym
from app.extensions import db as _db
from app.housing.models import HousingUnit, Placement
from app.projects.models import BudgetLine, Project
from app.referrals.models import Referral
from app.reports import queries
from app.reports.charts import Bar, bar_chart
from app.reports.queries import ReportFilters, last_full_quarter
from tests import factories

START, END = date(2025, 1, 1), date(2025, 3, 31)  # the first quarter of 2025
PERIOD = {"dal": START.isoformat(), "al": END.isoformat()}
Q1 = ReportFilters(START, END)
CIRC_3 = "3 · San Paolo, Cenisia, Pozzo Strada, Cit Turin, Borgata Lesna"
CIRC_5 = "5 · Borgo Vittoria, Madonna di Campagna, Lucento, Vallette"


# A small world --------------------------------------------------------------------------------


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in Turin, as the aware UTC datetime the portal stores."""
    return datetime.combine(day, time(hour, minute), tzinfo=ROME).astimezone(UTC)


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


class World:
    """Organizations, a hub per circoscrizione, a job service, a housing unit."""

    def __init__(self) -> None:
        self.hub_org = factories.organization(is_hub=True, circoscrizione=3)
        self.hub3 = factories.site(self.hub_org, is_hub=True, circoscrizione=3, name="Snodo Tre")
        self.hub5 = factories.site(self.hub_org, is_hub=True, circoscrizione=5, name="Snodo Cinque")
        self.job_org = factories.organization(circoscrizione=4)
        self.service = factories.service(self.job_org, service_type="job_placement")
        self.training = factories.service(self.job_org, service_type="training")
        self.provider = factories.organization(is_housing_provider=True, circoscrizione=5)
        self.unit = HousingUnit(
            provider_id=self.provider.id,
            name="Alloggio Via Nizza",
            kind="temporary_flat",
            address="Via Nizza 1",
            circoscrizione=5,
            capacity=4,
            vacancies=1,
            target_groups=[],
        )
        _db.session.add(self.unit)
        _db.session.flush()

    def household(self, circ: int, **person: object):
        household = factories.household(self.hub_org, members=0, circoscrizione=circ)
        factories.person(household, **person)
        _db.session.refresh(household)
        return household

    def distribution(self, household, day: date, site=None, kind: str = "food_basket"):
        site = site or self.hub3
        _db.session.add(
            Distribution(
                household_id=household.id,
                site_id=site.id,
                organization_id=site.organization_id,
                distributed_on=day,
                kind=kind,
                quantity=1,
            )
        )
        _db.session.flush()

    def referral(self, household, submitted: datetime, status: str = "submitted", **fields):
        service = fields.pop("service", self.service)
        referral = Referral(
            household_id=household.id,
            person_id=household.members[0].id,
            from_organization_id=self.hub_org.id,
            service_id=service.id,
            to_organization_id=service.organization_id,
            need="job_search",
            motivation="Motivazione riservata: situazione familiare difficile",
            status=status,
            submitted_at=submitted,
            **fields,
        )
        _db.session.add(referral)
        _db.session.flush()
        return referral

    def placement(self, household, status: str = "active", created: datetime | None = None, **f):
        placement = Placement(
            household_id=household.id,
            unit_id=self.unit.id,
            provider_id=self.provider.id,
            status=status,
            created_at=created or at(date(2024, 12, 1)),
            **f,
        )
        _db.session.add(placement)
        _db.session.flush()
        return placement

    def project(self, household, status: str = "active", youth: bool = False, **fields):
        project = Project(
            household_id=household.id,
            person_id=household.members[0].id,
            organization_id=self.hub_org.id,
            title="Percorso",
            status=status,
            youth=youth,
            created_at=fields.pop("created", at(date(2024, 11, 1))),
            approved_at=fields.pop("approved", at(date(2024, 11, 20)))
            if status in ("approved", "active", "closed")
            else None,
            **fields,
        )
        _db.session.add(project)
        _db.session.flush()
        return project


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def city(db):
    return factories.user(role="coordinator")


def table_row(html: str, table: str, label: str) -> list[str]:
    """The cells (as the page shows them) of the row headed `label` in table `table`."""
    section = html.split(f'id="table-{table}"', 1)[1].split('<div class="mb-4" id="table-', 1)[0]
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", section, flags=re.S):
        cells = [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        ]
        if cells and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no row {label!r} in table {table}")


def export_events():
    return list(
        _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report_exported"))
    )


# Households and young people reached ---------------------------------------------------------


def test_households_reached_once_each_by_circoscrizione_and_line(world, city):
    # Circoscrizione 3: one household with two baskets and a referral in the period (once).
    busy = world.household(3)
    world.distribution(busy, date(2025, 1, 10))
    world.distribution(busy, date(2025, 2, 10))
    world.referral(busy, at(date(2025, 2, 11)))
    # Circoscrizione 3: a basket before the period only: not reached.
    earlier = world.household(3)
    world.distribution(earlier, date(2024, 12, 31))
    # Circoscrizione 5: a project approved last year, still active (line B) ...
    world.project(world.household(5), status="active")
    # ... a stay under way in the period (line C) ...
    world.placement(world.household(5), status="active", moved_in_on=date(2024, 12, 15))
    # ... a stay that ended before the period, a project still a draft: not reached.
    world.placement(
        world.household(5),
        status="ended",
        moved_in_on=date(2024, 10, 1),
        ended_on=date(2024, 12, 31),
        reason_code="own_home",
    )
    world.project(world.household(5), status="draft")

    def reached(**filters):
        return queries.households_reached(city, ReportFilters(START, END, **filters))

    assert reached() == {3: 1, 5: 2}
    assert reached(line="A") == {3: 1}
    assert reached(line="B") == {5: 1}
    assert reached(line="C") == {5: 1}
    assert reached(circ=5) == {5: 2}
    assert reached(circ=3, line="B") == {}


def test_young_people_are_18_to_29_on_the_last_day_of_the_period(world, city):
    young = world.household(3, birth_date=years_before(END, 29))  # 29 on 31/03/2025
    too_old = world.household(3, birth_date=years_before(END, 30))  # 30 that day
    minor = world.household(3, birth_date=years_before(END, 18) + timedelta(days=1))
    in_project = world.household(5, birth_date=years_before(END, 20))
    for household in (young, too_old, minor):
        world.referral(household, at(date(2025, 3, 1)))
    world.referral(young, at(date(2025, 3, 2)))  # referred twice: one person
    world.project(in_project, status="approved", youth=True)

    assert queries.young_people_reached(city, Q1) == {3: 1, 5: 1}
    assert queries.young_people_reached(city, ReportFilters(START, END, line="A")) == {3: 1}
    assert queries.young_people_reached(city, ReportFilters(START, END, line="C")) is None


def test_the_page_suppresses_small_counts_and_the_cells_that_would_give_them_away(
    client, login_as, world
):
    login_as("coordinator")
    for _n in range(6):
        world.distribution(world.household(5), date(2025, 2, 1), site=world.hub5)
    for _n in range(2):
        world.distribution(world.household(3), date(2025, 2, 1))
    _db.session.commit()

    page = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)

    assert table_row(page, "reach", CIRC_3)[0] == "<5"
    # 8 - 6 would give the "<5" away: the smallest other count is hidden too.
    assert table_row(page, "reach", CIRC_5)[0] == "n.d."
    assert table_row(page, "reach", "1 · Centro, Crocetta")[0] == "0"
    assert table_row(page, "reach", "Totale")[0] == "8"
    # Hubs: baskets, basic necessities, total, households served. The baskets' column total (8)
    # hides Snodo Cinque's 6, and then its row total (6 = n.d. + 0) must go too.
    assert table_row(page, "distributions", "Snodo Cinque")[-4:] == ["n.d.", "0", "n.d.", "6"]
    assert table_row(page, "distributions", "Snodo Tre")[-4:] == ["<5", "0", "<5", "<5"]
    assert table_row(page, "distributions", "Totale")[-4:-1] == ["8", "0", "8"]


def test_the_circoscrizione_filter_keeps_households_and_hubs_of_that_district(
    client, login_as, world
):
    login_as("coordinator")
    for _n in range(5):
        world.distribution(world.household(5), date(2025, 2, 1), site=world.hub5)
    world.distribution(world.household(3), date(2025, 2, 1), site=world.hub3)
    _db.session.commit()

    page = client.get("/reports/", query_string={**PERIOD, "circ": "5"}).get_data(as_text=True)

    assert "Circoscrizione 5 · Borgo Vittoria" in page
    assert table_row(page, "reach", CIRC_5) == ["5", "0"]
    with pytest.raises(AssertionError):
        table_row(page, "reach", CIRC_3)
    assert "Snodo Cinque" in page
    assert "Snodo Tre" not in page
    # The downloads carry the filters on screen.
    links = re.findall(r'href="(/reports/export\.(?:csv|xlsx)\?[^"]*)"', page)
    assert len(links) == 2
    for link in links:
        assert sorted(unescape(link).split("?")[1].split("&")) == [
            "al=2025-03-31",
            "circ=5",
            "dal=2025-01-01",
        ]


def test_the_line_filter_shows_only_its_sections(client, login_as, world):
    login_as("coordinator")
    page = client.get("/reports/", query_string={**PERIOD, "linea": "C"}).get_data(as_text=True)
    assert 'id="section-housing"' in page
    assert 'id="section-referrals"' not in page
    assert 'id="section-projects"' not in page
    assert 'id="section-distributions"' not in page
    assert "Giovani 18-29 raggiunti" not in page  # nobody to count on line C

    page = client.get("/reports/", query_string={**PERIOD, "linea": "B"}).get_data(as_text=True)
    assert 'id="section-projects"' in page
    assert 'id="section-housing"' not in page


# Referrals ------------------------------------------------------------------------------------


def test_the_period_is_read_in_turin_time(world, city):
    """A referral sent at 23:30 on the last evening counts; one at 00:30 the next day does not
    (in UTC both are on 31 March)."""
    household = world.household(3)
    world.referral(household, at(END, 23, 30))
    world.referral(household, at(END + timedelta(days=1), 0, 30))
    world.referral(household, at(START, 0, 15))
    world.referral(household, at(START - timedelta(days=1), 23, 45))

    assert queries.referrals_by_status(city, Q1) == {"submitted": 2}


def test_referrals_by_status_outcome_and_service_type(world, city):
    household = world.household(3)
    day = at(date(2025, 2, 3))
    world.referral(household, day, "completed", reason_code="employment_contract")
    world.referral(household, day, "completed", reason_code="employment_contract")
    world.referral(household, day, "failed", reason_code="dropped_out", service=world.training)
    world.referral(household, day, "rejected", reason_code="not_eligible")
    world.referral(world.household(6), day, "approved")

    assert queries.referrals_by_status(city, Q1) == {
        "completed": 2,
        "failed": 1,
        "rejected": 1,
        "approved": 1,
    }
    assert queries.referrals_by_outcome(city, Q1) == {
        ("completed", "employment_contract"): 2,
        ("failed", "dropped_out"): 1,
    }
    assert queries.referrals_by_service_type(city, Q1) == {
        "job_placement": (4, 2),
        "training": (1, 0),
    }
    # Circoscrizione of the household: the referral of circoscrizione 6 only.
    assert queries.referrals_by_status(city, ReportFilters(START, END, circ=6)) == {"approved": 1}


def _decided(world, household, days: float, status: str = "approved"):
    sent = at(date(2025, 2, 3))
    decided = sent + timedelta(days=days)
    if status == "approved":
        return world.referral(household, sent, "approved", approved_at=decided)
    return world.referral(household, sent, status, closed_at=decided, reason_code="other")


def test_median_days_to_decision_with_an_odd_count(world, city):
    household = world.household(3)
    _decided(world, household, 1)
    _decided(world, household, 10, status="rejected")  # a rejection is a decision too
    _decided(world, household, 2.5)
    world.referral(household, at(date(2025, 2, 3)), "submitted")  # not decided yet
    world.referral(  # withdrawn before the City decided: no decision
        household, at(date(2025, 2, 3)), "cancelled", closed_at=at(date(2025, 2, 4))
    )

    median = queries.decision_time(city, Q1)

    assert median.count == 3
    assert median.days == pytest.approx(2.5)


def test_median_days_with_an_even_count_is_the_mean_of_the_middle_two(world, city):
    household = world.household(3)
    for days in (1, 2, 4, 30):
        _decided(world, household, days)

    median = queries.decision_time(city, Q1)

    assert median.count == 4
    assert median.days == pytest.approx(3.0)


def test_median_days_to_outcome_and_none_without_referrals(world, city):
    household = world.household(3)
    sent = at(date(2025, 1, 10))
    for days, status in ((20, "completed"), (40, "failed"), (60, "completed")):
        world.referral(
            household,
            sent,
            status,
            approved_at=sent + timedelta(days=1),
            closed_at=sent + timedelta(days=days),
            reason_code="other",
        )

    # percentile_cont's 90th: position 1 + 0.9 * 2 = 2.8, between 40 and 60 days.
    assert queries.outcome_time(city, Q1) == queries.Median(
        3, pytest.approx(40.0), pytest.approx(56.0)
    )
    empty = ReportFilters(date(2020, 1, 1), date(2020, 3, 31))
    assert queries.outcome_time(city, empty) == queries.Median(0, None)
    assert queries.decision_time(city, empty) == queries.Median(0, None)


def test_the_page_shows_the_median_when_there_are_enough_referrals(client, login_as, world):
    login_as("coordinator")
    household = world.household(3)
    for days in (1, 2, 3, 4, 5, 6):
        _decided(world, household, days)
    _db.session.commit()

    page = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)

    assert table_row(page, "referrals-times", "Dall'invio alla decisione della Città") == [
        "6",
        "3,5",
    ]
    assert table_row(page, "referrals-status", "Approvata, in attesa dell'ente") == ["6"]
    assert table_row(page, "referrals-status", "Respinta dalla Città") == ["0"]


def test_each_step_waits_median_and_90th_percentile_and_the_expired_are_counted(
    client, login_as, world, city
):
    """Issue #24: days pending per step, as percentile_cont computes them on both databases."""
    household = world.household(3)
    sent = at(date(2025, 2, 3))
    for days in range(1, 11):  # the City answered after 1, 2, ... 10 days
        world.referral(household, sent, "approved", approved_at=sent + timedelta(days=days))
    for days in (30, 40):  # nobody answered: returned to the sender
        world.referral(
            household,
            sent,
            "expired",
            closed_at=sent + timedelta(days=days),
            reason_code="no_approval",
        )
    approved = sent + timedelta(days=2)
    world.referral(  # the entity never answered
        household,
        sent,
        "expired",
        approved_at=approved,
        closed_at=approved + timedelta(days=25),
        reason_code="no_answer",
    )

    approval, answer, outcome = queries.step_times(city, Q1)
    # 13 waits: 1..10, 2 (approved, then expired at the entity), 30, 40. Median: the 7th, 6;
    # 90th: position 1 + 0.9 * 12 = 11.8, between the 11th (10) and the 12th (30).
    assert (approval.code, approval.time.count, approval.expired) == ("no_approval", 13, 2)
    assert approval.time.days == pytest.approx(6.0)
    assert approval.time.p90 == pytest.approx(10 + 0.8 * 20)
    # Approved ones with no answer yet wait still: only the expired one has left the step.
    assert (answer.time.count, answer.time.days, answer.expired) == (1, pytest.approx(25.0), 1)
    assert (outcome.time.count, outcome.time.days, outcome.expired) == (0, None, 0)

    _db.session.commit()
    login_as("coordinator")
    page = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)
    assert table_row(page, "referrals-steps", "Approvazione della Città (dall'invio)") == [
        "13",
        "6,0",
        "26,0",
        "<5",
    ]
    assert table_row(page, "referrals-status", "Scaduta, tornata all'ente inviante") == ["<5"]


# Housing and projects -------------------------------------------------------------------------


def test_placements_exits_and_occupancy(world, city):
    household = world.household(5)
    world.placement(household, "proposed", created=at(date(2025, 2, 1)))
    world.placement(household, "declined", created=at(date(2025, 2, 2)), reason_code="no_place")
    world.placement(household, "proposed", created=at(date(2025, 4, 2)))  # after the period
    world.placement(
        household,
        "ended",
        moved_in_on=date(2024, 6, 1),
        ended_on=date(2025, 3, 1),
        reason_code="social_housing",
    )
    world.placement(
        household,
        "ended",
        moved_in_on=date(2024, 6, 1),
        ended_on=date(2025, 4, 1),
        reason_code="max_stay",
    )
    second = HousingUnit(
        provider_id=world.provider.id,
        name="Dormitorio",
        kind="night_shelter_bed",
        address="Via Po 2",
        circoscrizione=1,
        capacity=10,
        vacancies=10,
        target_groups=[],
    )
    _db.session.add(second)
    _db.session.flush()

    assert queries.placements_by_status(city, Q1) == {"proposed": 1, "declined": 1}
    assert queries.exits_by_reason(city, Q1) == {"social_housing": 1}
    rows = {row.kind: row for row in queries.occupancy_by_kind(city, Q1)}
    assert rows["temporary_flat"].occupied == 3
    assert rows["temporary_flat"].occupancy == 75.0
    assert rows["night_shelter_bed"].occupancy == 0.0
    # The unit's circoscrizione: only the flat in circoscrizione 5.
    only_five = queries.occupancy_by_kind(city, ReportFilters(START, END, circ=5))
    assert [(row.kind, row.capacity, row.vacancies) for row in only_five] == [
        ("temporary_flat", 4, 1)
    ]


def test_projects_youth_share_and_spending_by_category(world, city):
    young = world.project(world.household(5), "active", youth=True)
    other = world.project(world.household(5), "closed", closed_on=date(2025, 2, 1))
    draft = world.project(world.household(5), "draft", youth=True)
    world.project(world.household(5), "closed", closed_on=date(2024, 12, 1))  # before the period
    lines = [
        (young, "training", "1000.00", "800.00", "500.00"),
        (young, "transport", "200.50", "200.50", "100.25"),
        (other, "training", "300.00", "300.00", "300.00"),
    ]
    for project, category, approved, committed, paid in lines:
        _db.session.add(
            BudgetLine(
                project_id=project.id,
                category=category,
                description="Voce",
                planned=Decimal(approved),
                approved=Decimal(approved),
                committed=Decimal(committed),
                paid=Decimal(paid),
            )
        )
    _db.session.add(  # a draft spends nothing yet
        BudgetLine(
            project_id=draft.id, category="training", description="Voce", planned=Decimal("999")
        )
    )
    _db.session.flush()

    assert queries.projects_by_status(city, Q1) == {"active": 1, "closed": 1, "draft": 1}
    assert queries.youth_projects(city, Q1) == (2, 3)
    spending = {row.category: row for row in queries.spending_by_category(city, Q1)}
    assert spending["training"].approved == Decimal("1300.00")
    assert spending["training"].committed == Decimal("1100.00")
    assert spending["training"].paid == Decimal("800.00")
    assert spending["transport"].paid == Decimal("100.25")


# Filters --------------------------------------------------------------------------------------


def test_the_default_period_is_the_last_full_quarter(client, login_as):
    assert last_full_quarter(date(2026, 2, 10)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert last_full_quarter(date(2026, 4, 1)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert last_full_quarter(date(2026, 11, 26)) == (date(2026, 7, 1), date(2026, 9, 30))
    login_as("coordinator")
    start, end = last_full_quarter(today())
    page = client.get("/reports/").get_data(as_text=True)
    assert f'value="{start.isoformat()}"' in page
    assert f'value="{end.isoformat()}"' in page


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"dal": "2025-03-31", "al": "2025-01-01"}, "al", "La data finale viene prima"),
        ({"circ": "99"}, "circ", "Scegli una circoscrizione da 1 a 8"),
        ({"circ": "abc"}, "circ", "Scegli una circoscrizione da 1 a 8"),
        ({"circ": "-1"}, "circ", "Scegli una circoscrizione da 1 a 8"),
        ({"linea": "Z"}, "linea", "Scegli la linea A, B o C"),
        ({"dal": "31/02/2025"}, "dal", "Inserisci una data valida"),
        ({"dal": ""}, "dal", "Inserisci la data"),
        ({"dal": "0001-01-01"}, "dal", "Scegli una data tra il 2000 e il 2100"),
        ({"al": "9999-12-31"}, "al", "Scegli una data tra il 2000 e il 2100"),
    ],
)
@pytest.mark.parametrize("path", ["/reports/", "/reports/export.csv", "/reports/export.xlsx"])
def test_bad_filters_get_a_message_next_to_the_field(client, login_as, path, args, field, message):
    login_as("coordinator")

    response = client.get(path, query_string=args)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error"[^>]*>[^<]*{re.escape(message)}', page)
    assert 'id="section-reach"' not in page
    assert export_events() == []


@pytest.mark.parametrize("role", ["entity_operator", "housing_provider", "admin"])
@pytest.mark.parametrize("path", ["/reports/", "/reports/export.csv", "/reports/export.xlsx"])
def test_only_the_city_gets_the_report(client, login_as, role, path):
    login_as(role)
    assert client.get(path).status_code == 403
    assert export_events() == []


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get("/reports/")
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]


# Charts ---------------------------------------------------------------------------------------


def test_a_chart_is_an_accessible_svg_with_labelled_bars_and_no_inline_style():
    svg = str(
        bar_chart(
            "chart-x",
            "Titolo <del>",
            "Descrizione",
            [Bar("Uno", 10, "10"), Bar("Due & tre", "<5", "<5"), Bar("Zero", 0, "0")],
        )
    )

    assert svg.startswith('<svg class="report-chart" role="img"')
    assert 'aria-labelledby="chart-x-title chart-x-desc"' in svg
    assert '<title id="chart-x-title">Titolo &lt;del&gt;</title>' in svg
    assert '<desc id="chart-x-desc">Descrizione</desc>' in svg
    assert "style=" not in svg
    assert "<script" not in svg
    assert svg.count("<rect") == 1  # the suppressed and the zero bars have no length
    assert ">&lt;5</text>" in svg  # ... but keep their label
    assert "Due &amp; tre" in svg
    assert bar_chart("x", "t", "d", []) == ""


def test_every_chart_on_the_page_is_followed_by_its_table(client, login_as, world):
    login_as("coordinator")
    world.distribution(world.household(3), date(2025, 2, 1))
    _db.session.commit()

    page = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)

    charts = re.findall(r'<svg class="report-chart".*?</svg>\s*(<[a-z]+[^>]*>)', page, re.S)
    assert len(charts) >= 10
    assert all(following.startswith('<div class="table-responsive"') for following in charts)
    assert "style=" not in "".join(re.findall(r"<svg.*?</svg>", page, re.S))
    assert page.count('<th scope="col"') > 30
    assert "<caption>" in page


# Exports --------------------------------------------------------------------------------------


def _named_world(world):
    """Young people with names and codici fiscali, referred and in projects."""
    people = []
    for n in range(6):
        household = world.household(
            5,
            first_name=f"Giulia{n}",
            last_name=f"Ferraris{n}",
            birth_date=years_before(END, 22) - timedelta(days=n),
        )
        world.referral(household, at(date(2025, 2, 1)), "in_progress")
        people.append(household.members[0])
    lone = world.household(
        2, first_name="Ettore", last_name="Solitario", birth_date=years_before(END, 27)
    )
    world.project(lone, "active", youth=True)
    people.append(lone.members[0])
    _db.session.commit()
    return people


def test_the_xlsx_is_pseudonymised_and_suppresses_small_counts(client, login_as, world):
    user = login_as("coordinator")
    people = _named_world(world)

    response = client.get("/reports/export.xlsx", query_string=PERIOD)

    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    cells = [
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    text = "\n".join(cells)
    for person in people:
        assert person.first_name not in text
        assert person.last_name not in text
        assert person.codice_fiscale not in text
    assert "Motivazione riservata" not in text  # no free text
    assert "Via Prova" not in text  # no addresses

    # No sheet lists people one per row, even under a pseudonym (see test_reports_suppression).
    assert all(pseudonym(person.id) not in text for person in people)

    reach = {row[0]: row for row in workbook["Nuclei raggiunti"].iter_rows(values_only=True)}
    assert reach["2 · Santa Rita, Mirafiori Nord, Mirafiori Sud"][1:] == ("<5", "<5")
    assert reach[CIRC_5][1:] == ("n.d.", "n.d.")  # 7 - 6 would give the "<5" away
    assert reach["Totale"][1:] == (7, 7)
    assert reach["1 · Centro, Crocetta"][1:] == (0, 0)

    [audit] = export_events()
    assert audit.actor_id == user.id
    assert audit.changes == {
        "format": "xlsx",
        "dal": "2025-01-01",
        "al": "2025-03-31",
        "circoscrizione": None,
        "linea": None,
    }


def test_the_csv_has_every_figure_suppressed_and_is_audited_with_its_filters(
    client, login_as, world
):
    login_as("coordinator")
    people = _named_world(world)

    response = client.get("/reports/export.csv", query_string={**PERIOD, "circ": "5", "linea": "A"})

    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert text.startswith("Sezione;Tabella;Voce;Colonna;Valore\r\n")
    assert "Filtri;;Circoscrizione;;5 · Borgo Vittoria" in text
    assert (
        "Persone e nuclei raggiunti;Nuclei familiari e giovani raggiunti, per circoscrizione del"
        " nucleo;5 · Borgo Vittoria, Madonna di Campagna, Lucento, Vallette;Nuclei raggiunti;6"
    ) in text
    assert "In corso;Segnalazioni;6\r\n" in text
    assert "Contratto di lavoro;Tipo di esito;esito positivo" in text
    # Line A only: no projects, no housing.
    assert "\r\nProgetti individualizzati e budget di vita;" not in text
    assert "\r\nHousing sociale e accoglienza;" not in text
    for person in people:
        assert person.last_name not in text
        assert person.codice_fiscale not in text
    [audit] = export_events()
    assert audit.changes["format"] == "csv"
    assert audit.changes["circoscrizione"] == 5
    assert audit.changes["linea"] == "A"


def test_suppressed_counts_in_the_csv(client, login_as, world):
    login_as("coordinator")
    world.referral(world.household(3), at(date(2025, 2, 1)), "completed", reason_code="traineeship")
    _db.session.commit()

    text = client.get("/reports/export.csv", query_string=PERIOD).data.decode("utf-8-sig")

    assert "Tirocinio avviato;Segnalazioni;<5\r\n" in text
    assert "Conclusa con esito positivo;Segnalazioni;<5\r\n" in text


# Aggregation in SQL ---------------------------------------------------------------------------


def test_the_report_runs_the_same_queries_whatever_the_data(
    client, login_as, world, app, monkeypatch
):
    """Counting happens in the database: more households, referrals and distributions do not
    mean more queries (no row is loaded to be counted in Python)."""
    monkeypatch.setitem(app.config, "LAYOUT_CACHE", False)  # counted without what the layout keeps
    login_as("coordinator")

    def queries_for_page():
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(_db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/reports/", query_string=PERIOD).status_code == 200
        finally:
            event.remove(_db.engine, "before_cursor_execute", count)
        return len(statements)

    world.distribution(world.household(3), date(2025, 2, 1))
    _db.session.commit()
    few = queries_for_page()
    for n in range(15):
        household = world.household(1 + n % 8, birth_date=years_before(END, 20))
        world.distribution(household, date(2025, 2, 1 + n), site=world.hub5)
        world.referral(household, at(date(2025, 2, 1)), "completed", reason_code="traineeship")
        world.project(household, "active", youth=True)
        world.placement(household, "active", moved_in_on=date(2025, 1, 5))
    _db.session.commit()

    assert queries_for_page() == few
