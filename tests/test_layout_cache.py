"""What the layout keeps between requests (app/web/versions.py, #21): the logged-in user with
their organization, the settings, the unread badge. Each page reads one small statement (the
versions) instead of four, never shows one user what belongs to another, and shows a change
(made by this process or by any other) on the very next page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, select, update
from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import database_url
from app.extensions import db as _db
from app.notifications.models import Notification
from app.settings import set_setting
from app.web import versions
from tests import factories
from tests.conftest import csrf_token_from


def _log_in(app: Flask, user: User) -> object:
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": user.username, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    return client


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _notify(user: User, count: int = 1) -> None:
    for n in range(count):
        _db.session.add(
            Notification(user_id=user.id, kind="referral_submitted", object_type="referral",
                         object_id=n + 1, params={})
        )  # fmt: skip
    _db.session.commit()


def _badge(html: str) -> str | None:
    match = re.search(r'id="unread-badge">(\d+)<', html)
    return match.group(1) if match else None


@pytest.fixture
def two_users(app: Flask, db: object) -> tuple[User, User]:
    coordinator = factories.user(role="coordinator", full_name="Carla Coordinatrice")
    other = factories.user(role="coordinator", full_name="Dario Secondo")
    set_setting("demo_data", False)
    _db.session.commit()
    _notify(coordinator, 2)
    # The writes above gave each kind its version (the tests' clean-up deleted the rows).
    kinds = set(_db.session.scalars(select(versions.CacheVersion.name)))
    assert {"users", "settings", "notifications"} <= kinds
    return coordinator, other


def test_the_layout_reads_one_statement_once_its_data_is_kept(app: Flask, two_users) -> None:
    coordinator, _other = two_users
    client = _log_in(app, coordinator)
    client.get("/accessibilita")  # the first page after the login reads and keeps
    with _statements(app) as seen:
        html = client.get("/accessibilita").get_data(as_text=True)
    assert "Carla Coordinatrice" in html
    assert _badge(html) == "2"
    assert len(seen) == 1, seen
    assert "cache_version" in seen[0]


def test_each_user_sees_their_own_name_and_badge(app: Flask, two_users) -> None:
    coordinator, other = two_users
    first, second = _log_in(app, coordinator), _log_in(app, other)
    for _ in range(3):  # alternating: each answer from what the process keeps
        mine = first.get("/accessibilita").get_data(as_text=True)
        theirs = second.get("/accessibilita").get_data(as_text=True)
        assert "Carla Coordinatrice" in mine
        assert "Dario Secondo" not in mine
        assert "Dario Secondo" in theirs
        assert "Carla Coordinatrice" not in theirs
        assert _badge(mine) == "2"
        assert _badge(theirs) is None


def test_a_change_shows_on_the_next_page(app: Flask, two_users) -> None:
    coordinator, _other = two_users
    client = _log_in(app, coordinator)
    client.get("/accessibilita")
    assert "Carla Coordinatrice" in client.get("/accessibilita").get_data(as_text=True)

    coordinator.full_name = "Carla Rinominata"
    _db.session.commit()
    assert "Carla Rinominata" in client.get("/accessibilita").get_data(as_text=True)

    _notify(coordinator)
    assert _badge(client.get("/accessibilita").get_data(as_text=True)) == "3"
    _db.session.execute(update(Notification).values(read_at=_db.func.now()))
    _db.session.commit()
    assert _badge(client.get("/accessibilita").get_data(as_text=True)) is None

    set_setting("demo_data", True)
    _db.session.commit()
    assert "dimostrativ" in client.get("/accessibilita").get_data(as_text=True).lower()


def test_a_disabled_account_is_out_at_once(app: Flask, two_users) -> None:
    coordinator, _other = two_users
    client = _log_in(app, coordinator)
    assert client.get("/accessibilita").status_code == 200
    coordinator.active = False
    _db.session.commit()
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


def test_a_change_made_by_another_process_shows_too(app: Flask, two_users) -> None:
    """Another process: its own engine and session, nothing shared with this one but the
    database. Its write changes the version this process reads."""
    coordinator, _other = two_users
    client = _log_in(app, coordinator)
    client.get("/accessibilita")
    engine = create_engine(database_url(app.config["SQLALCHEMY_DATABASE_URI"]))
    try:
        with Session(engine) as elsewhere:
            elsewhere.get(User, coordinator.id).full_name = "Carla Da Altrove"
            elsewhere.commit()
    finally:
        engine.dispose()
    assert "Carla Da Altrove" in client.get("/accessibilita").get_data(as_text=True)


def test_a_write_rolled_back_leaves_nothing_kept(app: Flask, two_users) -> None:
    """A request that changed the user and failed: what it saw is not kept for others."""
    coordinator, _other = two_users
    client = _log_in(app, coordinator)
    client.get("/accessibilita")
    with app.test_request_context("/"):
        versions.versions()  # read before the write, as a page does at its start
        user = _db.session.get(User, coordinator.id)
        user.full_name = "Mai Salvata"
        _db.session.flush()  # the version changes inside this transaction only
        value = versions.versioned("users", ("probe",), lambda: "computed after a write")
        _db.session.rollback()
    assert value == "computed after a write"
    assert "Mai Salvata" not in client.get("/accessibilita").get_data(as_text=True)
    with app.test_request_context("/"):
        assert versions.versioned("users", ("probe",), lambda: "fresh") == "fresh"


NONCE = re.compile(r'nonce="[^"]+"|name="csrf_token"[^>]*value="[^"]+"|"X-CSRFToken": "[^"]+"')


@pytest.mark.parametrize("path", ["/accessibilita", "/", "/notifications/", "/account"])
def test_pages_are_the_same_with_and_without_what_is_kept(app: Flask, two_users, path) -> None:
    coordinator, _other = two_users
    client = _log_in(app, coordinator)
    client.get(path)
    kept = client.get(path)
    app.config["LAYOUT_CACHE"] = False
    try:
        fresh = client.get(path)
    finally:
        app.config["LAYOUT_CACHE"] = True
    assert kept.status_code == fresh.status_code == 200
    assert NONCE.sub("", kept.get_data(as_text=True)) == NONCE.sub("", fresh.get_data(as_text=True))
