"""The navigation: each role sees only the areas it may use, and only areas that exist."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.auth.models import Role
from app.i18n import lazy_gettext as _l

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    roles: frozenset[Role]


NAV: tuple[NavItem, ...] = (
    NavItem("home.index", _l("Home"), ALL_ROLES),
    NavItem("registry.index", _l("Enti"), ALL_ROLES),
    NavItem(
        "households.index",
        _l("Nuclei familiari"),
        frozenset({Role.COORDINATOR, Role.ENTITY_OPERATOR}),
    ),
    NavItem(
        "distributions.index",
        _l("Distribuzioni"),
        frozenset({Role.COORDINATOR, Role.ENTITY_OPERATOR}),
    ),
    NavItem("supplies.index", _l("Scorte"), frozenset({Role.COORDINATOR, Role.ENTITY_OPERATOR})),
    NavItem(
        "referrals.index", _l("Segnalazioni"), frozenset({Role.COORDINATOR, Role.ENTITY_OPERATOR})
    ),
    NavItem("housing.index", _l("Alloggi"), frozenset(Role) - {Role.ADMIN}),
    NavItem("projects.index", _l("Progetti"), frozenset({Role.COORDINATOR, Role.ENTITY_OPERATOR})),
    NavItem("reports.index", _l("Report"), frozenset({Role.COORDINATOR})),
    NavItem("audit.index", _l("Registro attività"), frozenset({Role.COORDINATOR, Role.ADMIN})),
    NavItem("admin.users", _l("Utenti"), frozenset({Role.ADMIN})),
    NavItem("admin.settings_page", _l("Impostazioni"), frozenset({Role.ADMIN})),
)


def nav_for(role: str) -> list[NavItem]:
    views = current_app.view_functions
    return [item for item in NAV if item.endpoint in views and Role(role) in item.roles]
