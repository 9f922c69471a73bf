"""Maintenance commands: retention applied with the clock moved forward, and a backup that a
restore turns back into every row of every table (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.admin.models import set_setting
from app.audit.models import AuditEvent
from app.clock import today
from app.distributions.models import Distribution
from app.extensions import db as _db
from app.households.models import Household
from app.maintenance import backup as backup_module
from app.maintenance.retention import RETENTION_APPLIED
from app.registry.models import Organization
from app.rights.operations import RETENTION_SETTING
from tests import factories


def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def is_postgres() -> bool:
    return _db.engine.url.get_backend_name() == "postgresql"


def audit_count() -> int:
    return _db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def distribution(household: Household, site: Any, on: date) -> Distribution:
    item = Distribution(
        household_id=household.id,
        site_id=site.id,
        organization_id=site.organization_id,
        distributed_on=on,
        kind="food_basket",
        quantity=1,
        override_reason="Richiesta della signora Rossi",
    )
    _db.session.add(item)
    _db.session.flush()
    return item


def distributions_of(household_id: int) -> int:
    return (
        _db.session.scalar(
            select(func.count())
            .select_from(Distribution)
            .where(Distribution.household_id == household_id)
        )
        or 0
    )


# Retention -------------------------------------------------------------------------------------


@pytest.fixture
def households(db: object) -> dict[str, int]:
    org = factories.organization(is_hub=True)
    site = factories.site(org, is_hub=True)
    now = today()
    old = factories.household(
        org, members=2, status="closed", closed_on=now - timedelta(days=6 * 366)
    )
    recent = factories.household(
        org,
        members=3,
        status="closed",
        closed_on=now - timedelta(days=30),
        notes="Vive con la zia",
        isee_value=Decimal("7000"),
    )
    active = factories.household(org, members=2, notes="Segue corso di italiano")
    undated = factories.household(org, members=1, status="closed", closed_on=None)
    for household in (old, recent, active):
        distribution(household, site, date(2020, 3, 2))
        distribution(household, site, date(2020, 4, 6))
    _db.session.commit()
    return {"old": old.id, "recent": recent.id, "active": active.id, "undated": undated.id}


def _household(household_id: int) -> Household:
    _db.session.expire_all()
    household = _db.session.get(Household, household_id)
    assert household is not None
    return household


def _identifiable(household_id: int) -> bool:
    household = _household(household_id)
    return household.anonymised_at is None and all(
        member.last_name != "Anonimo" and member.codice_fiscale for member in household.members
    )


def test_retention_with_the_clock_moved_forward(app: Flask, households: dict[str, int]) -> None:
    before = audit_count()
    result = cli(app, "apply-retention")
    assert result.exit_code == 0, result.output
    assert "nuclei anonimizzati 1" in result.output
    assert "1 nuclei chiusi senza data" in result.output

    old = _household(households["old"])
    assert old.anonymised_at is not None
    assert old.address is None
    assert {m.last_name for m in old.members} == {"Anonimo"}
    assert all(m.codice_fiscale is None for m in old.members)
    assert len(old.members) == 2
    assert distributions_of(old.id) == 2  # counts kept
    for key in ("recent", "active", "undated"):
        assert _identifiable(households[key]), key

    # One event per household (the existing operation) plus one summary, by nobody.
    assert audit_count() == before + 2
    summaries = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == RETENTION_APPLIED)
    ).all()
    assert len(summaries) == 1
    assert summaries[0].actor_id is None
    assert summaries[0].changes["households"] == 1
    assert summaries[0].changes["members"] == 2
    assert summaries[0].changes["distributions"] == 2

    # Idempotent: a second run changes nothing and writes nothing.
    snapshot_after_first = snapshot()
    again = cli(app, "apply-retention")
    assert again.exit_code == 0, again.output
    assert "nessun nucleo da anonimizzare" in again.output
    assert snapshot() == snapshot_after_first

    # Six years later the recently closed household is due; the active one never is.
    later = (today() + timedelta(days=6 * 366)).isoformat()
    moved = cli(app, "apply-retention", "--today", later)
    assert moved.exit_code == 0, moved.output
    assert "nuclei anonimizzati 1, componenti 3" in moved.output
    recent = _household(households["recent"])
    assert recent.anonymised_at is not None
    assert recent.notes is None
    assert recent.isee_value is None
    assert len(recent.members) == 3
    assert {m.first_name for m in recent.members} == {"Persona 1", "Persona 2", "Persona 3"}
    assert distributions_of(recent.id) == 2
    assert all(
        d.override_reason is None
        for d in _db.session.scalars(
            select(Distribution).where(Distribution.household_id == recent.id)
        )
    )
    assert _identifiable(households["active"])
    assert _identifiable(households["undated"])
    assert audit_count() == before + 4

    snapshot_later = snapshot()
    assert cli(app, "apply-retention", "--today", later).exit_code == 0
    assert snapshot() == snapshot_later


def test_retention_follows_the_setting(app: Flask, households: dict[str, int]) -> None:
    set_setting(RETENTION_SETTING, 10)
    _db.session.commit()
    result = cli(app, "apply-retention")
    assert result.exit_code == 0, result.output
    assert "nessun nucleo da anonimizzare" in result.output
    assert "periodo: 10 anni" in result.output
    assert _identifiable(households["old"])
    assert not _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == RETENTION_APPLIED)
    ).all()


# Backup and restore ----------------------------------------------------------------------------


def _rows(conn: Any, table: Any) -> list[tuple[Any, ...]]:
    query = select(table)
    key = list(table.primary_key.columns)
    if key:
        return [tuple(row) for row in conn.execute(query.order_by(*key))]
    return sorted((tuple(row) for row in conn.execute(query)), key=repr)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the portal."""
    _db.session.commit()
    with _db.engine.connect() as conn:
        return {table.name: _rows(conn, table) for table in _db.metadata.sorted_tables}


@pytest.fixture
def populated(db: object) -> dict[str, Any]:
    org = factories.organization(name="Cooperativa Dora", is_hub=True)
    site = factories.site(org, is_hub=True)
    factories.user(role="entity_operator", organization=org, full_name="Marta Verdi")
    household = factories.household(org, members=3, address="Corso Giulio Cesare 5")
    distribution(household, site, date(2026, 2, 3))
    _db.session.add(AuditEvent(action="household_viewed", object_type="household", object_id=1))
    set_setting(RETENTION_SETTING, 7)
    _db.session.commit()
    return {"household": household.id, "org": org.id}


def _damage(populated: dict[str, Any]) -> None:
    """Change a row, delete rows (audit events included), add a row."""
    household = _db.session.get(Household, populated["household"])
    assert household is not None
    household.address = "Indirizzo sbagliato"
    household.members[0].first_name = "Cambiato"
    _db.session.flush()
    _db.session.execute(Distribution.__table__.delete())
    _db.session.execute(AuditEvent.__table__.delete())
    _db.session.delete(household.members[-1])
    factories.household(_db.session.get(Organization, populated["org"]))
    _db.session.commit()


def test_backup_and_restore_bring_back_every_row(
    app: Flask, populated: dict[str, Any], tmp_path: Path
) -> None:
    before = snapshot()
    assert all(before[name] for name in ("organization", "household", "person", "distribution"))
    output = tmp_path / "copie" / "portale.backup"

    result = cli(app, "backup", "--output", str(output))
    assert result.exit_code == 0, result.output
    assert output.is_file()
    assert output.stat().st_mode & 0o077 == 0  # readable by the owner only

    _damage(populated)
    assert snapshot() != before

    refused = cli(app, "restore", "--input", str(output))
    assert refused.exit_code != 0
    assert "--yes" in refused.output
    assert snapshot() != before

    restored = cli(app, "restore", "--input", str(output), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "ripristinato" in restored.output

    after = snapshot()
    assert {name: len(rows) for name, rows in after.items()} == {
        name: len(rows) for name, rows in before.items()
    }
    assert after == before
    household = _db.session.get(Household, populated["household"])
    assert household is not None
    assert household.address == "Corso Giulio Cesare 5"
    assert "Cambiato" not in {m.first_name for m in household.members}
    assert distributions_of(household.id) == 1


def test_postgres_dump_lists_every_table(
    app: Flask, populated: dict[str, Any], tmp_path: Path
) -> None:
    if not is_postgres():
        pytest.skip("solo PostgreSQL")
    output = tmp_path / "portale.dump"
    assert cli(app, "backup", "--output", str(output)).exit_code == 0
    listing = subprocess.run(
        [backup_module.find_pg_tool("pg_restore"), "--list", str(output)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for table in [*_db.metadata.sorted_tables, "alembic_version"]:
        name = getattr(table, "name", table)
        assert f"TABLE DATA public {name} " in listing, name


def test_restore_refuses_a_file_that_is_not_a_backup(
    app: Flask, db: object, tmp_path: Path
) -> None:
    bogus = tmp_path / "non-un-backup"
    bogus.write_text("niente")
    result = cli(app, "restore", "--input", str(bogus), "--yes")
    assert result.exit_code != 0
    assert "non riuscito" in result.output or "non è" in result.output


def test_password_never_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = make_url(
        "postgresql+psycopg://portale:s3greta-lunga@db.example:6543/reti?sslmode=require"
    )
    calls: list[dict[str, Any]] = []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append({"command": command, **kwargs})
        return subprocess.CompletedProcess(command, 1, "", "errore con s3greta-lunga")

    monkeypatch.setattr(backup_module.subprocess, "run", fake_run)
    with pytest.raises(backup_module.BackupError) as error:
        backup_module._pg_backup(url, tmp_path / "x.dump")
    assert "s3greta-lunga" not in str(error.value)
    assert not (tmp_path / "x.dump").exists()
    (call,) = calls
    assert not any("s3greta" in part for part in call["command"])
    assert "--format=custom" in call["command"]
    assert "--no-owner" in call["command"]
    env = call["env"]
    assert env["PGPASSWORD"] == "s3greta-lunga"
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (
        "db.example",
        "6543",
        "portale",
        "reti",
    )
    assert env["PGSSLMODE"] == "require"


def test_the_nightly_retention_forgets_form_keys_older_than_a_day(app: Flask, db: object) -> None:
    from app import idempotency
    from app.db import utcnow
    from app.idempotency import Submission

    user = factories.user()
    _db.session.commit()
    old, fresh = idempotency.new_key(), idempotency.new_key()
    for key in (old, fresh):
        idempotency.claim(key, user, "household_intake")
    _db.session.commit()
    _db.session.execute(
        Submission.__table__.update()
        .where(Submission.key == old)
        .values(created_at=utcnow() - timedelta(days=2))
    )
    _db.session.commit()

    result = cli(app, "apply-retention")

    assert result.exit_code == 0, result.output
    assert "Chiavi di invio dei moduli più vecchie di un giorno eliminate: 1." in result.output
    _db.session.expire_all()
    assert _db.session.scalars(select(Submission.key)).all() == [fresh]
