"""Every write needs a valid CSRF token, htmx requests included."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.extensions import db as _db
from tests import factories
from tests.conftest import csrf_token_from

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def test_login_without_token_is_refused_with_a_clear_page(client, db):
    user = factories.user()
    _db.session.commit()
    response = client.post(
        "/login", data={"username": user.username, "password": factories.PASSWORD}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Il modulo è scaduto" in body
    assert "<html" in body
    assert client.get("/").status_code == 303  # not logged in


def test_htmx_write_without_token_gets_an_alert_in_the_message_area(client, login_as):
    login_as("admin")
    response = client.post("/logout", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in body
    assert 'role="alert"' in body
    assert client.get("/").status_code == 200  # still logged in: the logout did not happen


def test_htmx_write_with_token_in_header_works(client, login_as):
    admin = login_as("admin")
    target = factories.user()
    _db.session.commit()
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post(
        f"/admin/users/{target.id}/disable", headers={**HTMX, "X-CSRFToken": token}
    )
    assert response.status_code == 303
    assert _db.session.get(User, target.id).active is False
    assert admin.id != target.id


def test_token_of_another_session_is_refused(app, client, login_as):
    login_as("admin")
    target = factories.user()
    _db.session.commit()
    stranger = app.test_client()
    foreign_token = csrf_token_from(stranger.get("/login").get_data(as_text=True))
    response = client.post(f"/admin/users/{target.id}/disable", data={"csrf_token": foreign_token})
    assert response.status_code == 400
    assert _db.session.scalar(select(User.active).where(User.id == target.id)) is True
