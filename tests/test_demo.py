"""The demo data: the accounts of the stable contract, organizations in every district.

`flask seed-demo` itself runs in the tests of the command (what it makes, `--if-empty`, its
refusal); the tests of what the demo holds read the same rows through `load_demo()`, which
seeds once per test process and copies that seeding afterwards (seconds of CPU saved each).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.cli import seed_demo_command
from app.clock import today
from app.errors import DomainError
from app.extensions import db as _db
from app.households.consents import consent_in_force, consent_state
from app.households.models import Consent, Household
from app.notifications.models import Notification
from app.notifications.operations import unread_count
from app.referrals import operations, queries
from app.referrals.matching import rank
from app.referrals.models import CONSUMING_STATUSES, STATUSES, Referral
from app.registry.models import Organization, Service
from app.workdays import local_date
from tests.conftest import csrf_token_from, load_demo

ACCOUNTS = {
    "admin": Role.ADMIN,
    "coordinatore": Role.COORDINATOR,
    "ente1": Role.ENTITY_OPERATOR,
    "ente2": Role.ENTITY_OPERATOR,
    "alloggi1": Role.HOUSING_PROVIDER,
}


def run_seed(app, *args):
    return app.test_cli_runner().invoke(seed_demo_command, list(args))


def test_seed_demo_creates_the_contract_accounts_and_all_districts(app, db):
    result = run_seed(app)
    assert result.exit_code == 0, result.output
    for what in ("segnalazioni", "alloggi", "progetti"):  # the summary counts what it made
        assert what in result.output
    users = {u.username: u for u in _db.session.scalars(select(User))}
    assert {name: Role(u.role) for name, u in users.items()} == ACCOUNTS
    ente1_org = users["ente1"].organization
    assert ente1_org.is_hub
    assert ente1_org.is_job_service
    assert users["ente2"].organization_id != ente1_org.id
    assert users["ente2"].organization.is_job_service
    assert users["alloggi1"].organization.is_housing_provider
    districts = set(_db.session.scalars(select(Organization.circoscrizione)))
    assert districts == set(range(1, 9))


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_demo_accounts_log_in_with_the_published_password(app, client, db, username):
    load_demo()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": "demo-Torino-2026", "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_seed_if_empty_leaves_a_populated_database_alone(app, db):
    load_demo()
    result = run_seed(app, "--if-empty")
    assert result.exit_code == 0
    assert "non ricaricati" in result.output
    assert _db.session.scalar(select(func.count()).select_from(User)) == len(ACCOUNTS)


def test_seed_refuses_a_populated_database(app, db):
    load_demo()
    result = run_seed(app)
    assert result.exit_code != 0
    assert "database vuoto" in result.output


def test_demo_registry_covers_what_the_city_needs_to_see(app, db):
    from app.clock import today
    from app.registry.models import Accreditation, Service, Site

    load_demo()
    orgs = _db.session.scalars(select(Organization)).all()
    now = today()
    assert len(orgs) >= 12
    accredited_jobs = [
        o
        for o in orgs
        if o.is_job_service
        and o.accreditation
        and o.accreditation.effective_status(now) == "active"
    ]
    assert len(accredited_jobs) >= 6
    assert sum(o.is_hub for o in orgs) >= 4
    assert sum(o.is_housing_provider for o in orgs) >= 3
    assert any(len(o.kinds) > 1 for o in orgs)
    accreditations = _db.session.scalars(select(Accreditation)).all()
    assert sum(a.expires_within(now) for a in accreditations) >= 1
    assert any(a.status == "suspended" for a in accreditations)
    assert _db.session.scalar(select(func.count()).select_from(Service)) >= 12
    assert (
        _db.session.scalar(select(func.count()).select_from(Site).where(Site.is_hub.is_(True))) >= 4
    )


def test_demo_households_are_many_valid_and_everywhere(app, db):
    from app.clock import today
    from app.distributions.models import Distribution
    from app.households.codice_fiscale import consistency_problem, format_problem
    from app.households.models import Household, Person

    load_demo()
    households = _db.session.scalars(select(Household)).all()
    assert len(households) >= 60
    assert {h.circoscrizione for h in households} == set(range(1, 9))
    people = _db.session.scalars(select(Person)).all()
    with app.test_request_context():
        for person in people:
            assert format_problem(person.codice_fiscale) is None
            assert consistency_problem(person.codice_fiscale, person.birth_date, person.sex) is None
    assert sum(p.is_youth(today()) for p in people) >= 20
    ente1 = _db.session.scalar(select(User).where(User.username == "ente1"))
    assert sum(h.organization_id == ente1.organization_id for h in households) >= 10
    months = {d.distributed_on.replace(day=1) for d in _db.session.scalars(select(Distribution))}
    assert len(months) >= 3


# Referrals ------------------------------------------------------------------------------------

DECISIONS = ("referral_rejected", "referral_accepted", "referral_declined", "referral_completed")


def demo_users() -> dict[str, User]:
    return {u.username: u for u in _db.session.scalars(select(User))}


def demo_referrals() -> list[Referral]:
    return list(_db.session.scalars(select(Referral).order_by(Referral.id)))


def test_demo_referrals_cover_every_state_between_the_demo_organizations(app, db):
    load_demo()
    users = demo_users()
    ente1, ente2 = users["ente1"].organization_id, users["ente2"].organization_id
    referrals = demo_referrals()
    assert {r.status for r in referrals} == set(STATUSES)
    pairs = [(r.from_organization_id, r.to_organization_id) for r in referrals]
    ente1_to_ente2 = {
        r.status for r, pair in zip(referrals, pairs, strict=True) if pair == (ente1, ente2)
    }
    assert len(ente1_to_ente2) >= 5
    assert sum(a == ente1 and b != ente2 for a, b in pairs) >= 3
    assert sum(b == ente1 and a != ente1 for a, b in pairs) >= 3
    assert sum(a == ente2 for a, _b in pairs) >= 3
    assert sum(not {a, b} & {ente1, ente2} for a, b in pairs) >= 3
    assert sum(r.person.is_youth(today()) for r in referrals) * 5 >= len(referrals) * 2
    # Issue #24: ente2 never answered one of ente1's referrals, which came back to ente1; the
    # nightly run has nothing left to return.
    expired = [r for r in referrals if r.status == "expired"]
    assert [(r.from_organization_id, r.to_organization_id, r.reason_code) for r in expired] == [
        (ente1, ente2, "no_answer")
    ]
    assert _db.session.scalars(select(Referral).where(queries.expired_clause(today()))).all() == []
    queue = [r for r in referrals if r.status == "submitted"]
    assert len(queue) >= 4
    for referral in queue:
        assert referral.match_score > 0
        assert "places_left" in [code for code, _params in referral.match_reasons]
    # ente1's draft for a household whose consent for the job services expired: refused.
    blocked = [
        r
        for r in referrals
        if r.status == "draft"
        and r.from_organization_id == ente1
        and not consent_in_force(r.household_id, "job_services", r.to_organization_id)
    ]
    assert blocked
    with app.test_request_context(), pytest.raises(DomainError, match="è scaduto il"):
        operations.transition(blocked[0], "submit", users["ente1"])
    assert blocked[0].status == "draft"


def test_demo_referral_histories_match_their_status_and_the_audit(app, db):
    load_demo()
    legal = {(source, t.target) for t in operations.TRANSITIONS.values() for source in t.sources}
    now = datetime.now(UTC)
    for referral in demo_referrals():
        history = referral.history
        assert (history[0].from_status, history[0].to_status) == (None, "draft")
        for before, after in itertools.pairwise(history):
            assert after.from_status == before.to_status
            assert (after.from_status, after.to_status) in legal
            assert after.created_at > before.created_at
        path = [h.to_status for h in history]
        assert path[-1] == referral.status
        assert referral.created_at == history[0].created_at
        assert referral.status_changed_at == history[-1].created_at
        assert now - timedelta(days=120) < referral.created_at < now
        moments = {h.to_status: h.created_at for h in history}
        assert referral.submitted_at == moments.get("submitted")
        assert referral.approved_at == moments.get("approved")
        assert referral.accepted_at == moments.get("accepted")
        assert referral.closed_at == (None if referral.is_open else moments[referral.status])
        if referral.status in ("rejected", "declined", "completed", "failed"):
            assert referral.reason_code is not None
            assert referral.reason_code == history[-1].reason_code
        audit = _db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "referral", AuditEvent.object_id == referral.id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        ).all()
        expected = ["referral_created"] + [f"referral_{status}" for status in path[1:]]
        assert [(a.action, a.created_at) for a in audit] == list(
            zip(expected, [h.created_at for h in history], strict=True)
        )


def test_demo_has_a_full_service_with_its_waiting_list(app, db):
    """Issue #24: a service with no place left this month and 2-3 referrals waiting for one,
    one of them from ente1; every other service with places left has nobody waiting."""
    load_demo()
    day = today()
    services = _db.session.scalars(select(Service)).all()
    left = queries.places_left(list(services), day)
    waiting = queries.waiting_counts([s.id for s in services])
    assert waiting
    assert all(left[service_id] == 0 for service_id in waiting)
    assert any(2 <= n <= 3 for n in waiting.values())
    ente1 = demo_users()["ente1"].organization_id
    queued = [r for r in demo_referrals() if r.status == "waiting"]
    assert any(r.from_organization_id == ente1 for r in queued)
    positions = sorted(queries.waiting_position(r) for r in queued)
    assert positions == list(range(1, len(queued) + 1))
    assert all(r.waiting_since == r.status_changed_at and r.submitted_at is None for r in queued)


def test_demo_referrals_are_overdue_within_capacity_and_notified(app, db):
    load_demo()
    day = today()
    overdue = _db.session.scalars(select(Referral).where(queries.overdue_clause(day))).all()
    assert {r.status for r in overdue} == {"submitted", "approved"}
    referrals = demo_referrals()
    assert any(r.status == "submitted" and r not in overdue for r in referrals)

    services = _db.session.scalars(select(Service)).all()
    capacity = {s.id: s.monthly_capacity for s in services}
    this_month = queries.places_used(list(capacity), day)
    assert all(n <= capacity[service_id] for service_id, n in this_month.items())
    by_month = Counter(
        (r.service_id, local_date(r.accepted_at).replace(day=1))
        for r in referrals
        if r.status in CONSUMING_STATUSES
    )
    assert all(n <= capacity[service_id] for (service_id, _month), n in by_month.items())

    users = demo_users()
    unread = {
        (n.user_id, n.kind, n.object_id)
        for n in _db.session.scalars(select(Notification).where(Notification.read_at.is_(None)))
    }
    ente2 = users["ente2"]
    for referral in referrals:
        if referral.status == "submitted":
            assert (users["coordinatore"].id, "referral_submitted", referral.id) in unread
        if referral.status == "approved" and referral.to_organization_id == ente2.organization_id:
            assert (ente2.id, "referral_approved", referral.id) in unread
    for name in ("coordinatore", "ente1", "ente2"):
        assert unread_count(users[name]) > 0, name
    assert any(user == users["ente1"].id and kind in DECISIONS for user, kind, _id in unread)
    read = _db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.read_at.is_not(None))
    )
    assert read > len(unread)


def young_member_for_ente2(ente1: User, ente2: User, day):
    """A young member of ente1's households, authorised to share with job services and without
    an open referral for "job_search", with a service of ente2's among the suggestions."""
    offers = queries.offers(day)
    households = _db.session.scalars(
        select(Household)
        .where(Household.organization_id == ente1.organization_id, Household.status == "active")
        .order_by(Household.id)
    )
    for household in households:
        if not consent_in_force(household, "job_services", None):
            continue
        for person in household.members:
            if not person.is_youth(day):
                continue
            if queries.open_referral_for(person.id, household.id, "job_search"):
                continue
            ranked = rank(queries.subject_for(household, person, day), "job_search", offers)
            for suggestion in ranked:
                if suggestion.offer.organization_id == ente2.organization_id:
                    return household, person, suggestion
    return None


def test_ente1_can_refer_a_young_member_to_ente2_from_the_demo_suggestions(app, db):
    """The "Done when" of the referral issue, played on the demo data."""
    load_demo()
    users = demo_users()
    ente1, ente2 = users["ente1"], users["ente2"]
    found = young_member_for_ente2(ente1, ente2, today())
    assert found, "no young member of ente1's households can be referred to ente2"
    household, person, suggestion = found
    assert suggestion.offer.places_left > 0
    service = _db.session.get(Service, suggestion.service_id)
    before = unread_count(ente1)
    referral = operations.create(
        household, person, "job_search", service, "Cerca il primo lavoro.", ente1, suggestion
    )
    operations.transition(referral, "submit", ente1)
    operations.transition(referral, "approve", users["coordinatore"])
    operations.transition(referral, "accept", ente2)
    operations.transition(referral, "start", ente2)
    operations.transition(referral, "complete", ente2, "employment_contract")
    assert referral.status == "completed"
    assert unread_count(ente1) > before


# Housing ----------------------------------------------------------------------------------------


def demo_units():
    from app.housing.models import HousingUnit

    return list(_db.session.scalars(select(HousingUnit).order_by(HousingUnit.id)))


def demo_placements():
    from app.housing.models import Placement

    return list(_db.session.scalars(select(Placement).order_by(Placement.id)))


def test_demo_housing_covers_every_district_kind_and_placement_state(app, db):
    from app.db import utcnow
    from app.housing.models import HOLDING_STATUSES, PLACEMENT_STATUSES, UNIT_STALE_AFTER_DAYS
    from app.housing.vocabulary import REASONS_BY_STATUS, TARGET_GROUPS, UNIT_KINDS

    load_demo()
    users = demo_users()
    units = demo_units()
    active = [u for u in units if u.active]
    assert len(active) >= 20
    assert {u.circoscrizione for u in active} == set(range(1, 9))
    assert {u.kind for u in active} == set(UNIT_KINDS)
    assert all(u.provider.is_housing_provider for u in units)
    mine = [u for u in active if u.provider_id == users["alloggi1"].organization_id]
    assert len(mine) >= 8
    assert {u.circoscrizione for u in mine} == set(range(1, 9))
    assert any(not u.active and u.provider_id == users["alloggi1"].organization_id for u in units)
    groups = {g for u in active for g in u.target_groups}
    assert groups <= set(TARGET_GROUPS)
    assert len(groups) >= 6
    assert 0 < sum(u.accessible for u in active) < len(active)
    assert all(u.monthly_cost is not None and u.monthly_cost > 0 for u in active)
    stale = [
        u
        for u in active
        if utcnow() - u.vacancies_updated_at > timedelta(days=UNIT_STALE_AFTER_DAYS)
    ]
    assert 2 <= len(stale) <= len(active) // 2
    assert any(u.vacancies > 0 for u in mine)
    assert any(u.vacancies == 0 for u in active)

    # Placements in every state; each holding one place of its unit.
    placements = demo_placements()
    assert {p.status for p in placements} == set(PLACEMENT_STATUSES)
    holding = Counter(p.unit_id for p in placements if p.status in HOLDING_STATUSES)
    for unit in demo_units():
        assert 0 <= unit.vacancies <= unit.capacity - holding[unit.id], unit.name
    per_household = Counter(p.household_id for p in placements if p.status in HOLDING_STATUSES)
    assert max(per_household.values()) == 1
    now = datetime.now(UTC)
    for placement in placements:
        assert placement.provider_id == placement.unit.provider_id
        assert placement.created_at <= placement.status_changed_at < now
        assert _db.session.scalar(
            select(Consent.id).where(
                Consent.household_id == placement.household_id, Consent.purpose == "housing"
            )
        )
        reasons = REASONS_BY_STATUS.get(placement.status)
        if reasons is not None:
            assert placement.reason_code in reasons
        if placement.status in ("approved", "accepted", "active", "ended"):
            assert placement.approved_at is not None
        if placement.status in ("active", "ended"):
            assert placement.moved_in_on is not None
        if placement.status == "ended":
            assert placement.moved_in_on <= placement.ended_on < today()
        audit = _db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "placement", AuditEvent.object_id == placement.id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        ).all()
        assert audit[0].action == "placement_proposed"
        assert audit[0].created_at == placement.created_at
        assert audit[-1].created_at <= placement.status_changed_at or audit[-1].action == (
            "wellbeing_check_recorded"
        )
    # What waits for the demo accounts is in their notifications.
    unread = {
        (n.user_id, n.kind, n.object_id)
        for n in _db.session.scalars(select(Notification).where(Notification.read_at.is_(None)))
    }
    alloggi1 = users["alloggi1"]
    waiting = [
        p
        for p in placements
        if p.status == "approved" and p.provider_id == alloggi1.organization_id
    ]
    assert waiting
    for placement in waiting:
        assert (alloggi1.id, "placement_approved", placement.id) in unread
    proposed_by_entities = [
        p
        for p in placements
        if p.status == "proposed" and p.proposed_by_id != users["coordinatore"].id
    ]
    assert proposed_by_entities
    for placement in proposed_by_entities:
        assert (users["coordinatore"].id, "placement_proposed", placement.id) in unread


def test_demo_follow_ups_are_due_and_evictions_are_near(app, db):
    from app.housing.models import HousingRiskCase, WellbeingCheck

    load_demo()
    day = today()
    placements = demo_placements()
    active = [p for p in placements if p.status == "active"]
    assert len(active) >= 5
    for placement in active:
        pending = [c for c in placement.checks if c.done_on is None]
        assert len(pending) == 1
    for placement in placements:
        if placement.status != "active":
            assert all(c.done_on is not None for c in placement.checks)
    checks = _db.session.scalars(select(WellbeingCheck)).all()
    overdue = [c for c in checks if c.done_on is None and c.due_on < day]
    assert len(overdue) >= 2
    assert any(c.done_on is None and c.due_on >= day for c in checks)
    done = [c for c in checks if c.done_on is not None]
    assert {c.wellbeing for c in done} == {"good", "some_difficulties", "critical"}
    assert all(c.done_on < day for c in done)
    ente1 = demo_users()["ente1"]
    assert any(c.placement.household.organization_id == ente1.organization_id for c in overdue)

    cases = _db.session.scalars(select(HousingRiskCase)).all()
    open_cases = [c for c in cases if c.status == "open"]
    soon = [
        c
        for c in open_cases
        for on in (c.hearing_on, c.execution_on)
        if on is not None and day <= on <= day + timedelta(days=30)
    ]
    assert len(soon) >= 3
    assert any(c.household.organization_id == ente1.organization_id for c in soon)
    assert {c.kind for c in open_cases} >= {"no_fault_arrears", "eviction_notice"}
    closed = [c for c in cases if c.status == "closed"]
    assert closed
    assert all(c.outcome and c.closed_on and c.closed_on < day for c in closed)


def test_a_household_of_ente1_can_be_placed_in_a_unit_of_alloggi1(app, db):
    """The "Done when" of the housing issue, played on the demo data: the free places follow
    every step."""
    from app.housing import operations as housing
    from app.housing.models import HOLDING_STATUSES, HousingUnit, Placement

    load_demo()
    users = demo_users()
    ente1, alloggi1 = users["ente1"], users["alloggi1"]
    households = _db.session.scalars(
        select(Household)
        .where(Household.organization_id == ente1.organization_id, Household.status == "active")
        .order_by(Household.id)
    ).all()
    holding = set(
        _db.session.scalars(
            select(Placement.household_id).where(Placement.status.in_(HOLDING_STATUSES))
        )
    )
    free = [h for h in households if consent_in_force(h, "housing", None) and h.id not in holding]
    assert free, "no household of ente1 can be proposed for housing"
    household = free[0]
    units = _db.session.scalars(
        select(HousingUnit)
        .where(
            HousingUnit.provider_id == alloggi1.organization_id,
            HousingUnit.active.is_(True),
            HousingUnit.vacancies >= housing.places_needed(household),
        )
        .order_by(HousingUnit.id)
    ).all()
    unit = next(
        u
        for u in units
        if not housing.was_declined(household.id, u.id)
        and housing.target_mismatch(household, u) is None
    )
    before = unit.vacancies
    unread = unread_count(alloggi1)
    placement = housing.propose(household, unit, ente1, "Ospiti di parenti, serve una soluzione.")
    assert placement.places == housing.places_needed(household)  # one place per person
    assert unit.vacancies == before - placement.places
    housing.transition(placement, "approve", users["coordinatore"])
    assert unread_count(alloggi1) == unread + 1
    housing.transition(placement, "accept", alloggi1)
    housing.transition(placement, "move_in", alloggi1, on=today())
    _db.session.refresh(unit)
    assert placement.status == "active"
    assert unit.vacancies == before - placement.places


# Projects ---------------------------------------------------------------------------------------


def demo_projects():
    from app.projects.models import Project

    return list(_db.session.scalars(select(Project).order_by(Project.id)))


def test_demo_projects_cover_every_status_with_exact_budgets(app, db):
    from decimal import Decimal

    from app.projects import finance
    from app.projects.operations import totals
    from app.projects.vocabulary import CATEGORIES, STATUSES

    load_demo()
    users = demo_users()
    projects = demo_projects()
    assert len(projects) >= 10
    assert {p.status for p in projects} == set(STATUSES)
    owners = {p.organization_id for p in projects}
    assert {users["ente1"].organization_id, users["ente2"].organization_id} < owners
    assert sum(p.youth for p in projects) * 2 >= len(projects)
    for project in projects:
        if project.youth:
            assert project.person is not None
            assert project.person.is_youth(local_date(project.created_at))
    lines = [line for p in projects for line in p.lines]
    assert {line.category for line in lines} == set(CATEGORIES)
    cent = Decimal("0.01")
    committed = paid = Decimal("0.00")
    for project in projects:
        for line in project.lines:
            for amount in (line.planned, line.approved, line.committed, line.paid):
                assert amount == amount.quantize(cent)
                assert amount >= 0
            assert line.paid <= line.committed <= line.approved
            if project.status in ("draft", "submitted"):
                assert line.approved == line.committed == 0
            if project.status == "closed":
                assert line.committed == line.paid
        sums = totals(project.lines)
        assert sums.approved == sum((line.approved for line in project.lines), Decimal("0.00"))
        if project.status != "draft":
            assert Decimal("500") <= sums.planned <= Decimal("10000"), project.title
        if project.status in finance.SPENDING_PROJECT_STATUSES:
            committed += sums.committed
            paid += sums.paid
    assert finance.project_spending() == (committed, paid)
    assert 0 < paid < committed
    gtt = [line for line in lines if "GTT" in (line.supplier or "")]
    assert gtt
    assert all(line.planned % Decimal("38.00") == 0 for line in gtt)
    pending = [line for line in lines if line.increase_requested is not None]
    assert len(pending) == 1
    assert pending[0].increase_requested > pending[0].approved
    assert pending[0].project.organization_id == users["ente1"].organization_id
    unread = {
        (n.user_id, n.kind, n.object_id)
        for n in _db.session.scalars(select(Notification).where(Notification.read_at.is_(None)))
    }
    coordinator = users["coordinatore"].id
    for project in projects:
        if project.status == "submitted":
            assert (coordinator, "project_submitted", project.id) in unread
    assert (coordinator, "budget_increase_requested", pending[0].project_id) in unread
    returned = [p for p in projects if p.status == "draft" and p.status_note]
    assert returned
    assert returned[0].submitted_at is not None
    closed = [p for p in projects if p.status == "closed"]
    assert all(p.closed_on and p.meetings and p.status_note for p in closed)
    assert all(g.status != "open" for p in closed for g in p.goals)


def test_ente1_drafts_a_project_for_a_young_member_and_the_programme_totals_follow(app, db):
    """The "Done when" of the projects issue, played on the demo data."""
    from app.money import parse_euro
    from app.projects import finance
    from app.projects import operations as projects
    from app.projects.models import Project

    load_demo()
    users = demo_users()
    ente1, coordinator = users["ente1"], users["coordinatore"]
    day = today()
    running = set(
        _db.session.scalars(
            select(Project.household_id).where(
                Project.status.in_(("draft", "submitted", "approved", "active"))
            )
        )
    )
    households = _db.session.scalars(
        select(Household)
        .where(Household.organization_id == ente1.organization_id, Household.status == "active")
        .order_by(Household.id)
    ).all()
    young = [
        (h, p) for h in households if h.id not in running for p in h.members if p.is_youth(day)
    ]
    assert young, "no young member of ente1's households without a project"
    household, person = young[0]
    before = finance.progress(day).lines[1]
    project = projects.create(
        household,
        person,
        {"title": "Tirocinio e patente", "youth": True, "starts_on": day},
        ente1,
    )
    projects.add_goal(project, "Concludere il tirocinio", day + timedelta(days=180), ente1)
    amounts = {"training": "1.200,00", "transport": "228,00", "traineeship_allowance": "3600"}
    lines = [
        projects.add_line(
            project,
            {"category": category, "description": category, "planned": parse_euro(text)},
            ente1,
        )
        for category, text in amounts.items()
    ]
    projects.transition(project, "submit", ente1)
    projects.transition(project, "approve", coordinator)
    projects.transition(project, "start", ente1)
    projects.update_line(
        lines[0], {"committed": parse_euro("1.200,00"), "paid": parse_euro("600,00")}, ente1
    )
    projects.update_line(
        lines[1], {"committed": parse_euro("228,00"), "paid": parse_euro("38,00")}, ente1
    )
    with pytest.raises(DomainError):
        projects.update_line(lines[2], {"committed": parse_euro("3.600,01")}, ente1)
    after = finance.progress(day).lines[1]
    assert after.committed - before.committed == parse_euro("1.428,00")
    assert after.paid - before.paid == parse_euro("638,00")


def test_demo_hubs_have_stock_that_never_went_below_zero(app, db):
    from app.distributions.models import Distribution
    from app.supplies.models import SupplyBalance, SupplyMovement
    from app.supplies.queries import stock_rows

    load_demo()
    balances = _db.session.scalars(select(SupplyBalance)).all()
    assert balances
    for balance in balances:
        ledger = _db.session.scalars(
            select(SupplyMovement)
            .where(SupplyMovement.balance_id == balance.id)
            .order_by(SupplyMovement.id)
        ).all()
        # On hand is the sum of the movements, and no running total ever went below zero.
        assert balance.on_hand == sum(m.quantity for m in ledger) >= 0
        running = 0
        for movement in ledger:
            running += movement.quantity
            assert running == movement.balance_after >= 0
        dated = sorted(ledger, key=lambda m: (m.occurred_on, m.kind != "delivery", m.id))
        assert dated[0].kind == "delivery"
    # Every demo distribution took its quantity out of the ledger.
    taken = dict(
        _db.session.execute(
            select(SupplyMovement.distribution_id, SupplyMovement.quantity).where(
                SupplyMovement.kind == "distribution"
            )
        ).all()
    )
    for distribution in _db.session.scalars(select(Distribution)):
        assert taken[distribution.id] == -distribution.quantity
    # One hub is short today, and the City was told; the others are not.
    coordinator = _db.session.scalar(select(User).where(User.username == "coordinatore"))
    rows = stock_rows(coordinator, today())
    short = [row for row in rows if row.short]
    assert len(short) == 1
    assert short[0].cover.days is not None
    assert short[0].cover.days < 5
    told = _db.session.scalars(select(Notification).where(Notification.kind == "supply_short"))
    assert coordinator.id in {n.user_id for n in told}


def test_demo_consents_expire_soon_and_one_has_expired(app, db):
    """The ledger of the demo: every consent has its signed form noted; some of ente1's expire
    within 30 days (the operator's home lists them); a consent for the job services expired."""
    load_demo()
    ente1 = _db.session.scalar(select(User).where(User.username == "ente1")).organization_id
    day = today()
    ledger = _db.session.scalars(select(Consent).join(Household)).all()
    assert ledger
    assert all(c.signed_form for c in ledger)
    states = Counter(consent_state(c, day) for c in ledger if c.household.organization_id == ente1)
    assert states["expiring"] >= 3
    assert states["expired"] >= 1
    assert states["withdrawn"] >= 1
    assert states["in_force"] >= 10
