"""Maintenance commands: `apply-retention`, `backup`, `restore` (flask --app wsgi ...)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from app.maintenance.backup import BackupError, backup_database, restore_database


def _italian_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@click.command("apply-retention")
@click.option(
    "--today",
    "today_value",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Data di riferimento (AAAA-MM-GG); se omessa, la data di oggi a Torino.",
)
@with_appcontext
def apply_retention_command(today_value: datetime | None) -> None:
    """Anonymise the closed households past the retention period (daily; safe to run twice)."""
    from app import idempotency
    from app.clock import today
    from app.counter import operations as counter
    from app.extensions import db
    from app.maintenance.retention import apply_retention

    reference = today_value.date() if today_value is not None else today()
    summary = apply_retention(reference)
    # The create forms' idempotency keys are only needed for a day (a double click, a retry).
    forgotten = idempotency.purge()
    # A counter day left open ends at midnight: its key goes, its encrypted copy is unreadable.
    closed_days = counter.purge_keys(reference)
    db.session.commit()
    period = f"{summary.retention_years} ann{'o' if summary.retention_years == 1 else 'i'}"
    if summary.households:
        click.echo(
            f"Conservazione dei dati al {_italian_date(reference)} (periodo: {period}): "
            f"nuclei anonimizzati {summary.households}, componenti {summary.members}; "
            f"conservate {summary.distributions} distribuzioni e "
            f"{summary.joint_care_requests} richieste di presa in carico congiunta."
        )
    else:
        click.echo(
            f"Conservazione dei dati al {_italian_date(reference)} (periodo: {period}): "
            "nessun nucleo da anonimizzare."
        )
    if forgotten:
        click.echo(f"Chiavi di invio dei moduli più vecchie di un giorno eliminate: {forgotten}.")
    if closed_days:
        click.echo(f"Giornate del banco offline rimaste aperte e chiuse: {closed_days}.")
    if summary.closed_without_date:
        click.echo(
            f"Attenzione: {summary.closed_without_date} nuclei chiusi senza data di chiusura "
            "non sono stati anonimizzati: registrate la data di chiusura."
        )


@click.command("backup")
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File in cui salvare la copia del database.",
)
@with_appcontext
def backup_command(output: Path) -> None:
    """Save a consistent copy of the database (SQLite online backup, PostgreSQL pg_dump)."""
    try:
        backend = backup_database(output)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    kind = "SQLite" if backend == "sqlite" else "PostgreSQL (pg_dump, formato custom)"
    click.echo(f"Copia di sicurezza {kind} salvata in {output}.")


@click.command("restore")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="File di backup da ripristinare.",
)
@click.option(
    "--yes",
    is_flag=True,
    help="Conferma: il contenuto attuale del database viene sostituito dalla copia.",
)
@with_appcontext
def restore_command(input_path: Path, yes: bool) -> None:
    """Replace the database's content with a backup (stop the server first)."""
    if not yes:
        raise click.ClickException(
            "Il ripristino sostituisce tutto il contenuto del database con la copia: "
            "ripeti il comando con --yes per confermare."
        )
    try:
        restore_database(input_path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Database ripristinato dalla copia {input_path}.")


def register_maintenance_commands(app: Flask) -> None:
    app.cli.add_command(apply_retention_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
