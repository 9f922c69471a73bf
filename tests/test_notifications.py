"""Notifications: the unread badge in the header, the list, marking everything read."""

from __future__ import annotations

from datetime import timedelta

from app.db import utcnow
from app.extensions import db as _db
from app.notifications.models import Notification
from tests import factories
from tests.conftest import csrf_token_from


def _notify(user, kind="referral_submitted", object_id=41, read=False, minutes_ago=0):
    notification = Notification(
        user_id=user.id,
        kind=kind,
        object_type="referral",
        object_id=object_id,
        params={},
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        read_at=utcnow() if read else None,
    )
    _db.session.add(notification)
    _db.session.commit()
    return notification


def test_header_badge_counts_only_my_unread_notifications(client, login_as):
    me = login_as("coordinator")
    colleague = factories.user(role="coordinator")
    _notify(me, object_id=1)
    _notify(me, object_id=2)
    _notify(me, object_id=3, read=True)
    _notify(colleague, object_id=4)

    html = client.get("/").get_data(as_text=True)

    assert 'id="unread-badge">2<' in html


def test_no_badge_without_unread_notifications(client, login_as):
    me = login_as("entity_operator", org=factories.organization())
    _notify(me, read=True)

    html = client.get("/").get_data(as_text=True)

    assert "Notifiche" in html
    assert "unread-badge" not in html


def test_admin_has_no_notifications_area(client, login_as):
    login_as("admin")

    assert "/notifications/" not in client.get("/").get_data(as_text=True)
    assert client.get("/notifications/").status_code == 403


def test_list_shows_my_notifications_newest_first_with_links(client, login_as):
    me = login_as("entity_operator", org=factories.organization())
    _notify(me, kind="referral_approved", object_id=7, minutes_ago=60)
    _notify(me, kind="referral_declined", object_id=8, minutes_ago=5)
    _notify(factories.user(role="coordinator"), kind="referral_submitted", object_id=9)

    html = client.get("/notifications/").get_data(as_text=True)

    newer = html.index("Il servizio ha rifiutato la segnalazione n. 8")
    older = html.index("Segnalazione n. 7 approvata dalla Città")
    assert newer < older
    assert 'href="/referrals/8"' in html
    assert "n. 9" not in html


def test_mark_all_read_clears_the_badge_and_only_mine(client, login_as):
    me = login_as("coordinator")
    colleague = factories.user(role="coordinator")
    _notify(me, object_id=1)
    theirs = _notify(colleague, object_id=2)
    token = csrf_token_from(client.get("/notifications/").get_data(as_text=True))

    response = client.post("/notifications/read-all", data={"csrf_token": token})

    assert response.status_code == 303
    assert "unread-badge" not in client.get("/").get_data(as_text=True)
    assert _db.session.get(Notification, theirs.id).read_at is None


def test_mark_all_read_needs_csrf(client, login_as):
    me = login_as("coordinator")
    _notify(me)

    response = client.post("/notifications/read-all", data={})

    assert response.status_code == 400
    assert 'id="unread-badge">1<' in client.get("/").get_data(as_text=True)
