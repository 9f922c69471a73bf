"""Accreditations expire on their date: for referrals, on the coordinator's home, in the log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cli import expire_accreditations_command
from app.clock import today
from app.extensions import db as _db
from app.registry.models import Accreditation
from app.registry.policy import referral_target_organizations
from tests import factories


def targets():
    return {org.name for org in _db.session.scalars(referral_target_organizations(today()))}


def test_only_actively_accredited_job_services_are_referral_targets(db):
    ok = factories.organization(name="In regola")
    factories.accreditation(ok)
    past = factories.organization(name="Scaduto ieri")
    factories.accreditation(past, expires_on=today() - timedelta(days=1))
    suspended = factories.organization(name="Sospeso")
    factories.accreditation(suspended, status="suspended")
    pending = factories.organization(name="Da verificare")
    factories.accreditation(pending, status="pending")
    not_job = factories.organization(name="Solo snodo", is_job_service=False, is_hub=True)
    factories.accreditation(not_job)
    factories.organization(name="Mai accreditato")
    closed = factories.organization(name="Chiuso", active=False)
    factories.accreditation(closed)
    last_day = factories.organization(name="Scade oggi")
    factories.accreditation(last_day, expires_on=today())
    # Read-time check: "Scaduto ieri" is out even though its row still says active.
    assert targets() == {"In regola", "Scade oggi"}


def test_expire_command_writes_the_expiry_once(app, db):
    org = factories.organization()
    acc = factories.accreditation(org, expires_on=today() - timedelta(days=3))
    still_valid = factories.accreditation(factories.organization(), expires_on=today())
    _db.session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(expire_accreditations_command)
    assert first.exit_code == 0
    assert "1" in first.output
    second = runner.invoke(expire_accreditations_command)
    assert "0" in second.output

    _db.session.expire_all()
    assert _db.session.get(Accreditation, acc.id).status == "expired"
    assert _db.session.get(Accreditation, still_valid.id).status == "active"
    logged = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "accreditation_expired")
    ).all()
    assert [event.object_id for event in logged] == [acc.id]


def test_coordinator_home_lists_expiring_and_pending_accreditations(client, login_as, db):
    soon = factories.organization(name="Scade a breve")
    factories.accreditation(soon, expires_on=today() + timedelta(days=20))
    later = factories.organization(name="Scade tra un anno")
    factories.accreditation(later, expires_on=today() + timedelta(days=365))
    waiting = factories.organization(name="Appena aggiornato")
    factories.accreditation(waiting, status="pending")
    login_as("coordinator")
    home = client.get("/").get_data(as_text=True)
    expiring = home[home.index("Accreditamenti in scadenza") :]
    assert "Scade a breve" in expiring
    assert (today() + timedelta(days=20)).strftime("%d/%m/%Y") in expiring
    assert "Scade tra un anno" not in home
    to_verify = home[
        home.index("Accreditamenti da verificare") : home.index("Accreditamenti in scadenza")
    ]
    assert "Appena aggiornato" in to_verify


def test_detail_flags_an_accreditation_expiring_soon(client, login_as, db):
    org = factories.organization()
    factories.accreditation(org, expires_on=today() + timedelta(days=10))
    login_as("entity_operator")
    assert "scade entro 60 giorni" in client.get(f"/entities/{org.id}").get_data(as_text=True)
