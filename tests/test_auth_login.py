"""Login, logout, disabled accounts and redirects: what a user at the login page sees."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.extensions import db as _db
from tests import factories
from tests.conftest import csrf_token_from

NEUTRAL = "Nome utente o password non corretti, oppure account non attivo."


def post_login(client, username, password, next_url=None):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    path = "/login" if next_url is None else f"/login?next={next_url}"
    return client.post(path, data={"username": username, "password": password, "csrf_token": token})


@pytest.mark.parametrize("role", list(Role))
def test_each_role_logs_in_and_sees_its_home(client, db, role):
    user = factories.user(role=role)
    _db.session.commit()
    response = post_login(client, user.username, factories.PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert user.full_name in home.get_data(as_text=True)


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


def test_username_is_case_insensitive(client, db):
    user = factories.user()
    _db.session.commit()
    assert post_login(client, user.username.upper(), factories.PASSWORD).status_code == 303


@pytest.mark.parametrize("case", ["wrong_password", "unknown_user", "disabled"])
def test_failed_logins_look_the_same_and_are_audited(client, db, case):
    user = factories.user(active=case != "disabled")
    _db.session.commit()
    username = "nessuno" if case == "unknown_user" else user.username
    password = "password-sbagliata!!" if case == "wrong_password" else factories.PASSWORD
    response = post_login(client, username, password)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert NEUTRAL in body
    assert f'value="{username}"' in body  # the typed username is kept
    assert client.get("/").status_code == 303  # still not logged in
    event = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert event.changes["reason"] == case


def test_missing_fields_are_explained_next_to_the_field(client, db):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="username-error"' in body
    assert "Inserisci il nome utente." in body
    assert 'aria-invalid="true"' in body


def test_successful_login_is_audited(client, db):
    user = factories.user()
    _db.session.commit()
    post_login(client, user.username, factories.PASSWORD)
    actions = _db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == user.id)
    ).all()
    assert "login" in actions


def test_logout_revokes_a_captured_session_cookie(app, client, db):
    user = factories.user()
    _db.session.commit()
    post_login(client, user.username, factories.PASSWORD)
    captured = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303

    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], captured)
    response = thief.get("/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


def test_disabled_account_is_refused_at_its_next_request(client, db):
    user = factories.user()
    _db.session.commit()
    post_login(client, user.username, factories.PASSWORD)
    assert client.get("/").status_code == 200
    _db.session.get(User, user.id).active = False
    _db.session.commit()
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account", "/account"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirects_only_inside_the_site(client, db, next_url, expected):
    user = factories.user()
    _db.session.commit()
    response = post_login(client, user.username, factories.PASSWORD, next_url=next_url)
    assert response.headers["Location"] == expected


def test_session_id_changes_at_login(app, client, db):
    user = factories.user()
    _db.session.commit()
    client.get("/login")
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    post_login(client, user.username, factories.PASSWORD)
    after = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert before != after


def test_password_hash_is_upgraded_when_parameters_change(app, client, db):
    user = factories.user()
    _db.session.commit()
    old_hash = user.password_hash
    previous = app.config["PASSWORD_HASH_PARAMS"]
    app.config["PASSWORD_HASH_PARAMS"] = {"time_cost": 2, "memory_cost": 8192, "parallelism": 1}
    try:
        assert post_login(client, user.username, factories.PASSWORD).status_code == 303
    finally:
        app.config["PASSWORD_HASH_PARAMS"] = previous
    refreshed = _db.session.get(User, user.id)
    _db.session.refresh(refreshed)
    assert refreshed.password_hash != old_hash
    assert refreshed.password_hash.startswith("$argon2id$")
    assert "t=2" in refreshed.password_hash


def test_htmx_request_with_expired_login_redirects_the_page(client, db):
    response = client.get(
        "/admin/",
        headers={
            "HX-Request": "true",
            "HX-Request-Type": "partial",
            "HX-Current-URL": "http://localhost/admin/?q=ro",
        },
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert "<html" not in response.get_data(as_text=True)
