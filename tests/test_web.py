"""The web layer: security headers, health check, Italian error pages, htmx answers, formats."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.admin.models import set_setting
from app.extensions import db as _db
from app.web.formatting import datetime_attribute, format_date, format_datetime, format_money
from app.web.views import safe_next

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_of_a_logged_in_user_are_never_cached(client, login_as):
    login_as("coordinator")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_lax(client, login_as):
    login_as("coordinator")
    cookie = client.get_cookie("reti_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_healthz_answers_with_the_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_unknown_url_is_the_italian_404_page(client, login_as):
    login_as("coordinator")
    response = client.get("/non-esiste")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Pagina non trovata" in body
    assert "<html" in body


def test_htmx_404_is_an_alert_in_the_message_area(client, login_as):
    login_as("admin")
    response = client.get("/admin/users/999999", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in body
    assert "Pagina non trovata" in body


def test_forbidden_area_is_the_italian_403_page(client, login_as):
    login_as("entity_operator")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "Accesso non consentito" in response.get_data(as_text=True)


def test_demo_banner_appears_only_on_demo_data(client, db):
    assert "Ambiente dimostrativo" not in client.get("/login").get_data(as_text=True)
    set_setting("demo_data", True)
    _db.session.commit()
    assert "Ambiente dimostrativo" in client.get("/login").get_data(as_text=True)


def test_navigation_shows_each_role_only_its_areas(client, login_as):
    login_as("entity_operator")
    body = client.get("/").get_data(as_text=True)
    assert 'href="/admin/"' not in body


def test_language_switch_to_english_and_back(client, login_as):
    from tests.conftest import csrf_token_from

    login_as("coordinator")
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": token})
    body = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "Hello," in body
    token = csrf_token_from(body)
    client.post("/lingua", data={"lang": "it", "next": "/", "csrf_token": token})
    assert "Buongiorno," in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.56"), "€ 1.234,56"),
        (Decimal("0"), "€ 0,00"),
        (Decimal("5657142.86"), "€ 5.657.142,86"),
        (Decimal("-12.5"), "-€ 12,50"),
        (123456, "€ 123.456,00"),
    ],
)
def test_money_is_shown_the_italian_way(value, expected):
    assert format_money(value) == expected


def test_money_in_cents():
    assert format_money(123456, cents=True) == "€ 1.234,56"


def test_dates_are_dd_mm_yyyy_and_times_are_in_rome():
    assert format_date(date(2026, 3, 5)) == "05/03/2026"
    # 23:30 UTC on 31 December is already New Year's Day in Turin.
    assert format_datetime(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "01/01/2027 00:30"
    # Summer time: UTC+2.
    assert format_datetime(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "01/07/2026 12:00"


def test_time_datetime_attributes_stop_at_the_second():
    # HTML allows three digits of a second's fraction at most; the database keeps six.
    moment = datetime(2026, 7, 1, 10, 0, 5, 432429, tzinfo=UTC)
    assert datetime_attribute(moment) == "2026-07-01T12:00:05+02:00"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/households?q=x", "/households?q=x"),
        ("https://evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil", "/"),
        ("\\\\evil", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next_keeps_only_local_paths(target, expected):
    assert safe_next(target, "/") == expected


def test_static_files_never_rewrite_the_session_cookie(client, login_as):
    """A static file answered late must not put back an older session over a page's one."""
    login_as("coordinator")
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    response.close()


def test_accessibility_statement_is_public_and_linked_from_every_page(client):
    statement = client.get("/accessibilita")

    html = statement.get_data(as_text=True)
    assert statement.status_code == 200
    assert '<html lang="it">' in html
    assert "WCAG 2.1" in html
    assert "accessibilita.inclusione@comune.torino.it" in html
    assert 'href="/accessibilita"' in client.get("/login").get_data(as_text=True)


def test_static_urls_are_built_once_and_stay_right_under_a_prefix(app):
    """The URL of a static file is kept per process (#21): the same as Flask builds, with the
    file's content hash, and another one for a portal served under a prefix (SCRIPT_NAME)."""
    import hashlib
    from pathlib import Path

    from flask import Flask

    digest = hashlib.sha256(Path(app.static_folder, "css/app.css").read_bytes()).hexdigest()[:12]
    with app.test_request_context("/"):
        built = Flask.url_for(app, "static", filename="css/app.css")
        assert app.url_for("static", filename="css/app.css") == built
        assert app.url_for("static", filename="css/app.css") == f"/static/css/app.css?v={digest}"
    with app.test_request_context("/", base_url="http://localhost/portale/"):
        assert app.url_for("static", filename="css/app.css").startswith("/portale/static/")
    with app.test_request_context("/"):
        assert app.url_for("static", filename="css/app.css", _external=True).startswith("http")


def test_urls_kept_per_process_are_the_urls_flask_builds(app):
    """Every URL is kept once built (#21): the same as Flask's, for its own values only."""
    from flask import Flask

    cases = [
        ("home.index", {}),
        ("households.detail", {"household_id": 7}),
        ("households.index", {"stato": "tutti", "pagina": 2}),
        ("households.index", {"pagina": True}),
        ("households.index", {"pagina": 1}),
    ]
    with app.test_request_context("/"):
        for endpoint, values in cases * 2:
            assert app.url_for(endpoint, **values) == Flask.url_for(app, endpoint, **values)
        assert app.url_for("households.index", stato=["a", "b"]).count("stato=") == 2
        assert app.url_for("home.index", _anchor="x").endswith("#x")
