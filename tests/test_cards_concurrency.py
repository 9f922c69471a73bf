"""Household cards under real office use: two colleagues issuing, or revoking and reissuing, the
same household's card at once leave one active card. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from app.auth.models import User
from app.cards import operations
from app.cards.models import HouseholdCard
from app.extensions import db as _db
from app.households.models import Household
from app.registry.models import Site
from tests import factories
from tests.concurrency import count, only_domain_errors, race

THREADS = 4


def _desk():
    org = factories.organization(is_hub=True)
    site = factories.site(org, is_hub=True)
    household = factories.household(org)
    user = factories.user(role="entity_operator", organization=org)
    _db.session.commit()
    return household.id, site.id, user.id


def _load(ids):
    household_id, site_id, user_id = ids
    return (
        _db.session.get(Household, household_id),
        _db.session.get(Site, site_id),
        _db.session.get(User, user_id),
    )


def test_colleagues_issuing_a_card_at_once_make_one(app, db):
    ids = _desk()
    outcomes = race(
        app,
        lambda i: _load(ids),
        lambda i, loaded: operations.issue_card(*loaded),
        threads=THREADS,
    )
    assert sum(o.won for o in outcomes) == 1
    errors = only_domain_errors(outcomes)
    assert all("già una tessera attiva" in e.message for e in errors)
    assert count(HouseholdCard, HouseholdCard.household_id == ids[0]) == 1


def test_colleagues_reissuing_a_lost_card_at_once_leave_one_active(app, db):
    ids = _desk()
    operations.issue_card(*_load(ids))
    _db.session.commit()

    def act(i, loaded):
        household, site, user = loaded
        return operations.reissue_card(household, site, "lost", None, user)

    outcomes = race(app, lambda i: _load(ids), act, threads=THREADS)
    only_domain_errors(outcomes)
    active = count(
        HouseholdCard, HouseholdCard.household_id == ids[0], HouseholdCard.revoked_at.is_(None)
    )
    assert active == 1
    assert count(HouseholdCard, HouseholdCard.household_id == ids[0]) == 1 + sum(
        o.won for o in outcomes
    )
