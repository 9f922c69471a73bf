"""Two people on the same referral at once: one wins, the other is told what happened.

Issue #17, items 1-3, for referrals: the last monthly place of a service goes to exactly one
acceptance; of two steps on the same referral (two approvals, approve and reject, cancel and
accept, two accepts) exactly one is written, with one history row, one audit event and one set
of notifications, and the other gets `StaleState` with the referral's state now; a new referral
sent twice (a double click, or two forms for the same person and need) makes one referral.

Each thread is one web request: its own application context, hence its own database session and
connection, and its own commit (the harness of tests/concurrency.py). A barrier releases the
threads together, after each has loaded what its page showed. Runs on SQLite (writers take
turns) and on PostgreSQL (row locks; DATABASE_URL=postgresql://...).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.extensions import db as _db
from app.households import operations as households
from app.households.models import Consent, ConsentShare, Household
from app.notifications.models import Notification
from app.referrals import operations, queries, views
from app.referrals.models import Referral, ReferralStatusChange
from app.registry.models import Service
from app.workflow import StaleState
from tests import factories
from tests.concurrency import count, get, only_domain_errors, race
from tests.conftest import csrf_token_from
from tests.worlds import log_in

THREADS = 6
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def steps_to(referral_id: int, status: str) -> int:
    return count(
        ReferralStatusChange,
        ReferralStatusChange.referral_id == referral_id,
        ReferralStatusChange.to_status == status,
    )


def events(referral_id: int, *actions: str) -> int:
    return count(
        AuditEvent,
        AuditEvent.object_type == "referral",
        AuditEvent.object_id == referral_id,
        AuditEvent.action.in_(actions),
    )


def notifications(referral_id: int, kind: str) -> int:
    return count(
        Notification,
        Notification.object_type == "referral",
        Notification.object_id == referral_id,
        Notification.kind == kind,
    )


def places_used(service_id: int) -> int:
    return queries.places_used([service_id], today()).get(service_id, 0)


# The network ----------------------------------------------------------------------------------


@pytest.fixture
def net(app: Flask, db: object) -> dict[str, Any]:
    """A hub with THREADS households, a job service with one place left this month, the City."""
    hub = factories.organization(is_hub=True, is_job_service=False, circoscrizione=3)
    receiver_org = factories.organization(is_job_service=True, circoscrizione=3)
    factories.accreditation(receiver_org)
    service = factories.service(
        receiver_org, name="Orientamento", service_type="orientation", monthly_capacity=2
    )
    made = {
        "hub": hub,
        "service": service,
        "senders": [factories.user("entity_operator", hub) for _ in range(THREADS)],
        "receivers": [factories.user("entity_operator", receiver_org) for _ in range(THREADS)],
        "coordinators": [factories.user("coordinator") for _ in range(THREADS)],
        "households": [
            factories.household(hub, members=2, circoscrizione=3, isee_value=Decimal("4500"))
            for _ in range(THREADS + 1)
        ],
    }
    _db.session.commit()
    ids = {
        key: [item.id for item in value] if isinstance(value, list) else value.id
        for key, value in made.items()
    }
    ids["app"] = app
    # One place of the two is taken this month: one is left.
    ids["taken"] = reach(ids, ids["households"][THREADS], "accepted")
    assert places_used(ids["service"]) == 1
    return ids


def reach(net: dict[str, Any], household_id: int, status: str) -> int:
    """A referral of the household to the service, moved by the right people up to `status`."""
    with net["app"].test_request_context():
        household = get(Household, household_id)
        referral = operations.create(
            household,
            household.members[0],
            "orientation",
            get(Service, net["service"]),
            "Cerca un percorso dopo la fine del contratto.",
            get(User, net["senders"][0]),
        )
        path = {"submitted": 1, "approved": 2, "accepted": 3}[status]
        actors = [net["senders"][0], net["coordinators"][0], net["receivers"][0]]
        for action, actor in list(zip(("submit", "approve", "accept"), actors, strict=True))[:path]:
            operations.transition(referral, action, get(User, actor), day=today())
        _db.session.commit()
        return referral.id


# Item 1: the last monthly place ---------------------------------------------------------------


def set_capacity(net: dict[str, Any], places: int) -> None:
    with net["app"].test_request_context():
        get(Service, net["service"]).monthly_capacity = places
        _db.session.commit()


def test_many_accepts_for_the_last_place_exactly_one_wins(app, net):
    # Referrals in flight hold their place (issue #24): so many approved ones for one place
    # happen when the entity lowers its monthly places after they were sent.
    set_capacity(net, THREADS + 1)
    referrals = [reach(net, net["households"][i], "approved") for i in range(THREADS)]
    set_capacity(net, 2)
    before_notified = count(Notification)

    def prepare(i: int) -> tuple[Referral, User]:
        return get(Referral, referrals[i]), get(User, net["receivers"][i])

    def act(i: int, loaded: tuple[Referral, User]) -> int:
        referral, receiver = loaded
        return operations.transition(referral, "accept", receiver, day=today()).id

    outcomes = race(app, prepare, act, threads=THREADS)

    winners = [o.value for o in outcomes if o.won]
    errors = only_domain_errors(outcomes)
    assert len(winners) == 1
    assert len(errors) == THREADS - 1
    assert all("non ha più posti disponibili questo mese" in e.message for e in errors)
    assert places_used(net["service"]) == 2  # never above the service's capacity
    statuses = {r: get(Referral, r).status for r in referrals}
    assert [r for r, s in statuses.items() if s == "accepted"] == winners
    assert all(get(Referral, r).accepted_at is None for r in referrals if r not in winners)
    assert sum(steps_to(r, "accepted") for r in referrals) == 1
    assert sum(events(r, "referral_accepted") for r in referrals) == 1
    # The winner's sending entity is told, once; nobody of an acceptance that did not happen.
    assert notifications(winners[0], "referral_accepted") == len(net["senders"])
    assert count(Notification) == before_notified + len(net["senders"])


def test_two_accepts_of_the_same_referral_write_one_acceptance(app, net):
    referral_id = reach(net, net["households"][0], "approved")

    def prepare(i: int) -> tuple[Referral, User]:
        return get(Referral, referral_id), get(User, net["receivers"][i])

    def act(i: int, loaded: tuple[Referral, User]) -> str:
        referral, receiver = loaded
        return operations.transition(referral, "accept", receiver, day=today()).status

    outcomes = race(app, prepare, act, threads=2)

    errors = only_domain_errors(outcomes)
    assert len(errors) == 1
    assert isinstance(errors[0], StaleState)
    assert errors[0].current_status == "accepted"
    assert "La segnalazione è già «accettata dall'ente»" in errors[0].message
    assert places_used(net["service"]) == 2
    assert steps_to(referral_id, "accepted") == 1
    assert events(referral_id, "referral_accepted") == 1
    assert notifications(referral_id, "referral_accepted") == len(net["senders"])  # once each


# Item 2: one step wins, the history tells one story -------------------------------------------


def test_two_approvals_at_once_write_one_history_row_and_one_audit_event(app, net):
    referral_id = reach(net, net["households"][0], "submitted")

    def prepare(i: int) -> tuple[Referral, User]:
        return get(Referral, referral_id), get(User, net["coordinators"][i])

    def act(i: int, loaded: tuple[Referral, User]) -> str:
        referral, coordinator = loaded
        return operations.transition(referral, "approve", coordinator, day=today()).status

    outcomes = race(app, prepare, act, threads=2)

    errors = only_domain_errors(outcomes)
    assert [o.value for o in outcomes if o.won] == ["approved"]
    assert len(errors) == 1
    assert isinstance(errors[0], StaleState)
    assert "La segnalazione è già «approvata, in attesa dell'ente»" in errors[0].message
    assert steps_to(referral_id, "approved") == 1
    assert events(referral_id, "referral_approved") == 1
    receivers = len(net["receivers"])
    assert notifications(referral_id, "referral_approved") == receivers  # once each, not twice


def test_approve_and_reject_at_once_exactly_one_decides(app, net):
    referral_id = reach(net, net["households"][0], "submitted")
    steps = ("approve", "reject")

    def prepare(i: int) -> tuple[Referral, User]:
        return get(Referral, referral_id), get(User, net["coordinators"][i])

    def act(i: int, loaded: tuple[Referral, User]) -> str:
        referral, coordinator = loaded
        code = "not_eligible" if steps[i] == "reject" else None
        operations.transition(referral, steps[i], coordinator, reason_code=code, day=today())
        return steps[i]

    outcomes = race(app, prepare, act, threads=2)

    winners = [o.value for o in outcomes if o.won]
    errors = only_domain_errors(outcomes)
    assert len(winners) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], StaleState)
    referral = get(Referral, referral_id)
    assert referral.status == operations.TRANSITIONS[winners[0]].target
    assert errors[0].current_status == referral.status
    decisions = _db.session.scalars(
        select(ReferralStatusChange.to_status).where(
            ReferralStatusChange.referral_id == referral_id,
            ReferralStatusChange.from_status == "submitted",
        )
    ).all()
    assert decisions == [referral.status]
    assert events(referral_id, "referral_approved", "referral_rejected") == 1
    if referral.status == "approved":
        assert (referral.approved_at is not None, referral.closed_at) == (True, None)
    else:
        assert (referral.approved_at, referral.closed_at is not None) == (None, True)


def test_cancel_and_accept_at_once_leave_a_consistent_referral(app, net):
    referral_id = reach(net, net["households"][0], "approved")
    steps = ("cancel", "accept")

    def prepare(i: int) -> tuple[Referral, User]:
        people = net["senders"] if steps[i] == "cancel" else net["receivers"]
        return get(Referral, referral_id), get(User, people[i])

    def act(i: int, loaded: tuple[Referral, User]) -> str:
        referral, actor = loaded
        operations.transition(referral, steps[i], actor, day=today())
        return steps[i]

    outcomes = race(app, prepare, act, threads=2)

    winners = [o.value for o in outcomes if o.won]
    errors = only_domain_errors(outcomes)
    assert len(winners) == 1
    assert len(errors) == 1
    referral = get(Referral, referral_id)
    assert isinstance(errors[0], StaleState)
    assert errors[0].current_status == referral.status
    # The loser is told the state the winner left, in words.
    label = {"cancelled": "annullata", "accepted": "accettata dall'ente"}[referral.status]
    assert f"«{label}»" in errors[0].message
    if winners == ["cancel"]:
        assert referral.status == "cancelled"
        assert referral.accepted_at is None
        assert referral.closed_at is not None
        assert places_used(net["service"]) == 1
    else:
        assert referral.status == "accepted"
        assert referral.accepted_at is not None
        assert referral.closed_at is None
        assert places_used(net["service"]) == 2
    history = _db.session.scalars(
        select(ReferralStatusChange)
        .where(ReferralStatusChange.referral_id == referral_id)
        .order_by(ReferralStatusChange.id)
    ).all()
    assert [h.to_status for h in history] == ["draft", "submitted", "approved", referral.status]
    assert all(
        later.from_status == earlier.to_status for earlier, later in itertools.pairwise(history)
    )
    assert events(referral_id, "referral_cancelled", "referral_accepted") == 1


# Item 3: a new referral sent twice ------------------------------------------------------------


def test_two_forms_for_the_same_person_and_need_at_once_make_one_referral(app, net):
    household_id = net["households"][0]

    def prepare(i: int) -> tuple[Household, Service, User]:
        return (
            get(Household, household_id),
            get(Service, net["service"]),
            get(User, net["senders"][i]),
        )

    def act(i: int, loaded: tuple[Household, Service, User]) -> int:
        household, service, sender = loaded
        person = household.members[0]
        return operations.create(
            household, person, "orientation", service, f"Motivazione {i}.", sender, day=today()
        ).id

    outcomes = race(app, prepare, act, threads=THREADS)

    winners = [o.value for o in outcomes if o.won]
    errors = only_domain_errors(outcomes)
    assert len(winners) == 1
    assert len(errors) == THREADS - 1
    assert all("C'è già una segnalazione aperta per lo stesso bisogno" in e.message for e in errors)
    assert count(Referral, Referral.household_id == household_id) == 1
    assert count(AuditEvent, AuditEvent.action == "referral_created") == 2  # with net's taken one


def signed_in(app: Flask, user_id: int) -> Any:
    with app.app_context():
        username = _db.session.get(User, user_id).username
    return log_in(app.test_client(), username)


def form_of(browser: Any, url: str) -> dict[str, str]:
    """The hidden fields of the page's form: the CSRF token and the idempotency key."""
    html = browser.get(url).get_data(as_text=True)
    key = re.search(r'<input[^>]*name="idempotency_key"[^>]*value="([^"]+)"', html)
    assert key is not None, "the form carries no idempotency key"
    return {"csrf_token": csrf_token_from(html), "idempotency_key": key.group(1)}


def concurrently(app: Flask, calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call in a thread of its own (a browser of its own); their answers, or errors."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            with app.app_context():  # the test's own, as the main thread has it
                results[i] = calls[i]()
        except BaseException as error:  # kept for the test to look at
            results[i] = error

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a request never finished"
    return results


def released_together(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, people: int) -> None:
    """Requests meet at `owner.name` and go on together: the race happens past that point."""
    barrier = threading.Barrier(people)
    real = getattr(owner, name)

    def wait_then_call(*args: Any, **kwargs: Any) -> Any:
        barrier.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wait_then_call)


def test_a_double_click_on_the_new_referral_form_makes_one_referral(app, net, monkeypatch):
    household_id = net["households"][0]
    with app.app_context():
        household = _db.session.get(Household, household_id)
        person_id = household.members[0].id
    url = f"/referrals/new?household={household_id}&need=orientation"
    # Two clicks of one page: its key, each request with the session's form token (two logins
    # of the same person stand for the one browser, whose test client is not thread-safe).
    browsers = [signed_in(app, net["senders"][0]) for _ in range(2)]
    hidden = [form_of(b, url) for b in browsers]
    data = [
        {
            "csrf_token": h["csrf_token"],
            "idempotency_key": hidden[0]["idempotency_key"],
            "person": str(person_id),
            "need": "orientation",
            "service": str(net["service"]),
            "motivation": "Cerca un orientamento dopo il corso.",
            "action": "submit",
        }
        for h in hidden
    ]
    released_together(monkeypatch, views, "claim", 2)

    answers = concurrently(app, [lambda i=i: browsers[i].post(url, data=data[i]) for i in range(2)])

    assert [getattr(a, "status_code", a) for a in answers] == [303, 303], repr(answers)
    _db.session.expire_all()
    made = _db.session.scalars(select(Referral).where(Referral.household_id == household_id)).all()
    assert len(made) == 1
    assert {a.headers["Location"] for a in answers} == {f"/referrals/{made[0].id}"}
    assert made[0].status == "submitted"
    assert steps_to(made[0].id, "submitted") == 1
    assert events(made[0].id, "referral_created") == 1
    # Sent again later (the Back button, a retry): the same answer, still one referral.
    monkeypatch.undo()
    again = browsers[1].post(url, data=data[1])
    assert again.status_code == 303
    assert again.headers["Location"] == f"/referrals/{made[0].id}"
    assert count(Referral, Referral.household_id == household_id) == 1


# The pages: the loser sees the referral as it is now ------------------------------------------


def test_approve_and_reject_from_the_queue_at_once_the_loser_sees_the_current_row(
    app, net, monkeypatch
):
    referral_id = reach(net, net["households"][0], "submitted")
    browsers = [signed_in(app, net["coordinators"][i]) for i in range(2)]
    queue = "/referrals/?status=submitted"
    tokens = [csrf_token_from(b.get(queue).get_data(as_text=True)) for b in browsers]
    posts = [
        ("approve", {"row": "queue"}),
        ("reject", {"row": "queue", "reason_code": "not_eligible"}),
    ]
    released_together(monkeypatch, operations, "transition", 2)

    answers = concurrently(
        app,
        [
            lambda i=i: browsers[i].post(
                f"/referrals/{referral_id}/{posts[i][0]}",
                data={**posts[i][1], "csrf_token": tokens[i]},
                headers=HTMX,
            )
            for i in range(2)
        ],
    )

    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.get_data(as_text=True)[:500] for a in answers]
    _db.session.expire_all()
    referral = get(Referral, referral_id)
    assert referral.status in ("approved", "rejected")
    loser = next(a for a in answers if a.status_code == 409)
    body = loser.get_data(as_text=True).replace("&#39;", "'")
    label = {"approved": "approvata, in attesa dell'ente", "rejected": "respinta dalla Città"}
    assert "<html" not in body
    assert f'id="referral-{referral_id}"' in body  # the row itself, swapped in place
    assert f"«{label[referral.status]}»" in body  # the message names the state now
    assert f">{label[referral.status]}</span>" in body  # and the row's badge shows it
    assert f"/referrals/{referral_id}/approve" not in body  # no stale buttons left
    assert f"/referrals/{referral_id}/reject" not in body
    assert events(referral_id, "referral_approved", "referral_rejected") == 1


def test_a_stale_step_from_the_referral_page_answers_409_with_the_state_now(app, net):
    referral_id = reach(net, net["households"][0], "submitted")
    browser = signed_in(app, net["coordinators"][0])
    page = browser.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert f'action="/referrals/{referral_id}/reject"' in page
    # A colleague approves while the page is open.
    with app.test_request_context():
        operations.transition(
            get(Referral, referral_id), "approve", get(User, net["coordinators"][1]), day=today()
        )
        _db.session.commit()

    response = browser.post(
        f"/referrals/{referral_id}/reject",
        data={"reason_code": "not_eligible", "csrf_token": csrf_token_from(page)},
    )

    body = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 409
    assert "La segnalazione è «approvata, in attesa dell'ente»: ora non si può respingere." in body
    assert "<html" in body  # the referral's page, as it is now
    assert f'action="/referrals/{referral_id}/reject"' not in body
    _db.session.expire_all()
    assert get(Referral, referral_id).status == "approved"
    assert events(referral_id, "referral_rejected") == 0


def test_a_double_click_on_a_step_answers_both_clicks_as_done_and_writes_it_once(
    app, net, monkeypatch
):
    referral_id = reach(net, net["households"][0], "approved")
    # Two clicks of one person on «Accetta» (two logins stand for the one browser).
    browsers = [signed_in(app, net["receivers"][0]) for _ in range(2)]
    page = f"/referrals/{referral_id}"
    tokens = [csrf_token_from(b.get(page).get_data(as_text=True)) for b in browsers]
    released_together(monkeypatch, operations, "transition", 2)

    answers = concurrently(
        app,
        [
            lambda i=i: browsers[i].post(f"{page}/accept", data={"csrf_token": tokens[i]})
            for i in range(2)
        ],
    )

    assert [getattr(a, "status_code", a) for a in answers] == [303, 303], repr(answers)
    assert {a.headers["Location"] for a in answers} == {page}
    monkeypatch.undo()
    shown = [b.get(page).get_data(as_text=True) for b in browsers]
    assert all("Segnalazione accettata." in body for body in shown)  # no red error after success
    assert not any("ora non si può" in body for body in shown)
    _db.session.expire_all()
    assert get(Referral, referral_id).status == "accepted"
    assert steps_to(referral_id, "accepted") == 1
    assert events(referral_id, "referral_accepted") == 1
    assert places_used(net["service"]) == 2


# Consent as a ledger (issue #24) ------------------------------------------------------------------


def test_an_approval_and_a_withdrawal_at_once_never_share_without_telling_the_receiver(app, net):
    """The approval reads the ledger under the household's row lock, which the withdrawal takes
    too: either the approval goes first (the data is shared, the share is recorded and the
    withdrawal then tells the receiving staff) or the withdrawal does (the approval is refused,
    nothing is shared). Never an approval after the withdrawal, never a silent share."""
    referral_id = reach(net, net["households"][0], "submitted")
    consent_id = _db.session.scalar(
        select(Consent.id).where(
            Consent.household_id == net["households"][0], Consent.purpose == "job_services"
        )
    )

    def prepare(i: int) -> tuple[Any, User]:
        if i == 0:
            return get(Referral, referral_id), get(User, net["coordinators"][0])
        return get(Consent, consent_id), get(User, net["senders"][1])

    def act(i: int, loaded: tuple[Any, User]) -> str:
        obj, user = loaded
        if i == 0:
            return operations.transition(obj, "approve", user, day=today()).status
        households.withdraw_consent(obj, today(), user)
        return "withdrawn"

    outcomes = race(app, prepare, act, threads=2)

    errors = only_domain_errors(outcomes)
    assert outcomes[1].won  # a withdrawal is never refused
    referral = get(Referral, referral_id)
    shares = count(ConsentShare, ConsentShare.object_id == referral_id)
    told = count(Notification, Notification.kind == "consent_withdrawn")
    if outcomes[0].won:
        assert referral.status == "approved"
        assert shares == 1
        assert told == len(net["receivers"])
    else:
        assert "è stato revocato" in errors[0].message
        assert referral.status == "submitted"
        assert shares == 0
        assert told == 0
