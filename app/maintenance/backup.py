"""Backup and restore of the portal's database.

SQLite: an online backup through sqlite3's `Connection.backup()`, a consistent copy even while
the server writes (WAL mode), and the same call in the other direction to restore.
PostgreSQL: `pg_dump --format=custom --no-owner` and `pg_restore --clean --if-exists --no-owner`.
The password travels in the PGPASSWORD environment variable of the child process only: never on
its command line (visible to every user through `ps`) and never in a message.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import URL

from app.extensions import db


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message is for the operator (Italian)."""


def _url() -> URL:
    return db.engine.url


def _release_connections() -> None:
    """End the session and close pooled connections: they would hold locks on the database."""
    db.session.remove()
    db.engine.dispose()


# SQLite ----------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("Il database SQLite in memoria non si può salvare né ripristinare.")
    return Path(url.database)


def _sqlite_backup(source: Path, output: Path) -> None:
    if not source.exists():
        raise BackupError(f"Database SQLite non trovato: {source}")
    output.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the destination, then rename: a half-written backup never has the real name.
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", suffix=".tmp", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(source)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        os.chmod(tmp, 0o600)  # personal data: readable by the owner only
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sqlite_check(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
            tables = {
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Il file {path} non è un database SQLite valido: {exc}") from exc
    if not result or result[0] != "ok":
        raise BackupError(f"Il file {path} è danneggiato: {result[0] if result else '?'}")
    if "alembic_version" not in tables:
        raise BackupError(f"Il file {path} non è una copia del database del portale.")


def _sqlite_restore(backup: Path, target: Path) -> None:
    _sqlite_check(backup)
    _release_connections()
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


# PostgreSQL ------------------------------------------------------------------------------------


def find_pg_tool(name: str) -> str:
    """`pg_dump`/`pg_restore` on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if candidates:

        def version(path: str) -> float:
            try:
                return float(Path(path).parent.parent.name)
            except ValueError:
                return 0.0

        return max(candidates, key=version)
    raise BackupError(
        f"{name} non trovato: installa il client di PostgreSQL (pacchetto postgresql-client)."
    )


# Query parameters of the URL that libpq also reads from the environment.
_LIBPQ_QUERY_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
}


def pg_environment(url: URL) -> dict[str, str]:
    """The child's environment: connection settings as libpq variables, password included."""
    env = dict(os.environ)
    for key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSERVICE"):
        env.pop(key, None)
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if url.database:
        env["PGDATABASE"] = url.database
    for key, variable in _LIBPQ_QUERY_ENV.items():
        value = url.query.get(key)
        if isinstance(value, str):
            env[variable] = value
    # A restore that waits for a lock (a server still running) gives up instead of hanging.
    env["PGOPTIONS"] = "-c lock_timeout=60000"
    return env


def _run(command: Sequence[str], url: URL, what: str) -> None:
    result = subprocess.run(  # noqa: S603 - fixed program, arguments built here, no shell
        list(command),
        env=pg_environment(url),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = result.stderr.strip()
        if url.password:
            detail = detail.replace(str(url.password), "***")
        raise BackupError(f"{what} non riuscito (codice {result.returncode}): {detail}")


def _pg_backup(url: URL, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", suffix=".tmp", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o600)
        _run(
            [find_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={tmp}"],
            url,
            "pg_dump",
        )
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pg_restore(url: URL, backup: Path) -> None:
    if not url.database:
        raise BackupError("L'indirizzo del database non indica il nome del database.")
    _release_connections()
    _run(
        [
            find_pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url.database}",
            str(backup),
        ],
        url,
        "pg_restore",
    )


# Entry points ----------------------------------------------------------------------------------


def backup_database(output: Path) -> str:
    """Copy the configured database to `output`; returns the backend name."""
    url = _url()
    backend = url.get_backend_name()
    if backend == "sqlite":
        _sqlite_backup(_sqlite_path(url), output)
    elif backend == "postgresql":
        _pg_backup(url, output)
    else:
        raise BackupError(f"Database non supportato per il salvataggio: {backend}")
    return backend


def restore_database(backup: Path) -> str:
    """Replace the configured database's content with the backup `backup`; returns the backend."""
    if not backup.is_file():
        raise BackupError(f"File di backup non trovato: {backup}")
    url = _url()
    backend = url.get_backend_name()
    if backend == "sqlite":
        _sqlite_restore(backup, _sqlite_path(url))
    elif backend == "postgresql":
        _pg_restore(url, backup)
    else:
        raise BackupError(f"Database non supportato per il ripristino: {backend}")
    return backend
