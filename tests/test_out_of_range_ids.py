"""An id no column can hold, in the path or in the query string, is "not found", never a 500."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from tests import factories

HUGE = [str(2**63), str(2**31)]  # beyond BIGINT, and just beyond the INTEGER columns
PART = re.compile(r"<(?:[^:>]+:)?([^>]+)>")  # <int:id>, <name>
# Every number the views read from a query string.
NUMBER_ARGS = (
    "circ",
    "dopo",
    "ente",
    "household",
    "household_id",
    "need",
    "oggetto",
    "pagina",
    "person",
    "prima",
    "servizio",
)


def id_routes(app):
    """(method, url builder) of every route with an <int:> part."""
    for rule in app.url_map.iter_rules():
        ints = [
            name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)
        ]
        if not ints:
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        yield rule, method, ints


def test_every_id_in_a_path_is_limited_to_the_column_range(app):
    rules = list(id_routes(app))
    assert len(rules) > 40  # the walk below really covers the portal's routes
    assert len(rules) == len([r for r in app.url_map.iter_rules() if "<int:" in r.rule])
    for rule, _method, ints in rules:
        for name in ints:
            assert rule._converters[name].max == 2**31 - 1, rule.rule


@pytest.mark.parametrize("huge", HUGE)
def test_a_huge_id_in_any_path_is_not_found(app, client, login_as, huge):
    login_as("coordinator")
    failures = []
    for rule, method, ints in id_routes(app):
        path = PART.sub(lambda m, ints=ints: huge if m.group(1) in ints else "x", rule.rule)
        response = client.open(path, method=method)
        if response.status_code != 404:
            failures.append((method, path, response.status_code))
    assert failures == []


@pytest.mark.parametrize("role", ["coordinator", "entity_operator", "housing_provider", "admin"])
def test_huge_numbers_in_the_query_string_of_any_page_are_no_error(app, client, login_as, role):
    org = None
    if role in ("entity_operator", "housing_provider"):
        org = factories.organization(is_hub=True, is_job_service=True, is_housing_provider=True)
    login_as(role, org=org)
    query = "&".join(f"{name}={2**63}" for name in NUMBER_ARGS)
    failures = []
    for rule in app.url_map.iter_rules():
        if (
            rule.arguments
            or "GET" not in rule.methods
            or rule.endpoint in ("static", "auth.logout")
        ):
            continue
        response = client.get(f"{rule.rule}?{query}")
        if response.status_code >= 500:
            failures.append((rule.rule, response.status_code))
        response.close()
    assert failures == []
