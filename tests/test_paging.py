"""City-wide lists count only up to a cap, say so, and link only the pages within it."""

from __future__ import annotations

import re
import time

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


def test_a_request_waiting_for_another_computing_the_same_value_takes_its_result(app, monkeypatch):
    """Eight report requests at once: one computes, the others wait for its result.

    Without threads: the first request computes; each later one finds the value's lock taken
    by "another request", which finishes (stores its value) while this one waits for the lock;
    then this one answers that value and computes nothing.
    """
    from app.web import cache

    cache.clear()
    monkeypatch.setitem(app.config, "REPORT_CACHE_SECONDS", 300)
    key = "same-report"
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return 42

    class ComputedMeanwhile:
        """The lock of a request computing `key`: acquiring it waits until that request has
        stored its value (here: stores it, as that request would have)."""

        def __enter__(self) -> None:
            cache._entries[key] = (time.monotonic(), 1_000.0, 41)

        def __exit__(self, *exc: object) -> None:
            cache._computing.pop(key, None)

    with app.test_request_context("/reports/"):
        # Another request is computing the value when this one asks for it.
        cache._computing[key] = ComputedMeanwhile()  # type: ignore[assignment]
        assert cache.cached(key, compute, "REPORT_CACHE_SECONDS") == (41, 1_000.0)
        assert computed == []  # it waited and took the other's value instead of computing
        # The later ones find it stored and do not wait for anything.
        answers = [cache.cached(key, compute, "REPORT_CACHE_SECONDS")[0] for _ in range(7)]
        assert answers == [41] * 7
        assert computed == []

        # Nobody computing a missing value: the request computes it, once, for all of them.
        other = "another-report"
        answers = [cache.cached(other, compute, "REPORT_CACHE_SECONDS")[0] for _ in range(8)]
        assert answers == [42] * 8
        assert computed == [1]
        assert other not in cache._computing  # no lock left behind for the next computation
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
