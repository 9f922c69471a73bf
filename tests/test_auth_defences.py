"""Login defences of issue 18: each test failed on the code before it.

Second-factor codes counted on the server (per pending login and per user), recovery codes,
no reuse of the temporary or recent passwords, `next` normalised, 401 for an expired API session,
the login throttle shared by processes, and the password strength estimate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from app.admin.models import set_setting
from app.audit.models import AuditEvent
from app.auth import operations
from app.auth.models import RecoveryCode, User
from app.auth.passwords import verify_password
from app.auth.sealing import seal
from app.extensions import db as _db
from app.web.views import safe_next
from tests import factories
from tests.conftest import CHEAP_HASH, csrf_token_from

WRONG = "password-sbagliata-di-sicuro"
ROOT = Path(__file__).resolve().parent.parent


def post_login(client, username, password, next_url=None):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    path = "/login" if next_url is None else f"/login?next={next_url}"
    return client.post(path, data={"username": username, "password": password, "csrf_token": token})


def post_code(client, code):
    token = csrf_token_from(client.get("/login/2fa").get_data(as_text=True))
    return client.post("/login/2fa", data={"code": code, "csrf_token": token})


def actions(action):
    return _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def wrong_code(secret):
    totp = pyotp.TOTP(secret)
    now = time.time()
    valid = {totp.at(now + offset) for offset in (-60, -30, 0, 30, 60)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in valid)


def totp_user(role="coordinator", **fields):
    secret = pyotp.random_base32()
    user = factories.user(role=role, totp_secret=seal(secret), **fields)
    _db.session.commit()
    return user, secret


def in_another_process(database_uri, script, **config):
    """Run `script` against a second application on the same database, in its own process
    (as another gunicorn worker would be): it sees nothing of this process's memory."""
    program = textwrap.dedent(
        """
        import json, sys
        from app import create_app
        from app.config import TestConfig
        from tests.conftest import csrf_token_from
        args = json.loads(sys.argv[1])
        config = TestConfig(args["database_uri"])
        config.PASSWORD_HASH_PARAMS = args["hash"]
        for key, value in args["config"].items():
            setattr(config, key, value)
        app = create_app(config)
        client = app.test_client()
        def post(path, **data):
            token = csrf_token_from(client.get("/login").get_data(as_text=True))
            return client.post(path, data={**data, "csrf_token": token})
        """
    ) + textwrap.dedent(script)
    arguments = {"database_uri": database_uri, "hash": CHEAP_HASH, "config": config}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", program, json.dumps(arguments)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# Item 4: second-factor codes counted on the server -------------------------------------------


def test_replaying_the_cookie_from_before_the_failures_gives_no_new_tries(app, client, db):
    user, secret = totp_user()
    post_login(client, user.username, factories.PASSWORD)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    before = client.get_cookie(cookie_name).value
    bad = wrong_code(secret)
    for _ in range(4):
        assert post_code(client, bad).status_code == 422
        client.set_cookie(cookie_name, before)  # as if the failures had never happened
    response = post_code(client, bad)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    client.set_cookie(cookie_name, before)
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(  # the pending login is over, even for the right code
        "/login/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 303
    assert [event.changes["attempt"] for event in actions("totp_failed")] == [1, 2, 3, 4, 5]
    assert actions("totp_attempts_exhausted")


def test_wrong_codes_of_a_user_are_throttled_across_processes(app, client, db, database_uri):
    """Another worker process counts the wrong codes this one saw: 429 with Retry-After."""
    app.config["TOTP_LIMIT_PER_ACCOUNT"] = "3 per 10 minutes"
    try:
        user, secret = totp_user()
        bad = wrong_code(secret)
        for _ in range(3):  # three pending logins, one wrong code each
            post_login(client, user.username, factories.PASSWORD)
            assert post_code(client, bad).status_code == 422
        answer = in_another_process(
            database_uri,
            f"""
            post("/login", username={user.username!r}, password={factories.PASSWORD!r})
            import pyotp
            response = post("/login/2fa", code=pyotp.TOTP({secret!r}).now())
            print(json.dumps([response.status_code, response.headers.get("Retry-After")]))
            """,
            TOTP_LIMIT_PER_ACCOUNT="3 per 10 minutes",
        )
        status, retry_after = answer
        assert status == 429
        assert 0 < int(retry_after) <= 600
        assert actions("login_throttled")[0].changes == {"username": user.username, "scope": "totp"}
    finally:
        app.config["TOTP_LIMIT_PER_ACCOUNT"] = "10000 per minute"


# Item 4: recovery codes ------------------------------------------------------------------------


def enrol(client, secret_holder):
    page = client.get("/account/2fa").get_data(as_text=True)
    with client.session_transaction() as sess:
        from app.auth.sealing import unseal

        secret = unseal(sess["totp_enrolment"])
    secret_holder.append(secret)
    token = csrf_token_from(page)
    return client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})


def shown_codes(html):
    section = html.split('id="recovery-codes"', 1)
    if len(section) == 1:
        return []
    items = section[1].split("</ul>", 1)[0].split('<li class="col">')[1:]
    return [item.split("</li>", 1)[0].strip() for item in items]


def test_enrolment_shows_ten_recovery_codes_once_stored_hashed(client, login_as):
    user = login_as("entity_operator")
    assert enrol(client, []).status_code == 303
    page = client.get("/account/2fa").get_data(as_text=True)
    codes = shown_codes(page)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert shown_codes(client.get("/account/2fa").get_data(as_text=True)) == []  # once only
    rows = _db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    assert len(rows) == 10
    for row in rows:
        assert all(code.replace("-", "") not in row.code_hash for code in codes)
    assert any(verify_password(row.code_hash, codes[0].replace("-", "")) for row in rows)
    assert actions("recovery_codes_generated")


def test_a_recovery_code_replaces_the_totp_code_once(app, client, db):
    user, _secret = totp_user()
    codes = operations.generate_recovery_codes(user)
    _db.session.commit()
    post_login(client, user.username, factories.PASSWORD)
    response = post_code(client, codes[3].upper())  # as read from paper, in capitals
    assert response.status_code == 303
    assert client.get("/").status_code == 200
    assert actions("recovery_code_used")[0].changes == {"remaining": 9}

    other = app.test_client()
    post_login(other, user.username, factories.PASSWORD)
    response = post_code(other, codes[3])
    assert response.status_code == 422
    assert other.get("/").status_code == 303
    assert actions("totp_failed")


def test_new_recovery_codes_need_the_password_and_replace_the_old(client, db):
    user, secret = totp_user(role="entity_operator")
    old = operations.generate_recovery_codes(user)
    _db.session.commit()
    post_login(client, user.username, factories.PASSWORD)
    assert post_code(client, pyotp.TOTP(secret).now()).status_code == 303
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "Ti restano 10 codici di recupero non usati." in page
    token = csrf_token_from(page)
    response = client.post(
        "/account/2fa/recovery-codes", data={"codes_password": WRONG, "csrf_token": token}
    )
    assert response.status_code == 422
    assert "La password attuale non è corretta." in response.get_data(as_text=True)
    response = client.post(
        "/account/2fa/recovery-codes",
        data={"codes_password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    new = shown_codes(client.get("/account/2fa").get_data(as_text=True))
    assert len(new) == 10
    assert not operations.use_recovery_code(_db.session.get(User, user.id), old[0])
    assert operations.use_recovery_code(_db.session.get(User, user.id), new[0])


# Item 5: no reuse of the temporary or a recent password --------------------------------------


def change(client, current, new):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(
        "/account",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new,
            "csrf_token": token,
        },
    )


def new_password_error(response):
    html = response.get_data(as_text=True)
    return html.split('id="new_password-error"', 1)[1].split("</div>", 1)[0]


def test_the_temporary_password_cannot_be_the_new_password(client, login_as):
    user = login_as("coordinator", must_change_password=True)
    response = change(client, factories.PASSWORD, factories.PASSWORD)
    assert response.status_code == 422
    assert "diversa da quella attuale" in new_password_error(response)
    assert _db.session.get(User, user.id).must_change_password is True
    assert client.get("/").status_code == 303  # still sent to the password change


def test_the_last_passwords_cannot_be_reused(client, login_as):
    login_as("entity_operator")
    first, second = "tre tigri contro tre tigri", "la nebbia sul lungo po"
    assert change(client, factories.PASSWORD, first).status_code == 303
    assert change(client, first, second).status_code == 303
    response = change(client, second, factories.PASSWORD)
    assert response.status_code == 422
    assert "ultime 5" in new_password_error(response)
    assert change(client, second, first).status_code == 422


# Item 6: `next` normalised before the checks -------------------------------------------------


HOSTILE_NEXT = [
    "/..//evil.example",
    "/../..//evil.example/",
    "/./evil",
    "/\\evil.example",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%2e%2e//evil.example",
    "/%5Cevil.example",
    "///evil.example",
    "https:evil.example",
    "/\tevil",
    "/%09/evil.example",
    "/\n/evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_paths_fall_back_to_home(target):
    assert safe_next(target, "/") == "/"


def test_plain_paths_of_the_site_still_pass():
    for target in ("/households/", "/households/?q=rossi&page=2", "/account", "/"):
        assert safe_next(target, "/") == target


def test_login_does_not_echo_a_dot_segment_next(client, db):
    user = factories.user()
    _db.session.commit()
    response = post_login(client, user.username, factories.PASSWORD, next_url="/..//evil.example")
    assert response.headers["Location"] == "/"


# Item 7: an expired session on the API ---------------------------------------------------------


def test_an_idle_api_session_gets_401_json(client, login_as):
    login_as("entity_operator")
    assert client.get("/api/hsds/services").status_code == 200
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 31 * 60
    response = client.get("/api/hsds/services")
    assert response.status_code == 401
    assert response.is_json
    assert "accedi" in response.get_json()["error"]
    assert client.get("/api/hsds/services").status_code == 401  # the login is over


# Item 13: the login throttle shared by the processes -----------------------------------------


def test_two_app_processes_share_the_login_failure_count(app, client, db, database_uri):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per minute"
    try:
        user = factories.user()
        _db.session.commit()
        for _ in range(3):
            assert post_login(client, user.username, WRONG).status_code == 422
        status, retry_after = in_another_process(
            database_uri,
            f"""
            response = post("/login", username={user.username!r}, password={factories.PASSWORD!r})
            print(json.dumps([response.status_code, response.headers.get("Retry-After")]))
            """,
            LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
        )
        assert status == 429
        assert 0 < int(retry_after) <= 60
        assert actions("login_throttled")[0].changes == {
            "username": user.username,
            "scope": "account",
        }
        assert client.get("/").status_code == 303
    finally:
        app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "10000 per minute"


# Item 13: password strength --------------------------------------------------------------------


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "bftestbftest", "qwertyuiop12345"])
def test_easily_guessed_passwords_are_refused(client, login_as, password):
    user = login_as("coordinator")
    response = change(client, factories.PASSWORD, password)
    assert response.status_code == 422
    error = new_password_error(response)
    assert "si indovina troppo facilmente" in error or "tra le più usate" in error
    assert _db.session.get(User, user.id).password_hash == user.password_hash


def test_the_users_own_name_makes_a_password_weak(client, login_as):
    login_as("coordinator", username="mbianchi", full_name="Marco Bianchi")
    response = change(client, factories.PASSWORD, "mbianchi2026!")
    assert response.status_code == 422
    assert "si indovina troppo facilmente" in new_password_error(response)


def test_the_demo_password_is_refused_outside_the_demo(client, login_as, app):
    login_as("coordinator")
    demo = app.config["DEMO_PASSWORD"]
    response = change(client, factories.PASSWORD, demo)
    assert response.status_code == 422
    assert "dimostrazione" in new_password_error(response)
    set_setting("demo_data", True)
    _db.session.commit()
    assert change(client, factories.PASSWORD, demo).status_code == 303
