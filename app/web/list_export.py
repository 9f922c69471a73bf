"""A list's export, declared: its columns, its rows, its audit event; one helper answers it.

Every list that names households (households, referrals, placements, projects, distributions)
is exported the same way: a header from the columns, a row per record, the list cut at
the row limit with a note saying so, one audit event naming the households in the file (with the
filters, the number of rows and the format), the commit, then the CSV or XLSX. A view declares
its columns and calls `export_list()` (or `export_table()` when its rows are built elsewhere,
as the households' are, shared with the background export).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Response

from app.audit.operations import record_views
from app.exports import list_response
from app.web.transactions import finish

T = TypeVar("T")


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column of an export: its header and how a record gives its cell."""

    header: str
    value: Callable[[T], Any]


def export_table(
    kind: str,
    *,
    filename: str,
    title: str,
    header: Sequence[str],
    rows: list[list[Any]],
    cut_at: int | None,
    action: str,
    households: Iterable[Any],
    changes: Mapping[str, Any],
) -> Response:
    """Audit the export (`changes`, then the number of rows and the format), then answer the
    file, committed once it is ready (`finish`). `cut_at`: the row limit, when the list was
    cut there (the file ends with the note that says so)."""
    record_views(action, households, changes={**changes, "rows": len(rows), "format": kind})
    return finish(list_response(kind, filename, title, header, rows, cut_at))


def export_list(
    kind: str,
    items: Sequence[T],
    columns: Sequence[Column[T]],
    *,
    cut_at: int | None,
    household_of: Callable[[T], Any],
    filename: str,
    title: str,
    action: str,
    changes: Mapping[str, Any],
) -> Response:
    """`items` (already cut at the row limit, `cut_at` when they were) as a file of `columns`;
    the audit event names the household of each item (`household_of`: a Household or its id)."""
    return export_table(
        kind,
        filename=filename,
        title=title,
        header=[str(column.header) for column in columns],
        rows=[[column.value(item) for column in columns] for item in items],
        cut_at=cut_at,
        action=action,
        households=[household_of(item) for item in items],
        changes=changes,
    )
