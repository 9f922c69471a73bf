"""Hub stock under real office use: two counters giving out the last basket, two colleagues
recording the same delivery note, two hubs moving goods to each other at once.

Each thread is one request with its own application context, session and connection, released
together by a barrier (tests/concurrency.py). SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.clock import today
from app.distributions import operations as distributions
from app.distributions.models import Distribution
from app.errors import DomainError
from app.extensions import db as _db
from app.households.models import Household
from app.registry.models import Site
from app.supplies import operations
from app.supplies.models import SupplyBalance, SupplyDelivery, SupplyItem, SupplyMovement
from tests import factories
from tests.concurrency import count, only_domain_errors, race


@pytest.fixture
def hub(db) -> dict[str, Any]:
    org = factories.organization(is_hub=True)
    site = factories.site(org, is_hub=True, name="Snodo Aurora")
    users = [factories.user("entity_operator", organization=org) for _ in range(2)]
    households = [factories.household(org) for _ in range(2)]
    item = operations.standard_item("food_basket")
    assert item is not None
    operations.record_delivery(site, "DDT-1", today(), [(item, 1)], users[0])
    _db.session.commit()
    return {
        "site": site.id,
        "users": [u.id for u in users],
        "households": [h.id for h in households],
        "item": item.id,
    }


def test_two_counters_giving_out_the_last_basket_one_succeeds(app, hub):
    def prepare(i: int) -> tuple[Household, Site, User]:
        household = _db.session.get(Household, hub["households"][i])
        site = _db.session.get(Site, hub["site"])
        user = _db.session.get(User, hub["users"][i])
        household.members, site.organization  # noqa: B018 - loaded as the page had them
        return household, site, user

    def act(i: int, loaded: tuple[Household, Site, User]) -> Distribution:
        household, site, user = loaded
        return distributions.record_distribution(household, site, "food_basket", 1, today(), user)

    outcomes = race(app, prepare, act, shown=lambda e: getattr(e, "message", None))
    errors = only_domain_errors(outcomes, operations.OutOfStock)
    assert len(errors) == 1
    loser = next(o for o in outcomes if not o.won)
    assert "Scorte esaurite per paniere alimentare allo snodo Snodo Aurora" in loser.shown
    assert count(Distribution) == 1
    balance = _db.session.scalar(select(SupplyBalance))
    assert balance.on_hand == 0
    total = _db.session.scalar(select(func.sum(SupplyMovement.quantity)))
    assert total == 0


def test_the_same_delivery_note_recorded_twice_at_once_counts_once(app, hub):
    def prepare(i: int) -> tuple[Site, SupplyItem, User]:
        return (
            _db.session.get(Site, hub["site"]),
            _db.session.get(SupplyItem, hub["item"]),
            _db.session.get(User, hub["users"][i]),
        )

    def act(i: int, loaded: tuple[Site, SupplyItem, User]) -> SupplyDelivery:
        site, item, user = loaded
        return operations.record_delivery(site, "DDT-2", today(), [(item, 10)], user)

    outcomes = race(app, prepare, act)
    errors = only_domain_errors(outcomes, DomainError)
    assert len(errors) == 1
    assert "già registrato" in errors[0].message
    assert count(SupplyDelivery) == 2  # DDT-1 and one DDT-2
    assert _db.session.scalar(select(SupplyBalance)).on_hand == 11


def test_two_hubs_moving_goods_to_each_other_at_once_both_succeed(app, hub):
    other_org = factories.organization(is_hub=True)
    other = factories.site(other_org, is_hub=True, name="Snodo Vallette")
    other_user = factories.user("entity_operator", organization=other_org)
    item = _db.session.get(SupplyItem, hub["item"])
    operations.record_delivery(other, "DDT-V", today(), [(item, 1)], other_user)
    _db.session.commit()
    moves = [(hub["site"], other.id, hub["users"][0]), (other.id, hub["site"], other_user.id)]

    def prepare(i: int) -> tuple[Site, Site, SupplyItem, User]:
        source, target, user = moves[i]
        return (
            _db.session.get(Site, source),
            _db.session.get(Site, target),
            _db.session.get(SupplyItem, hub["item"]),
            _db.session.get(User, user),
        )

    def act(i: int, loaded: tuple[Site, Site, SupplyItem, User]) -> SupplyMovement:
        source, target, item, user = loaded
        return operations.record_adjustment(
            source, item, "transferred", -1, today(), user, to_site=target
        )

    outcomes = race(app, prepare, act)
    only_domain_errors(outcomes, operations.OutOfStock)
    balances = _db.session.scalars(select(SupplyBalance)).all()
    assert sum(b.on_hand for b in balances) == 2
    assert all(b.on_hand >= 0 for b in balances)
