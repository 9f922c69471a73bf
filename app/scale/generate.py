"""The city-scale data set: `seed_scale(scale, seed)` fills an empty database.

Scale 1.0 is the city of DESIGN.md: 2,000 organizations, 6,000 services, 100,000 households
(about 250,000 people), 500,000 distributions, 200,000 referrals, 5,000 housing units, 50,000
placements, 20,000 projects and 2,000,000 audit events. Every figure is multiplied by `scale`.

How it is written: `writer.CHUNK` rows at a time (PostgreSQL: one COPY per chunk, on a writer
thread; SQLite: SQLAlchemy Core `insert(Table)` with executemany), ids assigned here for the rows
that others reference, in one transaction (a failure leaves the database empty). The states
follow the real workflows (see the `demo.py` of each domain): referrals and placements walk the
transition tables step by step, each step with its history row, audit event and, when recent,
its notifications; vacancies are capacity minus the guests placed outside the portal minus the
placements holding a place; budget lines keep paid <= committed <= approved. Randomness comes
only from `random.Random(seed)`, dates from `today`.

How it is laid out: `context.Context` holds what the stages share (the connection, the random
generator, the in-memory records, the audit and notification buffers); each domain's stage is a
mixin in `app.scale.stages` (registry, households, referrals, housing, projects, audit), and
`_Generator` below runs them in order.

The five demo accounts (`app.demo.DEMO_USERS`) exist with the demo password; their organizations
are those of the demo (ente1's a hub and job service, ente2's a job service, alloggi1's a
housing provider) and own a larger share of the data than an average organization, so their pages
are full.
"""

from __future__ import annotations

import gc
import time as clock
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import Connection, Table, func, select, text

from app.extensions import db
from app.scale.context import CITY, HOUSEHOLDS_AT_SCALE_1, targets
from app.scale.stages.audit import AuditStage
from app.scale.stages.households import HouseholdsStage
from app.scale.stages.housing import HousingStage
from app.scale.stages.projects import ProjectsStage
from app.scale.stages.referrals import ReferralsStage
from app.scale.stages.registry import RegistryStage
from app.scale.writer import copying

__all__ = ["CITY", "HOUSEHOLDS_AT_SCALE_1", "database_is_empty", "seed_scale", "targets"]


# Rows the migrations themselves write (the stock items every hub starts with, migration 0024;
# the versions of what the layout keeps, 0027): a database just built with `flask db upgrade`
# has them and is still empty of anyone's data.
MIGRATION_TABLES = frozenset({"supply_item", "cache_version"})


def database_is_empty() -> bool:
    """No row in any table of the portal, except those the migrations write."""
    for table in db.metadata.sorted_tables:
        if table.name in MIGRATION_TABLES:
            continue
        if db.session.execute(select(text("1")).select_from(table).limit(1)).first():
            return False
    return True


class _Generator(
    RegistryStage, HouseholdsStage, ReferralsStage, HousingStage, ProjectsStage, AuditStage
):
    """The stages in the order their rows depend on each other."""

    def run(self) -> dict[str, int]:
        self.organizations()
        self.users()
        self.sites_and_services()
        self.households_and_people()
        self.distributions()
        self.referrals()
        self.housing()
        self.projects()
        self.filler_audit()
        return self.counts


# After loading ------------------------------------------------------------------------------------


def _reset_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    """PostgreSQL: every sequence continues after the largest id written."""
    for table in tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                f"(SELECT MAX(id) FROM {table.name}) IS NOT NULL)"
            )
        )


def seed_scale(scale: float, seed: int, today: date, echo: Callable[[str], None]) -> dict[str, int]:
    """Fill the (empty) database at `scale`; one transaction; returns the counts."""
    engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    db.session.remove()
    with engine.connect() as conn:
        previous_sync = None
        if sqlite:
            previous_sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
            conn.commit()
        # Millions of small objects and no cycles: the cyclic collector would only rescan them.
        gc.disable()
        try:
            with conn.begin():
                with copying(conn):
                    counts = _Generator(conn, scale, seed, today, echo).run()
                if not sqlite:
                    _reset_sequences(conn, db.metadata.sorted_tables)
            started = clock.perf_counter()
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            elapsed = clock.perf_counter() - started
            echo(f"Statistiche del database aggiornate (ANALYZE) in {elapsed:.1f} s")
        finally:
            gc.enable()
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql(f"PRAGMA synchronous={int(previous_sync or 2)}")
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
                conn.exec_driver_sql("PRAGMA temp_store=DEFAULT")
                conn.commit()
    return counts


def count_rows(table: Table) -> int:
    return int(db.session.scalar(select(func.count()).select_from(table)) or 0)
