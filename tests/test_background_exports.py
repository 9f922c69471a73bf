"""A long household list exported by the background worker (REDIS_URL): the request only queues
it, the user follows its progress and downloads it; only they can, for 24 hours, and the
download is an audit event naming every household in the file."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent, AuditEventHousehold
from app.db import utcnow
from app.downloads.models import ExportFile
from app.extensions import db as _db
from tests import factories
from tests.test_shared_redis import REDIS_TEST_URL, redis_prefix  # noqa: F401 - fixture
from tests.worlds import signed_in

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def worker_on_redis(app, redis_prefix):  # noqa: F811
    import redis

    from app.jobs import queue, worker

    app.config.update(CACHE_KEY_PREFIX=redis_prefix, EXPORT_BACKGROUND_ROWS=3)
    app.extensions["reti_redis"] = redis.Redis.from_url(REDIS_TEST_URL)

    def run() -> int:
        with app.app_context():
            waiting = queue().count
            worker(app.extensions["reti_redis"]).work(burst=True)
            return waiting

    try:
        yield run
    finally:
        app.extensions.pop("reti_redis").close()
        app.config.update(CACHE_KEY_PREFIX="reti:", EXPORT_BACKGROUND_ROWS=5000)


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_a_long_export_is_prepared_by_the_worker_and_downloaded_by_its_requester(
    app, client, login_as, worker_on_redis
):
    org = factories.organization()
    mine = [factories.household(org, members=2) for _ in range(5)]
    factories.household(factories.organization())  # another entity's: never in the file
    login_as("entity_operator", org=org)
    _db.session.commit()

    asked = client.get("/households/export.csv")
    assert asked.status_code == 303
    export = _db.session.scalars(select(ExportFile)).one()
    assert asked.headers["Location"] == f"/exports/{export.id}"
    assert export.status == "queued"  # the web request built nothing
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Preparazione del file: 0 di 5 righe" in page
    assert 'hx-trigger="every 2s"' in page

    assert worker_on_redis() == 1
    _db.session.expire_all()
    fragment = client.get(f"/exports/{export.id}", headers=HTMX).get_data(as_text=True)
    assert "Il file è pronto: 5 righe." in fragment
    assert "hx-trigger" not in fragment  # the polling stops
    assert "<html" not in fragment

    downloaded = client.get(f"/exports/{export.id}/file")
    assert downloaded.status_code == 200
    assert downloaded.headers["Cache-Control"] == "no-store"
    assert "nuclei-" in downloaded.headers["Content-Disposition"]
    header, *rows = rows_of(downloaded.get_data())
    assert header[0] == "N. nucleo"
    assert sorted(int(r[0]) for r in rows) == sorted(h.id for h in mine)
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "households_exported")
    ).one()
    named = _db.session.scalars(
        select(AuditEventHousehold.household_id).where(
            AuditEventHousehold.audit_event_id == event.id
        )
    ).all()
    assert sorted(named) == sorted(h.id for h in mine)
    assert _db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "export_requested"))


def test_the_same_rows_as_the_export_made_in_the_request(app, client, login_as, worker_on_redis):
    org = factories.organization()
    for _ in range(4):
        factories.household(org, members=1, address="Via Cigna 12")
    login_as("entity_operator", org=org)
    _db.session.commit()
    app.config["EXPORT_BACKGROUND_ROWS"] = 100
    inline = rows_of(client.get("/households/export.csv").get_data())
    app.config["EXPORT_BACKGROUND_ROWS"] = 3
    client.get("/households/export.csv")
    worker_on_redis()
    export = _db.session.scalars(select(ExportFile)).one()
    assert rows_of(client.get(f"/exports/{export.id}/file").get_data()) == inline


def test_nobody_else_sees_the_export_and_it_is_gone_after_24_hours(
    app, client, login_as, worker_on_redis
):
    org = factories.organization()
    for _ in range(4):
        factories.household(org)
    login_as("entity_operator", org=org)
    _db.session.commit()
    client.get("/households/export.csv")
    worker_on_redis()
    export = _db.session.scalars(select(ExportFile)).one()
    colleague_user = factories.user("entity_operator", org)
    _db.session.commit()
    colleague = signed_in(app, colleague_user)
    assert colleague.get(f"/exports/{export.id}").status_code == 404
    assert colleague.get(f"/exports/{export.id}/file").status_code == 404
    export.expires_at = utcnow() - timedelta(minutes=1)
    _db.session.commit()
    assert client.get(f"/exports/{export.id}/file").status_code == 404


def test_without_redis_a_long_export_is_made_in_the_request(client, login_as):
    org = factories.organization()
    for _ in range(6):
        factories.household(org)
    login_as("entity_operator", org=org)
    _db.session.commit()
    answer = client.get("/households/export.csv")
    assert answer.status_code == 200
    assert len(rows_of(answer.get_data())) == 7


def test_the_progress_page_advances_while_the_worker_writes_the_file(
    app, client, login_as, worker_on_redis, monkeypatch
):
    """Each batch of households written is shown by the progress page before the next one."""
    from app.households import background

    org = factories.organization()
    for _ in range(5):
        factories.household(org)
    login_as("entity_operator", org=org)
    _db.session.commit()
    monkeypatch.setattr(background, "BATCH", 2)
    shown: list[str] = []
    write_progress = background._progress

    def progress_then_look(export_id: int, done: int) -> None:
        write_progress(export_id, done)
        # What the user's polling request is answered meanwhile (a session of its own).
        shown.append(client.get(f"/exports/{export_id}", headers=HTMX).get_data(as_text=True))

    monkeypatch.setattr(background, "_progress", progress_then_look)
    client.get("/households/export.csv")
    worker_on_redis()
    assert [s.split("Preparazione del file: ")[1].split(" righe")[0] for s in shown] == [
        "2 di 5",
        "4 di 5",
        "5 di 5",
    ]
    assert all('hx-trigger="every 2s"' in s for s in shown)  # still polling until ready


def test_a_long_xlsx_export_holds_the_same_cells_as_the_one_made_in_the_request(
    app, client, login_as, worker_on_redis
):
    from openpyxl import load_workbook

    org = factories.organization()
    for _ in range(4):
        factories.household(org, members=2, address="=Via Cigna 12")
    login_as("entity_operator", org=org)
    _db.session.commit()

    def cells(body: bytes) -> list[tuple[object, ...]]:
        sheet = load_workbook(io.BytesIO(body)).worksheets[0]
        return list(sheet.iter_rows(values_only=True))

    app.config["EXPORT_BACKGROUND_ROWS"] = 100
    inline = cells(client.get("/households/export.xlsx").get_data())
    app.config["EXPORT_BACKGROUND_ROWS"] = 3
    assert client.get("/households/export.xlsx").status_code == 303
    worker_on_redis()
    export = _db.session.scalars(select(ExportFile)).one()
    downloaded = client.get(f"/exports/{export.id}/file")
    assert downloaded.mimetype.endswith("spreadsheetml.sheet")
    assert cells(downloaded.get_data()) == inline
    assert len(inline) == 5


def test_the_file_names_each_household_as_its_page_does(app, client, login_as, worker_on_redis):
    """The rows are read without ORM objects: the reference person (even when added after the
    children), the member count, a household without members or without a reference person
    read as on the household page."""
    org = factories.organization()
    late = factories.household(org, members=0)
    factories.person(late, relation="child", first_name="Aldo", last_name="Bianchi")
    factories.person(late, relation="reference", first_name="Carla", last_name="Verdi")
    empty = factories.household(org, members=0)
    no_reference = factories.household(org, members=0)
    factories.person(no_reference, relation="child")
    usual = [factories.household(org, members=3) for _ in range(2)]
    login_as("entity_operator", org=org)
    _db.session.commit()
    client.get("/households/export.csv")
    worker_on_redis()
    export = _db.session.scalars(select(ExportFile)).one()
    _header, *rows = rows_of(client.get(f"/exports/{export.id}/file").get_data())
    shown = {int(r[0]): (r[1], int(r[2])) for r in rows}
    for household in (late, empty, no_reference, *usual):
        _db.session.refresh(household)
        assert shown[household.id] == (household.display_name, len(household.members))
    assert shown[late.id] == ("Verdi Carla", 2)
    assert shown[empty.id] == (f"#{empty.id}", 0)
    assert shown[no_reference.id] == (f"#{no_reference.id}", 1)
