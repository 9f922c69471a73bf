"""City-wide lists count only up to a cap, say so, and link only the pages within it."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db as _db
from app.households.models import Household
from app.web import paging
from tests import factories


def test_a_list_beyond_the_cap_asks_to_narrow_the_search(app, client, login_as, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 30)
    monkeypatch.setitem(app.jinja_env.globals, "count_cap", 30)
    org = factories.organization()
    for _ in range(40):
        factories.household(org)
    _db.session.commit()
    login_as("coordinator")

    page = client.get("/households/").get_data(as_text=True)

    assert "Più di 30 nuclei trovati: affina la ricerca per vederli tutti." in page
    links = {int(n) for n in re.findall(r'class="page-link" href="[^"]*pagina=(\d+)', page)}
    assert max(links) == 2  # 30 counted, 25 a page: the 40th is reached by narrowing
    last = client.get("/households/?pagina=9").get_data(as_text=True)
    assert 'aria-current="page">2<' in last


def test_a_list_within_the_cap_gives_the_exact_count(client, login_as):
    org = factories.organization()
    for _ in range(3):
        factories.household(org)
    _db.session.commit()
    login_as("coordinator")
    page = client.get("/households/").get_data(as_text=True)
    assert "3 nuclei trovati" in page
    assert "Più di" not in page


def test_the_report_is_computed_once_for_the_same_filters_then_again_after_its_lifetime(
    app, client, login_as, monkeypatch
):
    from app.reports import views
    from app.web import cache

    cache.clear()
    built: list[object] = []
    real = views.build_report
    monkeypatch.setattr(views, "build_report", lambda *a, **k: built.append(a[1]) or real(*a, **k))
    monkeypatch.setitem(app.config, "REPORT_CACHE_SECONDS", 300)
    login_as("coordinator")
    url = "/reports/?dal=2026-01-01&al=2026-03-31"

    first = client.get(url).get_data(as_text=True)
    assert "Dati calcolati il" in first
    client.get(url)
    assert len(built) == 1  # the same filters within 5 minutes: the report is not recomputed
    client.get(url + "&circ=6")
    assert len(built) == 2  # other filters, another report
    monkeypatch.setitem(app.config, "REPORT_CACHE_SECONDS", 0)
    client.get(url)
    assert len(built) == 3
    cache.clear()


def test_requests_arriving_together_compute_a_cached_value_once(app, monkeypatch):
    """Eight report requests at once: one computes, the others wait for its result."""
    import threading

    from app.web import cache

    cache.clear()
    monkeypatch.setitem(app.config, "REPORT_CACHE_SECONDS", 300)
    computed: list[int] = []
    asked = threading.Semaphore(0)

    def slow() -> int:
        computed.append(1)
        for _ in range(8):  # every request has asked before the value is ready (no sleep)
            assert asked.acquire(timeout=10)
        return 42

    answers: list[int] = []

    def ask() -> None:
        asked.release()
        with app.test_request_context("/reports/"):
            answers.append(cache.cached("same-report", slow, "REPORT_CACHE_SECONDS")[0])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [42] * 8
    assert len(computed) == 1
    cache.clear()


def test_paginate_keeps_the_page_asked_for_within_the_list(app, db):
    org = factories.organization()
    for _ in range(30):
        factories.household(org)
    _db.session.commit()
    query = select(Household).where(Household.organization_id == org.id)

    past_the_end = paging.paginate(query, 9, 25)
    assert (past_the_end.total, past_the_end.pages, past_the_end.number) == (30, 2, 2)
    assert past_the_end.context() == {"total": 30, "page": 2, "pages": 2}
    newest_first = query.order_by(Household.id.desc())
    assert len(_db.session.scalars(past_the_end.rows_of(newest_first)).all()) == 5
    for nonsense in (None, 0, -3):
        assert paging.paginate(query, nonsense, 25).number == 1
    first = _db.session.scalars(paging.paginate(query, 1, 25).rows_of(newest_first)).all()
    assert len(first) == 25
    assert not {h.id for h in first} & {
        h.id for h in _db.session.scalars(past_the_end.rows_of(newest_first))
    }


def test_an_empty_list_has_one_page(app, db):
    empty = paging.paginate(select(Household).where(Household.id < 0), 4, 25)
    assert (empty.total, empty.pages, empty.number, empty.offset) == (0, 1, 1, 0)
