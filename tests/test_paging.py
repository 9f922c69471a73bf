"""City-wide lists count only up to a cap, say so, and link only the pages within it."""

from __future__ import annotations

import re

from app.extensions import db as _db
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
