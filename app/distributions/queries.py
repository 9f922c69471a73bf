"""What the distribution pages read. Every query starts from the households policy
(`visible_households`, `visible_distributions`), so nothing out of scope is found or counted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import format_date as babel_date
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from app.auth.models import Role, User
from app.distributions.models import Distribution
from app.distributions.policy import visible_distributions
from app.extensions import db
from app.households.models import Household, Person
from app.households.policy import (
    can_record_distributions,
    visible_households,
)
from app.registry.models import Organization, Site
from app.registry.policy import visible_organizations

MIN_QUERY_LENGTH = 2
MAX_HITS = 10
RECENT_LIMIT = 20
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_CODICE_FISCALE = re.compile(r"^[A-Z0-9]{16}$")


# Months -------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(start: date) -> date:
    return date(start.year + 1, 1, 1) if start.month == 12 else date(start.year, start.month + 1, 1)


def previous_month(start: date) -> date:
    return date(start.year - 1, 12, 1) if start.month == 1 else date(start.year, start.month - 1, 1)


def month_links(month: date, today: date) -> dict[str, Any]:
    """A monthly page's navigation: its month, the one before, the one after (none past this
    month), each with its name in the user's language."""
    following = next_month(month)
    return {
        "month": month,
        "month_label": babel_date(month, "LLLL yyyy"),
        "previous_month": previous_month(month),
        "previous_label": babel_date(previous_month(month), "LLLL yyyy"),
        "next_month": following if following <= month_start(today) else None,
        "next_label": babel_date(following, "LLLL yyyy"),
    }


def parse_month(value: str | None, today: date) -> date:
    """`YYYY-MM` from the URL; anything else (or a month still to come) means this month."""
    current = month_start(today)
    match = _MONTH.match((value or "").strip())
    if not match:
        return current
    year, month = int(match.group(1)), int(match.group(2))
    if year < 2000:
        return current
    wanted = date(year, month, 1)
    return wanted if wanted <= current else current


# Scope --------------------------------------------------------------------------------------


def hub_sites(user: User) -> list[Site]:
    """The hubs where this user may record: the sites of their organization flagged as hubs."""
    if not can_record_distributions(user):
        return []
    return list(
        db.session.scalars(
            select(Site)
            .where(Site.organization_id == user.organization_id, Site.is_hub.is_(True))
            .order_by(Site.name)
        )
    )


def log_distributions(user: User) -> Select[tuple[Distribution]]:
    """The distributions of the log: the City sees the whole city; an operator sees those of
    their own organization's hubs, for households they may see."""
    query = visible_distributions(user)
    if not user.has_role(Role.COORDINATOR):
        query = query.where(Distribution.organization_id == user.organization_id)
    return query


def recent_distributions(user: User, limit: int = RECENT_LIMIT) -> list[Distribution]:
    query = (
        log_distributions(user)
        .options(
            selectinload(Distribution.household).selectinload(Household.members),
            selectinload(Distribution.site).selectinload(Site.organization),
            selectinload(Distribution.operator),
        )
        .order_by(
            Distribution.distributed_on.desc(),
            Distribution.created_at.desc(),
            Distribution.id.desc(),
        )
        .limit(limit)
    )
    return list(db.session.scalars(query))


# The finder ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdHit:
    household: Household
    last_distributed_on: date | None
    basket_this_month: bool

    @property
    def member_count(self) -> int:
        return len(self.household.members)

    # What the counter needs to tell two families apart, and no more (FINDER_SHOWS).

    @property
    def reference(self) -> Person | None:
        return self.household.reference_person

    @property
    def birth_year(self) -> int | None:
        reference = self.reference
        return reference.birth_date.year if reference and reference.birth_date else None

    @property
    def codice_fiscale_tail(self) -> str | None:
        """The last four characters of the reference person's codice fiscale."""
        reference = self.reference
        return reference.codice_fiscale[-4:] if reference and reference.codice_fiscale else None

    @property
    def street(self) -> str | None:
        """The street of the household's address, without the house number."""
        return street_of(self.household.address)


# What a hit shows of the household, as the finder's audit event records it.
FINDER_SHOWS = ["reference_name", "birth_year", "codice_fiscale_last4", "street", "members"]


def street_of(address: str | None) -> str | None:
    """The street without the house number: "Via Cigna 12/a", "Corso Vercelli, 3 scala B" are
    "Via Cigna", "Corso Vercelli"; "Via 1 Maggio 3" is "Via 1 Maggio"."""
    text = " ".join((address or "").split())
    if "," in text:
        text = text.split(",", 1)[0]
    words = text.split(" ")
    numbered = [i for i, word in enumerate(words) if i >= 2 and any(c.isdigit() for c in word)]
    if numbered:
        words = words[: numbered[0]]
    while len(words) > 1 and words[-1].lower().rstrip(".") in ("n", "nr", "num"):
        words.pop()
    return " ".join(words).strip() or None


def normalised_query(text: str | None) -> str:
    return " ".join((text or "").split())[:100]


def find_households(user: User, text: str, today: date) -> list[HouseholdHit]:
    """Households in charge that the user may see, by a member's codice fiscale (exact) or by
    the beginning of a member's surname or name ("ross", "rossi mar")."""
    text = normalised_query(text)
    if len(text) < MIN_QUERY_LENGTH:
        return []
    codice_fiscale = text.replace(" ", "").upper()
    words = text.split(" ")[:4]
    by_name = and_(
        *[
            or_(
                Person.last_name.istartswith(word, autoescape=True),
                Person.first_name.istartswith(word, autoescape=True),
            )
            for word in words
        ]
    )
    matches = [by_name]
    if _CODICE_FISCALE.match(codice_fiscale):
        matches.append(Person.codice_fiscale == codice_fiscale)
    reference_name = (
        select(func.lower(Person.last_name + " " + Person.first_name))
        .where(Person.household_id == Household.id, Person.relation == "reference")
        .limit(1)
        .scalar_subquery()
    )
    query = (
        visible_households(user)
        .where(
            Household.status == "active",
            Household.anonymised_at.is_(None),
            Household.id.in_(select(Person.household_id).where(or_(*matches))),
        )
        .options(selectinload(Household.members))
        .order_by(reference_name, Household.id)
        .limit(MAX_HITS)
    )
    households = list(db.session.scalars(query))
    history = last_distributions(user, [h.id for h in households], today)
    return [
        HouseholdHit(h, *history.get(h.id, (None, False)))  # type: ignore[arg-type]
        for h in households
    ]


def last_distributions(
    user: User, household_ids: list[int], today: date
) -> dict[int, tuple[date | None, bool]]:
    """For each household: the date of its last distribution (at any hub), and whether it has
    already had a food basket this month. One grouped query."""
    if not household_ids:
        return {}
    start = month_start(today)
    basket_this_month = case(
        (
            and_(Distribution.kind == "food_basket", Distribution.distributed_on >= start),
            1,
        ),
        else_=0,
    )
    query = (
        visible_distributions(user)
        .with_only_columns(
            Distribution.household_id,
            func.max(Distribution.distributed_on),
            func.max(basket_this_month),
        )
        .where(Distribution.household_id.in_(household_ids))
        .group_by(Distribution.household_id)
    )
    return {row[0]: (row[1], bool(row[2])) for row in db.session.execute(query)}


# Monthly counts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KindCount:
    distributions: int = 0
    quantity: int = 0

    def __add__(self, other: KindCount) -> KindCount:
        return KindCount(self.distributions + other.distributions, self.quantity + other.quantity)


@dataclass
class HubCounts:
    site_id: int
    hub: str
    organization: str
    kinds: dict[str, KindCount] = field(default_factory=dict)

    def of(self, kind: str) -> KindCount:
        return self.kinds.get(kind, KindCount())


@dataclass
class MonthlyCounts:
    month: date
    hubs: list[HubCounts]

    def total(self, kind: str) -> KindCount:
        result = KindCount()
        for hub in self.hubs:
            result = result + hub.of(kind)
        return result

    @property
    def is_empty(self) -> bool:
        return not any(hub.kinds for hub in self.hubs)


def monthly_counts(user: User, start: date) -> MonthlyCounts:
    """Per hub and per kind: how many distributions and how many items, in the month that
    begins on `start`. Counted by the database (GROUP BY), within the log's scope. The hubs in
    scope with nothing recorded are listed too, with zeros: "nothing" is an answer."""
    start = month_start(start)
    counted = (
        log_distributions(user)
        .where(
            Distribution.distributed_on >= start, Distribution.distributed_on < next_month(start)
        )
        .with_only_columns(
            Site.id,
            Site.name,
            Organization.name,
            Distribution.kind,
            func.count(Distribution.id),
            func.coalesce(func.sum(Distribution.quantity), 0),
        )
        .join_from(Distribution, Site, Site.id == Distribution.site_id)
        .join(Organization, Organization.id == Site.organization_id)
        .group_by(Site.id, Site.name, Organization.name, Distribution.kind)
    )
    hubs: dict[int, HubCounts] = {}
    for site_id, hub, organization, kind, number, quantity in db.session.execute(counted):
        row = hubs.setdefault(site_id, HubCounts(site_id, hub, organization))
        row.kinds[kind] = KindCount(int(number), int(quantity))
    for site_id, hub, organization in db.session.execute(_hubs_in_scope(user)):
        hubs.setdefault(site_id, HubCounts(site_id, hub, organization))
    ordered = sorted(hubs.values(), key=lambda h: (h.organization.lower(), h.hub.lower()))
    return MonthlyCounts(start, ordered)


def _hubs_in_scope(user: User) -> Select[tuple[int, str, str]]:
    query = (
        select(Site.id, Site.name, Organization.name)
        .join(Organization, Organization.id == Site.organization_id)
        .where(Site.is_hub.is_(True), Organization.is_hub.is_(True))
    )
    if user.has_role(Role.COORDINATOR):
        return query.where(Organization.active.is_(True))
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return query.where(Organization.id == user.organization_id)
    return query.where(False)  # type: ignore[arg-type]


def visible_hub_organizations(user: User, organization_ids: set[int]) -> set[int]:
    """Which of these organizations the user may see in the registry (to name their hubs)."""
    if not organization_ids:
        return set()
    query = (
        visible_organizations(user)
        .with_only_columns(Organization.id)
        .where(Organization.id.in_(organization_ids))
    )
    return set(db.session.scalars(query))
