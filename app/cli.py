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


@click.command("promote-waiting-referrals")
@with_appcontext
def promote_waiting_referrals_command() -> None:
    """Nightly (and on the 1st, the month's turn): the waiting referrals of every service with
    places left move to "submitted", oldest first; each service in its own transaction, under
    its row lock (safe to run twice, or beside the web processes)."""
    from app.clock import today
    from app.extensions import db
    from app.referrals.operations import promote_waiting, services_with_waiting_lists
    from app.registry.models import Service

    day = today()
    moved = 0
    for service_id in services_with_waiting_lists():
        service = db.session.get(Service, service_id)
        if service is not None:
            moved += len(promote_waiting(service, day))
        db.session.commit()
    click.echo(f"Segnalazioni uscite dalla lista d'attesa: {moved}")


@click.command("seed-scale")
@click.option(
    "--households",
    type=click.IntRange(min=1),
    default=None,
    help="Nuclei da generare: 100000 è la scala della città (imposta la scala a N/100000).",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True, max=10),
    default=None,
    help="Scala rispetto alla città (1.0 = 100.000 nuclei); in alternativa a --households.",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Seme casuale.")
@with_appcontext
def seed_scale_command(households: int | None, scale: float | None, seed: int) -> None:
    """Fill an EMPTY database with city-scale data (DESIGN.md, "Scale we design for")."""
    import time

    from app.clock import today
    from app.scale import HOUSEHOLDS_AT_SCALE_1, database_is_empty, seed_scale, targets

    if households is not None and scale is not None:
        raise click.UsageError("Indica --households oppure --scale, non entrambi.")
    if households is not None:
        scale = households / HOUSEHOLDS_AT_SCALE_1
    if scale is None:
        scale = 1.0
    if not database_is_empty():
        raise click.ClickException(
            "Il database contiene già dati: i dati a scala cittadina si caricano solo su un "
            "database vuoto (creane uno nuovo con `flask db upgrade`)."
        )
    planned = targets(scale)
    click.echo(
        f"Generazione dei dati a scala {scale:g}: {planned['households']} nuclei, "
        f"{planned['referrals']} segnalazioni, {planned['audit_events']} eventi di audit."
    )
    started = time.perf_counter()
    summary = seed_scale(scale, seed, today(), click.echo)
    elapsed = time.perf_counter() - started
    click.echo(
        f"Dati a scala cittadina caricati in {elapsed:.1f} s: "
        + ", ".join(f"{k}: {v}" for k, v in summary.items())
    )


@click.command("send-emails")
@with_appcontext
def send_emails_command() -> None:
    """Send the notification e-mails waiting to go at once (normally sent right after each step)."""
    from app.notifications.mail import deliver_pending

    click.echo(f"E-mail inviate: {deliver_pending()}")


@click.command("send-digests")
@with_appcontext
def send_digests_command() -> None:
    """Send each user's daily digest of notifications (once a day, by cron or the worker)."""
    from app.notifications.mail import deliver_digests

    click.echo(f"Riepiloghi inviati: {deliver_digests()}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Esegue i lavori in coda e termina.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """The background worker: runs the jobs put on the portal's Redis queue (needs REDIS_URL)."""
    from app.jobs import worker
    from app.shared import redis_client

    client = redis_client()
    if client is None:
        raise click.ClickException(
            "REDIS_URL non impostato: senza Redis i lavori si eseguono nel processo web."
        )
    # Each job runs in this process, inside this application context, with its own session.
    worker(client).work(burst=burst)


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Nightly: accreditations expiring within 30 days, housing units not confirmed for a week;
    background exports past their 24 hours are deleted."""
    from app.clock import today
    from app.downloads.views import purge_expired
    from app.extensions import db
    from app.notifications.reminders import send_reminders

    summary = send_reminders(today())
    summary["esportazioni scadute cancellate"] = purge_expired()
    db.session.commit()
    from app.notifications.mail import deliver_pending

    deliver_pending()
    click.echo("Promemoria: " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
