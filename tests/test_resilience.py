"""A save that meets an expired session or form token keeps the page and says what to do;
static files travel compressed and stay cached until they change."""

from __future__ import annotations

import gzip
import re
import time

from tests import factories
from tests.conftest import csrf_token_from

HTMX_POST = {"HX-Request": "true", "HX-Current-URL": "http://localhost/account"}


def password_change(token: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "current_password": "sbagliata-di-proposito",
        "new_password": "una-nuova-password-lunga",
        "confirm_password": "una-nuova-password-lunga",
    }


def test_an_htmx_save_after_the_idle_timeout_keeps_the_page_and_offers_a_new_login(
    client, login_as
):
    login_as("coordinator")
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 31 * 60

    response = client.post("/account", data=password_change(token), headers=HTMX_POST)

    assert response.status_code == 401
    assert "HX-Redirect" not in response.headers  # leaving would lose what was typed
    assert response.headers["HX-Retarget"] == "#messages"
    assert response.headers["X-Session-Expired"] == "1"
    text = response.get_data(as_text=True)
    assert "La sessione è scaduta" in text
    assert "ancora qui" in text
    link = re.search(r'href="([^"]+)" target="_blank"', text)
    assert link
    assert link.group(1).startswith("/login?next=")
    # The login is really over: the next page asks for it.
    assert client.get("/account").status_code == 303


def test_after_logging_in_again_the_page_gets_a_token_that_saves(client, login_as, db):
    user = login_as("coordinator")
    old_token = csrf_token_from(client.get("/account").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": old_token})
    assert client.get("/account/csrf-token").status_code == 401

    client.post(
        "/login",
        data={
            "csrf_token": csrf_token_from(client.get("/login").get_data(as_text=True)),
            "username": user.username,
            "password": factories.PASSWORD,
        },
    )
    stale = client.post("/account", data=password_change(old_token), headers=HTMX_POST)
    assert stale.status_code == 400
    assert stale.headers["X-CSRF-Expired"] == "1"
    assert "premi di nuovo il pulsante" in stale.get_data(as_text=True)

    fresh = client.get("/account/csrf-token")
    assert fresh.status_code == 200
    assert fresh.headers["Cache-Control"] == "no-store"
    token = fresh.get_json()["csrf_token"]
    saved = client.post("/account", data=password_change(token), headers=HTMX_POST)
    assert saved.status_code == 422  # the form was read: its wrong password is the answer
    assert "La password attuale non è corretta." in saved.get_data(as_text=True)


def test_a_reading_htmx_request_after_the_timeout_still_goes_to_the_login(client, login_as):
    login_as("coordinator")
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 31 * 60
    response = client.get("/households/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_static_urls_carry_the_content_version_and_are_cached_for_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    url = re.search(r'src="(/static/js/app\.js\?v=[0-9a-f]{12})"', page)
    assert url, "app.js is linked without its version"
    response = client.get(url.group(1))
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_static_files_are_sent_compressed_to_browsers_that_accept_it(client):
    plain = client.get("/static/vendor/bootstrap-italia/dist/css/bootstrap-italia.min.css")
    body = plain.get_data()
    plain.close()
    response = client.get(
        "/static/vendor/bootstrap-italia/dist/css/bootstrap-italia.min.css",
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.headers.get("Content-Encoding") == "gzip", "run `make static` first"
    compressed = response.get_data()
    response.close()
    assert len(compressed) < len(body) / 3
    assert gzip.decompress(compressed) == body
