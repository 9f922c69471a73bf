"""Shared worlds of the tests: logging in, and the organizations, units, referrals and networks
several modules build (one definition each; `factories` holds the plain rows)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import User
from app.db import utcnow
from app.extensions import db as _db
from app.housing.models import HousingUnit
from app.referrals.models import Referral
from app.registry.models import Organization
from tests import factories
from tests.conftest import csrf_token_from, start_session

PASSWORD = factories.PASSWORD
DEMO_PASSWORD = "demo-Torino-2026"  # every demo account's (`flask seed-demo`)

_seq = itertools.count(1)


# Logging in ------------------------------------------------------------------------------------


def log_in(client: FlaskClient, who: User | str, password: str = PASSWORD) -> FlaskClient:
    """Log `client` in as `who` (a user or a username), for a test that is not about logging in.

    A user of the tests' password, active and with no second factor, gets the session the form
    would make written directly (`conftest.start_session`); a username (a demo account) goes
    through the form. Tests of the login itself post the form themselves.
    """
    if isinstance(who, User) and password == PASSWORD and who.active and not who.totp_enabled:
        start_session(client.application, client, who)
        return client
    username = who if isinstance(who, str) else who.username
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, f"{username} non riesce ad accedere"
    return client


def signed_in(app: Flask, who: User | str, password: str = PASSWORD) -> FlaskClient:
    """A browser of its own, logged in as `who` (next to the test's `client`).

    Given a user, the test's rows are committed first, for the login request to read them.
    """
    if not isinstance(who, str):
        _db.session.commit()
    return log_in(app.test_client(), who, password)


# Organizations ---------------------------------------------------------------------------------


def provider_org(**fields: Any) -> Organization:
    """A housing provider (and not a job service)."""
    return factories.organization(is_housing_provider=True, is_job_service=False, **fields)


def job_service_org(**fields: Any) -> Organization:
    """An accredited job service."""
    org = factories.organization(is_job_service=True, **fields)
    factories.accreditation(org)
    return org


# Housing ---------------------------------------------------------------------------------------


def make_unit(
    provider: Organization, capacity: int = 4, vacancies: int = 2, **fields: Any
) -> HousingUnit:
    """An active temporary flat of `provider`, open to every household, its free places just
    confirmed (unless `vacancies_updated_at` says otherwise)."""
    n = next(_seq)
    values: dict[str, Any] = {
        "provider_id": provider.id,
        "name": f"Alloggio di prova {n}",
        "kind": "temporary_flat",
        "address": f"Via Alloggio {n}",
        "circoscrizione": provider.circoscrizione,
        "capacity": capacity,
        "vacancies": vacancies,
        "target_groups": [],  # everybody
        "accessible": False,
        "active": True,
        "vacancies_updated_at": utcnow(),
    }
    values.update(fields)
    unit = HousingUnit(**values)
    _db.session.add(unit)
    _db.session.flush()
    return unit


# Referrals -------------------------------------------------------------------------------------

APPROVED_OR_LATER = ("approved", "accepted", "declined", "in_progress", "completed", "failed")
ACCEPTED_OR_LATER = ("accepted", "in_progress", "completed", "failed")


def make_referral(
    household: Any, service: Any, status: str = "submitted", *, days_ago: int = 0, **fields: Any
) -> Referral:
    """A referral as the operations would have left it, `days_ago` days after its last step."""
    moment = utcnow() - timedelta(days=days_ago)
    values: dict[str, Any] = {
        "household_id": household.id,
        "person_id": household.members[0].id,
        "from_organization_id": household.organization_id,
        "service_id": service.id,
        "to_organization_id": service.organization_id,
        "need": "orientation",
        "motivation": "Cerca un percorso di orientamento dopo la fine del contratto.",
        "status": status,
        "status_changed_at": moment,
        "created_at": moment,
        "submitted_at": None if status in ("draft", "waiting") else moment,
        "waiting_since": moment if status == "waiting" else None,
        "approved_at": moment if status in APPROVED_OR_LATER else None,
        "accepted_at": moment if status in ACCEPTED_OR_LATER else None,
        "match_reasons": [],
    }
    values.update(fields)
    referral = Referral(**values)
    _db.session.add(referral)
    _db.session.flush()
    return referral


def make_net() -> SimpleNamespace:
    """A hub that refers (circoscrizione 3, one household of two), a job service that receives
    (its orientation service), an operator of each, the City."""
    from decimal import Decimal

    sender = factories.organization(is_hub=True, is_job_service=True, circoscrizione=3)
    factories.accreditation(sender)
    receiver = job_service_org(circoscrizione=3, name="Cooperativa Lavoro Insieme")
    service = factories.service(receiver, name="Orientamento al lavoro", service_type="orientation")
    household = factories.household(
        sender, members=2, circoscrizione=3, isee_value=Decimal("4500"), address="Via Segreta 7"
    )
    world = SimpleNamespace(
        sender=sender,
        receiver=receiver,
        service=service,
        household=household,
        sender_user=factories.user(role="entity_operator", organization=sender),
        receiver_user=factories.user(role="entity_operator", organization=receiver),
        coordinator=factories.user(role="coordinator"),
    )
    _db.session.commit()
    return world
