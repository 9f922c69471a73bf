"""Who sees, prints and revokes household cards, and which card a scan may open."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.cards.models import HouseholdCard
from app.extensions import db
from app.households.models import Household
from app.households.policy import (
    can_edit_household,
    can_record_distributions,
    visible_households,
)


def can_see_cards(user: User, household: Household) -> bool:
    """The card's state and history: for those who may edit the household."""
    return can_edit_household(user, household)


def can_issue_cards(user: User, household: Household) -> bool:
    """Issuing (and reissuing) is a hub's act: the card carries the hub's name."""
    return can_edit_household(user, household) and can_record_distributions(user)


def household_cards(household: Household) -> list[HouseholdCard]:
    """The household's cards, the newest first (the active one, if any, leads)."""
    return list(
        db.session.scalars(
            select(HouseholdCard)
            .where(HouseholdCard.household_id == household.id)
            .order_by(HouseholdCard.issued_at.desc(), HouseholdCard.id.desc())
        )
    )


def scanned_card(user: User, token_hash: str) -> HouseholdCard | None:
    """The card with this token, only when its household is one the user may see: a card of a
    household out of scope is not found, exactly like a token that never existed."""
    return db.session.scalar(
        select(HouseholdCard)
        .join(Household, Household.id == HouseholdCard.household_id)
        .where(
            HouseholdCard.token_hash == token_hash,
            HouseholdCard.household_id.in_(
                visible_households(user).with_only_columns(Household.id)
            ),
        )
    )
