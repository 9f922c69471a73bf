"""Plain factory functions with valid, unique defaults."""

from __future__ import annotations

import itertools
from typing import Any

from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.clock import today
from app.extensions import db
from app.registry.models import Accreditation, Organization, Service, Site

PASSWORD = "una-password-di-prova-lunga"
_seq = itertools.count(1)
_hashes: dict[str, str] = {}


def organization(**fields: Any) -> Organization:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Ente di prova {n}",
        "tax_code": tax_code(),
        "circoscrizione": (n % 8) + 1,
        "is_job_service": True,
        "is_hub": False,
        "is_housing_provider": False,
    }
    values.update(fields)
    org = Organization(**values)
    db.session.add(org)
    db.session.flush()
    return org


def user(
    role: str | Role = Role.COORDINATOR, organization: Organization | None = None, **fields: Any
) -> User:
    n = next(_seq)
    role = Role(role)
    if role.needs_organization and organization is None:
        organization = globals()["organization"](
            is_housing_provider=role == Role.HOUSING_PROVIDER,
            is_job_service=role == Role.ENTITY_OPERATOR,
        )
    if PASSWORD not in _hashes:
        _hashes[PASSWORD] = hash_password(PASSWORD)
    values: dict[str, Any] = {
        "username": f"utente{n}",
        "full_name": f"Utente Prova {n}",
        "email": f"utente{n}@example.org",
        "role": role.value,
        "organization_id": organization.id
        if organization is not None and role.needs_organization
        else None,
        "password_hash": _hashes[PASSWORD],
        "active": True,
    }
    values.update(fields)
    account = User(**values)
    db.session.add(account)
    db.session.flush()
    return account


_TAX_BASES = itertools.count(1000000)


def tax_code() -> str:
    """A valid, unique 11-digit codice fiscale of an organization (Luhn check digit)."""
    from stdnum import luhn

    base = f"{next(_TAX_BASES):07d}001"  # serial, then the tax office of Torino (001)
    return base + luhn.calc_check_digit(base)


def accreditation(org: Organization, **fields: Any) -> Accreditation:
    from datetime import timedelta

    values: dict[str, Any] = {
        "organization_id": org.id,
        "regional_number": f"ACC-LAV-{org.id:04d}",
        "granted_on": today() - timedelta(days=400),
        "expires_on": today() + timedelta(days=400),
        "fn_information": True,
        "fn_orientation": True,
        "status": "active",
    }
    values.update(fields)
    acc = Accreditation(**values)
    db.session.add(acc)
    db.session.flush()
    db.session.refresh(org)
    return acc


def service(org: Organization, **fields: Any) -> Service:

    n = next(_seq)
    values: dict[str, Any] = {
        "organization_id": org.id,
        "name": f"Servizio di prova {n}",
        "service_type": "orientation",
        "languages": ["it"],
        "monthly_capacity": 5,
        "active": True,
        "last_verified": today(),
    }
    values.update(fields)
    item = Service(**values)
    db.session.add(item)
    db.session.flush()
    return item


def site(org: Organization, **fields: Any) -> Site:
    n = next(_seq)
    values: dict[str, Any] = {
        "organization_id": org.id,
        "name": f"Sede di prova {n}",
        "address": f"Via Roma {n}",
        "circoscrizione": org.circoscrizione,
        "distribution_days": [],
    }
    values.update(fields)
    item = Site(**values)
    db.session.add(item)
    db.session.flush()
    return item


_CF_SEQ = itertools.count(1)


def codice_fiscale(
    birth_date: Any = None, sex: str = "F", last: str = "ROSSI", first: str = "MARIA"
) -> str:
    """A valid personal codice fiscale consistent with birth date and sex, unique per call."""
    from datetime import date

    from stdnum.it import codicefiscale as cf

    birth_date = birth_date or date(1990, 1, 1)
    n = next(_CF_SEQ)
    consonants = "BCDFGHJKLMNPQRSTVWXZ"
    surname = "".join(consonants[(n // 400 + i) % 20] for i in range(3))
    name = consonants[(n // 20) % 20] + consonants[n % 20] + "X"
    day = birth_date.day + (40 if sex == "F" else 0)
    month = "ABCDEHLMPRST"[birth_date.month - 1]
    body = f"{surname}{name}{birth_date.year % 100:02d}{month}{day:02d}L219"
    return body + cf.calc_check_digit(body)


def household(org: Organization | None = None, members: int = 1, **fields: Any) -> Any:
    from datetime import date

    from app.households.models import Household

    org = org or organization(is_hub=True)
    values: dict[str, Any] = {
        "organization_id": org.id,
        "circoscrizione": org.circoscrizione,
        "address": f"Via Prova {next(_seq)}",
        "needs": ["work"],
        "status": "active",
        "privacy_notice_on": date(2026, 1, 10),
    }
    # The sharing authorisation of old, as migration 0023 moves it into the consents ledger:
    # job_services, housing or all_partners (job services, housing, project), for the network.
    scope = fields.pop("sharing_scope", "all_partners")
    authorised_on = fields.pop("sharing_authorised_on", date(2026, 1, 10))
    withdrawn_on = fields.pop("sharing_withdrawn_on", None)
    values.update(fields)
    item = Household(**values)
    db.session.add(item)
    db.session.flush()
    if scope is not None and authorised_on is not None:
        purposes = {
            "job_services": ("job_services",),
            "housing": ("housing",),
            "all_partners": ("job_services", "housing", "project"),
        }[scope]
        for purpose in purposes:
            consent(item, purpose, given_on=authorised_on, withdrawn_on=withdrawn_on)
    for index in range(members):
        person(item, relation="reference" if index == 0 else "child")
    db.session.refresh(item)
    return item


def consent(
    household: Any,
    purpose: str = "job_services",
    recipient: Any = None,
    given_on: Any = None,
    expires_on: Any = None,
    withdrawn_on: Any = None,
    signed_form: str = "Prot. 2026/0001",
) -> Any:
    """A consent of the ledger: `recipient` an Organization or None (the whole network)."""
    from datetime import date

    from app.households.models import Consent

    item = Consent(
        household_id=household.id,
        purpose=purpose,
        recipient_organization_id=getattr(recipient, "id", recipient),
        given_on=given_on or date(2026, 1, 10),
        expires_on=expires_on,
        withdrawn_on=withdrawn_on,
        signed_form=signed_form,
    )
    db.session.add(item)
    db.session.flush()
    return item


def withdraw_all(household: Any, purpose: str | None = None, on: Any = None) -> None:
    """The household's consents (for `purpose`) withdrawn on `on` (today): as the old
    `sharing_withdrawn_on = today()`."""
    from sqlalchemy import update

    from app.clock import today
    from app.households.models import Consent

    query = update(Consent).where(
        Consent.household_id == household.id, Consent.withdrawn_on.is_(None)
    )
    if purpose is not None:
        query = query.where(Consent.purpose == purpose)
    db.session.execute(query.values(withdrawn_on=on or today()))
    db.session.flush()


def person(household: Any, **fields: Any) -> Any:
    from datetime import date

    from app.households.models import Person

    n = next(_seq)
    birth = fields.pop("birth_date", date(1980 + n % 20, 1 + n % 12, 1 + n % 28))
    sex = fields.pop("sex", "F" if n % 2 else "M")
    values: dict[str, Any] = {
        "household_id": household.id,
        "first_name": f"Nome{n}",
        "last_name": f"Cognome{n}",
        "codice_fiscale": codice_fiscale(birth, sex),
        "birth_date": birth,
        "sex": sex,
        "relation": "reference",
        "languages": ["it"],
    }
    values.update(fields)
    item = Person(**values)
    db.session.add(item)
    db.session.flush()
    return item
