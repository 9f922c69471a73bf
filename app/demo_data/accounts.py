"""The demo accounts of the stable contract."""

from __future__ import annotations

from app.auth.models import Role

# (username, full name, role, organization index or None)
DEMO_USERS: list[tuple[str, str, Role, int | None]] = [
    ("admin", "Alessandro Amministratore", Role.ADMIN, None),
    ("coordinatore", "Chiara Coordinatrice", Role.COORDINATOR, None),
    ("ente1", "Elena Operatrice", Role.ENTITY_OPERATOR, 0),
    ("ente2", "Enrico Operatore", Role.ENTITY_OPERATOR, 1),
    ("alloggi1", "Anna Gestrice Alloggi", Role.HOUSING_PROVIDER, 2),
]
