"""Demo data: the accounts of the stable contract, the registry across the 8 districts, then
households, referrals, housing and projects built on them. The data themselves (people,
organizations, stories, texts) are in `app.demo_data`; this module and each domain's `demo.py`
load them."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from app.admin.models import set_setting
from app.audit.operations import record
from app.auth.models import User
from app.auth.passwords import hash_password
from app.cards.demo import seed_cards
from app.clock import today
from app.demo_data.accounts import DEMO_USERS
from app.extensions import db
from app.households.demo import seed_households
from app.housing.demo import seed_housing
from app.projects.demo import seed_projects
from app.referrals.demo import seed_referrals
from app.registry.demo import seed_registry
from app.supplies.demo import seed_supplies

__all__ = ["DEMO_USERS", "database_is_empty", "seed_demo"]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def seed_demo() -> dict[str, int]:
    day = today()
    organizations = seed_registry(day)
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
    by_username = {u.username: u for u in users}
    households = seed_households(organizations, by_username, day)
    supplies = seed_supplies(by_username, day)
    cards = seed_cards(organizations, by_username, day)
    referrals = seed_referrals(organizations, by_username, day)
    housing = seed_housing(organizations, by_username, day)
    projects = seed_projects(organizations, by_username, day)
    set_setting("demo_data", True)
    record("demo_data_loaded", changes={"organizations": len(organizations), "users": len(users)})
    db.session.commit()
    return {
        "enti": len(organizations),
        "utenti": len(users),
        **households,
        **supplies,
        **cards,
        **referrals,
        **housing,
        **projects,
    }
