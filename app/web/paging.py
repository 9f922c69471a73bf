"""Page counts that stay cheap on city-wide lists.

Counting every match of a list of 100,000 households on every keystroke scans the index each
time, and nobody pages through more than a few hundred pages: past COUNT_CAP matches the list
says "more than 10,000" and asks to narrow the search, and the page links stop at the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.extensions import db

COUNT_CAP = 10_000


def capped_total(query: Any) -> int:
    """How many rows `query` matches, counting at most COUNT_CAP + 1 of them.

    Only the primary keys are selected inside the count: a subquery with a LIMIT is not
    flattened, so selecting whole rows would read every matching row from the table instead of
    from an index.
    """
    keys = [column for column in query.selected_columns if getattr(column, "primary_key", False)]
    if keys:
        query = query.with_only_columns(*keys, maintain_column_froms=True)
    limited = query.limit(COUNT_CAP + 1)
    return db.session.scalar(select(func.count()).select_from(limited.subquery())) or 0


def page_count(total: int, size: int) -> int:
    return max((min(total, COUNT_CAP) + size - 1) // size, 1)


@dataclass(frozen=True)
class Paging:
    """Where a list is: its (capped) total, its number of pages and the page shown."""

    total: int
    pages: int
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def rows_of(self, query: Any) -> Any:
        """`query` limited to this page's rows (order it first)."""
        return query.limit(self.size).offset(self.offset)

    def context(self) -> dict[str, int]:
        """What the list templates and their page links read: total, page, pages."""
        return {"total": self.total, "page": self.number, "pages": self.pages}


def paginate(query: Any, requested: int | None, size: int) -> Paging:
    """Count `query` (capped), then the page asked for, kept between the first and the last
    (a page number from an old link, past a list that shrank, shows the last page)."""
    total = capped_total(query)
    pages = page_count(total, size)
    return Paging(total, pages, min(max(requested or 1, 1), pages), size)
