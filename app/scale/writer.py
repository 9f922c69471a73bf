"""Bulk writing for the city-scale generator: Core `insert(Table)` executemany in chunks.

The statement is SQLAlchemy Core's `insert(table)`, compiled once per table for the connection's
dialect; each chunk goes to the driver's `executemany` in one call. The values pass through the
same bind processors SQLAlchemy would apply (the dialect's dates, JSON, `UTCDateTime`), looked up
once per column instead of once per row: at millions of rows, the per-row parameter handling of
`Connection.execute` costs more than the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Table, insert

CHUNK = 10_000


class Buffer:
    """Rows for one table, written `chunk` at a time with one executemany each.

    Every row of a table carries the same keys (those of its first row). The buffers of the
    rows this table references (`after`) are written first.
    """

    def __init__(
        self,
        conn: Connection,
        table: Table,
        chunk: int = CHUNK,
        after: tuple[Buffer, ...] = (),
    ) -> None:
        self.conn = conn
        self.table = table
        self.chunk = chunk
        self.after = after
        self.rows: list[dict[str, Any]] = []
        self.count = 0
        self._keys: list[str] = []
        self._prepared: tuple[str, list[str], list[Callable[[Any], Any] | None], bool] | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.chunk:
            self.flush()

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.add(row)

    def _prepare(self, keys: list[str]) -> tuple[str, list[str], list[Any], bool]:
        dialect = self.conn.dialect
        columns = [self.table.c[key] for key in keys]
        compiled = insert(self.table).compile(dialect=dialect, column_keys=keys)
        processors = [c.type._cached_bind_processor(dialect) for c in columns]
        order = list(compiled.positiontup or []) if compiled.positional else keys
        return str(compiled), order, processors, bool(compiled.positional)

    def flush(self) -> None:
        for parent in self.after:
            parent.flush()
        if not self.rows:
            return
        keys = list(self.rows[0])
        if self._prepared is None or self._keys != keys:
            self._prepared, self._keys = self._prepare(keys), keys
        sql, order, processors, positional = self._prepared
        columns = list(zip(keys, processors, strict=True))
        if positional:
            by_key = dict(columns)
            params: list[Any] = [
                tuple(
                    by_key[k](row[k]) if by_key[k] is not None else row[k]  # type: ignore[misc]
                    for k in order
                )
                for row in self.rows
            ]
        else:
            params = [
                {k: (p(row[k]) if p is not None else row[k]) for k, p in columns}
                for row in self.rows
            ]
        self.conn.exec_driver_sql(sql, params)
        self.count += len(self.rows)
        self.rows = []


def insert_all(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    buffer = Buffer(conn, table)
    buffer.extend(rows)
    buffer.flush()
    return buffer.count
