"""Admins create, edit, disable and re-enable accounts and reset passwords; all audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.extensions import db as _db
from tests import factories
from tests.conftest import csrf_token_from
from tests.worlds import signed_in


def post(client, path, data=None, page="/admin/"):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token})


def actions_on(user_id):
    return _db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "user_account", AuditEvent.object_id == user_id
        )
    ).all()


def test_admin_asks_for_an_operator_and_the_confirming_coordinator_gets_the_password(
    app, client, login_as
):
    login_as("admin")
    org = factories.organization(name="Cooperativa Aurora")
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "mario.rossi",
            "full_name": "Mario Rossi",
            "email": "mario.rossi@example.org",
            "role": "entity_operator",
            "organization_id": str(org.id),
        },
    )
    assert response.status_code == 303
    assert "temporary-password" not in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert _db.session.scalar(select(User).where(User.username == "mario.rossi")) is None

    city = signed_in(app, coordinator)
    page = city.get(response.headers["Location"])
    token = csrf_token_from(page.get_data(as_text=True))
    confirmed = city.post(f"{response.headers['Location']}/confirm", data={"csrf_token": token})
    body = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200
    password = re.search(r'temporary-password">([^<]+)<', body).group(1)
    user = _db.session.scalar(select(User).where(User.username == "mario.rossi"))
    assert user.organization_id == org.id
    assert user.must_change_password
    assert "user_created" in actions_on(user.id)

    newcomer = app.test_client()
    token = csrf_token_from(newcomer.get("/login").get_data(as_text=True))
    response = newcomer.post(
        "/login", data={"username": "mario.rossi", "password": password, "csrf_token": token}
    )
    assert response.headers["Location"] == "/account"


def test_admin_creates_another_admin_at_once(app, client, login_as):
    login_as("admin")
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "it.due",
            "full_name": "Seconda Amministratrice",
            "email": "it.due@example.org",
            "role": "admin",
        },
    )
    assert response.status_code == 200
    assert re.search(r'temporary-password">[A-Za-z0-9-]{17}<', response.get_data(as_text=True))
    user = _db.session.scalar(select(User).where(User.username == "it.due"))
    assert user.role == "admin"
    assert user.must_change_password


def test_invalid_user_form_keeps_input_and_explains_each_field(client, login_as):
    login_as("admin")
    _db.session.commit()
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "Mario Rossi!",
            "full_name": "Mario Rossi",
            "email": "non-una-email",
            "role": "entity_operator",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Usa solo lettere minuscole" in body
    assert "Indirizzo email non valido." in body
    assert "Per questo ruolo scegli l" in body
    assert "ente di appartenenza." in body
    assert "Non è una opzione valida" not in body
    assert 'value="Mario Rossi"' in body
    assert 'value="non-una-email"' in body
    assert _db.session.scalar(select(User).where(User.full_name == "Mario Rossi")) is None


def test_duplicate_username_is_refused(client, login_as):
    login_as("admin")
    existing = factories.user()
    _db.session.commit()
    response = post(
        client,
        "/admin/users/new",
        {
            "username": existing.username,
            "full_name": "Altro",
            "email": "a@example.org",
            "role": "coordinator",
        },
    )
    assert response.status_code == 422
    assert "Questo nome utente è già in uso." in response.get_data(as_text=True)


def test_edit_records_old_and_new_values(client, login_as):
    login_as("admin")
    user = factories.user(role="coordinator", full_name="Giulia Bianchi")
    _db.session.commit()
    response = post(
        client,
        f"/admin/users/{user.id}",
        {
            "full_name": "Giulia Bianchi Verdi",
            "email": user.email,
            "role": "coordinator",
            "organization_id": "",
        },
    )
    assert response.status_code == 303
    assert _db.session.get(User, user.id).full_name == "Giulia Bianchi Verdi"
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_updated"))
    assert event.changes == {"full_name": ["Giulia Bianchi", "Giulia Bianchi Verdi"]}


def test_disable_ends_the_users_sessions_and_enable_restores_login(app, client, login_as):
    login_as("admin")
    user = factories.user()
    _db.session.commit()
    victim = app.test_client()
    token = csrf_token_from(victim.get("/login").get_data(as_text=True))
    victim.post(
        "/login",
        data={"username": user.username, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert victim.get("/").status_code == 200

    assert post(client, f"/admin/users/{user.id}/disable").status_code == 303
    assert victim.get("/").status_code == 303
    assert post(client, f"/admin/users/{user.id}/enable").status_code == 303
    assert _db.session.get(User, user.id).active is True
    assert {"user_disabled", "user_enabled"} <= set(actions_on(user.id))


def test_admin_cannot_disable_themselves(client, login_as):
    admin = login_as("admin")
    post(client, f"/admin/users/{admin.id}/disable")
    assert _db.session.get(User, admin.id).active is True
    assert client.get("/").status_code == 200


def test_reset_password_of_an_admin_shows_a_new_temporary_password_once(client, login_as):
    login_as("admin")
    user = factories.user(role="admin")
    _db.session.commit()
    old_hash = user.password_hash
    body = post(client, f"/admin/users/{user.id}/reset-password").get_data(as_text=True)
    assert re.search(r'temporary-password">[A-Za-z0-9-]{17}<', body)
    refreshed = _db.session.get(User, user.id)
    assert refreshed.password_hash != old_hash
    assert refreshed.must_change_password
    assert "user_password_reset" in actions_on(user.id)
    assert "temporary-password" not in client.get(f"/admin/users/{user.id}").get_data(as_text=True)


def test_user_list_search_answers_a_fragment_to_htmx_and_a_page_otherwise(client, login_as):
    login_as("admin")
    factories.user(full_name="Lucia Ferrero")
    factories.user(full_name="Paolo Esposito")
    _db.session.commit()
    fragment = client.get(
        "/admin/?q=ferrero", headers={"HX-Request": "true", "HX-Request-Type": "partial"}
    )
    body = fragment.get_data(as_text=True)
    assert "Lucia Ferrero" in body
    assert "Paolo Esposito" not in body
    assert "<html" not in body
    page = client.get("/admin/?q=ferrero").get_data(as_text=True)
    assert "<html" in page
    assert "Lucia Ferrero" in page
    assert "Paolo Esposito" not in page
    boosted = client.get(
        "/admin/?q=ferrero",
        headers={"HX-Request": "true", "HX-Boosted": "true", "HX-Request-Type": "full"},
    )
    assert "<html" in boosted.get_data(as_text=True)


@pytest.mark.parametrize("role", ["coordinator", "entity_operator", "housing_provider"])
def test_only_admins_manage_accounts(client, login_as, role):
    login_as(role)
    other = factories.user()
    _db.session.commit()
    assert client.get("/admin/").status_code == 403
    assert post(client, f"/admin/users/{other.id}/disable", page="/").status_code == 403
    assert _db.session.get(User, other.id).active is True
