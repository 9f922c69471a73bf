"""Bulk writing for the city-scale generator: chunks of rows, one statement per chunk.

PostgreSQL: each chunk is one `COPY table (columns) FROM STDIN` through psycopg 3's `Cursor.copy`
on the DBAPI connection of the generator's SQLAlchemy `Connection`, so it runs inside the same
transaction (a failure leaves the database empty) and checks the same constraints. Inside
`copying(conn)` the COPYs run on a writer thread, one after the other in the order of the
flushes (a table's rows always after the rows they reference): while the server inserts a chunk
and fires its foreign-key checks, Python builds the next ones, and the two use both cores.

Other dialects (SQLite): SQLAlchemy Core's `insert(table)`, compiled once per table for the
connection's dialect; each chunk goes to the driver's `executemany` in one call.

Either way the values pass through the same bind processors SQLAlchemy would apply (the
dialect's booleans, JSON, `UTCDateTime`), looked up once per column instead of once per row: at
millions of rows, the per-row parameter handling of `Connection.execute` costs more than the
database itself.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, insert

CHUNK = 10_000
PENDING_CHUNKS = 6  # chunks queued for the writer thread before the generator waits for it
_WRITER = "scale_copy_writer"  # key of the writer thread in `Connection.info`

Processors = list[tuple[str, Callable[[Any], Any] | None]]


@dataclass(slots=True)
class _Copy:
    """A binary `COPY table (columns) FROM STDIN` and the types of its columns."""

    table: str  # quoted, as the SQL names it
    columns: list[str]
    processors: Processors
    sql: str = ""
    oids: list[int] = field(default_factory=list)  # looked up on first use

    def __post_init__(self) -> None:
        names = ", ".join(self.columns)
        self.sql = f"COPY {self.table} ({names}) FROM STDIN (FORMAT BINARY)"

    def run(self, raw: Any, rows: list[dict[str, Any]]) -> None:
        """One COPY of `rows` on the DBAPI (psycopg) connection `raw`, in its open transaction.

        Binary: each value is dumped for the type of its column (psycopg's C dumpers), which
        costs less on both sides than text.
        """
        if not self.oids:
            found = dict(
                raw.execute(
                    "SELECT quote_ident(attname), atttypid::int FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    (self.table,),
                ).fetchall()
            )
            self.oids = [found[name] for name in self.columns]
        columns = self.processors
        plain = [key for key, processor in columns if processor is None]
        values: Iterable[Any]
        if len(plain) == len(columns) > 1:
            getter = itemgetter(*plain)
            values = (getter(row) for row in rows)
        else:
            values = ([row[k] if p is None else p(row[k]) for k, p in columns] for row in rows)
        with raw.cursor() as cursor, cursor.copy(self.sql) as copy:
            copy.set_types(self.oids)
            write = copy.write_row
            for row in values:
                write(row)


class _CopyWriter:
    """A thread running the queued COPYs on one psycopg connection, in order.

    After a failure it skips what is still queued; the error reaches the generator at its next
    flush or at `finish`, so the transaction is rolled back.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.queue: queue.Queue[tuple[_Copy, list[dict[str, Any]]] | None] = queue.Queue(
            PENDING_CHUNKS
        )
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="seed-scale-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.error is None and not self.cancelled:
                    copy, rows = item
                    copy.run(self.raw, rows)
            except BaseException as error:  # handed to the generator's thread
                self.error = error
            finally:
                self.queue.task_done()

    def check(self) -> None:
        if self.error is not None:
            raise RuntimeError("COPY failed on the writer thread") from self.error

    def submit(self, copy: _Copy, rows: list[dict[str, Any]]) -> None:
        self.check()
        self.queue.put((copy, rows))

    def finish(self) -> None:
        """Wait for every queued COPY; raise the first failure."""
        self.queue.join()
        self.check()

    def stop(self) -> None:
        """End the thread, skipping what is still queued (the transaction is rolled back)."""
        self.cancelled = True
        self.queue.put(None)
        self.thread.join()


@contextmanager
def copying(conn: Connection) -> Iterator[None]:
    """PostgreSQL: the buffers of `conn` COPY on a writer thread; every COPY is done on exit.

    Leave it before committing or rolling back `conn`'s transaction: on exit (even on error)
    the thread no longer uses the connection. Other dialects: nothing changes.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    writer = _CopyWriter(conn.connection.driver_connection)
    conn.info[_WRITER] = writer
    try:
        yield
        writer.finish()
    finally:
        writer.stop()
        del conn.info[_WRITER]


class Buffer:
    """Rows for one table, written `chunk` at a time with one statement each.

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
        self._copy: _Copy | None = None
        self._copying = conn.dialect.name == "postgresql"

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
        processors = [c.type._cached_bind_processor(dialect) for c in columns]
        compiled = insert(self.table).compile(dialect=dialect, column_keys=keys)
        order = list(compiled.positiontup or []) if compiled.positional else keys
        return str(compiled), order, processors, bool(compiled.positional)

    def _prepare_copy(self, keys: list[str]) -> _Copy:
        dialect = self.conn.dialect
        preparer = dialect.identifier_preparer
        columns = [self.table.c[key] for key in keys]
        return _Copy(
            table=preparer.format_table(self.table),
            columns=[preparer.quote(column.name) for column in columns],
            processors=[
                (key, column.type._cached_bind_processor(dialect))
                for key, column in zip(keys, columns, strict=True)
            ],
        )

    def flush(self) -> None:
        for parent in self.after:
            parent.flush()
        if not self.rows:
            return
        keys = list(self.rows[0])
        rows, self.rows = self.rows, []
        if self._copying:
            if self._copy is None or self._keys != keys:
                self._copy, self._keys = self._prepare_copy(keys), keys
            writer: _CopyWriter | None = self.conn.info.get(_WRITER)
            if writer is not None:
                writer.submit(self._copy, rows)
            else:
                self._copy.run(self.conn.connection.driver_connection, rows)
        else:
            if self._prepared is None or self._keys != keys:
                self._prepared, self._keys = self._prepare(keys), keys
            sql, order, processors, positional = self._prepared
            columns = list(zip(keys, processors, strict=True))
            self._execute_many(sql, order, columns, positional, rows)
        self.count += len(rows)

    def _execute_many(
        self,
        sql: str,
        order: list[str],
        columns: Processors,
        positional: bool,
        rows: list[dict[str, Any]],
    ) -> None:
        """One executemany of `rows`."""
        if positional:
            by_key = dict(columns)
            params: list[Any] = [
                tuple(
                    by_key[k](row[k]) if by_key[k] is not None else row[k]  # type: ignore[misc]
                    for k in order
                )
                for row in rows
            ]
        else:
            params = [
                {k: (p(row[k]) if p is not None else row[k]) for k, p in columns} for row in rows
            ]
        self.conn.exec_driver_sql(sql, params)


def insert_all(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    buffer = Buffer(conn, table)
    buffer.extend(rows)
    buffer.flush()
    return buffer.count
