"""Nightly reminders: an accreditation about to expire, housing units nobody confirmed for a week.
Each is told once (running the command twice tells nobody twice), and goes by e-mail too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.clock import today
from app.db import utcnow
from app.extensions import db as _db
from app.notifications.labels import target_url, text
from app.notifications.models import Notification
from app.notifications.reminders import send_reminders
from tests import factories
from tests.test_housing_rules import unit
from tests.test_notification_email import smtp  # noqa: F401 - fixture


def notified(kind):
    return _db.session.scalars(select(Notification).where(Notification.kind == kind)).all()


def test_an_accreditation_expiring_within_30_days_is_told_once(app, db):
    soon = factories.organization(name="Cooperativa Il Ponte")
    later = factories.organization()
    factories.accreditation(soon, expires_on=today() + timedelta(days=20))
    factories.accreditation(later, expires_on=today() + timedelta(days=45))
    operator = factories.user("entity_operator", soon)
    coordinator = factories.user("coordinator")
    factories.user("entity_operator", later)
    _db.session.commit()
    with app.test_request_context():
        assert send_reminders(today())["accreditamenti in scadenza"] == 1
        _db.session.commit()
        told = notified("accreditation_expiring")
        assert {n.user_id for n in told} == {operator.id, coordinator.id}
        when = (today() + timedelta(days=20)).strftime("%d/%m/%Y")
        assert text(told[0]) == (
            f"L'accreditamento di Cooperativa Il Ponte scade il {when}: va rinnovato perché "
            "l'ente continui a ricevere segnalazioni"
        )
        assert target_url(told[0]) == f"/entities/{soon.id}"
        assert send_reminders(today())["accreditamenti in scadenza"] == 0
        assert len(notified("accreditation_expiring")) == 2


def test_stale_units_are_told_to_their_provider_once_a_week(app, db):
    provider = factories.organization(is_housing_provider=True)
    fresh_provider = factories.organization(is_housing_provider=True)
    staff = factories.user("housing_provider", provider)
    factories.user("housing_provider", fresh_provider)
    unit(provider, vacancies_updated_at=utcnow() - timedelta(days=9))
    unit(provider, name="Alloggio B", vacancies_updated_at=utcnow() - timedelta(days=8))
    unit(fresh_provider, vacancies_updated_at=utcnow() - timedelta(days=1))
    _db.session.commit()
    with app.test_request_context():
        assert send_reminders(today())["gestori con alloggi da aggiornare"] == 1
        _db.session.commit()
        (told,) = notified("units_stale")
        assert told.user_id == staff.id
        assert text(told).startswith("2 alloggi non aggiornati da più di una settimana")
        assert target_url(told) == "/housing/"
        assert send_reminders(today())["gestori con alloggi da aggiornare"] == 0


def test_the_nightly_command_also_sends_the_emails(app, db, smtp):  # noqa: F811
    org = factories.organization()
    factories.accreditation(org, expires_on=today() + timedelta(days=3))
    operator = factories.user("entity_operator", org)
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "accreditamenti in scadenza: 1" in result.output
    (message,) = smtp.to(operator.email)
    assert "va rinnovato" in message["Subject"]
