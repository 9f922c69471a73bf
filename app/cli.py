"""Command-line tasks: `flask --app wsgi seed-demo`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Carica i dati solo se il database è vuoto.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo data (accounts of the stable contract, organizations in every district)."""
    from app.demo import database_is_empty, seed_demo

    if if_empty and not database_is_empty():
        click.echo("Database già popolato: dati dimostrativi non ricaricati.")
        return
    if not database_is_empty():
        raise click.ClickException(
            "Il database contiene già dati: "
            "i dati dimostrativi si caricano solo su un database vuoto."
        )
    summary = seed_demo()
    click.echo("Dati dimostrativi caricati: " + ", ".join(f"{k}: {v}" for k, v in summary.items()))


@click.command("expire-accreditations")
@with_appcontext
def expire_accreditations_command() -> None:
    """Mark as expired every accreditation past its expiry date (daily; safe to run twice)."""
    from app.clock import today
    from app.extensions import db
    from app.registry.operations import expire_accreditations

    expired = expire_accreditations(today())
    db.session.commit()
    click.echo(f"Accreditamenti scaduti oggi: {len(expired)}")
