"""The offline counter's server side: the day's key and data, the sync of the phone's queue
(exactly once, the same rules as the online counter), the entries held for the operator, and
what ends with the day or the session. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from app.audit.models import AuditEvent, AuditEventHousehold
from app.cards import operations as cards
from app.clock import today
from app.counter.models import CounterEntry, CounterKey
from app.counter.queries import cf_digest
from app.distributions.models import Distribution
from app.extensions import db as _db
from app.idempotency import new_key
from app.supplies import operations as supplies
from tests import factories
from tests.concurrency import race
from tests.conftest import csrf_token_from

JSON = {"Content-Type": "application/json"}


def _hub():
    org = factories.organization(is_hub=True)
    site = factories.site(org, is_hub=True, name=f"Snodo {org.id}")
    return org, site


def _token(client) -> str:
    return csrf_token_from(client.get("/account").get_data(as_text=True))


def _sync(client, items, viewed=None, token=None):
    return client.post(
        "/counter/sync",
        data=json.dumps({"items": items, "viewed": viewed or []}),
        headers={**JSON, "X-CSRFToken": token or _token(client)},
    )


def _item(household, site, **fields):
    return {
        "key": new_key(),
        "household_id": household.id,
        "site_id": site.id,
        "kind": "food_basket",
        "quantity": 1,
        "distributed_on": today().isoformat(),
        "reason": None,
        "recorded_at": "2026-12-07T08:30:00.000Z",
        **fields,
    }


def _distributions(household) -> int:
    return _db.session.scalar(
        select(func.count(Distribution.id)).where(Distribution.household_id == household.id)
    )


def _events(action: str) -> list[AuditEvent]:
    return list(_db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# The day ------------------------------------------------------------------------------------


def test_the_day_ships_only_the_hubs_households_and_is_audited(client, login_as):
    org, site = _hub()
    mine = factories.household(org)
    closed = factories.household(org, status="closed")
    stranger = factories.household(factories.organization())
    login_as("entity_operator", org)
    cards.issue_card(mine, site, factories.user("entity_operator", organization=org))
    _db.session.commit()

    day = client.get("/counter/day").get_json()

    assert [h["id"] for h in day["households"]] == [mine.id]
    assert closed.id not in {h["id"] for h in day["households"]}
    assert stranger.id not in {h["id"] for h in day["households"]}
    row = day["households"][0]
    reference = mine.reference_person
    assert row["name"] == mine.display_name
    # The codice fiscale travels only as its digest; the card only as its token's digest.
    assert reference.codice_fiscale not in json.dumps(day)
    assert row["cf"] == [cf_digest(reference.codice_fiscale)]
    assert row["card"]
    assert len(row["card"]) == 64
    assert day["sites"] == [{"id": site.id, "name": site.name}]
    (event,) = _events("counter_day_downloaded")
    named = _db.session.scalars(
        select(AuditEventHousehold.household_id).where(
            AuditEventHousehold.audit_event_id == event.id
        )
    ).all()
    assert named == [mine.id]


def test_the_day_is_for_hub_operators_only(client, login_as):
    login_as("entity_operator", factories.organization(is_hub=False))
    assert client.get("/counter/").status_code == 403
    assert client.get("/counter/day").status_code == 403
    assert client.get("/counter/session").status_code == 403


def test_the_session_key_is_the_same_all_day_and_ends_with_the_day(client, login_as):
    org, _site = _hub()
    user = login_as("entity_operator", org)
    first = client.get("/counter/session").get_json()
    again = client.get("/counter/session").get_json()
    assert first["key"] == again["key"]
    assert len(first["key"]) == 44
    stored = _db.session.get(CounterKey, user.id)
    assert first["key"] not in stored.key_sealed  # sealed, not kept in clear

    closed = client.post("/counter/close", headers={"X-CSRFToken": first["csrf"]})
    assert closed.status_code == 200
    assert _db.session.get(CounterKey, user.id) is None
    assert client.get("/counter/session").get_json()["key"] != first["key"]


def test_logging_out_forgets_the_key_and_clears_the_browsers_storage(client, login_as):
    org, _site = _hub()
    user = login_as("entity_operator", org)
    client.get("/counter/session")
    assert _db.session.get(CounterKey, user.id) is not None
    response = client.post("/logout", data={"csrf_token": _token(client)})
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"storage"'
    assert _db.session.get(CounterKey, user.id) is None
    assert client.get("/counter/session").status_code == 401


def test_a_day_left_open_ends_at_midnight(app, db):
    from app.counter import operations

    org, _site = _hub()
    user = factories.user("entity_operator", organization=org)
    _db.session.commit()
    with app.test_request_context():
        operations.day_key(user)
        _db.session.get(CounterKey, user.id).opened_on = today() - timedelta(days=1)
        _db.session.commit()
        assert operations.purge_keys() == 1


def test_the_page_and_its_service_worker_hold_no_household(client, login_as):
    org, _site = _hub()
    household = factories.household(org)
    login_as("entity_operator", org)
    page = client.get("/counter/").get_data(as_text=True)
    worker = client.get("/counter/sw.js")
    manifest = client.get("/counter/manifest.webmanifest")
    assert household.display_name not in page
    assert 'rel="manifest"' in page
    assert worker.headers["Service-Worker-Allowed"] == "/counter/"
    assert worker.mimetype == "text/javascript"
    assert "/static/js/counter.js?v=" in worker.get_data(as_text=True)
    assert manifest.get_json()["scope"] == "/counter/"
    assert manifest.get_json()["display"] == "standalone"


# Sync ---------------------------------------------------------------------------------------


def test_three_distributions_sync_once_even_when_sent_twice(client, login_as):
    org, site = _hub()
    families = [factories.household(org) for _ in range(3)]
    login_as("entity_operator", org)
    items = [_item(h, site) for h in families]

    first = _sync(client, items)
    again = _sync(client, items)  # the answer was lost: the phone sends the queue again

    assert first.status_code == 200
    assert [r["status"] for r in first.get_json()["results"]] == ["recorded"] * 3
    assert [r["new"] for r in again.get_json()["results"]] == [False] * 3
    assert [_distributions(h) for h in families] == [1, 1, 1]
    assert len(_events("distribution_recorded")) == 3


def test_sync_needs_the_csrf_token(client, login_as):
    org, site = _hub()
    household = factories.household(org)
    login_as("entity_operator", org)
    refused = client.post(
        "/counter/sync", data=json.dumps({"items": [_item(household, site)]}), headers=JSON
    )
    assert refused.status_code == 400
    assert _distributions(household) == 0


def test_a_second_basket_recorded_offline_becomes_a_warning_to_resolve(client, login_as):
    org, site = _hub()
    household = factories.household(org)
    login_as("entity_operator", org)
    _sync(client, [_item(household, site)])  # another phone, earlier
    answer = _sync(client, [_item(household, site)]).get_json()

    (result,) = answer["results"]
    assert result["status"] == "needs_reason"
    assert answer["held"] == 1
    assert "già ricevuto un paniere alimentare" in result["message"]
    assert _distributions(household) == 1
    entry = _db.session.scalar(select(CounterEntry).where(CounterEntry.status == "needs_reason"))
    listed = client.get("/counter/entries", headers={"HX-Request": "true"})
    assert household.display_name in listed.get_data(as_text=True)

    empty = client.post(
        f"/counter/entries/{entry.id}/resolve",
        data={"reason": " ", "csrf_token": _token(client)},
        headers={"HX-Request": "true"},
    )
    assert empty.status_code == 422
    assert "Scrivi il motivo" in empty.get_data(as_text=True)
    assert _distributions(household) == 1

    resolved = client.post(
        f"/counter/entries/{entry.id}/resolve",
        data={"reason": "Nucleo di sei persone", "csrf_token": _token(client)},
        headers={"HX-Request": "true"},
    )
    assert resolved.status_code == 200
    assert _distributions(household) == 2
    _db.session.refresh(entry)
    assert entry.status == "recorded"
    assert entry.distribution.override_reason == ("Nucleo di sei persone")


def test_a_reason_given_offline_records_the_second_basket_at_once(client, login_as):
    org, site = _hub()
    household = factories.household(org)
    login_as("entity_operator", org)
    _sync(client, [_item(household, site)])
    answer = _sync(client, [_item(household, site, reason="Concordato con il servizio")])
    assert answer.get_json()["results"][0]["status"] == "recorded"
    assert _distributions(household) == 2


def test_no_stock_left_holds_the_entry_and_nothing_is_taken(client, login_as):
    org, site = _hub()
    household = factories.household(org)
    operator = login_as("entity_operator", org)
    supplies.record_delivery(
        site, "DDT 1", today(), [(supplies.standard_item("food_basket"), 1)], operator
    )
    _db.session.commit()
    answer = _sync(client, [_item(household, site, quantity=2)]).get_json()
    assert answer["results"][0]["status"] == "out_of_stock"
    assert _distributions(household) == 0
    entry = _db.session.scalar(select(CounterEntry))
    cancelled = client.post(
        f"/counter/entries/{entry.id}/cancel",
        data={"csrf_token": _token(client)},
        headers={"HX-Request": "true"},
    )
    assert cancelled.status_code == 200
    _db.session.refresh(entry)
    assert entry.status == "cancelled"
    assert _events("counter_entry_cancelled")


def test_a_household_out_of_scope_is_refused_and_not_named(client, login_as):
    org, site = _hub()
    stranger = factories.household(factories.organization())
    login_as("entity_operator", org)
    answer = _sync(client, [_item(stranger, site)], viewed=[stranger.id]).get_json()
    (result,) = answer["results"]
    assert result["status"] == "refused"
    assert result["message"] == "Nucleo non trovato tra quelli del tuo ente."
    assert _db.session.scalar(select(CounterEntry.household_id)) is None
    assert _distributions(stranger) == 0
    assert not _events("counter_offline_viewed")  # an id not in scope names nobody


def test_bad_entries_are_refused_one_by_one(client, login_as):
    org, site = _hub()
    household = factories.household(org)
    _other_org, other_site = _hub()
    login_as("entity_operator", org)
    items = [
        _item(household, site, quantity=0),
        _item(household, site, distributed_on=(today() + timedelta(days=1)).isoformat()),
        _item(household, other_site),
        _item(household, site, kind="basic_necessities"),
        {"key": "short"},
    ]
    results = _sync(client, items).get_json()["results"]
    assert [r["status"] for r in results] == ["refused", "refused", "refused", "recorded"]
    assert "quantità" in results[0]["message"]
    assert "futuro" in results[1]["message"]
    assert "snodi del tuo ente" in results[2]["message"]


def test_households_opened_offline_are_audited_at_sync(client, login_as):
    org, _site = _hub()
    household = factories.household(org)
    login_as("entity_operator", org)
    _sync(client, [], viewed=[household.id])
    (event,) = _events("counter_offline_viewed")
    assert (
        _db.session.scalar(
            select(AuditEventHousehold.household_id).where(
                AuditEventHousehold.audit_event_id == event.id
            )
        )
        == household.id
    )


def test_another_organizations_entry_is_not_found(client, login_as):
    org, site = _hub()
    household = factories.household(org)
    login_as("entity_operator", org)
    _sync(client, [_item(household, site)])
    _sync(client, [_item(household, site)])  # held: needs a reason
    entry = _db.session.scalar(select(CounterEntry).where(CounterEntry.status == "needs_reason"))
    client.post("/logout", data={"csrf_token": _token(client)})
    login_as("entity_operator", _hub()[0])
    for action in ("resolve", "cancel"):
        response = client.post(
            f"/counter/entries/{entry.id}/{action}",
            data={"reason": "x", "csrf_token": _token(client)},
        )
        assert response.status_code == 404
    listed = client.get("/counter/entries", headers={"HX-Request": "true"})
    assert household.display_name not in listed.get_data(as_text=True)


def test_two_tabs_sending_the_same_queue_at_once_record_it_once(app, db):
    """The page's retry and a second tab send the same key at the same moment."""
    from app.counter import operations
    from app.distributions.queries import hub_sites

    org, site = _hub()
    household = factories.household(org)
    user = factories.user("entity_operator", organization=org)
    _db.session.commit()
    raw = _item(household, site)
    ids = (user.id,)

    def prepare(i):
        from app.auth.models import User

        operator = _db.session.get(User, ids[0])
        return operator, hub_sites(operator)

    outcomes = race(
        app,
        prepare,
        lambda i, loaded: operations.apply(
            loaded[0], operations.QueuedDistribution.parse(raw), loaded[1]
        ),
    )
    assert all(o.won for o in outcomes), [o.error for o in outcomes]
    assert sorted(o.value[1] for o in outcomes) == [False, True]
    assert _distributions(household) == 1
    assert _db.session.scalar(select(func.count(CounterEntry.id))) == 1


def test_odd_input_never_breaks_the_counter(client, login_as):
    """Whatever a broken page or a script sends: a clear answer, never a server error."""
    org, site = _hub()
    household = factories.household(org)
    login_as("entity_operator", org)
    token = _token(client)
    for body in ("not json", "[]", '{"items": "x"}', '{"items": [1, null, "x", {"key": 3}]}'):
        response = client.post("/counter/sync", data=body, headers={**JSON, "X-CSRFToken": token})
        assert response.status_code in (200, 400), body
    odd = _item(household, site, quantity="2", site_id="1", kind="x" * 500, reason=["?"])
    (result,) = _sync(client, [odd]).get_json()["results"]
    assert result["status"] == "refused"
    _sync(client, [_item(household, site)])
    _sync(client, [_item(household, site)])  # held: needs a reason
    entry = _db.session.scalar(select(CounterEntry).where(CounterEntry.status == "needs_reason"))
    for reason in ("\x00", "\x00<script>alert(1)</script>", "x" * 5000):
        response = client.post(
            f"/counter/entries/{entry.id}/resolve",
            data={"reason": reason, "csrf_token": token},
            headers={"HX-Request": "true"},
        )
        assert response.status_code in (200, 400, 422)  # 400: the portal refuses NUL
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
        if response.status_code == 200:
            break
    _db.session.refresh(entry)
    assert entry.status == "recorded"
    assert len(entry.reason) <= 500
