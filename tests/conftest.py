"""Fixtures: app, db, client, login_as. The schema is built by the real Alembic migrations.

DATABASE_URL selects the database (PostgreSQL in CI); by default a fresh SQLite file.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from app import create_app
from app.config import TestConfig
from app.extensions import db as _db
from app.web import versions
from tests import factories

CHEAP_HASH = {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}


def _reset_schema(url: str) -> None:
    """Start from an empty database: the migrations must build everything."""
    if url.startswith("sqlite") or "sqlite" in url:
        return
    from sqlalchemy import create_engine

    from app.config import database_url

    engine = create_engine(database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist, each worker (gw0, gw1...) has a PostgreSQL database of its own: the
    name of DATABASE_URL's with the worker's after it, created if missing (through the server's
    `postgres` database; CI creates them beforehand, owned by its user: .ci/run)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from app.config import database_url

    base = make_url(database_url(url))
    mine = base.set(database=f"{base.database}_{worker}")
    engine = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": mine.database}
        ).first()
        if exists is None:
            conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    engine.dispose()
    return mine.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    """The test database: DATABASE_URL's (one per xdist worker), else a SQLite file in this
    process's own temporary directory (each xdist worker has its own)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    elif worker_id != "master" and "sqlite" not in url:
        url = _worker_database(url, worker_id)
    _reset_schema(url)
    return url


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """pytest-xdist's worker name (gw0, gw1...), "master" without workers (or without xdist:
    `-p no:xdist`, where its own fixture of this name is absent)."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "master"


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as in production.

    The tests hold an app context for their factories; without this, every request would share
    its `g` (and so Flask-WTF's cached CSRF token). After the request, the test's own session
    forgets what it had loaded, so assertions read what the database holds now.
    """

    def open(self, *args: object, **kwargs: object):  # type: ignore[override]
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if _db.session.registry.has():
            _db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_uri: str) -> Iterator[Flask]:
    config = TestConfig(database_uri)
    config.PASSWORD_HASH_PARAMS = CHEAP_HASH  # type: ignore[attr-defined]
    application = create_app(config)
    application.test_client_class = IsolatedClient
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        _db.engine.dispose()


def _truncate() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())
    # What the process kept for the layout (app/web/versions.py) goes with the rows it came from.
    versions.forget_all()


_DEMO_ROWS: dict[str, list[dict[str, object]]] = {}


def load_demo() -> None:
    """The demo data in the (empty) test database: seeded by `seed_demo` the first time in a test
    session, copied from that first seeding afterwards (seeding costs seconds of CPU each time,
    a copy a fraction of that). The same rows, ids included; PostgreSQL's id sequences are moved
    past them so that rows a test adds get new ids."""
    from app.demo import seed_demo

    tables = _db.metadata.sorted_tables
    if not _DEMO_ROWS:
        seed_demo()
        _db.session.commit()
        with _db.engine.connect() as conn:
            for table in tables:
                _DEMO_ROWS[table.name] = [
                    dict(row._mapping) for row in conn.execute(table.select())
                ]
        return
    with _db.engine.begin() as conn:
        for table in tables:
            if rows := _DEMO_ROWS[table.name]:
                conn.execute(table.insert(), rows)
        if conn.dialect.name == "postgresql":
            for table in tables:
                if (column := table.autoincrement_column) is not None:
                    sequence = func.pg_get_serial_sequence(table.name, column.name)
                    following = func.coalesce(func.max(column), 0) + 1
                    conn.execute(select(func.setval(sequence, following, False)))


@pytest.fixture
def db(app: Flask) -> Iterator[object]:
    with app.app_context():
        yield _db
        _db.session.remove()
        _truncate()


@pytest.fixture
def client(app: Flask, db: object) -> FlaskClient:
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def csrf(client: FlaskClient) -> Callable[[str], str]:
    """The CSRF token a real browser would have, read from a page of the site."""

    def get(path: str = "/login") -> str:
        return csrf_token_from(client.get(path).get_data(as_text=True))

    return get


def start_session(app: Flask, client: FlaskClient, user: object) -> None:
    """Log `user` in on `client` as the login form does once the password is right, without the
    form: the app's own steps (auth.operations.complete_login: the login event in the audit log,
    last_login_at; auth.views._start_session: a fresh session with the user's session token and
    the login and last-seen clocks; the welcome message), in a request from the test client's
    address, and the session so made handed to the client as its cookie."""
    from flask import flash, g, session
    from flask_babel import gettext

    from app.auth import operations
    from app.auth.views import _start_session

    with app.test_request_context(environ_base=client.environ_base):
        operations.complete_login(user)  # type: ignore[arg-type]
        _db.session.commit()
        _start_session(user)  # type: ignore[arg-type]
        flash(gettext("Benvenuta/o, %(name)s.", name=user.full_name), "success")  # type: ignore[attr-defined]
        made = dict(session)
        g.pop("_login_user", None)  # the test's own context stays nobody's, as after the form
    with client.session_transaction() as cookie:
        cookie.clear()
        cookie.update(made)
        cookie.permanent = True


def login_with_form(client: FlaskClient, user: object) -> None:
    """Log `user` in through the real login form (GET /login for the CSRF token, then POST)."""
    response = client.post(
        "/login",
        data={
            "username": user.username,  # type: ignore[attr-defined]
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(client.get("/login").get_data(as_text=True)),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.fixture
def login_as(app: Flask, client: FlaskClient, db: object) -> Callable[..., object]:
    """Log the client in as a new user of `role` (and `org`): the session the login form would
    make, written directly (start_session). `via_form=True` goes through the real login form, for
    tests about logging in; so does a user with a second factor or a disabled one (the form, not
    this fixture, decides what happens to them)."""

    def login(
        role: str, org: object = None, via_form: bool = False, **user_fields: object
    ) -> object:
        user = factories.user(role=role, organization=org, **user_fields)
        _db.session.commit()
        if via_form or user.totp_enabled or not user.active:
            login_with_form(client, user)
        else:
            start_session(app, client, user)
        return user

    return login
