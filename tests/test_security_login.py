"""Login and session defences (issue 9): each test fails if its defence is removed.

Throttling per account and per address, common passwords, idle and absolute session lifetime,
TOTP two-factor (enrolment, second login step, no replay, attempts, required for the City).
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from app.audit.models import AuditEvent
from app.auth.common import common_passwords, is_common
from app.auth.models import PendingLogin, User
from app.auth.sealing import seal, unseal
from app.config import Config, ProductionConfig
from app.extensions import db as _db
from app.extensions import limiter
from tests import factories
from tests.conftest import csrf_token_from

WRONG = "password-sbagliata-di-sicuro"
EXPIRED = "La sessione è scaduta: accedi di nuovo per continuare."


@pytest.fixture(autouse=True)
def fresh_limits(app):
    """Every test starts with empty counters, and leaves none behind for the rest of the suite."""
    with app.app_context():
        limiter.reset()
    yield
    with app.app_context():
        limiter.reset()


def post_login(client, username, password):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def post_code(client, code, path="/login/2fa"):
    page = client.get(path)
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(path, data={"code": code, "csrf_token": token})


def actions(action):
    return _db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def wrong_code(secret):
    """A well-formed code that is none of the codes accepted now."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    valid = {totp.at(now + offset) for offset in (-60, -30, 0, 30, 60)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in valid)


# Throttling ---------------------------------------------------------------------------------


def test_failed_logins_of_one_account_are_throttled_with_retry_after(app, client, db):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per minute"
    try:
        user = factories.user()
        other = factories.user()
        _db.session.commit()
        for _ in range(3):
            assert post_login(client, user.username, WRONG).status_code == 422
        response = post_login(client, user.username, factories.PASSWORD)  # even the right one
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "Troppi tentativi" in response.get_data(as_text=True)
        assert client.get("/").status_code == 303  # not logged in
        event = actions("login_throttled")[0]
        assert event.changes == {"username": user.username, "scope": "account"}
        # Another account from the same address is not affected.
        assert post_login(client, other.username, factories.PASSWORD).status_code == 303
    finally:
        app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "10000 per minute"


def test_failed_logins_from_one_address_are_throttled(app, client, db):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    try:
        for n in range(3):
            assert post_login(client, f"nessuno{n}", WRONG).status_code == 422
        response = post_login(client, "nessuno-altro", WRONG)
        assert response.status_code == 429
        assert "Retry-After" in response.headers
        assert actions("login_throttled")[0].changes["scope"] == "address"
    finally:
        app.config["LOGIN_LIMIT_PER_ADDRESS"] = "10000 per minute"


def test_successful_logins_do_not_count(app, db):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "2 per minute"
    try:
        for _ in range(4):
            user = factories.user()
            _db.session.commit()
            assert (
                post_login(app.test_client(), user.username, factories.PASSWORD).status_code == 303
            )
    finally:
        app.config["LOGIN_LIMIT_PER_ADDRESS"] = "10000 per minute"


def test_throttling_is_a_window_not_a_permanent_lock_out(app, client, db, monkeypatch):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"
    try:
        user = factories.user()
        _db.session.commit()
        for _ in range(2):
            post_login(client, user.username, WRONG)
        assert post_login(client, user.username, factories.PASSWORD).status_code == 429
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() + 61)
        assert post_login(client, user.username, factories.PASSWORD).status_code == 303
    finally:
        app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "10000 per minute"


def test_throttling_storage_is_a_setting():
    assert Config.RATELIMIT_STORAGE_URI == "memory://"


# Common passwords ---------------------------------------------------------------------------


def change_password(client, new):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(
        "/account",
        data={
            "current_password": factories.PASSWORD,
            "new_password": new,
            "confirm_password": new,
            "csrf_token": token,
        },
    )


def test_the_common_password_list_is_vendored():
    assert len(common_passwords()) > 10000
    assert is_common("password")
    assert is_common("QWERTYUIOP")


@pytest.mark.parametrize("password", ["passwordpassword", "Password1234", "FORZAJUVENTUS"])
def test_common_passwords_are_refused_even_if_long(client, login_as, password):
    user = login_as("coordinator")
    response = change_password(client, password)
    assert response.status_code == 422
    assert "tra le più usate" in response.get_data(as_text=True)
    refreshed = _db.session.get(User, user.id)
    assert refreshed.password_hash == user.password_hash


def test_no_composition_rules_for_a_long_uncommon_passphrase(client, login_as):
    login_as("coordinator")
    assert change_password(client, "gatti sul balcone di via po").status_code == 303


# Idle timeout and absolute lifetime ---------------------------------------------------------


def test_idle_session_is_logged_out_with_a_message(client, login_as):
    login_as("coordinator")
    assert client.get("/").status_code == 200
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 31 * 60
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")
    assert EXPIRED in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 303  # the login is really over


def test_activity_keeps_the_session_alive(client, login_as):
    login_as("coordinator")
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 29 * 60
    assert client.get("/").status_code == 200
    with client.session_transaction() as sess:
        assert sess["seen_at"] >= int(time.time()) - 5


def test_a_session_is_not_signed_again_for_every_page(client, login_as):
    """Pages opened within a minute of each other leave the session as it was: no new cookie
    to sign and send each time; the minute after, the activity is written again."""
    login_as("coordinator")
    client.get("/")
    assert "Set-Cookie" not in client.get("/accessibilita").headers
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 61
    assert "session=" in client.get("/accessibilita").headers.get("Set-Cookie", "")
    with client.session_transaction() as sess:
        assert sess["seen_at"] >= int(time.time()) - 5


def test_session_ends_after_the_absolute_lifetime_even_if_active(app, client, login_as):
    login_as("coordinator")
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    with client.session_transaction() as sess:
        sess["login_at"] = int(time.time() - lifetime - 60)
        sess["seen_at"] = int(time.time())
    assert client.get("/").status_code == 303
    assert client.get("/").status_code == 303


def test_idle_htmx_request_redirects_the_page(client, login_as):
    login_as("admin")
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 31 * 60
    response = client.get(
        "/admin/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/admin/"}
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_idle_minutes_is_a_setting(app):
    assert Config.SESSION_IDLE_MINUTES == 30
    assert app.config["SESSION_IDLE_MINUTES"] == 30


# TOTP two-factor ------------------------------------------------------------------------------


def totp_user(role="coordinator", **fields):
    secret = pyotp.random_base32()
    user = factories.user(role=role, totp_secret=seal(secret), **fields)
    _db.session.commit()
    return user, secret


def test_enrolment_shows_a_qr_code_and_needs_a_right_code(client, login_as):
    user = login_as("entity_operator")
    page = client.get("/account/2fa")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    prefix = 'src="data:image/svg+xml;base64,'
    assert prefix in body
    encoded = body.split(prefix, 1)[1].split('"', 1)[0]
    assert b"<svg" in base64.b64decode(encoded)
    with client.session_transaction() as sess:
        sealed = sess["totp_enrolment"]
    secret = unseal(sealed)
    assert secret not in sealed  # the session cookie carries it sealed
    assert secret[:4] in body  # the key is shown for manual entry

    response = post_code(client, wrong_code(secret), "/account/2fa")
    assert response.status_code == 422
    assert _db.session.get(User, user.id).totp_secret is None

    response = post_code(client, pyotp.TOTP(secret).now(), "/account/2fa")
    assert response.status_code == 303
    stored = _db.session.get(User, user.id).totp_secret
    assert secret not in stored  # sealed at rest: a database copy does not reveal it
    assert unseal(stored) == secret
    assert actions("totp_enabled")


def test_login_with_totp_needs_the_code_before_the_user_is_logged_in(client, db):
    user, secret = totp_user()
    response = post_login(client, user.username, factories.PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/2fa"
    assert client.get("/").status_code == 303  # the password alone does not log in
    assert not actions("login")

    response = post_code(client, pyotp.TOTP(secret).now())
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert actions("login")[0].changes == {"second_factor": True}


def test_a_used_code_cannot_be_replayed(app, client, db):
    user, secret = totp_user()
    code = pyotp.TOTP(secret).now()
    post_login(client, user.username, factories.PASSWORD)
    assert post_code(client, code).status_code == 303

    thief = app.test_client()
    post_login(thief, user.username, factories.PASSWORD)
    response = post_code(thief, code)
    assert response.status_code == 422
    assert "già stato usato" in response.get_data(as_text=True)
    assert thief.get("/").status_code == 303
    assert actions("totp_failed")


def test_five_wrong_codes_end_the_pending_login(client, db):
    user, secret = totp_user()
    post_login(client, user.username, factories.PASSWORD)
    bad = wrong_code(secret)
    for _ in range(4):
        assert post_code(client, bad).status_code == 422
    response = post_code(client, bad)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    # The pending login is gone: even the right code no longer helps.
    assert client.get("/login/2fa").status_code == 303
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert client.get("/").status_code == 303
    assert len(actions("totp_failed")) == 5
    assert actions("totp_attempts_exhausted")


def test_wrong_codes_are_throttled_per_account_across_pending_logins(app, client, db):
    """Replaying the first step's cookie does not reset the count kept on the server."""
    app.config["TOTP_LIMIT_PER_ACCOUNT"] = "2 per minute"
    try:
        user, secret = totp_user()
        post_login(client, user.username, factories.PASSWORD)
        bad = wrong_code(secret)
        assert post_code(client, bad).status_code == 422
        post_login(client, user.username, factories.PASSWORD)  # a fresh pending login
        assert post_code(client, bad).status_code == 422
        response = post_code(client, pyotp.TOTP(secret).now())
        assert response.status_code == 429
        assert "Retry-After" in response.headers
        assert actions("login_throttled")[0].changes["scope"] == "totp"
    finally:
        app.config["TOTP_LIMIT_PER_ACCOUNT"] = "10000 per minute"


def test_pending_login_expires(client, db):
    user, secret = totp_user()
    post_login(client, user.username, factories.PASSWORD)
    # The pending login's time is kept on the server (the cookie only names it).
    _db.session.execute(
        update(PendingLogin).values(created_at=datetime.now(UTC) - timedelta(minutes=10))
    )
    _db.session.commit()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
    )
    assert response.status_code == 303
    assert client.get("/").status_code == 303


def log_in_with_totp(client, user, secret):
    post_login(client, user.username, factories.PASSWORD)
    assert post_code(client, pyotp.TOTP(secret).now()).status_code == 303


def test_disabling_totp_needs_the_password_and_is_audited(client, db):
    user, secret = totp_user(role="entity_operator")
    log_in_with_totp(client, user, secret)
    token = csrf_token_from(client.get("/account/2fa").get_data(as_text=True))
    response = client.post("/account/2fa/disable", data={"password": WRONG, "csrf_token": token})
    assert response.status_code == 422
    assert unseal(_db.session.get(User, user.id).totp_secret) == secret
    response = client.post(
        "/account/2fa/disable", data={"password": factories.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert _db.session.get(User, user.id).totp_secret is None
    assert actions("totp_disabled")


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_city_staff_without_totp_must_enrol_when_required(app, client, login_as, role):
    app.config["TOTP_REQUIRED_FOR_CITY"] = True
    try:
        login_as(role)
        response = client.get("/")
        assert response.status_code == 303
        assert response.headers["Location"] == "/account/2fa"
        assert client.get("/account/2fa").status_code == 200
    finally:
        app.config["TOTP_REQUIRED_FOR_CITY"] = False


def test_entity_operators_are_not_forced_to_enrol(app, client, login_as):
    app.config["TOTP_REQUIRED_FOR_CITY"] = True
    try:
        login_as("entity_operator")
        assert client.get("/").status_code == 200
    finally:
        app.config["TOTP_REQUIRED_FOR_CITY"] = False


def test_required_totp_cannot_be_disabled(app, client, db):
    user, secret = totp_user(role="coordinator")
    app.config["TOTP_REQUIRED_FOR_CITY"] = True
    try:
        log_in_with_totp(client, user, secret)
        assert client.get("/").status_code == 200
        token = csrf_token_from(client.get("/account/2fa").get_data(as_text=True))
        response = client.post(
            "/account/2fa/disable", data={"password": factories.PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303
        assert unseal(_db.session.get(User, user.id).totp_secret) == secret
    finally:
        app.config["TOTP_REQUIRED_FOR_CITY"] = False


def test_totp_is_required_in_production_settings_only():
    assert ProductionConfig.TOTP_REQUIRED_FOR_CITY is True
    assert Config.TOTP_REQUIRED_FOR_CITY is False
