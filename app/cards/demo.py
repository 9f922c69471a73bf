"""Demo household cards: four of ente1's households hold a card of ente1's first hub; one of
them lost its first card, revoked and reissued. Issued through the operations (audited)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.auth.models import User
from app.cards import operations
from app.cards.policy import household_cards
from app.extensions import db
from app.households.models import Household
from app.registry.models import Organization

CARDS = 4


def seed_cards(
    organizations: list[Organization], users: dict[str, User], today: date
) -> dict[str, int]:
    ente1 = users["ente1"]
    org = organizations[0]
    site = min((s for s in org.sites if s.is_hub), key=lambda s: s.id)
    households = db.session.scalars(
        select(Household)
        .where(Household.organization_id == org.id, Household.status == "active")
        .order_by(Household.id)
        .limit(CARDS)
    ).all()
    issued_on = datetime.combine(today - timedelta(days=40), time(9, 30), tzinfo=UTC)
    for household in households:
        card = operations.issue_card(household, site, ente1)
        card.issued_at = issued_on
    lost = households[0]
    operations.reissue_card(lost, site, "lost", None, ente1)
    for card in household_cards(lost):
        if card.active:
            continue
        card.revoked_at = datetime.combine(today - timedelta(days=3), time(10, 15), tzinfo=UTC)
    db.session.flush()
    return {"tessere": len(households) + 1}
