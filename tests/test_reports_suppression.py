"""Suppression that cannot be undone: no count hidden as "<5" (or "n.d.") can be worked out from
the cells and totals the report shows, the page, the CSV and the XLSX show the same cells, and no
sheet lists people one by one."""

from __future__ import annotations

import csv
import io
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from app.exports import PRIMARY, SECONDARY, Count, Sum, protect, pseudonym
from app.extensions import db as _db
from app.households.models import Person
from tests.test_reports import CIRC_3, CIRC_5, PERIOD, at, table_row, world  # noqa: F401

HIDDEN = (PRIMARY, SECONDARY)
CIRC_2 = "2 · Santa Rita, Mirafiori Nord, Mirafiori Sud"


# The attacker ---------------------------------------------------------------------------------


def _bounds(value):
    """What a reader knows of a published cell."""
    if value == PRIMARY:
        return 1, 4
    if value == SECONDARY:
        return 5, float("inf")
    return value, value


def recoverable(total, parts) -> list[int]:
    """Indexes (0 the total, then the parts) of hidden cells a reader can pin down from one
    published relation total = sum(parts): by subtraction, or because the bounds of the other
    cells leave a single value."""
    cells = [total, *parts]
    bounds = [_bounds(cell) for cell in cells]
    found = []
    for index, cell in enumerate(cells):
        if cell not in HIDDEN:
            continue
        if index == 0:
            low = sum(b[0] for b in bounds[1:])
            high = sum(b[1] for b in bounds[1:])
        else:
            others = bounds[1:index] + bounds[index + 1 :]
            low = bounds[0][0] - sum(b[1] for b in others)
            high = bounds[0][1] - sum(b[0] for b in others)
        if max(low, bounds[index][0]) >= min(high, bounds[index][1]):
            found.append(index)
    return found


def test_the_attacker_recovers_what_primary_suppression_alone_leaves():
    """7 = 5 + "<5": the issue's example."""
    assert recoverable(7, [5, PRIMARY]) == [2]
    assert recoverable(PRIMARY, [0, 3]) == [0]
    assert recoverable(6, [PRIMARY, SECONDARY]) == [1, 2]  # only 1 + 5 makes 6
    assert recoverable(9, [PRIMARY, SECONDARY]) == []


# The suppression function ---------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(st.integers(0, 12), min_size=3, max_size=3), min_size=1, max_size=5).filter(
        lambda grid: any(0 < v < 5 for row in grid for v in row)
    )
)
def test_no_hidden_cell_of_a_table_with_margins_can_be_recovered(grid):
    """A grid with row totals, column totals and a grand total, as the report's tables have."""
    cells = [[Count(v) for v in row] for row in grid]
    row_totals = [Count(sum(row)) for row in grid]
    column_totals = [Count(sum(column)) for column in zip(*grid, strict=True)]
    grand = Count(sum(map(sum, grid)))
    sums = [Sum(total, row) for total, row in zip(row_totals, cells, strict=True)]
    sums += [
        Sum(total, list(column))
        for total, column in zip(column_totals, zip(*cells, strict=True), strict=True)
    ]
    sums += [Sum(grand, row_totals), Sum(grand, column_totals)]

    protect([], sums)

    for relation in sums:
        members = [relation.total, *relation.parts]
        # Subtraction: never exactly one hidden cell in a row, a column or a margin.
        assert sum(bool(cell.hidden) for cell in members) != 1, (grid, relation)
        # Bounds: a "<5" is 1..4, a "n.d." at least 5. Known limit: up to four "<5" adding up to
        # a "<5" total with nothing else above zero (all 1) cannot be protected by hiding more.
        if any(not cell.hidden and cell.value for cell in members):
            shown = recoverable(relation.total.published, [p.published for p in relation.parts])
            assert shown == [], (grid, relation)
    for row in cells:
        for cell in row:
            if 0 < cell.value < 5:
                assert cell.published == PRIMARY
            elif cell.hidden:
                assert cell.published == SECONDARY
                assert cell.value >= 5
            else:
                assert cell.published == cell.value


# The report -----------------------------------------------------------------------------------

# Tables whose count columns add up to their footer ("Totale" row): (key, sheet, count columns).
SUMMED_COLUMNS = {
    "reach": ("Nuclei raggiunti", [1, 2]),
    "referrals-status": ("Segnalazioni per stato", [1]),
    "placements-status": ("Inserimenti per stato", [1]),
    "projects-status": ("Progetti per stato", [1]),
    "projects-youth": ("Progetti per giovani", [1]),
}
COUNT_TABLES = {
    **{key: sheet for key, (sheet, _c) in SUMMED_COLUMNS.items()},
    "distributions": "Distribuzioni per snodo",
    "referrals-outcome": "Segnalazioni per esito",
    "referrals-service": "Segnalazioni per servizio",
}


def _small_world(world):  # noqa: F811
    """Small and large counts side by side, in every section."""
    for _n in range(6):
        world.distribution(world.household(5), date(2025, 2, 1), site=world.hub5)
    for _n in range(2):
        world.distribution(world.household(3), date(2025, 2, 1))
    world.distribution(world.household(3), date(2025, 2, 2), kind="basic_necessities")
    for _n in range(7):
        world.referral(world.household(5), at(date(2025, 2, 1)), "in_progress")
    world.referral(
        world.household(3),
        at(date(2025, 2, 1)),
        "completed",
        reason_code="traineeship",
        approved_at=at(date(2025, 2, 2)),
        closed_at=at(date(2025, 2, 20)),
    )
    world.referral(world.household(3), at(date(2025, 2, 3)), "submitted", service=world.training)
    for _n in range(5):
        world.project(world.household(5), "active")
    world.project(world.household(2), "active", youth=True)
    for _n in range(2):
        world.placement(world.household(5), "active")
    _db.session.commit()


def _sheets(client):
    data = client.get("/reports/export.xlsx", query_string=PERIOD).data
    workbook = load_workbook(io.BytesIO(data))
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }


def test_no_suppressed_cell_of_the_report_can_be_recovered(client, login_as, world):  # noqa: F811
    login_as("coordinator")
    _small_world(world)
    sheets = _sheets(client)

    hidden = [value for rows in sheets.values() for row in rows for value in row if value in HIDDEN]
    assert PRIMARY in hidden
    assert SECONDARY in hidden
    for _key, (title, columns) in SUMMED_COLUMNS.items():
        header, *rows, footer = sheets[title]
        assert footer[0] == "Totale"
        for column in columns:
            parts = [row[column] for row in rows]
            assert recoverable(footer[column], parts) == [], (title, header[column])
    # Distributions: each hub's kinds add up to its total, each column to the footer.
    header, *hubs, footer = sheets["Distribuzioni per snodo"]
    kinds = slice(3, header.index("Totale distribuzioni"))
    total = header.index("Totale distribuzioni")
    for row in [*hubs, footer]:
        assert recoverable(row[total], row[kinds]) == [], row
    for column in range(kinds.start, total + 1):
        assert recoverable(footer[column], [row[column] for row in hubs]) == [], header[column]
    # Referrals: the outcomes, the service types and the times count the same referrals as the
    # status table.
    by_status = {row[0]: row[1] for row in sheets["Segnalazioni per stato"][1:]}
    outcomes = sheets["Segnalazioni per esito"][1:]
    services = sheets["Segnalazioni per servizio"][1:]
    for status, kind in (
        ("Conclusa con esito positivo", "esito positivo"),
        ("Conclusa senza esito", "senza esito"),
    ):
        parts = [row[2] for row in outcomes if row[1] == kind]
        assert recoverable(by_status[status], parts) == [], status
    assert recoverable(by_status["Totale"], [row[1] for row in services]) == []
    assert recoverable(by_status["Conclusa con esito positivo"], [row[2] for row in services]) == []
    times = {row[0]: row[1] for row in sheets["Tempi delle segnalazioni"][1:]}
    outcome_count = times["Dall'invio all'esito finale"]
    closed = [by_status["Conclusa con esito positivo"], by_status["Conclusa senza esito"]]
    assert recoverable(outcome_count, closed) == []
    # The two project tables share their total.
    assert sheets["Progetti per giovani"][-1][1] == sheets["Progetti per stato"][-1][1]
    assert sheets["Progetti per giovani"][1][2] is None  # no share gives a hidden count away


def _page_text(value) -> str:
    return "—" if value is None else str(value)


def test_page_csv_and_xlsx_show_the_same_cells(client, login_as, world):  # noqa: F811
    login_as("coordinator")
    _small_world(world)
    sheets = _sheets(client)
    page = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)
    text = client.get("/reports/export.csv", query_string=PERIOD).data.decode("utf-8-sig")
    csv_cells = {
        (table, label, column): value
        for _section, table, label, column, value in csv.reader(io.StringIO(text), delimiter=";")
    }
    captions = {}
    for key, title in COUNT_TABLES.items():
        captions[title] = page.split(f'id="table-{key}"', 1)[1].split("<caption>", 1)[1]
        captions[title] = captions[title].split("</caption>", 1)[0]

    compared = 0
    for key, title in COUNT_TABLES.items():
        header, *rows = sheets[title]
        for row in rows:
            shown = table_row(page, key, row[0])
            for column, value in zip(header[1:], row[1:], strict=True):
                index = header.index(column) - 1
                if isinstance(value, int) or value in HIDDEN:
                    assert shown[index] == _page_text(value), (title, row[0], column)
                    csv_value = csv_cells[(captions[title], row[0], column)]
                    assert csv_value == str(value), (title, row[0], column)
                    compared += 1
    assert compared > 50
    assert table_row(page, "reach", CIRC_2)[0] == "<5"
    assert table_row(page, "reach", CIRC_3)[0] == "n.d."  # 5, the smallest other count
    # 1 + 5 is the only way a "<5" and a "n.d." make 6 (total less the shown 20): hidden too.
    assert table_row(page, "reach", CIRC_5)[0] == "n.d."


def test_no_sheet_lists_people_one_by_one(client, login_as, world):  # noqa: F811
    """Rows by district under a pseudonym would let anyone count the people behind a "<5"."""
    login_as("coordinator")
    _small_world(world)
    sheets = _sheets(client)

    assert "Giovani raggiunti" not in sheets
    assert set(sheets) == {"Filtri", *COUNT_TABLES.values()} | {
        "Tempi delle segnalazioni",
        "Attese per passaggio",
        "Uscite per motivo",
        "Occupazione alloggi",
        "Spesa per categoria",
        "Avanzamento programma",
    }
    people = _db.session.scalars(_db.select(Person)).all()
    codes = {pseudonym(person.id) for person in people}
    cells = {str(v) for rows in sheets.values() for row in rows for v in row if v is not None}
    assert not codes & cells
