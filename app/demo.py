"""Demo data: the accounts of the stable contract and organizations across the 8 districts."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from app.admin.models import set_setting
from app.audit.operations import record
from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.extensions import db
from app.registry.models import Organization

# (name, circoscrizione, job service, hub, housing provider)
DEMO_ORGANIZATIONS: list[tuple[str, int, bool, bool, bool]] = [
    ("Cooperativa Sociale Il Ponte", 6, True, True, False),
    ("Associazione Orizzonti di Lavoro", 3, True, False, False),
    ("Fondazione Casa Solidale Torino", 7, False, False, True),
    ("Cooperativa Crocetta Insieme", 1, True, False, False),
    ("Associazione Mirafiori Comunità", 2, False, True, False),
    ("Snodo San Donato Solidale", 4, False, True, False),
    ("Cooperativa Vallette al Lavoro", 5, True, False, False),
    ("Associazione San Salvario Accoglie", 8, True, True, True),
]

# (username, full name, role, organization index or None)
DEMO_USERS: list[tuple[str, str, Role, int | None]] = [
    ("admin", "Alessandro Amministratore", Role.ADMIN, None),
    ("coordinatore", "Chiara Coordinatrice", Role.COORDINATOR, None),
    ("ente1", "Elena Operatrice", Role.ENTITY_OPERATOR, 0),
    ("ente2", "Enrico Operatore", Role.ENTITY_OPERATOR, 1),
    ("alloggi1", "Anna Gestrice Alloggi", Role.HOUSING_PROVIDER, 2),
]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def seed_demo() -> dict[str, int]:
    organizations = [
        Organization(
            name=name,
            circoscrizione=district,
            is_job_service=job,
            is_hub=hub,
            is_housing_provider=housing,
        )
        for name, district, job, hub, housing in DEMO_ORGANIZATIONS
    ]
    db.session.add_all(organizations)
    db.session.flush()
    password_hash = hash_password(current_app.config["DEMO_PASSWORD"])
    users = []
    for username, full_name, role, org_index in DEMO_USERS:
        user = User(
            username=username,
            full_name=full_name,
            email=f"{username}@demo.reti-inclusione.torino.it",
            role=role.value,
            organization_id=organizations[org_index].id if org_index is not None else None,
            password_hash=password_hash,
        )
        users.append(user)
    db.session.add_all(users)
    db.session.flush()
    set_setting("demo_data", True)
    record("demo_data_loaded", changes={"organizations": len(organizations), "users": len(users)})
    db.session.commit()
    return {"enti": len(organizations), "utenti": len(users)}
