"""Users change their own password: the current one is required, and other sessions end."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.passwords import verify_password
from app.extensions import db as _db
from tests import factories
from tests.conftest import csrf_token_from


def change(client, current, new, confirm=None):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(
        "/account",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
            "csrf_token": token,
        },
    )


def test_wrong_current_password_is_refused(client, login_as):
    user = login_as("coordinator")
    response = change(client, "non-e-la-mia-password", "una-nuova-password-lunga")
    assert response.status_code == 422
    assert "La password attuale non è corretta." in response.get_data(as_text=True)
    assert verify_password(_db.session.get(type(user), user.id).password_hash, factories.PASSWORD)


def test_short_or_mismatched_passwords_are_explained(client, login_as):
    login_as("coordinator")
    body = change(client, factories.PASSWORD, "corta").get_data(as_text=True)
    assert "almeno 12 caratteri" in body
    body = change(
        client, factories.PASSWORD, "una-nuova-password-lunga", "diversa-password-lunga"
    ).get_data(as_text=True)
    assert "Le due password non coincidono." in body


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, login_as):
    user = login_as("entity_operator")
    other = app.test_client()
    token = csrf_token_from(other.get("/login").get_data(as_text=True))
    other.post(
        "/login",
        data={"username": user.username, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert other.get("/").status_code == 200

    response = change(client, factories.PASSWORD, "una-nuova-password-lunga")
    assert response.status_code == 303
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 303
    assert (
        _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "password_changed"))
        is not None
    )


def test_temporary_password_must_be_changed_before_anything_else(client, login_as):
    login_as("coordinator", must_change_password=True)
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert change(client, factories.PASSWORD, "una-nuova-password-lunga").status_code == 303
    assert client.get("/").status_code == 200
