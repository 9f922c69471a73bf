"""Separation of duties: the IT administrator cannot give itself household data through an
account. Creating an account that sees households, raising or moving one, or giving it a new
temporary password waits for a City coordinator's confirmation (four eyes); the password goes to
the confirming coordinator, never to the admin."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.admin.models import AccountChangeRequest
from app.audit.models import AuditEvent
from app.auth.models import User
from app.extensions import db as _db
from app.notifications.models import Notification
from tests import factories
from tests.conftest import csrf_token_from
from tests.test_admin_users import post
from tests.worlds import signed_in

PASSWORD_RE = re.compile(r'temporary-password">([^<]+)<')


def send(client, path, data=None):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token})


def only_request():
    (change,) = _db.session.scalars(select(AccountChangeRequest)).all()
    return change


def kinds_for(user):
    return sorted(
        _db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id))
    )


def event(action):
    return _db.session.scalar(select(AuditEvent).where(AuditEvent.action == action))


def new_coordinator_form(username="nuova.coord"):
    return {
        "username": username,
        "full_name": "Nuova Coordinatrice",
        "email": f"{username}@example.org",
        "role": "coordinator",
        "organization_id": "",
    }


def test_admin_creating_a_coordinator_gets_no_password_and_no_account(app, client, login_as):
    admin = login_as("admin")
    coordinator = factories.user(role="coordinator")
    household = factories.household(isee_value=4500)
    _db.session.commit()
    response = post(client, "/admin/users/new", new_coordinator_form())
    assert response.status_code == 303
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert PASSWORD_RE.search(followed) is None
    assert "in attesa" in followed
    assert _db.session.scalar(select(User).where(User.username == "nuova.coord")) is None
    change = only_request()
    assert (change.kind, change.status, change.requested_by_id) == ("create", "pending", admin.id)
    assert kinds_for(coordinator) == ["account_create_requested"]
    assert "nuova.coord" in client.get("/admin/requests").get_data(as_text=True)
    # The admin cannot confirm its own request, nor read households meanwhile.
    assert send(client, f"/admin/requests/{change.id}/confirm").status_code == 403
    assert client.get(f"/households/{household.id}").status_code == 403
    # The username stays reserved while the request waits.
    again = post(client, "/admin/users/new", new_coordinator_form())
    assert again.status_code == 422
    assert "già in uso" in again.get_data(as_text=True)


def test_the_confirmation_names_both_people_and_tells_everyone(app, client, login_as):
    admin = login_as("admin", full_name="Ivo Informatico")
    first = factories.user(role="coordinator", full_name="Carla Città")
    second = factories.user(role="coordinator", full_name="Dario Città")
    _db.session.commit()
    post(client, "/admin/users/new", new_coordinator_form())
    change = only_request()
    city = signed_in(app, first)
    assert "Ivo Informatico" in city.get(f"/admin/requests/{change.id}").get_data(as_text=True)
    confirmed = send(city, f"/admin/requests/{change.id}/confirm")
    assert confirmed.status_code == 200
    assert PASSWORD_RE.search(confirmed.get_data(as_text=True))
    created = _db.session.scalar(select(User).where(User.username == "nuova.coord"))
    assert created.role == "coordinator"
    assert event("user_created").changes["requested_by"] == admin.username
    assert event("user_created").changes["confirmed_by"] == first.username
    decided = event("account_change_confirmed")
    assert decided.actor_id == first.id
    assert decided.changes["requested_by"] == admin.username
    assert "account_change_confirmed" in kinds_for(second)
    assert kinds_for(created) == ["account_created_owner"]
    # The request page no longer offers a decision, and never shows the password again.
    page = city.get(f"/admin/requests/{change.id}").get_data(as_text=True)
    assert "Conferma la richiesta" not in page
    assert PASSWORD_RE.search(page) is None


def test_a_second_coordinator_deciding_afterwards_is_told_it_is_decided(app, client, login_as):
    login_as("admin")
    first = factories.user(role="coordinator")
    second = factories.user(role="coordinator")
    _db.session.commit()
    post(client, "/admin/users/new", new_coordinator_form())
    change = only_request()
    late = signed_in(app, second)
    token = csrf_token_from(late.get(f"/admin/requests/{change.id}").get_data(as_text=True))
    assert send(signed_in(app, first), f"/admin/requests/{change.id}/confirm").status_code == 200
    refused = late.post(f"/admin/requests/{change.id}/refuse", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "già stata decisa" in refused.get_data(as_text=True)
    assert _db.session.get(AccountChangeRequest, change.id).decided_by_id == first.id
    assert len(_db.session.scalars(select(User).where(User.username == "nuova.coord")).all()) == 1


def test_reset_of_a_coordinators_password_waits_and_its_owner_cannot_confirm_it(
    app, client, login_as
):
    login_as("admin")
    owner = factories.user(role="coordinator")
    other = factories.user(role="coordinator")
    _db.session.commit()
    old_hash = owner.password_hash
    response = post(client, f"/admin/users/{owner.id}/reset-password")
    assert response.status_code == 303
    assert (
        PASSWORD_RE.search(client.get(response.headers["Location"]).get_data(as_text=True)) is None
    )
    assert _db.session.get(User, owner.id).password_hash == old_hash
    assert "account_reset_requested_owner" in kinds_for(owner)
    change = only_request()
    assert send(signed_in(app, owner), f"/admin/requests/{change.id}/confirm").status_code == 409
    assert _db.session.get(User, owner.id).password_hash == old_hash

    confirmed = send(signed_in(app, other), f"/admin/requests/{change.id}/confirm")
    password = PASSWORD_RE.search(confirmed.get_data(as_text=True)).group(1)
    refreshed = _db.session.get(User, owner.id)
    assert refreshed.password_hash != old_hash
    assert refreshed.must_change_password
    assert "account_change_confirmed_owner" in kinds_for(owner)
    newcomer = app.test_client()
    token = csrf_token_from(newcomer.get("/login").get_data(as_text=True))
    login = newcomer.post(
        "/login", data={"username": owner.username, "password": password, "csrf_token": token}
    )
    assert login.headers["Location"] == "/account"


def test_moving_an_operator_to_another_entity_waits_and_a_refusal_changes_nothing(
    app, client, login_as
):
    login_as("admin")
    here = factories.organization(name="Ente di partenza")
    there = factories.organization(name="Ente di arrivo")
    operator = factories.user(role="entity_operator", organization=here, full_name="Olga Rossi")
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    response = post(
        client,
        f"/admin/users/{operator.id}",
        {
            "full_name": "Olga Rossi Bianchi",
            "email": operator.email,
            "role": "entity_operator",
            "organization_id": str(there.id),
        },
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "chiesto ai coordinatori" in page
    moved = _db.session.get(User, operator.id)
    assert moved.full_name == "Olga Rossi Bianchi"  # name and email need no confirmation
    assert moved.organization_id == here.id
    assert "account_update_requested_owner" in kinds_for(operator)
    change = only_request()
    assert change.requested_values == {"role": "entity_operator", "organization_id": there.id}

    city = signed_in(app, coordinator)
    refused = send(city, f"/admin/requests/{change.id}/refuse", {"reason": "Non risulta"})
    assert refused.status_code == 303
    assert _db.session.get(User, operator.id).organization_id == here.id
    assert _db.session.get(AccountChangeRequest, change.id).status == "refused"
    assert event("account_change_refused").changes["refused_by"] == coordinator.username
    assert "account_change_refused_owner" in kinds_for(operator)


def test_raising_an_admin_account_to_coordinator_also_replaces_its_password(app, client, login_as):
    """The admin may know the password of another admin account: a raise gives a new one."""
    login_as("admin")
    helper = factories.user(role="admin")
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    old_hash = helper.password_hash
    post(
        client,
        f"/admin/users/{helper.id}",
        {
            "full_name": helper.full_name,
            "email": helper.email,
            "role": "coordinator",
            "organization_id": "",
        },
    )
    assert _db.session.get(User, helper.id).role == "admin"
    change = only_request()
    confirmed = send(signed_in(app, coordinator), f"/admin/requests/{change.id}/confirm")
    assert PASSWORD_RE.search(confirmed.get_data(as_text=True))
    raised = _db.session.get(User, helper.id)
    assert raised.role == "coordinator"
    assert raised.password_hash != old_hash


def test_lowering_a_coordinator_to_admin_needs_no_confirmation(client, login_as):
    login_as("admin")
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    post(
        client,
        f"/admin/users/{coordinator.id}",
        {
            "full_name": coordinator.full_name,
            "email": coordinator.email,
            "role": "admin",
            "organization_id": "",
        },
    )
    assert _db.session.get(User, coordinator.id).role == "admin"
    assert _db.session.scalars(select(AccountChangeRequest)).all() == []


def test_the_create_form_sent_twice_makes_one_request(client, login_as):
    login_as("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    data = {**new_coordinator_form(), "idempotency_key": key}
    first = post(client, "/admin/users/new", data)
    second = post(client, "/admin/users/new", data)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert len(_db.session.scalars(select(AccountChangeRequest)).all()) == 1


def test_operators_cannot_see_the_requests(client, login_as):
    login_as("entity_operator")
    assert client.get("/admin/requests").status_code == 403


def test_the_codice_fiscale_for_spid_is_asked_with_the_new_account(app, client, login_as):
    login_as("admin")
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    form = {**new_coordinator_form(), "fiscal_code": "tinit-vrdgpp80a01l219m"}
    assert post(client, "/admin/users/new", form).status_code == 303
    change = only_request()
    assert change.requested_values["fiscal_code"] == "VRDGPP80A01L219M"
    city = signed_in(app, coordinator)
    assert "VRDGPP80A01L219M" in city.get(f"/admin/requests/{change.id}").get_data(as_text=True)
    assert send(city, f"/admin/requests/{change.id}/confirm").status_code == 200
    created = _db.session.scalar(select(User).where(User.username == "nuova.coord"))
    assert created.fiscal_code == "VRDGPP80A01L219M"
    bad = post(client, "/admin/users/new", {**new_coordinator_form("altra"), "fiscal_code": "X"})
    assert bad.status_code == 422
    assert "Codice fiscale non valido" in bad.get_data(as_text=True)
