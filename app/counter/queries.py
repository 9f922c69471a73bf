"""What the offline counter reads: the hub's day (the households it may see, as little of each
as the counter needs) and the entries its queue sent. Every query starts from the households
policy, so nothing out of scope is shipped, listed or counted."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.cards.models import HouseholdCard
from app.clock import ROME, today
from app.counter.models import HELD, CounterEntry
from app.db import utcnow
from app.distributions.models import Distribution
from app.distributions.queries import hub_sites, month_start, next_month, street_of
from app.extensions import db
from app.households.models import Household
from app.households.policy import visible_households
from app.households.vocabulary import DISTRIBUTION_KINDS

# A hub's day: far more than any hub serves; a bigger scope is cut (and the page says so).
MAX_DAY_HOUSEHOLDS = 3000
# What the day shows of each household, as its audit event records it.
DAY_SHOWS = [
    "reference_name",
    "member_names",
    "birth_year",
    "codice_fiscale_last4",
    "codice_fiscale_sha256",
    "street",
    "members",
    "food_baskets_this_month",
    "card_sha256",
]


def cf_digest(codice_fiscale: str) -> str:
    """What the browser compares a typed codice fiscale with: its sha256, never the code."""
    return hashlib.sha256(codice_fiscale.strip().upper().encode("ascii", "ignore")).hexdigest()


def _day_households(user: User) -> Select[tuple[Household]]:
    return visible_households(user).where(
        Household.status == "active", Household.anonymised_at.is_(None)
    )


def day_data(user: User) -> dict[str, Any]:
    """The day of the user's hubs, for the browser to keep (encrypted) and search offline."""
    day = today()
    households = list(
        db.session.scalars(
            _day_households(user)
            .options(selectinload(Household.members))
            .order_by(Household.id)
            .limit(MAX_DAY_HOUSEHOLDS + 1)
        )
    )
    truncated = len(households) > MAX_DAY_HOUSEHOLDS
    households = households[:MAX_DAY_HOUSEHOLDS]
    ids = [h.id for h in households]
    start = month_start(day)
    baskets: dict[int, list[str]] = {}
    last: dict[int, date] = {}
    if ids:
        given = db.session.execute(
            select(Distribution.household_id, Distribution.distributed_on, Distribution.kind)
            .where(
                # The day's households only: each one visible to the user by construction.
                Distribution.household_id.in_(
                    _day_households(user).with_only_columns(Household.id)
                ),
                Distribution.distributed_on >= start,
                Distribution.distributed_on < next_month(start),
            )
            .order_by(Distribution.distributed_on)
        )
        for household_id, on, kind in given:
            if kind == "food_basket":
                baskets.setdefault(household_id, []).append(on.isoformat())
            last[household_id] = max(on, last.get(household_id, on))
    cards = dict(
        db.session.execute(
            select(HouseholdCard.household_id, HouseholdCard.token_hash).where(
                HouseholdCard.revoked_at.is_(None),
                HouseholdCard.household_id.in_(
                    _day_households(user).with_only_columns(Household.id)
                ),
            )
        ).all()
    )
    rows = []
    for household in households:
        reference = household.reference_person
        rows.append(
            {
                "id": household.id,
                "name": household.display_name,
                "words": sorted(
                    {
                        word.lower()
                        for member in household.members
                        for word in f"{member.last_name} {member.first_name}".split()
                    }
                ),
                "birth_year": reference.birth_date.year
                if reference and reference.birth_date
                else None,
                "cf_tail": reference.codice_fiscale[-4:]
                if reference and reference.codice_fiscale
                else None,
                "cf": [cf_digest(m.codice_fiscale) for m in household.members if m.codice_fiscale],
                "street": street_of(household.address),
                "members": len(household.members),
                "circoscrizione": household.circoscrizione,
                "baskets": baskets.get(household.id, []),
                "last": last[household.id].isoformat() if household.id in last else None,
                "card": cards.get(household.id),
            }
        )
    return {
        "day": day.isoformat(),
        "downloaded_at": utcnow().isoformat(),
        "user_id": user.id,
        "sites": [{"id": s.id, "name": s.name} for s in hub_sites(user)],
        "kinds": {code: str(label) for code, label in DISTRIBUTION_KINDS.items()},
        "households": rows,
        "truncated": truncated,
    }


def visible_ids(user: User, household_ids: list[int]) -> set[int]:
    """Which of these households the user may see (the households policy decides)."""
    if not household_ids:
        return set()
    return set(
        db.session.scalars(
            visible_households(user)
            .with_only_columns(Household.id)
            .where(Household.id.in_(household_ids))
        )
    )


def organization_entries(user: User) -> tuple[list[CounterEntry], list[CounterEntry]]:
    """The user's organization's held entries (any day: they wait for someone), and what this
    user's queue sent today. Entries whose household is no longer visible show no name."""
    base = (
        select(CounterEntry)
        .where(CounterEntry.organization_id == user.organization_id)
        .options(
            selectinload(CounterEntry.household).selectinload(Household.members),
            selectinload(CounterEntry.site),
        )
    )
    held = list(
        db.session.scalars(
            base.where(CounterEntry.status.in_(HELD)).order_by(
                CounterEntry.distributed_on, CounterEntry.id
            )
        )
    )
    synced_today = list(
        db.session.scalars(
            base.where(
                and_(
                    CounterEntry.user_id == user.id,
                    CounterEntry.status.not_in(HELD),
                    CounterEntry.synced_at >= _start_of_today_utc(),
                )
            ).order_by(CounterEntry.id.desc())
        )
    )
    visible = visible_ids(
        user, [e.household_id for e in held + synced_today if e.household_id is not None]
    )
    for entry in held + synced_today:
        entry.shown_household = entry.household if entry.household_id in visible else None  # type: ignore[attr-defined]
    return held, synced_today


def _start_of_today_utc() -> datetime:
    """Midnight in Turin, as the UTC moment stored times compare with."""
    return datetime.combine(today(), time(), ROME).astimezone(UTC)
