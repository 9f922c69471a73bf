"""CSV and XLSX downloads of lists: the user's scope, the list's filters, audited if personal."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app import exports
from app.audit.models import AuditEvent, AuditEventHousehold
from app.clock import today
from app.db import utcnow
from app.distributions.models import Distribution
from app.extensions import db as _db
from app.housing.models import Placement
from app.money import ZERO
from app.projects.models import BudgetLine, Project
from app.referrals.vocabulary import STATUSES
from app.web.list_export import Column, export_list
from tests import factories
from tests.worlds import make_referral, make_unit, signed_in

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline=""), delimiter=";"))


def xlsx_rows(response, sheet: int = 0) -> list[tuple[Any, ...]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.get_data()))
    return list(book.worksheets[sheet].iter_rows(values_only=True))


def column(rows, name) -> list[Any]:
    index = list(rows[0]).index(name)
    return [row[index] for row in rows[1:]]


def audit_events(action):
    return _db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def named_households(event):
    """The households an audit event says its response showed."""
    return sorted(
        _db.session.scalars(
            select(AuditEventHousehold.household_id).where(
                AuditEventHousehold.audit_event_id == event.id
            )
        )
    )


def make_placement(household, unit, status="proposed", **fields):
    values: dict[str, Any] = {
        "household_id": household.id,
        "unit_id": unit.id,
        "provider_id": unit.provider_id,
        "status": status,
        "approved_at": None if status in ("proposed", "rejected") else utcnow(),
    }
    values.update(fields)
    placement = Placement(**values)
    _db.session.add(placement)
    _db.session.flush()
    return placement


# Who may download which list -----------------------------------------------------------------

LIST_EXPORTS = [
    "/entities/export.csv",
    "/entities/export.xlsx",
    "/households/export.csv",
    "/households/export.xlsx",
    "/referrals/export.csv",
    "/referrals/export.xlsx",
    "/housing/export.csv",
    "/housing/export.xlsx",
    "/housing/placements/export.csv",
    "/housing/placements/export.xlsx",
]


@pytest.mark.parametrize("path", LIST_EXPORTS)
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("admin", "/households/export.csv"),
        ("admin", "/households/export.xlsx"),
        ("housing_provider", "/households/export.csv"),
        ("admin", "/referrals/export.csv"),
        ("housing_provider", "/referrals/export.xlsx"),
        ("admin", "/housing/export.csv"),
        ("admin", "/housing/placements/export.csv"),
        ("admin", "/housing/placements/export.xlsx"),
    ],
)
def test_roles_without_the_list_are_refused_as_on_the_page(client, login_as, role, path):
    login_as(role)
    assert client.get(path).status_code == 403
    assert not audit_events("households_exported")


def test_lists_link_their_downloads_with_the_current_filters(client, login_as):
    login_as("coordinator")
    html = client.get("/households/?circ=3&stato=tutti", headers=HTMX).get_data(as_text=True)
    assert 'href="/households/export.csv?circ=3&amp;stato=tutti"' in html
    assert 'href="/households/export.xlsx?circ=3&amp;stato=tutti"' in html
    html = client.get("/referrals/?status=approved", headers=HTMX).get_data(as_text=True)
    assert 'href="/referrals/export.csv?status=approved"' in html
    html = client.get("/entities/?circ=2", headers=HTMX).get_data(as_text=True)
    assert 'href="/entities/export.xlsx?circ=2"' in html
    html = client.get("/housing/?tipo=night_shelter_bed", headers=HTMX).get_data(as_text=True)
    assert 'href="/housing/export.csv?tipo=night_shelter_bed"' in html
    html = client.get("/housing/placements/?stato=active", headers=HTMX).get_data(as_text=True)
    assert 'href="/housing/placements/export.xlsx?stato=active"' in html


# Registry (no personal data) -----------------------------------------------------------------


def test_registry_exports_keep_the_filters_in_both_formats(app, db):
    factories.organization(name="Ente Centro", circoscrizione=1)
    org = factories.organization(name="Ente Barriera", circoscrizione=6)
    factories.accreditation(org)
    browser = signed_in(app, factories.user("entity_operator"))
    rows = csv_rows(browser.get("/entities/export.csv?circ=6"))
    assert "Ente Barriera" in column(rows, "Denominazione")
    assert "Ente Centro" not in column(rows, "Denominazione")
    sheet = xlsx_rows(browser.get("/entities/export.xlsx?circ=6"))
    assert column(sheet, "Denominazione") == column(rows, "Denominazione")
    expiry = column(sheet, "Scadenza")[column(sheet, "Denominazione").index("Ente Barriera")]
    assert expiry.date() == org.accreditation.expires_on  # a real date in the workbook


# Households (personal data: own scope, audited) ----------------------------------------------


@pytest.fixture
def two_entities(app, db):
    ours = factories.organization(name="Ente Nostro", is_hub=True)
    theirs = factories.organization(name="Ente Altrui", is_hub=True)
    mine_3 = factories.household(ours, members=2, circoscrizione=3)
    mine_5 = factories.household(ours, circoscrizione=5)
    other = factories.household(theirs, circoscrizione=3)
    operator = factories.user("entity_operator", ours)
    _db.session.commit()
    return ours, theirs, mine_3, mine_5, other, operator


def test_household_export_holds_only_the_operators_households(app, two_entities):
    _ours, _theirs, mine_3, mine_5, other, operator = two_entities
    browser = signed_in(app, operator)
    rows = csv_rows(browser.get("/households/export.csv"))
    assert rows[0][:3] == ["N. nucleo", "Persona di riferimento", "Componenti"]
    assert sorted(int(n) for n in column(rows, "N. nucleo")) == sorted([mine_3.id, mine_5.id])
    assert other.display_name not in "".join(";".join(r) for r in rows)
    numbers = {
        int(n): size
        for n, size in zip(column(rows, "N. nucleo"), column(rows, "Componenti"), strict=True)
    }
    assert numbers[mine_3.id] == "2"


def test_household_export_keeps_the_filters_and_is_audited(app, two_entities):
    _ours, _theirs, mine_3, _mine_5, _other, operator = two_entities
    browser = signed_in(app, operator)
    sheet = xlsx_rows(browser.get("/households/export.xlsx?circ=3&q=&pagina=4"))
    assert column(sheet, "N. nucleo") == [mine_3.id]
    assert column(sheet, "Circoscrizione") == [3]
    [exported] = audit_events("households_exported")
    assert exported.actor_id == operator.id
    assert exported.actor_organization_id == operator.organization_id
    assert exported.changes == {
        "filters": {"circ": 3},
        "rows": 1,
        "format": "xlsx",
        "households": 1,
    }
    assert named_households(exported) == [mine_3.id]


def test_coordinator_exports_every_households_with_the_organization(app, two_entities):
    _ours, _theirs, mine_3, mine_5, other, _operator = two_entities
    browser = signed_in(app, factories.user("coordinator"))
    rows = csv_rows(browser.get("/households/export.csv"))
    assert sorted(int(n) for n in column(rows, "N. nucleo")) == sorted(
        [mine_3.id, mine_5.id, other.id]
    )
    assert set(column(rows, "Ente")) == {"Ente Nostro", "Ente Altrui"}


def test_household_export_searched_by_name_finds_nothing_of_another_entity(app, two_entities):
    _ours, _theirs, _mine_3, _mine_5, other, operator = two_entities
    browser = signed_in(app, operator)
    person = other.members[0]
    for query in (person.last_name, person.codice_fiscale):
        rows = csv_rows(browser.get(f"/households/export.csv?q={query}&stato=tutti"))
        assert rows[1:] == []


def test_household_export_is_capped_with_a_message(app, two_entities, monkeypatch):
    import app.households.views as household_views

    monkeypatch.setattr(household_views, "ROW_LIMIT", 1)
    browser = signed_in(app, two_entities[-1])
    rows = csv_rows(browser.get("/households/export.csv"))
    assert len(rows) == 3
    assert rows[-1][0].startswith("Esportazione limitata alle prime 1 righe")
    assert audit_events("households_exported")[0].changes["rows"] == 1


# Referrals (personal data: the user's side, audited) -----------------------------------------


@pytest.fixture
def referral_net(app, db):
    sender = factories.organization(name="Ente Inviante", is_hub=True)
    receiver = factories.organization(name="Ente Ricevente")
    stranger = factories.organization(name="Ente Estraneo", is_hub=True)
    service = factories.service(receiver, name="Orientamento")
    household = factories.household(sender, members=2)
    elsewhere = factories.household(stranger)
    approved = make_referral(household, service, "approved")
    submitted = make_referral(household, service, "submitted")
    foreign = make_referral(elsewhere, service, "approved")
    _db.session.commit()
    return sender, receiver, stranger, household, approved, submitted, foreign


def test_sender_exports_its_referrals_with_the_household(app, referral_net):
    sender, _receiver, _stranger, household, approved, submitted, _foreign = referral_net
    browser = signed_in(app, factories.user("entity_operator", sender))
    rows = csv_rows(browser.get("/referrals/export.csv"))
    assert sorted(int(n) for n in column(rows, "N.")) == sorted([approved.id, submitted.id])
    assert set(column(rows, "Nucleo")) == {household.display_name}
    [exported] = audit_events("referrals_exported")
    assert exported.changes["rows"] == 2


def test_receiver_exports_approved_referrals_with_the_person_only(app, referral_net):
    _sender, receiver, _stranger, household, approved, submitted, foreign = referral_net
    browser = signed_in(app, factories.user("entity_operator", receiver))
    sheet = xlsx_rows(browser.get("/referrals/export.xlsx"))
    assert sorted(column(sheet, "N.")) == sorted([approved.id, foreign.id])
    assert submitted.id not in column(sheet, "N.")
    # The minimal view: the person's name, never the household.
    assert set(column(sheet, "Nucleo")) == {None}
    mine = column(sheet, "Persona")[column(sheet, "N.").index(approved.id)]
    assert mine == household.members[0].full_name


def test_referral_export_keeps_the_filters(app, referral_net):
    sender, *_rest, submitted, _foreign = referral_net
    browser = signed_in(app, factories.user("entity_operator", sender))
    rows = csv_rows(browser.get("/referrals/export.csv?status=submitted"))
    assert column(rows, "N.") == [str(submitted.id)]
    assert column(rows, "Stato") == [str(STATUSES["submitted"])]
    assert audit_events("referrals_exported")[0].changes["filters"] == {"status": "submitted"}


def test_another_entity_exports_none_of_these_referrals(app, referral_net):
    _sender, _receiver, stranger, *_rest = referral_net
    browser = signed_in(app, factories.user("entity_operator", stranger))
    rows = csv_rows(browser.get("/referrals/export.csv"))
    # Only the referral of its own household.
    assert column(rows, "N.") == [str(referral_net[-1].id)]


# Housing board (no personal data) and placements (audited, initials until approved) -----------


def test_board_export_keeps_the_filters_and_has_the_totals_sheet(app, db):
    provider = factories.organization(is_housing_provider=True, circoscrizione=2)
    shelter = make_unit(
        provider, kind="night_shelter_bed", circoscrizione=2, capacity=10, vacancies=3
    )
    make_unit(provider, kind="temporary_flat", circoscrizione=2)
    make_unit(provider, kind="night_shelter_bed", circoscrizione=2, active=False, name="Chiuso")
    browser = signed_in(app, factories.user("entity_operator"))
    rows = csv_rows(browser.get("/housing/export.csv?tipo=night_shelter_bed"))
    assert column(rows, "N. alloggio") == [str(shelter.id)]
    assert column(rows, "Posti liberi") == ["3"]
    assert column(rows, "Accessibile") == ["no"]
    units = xlsx_rows(browser.get("/housing/export.xlsx?tipo=night_shelter_bed"))
    assert column(units, "Capienza") == [10]
    totals = xlsx_rows(browser.get("/housing/export.xlsx?tipo=night_shelter_bed"), sheet=1)
    assert totals[-1][:4] == ("Tutta la città", 1, 10, 3)
    assert not audit_events("households_exported")


def test_provider_sees_its_own_inactive_units_only_when_it_asks_for_them(app, db):
    provider = factories.organization(is_housing_provider=True)
    other = factories.organization(is_housing_provider=True)
    closed_mine = make_unit(provider, active=False)
    make_unit(other, active=False, name="Chiuso altrui")
    browser = signed_in(app, factories.user("housing_provider", provider))
    rows = csv_rows(browser.get("/housing/export.csv?miei=1"))
    assert column(rows, "N. alloggio") == [str(closed_mine.id)]
    rows = csv_rows(browser.get("/housing/export.csv"))
    assert "Chiuso altrui" not in column(rows, "Alloggio")


@pytest.fixture
def placements_net(app, db):
    provider = factories.organization(is_housing_provider=True, name="Gestore Uno")
    other_provider = factories.organization(is_housing_provider=True, name="Gestore Due")
    entity = factories.organization(name="Ente Proponente", is_hub=True)
    household = factories.household(entity, members=3)
    other_household = factories.household(factories.organization(is_hub=True))
    unit = make_unit(provider)
    proposed = make_placement(household, unit, "proposed")
    approved = make_placement(other_household, unit, "approved")
    elsewhere = make_placement(household, make_unit(other_provider), "active")
    _db.session.commit()
    return provider, entity, household, other_household, proposed, approved, elsewhere


def test_provider_export_has_initials_until_the_city_approves(app, placements_net):
    provider, _entity, household, other_household, proposed, approved, _elsewhere = placements_net
    browser = signed_in(app, factories.user("housing_provider", provider))
    rows = csv_rows(browser.get("/housing/placements/export.csv"))
    numbers = [int(n) for n in column(rows, "N.")]
    assert sorted(numbers) == sorted([proposed.id, approved.id])
    names = dict(zip(numbers, column(rows, "Nucleo"), strict=True))
    reference = household.members[0]
    assert names[proposed.id] == f"{reference.first_name[0]}. {reference.last_name[0]}."
    assert reference.last_name not in ";".join(";".join(r) for r in rows)
    assert names[approved.id] == other_household.display_name
    sizes = dict(zip(numbers, column(rows, "Componenti"), strict=True))
    assert sizes[proposed.id] == "3"
    [exported] = audit_events("placements_exported")
    assert exported.changes == {"filters": {}, "rows": 2, "format": "csv", "households": 2}


def test_entity_exports_the_placements_of_its_households_with_the_filter(app, placements_net):
    _provider, entity, household, _other, proposed, _approved, elsewhere = placements_net
    browser = signed_in(app, factories.user("entity_operator", entity))
    sheet = xlsx_rows(browser.get("/housing/placements/export.xlsx?stato=active"))
    assert column(sheet, "N.") == [elsewhere.id]
    assert column(sheet, "Nucleo") == [household.display_name]
    assert audit_events("placements_exported")[0].changes["filters"] == {"stato": "active"}
    all_rows = xlsx_rows(browser.get("/housing/placements/export.xlsx"))
    assert sorted(column(all_rows, "N.")) == sorted([proposed.id, elsewhere.id])


def test_placement_dates_are_typed_in_the_workbook(app, placements_net):
    *_rest, elsewhere = placements_net
    elsewhere.moved_in_on = (utcnow() - timedelta(days=3)).date()
    _db.session.commit()
    browser = signed_in(app, factories.user("coordinator"))
    sheet = xlsx_rows(browser.get("/housing/placements/export.xlsx?stato=active"))
    assert hasattr(column(sheet, "Ingresso")[0], "year")


@pytest.mark.parametrize(
    "query",
    [
        "q=%27%3B+DROP+TABLE+household%3B+--",
        "q=" + "x" * 300,
        "circ=99999999999999999999",
        "circ=-1&stato=nope&bisogno=%3Cscript%3E",
        "status=nope&servizio=abc&dal=2026-02-30&al=0000-00-00&scadute=1",
        "tipo=%3Cx%3E&gruppo=nope&liberi=maybe&miei=1",
        "stato=%F0%9F%98%80",
        "pagina=99999999999",
    ],
)
def test_hostile_filters_never_break_a_download(client, login_as, query):
    login_as("coordinator")
    for path in LIST_EXPORTS:
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query, response.status_code)


def test_project_export_holds_only_the_own_projects_with_exact_totals_and_is_audited(
    app, two_entities
):
    ours, theirs, mine_3, _mine_5, other, operator = two_entities
    mine = Project(
        household_id=mine_3.id,
        organization_id=ours.id,
        title="Patente e tirocinio",
        status="active",
        youth=True,
    )
    hidden = Project(household_id=other.id, organization_id=theirs.id, title="Progetto altrui")
    _db.session.add_all([mine, hidden])
    _db.session.flush()
    for planned, paid in ((Decimal("1234.56"), Decimal("1000.00")), (Decimal("0.45"), ZERO)):
        _db.session.add(
            BudgetLine(
                project_id=mine.id,
                category="training",
                description="Corso",
                planned=planned,
                approved=planned,
                committed=planned,
                paid=paid,
            )
        )
    browser = signed_in(app, operator)

    sheet = xlsx_rows(browser.get("/projects/export.xlsx?giovani=1"))

    assert column(sheet, "Progetto") == ["Patente e tirocinio"]
    assert column(sheet, "Approvato") == [1235.01]
    assert column(sheet, "Pagato") == [1000]
    rows = csv_rows(browser.get("/projects/export.csv"))
    assert "Progetto altrui" not in "".join(";".join(r) for r in rows)
    assert column(rows, "Disponibile") == ["0,00"]
    exported = sorted(audit_events("projects_exported"), key=lambda event: event.id)
    assert [e.changes["format"] for e in exported] == ["xlsx", "csv"]
    assert exported[0].changes["filters"] == {"giovani": "1"}


def test_distribution_export_is_the_months_log_of_the_own_hubs_and_is_audited(app, two_entities):
    ours, theirs, mine_3, _mine_5, other, operator = two_entities
    our_hub = factories.site(ours, name="Snodo Nostro", is_hub=True)
    their_hub = factories.site(theirs, name="Snodo Altrui", is_hub=True)
    day = today().replace(day=1)
    for household, site in ((mine_3, our_hub), (other, their_hub)):
        _db.session.add(
            Distribution(
                household_id=household.id,
                site_id=site.id,
                organization_id=site.organization_id,
                distributed_on=day,
                kind="food_basket",
                quantity=2,
            )
        )
    _db.session.add(
        Distribution(
            household_id=mine_3.id,
            site_id=our_hub.id,
            organization_id=ours.id,
            distributed_on=day - timedelta(days=1),  # last month: not in this month's log
            kind="food_basket",
            quantity=1,
        )
    )
    browser = signed_in(app, operator)

    rows = csv_rows(browser.get(f"/distributions/export.csv?mese={day:%Y-%m}"))

    assert column(rows, "Snodo") == ["Snodo Nostro"]
    assert column(rows, "Data") == [day.strftime("%d/%m/%Y")]
    assert column(rows, "Quantità") == ["2"]
    assert other.display_name not in "".join(";".join(r) for r in rows)
    [exported] = audit_events("distributions_exported")
    assert exported.changes == {
        "month": f"{day:%Y-%m}",
        "rows": 1,
        "format": "csv",
        "households": 1,
    }


def test_a_declared_export_has_its_columns_its_cut_note_and_one_audit_event(app, db):
    """export_list(): the header from the columns, a row per record, the note when the list
    was cut, one committed audit event with the filters, the rows and the format."""
    org = factories.organization()
    first, second = factories.household(org), factories.household(org)
    _db.session.commit()
    columns = [Column("N.", lambda h: h.id), Column("Circoscrizione", lambda h: h.circoscrizione)]
    with app.test_request_context("/households/export.csv"):
        response = export_list(
            "csv",
            [first, second],
            columns,
            cut_at=exports.ROW_LIMIT,
            household_of=lambda h: h.id,
            filename="nuclei-prova",
            title="Nuclei",
            action="households_exported",
            changes={"filters": {"circ": "3"}},
        )
    rows = csv_rows(response)
    assert rows[0] == ["N.", "Circoscrizione"]
    assert rows[1:3] == [
        [str(first.id), str(first.circoscrizione)],
        [str(second.id), str(second.circoscrizione)],
    ]
    assert rows[3] == [exports.limit_note(exports.ROW_LIMIT)]
    _db.session.rollback()  # what follows reads what was committed
    [event] = audit_events("households_exported")
    assert event.changes == {"filters": {"circ": "3"}, "rows": 2, "format": "csv", "households": 2}
    assert named_households(event) == sorted([first.id, second.id])
