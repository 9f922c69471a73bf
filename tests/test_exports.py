"""The shared export module: Italian CSV, XLSX, pseudonyms, small-count suppression."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from app.admin.models import Setting, set_setting
from app.exports import (
    PSEUDONYM_KEY_SETTING,
    Sheet,
    csv_response,
    pseudonym,
    suppress,
    xlsx_response,
)
from app.extensions import db as _db

SUMMER = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)  # 12:30 in Turin (CEST)
WINTER = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # 00:30 of the 16th in Turin (CET)


def csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline=""), delimiter=";"))


def workbook(response):
    return load_workbook(io.BytesIO(response.get_data()))


# CSV ----------------------------------------------------------------------------------------


def test_csv_has_bom_semicolons_crlf_and_is_a_download(app: Flask) -> None:
    with app.test_request_context():
        response = csv_response("nuclei-2026", ["Nome", "Città"], [["Amina", "Torino"]])
    body = response.get_data()
    assert body == "\ufeffNome;Città\r\nAmina;Torino\r\n".encode()
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="nuclei-2026.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"


def test_csv_writes_dates_times_decimals_and_booleans_the_italian_way(app: Flask) -> None:
    row = [date(2026, 3, 9), SUMMER, WINTER, Decimal("1234.56"), Decimal("-7.50"), True, False]
    row += [None, 42, 2.5]
    with app.test_request_context():
        response = csv_response("x.csv", ["a"] * len(row), [row])
    assert csv_rows(response)[1] == [
        "09/03/2026",
        "01/07/2026 12:30",
        "16/01/2026 00:30",
        "1234,56",
        "-7,50",
        "sì",
        "no",
        "",
        "42",
        "2,5",
    ]


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote(app: Flask, text: str) -> None:
    with app.test_request_context():
        response = csv_response("x", ["=header"], [[text, "Via Roma; 3", "riga\nnuova"]])
    rows = csv_rows(response)
    assert rows[0] == ["'=header"]
    assert rows[1] == ["'" + text, "Via Roma; 3", "riga\nnuova"]


def test_csv_filename_with_accents_keeps_an_ascii_fallback(app: Flask) -> None:
    with app.test_request_context():
        response = csv_response('attività "nuove"', ["a"], [])
    disposition = response.headers["Content-Disposition"]
    assert 'filename="attivit_ nuove.csv"' in disposition
    assert "filename*=UTF-8''attivit%C3%A0%20%22nuove%22.csv" in disposition


# XLSX ---------------------------------------------------------------------------------------


def test_xlsx_types_dates_and_numbers_with_italian_formats(app: Flask) -> None:
    rows = [[date(2026, 3, 9), SUMMER, Decimal("1234.56"), 7, True, None, "Amina"]]
    with app.test_request_context():
        response = xlsx_response("report", [Sheet("Nuclei", list("ABCDEFG"), rows)])
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="report.xlsx"' in response.headers["Content-Disposition"]
    sheet = workbook(response)["Nuclei"]
    header = sheet[1]
    assert [c.value for c in header] == list("ABCDEFG")
    assert all(c.font.bold for c in header)
    day, moment, amount, number, flag, empty, name = sheet[2]
    assert day.value == datetime(2026, 3, 9)  # noqa: DTZ001 - Excel dates have no zone
    assert day.is_date
    assert day.number_format == "DD/MM/YYYY"
    assert moment.value == datetime(2026, 7, 1, 12, 30)  # noqa: DTZ001 - the clock in Turin
    assert moment.number_format == "DD/MM/YYYY HH:MM"
    assert amount.value == pytest.approx(1234.56)
    assert amount.data_type == "n"
    assert amount.number_format == "#,##0.00"
    assert number.value == 7
    assert number.data_type == "n"
    assert flag.value == "sì"
    assert empty.value is None
    assert name.value == "Amina"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["G"].width >= 8


def test_xlsx_never_stores_a_text_as_a_formula(app: Flask) -> None:
    with app.test_request_context():
        response = xlsx_response("x", [Sheet("S", ["=A1"], [['=HYPERLINK("http://x")', "+1"]])])
    sheet = workbook(response)["S"]
    cells = [sheet["A1"], sheet["A2"], sheet["B2"]]
    assert [c.data_type for c in cells] == ["s", "s", "s"]
    assert sheet["A2"].value == '=HYPERLINK("http://x")'


def test_xlsx_has_one_sheet_each_with_valid_unique_titles(app: Flask) -> None:
    sheets = [
        Sheet("Distribuzioni per snodo/tipo", ["a"], [[1]]),
        Sheet("Distribuzioni per snodo/tipo", ["b"], [[2]]),
        Sheet("Un titolo molto più lungo di trentuno caratteri", ["c"], []),
    ]
    with app.test_request_context():
        book = workbook(xlsx_response("x", sheets))
    assert book.sheetnames == [
        "Distribuzioni per snodo tipo",
        "Distribuzioni per snodo tip (2)",  # 31 characters at most
        "Un titolo molto più lungo di tr",
    ]
    assert book.worksheets[1]["A2"].value == 2


def test_xlsx_drops_control_characters_instead_of_failing(app: Flask) -> None:
    with app.test_request_context():
        response = xlsx_response("x", [Sheet("S", ["a"], [["nota\x00\x07 pulita"]])])
    assert workbook(response)["S"]["A2"].value == "nota pulita"


def test_xlsx_without_sheets_is_still_a_workbook(app: Flask) -> None:
    with app.test_request_context():
        book = workbook(xlsx_response("vuoto", []))
    assert len(book.sheetnames) == 1


# Pseudonyms ---------------------------------------------------------------------------------


def stored_key() -> str | None:
    return _db.session.scalar(select(Setting.value).where(Setting.key == PSEUDONYM_KEY_SETTING))


def test_pseudonym_is_16_hex_digits_stable_and_not_the_id(app: Flask, db: object) -> None:
    first = pseudonym(42)
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    # Not the id written out, nor a plain hash of it that anyone could recompute without the key.
    assert first not in {"42".zfill(16), format(42, "016x")}
    assert first != hashlib.sha256(b"42").hexdigest()[:16]
    assert pseudonym(42) == first
    assert pseudonym(43) != first
    assert len({pseudonym(n) for n in range(1, 201)}) == 200


def test_pseudonym_key_is_created_once_and_kept(app: Flask, db: object) -> None:
    assert stored_key() is None
    code = pseudonym(7)
    # The key is committed on its own: a request that writes nothing still keeps it.
    _db.session.rollback()
    key = stored_key()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    # Another request (a new application context, no cache) finds the same key.
    with app.app_context():
        assert pseudonym(7) == code
        assert stored_key() == key
    assert _db.session.scalar(
        select(Setting).where(Setting.key == PSEUDONYM_KEY_SETTING).with_only_columns(Setting.key)
    )


def test_pseudonym_depends_on_the_secret_key(app: Flask, db: object) -> None:
    set_setting(PSEUDONYM_KEY_SETTING, "00" * 32)
    _db.session.commit()
    with app.app_context():
        one = pseudonym(7)
    set_setting(PSEUDONYM_KEY_SETTING, "11" * 32)
    _db.session.commit()
    with app.app_context():
        other = pseudonym(7)
    assert one != other


def test_pseudonym_key_created_while_the_request_holds_its_own_writes(
    app: Flask, db: object
) -> None:
    """An export that already wrote its audit event still gets (and keeps) a key."""
    set_setting("some_other_setting", 1)
    _db.session.flush()  # this transaction now writes (on SQLite: holds the write lock)
    code = pseudonym(9)
    _db.session.commit()
    with app.app_context():
        assert pseudonym(9) == code
        assert stored_key() is not None


# Suppression --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (None, 0), (1, "<5"), (4, "<5"), (5, 5), (120, 120)],
)
def test_small_counts_of_people_are_suppressed(count: int | None, shown: int | str) -> None:
    assert suppress(count) == shown


def test_suppression_threshold_can_be_raised() -> None:
    assert suppress(9, threshold=10) == "<10"
    assert suppress(10, threshold=10) == 10
