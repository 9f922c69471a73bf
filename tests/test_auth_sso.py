"""Single sign-on (issue #23) against a real OpenID provider on loopback, not a mock.

The provider is npm's oidc-provider (certified), run by Node from tests/oidc/ (`make
oidc-provider` installs it); the tests go through its own login page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import config as settings
from app import create_app
from app.admin.models import AccountChangeRequest
from app.audit.models import AuditEvent
from app.auth.models import Role, SsoIdentity, User
from app.extensions import db as _db
from tests import factories
from tests.conftest import CHEAP_HASH, IsolatedClient, csrf_token_from
from tests.oidc import launcher
from tests.worlds import signed_in

pytestmark = pytest.mark.skipif(launcher.NODE is None, reason="node is not installed")

CALLBACKS = [
    "http://localhost/login/sso/city/callback",
    "http://localhost/login/sso/spid/callback",
]
AFTER_LOGOUT = ["http://localhost/login"]
ACCOUNTS: dict[str, dict[str, object]] = {
    "mrossi": {"email": "mario.rossi@comune.torino.it", "name": "Mario Rossi"},
    "lbianchi": {"email": "laura.bianchi@comune.torino.it", "name": "Laura Bianchi"},
    "sconosciuta": {"email": "nessuno@example.org", "name": "Nessuno"},
    "spid-verdi": {"fiscal_number": "TINIT-VRDGPP80A01L219M", "name": "Giuseppe Verdi"},
    # Logs in at the City's provider with a one-time code (amr) or at SPID level 2 (acr).
    "gneri-otp": {"email": "giulia.neri@comune.torino.it", "name": "Giulia Neri", "amr": ["otp"]},
    "spid-l2": {
        "fiscal_number": "TINIT-BNCLRA85M41L219K",
        "name": "Laura Bianco",
        "acr": "https://www.spid.gov.it/SpidL2",
    },
}


@pytest.fixture(scope="module")
def city() -> Iterator[launcher.RunningProvider]:
    with launcher.provider(ACCOUNTS, CALLBACKS, AFTER_LOGOUT) as running:
        yield running


@pytest.fixture(scope="module")
def spid() -> Iterator[launcher.RunningProvider]:
    with launcher.provider(ACCOUNTS, CALLBACKS, AFTER_LOGOUT) as running:
        yield running


def _sso_app(database_uri: str, issuer: str, spid_issuer: str | None = None) -> Flask:
    config = settings.TestConfig(database_uri)
    config.PASSWORD_HASH_PARAMS = CHEAP_HASH  # type: ignore[attr-defined]
    config.OIDC_ISSUER = issuer  # type: ignore[assignment]
    config.OIDC_CLIENT_ID = launcher.CLIENT_ID  # type: ignore[assignment]
    config.OIDC_CLIENT_SECRET = launcher.CLIENT_SECRET  # type: ignore[assignment]
    config.OIDC_SPID_ISSUER = spid_issuer  # type: ignore[assignment]
    application = create_app(config)
    application.test_client_class = IsolatedClient
    return application


@contextmanager
def disposed(application: Flask) -> Iterator[Flask]:
    """An application of its own for a test: its database connections closed afterwards."""
    try:
        yield application
    finally:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture(scope="module")
def sso_app(
    app: Flask, database_uri: str, city: launcher.RunningProvider, spid: launcher.RunningProvider
) -> Iterator[Flask]:
    with disposed(_sso_app(database_uri, city.issuer, spid.issuer)) as application:
        yield application


@pytest.fixture
def portal(sso_app: Flask, db: object) -> Iterator[FlaskClient]:
    with sso_app.app_context():
        yield sso_app.test_client()
        _db.session.remove()


def account(role: Role = Role.COORDINATOR, **fields: Any) -> User:
    user = factories.user(role, **fields)
    _db.session.commit()
    return user


def start(portal: FlaskClient, provider: str = "city") -> str:
    response = portal.get(f"/login/sso/{provider}")
    assert response.status_code == 302
    return response.headers["Location"]


def sso_login(
    portal: FlaskClient, login: str, provider: str = "city"
) -> tuple[Any, launcher.ProviderBrowser]:
    browser = launcher.ProviderBrowser()
    callback = browser.login(start(portal, provider), login)
    return portal.get(launcher.path_of(callback)), browser


def refusals(reason_part: str = "") -> list[AuditEvent]:
    events = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sso_login_failed")
    ).all()
    return [e for e in events if reason_part in str((e.changes or {}).get("reason", ""))]


def test_login_page_offers_the_city_account_first_then_spid(portal: FlaskClient) -> None:
    page = portal.get("/login").get_data(as_text=True)
    city_button = page.index("Accedi con l'account della Città")
    spid_button = page.index("Entra con SPID / CIE")
    password_form = page.index('name="password"')
    assert city_button < spid_button < password_form


def test_login_through_the_city_provider(portal: FlaskClient) -> None:
    user = account(email="Mario.Rossi@comune.torino.it", must_change_password=True)
    response, _ = sso_login(portal, "mrossi")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = portal.get("/")
    assert home.status_code == 200  # no password change asked: no password was used
    assert user.full_name in home.get_data(as_text=True)
    identity = _db.session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == user.id))
    assert identity is not None
    assert identity.subject == "mrossi"
    assert identity.last_login_at is not None
    login = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "login", AuditEvent.object_id == user.id)
    )
    assert login is not None
    assert login.changes["method"] == "sso:city"


def test_spid_links_by_the_fiscal_number_without_its_prefix(portal: FlaskClient) -> None:
    org = factories.organization(is_job_service=True)
    user = account(Role.ENTITY_OPERATOR, organization=org, fiscal_code="VRDGPP80A01L219M")
    response, _ = sso_login(portal, "spid-verdi", provider="spid")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    identity = _db.session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == user.id))
    assert identity is not None
    assert identity.provider == "spid"


def test_unknown_identity_is_refused_with_a_message_and_audited(portal: FlaskClient) -> None:
    account(email="mario.rossi@comune.torino.it")
    response, _ = sso_login(portal, "sconosciuta")
    assert response.headers["Location"] == "/login"
    page = portal.get("/login").get_data(as_text=True)
    assert "non corrisponde a nessun account del portale" in page
    assert portal.get("/").status_code in (302, 303)  # not logged in
    assert len(refusals("unknown_identity")) == 1
    assert _db.session.scalar(select(SsoIdentity)) is None  # nothing created


def test_disabled_account_is_refused_even_though_the_provider_says_yes(
    portal: FlaskClient,
) -> None:
    account(email="mario.rossi@comune.torino.it", active=False)
    response, _ = sso_login(portal, "mrossi")
    assert response.headers["Location"] == "/login"
    assert "non è attivo" in portal.get("/login").get_data(as_text=True)
    assert portal.get("/").status_code in (302, 303)
    assert len(refusals("disabled")) == 1


def test_tampered_state_is_refused(portal: FlaskClient) -> None:
    account(email="mario.rossi@comune.torino.it")
    browser = launcher.ProviderBrowser()
    callback = browser.login(start(portal), "mrossi")
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    state = query["state"][0]
    query["state"] = [state[:-1] + ("A" if state[-1] != "A" else "B")]
    tampered = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    response = portal.get(launcher.path_of(tampered))
    assert response.headers["Location"] == "/login"
    assert "risposta del servizio di accesso non è valida" in portal.get("/login").get_data(
        as_text=True
    )
    assert portal.get("/").status_code in (302, 303)
    assert len(refusals("MismatchingState")) == 1


def test_replayed_code_is_refused(portal: FlaskClient) -> None:
    user = account(email="mario.rossi@comune.torino.it")
    browser = launcher.ProviderBrowser()
    start_url = start(portal)
    state_keys = {k: v for k, v in _session(portal).items() if k.startswith("_state_")}
    callback = browser.login(start_url, "mrossi")
    assert portal.get(launcher.path_of(callback)).headers["Location"] == "/"
    portal.post("/logout", data={"csrf_token": csrf_token_from(portal.get("/").text)})
    # An attacker who saw the callback URL, and the state kept in the session, replays both.
    with portal.session_transaction() as session:
        session.update(state_keys)
    response = portal.get(launcher.path_of(callback))
    assert response.headers["Location"] == "/login"
    assert portal.get("/").status_code in (302, 303)
    assert len(refusals("invalid_grant")) == 1
    logins = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login", AuditEvent.object_id == user.id)
    ).all()
    assert len(logins) == 1


def _session(portal: FlaskClient) -> dict[str, Any]:
    with portal.session_transaction() as session:
        return dict(session)


def test_wrong_nonce_is_refused(portal: FlaskClient) -> None:
    account(email="mario.rossi@comune.torino.it")
    parts = urlsplit(start(portal))
    query = parse_qs(parts.query)
    query["nonce"] = ["un-altro-nonce-che-il-portale-non-ha-chiesto"]
    authorize = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    callback = launcher.ProviderBrowser().login(authorize, "mrossi")
    response = portal.get(launcher.path_of(callback))
    assert response.headers["Location"] == "/login"
    assert portal.get("/").status_code in (302, 303)
    assert len(refusals("nonce")) == 1


def test_id_token_signed_by_another_key_is_refused(
    app: Flask, database_uri: str, db: object
) -> None:
    # The provider sits behind a proxy that signs its ID tokens again with another key.
    with launcher.ResigningProxy() as proxy:
        issuer = f"http://127.0.0.1:{proxy.port}"
        with launcher.provider(ACCOUNTS, CALLBACKS, AFTER_LOGOUT, issuer=issuer) as upstream:
            proxy.upstream_port = upstream.port
            with disposed(_sso_app(database_uri, issuer)) as application, application.app_context():
                portal = application.test_client()
                account(email="mario.rossi@comune.torino.it")
                response, _ = sso_login(portal, "mrossi")
                assert response.headers["Location"] == "/login"
                assert portal.get("/").status_code in (302, 303)
                assert len(refusals("BadSignature")) == 1
                _db.session.remove()


def test_expired_id_token_is_refused(app: Flask, database_uri: str, db: object) -> None:
    # A provider whose clock is two hours behind: its ID tokens expired an hour ago.
    with (
        launcher.provider(ACCOUNTS, CALLBACKS, AFTER_LOGOUT, clock_offset=-7200) as late,
        disposed(_sso_app(database_uri, late.issuer)) as application,
        application.app_context(),
    ):
        portal = application.test_client()
        account(email="mario.rossi@comune.torino.it")
        response, _ = sso_login(portal, "mrossi")
        assert response.headers["Location"] == "/login"
        assert portal.get("/").status_code in (302, 303)
        assert len(refusals("Expired")) == 1
        _db.session.remove()


def test_logout_ends_the_portal_session_and_the_providers(
    portal: FlaskClient, city: launcher.RunningProvider
) -> None:
    account(email="mario.rossi@comune.torino.it")
    response, browser = sso_login(portal, "mrossi")
    assert response.headers["Location"] == "/"
    old_cookie = portal.get_cookie("reti_session")
    assert old_cookie is not None
    logout = portal.post("/logout", data={"csrf_token": csrf_token_from(portal.get("/").text)})
    assert logout.status_code == 303
    end_session = logout.headers["Location"]
    assert "id_token_hint=" in end_session
    assert end_session.startswith(city.issuer + "/")
    # The provider asks to confirm; then it sends the browser back to the portal's login.
    page = browser.follow(end_session)
    back = browser.submit(page, end_session, {"logout": "yes"})
    assert back.startswith("http://localhost/login")
    # The copy of the old cookie is worthless, and the provider asks for the login again.
    portal.set_cookie("reti_session", old_cookie.value, domain="localhost")
    assert portal.get("/").status_code in (302, 303)
    again = browser.follow(start(portal))
    assert not again.startswith("http://localhost/")
    assert 'name="login"' in again


def test_portal_totp_still_asked_when_the_provider_gave_no_second_factor(
    portal: FlaskClient,
) -> None:
    import pyotp

    from app.auth.sealing import seal

    secret = pyotp.random_base32()
    user = account(email="laura.bianchi@comune.torino.it", totp_secret=seal(secret))
    response, _ = sso_login(portal, "lbianchi")
    assert response.headers["Location"] == "/login/2fa"
    assert portal.get("/").status_code in (302, 303)  # not in yet
    page = portal.get("/login/2fa").get_data(as_text=True)
    done = portal.post(
        "/login/2fa",
        data={"csrf_token": csrf_token_from(page), "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 303
    assert done.headers["Location"] == "/"
    assert portal.get("/").status_code == 200
    login = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "login", AuditEvent.object_id == user.id)
    )
    assert login is not None
    assert login.changes["method"] == "sso:city"
    assert login.changes["second_factor"] is True


@pytest.mark.parametrize(
    ("login", "provider", "fields"),
    [
        ("gneri-otp", "city", {"email": "giulia.neri@comune.torino.it"}),
        ("spid-l2", "spid", {"fiscal_code": "BNCLRA85M41L219K"}),
    ],
)
def test_second_factor_given_at_the_provider_is_not_asked_again(
    portal: FlaskClient, login: str, provider: str, fields: dict[str, str]
) -> None:
    import pyotp

    from app.auth.sealing import seal

    user = account(totp_secret=seal(pyotp.random_base32()), **fields)
    response, _ = sso_login(portal, login, provider=provider)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"  # straight in, no /login/2fa
    assert portal.get("/").status_code == 200
    login_event = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "login", AuditEvent.object_id == user.id)
    )
    assert login_event is not None
    assert login_event.changes["second_factor_at_provider"] is True
    assert "second_factor" not in login_event.changes


def test_city_staff_without_a_second_factor_anywhere_must_enrol_the_portals(
    portal: FlaskClient, sso_app: Flask
) -> None:
    account(email="laura.bianchi@comune.torino.it")
    account(email="giulia.neri@comune.torino.it")
    sso_app.config["TOTP_REQUIRED_FOR_CITY"] = True
    try:
        sso_login(portal, "lbianchi")  # the provider asked for no second factor
        home = portal.get("/")
        assert home.status_code == 303
        assert home.headers["Location"] == "/account/2fa"
        other = sso_app.test_client()
        sso_login(other, "gneri-otp")  # a one-time code at the provider
        assert other.get("/").status_code == 200
    finally:
        sso_app.config["TOTP_REQUIRED_FOR_CITY"] = False


def test_login_events_read_in_italian_on_the_audit_page(portal: FlaskClient) -> None:
    from app.audit.format import change_text, field_label

    account(email="laura.bianchi@comune.torino.it")
    sso_login(portal, "lbianchi")
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login"))
    assert event is not None
    shown = {field_label(k): change_text(k, v, event.object_type) for k, v in event.changes.items()}
    assert shown["Modalità di accesso"] == "account della Città"
    assert field_label("reason") == "Motivo"
    assert change_text("reason", "wrong_password", "user_account") == "password errata"


def test_without_settings_the_login_page_has_no_sso(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Accedi con l'account della Città" not in page
    assert client.get("/login/sso/city").status_code == 404
    assert client.get("/login/sso/city/callback?code=x&state=y").status_code == 404


def test_admin_sees_linked_accounts_and_unlinks_one(portal: FlaskClient, sso_app: Flask) -> None:
    user = account(email="mario.rossi@comune.torino.it")
    username = user.username
    sso_login(portal, "mrossi")
    admin = signed_in(sso_app, account(Role.ADMIN, username="amministratrice"))
    listing = admin.get("/admin/sso")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert user.username in text
    assert "Account della Città" in text
    identity = _db.session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == user.id))
    assert identity is not None
    identity_id = identity.id
    # Without the form's token nothing happens.
    assert admin.post(f"/admin/sso/{identity_id}/unlink").status_code == 400
    assert _db.session.get(SsoIdentity, identity_id) is not None
    done = admin.post(
        f"/admin/sso/{identity_id}/unlink", data={"csrf_token": csrf_token_from(text)}
    )
    assert done.status_code == 303
    _db.session.expunge_all()
    assert _db.session.get(SsoIdentity, identity_id) is None
    after = admin.get("/admin/sso").get_data(as_text=True)
    assert f"Identità scollegata dall&#39;account {username}." in after
    assert "Nessuna identità collegata." in after
    unlinked = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sso_unlinked"))
    assert unlinked is not None
    assert unlinked.changes["provider"] == "city"


def test_admin_sets_the_fiscal_code_that_spid_links_by(portal: FlaskClient, sso_app: Flask) -> None:
    org = factories.organization(is_job_service=True)
    user = account(Role.ENTITY_OPERATOR, organization=org)
    admin = signed_in(sso_app, account(Role.ADMIN, username="amministratrice"))
    form = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    values = {
        "csrf_token": csrf_token_from(form),
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "organization_id": str(org.id),
    }
    bad = admin.post(f"/admin/users/{user.id}", data={**values, "fiscal_code": "RSSMRA"})
    assert bad.status_code == 422
    assert "Codice fiscale non valido" in bad.get_data(as_text=True)
    asked = admin.post(
        f"/admin/users/{user.id}", data={**values, "fiscal_code": "tinit-vrdgpp80a01l219m"}
    )
    assert asked.status_code == 303
    # Whoever sets the codice fiscale chooses who logs in with SPID: a coordinator confirms it.
    assert "chiesto ai coordinatori" in admin.get(asked.headers["Location"]).get_data(as_text=True)
    _db.session.refresh(user)
    assert user.fiscal_code is None
    refused, _ = sso_login(portal, "spid-verdi", provider="spid")
    assert refused.headers["Location"] == "/login"
    change = _db.session.scalar(select(AccountChangeRequest))
    assert change is not None
    assert change.requested_values["fiscal_code"] == "VRDGPP80A01L219M"
    city = signed_in(sso_app, account(Role.COORDINATOR, username="coordinatrice"))
    request_page = city.get(f"/admin/requests/{change.id}").get_data(as_text=True)
    assert "VRDGPP80A01L219M" in request_page
    confirmed = city.post(
        f"/admin/requests/{change.id}/confirm", data={"csrf_token": csrf_token_from(request_page)}
    )
    assert confirmed.status_code in (200, 303)
    _db.session.refresh(user)
    assert user.fiscal_code == "VRDGPP80A01L219M"
    response, _ = sso_login(portal, "spid-verdi", provider="spid")
    assert response.headers["Location"] == "/"


def test_admin_cannot_point_a_coordinators_email_at_its_own_city_identity(
    portal: FlaskClient, sso_app: Flask
) -> None:
    coordinator = account(email="chiara.coordinatrice@comune.torino.it")
    admin = signed_in(sso_app, account(Role.ADMIN, username="amministratrice"))
    form = admin.get(f"/admin/users/{coordinator.id}").get_data(as_text=True)
    answer = admin.post(
        f"/admin/users/{coordinator.id}",
        data={
            "csrf_token": csrf_token_from(form),
            "full_name": "Chiara C.",
            "email": "mario.rossi@comune.torino.it",  # the admin's own identity at the City
            "role": coordinator.role,
            "organization_id": "",
        },
    )
    assert answer.status_code == 303
    _db.session.refresh(coordinator)
    assert coordinator.full_name == "Chiara C."  # not a login identity: changed at once
    assert coordinator.email == "chiara.coordinatrice@comune.torino.it"
    refused, _ = sso_login(portal, "mrossi")
    assert refused.headers["Location"] == "/login"
    assert _db.session.scalar(select(SsoIdentity)) is None
