"""E-mail for the notifications that ask someone to act, through a real SMTP server on loopback
(aiosmtpd): at once, as a daily digest, or none, as each user chooses on "Il mio account"; sent
after the response without Redis, by the background worker with it."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.notifications import mail
from app.notifications.models import OutboundEmail
from app.referrals import operations
from tests import factories
from tests.conftest import csrf_token_from
from tests.test_admin_four_eyes import new_coordinator_form
from tests.test_admin_users import post
from tests.test_referrals_workflow import make_world, reach
from tests.test_shared_redis import REDIS_TEST_URL, redis_prefix  # noqa: F401 - fixture

PORTAL = "https://reti.example.torino.it"


class Mailbox:
    """What the SMTP server received: one parsed message per delivery."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(app) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, PORTAL_URL=PORTAL)
    try:
        yield box
    finally:
        app.config.update(MAIL_SERVER=None, PORTAL_URL="http://localhost:8000")
        controller.stop()


def body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_each_step_that_waits_for_an_answer_sends_an_email_without_personal_data(app, db, smtp):
    with app.test_request_context():
        world = make_world()
        referral = reach(world, "submitted")
        _db.session.commit()
        assert mail.deliver_pending() == 2  # the two coordinators
        (to_coordinator,) = smtp.to(world.coordinator.email)
        assert to_coordinator["Subject"] == (
            f"[Reti Torino] Nuova segnalazione n. {referral.id} da approvare"
        )
        text = body(to_coordinator)
        assert f"{PORTAL}/referrals/{referral.id}" in text
        assert f"Gentile {world.coordinator.full_name}" in text
        for personal in (world.person.first_name, world.person.last_name):
            assert personal not in text
        assert not smtp.to(world.sender.email)  # the sender did the step
        # The City approves: the receiving entity's operators are asked to answer.
        operations.transition(referral, "approve", world.coordinator)
        _db.session.commit()
        assert mail.deliver_pending() == 2
        assert [m["Subject"] for m in smtp.to(world.receiver.email)] == [
            f"[Reti Torino] Segnalazione n. {referral.id} approvata dalla Città: attende la "
            "vostra risposta"
        ]
        # Steps that only inform send no e-mail; nothing is sent twice.
        operations.transition(referral, "accept", world.receiver)
        _db.session.commit()
        assert mail.deliver_pending() == 0
        assert len(smtp.messages) == 4


def test_digest_and_none_are_honoured(app, db, smtp):
    with app.test_request_context():
        world = make_world()
        world.coordinator.email_notifications = "digest"
        world.coordinator_colleague.email_notifications = "none"
        _db.session.commit()
        first = reach(world, "submitted")
        second = reach(world, "submitted")
        _db.session.commit()
        assert mail.deliver_pending() == 0
        assert smtp.messages == []
        assert mail.deliver_digests() == 1
        (digest,) = smtp.messages
        assert digest["To"] == world.coordinator.email
        assert digest["Subject"] == "[Reti Torino] Il riepilogo del giorno"
        text = body(digest)
        assert "Nel portale ti aspettano 2 cose da fare" in text
        assert f"{PORTAL}/referrals/{first.id}" in text
        assert f"{PORTAL}/referrals/{second.id}" in text
        assert mail.deliver_digests() == 0  # the next day's digest starts empty
        assert not smtp.to(world.coordinator_colleague.email)


def test_a_step_not_saved_sends_nothing(app, db, smtp):
    with app.test_request_context():
        world = make_world()
        _db.session.commit()
        reach(world, "submitted")
        _db.session.rollback()
        assert mail.deliver_pending() == 0
        assert smtp.messages == []


def test_an_smtp_server_down_keeps_the_email_for_the_next_try(app, db, smtp):
    with app.test_request_context():
        world = make_world()
        reach(world, "submitted")
        _db.session.commit()
        port = app.config["MAIL_PORT"]
        app.config["MAIL_PORT"] = free_port()  # nobody listens there
        assert mail.deliver_pending() == 0
        waiting = _db.session.scalars(select(OutboundEmail)).all()
        assert {row.sent_at for row in waiting} == {None}
        assert all(row.last_error for row in waiting)
        app.config["MAIL_PORT"] = port
        assert mail.deliver_pending() == 2
        assert len(smtp.messages) == 2


def test_without_redis_the_email_goes_right_after_the_response(app, client, login_as, smtp):
    """An admin asks for a coordinator account: the coordinators must confirm, and are told."""
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    login_as("admin")
    response = post(client, "/admin/users/new", new_coordinator_form())
    assert response.status_code == 303
    response.close()  # the server closes it once sent: the job runs then
    (message,) = smtp.to(coordinator.email)
    assert "creare l'account nuova.coord" in message["Subject"]


def test_with_redis_the_worker_sends_it(app, client, login_as, smtp, redis_prefix):  # noqa: F811
    import redis

    from app.jobs import queue, worker

    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    login_as("admin")
    app.config["CACHE_KEY_PREFIX"] = redis_prefix
    app.extensions["reti_redis"] = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        response = post(client, "/admin/users/new", new_coordinator_form())
        assert response.status_code == 303
        response.close()
        assert smtp.messages == []  # queued: no web worker sent it
        with app.app_context():
            assert queue().count == 1
            worker(app.extensions["reti_redis"]).work(burst=True)
        (message,) = smtp.to(coordinator.email)
        assert "creare l'account nuova.coord" in message["Subject"]
    finally:
        app.extensions.pop("reti_redis").close()
        app.config["CACHE_KEY_PREFIX"] = "reti:"


def test_the_choice_is_made_on_my_account_and_audited(client, login_as):
    me = login_as("entity_operator", org=factories.organization())
    page = client.get("/account").get_data(as_text=True)
    assert "Un riepilogo al giorno" in page
    token = csrf_token_from(page)
    refused = client.post(
        "/notifications/email", data={"email_notifications": "spesso", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert 'id="email_notifications-error"' in refused.get_data(as_text=True)
    saved = client.post(
        "/notifications/email", data={"email_notifications": "digest", "csrf_token": token}
    )
    assert saved.status_code == 303
    _db.session.refresh(me)
    assert me.email_notifications == "digest"
    event = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "email_preference_changed")
    )
    assert event.changes["email_notifications"] == ["immediate", "digest"]
    assert (
        client.post("/notifications/email", data={"email_notifications": "none"}).status_code == 400
    )
