"""Each demo account logs in through a real OpenID provider's login page, and out again.

The provider is npm's oidc-provider on loopback (tests/oidc/); the portal's pages pass axe.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import config as settings
from app import create_app
from app.extensions import db as _db
from tests.browser.conftest import assert_accessible
from tests.conftest import CHEAP_HASH, _truncate, load_demo
from tests.oidc import launcher

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(launcher.NODE is None, reason="node is not installed"),
]

DEMO = {
    "admin": "Alessandro Amministratore",
    "coordinatore": "Chiara Coordinatrice",
    "ente1": "Elena Operatrice",
    "ente2": "Enrico Operatore",
    "alloggi1": "Anna Gestrice Alloggi",
}


@pytest.fixture(scope="module")
def live_server(app: Flask, database_uri: str) -> Iterator[str]:
    """The portal with the demo data and single sign-on through the test provider."""
    port = launcher.free_port()
    base = f"http://127.0.0.1:{port}"
    accounts: dict[str, dict[str, object]] = {
        name: {"email": f"{name}@demo.reti-inclusione.torino.it", "name": full}
        for name, full in DEMO.items()
    }
    with launcher.provider(
        accounts, [f"{base}/login/sso/city/callback"], [f"{base}/login"]
    ) as running:
        config = settings.TestConfig(database_uri)
        config.PASSWORD_HASH_PARAMS = CHEAP_HASH  # type: ignore[attr-defined]
        config.OIDC_ISSUER = running.issuer  # type: ignore[assignment]
        config.OIDC_CLIENT_ID = launcher.CLIENT_ID  # type: ignore[assignment]
        config.OIDC_CLIENT_SECRET = launcher.CLIENT_SECRET  # type: ignore[assignment]
        portal = create_app(config)
        with portal.app_context():
            _truncate()
            load_demo()
            _db.session.remove()
        server = make_server("127.0.0.1", port, portal, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield base
        server.shutdown()
        thread.join(timeout=10)
        with portal.app_context():
            _db.session.remove()
            _truncate()
            _db.engine.dispose()


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[object]:
    """A tab as in tests/browser/conftest.py; only the portal's own pages must have no errors.

    The test provider's login page asks for fonts on the internet, which this machine lacks.
    """
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=live_server, locale="it-IT", timezone_id="Europe/Rome"
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []

    def on_error(text: str) -> None:
        if tab.url.startswith(live_server):
            errors.append(text)

    tab.on("pageerror", lambda exc: on_error(str(exc)))
    tab.on("console", lambda msg: on_error(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    assert not errors, f"errori JavaScript o CSP nelle pagine del portale: {errors}"


@pytest.mark.parametrize("username", list(DEMO))
def test_demo_account_logs_in_through_the_city_provider_and_out(page, live_server, username):
    page.goto("/login")
    assert_accessible(page, "login-sso")
    page.get_by_role("link", name="Accedi con l'account della Città").click()
    # The provider's own login page.
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill("qualunque")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Buongiorno, {DEMO[username]}"
    assert_accessible(page, f"home-sso-{username}")
    page.get_by_role("button", name="Esci").click()
    # The provider asks to confirm the end of its session, then sends the browser back. (Wait
    # for its page: the portal's own page has submit buttons too, «Esci» among them.)
    page.wait_for_url(lambda url: not url.startswith(live_server))
    page.locator("button[autofocus], button[type=submit]").first.click()
    page.wait_for_url("**/login")
    assert "Sei uscita/o dal portale." in page.locator("main").inner_text()
    page.goto("/")
    page.wait_for_url(re.compile(r"/login"))
    # A new single sign-on asks the provider's login again: its session is over too.
    page.get_by_role("link", name="Accedi con l'account della Città").click()
    assert page.locator("input[name=login]").is_visible()
