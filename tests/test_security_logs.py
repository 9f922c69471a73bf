"""No personal data or secret in the application logs; failed logins are audit events.

The test runs the actions that handle secrets and codici fiscali (a wrong and a right login, a
two-factor login, a household intake, searches by codice fiscale, an error in a request) with
every logger of the application, Flask and Werkzeug capturing at DEBUG, and scans what they
wrote. SQLAlchemy's own loggers keep the level SQLAlchemy gives them (WARNING): its SQL echo is a
developer switch that prints parameters by design, and the portal never turns it on.
"""

from __future__ import annotations

import logging
import re
from datetime import date

import pyotp
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.sealing import seal
from app.extensions import db as _db
from tests import factories
from tests.conftest import csrf_token_from
from tests.test_security_headers import assert_security_headers
from tests.test_security_input import form_on

# A personal codice fiscale, omocodia letters included.
CF_RE = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]",
    re.IGNORECASE,
)
WRONG_PASSWORD = "password-sbagliata-di-prova-42"
LOGGERS = ("", "werkzeug", "flask", "flask.app", "app", "flask_wtf", "flask_login", "flask_limiter")


@pytest.fixture
def logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)

    def text() -> str:
        lines = []
        for record in caplog.records:
            lines.append(record.getMessage())
            lines.append(repr(record.args))
            if record.exc_info:
                lines.append(logging.Formatter().formatException(record.exc_info))
            if record.exc_text:
                lines.append(record.exc_text)
        return "\n".join(lines)

    return text


def _login(client, username: str, password: str):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def _session_cookie(client) -> str:
    cookie = client.get_cookie("reti_session")
    assert cookie is not None
    return cookie.value


def test_no_codice_fiscale_password_totp_code_or_cookie_in_the_logs(app, client, db, logs):
    hub = factories.organization(is_hub=True)
    factories.site(hub, is_hub=True)
    operator = factories.user(role="entity_operator", organization=hub)
    secret = pyotp.random_base32()
    coordinator = factories.user(role="coordinator", totp_secret=seal(secret))
    _db.session.commit()
    secrets: list[str] = [WRONG_PASSWORD, factories.PASSWORD]

    # A wrong password, for a real account and for an unknown one; then the right one.
    assert _login(client, operator.username, WRONG_PASSWORD).status_code == 422
    assert _login(client, "nessuno-" + WRONG_PASSWORD, WRONG_PASSWORD).status_code == 422
    assert _login(client, operator.username, factories.PASSWORD).status_code == 303
    secrets.append(_session_cookie(client))

    # A household taken in charge, with the codice fiscale of its reference person.
    code = factories.codice_fiscale(date(1985, 3, 12), "F")
    page = client.get("/households/new").get_data(as_text=True)
    secrets.append(csrf_token_from(page))
    fields = form_on(page, "/households/new", "/households/new")
    fields.update(
        {
            "csrf_token": [csrf_token_from(page)],
            "address": ["Via Garibaldi 1"],
            "circoscrizione": ["1"],
            "needs": ["work"],
            "members-0-first_name": ["Maria"],
            "members-0-last_name": ["Rossi"],
            "members-0-codice_fiscale": [code],
            "members-0-birth_date": ["1985-03-12"],
            "members-0-sex": ["F"],
            "privacy_notice_given": ["y"],
        }
    )
    response = client.post("/households/new", data=fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    detail = client.get(response.headers["Location"])
    assert code in detail.get_data(as_text=True)

    # Searches by codice fiscale, a mistyped one too.
    client.get(f"/households/?q={code}")
    client.get(f"/distributions/find?q={code}")
    client.get(f"/distributions/find?q={code.lower()}", headers={"HX-Request": "true"})
    # An error in a request that carries one (the form is refused, not logged).
    client.post("/households/joint-care", data={"codice_fiscale": code})
    client.post("/logout", data={"csrf_token": csrf_token_from(detail.get_data(as_text=True))})

    # Two-factor login of a coordinator: a wrong code, then the right one.
    assert _login(client, coordinator.username, factories.PASSWORD).status_code == 303
    token = csrf_token_from(client.get("/login/2fa").get_data(as_text=True))
    totp = pyotp.TOTP(secret)
    wrong = f"{(int(totp.now()) + 500_000) % 1_000_000:06d}"
    client.post("/login/2fa", data={"code": wrong, "csrf_token": token})
    right = totp.now()
    assert client.post("/login/2fa", data={"code": right, "csrf_token": token}).status_code == 303
    secrets += [secret, right, _session_cookie(client)]

    captured = logs()
    found = CF_RE.findall(captured)
    assert not found, f"codici fiscali nei log: {found}"
    for value in secrets:
        assert value not in captured, f"un segreto nei log: {value[:6]}…"
    assert wrong not in captured


def test_a_failing_request_shows_the_error_page_and_logs_no_personal_data(database_uri, db, caplog):
    """An unexpected error: the Italian error page, with every security header and nothing of
    the form; and the one thing the portal does log, its traceback, not the form."""
    from app import create_app
    from app.config import TestConfig

    caplog.set_level(logging.DEBUG)
    other = create_app(TestConfig(database_uri))
    other.config["PROPAGATE_EXCEPTIONS"] = False
    code = factories.codice_fiscale()

    @other.post("/_guasto")
    def broken():
        raise RuntimeError("guasto simulato")

    other.config["WTF_CSRF_ENABLED"] = False
    response = other.test_client().post(
        "/_guasto", data={"codice_fiscale": code, "password": WRONG_PASSWORD}
    )
    with other.app_context():
        _db.engine.dispose()
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Errore del sistema" in page
    assert code not in page
    assert WRONG_PASSWORD not in page
    assert "guasto simulato" not in page  # the traceback stays in the log
    assert_security_headers(response)
    assert any("guasto simulato" in (r.exc_text or str(r.exc_info)) for r in caplog.records)
    captured = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.exc_info or ''}" for r in caplog.records
    )
    assert code not in captured
    assert WRONG_PASSWORD not in captured


def _actions(name: str) -> list[AuditEvent]:
    return list(_db.session.scalars(select(AuditEvent).where(AuditEvent.action == name)))


def test_a_failed_login_is_an_audit_event_without_the_password(client, db):
    operator = factories.user(role="entity_operator")
    _db.session.commit()
    _login(client, operator.username, WRONG_PASSWORD)
    _login(client, "sconosciuto", WRONG_PASSWORD)
    events = _actions("login_failed")
    assert len(events) == 2
    assert {e.changes["username"] for e in events} == {operator.username, "sconosciuto"}
    for event in events:
        assert WRONG_PASSWORD not in repr(event.changes)
        assert factories.PASSWORD not in repr(event.changes)
