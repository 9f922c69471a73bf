"""Search-as-you-type costs what the user's own scope holds, not what the city holds (#21).

An entity's operator typing "mar" must not make the database collect every person of the city
whose name starts with "mar" before keeping the entity's households: at 100,000 households that
was 203 ms a keystroke instead of 57 ms at 20,000. The work the database does for the search is
counted (SQLite: virtual-machine steps; PostgreSQL: the person rows its plan reads) with the
same entity in a city of two sizes; it must not grow with the city. (PostgreSQL's planner already
looked the scope up first; SQLite's did not, and this test failed there: 465 steps, then 2,146.)
The City's coordinator, who searches the whole city, gets the same answers as before.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Select, insert, text

from app.extensions import db as _db
from app.households.listing import HouseholdFilters, filtered_households
from app.households.models import Household, Person
from tests import factories

OWN_MATCHING = ("Marino", "Martini", "Marras")


def _add_city(org_id: int, circoscrizione: int, count: int, last_name: str) -> None:
    """`count` more households of another entity, each with one person called `last_name`."""
    table = Household.__table__
    start = _db.session.scalar(text("SELECT COALESCE(MAX(id), 0) FROM household")) + 1
    ids = range(start, start + count)
    _db.session.execute(
        insert(table),
        [
            {"id": i, "organization_id": org_id, "circoscrizione": circoscrizione,
             "needs": [], "status": "active"}
            for i in ids
        ],
    )  # fmt: skip
    _db.session.execute(
        insert(Person.__table__),
        [
            {"household_id": i, "first_name": "Anna", "last_name": last_name,
             "relation": "reference", "languages": []}
            for i in ids
        ],
    )  # fmt: skip
    if _db.engine.dialect.name == "postgresql":
        _db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('household', 'id'), MAX(id)) FROM household")
        )
    _db.session.commit()
    if _db.engine.dialect.name == "postgresql":
        with _db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE household"))
            conn.execute(text("ANALYZE person"))
    else:
        _db.session.execute(text("ANALYZE"))
        _db.session.commit()


def _work(query: Select[Any]) -> int:
    """How much the database did to answer `query`."""
    if _db.engine.dialect.name == "postgresql":
        sql = str(query.compile(_db.engine, compile_kwargs={"literal_binds": True}))
        plan = _db.session.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).scalar()
        nodes, people = [plan[0]["Plan"]], 0
        while nodes:
            node = nodes.pop()
            nodes.extend(node.get("Plans", []))
            if node.get("Relation Name") == "person" or "person" in node.get("Index Name", ""):
                # rows kept and rows read then filtered out, per loop (PostgreSQL rounds them)
                per_loop = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                people += node["Actual Loops"] * max(per_loop, 1)
        return people
    raw = _db.session.connection().connection.driver_connection
    steps = [0]

    def step() -> int:
        steps[0] += 1
        return 0

    raw.set_progress_handler(step, 10)
    try:
        _db.session.execute(query).all()
    finally:
        raw.set_progress_handler(None, 10)
    return steps[0]


def _world(db: object) -> tuple[Any, Any, Any, list[int]]:
    own = factories.organization(is_hub=True)
    other = factories.organization(is_hub=True)
    matching = []
    for name in OWN_MATCHING:
        household = factories.household(own, members=0)
        factories.person(household, last_name=name)
        matching.append(household.id)
    for _ in range(20):
        factories.person(factories.household(own, members=0), last_name="Rossi")
    operator = factories.user(role="entity_operator", organization=own)
    coordinator = factories.user(role="coordinator")
    _db.session.commit()
    return own, other, (operator, coordinator), matching


def test_an_operators_search_costs_the_same_in_a_city_five_times_larger(db: object) -> None:
    _own, other, (operator, _coordinator), matching = _world(db)
    filters = HouseholdFilters(q="mar", user_id=operator.id)

    def search() -> tuple[list[int], int]:
        query = filtered_households(operator, filters).with_only_columns(Household.id)
        return sorted(_db.session.scalars(query)), _work(query)

    _add_city(other.id, other.circoscrizione, 300, "Marchetti")
    found_small, work_small = search()
    _add_city(other.id, other.circoscrizione, 1200, "Marchetti")  # 1,500 others named "Mar…"
    found_large, work_large = search()

    assert found_small == found_large == sorted(matching)
    assert 0 < work_large <= work_small * 1.3, (work_small, work_large)


def test_the_citys_search_still_finds_every_match(db: object, client: FlaskClient) -> None:
    _own, other, (_operator, coordinator), matching = _world(db)
    _add_city(other.id, other.circoscrizione, 30, "Marchetti")
    query = filtered_households(coordinator, HouseholdFilters(q="mar", user_id=coordinator.id))
    found = set(_db.session.scalars(query.with_only_columns(Household.id)))
    assert set(matching) <= found
    assert len(found) == len(matching) + 30


def test_the_operators_list_shows_only_its_own_matches(db: object, client: FlaskClient) -> None:
    _own, other, (operator, _coordinator), _matching = _world(db)
    _add_city(other.id, other.circoscrizione, 30, "Marchetti")
    client.post(
        "/login",
        data={"username": operator.username, "password": factories.PASSWORD,
              "csrf_token": _csrf(client)},
    )  # fmt: skip
    page = client.get("/households/?q=mar").get_data(as_text=True)
    for name in OWN_MATCHING:
        assert name in page
    assert "Marchetti" not in page
    assert "Rossi" not in page


def _csrf(client: FlaskClient) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/login").get_data(as_text=True))
