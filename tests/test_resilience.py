"""A save that meets an expired session or form token keeps the page and says what to do;
static files travel compressed and stay cached until they change."""

from __future__ import annotations

import gzip
import re
import time
from contextlib import contextmanager

import pytest
from flask import get_flashed_messages, has_request_context, redirect, request
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app import config as settings
from app import create_app
from app.extensions import db as _db
from app.registry.models import Organization, Service
from app.web.transactions import commit_and_render, committed, finish
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


# The database goes away ------------------------------------------------------------------


def driver_error(engine) -> Exception:
    """The error the database driver raises when the server has gone away."""
    if engine.dialect.name == "postgresql":
        import psycopg

        return psycopg.OperationalError("server closed the connection unexpectedly")
    import sqlite3

    return sqlite3.OperationalError("disk I/O error")


@contextmanager
def connection_lost(engine, after_commit: bool = True):
    """Every statement fails as on a dropped connection: at once, or (`after_commit`) in the
    rest of a write (a POST request) once it has committed. Other requests, such as the page
    views the browser makes meanwhile or the next page, get a working connection, as from a
    pool after a drop."""
    state: dict[str, object] = {"lost": not after_commit, "request": None}

    def committed(session):
        if has_request_context() and request.method == "POST":
            state["request"] = request._get_current_object()  # type: ignore[attr-defined]

    def before(conn, cursor, statement, parameters, context, executemany):
        if state["lost"]:
            raise driver_error(engine)
        if (
            state["request"] is not None
            and has_request_context()
            and request._get_current_object() is state["request"]  # type: ignore[attr-defined]
        ):
            raise driver_error(engine)

    event.listen(Session, "after_commit", committed)
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(Session, "after_commit", committed)


def service_edit(client, org, service, name: str) -> dict[str, object]:
    token = csrf_token_from(client.get(f"/entities/{org.id}").get_data(as_text=True))
    return {
        "csrf_token": token,
        "name": name,
        "service_type": service.service_type,
        "languages": ["it"],
        "monthly_capacity": "7",
    }


SAVED = "La modifica è stata salvata, ma la pagina non si è potuta aggiornare: ricarica la pagina"
UNREACHABLE = (
    "Il portale non raggiunge il database: riprova tra qualche minuto; quanto hai scritto "
    "non è stato salvato"
)


@contextmanager
def fails_as_it_commits(engine):
    """The commit of a POST request reaches the database, then the driver reports the
    connection gone (as when the server drops it while answering the COMMIT): whatever the
    view meant to do next never happens."""

    def committed(session):
        if has_request_context() and request.method == "POST":
            raise OperationalError("COMMIT", None, driver_error(engine))

    event.listen(Session, "after_commit", committed)
    try:
        yield
    finally:
        event.remove(Session, "after_commit", committed)


def test_an_htmx_save_whose_connection_drops_after_the_commit_answers_as_usual(
    client, login_as, db
):
    """The answer is drawn before the commit (finish): a connection lost after it is not seen."""
    org = factories.organization()
    service = factories.service(org, name="Orientamento", monthly_capacity=5)
    _db.session.commit()
    login_as("entity_operator", org=org)
    data = service_edit(client, org, service, "Orientamento al lavoro")

    with connection_lost(_db.engine):
        response = client.post(
            f"/entities/{org.id}/services/{service.id}",
            data=data,
            headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost/entities/{org.id}"},
        )

    assert response.status_code == 200
    assert "HX-Retarget" not in response.headers
    text = response.get_data(as_text=True)
    assert "Orientamento al lavoro" in text
    assert SAVED not in text
    saved = _db.session.get(Service, service.id)
    assert (saved.name, saved.monthly_capacity) == ("Orientamento al lavoro", 7)


def test_a_form_post_whose_connection_drops_after_the_commit_answers_as_usual(client, login_as, db):
    org = factories.organization()
    service = factories.service(org, name="Orientamento", monthly_capacity=5)
    _db.session.commit()
    login_as("entity_operator", org=org)
    data = service_edit(client, org, service, "Sportello lavoro")

    with connection_lost(_db.engine):
        response = client.post(f"/entities/{org.id}/services/{service.id}", data=data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/entities/{org.id}")
    page = client.get(f"/entities/{org.id}").get_data(as_text=True)
    assert "Servizio aggiornato." in page
    assert _db.session.get(Service, service.id).name == "Sportello lavoro"


def test_an_htmx_save_whose_page_fails_after_the_commit_says_it_was_saved(client, login_as, db):
    org = factories.organization()
    service = factories.service(org, name="Orientamento", monthly_capacity=5)
    _db.session.commit()
    login_as("entity_operator", org=org)
    data = service_edit(client, org, service, "Orientamento al lavoro")

    with fails_as_it_commits(_db.engine):
        response = client.post(
            f"/entities/{org.id}/services/{service.id}",
            data=data,
            headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost/entities/{org.id}"},
        )

    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#messages"
    text = response.get_data(as_text=True)
    assert SAVED in text
    assert f'href="/entities/{org.id}"' in text  # the reload link is the page the user was on
    assert "<html" not in text
    saved = _db.session.get(Service, service.id)
    assert (saved.name, saved.monthly_capacity) == ("Orientamento al lavoro", 7)
    # The database is back: the next page is the ordinary one.
    assert client.get(f"/entities/{org.id}").status_code == 200


def test_a_form_post_whose_page_fails_after_the_commit_says_it_was_saved(client, login_as, db):
    org = factories.organization()
    service = factories.service(org, name="Orientamento", monthly_capacity=5)
    _db.session.commit()
    login_as("entity_operator", org=org)
    data = service_edit(client, org, service, "Sportello lavoro")

    with fails_as_it_commits(_db.engine):
        response = client.post(
            f"/entities/{org.id}/services/{service.id}",
            data=data,
            headers={"Referer": f"http://localhost/entities/{org.id}/services/{service.id}"},
        )

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "<html" in text
    assert SAVED in text
    assert f'href="/entities/{org.id}/services/{service.id}"' in text
    assert _db.session.get(Service, service.id).name == "Sportello lavoro"


def test_a_save_that_meets_the_database_gone_before_the_commit_says_nothing_was_saved(
    client, login_as, db
):
    org = factories.organization()
    service = factories.service(org, name="Orientamento", monthly_capacity=5)
    _db.session.commit()
    login_as("entity_operator", org=org)
    data = service_edit(client, org, service, "Mai salvato")
    url = f"/entities/{org.id}/services/{service.id}"

    with connection_lost(_db.engine, after_commit=False):
        response = client.post(
            url,
            data=data,
            headers={"HX-Request": "true"},
        )

    assert response.status_code == 503
    assert response.headers["HX-Retarget"] == "#messages"  # the form stays on screen
    assert response.headers["Retry-After"]
    assert UNREACHABLE in response.get_data(as_text=True)
    assert _db.session.get(Service, service.id).name == "Orientamento"


UNREACHABLE_URLS = {
    "postgresql": "postgresql://postgres@127.0.0.1:1/reti",  # a closed port
    "sqlite": "sqlite:////nonexistent-folder/reti/portal.db",
}


@pytest.fixture(params=sorted(UNREACHABLE_URLS))
def app_without_database(request):
    config = settings.TestConfig(UNREACHABLE_URLS[request.param])
    application = create_app(config)
    yield application
    with application.app_context():
        _db.engine.dispose()


def test_with_the_database_down_pages_are_the_italian_503(app_without_database):
    client = app_without_database.test_client()
    page = client.get("/login")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "<html" in text
    assert "Portale non disponibile" in text
    assert UNREACHABLE in text
    assert "Accedi" not in text  # no login button that could not work
    assert page.headers["Retry-After"]

    # A logged-in user (the session cookie names a user the portal cannot load).
    now = int(time.time())
    with client.session_transaction() as sess:
        sess.update({"_user_id": "token", "_fresh": True, "login_at": now, "seen_at": now})
    page = client.get("/households/")
    assert page.status_code == 503
    assert UNREACHABLE in page.get_data(as_text=True)

    token = csrf_token_from(page.get_data(as_text=True))
    saving = client.post(
        "/households/new",
        data={"csrf_token": token, "reference_name": "Rossi"},
        headers={"HX-Request": "true"},
    )
    assert saving.status_code == 503
    assert saving.headers["HX-Retarget"] == "#messages"
    alert = saving.get_data(as_text=True)
    assert UNREACHABLE in alert
    assert "<html" not in alert

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "error", "database": "unreachable"}


def test_commit_and_render_draws_the_page_before_the_commit(app, db):
    """The shared helper: the page is ready before the commit, so a connection lost right after
    it changes nothing for the user (committing first, the page would query expired rows)."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        org = factories.organization(name="Ente Nuovo")
        org_id = org.id
        with connection_lost(_db.engine):
            response = commit_and_render("errors/_alert.html", title=org.name, text="ok")
        assert committed()
    assert response.status_code == 200
    assert "Ente Nuovo" in response.get_data(as_text=True)
    assert _db.session.scalar(select(Organization.name).where(Organization.id == org_id)) == (
        "Ente Nuovo"
    )

    with app.app_context(), app.test_request_context("/", method="POST"):
        org = factories.organization(name="Ente Scaduto")
        _db.session.commit()
        with connection_lost(_db.engine, after_commit=False), pytest.raises(OperationalError):
            org.name  # noqa: B018 - committing first, reading the row again needs the database


def test_finish_flashes_its_message_only_once_the_commit_succeeded(app, db):
    with app.app_context(), app.test_request_context("/", method="POST"):
        org = factories.organization()
        tax_code = org.tax_code
        response = finish(redirect(f"/entities/{org.id}", 303), "Ente registrato.")
        assert response.status_code == 303
        assert committed()
        assert get_flashed_messages() == ["Ente registrato."]

    with app.app_context(), app.test_request_context("/", method="POST"):
        _db.session.add(Organization(name="Doppio", tax_code=tax_code, circoscrizione=1))
        with pytest.raises(IntegrityError):
            finish(redirect("/entities/", 303), "Ente registrato.")
        assert not committed()
        assert get_flashed_messages() == []
        _db.session.rollback()
