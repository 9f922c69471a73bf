"""The security headers are on every kind of response: pages, errors, static files, JSON."""

from __future__ import annotations

import pytest

from app.extensions import db as _db
from tests import factories
from tests.conftest import csrf_token_from

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)


def assert_security_headers(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    csp = response.headers.get("Content-Security-Policy", "")
    directives = [d.strip() for d in csp.split(";")]
    for directive in CSP_DIRECTIVES:
        assert directive in directives, (directive, csp)
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp


def test_a_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert_security_headers(response)


def test_a_logged_in_page_is_never_cached(client, login_as):
    login_as("coordinator")
    response = client.get("/")
    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_404(client, login_as, htmx):
    login_as("coordinator")
    headers = {"HX-Request": "true", "HX-Request-Type": "partial"} if htmx else {}
    response = client.get("/households/999999", headers=headers)
    assert response.status_code == 404
    assert_security_headers(response)


def test_an_anonymous_404(client):
    response = client.get("/non-esiste")
    assert response.status_code == 404
    assert_security_headers(response)


def test_a_403(client, login_as):
    login_as("entity_operator")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert_security_headers(response)


def test_a_405(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert_security_headers(response)


def test_a_csrf_400(client):
    response = client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert_security_headers(response)


def test_a_413(client):
    response = client.post("/login", data={"username": "x" * (5 * 1024 * 1024)})
    assert response.status_code == 413
    assert_security_headers(response)


def test_a_409(client, login_as):
    """A refused transition (the domain error handler): anonymising an active household."""
    org = factories.organization(is_hub=True)
    household = factories.household(org)
    _db.session.commit()
    login_as("coordinator")
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post(f"/households/{household.id}/anonymise", data={"csrf_token": token})
    assert response.status_code == 409
    assert_security_headers(response)


# A 500 (an unexpected error): its Italian page and headers are checked with its log, in
# test_security_logs.test_a_failing_request_shows_the_error_page_and_logs_no_personal_data.


@pytest.mark.parametrize(
    "path", ["/static/css/app.css", "/static/js/app.js", "/static/vendor/htmx/htmx.min.js"]
)
def test_a_static_file(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_security_headers(response)
    response.close()


def test_a_missing_static_file(client):
    response = client.get("/static/css/non-esiste.css")
    assert response.status_code == 404
    assert_security_headers(response)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert_security_headers(response)


def test_an_api_json_response(client, login_as):
    login_as("coordinator")
    response = client.get("/api/hsds/organizations")
    assert response.status_code == 200
    assert response.is_json
    assert_security_headers(response)


def test_an_api_json_error(client, login_as):
    login_as("coordinator")
    response = client.get("/api/hsds/organizations/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.is_json
    assert_security_headers(response)


def test_an_api_401(client):
    response = client.get("/api/hsds/organizations")
    assert response.status_code == 401
    assert_security_headers(response)


def test_a_redirect(client):
    response = client.get("/")
    assert response.status_code == 303
    assert_security_headers(response)
