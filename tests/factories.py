"""Plain factory functions with valid, unique defaults."""

from __future__ import annotations

import itertools
from typing import Any

from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.extensions import db
from app.registry.models import Organization

PASSWORD = "una-password-di-prova-lunga"
_seq = itertools.count(1)
_hashes: dict[str, str] = {}


def organization(**fields: Any) -> Organization:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Ente di prova {n}",
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
