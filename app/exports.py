"""Downloads for spreadsheets: CSV with Italian settings, XLSX, pseudonyms, small-count suppression.

Every list and report export goes through here, so the same rules hold everywhere:
- CSV: `;` separator, UTF-8 with BOM (Excel opens it right), CRLF, dates dd/mm/yyyy, datetimes
  dd/mm/yyyy HH:MM in Europe/Rome, decimals with a comma, booleans "sì"/"no"; a text cell that
  starts with = + - @ (or a tab / carriage return) gets a leading ' so a spreadsheet never runs it.
- XLSX: real dates and numbers with Italian-looking formats, bold header, frozen first row, column
  widths; text is always stored as text, never as a formula.
- `pseudonym(person_id)`: the same person gets the same 16-hex-digit code in every export, keyed
  with a secret kept in the settings table (never shown), so nobody can go back to the person.
- `suppress(count)`: counts of 1..4 people become "<5" (a count published on its own).
- `protect(counts, sums)`: the same for a table whose cells add up to totals, plus secondary
  (complementary) suppression, so no hidden count can be worked out from the cells and totals shown.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

from flask import Response, g, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.clock import ROME
from app.extensions import db
from app.settings import Setting

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PSEUDONYM_KEY_SETTING = "export_pseudonym_key"
PSEUDONYM_LENGTH = 16
# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XLSX limits: sheet titles 31 characters without []:*?/\ ; a cell holds 32,767 characters.
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_XLSX_CELL_MAX = 32767
_WIDTH_SAMPLE = 200
_MIN_WIDTH, _MAX_WIDTH = 8, 60
# The most rows a list export holds; beyond it, a last row asks to narrow the filters.
ROW_LIMIT = 50_000
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
INTEGER_FORMAT = "0"
DECIMAL_FORMAT = "#,##0.00"


@dataclass
class Sheet:
    """One worksheet of an XLSX download."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


# Cell values ------------------------------------------------------------------------------


def _rome(value: datetime) -> datetime:
    """An aware datetime in Turin's time (a naive one is taken as UTC, as the portal stores)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ROME)


def _yes_no(value: bool) -> str:
    return "sì" if value else "no"


def _decimal_text(value: Decimal) -> str:
    """1234,56: plain digits, comma for decimals, no thousands separator (spreadsheets parse it)."""
    return format(value, "f").replace(".", ",")


def _safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> str:
    """The text of one CSV cell with Italian spreadsheet settings."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, datetime):
        return _rome(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _decimal_text(Decimal(repr(value)))
    return _safe_text(str(value))


def _attachment(filename: str, extension: str) -> str:
    """Content-Disposition for a download, with an ASCII fallback and the UTF-8 name."""
    if not filename.lower().endswith(extension):
        filename += extension
    ascii_name = (
        filename.encode("ascii", "replace").decode("ascii").replace('"', "").replace("?", "_")
    )
    ascii_name = re.sub(r"[\r\n\\/]", "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _download(body: bytes, mimetype: str, disposition: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = disposition
    # Personal data may be inside: never kept by a proxy or the browser's cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def stored_download(body: bytes, mimetype: str, disposition: str) -> Response:
    """A file prepared earlier (in the background), answered as every download is."""
    return _download(body, mimetype, disposition)


# CSV --------------------------------------------------------------------------------------


def _write_csv(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The CSV document (without BOM) for `header` and `rows`."""
    buffer = io.StringIO()
    _write_csv(buffer, header, rows)
    return buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download: `;`, UTF-8 with BOM, CRLF, Italian dates and decimals, injection-safe."""
    body = ("\ufeff" + csv_text(header, rows)).encode("utf-8")
    return _download(body, CSV_MIMETYPE, _attachment(filename, ".csv"))


# XLSX -------------------------------------------------------------------------------------


def _sheet_titles(sheets: Sequence[Sheet]) -> list[str]:
    """Valid, unique worksheet titles (31 characters, no []:*?/\\)."""
    titles: list[str] = []
    for index, sheet in enumerate(sheets, start=1):
        base = (
            _SHEET_TITLE_BAD.sub(" ", str(sheet.title)).strip().strip("'")[:31] or f"Foglio{index}"
        )
        title, suffix = base, 2
        while title.lower() in (t.lower() for t in titles):
            tail = f" ({suffix})"
            title, suffix = base[: 31 - len(tail)] + tail, suffix + 1
        titles.append(title)
    return titles


def _xlsx_value(value: Any) -> tuple[Any, str | None]:
    """The value openpyxl stores and its number format (None: default)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None:
        return None, None
    if isinstance(value, bool):
        return _yes_no(value), None
    if isinstance(value, datetime):
        # Excel has no time zones: the time as read in Turin.
        return _rome(value).replace(tzinfo=None), DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, Decimal):
        return value, DECIMAL_FORMAT
    if isinstance(value, int):
        return value, INTEGER_FORMAT
    if isinstance(value, float):
        return value, None
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:_XLSX_CELL_MAX]
    return text, None


def _xlsx_cell(sheet: Any, value: Any, bold: bool = False) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    stored, number_format = _xlsx_value(value)
    cell = WriteOnlyCell(sheet, value=stored)
    if isinstance(stored, str):
        # openpyxl reads a text starting with "=" as a formula: keep every text a text.
        cell.data_type = "s"
    if number_format is not None:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = csv_cell(value)
    return max((len(line) for line in text.splitlines()), default=0)


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The XLSX workbook for `sheets` (one empty sheet when there is none)."""
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets)
    return buffer.getvalue()


def write_xlsx(out: IO[bytes], sheets: Sequence[Sheet]) -> None:
    """The XLSX workbook for `sheets` written into `out`, row by row (openpyxl's write-only
    mode keeps each sheet in a temporary file, not in memory)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheets = list(sheets) or [Sheet(title="Foglio1", header=[], rows=[])]
    for sheet, title in zip(sheets, _sheet_titles(sheets), strict=True):
        worksheet = workbook.create_sheet(title=title)
        rows = iter(sheet.rows)
        # Widths come from the header and the first rows, set before any row is written.
        sample: list[Sequence[Any]] = []
        for row in rows:
            sample.append(row)
            if len(sample) >= _WIDTH_SAMPLE:
                break
        columns = max([len(sheet.header), *(len(row) for row in sample)], default=0)
        for column in range(columns):
            seen = [_width(sheet.header[column]) if column < len(sheet.header) else 0]
            seen += [_width(row[column]) for row in sample if column < len(row)]
            width = min(max(max(seen) + 2, _MIN_WIDTH), _MAX_WIDTH)
            worksheet.column_dimensions[get_column_letter(column + 1)].width = width
        if sheet.header:
            worksheet.freeze_panes = "A2"
            worksheet.append([_xlsx_cell(worksheet, str(name), bold=True) for name in sheet.header])
        for row in sample:
            worksheet.append([_xlsx_cell(worksheet, value) for value in row])
        for row in rows:
            worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    workbook.save(out)


def xlsx_response(filename: str, sheets: Sequence[Sheet]) -> Response:
    """An XLSX download with typed dates and numbers, bold header and column widths."""
    return _download(xlsx_bytes(sheets), XLSX_MIMETYPE, _attachment(filename, ".xlsx"))


def list_response(
    kind: str,
    filename: str,
    title: str,
    header: Sequence[str],
    rows: list[list[Any]],
    cut_at: int | None = None,
) -> Response:
    """A list as a CSV (`kind` "csv") or one-sheet XLSX download; `cut_at` is the row limit
    when the list was cut there, and adds the note that says so."""
    if cut_at is not None:
        rows = [*rows, [limit_note(cut_at)]]
    if kind == "csv":
        return csv_response(filename, header, rows)
    return xlsx_response(filename, [Sheet(title, header, rows)])


def write_list(
    out: IO[bytes],
    kind: str,
    filename: str,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> tuple[str, str]:
    """The file `list_response` answers (no row limit), written into `out` as `rows` come, so
    a long list is never held whole in memory. Returns its mimetype and Content-Disposition."""
    if kind == "csv":
        out.write("\ufeff".encode())
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        try:
            _write_csv(text, header, rows)
            text.flush()
        finally:
            text.detach()  # `out` stays open for the caller
        return CSV_MIMETYPE, _attachment(filename, ".csv")
    write_xlsx(out, [Sheet(title, header, rows)])
    return XLSX_MIMETYPE, _attachment(filename, ".xlsx")


def limit_note(limit: int = ROW_LIMIT) -> str:
    """The last row of an export cut at `limit` rows."""
    from app.i18n import gettext as _

    return _(
        "Esportazione limitata alle prime %(n)s righe: restringi i filtri per avere le altre.",
        n=f"{limit:,}".replace(",", "."),
    )


# Pseudonyms and suppression ---------------------------------------------------------------


def _stored_key() -> str | None:
    return db.session.scalar(select(Setting.value).where(Setting.key == PSEUDONYM_KEY_SETTING))


def _insert_key_ignoring_conflict(connection: Any, key: str) -> None:
    """Store `key` unless another process stored one first (theirs wins)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - the portal runs on PostgreSQL or SQLite
        raise RuntimeError(f"unsupported database {connection.dialect.name}")
    connection.execute(
        insert(Setting)
        .values(key=PSEUDONYM_KEY_SETTING, value=key)
        .on_conflict_do_nothing(index_elements=[Setting.key])
    )


def _create_key() -> str:
    """Create the key once, committed on its own so it survives the caller's rollback.

    A separate connection commits it at once (every later export uses the same key even if this
    request writes nothing). If that connection cannot write (SQLite while this request's own
    transaction holds the write lock), the key goes into the request's transaction instead.
    Two processes racing both keep the first key stored.
    """
    candidate = secrets.token_hex(32)
    read_key = select(Setting.value).where(Setting.key == PSEUDONYM_KEY_SETTING)
    stored: Any = None
    try:
        with db.engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            try:
                with connection.begin():
                    if sqlite:
                        # Do not wait for this request's own write lock: fall back at once.
                        connection.exec_driver_sql("PRAGMA busy_timeout=500")
                    _insert_key_ignoring_conflict(connection, candidate)
                    stored = connection.scalar(read_key)
                    if sqlite:
                        connection.exec_driver_sql("PRAGMA busy_timeout=5000")
            except OperationalError:
                connection.invalidate()  # its short timeout must not go back to the pool
                raise
    except OperationalError:
        with db.session.begin_nested():
            _insert_key_ignoring_conflict(db.session.connection(), candidate)
        stored = db.session.scalar(read_key)
    if stored is None:  # pragma: no cover - the insert above always leaves a key
        raise RuntimeError("the pseudonym key could not be stored")
    return str(stored)


def _pseudonym_key() -> bytes:
    cached = g.get("_export_pseudonym_key") if has_app_context() else None
    if cached is not None:
        return cached
    stored = _stored_key()
    key = bytes.fromhex(str(stored) if stored is not None else _create_key())
    if has_app_context():
        g._export_pseudonym_key = key
    return key


def pseudonym(person_id: int) -> str:
    """A stable code for a person in exports: HMAC-SHA256 of the id, 16 hex digits.

    The same id always gives the same code (the key is created once and kept in the settings
    table); without the key, the code cannot be traced back to the person.
    """
    digest = hmac.new(_pseudonym_key(), str(int(person_id)).encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:PSEUDONYM_LENGTH]


def suppress(count: int | None, threshold: int = 5) -> int | str:
    """A count of people safe to publish: 1..threshold-1 become "<threshold", 0 stays 0."""
    if count is None:
        return 0
    if 0 < count < threshold:
        return f"<{threshold}"
    return count


PRIMARY = "<5"  # a count of 1..4 people
SECONDARY = "n.d."  # a count hidden so that a "<5" next to it cannot be worked out ("non diffuso")
_INFINITY = float("inf")


@dataclass(eq=False)
class Count:
    """A count of people (or of things each about one person) on its way to publication."""

    value: int
    hidden: str | None = None  # PRIMARY ("<threshold"), SECONDARY or None (shown)

    @property
    def published(self) -> int | str:
        return self.hidden or self.value


@dataclass(frozen=True)
class Sum:
    """A published relation: `total` is the sum of `parts` (a row or column and its margin, or
    two tables that count the same things)."""

    total: Count
    parts: Sequence[Count]


def _bounds(count: Count, threshold: int) -> tuple[float, float]:
    """What a reader knows of a cell: its value, 1..threshold-1 under "<5", at least the
    threshold under "n.d." (a zero is never hidden by the secondary step, so the reader may
    assume so)."""
    if count.hidden == SECONDARY:
        return threshold, _INFINITY
    if count.hidden:
        return 1, threshold - 1
    return count.value, count.value


def _exposed(relation: Sum, threshold: int) -> bool:
    """Can a reader pin down a hidden cell of this relation from the other cells' bounds?"""
    cells = [relation.total, *relation.parts]
    bounds = [_bounds(cell, threshold) for cell in cells]
    for index, cell in enumerate(cells):
        if not cell.hidden:
            continue
        own_low, own_high = bounds[index]
        if index == 0:  # the total: the sum of the parts
            low = sum(b[0] for b in bounds[1:])
            high = sum(b[1] for b in bounds[1:])
        else:  # a part: the total less the other parts
            others = bounds[1:index] + bounds[index + 1 :]
            low = bounds[0][0] - sum(b[1] for b in others)
            high = bounds[0][1] - sum(b[0] for b in others)
        if max(low, own_low) >= min(high, own_high):
            return True
    return False


def _complement(relation: Sum) -> Count | None:
    """The cell to hide next: the smallest shown part above zero, else the total."""
    shown = [part for part in relation.parts if not part.hidden and part.value > 0]
    if shown:
        return min(shown, key=lambda part: part.value)
    if not relation.total.hidden and relation.total.value > 0:
        return relation.total
    return None


def protect(counts: Iterable[Count], sums: Sequence[Sum], threshold: int = 5) -> None:
    """Primary and secondary suppression, in place: every count of 1..threshold-1 is hidden as
    "<5"; then, while some relation lets a reader work out a hidden cell (by subtraction, or
    because the bounds of the others leave a single value), one more cell of it is hidden as
    "n.d.": the smallest shown part above zero (a zero hides nothing: 0 is shown), else the
    total. Every page, CSV and XLSX shows the cells this leaves."""
    for count in [*counts, *(c for relation in sums for c in (relation.total, *relation.parts))]:
        shown = suppress(count.value, threshold)
        if isinstance(shown, str):
            count.hidden = shown
    changed = True
    while changed:
        changed = False
        for relation in sums:
            if _exposed(relation, threshold):
                target = _complement(relation)
                if target is not None:
                    target.hidden = SECONDARY
                    changed = True


__all__ = [
    "PRIMARY",
    "ROW_LIMIT",
    "SECONDARY",
    "Count",
    "Sheet",
    "Sum",
    "csv_cell",
    "csv_response",
    "csv_text",
    "limit_note",
    "protect",
    "pseudonym",
    "suppress",
    "write_list",
    "write_xlsx",
    "xlsx_bytes",
    "xlsx_response",
]
