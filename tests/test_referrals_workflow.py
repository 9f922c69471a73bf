"""The referral workflow: the transition table, its guards, history, audit and notifications.

Operations are called directly with an explicit actor, as the views call them; every refusal is a
DomainError that leaves the database as it was. A hypothesis state machine drives random actions
by random people and checks that only the legal ones happen and that the history is complete.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select, update

from app.admin.models import set_setting
from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import ROME, today
from app.errors import DomainError
from app.extensions import db as _db
from app.households.models import Consent, Household, Person
from app.notifications.models import Notification
from app.referrals import operations, queries
from app.referrals.models import CONSUMING_STATUSES, IN_FLIGHT, Referral, ReferralStatusChange
from app.referrals.operations import TRANSITIONS
from app.referrals.policy import Side, sides, visible_referrals
from app.referrals.vocabulary import REASONS_BY_STATUS
from app.registry.models import Accreditation, Organization, Service
from app.workdays import month_start_utc
from tests import factories


@pytest.fixture(autouse=True)
def request_context(app: Flask, db: object) -> Iterator[None]:
    """The operations' messages are translated for the user of a request, as in the views."""
    with app.test_request_context():
        yield


# The people around a referral -------------------------------------------------------------------


@dataclass
class World:
    hub: Organization
    sender: User
    sender_colleague: User
    receiver_org: Organization
    accreditation: Accreditation
    service: Service
    receiver: User
    receiver_colleague: User
    coordinator: User
    coordinator_colleague: User
    unrelated: User
    housing: User
    admin: User
    household: Household
    inactive: list[User] = field(default_factory=list)

    @property
    def person(self) -> Person:
        return self.household.members[0]


def make_world(capacity: int = 5, members: int = 1) -> World:
    hub = factories.organization(is_hub=True, is_job_service=False)
    receiver_org = factories.organization(is_job_service=True)
    other_org = factories.organization(is_job_service=True)
    world = World(
        hub=hub,
        sender=factories.user("entity_operator", hub),
        sender_colleague=factories.user("entity_operator", hub),
        receiver_org=receiver_org,
        accreditation=factories.accreditation(receiver_org),
        service=factories.service(
            receiver_org, service_type="job_placement", monthly_capacity=capacity
        ),
        receiver=factories.user("entity_operator", receiver_org),
        receiver_colleague=factories.user("entity_operator", receiver_org),
        coordinator=factories.user("coordinator"),
        coordinator_colleague=factories.user("coordinator"),
        unrelated=factories.user("entity_operator", other_org),
        housing=factories.user("housing_provider"),
        admin=factories.user("admin"),
        household=factories.household(hub, members=members),
    )
    # Nobody tells people who cannot log in.
    world.inactive = [
        factories.user("coordinator", active=False),
        factories.user("entity_operator", hub, active=False),
        factories.user("entity_operator", receiver_org, active=False),
    ]
    return world


def actor_for(world: World, side: Side) -> User:
    return {
        Side.SENDER: world.sender,
        Side.COORDINATOR: world.coordinator,
        Side.RECEIVER: world.receiver,
    }[side]


def draft(world: World, person: Person | None = None, need: str = "job_search") -> Referral:
    return operations.create(
        world.household,
        person if person is not None else world.person,
        need,
        world.service,
        "Cerca lavoro come magazziniere, ha la patente B.",
        actor=world.sender,
        day=today(),
    )


# (action, reason code) to reach each status from a draft.
PATHS: dict[str, list[tuple[str, str | None]]] = {
    "draft": [],
    "submitted": [("submit", None)],
    "approved": [("submit", None), ("approve", None)],
    "rejected": [("submit", None), ("reject", "not_eligible")],
    "accepted": [("submit", None), ("approve", None), ("accept", None)],
    "declined": [("submit", None), ("approve", None), ("decline", "no_capacity")],
    "in_progress": [("submit", None), ("approve", None), ("accept", None), ("start", None)],
    "completed": [
        ("submit", None),
        ("approve", None),
        ("accept", None),
        ("start", None),
        ("complete", "employment_contract"),
    ],
    "failed": [
        ("submit", None),
        ("approve", None),
        ("accept", None),
        ("start", None),
        ("fail", "dropped_out"),
    ],
    "cancelled": [("submit", None), ("cancel", None)],
    "cancelled_draft": [("cancel", None)],
    "cancelled_after_approval": [("submit", None), ("approve", None), ("cancel", None)],
}


def advance(world: World, referral: Referral, path: str) -> Referral:
    for action, code in PATHS[path]:
        actor = actor_for(world, TRANSITIONS[action].side)
        operations.transition(referral, action, actor, reason_code=code, day=today())
    return referral


def reach(world: World, path: str) -> Referral:
    """A new referral (of a new member of the household) in the state `path` leads to."""
    person = factories.person(world.household, relation="child")
    return advance(world, draft(world, person), path)


# What the database holds ------------------------------------------------------------------------


def count(model: Any, *where: Any) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def history(referral: Referral) -> list[ReferralStatusChange]:
    return list(
        _db.session.scalars(
            select(ReferralStatusChange)
            .where(ReferralStatusChange.referral_id == referral.id)
            .order_by(ReferralStatusChange.created_at, ReferralStatusChange.id)
        )
    )


def audit_actions(referral: Referral) -> list[str]:
    return list(
        _db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "referral", AuditEvent.object_id == referral.id)
            .order_by(AuditEvent.id)
        )
    )


def notified(referral: Referral, kind: str) -> set[int]:
    return set(
        _db.session.scalars(
            select(Notification.user_id).where(
                Notification.object_type == "referral",
                Notification.object_id == referral.id,
                Notification.kind == kind,
            )
        )
    )


def snapshot(referral: Referral | None = None) -> tuple[object, ...]:
    """Everything a refused action must leave as it was."""
    state: tuple[object, ...] = ()
    if referral is not None:
        state = (
            referral.status,
            referral.status_changed_at,
            referral.submitted_at,
            referral.approved_at,
            referral.accepted_at,
            referral.closed_at,
            referral.reason_code,
            referral.reason_note,
        )
    return (
        *state,
        count(Referral),
        count(ReferralStatusChange),
        count(AuditEvent),
        count(Notification),
    )


def refused(call: Any, *args: Any, referral: Referral | None = None, **kwargs: Any) -> str:
    """Run the operation, expect a DomainError, check nothing changed; the message."""
    before = snapshot(referral)
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert snapshot(referral) == before
    if referral is not None:
        _db.session.refresh(referral)
        assert snapshot(referral) == before
    return info.value.message


# The table --------------------------------------------------------------------------------------


def test_the_transition_table_is_the_workflow_of_the_spec():
    edges = {(source, t.target, t.side) for t in TRANSITIONS.values() for source in t.sources}
    assert edges == {
        ("draft", "submitted", Side.SENDER),
        ("submitted", "approved", Side.COORDINATOR),
        ("submitted", "rejected", Side.COORDINATOR),
        ("approved", "accepted", Side.RECEIVER),
        ("approved", "declined", Side.RECEIVER),
        ("accepted", "in_progress", Side.RECEIVER),
        ("in_progress", "completed", Side.RECEIVER),
        ("in_progress", "failed", Side.RECEIVER),
        ("draft", "cancelled", Side.SENDER),
        ("submitted", "cancelled", Side.SENDER),
        ("approved", "cancelled", Side.SENDER),
        # Left unanswered past the step's limit: the nightly run, nobody's button (issue #24).
        ("submitted", "expired", Side.SYSTEM),
        ("approved", "expired", Side.SYSTEM),
        ("accepted", "expired", Side.SYSTEM),
        ("draft", "waiting", Side.SENDER),
        ("waiting", "cancelled", Side.SENDER),
    }
    coded = {t.target for t in TRANSITIONS.values() if t.reasons is not None}
    assert coded == {"rejected", "declined", "completed", "failed", "expired"}


# The happy path ---------------------------------------------------------------------------------


def test_a_referral_goes_from_draft_to_a_positive_outcome(db):
    world = make_world()
    referral = draft(world)

    assert referral.status == "draft"
    assert referral.from_organization_id == world.hub.id
    assert referral.to_organization_id == world.receiver_org.id
    assert referral.created_by_id == world.sender.id
    assert [(h.from_status, h.to_status, h.actor_id) for h in history(referral)] == [
        (None, "draft", world.sender.id)
    ]
    assert audit_actions(referral) == ["referral_created"]
    assert count(Notification) == 0

    steps = [
        ("submit", world.sender, None, "submitted", "submitted_at"),
        ("approve", world.coordinator, None, "approved", "approved_at"),
        ("accept", world.receiver, None, "accepted", "accepted_at"),
        ("start", world.receiver, None, "in_progress", None),
        ("complete", world.receiver, "employment_contract", "completed", "closed_at"),
    ]
    audiences = {
        "submitted": {world.coordinator.id, world.coordinator_colleague.id},
        "approved": {world.receiver.id, world.receiver_colleague.id},
        "accepted": {world.sender.id, world.sender_colleague.id},
        "in_progress": set(),
        "completed": {world.sender.id, world.sender_colleague.id},
    }
    previous = "draft"
    for number, (action, actor, code, status, stamp) in enumerate(steps, start=2):
        changed_before = referral.status_changed_at
        operations.transition(referral, action, actor, reason_code=code, day=today())

        assert referral.status == status
        assert referral.status_changed_at >= changed_before
        if stamp is not None:
            assert getattr(referral, stamp) == referral.status_changed_at
        rows = history(referral)
        assert len(rows) == number
        last = rows[-1]
        assert (last.from_status, last.to_status) == (previous, status)
        assert last.actor_id == actor.id
        assert last.actor_organization_id == actor.organization_id
        assert last.reason_code == code
        assert audit_actions(referral)[-1] == f"referral_{status}"
        assert len(audit_actions(referral)) == number
        assert notified(referral, f"referral_{status}") == audiences[status]
        previous = status

    assert referral.reason_code == "employment_contract"
    assert referral.submitted_at <= referral.approved_at <= referral.accepted_at
    assert referral.accepted_at <= referral.closed_at
    assert [h.to_status for h in history(referral)] == [
        "draft",
        "submitted",
        "approved",
        "accepted",
        "in_progress",
        "completed",
    ]
    assert audit_actions(referral) == [
        "referral_created",
        "referral_submitted",
        "referral_approved",
        "referral_accepted",
        "referral_in_progress",
        "referral_completed",
    ]
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "referral_completed")
    ).one()
    assert event.actor_id == world.receiver.id
    assert event.changes == {
        "status": ["in_progress", "completed"],
        "reason_code": "employment_contract",
    }
    inactive = {user.id for user in world.inactive}
    assert not inactive & set(_db.session.scalars(select(Notification.user_id)))


@pytest.mark.parametrize(
    ("path", "kind", "audience"),
    [
        ("rejected", "referral_rejected", "sender"),
        ("declined", "referral_declined", "sender"),
        ("failed", "referral_failed", "sender"),
        ("cancelled_after_approval", "referral_cancelled", "receiver"),
    ],
)
def test_each_decision_is_notified_to_the_side_that_waits_for_it(db, path, kind, audience):
    world = make_world()
    referral = advance(world, draft(world), path)
    expected = {
        "sender": {world.sender.id, world.sender_colleague.id},
        "receiver": {world.receiver.id, world.receiver_colleague.id},
    }[audience]
    assert notified(referral, kind) == expected
    assert history(referral)[-1].reason_code == referral.reason_code


def test_a_closing_reason_and_its_note_are_kept(db):
    world = make_world()
    referral = advance(world, draft(world), "approved")
    operations.transition(
        referral, "decline", world.receiver, "other", "  Il servizio chiude ad agosto.  "
    )
    assert referral.status == "declined"
    assert referral.reason_code == "other"
    assert referral.reason_note == "Il servizio chiude ad agosto."
    assert history(referral)[-1].note == "Il servizio chiude ad agosto."


def test_cancelling_a_submitted_referral_tells_nobody_and_closes_it(db):
    world = make_world()
    referral = advance(world, draft(world), "cancelled")
    assert referral.status == "cancelled"
    assert referral.closed_at == referral.status_changed_at
    assert notified(referral, "referral_cancelled") == set()
    assert audit_actions(referral)[-1] == "referral_cancelled"


def test_the_actor_is_never_notified_of_their_own_step(db):
    """An entity referring to its own service: its operators are sender and receiver."""
    world = make_world()
    world.hub.is_job_service = True
    own = factories.service(world.hub, service_type="job_placement", monthly_capacity=3)
    factories.accreditation(world.hub)
    referral = operations.create(
        world.household, world.person, "job_search", own, "Percorso interno.", world.sender
    )
    operations.transition(referral, "submit", world.sender)
    operations.transition(referral, "approve", world.coordinator)
    assert notified(referral, "referral_approved") == {world.sender.id, world.sender_colleague.id}
    operations.transition(referral, "accept", world.sender)
    assert notified(referral, "referral_accepted") == {world.sender_colleague.id}


# Refusals: nothing changes ----------------------------------------------------------------------


def test_submitting_without_a_consent_is_refused(db):
    world = make_world()
    referral = draft(world)
    _db.session.execute(delete(Consent).where(Consent.household_id == world.household.id))
    _db.session.flush()
    message = refused(operations.transition, referral, "submit", world.sender, referral=referral)
    assert "Manca il consenso del nucleo per i servizi al lavoro" in message
    assert "Privacy" in message


def test_submitting_after_the_consent_was_withdrawn_is_refused(db):
    world = make_world()
    referral = draft(world)
    factories.withdraw_all(world.household)
    message = refused(operations.transition, referral, "submit", world.sender, referral=referral)
    assert f"è stato revocato il {today():%d/%m/%Y}" in message


def test_a_consent_that_does_not_cover_job_services_is_refused(db):
    world = make_world()
    referral = draft(world)
    factories.withdraw_all(world.household, "job_services")
    message = refused(operations.transition, referral, "submit", world.sender, referral=referral)
    assert "servizi al lavoro" in message


@pytest.mark.parametrize(
    "change",
    [
        {"status": "suspended"},
        {"status": "expired"},
        {"expires_on": date(2020, 1, 1), "granted_on": date(2019, 1, 1)},
    ],
)
def test_an_entity_whose_accreditation_is_not_in_force_receives_nothing(db, change):
    world = make_world()
    referral = draft(world)
    for key, value in change.items():
        setattr(world.accreditation, key, value)
    _db.session.flush()
    message = refused(operations.transition, referral, "submit", world.sender, referral=referral)
    assert world.receiver_org.name in message
    assert "accreditamento" in message
    refused(draft, world, factories.person(world.household), "training")


def test_approving_for_an_entity_suspended_meanwhile_is_refused(db):
    world = make_world()
    referral = advance(world, draft(world), "submitted")
    world.accreditation.status = "suspended"
    _db.session.flush()
    refused(operations.transition, referral, "approve", world.coordinator, referral=referral)


def test_an_inactive_service_receives_nothing(db):
    world = make_world()
    referral = draft(world)
    world.service.active = False
    _db.session.flush()
    message = refused(operations.transition, referral, "submit", world.sender, referral=referral)
    assert "non è attivo" in message


def accepted_elsewhere(world: World, when: datetime, status: str = "accepted") -> Referral:
    """A referral of another household to the same service, accepted at `when`."""
    other = factories.household(world.hub)
    referral = Referral(
        household_id=other.id,
        person_id=other.members[0].id,
        from_organization_id=world.hub.id,
        service_id=world.service.id,
        to_organization_id=world.receiver_org.id,
        need="job_search",
        motivation="Altra segnalazione.",
        status=status,
        status_changed_at=when,
        submitted_at=when,
        approved_at=when,
        accepted_at=when,
    )
    _db.session.add(referral)
    _db.session.flush()
    return referral


@pytest.mark.parametrize("status", CONSUMING_STATUSES)
def test_a_full_service_is_refused(db, status):
    world = make_world(capacity=1)
    referral = draft(world)
    accepted_elsewhere(world, month_start_utc(today()) + timedelta(minutes=1), status)
    message = refused(operations.transition, referral, "submit", world.sender, referral=referral)
    assert "posti" in message
    assert "lista d'attesa" in message
    assert world.service.name in message
    # Not refused outright: a draft can wait for a place on the service's waiting list.
    assert draft(world, factories.person(world.household), "training").status == "draft"
    operations.transition(referral, "wait", world.sender)
    assert referral.status == "waiting"


def test_the_months_acceptances_fill_the_service_also_at_approval_and_acceptance(db):
    world = make_world(capacity=2)
    submitted = advance(world, draft(world), "submitted")
    approved = reach(world, "approved")
    # Two other acceptances this month fill it.
    accepted_elsewhere(world, month_start_utc(today()) + timedelta(hours=1))
    accepted_elsewhere(world, month_start_utc(today()) + timedelta(hours=2))
    refused(operations.transition, submitted, "approve", world.coordinator, referral=submitted)
    refused(operations.transition, approved, "accept", world.receiver, referral=approved)
    # Declining does not need a place.
    operations.transition(approved, "decline", world.receiver, "no_capacity")
    assert approved.status == "declined"


def test_an_acceptance_of_last_month_does_not_count(db):
    world = make_world(capacity=1)
    # One minute before midnight of the 1st in Turin: last month, whatever the UTC date says.
    accepted_elsewhere(world, month_start_utc(today()) - timedelta(minutes=1), "completed")
    referral = advance(world, draft(world), "accepted")
    assert referral.status == "accepted"
    assert queries.places_used([world.service.id], today()) == {world.service.id: 1}


def test_the_month_starts_at_midnight_in_turin(db):
    world = make_world()
    start = month_start_utc(today())
    assert start.astimezone(ROME).time() == time(0)
    assert start.astimezone(ROME).day == 1
    accepted_elsewhere(world, start)
    accepted_elsewhere(world, start - timedelta(seconds=1))
    assert queries.places_used([world.service.id], today()) == {world.service.id: 1}


def test_a_past_months_capacity_ignores_later_acceptances(db):
    """Demo data and reports ask for a past month: later acceptances are not in it."""
    world = make_world(capacity=1)
    this_month = month_start_utc(today())
    accepted_elsewhere(world, this_month + timedelta(hours=3))
    last_month = today().replace(day=1) - timedelta(days=1)
    assert queries.places_used([world.service.id], last_month) == {}
    assert queries.places_used([world.service.id], today()) == {world.service.id: 1}
    operations.check_capacity(world.service, last_month)
    with pytest.raises(DomainError):
        operations.check_capacity(world.service, today())


def test_referrals_not_accepted_do_not_consume_capacity_but_those_in_flight_hold_a_place(db):
    world = make_world(capacity=2)
    reach(world, "declined")
    reach(world, "cancelled_after_approval")
    reach(world, "rejected")
    assert queries.places_used([world.service.id], today()) == {}
    assert queries.places_left([world.service], today()) == {world.service.id: 2}
    reach(world, "approved")
    assert queries.places_used([world.service.id], today()) == {}
    assert queries.places_left([world.service], today()) == {world.service.id: 1}
    assert reach(world, "accepted").status == "accepted"
    assert queries.places_left([world.service], today()) == {world.service.id: 0}


def test_a_second_open_referral_for_the_same_person_and_need_is_refused(db):
    world = make_world()
    first = advance(world, draft(world), "submitted")
    message = refused(draft, world)
    assert f"n. {first.id}" in message
    # Another need is another referral.
    assert draft(world, need="training").status == "draft"
    # Once the first is closed, the same need can be referred again.
    operations.transition(first, "reject", world.coordinator, "wrong_service")
    assert draft(world).status == "draft"


def test_a_household_referral_and_a_members_referral_for_the_same_need_are_duplicates(db):
    world = make_world()
    whole = operations.create(
        world.household, None, "job_search", world.service, "Per il nucleo.", world.sender
    )
    refused(draft, world)
    operations.transition(whole, "cancel", world.sender)
    member = draft(world)
    refused(
        operations.create,
        world.household,
        None,
        "job_search",
        world.service,
        "Per il nucleo.",
        world.sender,
    )
    assert member.status == "draft"


@pytest.mark.parametrize(
    ("path", "action", "code", "note"),
    [
        ("submitted", "reject", None, None),
        ("submitted", "reject", "not_a_code", None),
        ("submitted", "reject", "other", None),
        ("submitted", "reject", "other", "   "),
        ("approved", "decline", None, None),
        ("approved", "decline", "other", ""),
        ("approved", "decline", "employment_contract", "nota"),
        ("in_progress", "complete", None, None),
        ("in_progress", "complete", "other", "Ha trovato lavoro da sé."),
        ("in_progress", "complete", "dropped_out", None),
        ("in_progress", "fail", None, None),
        ("in_progress", "fail", "other", None),
    ],
)
def test_a_missing_or_wrong_reason_is_refused(db, path, action, code, note):
    world = make_world()
    referral = advance(world, draft(world), path)
    actor = actor_for(world, TRANSITIONS[action].side)
    message = refused(operations.transition, referral, action, actor, code, note, referral=referral)
    assert "motivo" in message


@pytest.mark.parametrize(
    ("path", "action", "who"),
    [
        ("submitted", "approve", "receiver"),
        ("submitted", "approve", "sender"),
        ("submitted", "reject", "sender"),
        ("approved", "accept", "coordinator"),
        ("approved", "accept", "sender"),
        ("approved", "accept", "unrelated"),
        ("approved", "decline", "coordinator"),
        ("draft", "submit", "unrelated"),
        ("draft", "submit", "coordinator"),
        ("submitted", "cancel", "coordinator"),
        ("approved", "cancel", "receiver"),
        ("accepted", "start", "housing"),
        ("in_progress", "complete", "admin"),
    ],
)
def test_the_wrong_side_is_refused(db, path, action, who):
    world = make_world()
    referral = advance(world, draft(world), path)
    actor = {
        "receiver": world.receiver,
        "sender": world.sender,
        "coordinator": world.coordinator,
        "unrelated": world.unrelated,
        "housing": world.housing,
        "admin": world.admin,
    }[who]
    code = {"reject": "incomplete", "decline": "no_capacity"}.get(action)
    code = code or ("employment_contract" if action == "complete" else None)
    message = refused(operations.transition, referral, action, actor, code, referral=referral)
    assert "Non spetta a te" in message


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("submitted", "accept"),
        ("draft", "approve"),
        ("approved", "approve"),
        ("submitted", "submit"),
        ("accepted", "complete"),
        ("in_progress", "start"),
        ("completed", "fail"),
        ("rejected", "approve"),
        ("declined", "accept"),
        ("cancelled", "submit"),
    ],
)
def test_an_action_out_of_order_is_refused(db, path, action):
    world = make_world()
    referral = advance(world, draft(world), path)
    actor = actor_for(world, TRANSITIONS[action].side)
    reasons = TRANSITIONS[action].reasons
    code = next(iter(reasons)) if reasons else None
    refused(operations.transition, referral, action, actor, code, referral=referral)


def test_accepting_twice_is_refused_with_the_current_state(db):
    world = make_world()
    referral = advance(world, draft(world), "approved")
    operations.transition(referral, "accept", world.receiver)
    message = refused(operations.transition, referral, "accept", world.receiver, referral=referral)
    assert "accettata" in message


def test_an_unknown_action_is_refused(db):
    world = make_world()
    referral = draft(world)
    refused(operations.transition, referral, "delete", world.sender, referral=referral)


@pytest.mark.parametrize("path", ["draft", "submitted", "approved"])
def test_the_sender_may_cancel_until_accepted(db, path):
    world = make_world()
    referral = advance(world, draft(world), path)
    assert "cancel" in operations.available_actions(world.sender, referral)
    operations.transition(referral, "cancel", world.sender_colleague)
    assert referral.status == "cancelled"
    assert history(referral)[-1].from_status == path


@pytest.mark.parametrize("path", ["accepted", "in_progress", "completed", "rejected"])
def test_the_sender_may_not_cancel_once_accepted_or_closed(db, path):
    world = make_world()
    referral = advance(world, draft(world), path)
    assert "cancel" not in operations.available_actions(world.sender, referral)
    refused(operations.transition, referral, "cancel", world.sender, referral=referral)


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ({"need": "housing"}, "bisogno"),
        ({"motivation": "   "}, "motivazione"),
        ({"actor": "unrelated"}, "Solo l'ente"),
        ({"actor": "coordinator"}, "Solo l'ente"),
        ({"person": "stranger"}, "non fa parte"),
    ],
)
def test_creating_with_bad_input_is_refused(db, bad, fragment):
    world = make_world()
    args: dict[str, Any] = {
        "household": world.household,
        "person": world.person,
        "need": "job_search",
        "service": world.service,
        "motivation": "Motivazione.",
        "actor": world.sender,
    }
    args.update(bad)
    if args["actor"] == "unrelated":
        args["actor"] = world.unrelated
    if args["actor"] == "coordinator":
        args["actor"] = world.coordinator
    if args["person"] == "stranger":
        args["person"] = factories.household(world.hub).members[0]
    message = refused(operations.create, **args)
    assert fragment in message


def test_available_actions_follow_the_table(db):
    world = make_world()
    referral = draft(world)
    assert operations.available_actions(world.sender, referral) == ["submit", "cancel", "wait"]
    assert operations.available_actions(world.coordinator, referral) == []
    advance(world, referral, "submitted")
    assert operations.available_actions(world.coordinator, referral) == ["approve", "reject"]
    assert operations.available_actions(world.receiver, referral) == []
    operations.transition(referral, "approve", world.coordinator)
    assert operations.available_actions(world.receiver, referral) == ["accept", "decline"]
    assert operations.available_actions(world.sender, referral) == ["cancel"]
    assert operations.available_actions(world.unrelated, referral) == []
    assert operations.available_actions(world.housing, referral) == []


# Who sees what ----------------------------------------------------------------------------------


def test_each_role_sees_its_referrals_only(db):
    world = make_world(capacity=50)
    made = {path: reach(world, path) for path in PATHS}
    by_id = {r.id: path for path, r in made.items()}

    def seen(user: User) -> set[str]:
        return {by_id[r.id] for r in _db.session.scalars(visible_referrals(user))}

    everything = set(PATHS)
    assert seen(world.sender) == everything
    assert seen(world.sender_colleague) == everything
    assert seen(world.coordinator) == everything - {"draft", "cancelled_draft"}
    assert seen(world.receiver) == {
        "approved",
        "accepted",
        "declined",
        "in_progress",
        "completed",
        "failed",
        "cancelled_after_approval",
    }
    assert seen(world.unrelated) == set()
    assert seen(world.housing) == set()
    assert seen(world.admin) == set()
    assert sides(world.receiver, made["submitted"]) == frozenset()
    assert sides(world.receiver, made["approved"]) == {Side.RECEIVER}


# Overdue ----------------------------------------------------------------------------------------

# Thursday 7 May 2026: 1 May (Friday) is a holiday, then a weekend.
TODAY = date(2026, 5, 7)


def at_rome(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ROME).astimezone(UTC)


def overdue_ids(day: date) -> set[int]:
    return set(_db.session.scalars(select(Referral.id).where(queries.overdue_clause(day))))


def waiting_since(world: World, moment: datetime, path: str = "submitted") -> Referral:
    referral = reach(world, path)
    referral.status_changed_at = moment
    _db.session.flush()
    return referral


def assert_overdue(referral: Referral, expected: bool) -> None:
    assert (referral.id in overdue_ids(TODAY)) is expected
    assert queries.is_overdue(referral, TODAY, queries.late_limits()) is expected


def test_overdue_after_five_working_days_not_counting_weekends_and_holidays(db):
    world = make_world(capacity=50)
    assert queries.overdue_working_days() == 5
    # 29 April -> 7 May: 30 April, 4, 5, 6, 7 May are the working days (1 May, 2-3 May off).
    five = waiting_since(world, at_rome(date(2026, 4, 29)))
    six = waiting_since(world, at_rome(date(2026, 4, 28)))
    late_evening = waiting_since(world, at_rome(date(2026, 4, 29), 23, 59))
    # 00:30 in Turin on 29 April is still 28 April in UTC: the day counted is Turin's.
    just_after_midnight = waiting_since(world, at_rome(date(2026, 4, 29), 0, 30))
    assert_overdue(five, False)
    assert_overdue(six, True)
    assert_overdue(late_evening, False)
    assert_overdue(just_after_midnight, False)


def test_only_referrals_waiting_for_somebody_are_overdue(db):
    world = make_world(capacity=50)
    long_ago = at_rome(date(2026, 3, 2))
    # The City's approval, the entity's answer, the start or outcome after the acceptance.
    for path in ("submitted", "approved", "accepted"):
        assert_overdue(waiting_since(world, long_ago, path), True)
    # A path under way takes the time it takes; closed ones wait for nobody.
    for path in ("draft", "in_progress", "rejected", "cancelled", "completed"):
        assert_overdue(waiting_since(world, long_ago, path), False)


def test_each_step_has_its_own_late_limit(db):
    world = make_world(capacity=50)
    # 22 April -> 7 May: 23, 24, 27, 28, 29, 30 April, 4-7 May = 10 working days (25 April,
    # 1 May are holidays).
    approved = waiting_since(world, at_rome(date(2026, 4, 22)), "approved")
    accepted = waiting_since(world, at_rome(date(2026, 4, 22)), "accepted")
    assert_overdue(approved, True)  # 5 by default
    assert_overdue(accepted, False)  # 10 by default
    set_setting("referral_answer_overdue_working_days", 12)
    set_setting("referral_outcome_overdue_working_days", 9)
    _db.session.flush()
    assert_overdue(approved, False)
    assert_overdue(accepted, True)


def test_the_setting_changes_the_overdue_threshold(db):
    world = make_world(capacity=50)
    four = waiting_since(world, at_rome(date(2026, 4, 30)))  # 4, 5, 6, 7 May
    three = waiting_since(world, at_rome(date(2026, 5, 4)))  # 5, 6, 7 May
    assert_overdue(four, False)
    set_setting(queries.OVERDUE_SETTING, 3)
    _db.session.flush()
    assert queries.overdue_working_days() == 3
    assert_overdue(four, True)
    assert_overdue(three, False)
    set_setting(queries.OVERDUE_SETTING, 10)
    _db.session.flush()
    assert_overdue(four, False)


@pytest.mark.parametrize("stored", [0, -2])
def test_a_nonsense_setting_falls_back_to_the_default(db, stored):
    set_setting(queries.OVERDUE_SETTING, stored)
    _db.session.flush()
    assert queries.overdue_working_days() == 5


# The state machine ------------------------------------------------------------------------------

# The steps towards an outcome first: hypothesis draws the first choices more often.
FORWARD_FIRST = ("submit", "approve", "accept", "start", "complete", "fail", "decline", "reject")
FORWARD_FIRST += ("cancel", "wait")
ACTORS = ("sender", "coordinator", "receiver", "unrelated", "housing")
ALL_REASONS = sorted({code for reasons in REASONS_BY_STATUS.values() for code in reasons})


class ReferralMachine(RuleBasedStateMachine):
    """Random actions by random people on a few referrals to one small service."""

    def __init__(self) -> None:
        super().__init__()
        self.world: World
        self.referrals: list[Referral] = []
        self.status: dict[int, str] = {}
        self.approved: set[int] = set()
        self.sharing = True
        self.accredited = True
        self.capacity = 1
        self.queue: list[int] = []  # the waiting list, in its order

    @initialize(
        capacity=st.integers(min_value=1, max_value=3),
        how_many=st.integers(min_value=1, max_value=3),
    )
    def build(self, capacity: int, how_many: int) -> None:
        self.capacity = capacity
        self.world = make_world(capacity=capacity, members=how_many)
        for person in self.world.household.members:
            referral = draft(self.world, person)
            self.referrals.append(referral)
            self.status[referral.id] = "draft"

    def teardown(self) -> None:
        _db.session.rollback()

    def user(self, who: str) -> User:
        return getattr(self.world, who)

    def side(self, referral: Referral, who: str) -> Side | None:
        """The part each person plays, as the spec says (not asked of the policy)."""
        return {
            "sender": Side.SENDER,
            "coordinator": Side.COORDINATOR,
            # Once consent is withdrawn the receiver no longer plays a part (nor sees it).
            "receiver": Side.RECEIVER if referral.id in self.approved and self.sharing else None,
        }.get(who)

    def legal(self, referral: Referral, action: str, who: str, code: Any, note: Any) -> bool:
        step = TRANSITIONS[action]
        if self.side(referral, who) != step.side or self.status[referral.id] not in step.sources:
            return False
        if step.reasons is not None and (
            code not in step.reasons or (code == "other" and not (note or "").strip())
        ):
            return False
        used = sum(1 for s in self.status.values() if s in CONSUMING_STATUSES)
        if action in ("submit", "approve", "accept", "start", "wait") and not self.sharing:
            return False
        if action in ("submit", "approve", "wait") and not self.accredited:
            return False
        if action == "submit" and self.places_left() <= 0:
            return False  # offered the waiting list instead
        return not (action in ("approve", "accept") and used >= self.capacity)

    def places_left(self) -> int:
        taken = sum(1 for s in self.status.values() if s in (*CONSUMING_STATUSES, *IN_FLIGHT))
        return max(self.capacity - taken, 0)

    def promote(self) -> list[int]:
        """What the spec says a freed place does: the oldest waiting referrals go, as many as
        the places left (the household's consent and the entity's accreditation in force)."""
        if not (self.sharing and self.accredited):
            return []
        moved = self.queue[: self.places_left()]
        for referral_id in moved:
            self.status[referral_id] = "submitted"
        self.queue = self.queue[len(moved) :]
        return moved

    @rule(
        pick=st.integers(min_value=0, max_value=2),
        action=st.sampled_from(sorted(TRANSITIONS)),
        who=st.sampled_from(ACTORS),
        code=st.one_of(st.none(), st.sampled_from(ALL_REASONS)),
        note=st.sampled_from([None, "", "  ", "Una nota."]),
    )
    def anybody_tries_anything(
        self, pick: int, action: str, who: str, code: Any, note: Any
    ) -> None:
        self.perform(self.referrals[pick % len(self.referrals)], action, who, code, note)

    @rule(pick=st.integers(min_value=0, max_value=2), data=st.data())
    def somebody_follows_the_table(self, pick: int, data: st.DataObject) -> None:
        """An action the table offers to one of the people, with a reason from its list.

        The business rules (authorisation, accreditation, capacity) may still refuse it.
        """
        referral = self.referrals[pick % len(self.referrals)]
        offered = [
            (action, who)
            for action in FORWARD_FIRST
            for who in ACTORS
            if self.status[referral.id] in TRANSITIONS[action].sources
            and TRANSITIONS[action].side == self.side(referral, who)
        ]
        if not offered:
            return
        action, who = data.draw(st.sampled_from(offered), label="action, who")
        reasons = sorted(TRANSITIONS[action].reasons or [None])
        code = data.draw(st.sampled_from(reasons), label="reason")
        note = data.draw(st.sampled_from([None, "Una nota."]), label="note")
        self.perform(referral, action, who, code, note)

    @rule(
        sharing=st.sampled_from([True, True, True, False]),
        accredited=st.sampled_from([True, True, True, False]),
    )
    def the_world_changes(self, sharing: bool, accredited: bool) -> None:
        """The household withdraws (or gives again) its authorisation; the entity is suspended."""
        self.sharing, self.accredited = sharing, accredited
        _db.session.execute(
            update(Consent)
            .where(Consent.household_id == self.world.household.id)
            .values(withdrawn_on=None if sharing else today())
        )
        self.world.accreditation.status = "active" if accredited else "suspended"
        _db.session.flush()

    def perform(self, referral: Referral, action: str, who: str, code: Any, note: Any) -> None:
        actor = self.user(who)
        expected = self.legal(referral, action, who, code, note)
        before = snapshot(referral)
        rows_before = len(history(referral))
        audit_before = audit_actions(referral)
        notifications_before = count(Notification)
        if not expected:
            with pytest.raises(DomainError):
                operations.transition(referral, action, actor, code, note)
            assert snapshot(referral) == before
            _db.session.refresh(referral)
            assert referral.status == self.status[referral.id]
            return
        operations.transition(referral, action, actor, code, note)
        target = TRANSITIONS[action].target
        previous = self.status[referral.id]
        self.status[referral.id] = target
        if target == "approved":
            self.approved.add(referral.id)
        if target == "waiting":
            self.queue.append(referral.id)
        if previous == "waiting":
            self.queue.remove(referral.id)
        promoted: list[int] = []
        if action == "wait" or (action in ("reject", "decline", "cancel") and previous != "draft"):
            promoted = self.promote()
        for other in self.referrals:
            _db.session.refresh(other)
            assert other.status == self.status[other.id], (other.id, promoted)
        rows = history(referral)
        assert len(rows) == rows_before + 1 + (referral.id in promoted)
        assert (rows[rows_before].from_status, rows[rows_before].to_status) == (before[0], target)
        assert rows[rows_before].actor_id == actor.id
        promotion = ["referral_promoted"] if referral.id in promoted else []
        assert audit_actions(referral) == [*audit_before, f"referral_{target}", *promotion]
        new = list(
            _db.session.scalars(
                select(Notification).order_by(Notification.id).offset(notifications_before)
            )
        )
        assert actor.id not in {n.user_id for n in new}
        promotions = {"referral_submitted", "referral_promoted"} if promoted else set()
        assert {n.kind for n in new} <= {f"referral_{target}", *promotions}

    @invariant()
    def history_is_a_complete_chain(self) -> None:
        for referral in self.referrals:
            rows = history(referral)
            assert rows[0].from_status is None
            assert rows[0].to_status == "draft"
            for earlier, later in itertools.pairwise(rows):
                assert later.from_status == earlier.to_status
                assert later.created_at >= earlier.created_at
            assert rows[-1].to_status == referral.status == self.status[referral.id]
            assert len(audit_actions(referral)) == len(rows)

    @invariant()
    def timestamps_follow_the_status(self) -> None:
        for referral in self.referrals:
            reached = {row.to_status for row in history(referral)}
            assert (referral.submitted_at is not None) == ("submitted" in reached)
            assert (referral.approved_at is not None) == ("approved" in reached)
            assert (referral.accepted_at is not None) == ("accepted" in reached)
            assert (referral.closed_at is not None) == (not referral.is_open)

    @invariant()
    def capacity_is_never_exceeded(self) -> None:
        used = queries.places_used([self.world.service.id], today())
        assert used.get(self.world.service.id, 0) <= self.capacity


def test_random_actions_by_random_people_follow_the_table(db):
    run_state_machine_as_test(
        ReferralMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            # A failing run is printed step by step as found: shrinking a machine that writes
            # to the database takes minutes (re-enable Phase.shrink to get a minimal one).
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )
