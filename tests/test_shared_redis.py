"""Several processes on one Redis (REDIS_URL): the login throttle and the report cache are shared.

Each "instance" is a process of its own (as a second gunicorn, on another machine, would be), with
the same database and SECRET_KEY: it sees nothing of another's memory, only Redis and the
database. Redis is the real server of the machine (REDIS_TEST_URL, default 127.0.0.1:6379 db 15);
CI starts one and sets REQUIRE_REDIS=1, so there these tests can never be skipped.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator

import pytest

from app.web import cache
from tests import factories
from tests.test_auth_defences import in_another_process

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the real Redis, removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"Redis required (REQUIRE_REDIS) but unreachable: {error}")
        pytest.skip(f"no Redis at {REDIS_TEST_URL}: {error}")
    prefix = f"reti-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    names = list(client.scan_iter(match=f"*{prefix}*", count=500))  # limits adds "LIMITS:"
    if names:
        client.delete(*names)
    client.close()


def instance(database_uri: str, prefix: str, secret: str, **extra: object) -> dict[str, object]:
    return {
        "REDIS_URL": REDIS_TEST_URL,
        "RATELIMIT_STORAGE_URI": REDIS_TEST_URL,
        "CACHE_KEY_PREFIX": prefix,
        "RATELIMIT_KEY_PREFIX": prefix + "limiter",
        "SECRET_KEY": secret,
        **extra,
    }


def redis_keys(prefix: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        return list(client.scan_iter(match=f"*{prefix}*"))
    finally:
        client.close()


WRONG_PASSWORDS = """
codes = []
for _ in range(args["config"]["ATTEMPTS"]):
    answer = post("/login", username=args["config"]["USERNAME"], password="sbagliata-davvero")
    codes.append(answer.status_code)
print(json.dumps(codes))
"""


def test_failed_logins_spread_over_two_instances_are_throttled_as_on_one(
    database_uri, db, redis_prefix
):
    """Limit 5 a minute per account: three refusals on A, three on B; B's third is the sixth
    and is refused with 429. With a per-process counter B would have allowed all three."""
    user = factories.user(role="entity_operator", organization=factories.organization())
    db.session.commit()
    secret = secrets.token_urlsafe(32)
    config = instance(
        database_uri,
        redis_prefix,
        secret,
        LOGIN_LIMIT_PER_ACCOUNT="5 per minute",
        USERNAME=user.username,
        ATTEMPTS=3,
    )
    first = in_another_process(database_uri, WRONG_PASSWORDS, **config)
    second = in_another_process(database_uri, WRONG_PASSWORDS, **config)
    assert 429 not in first
    assert second[:2] == [first[0], first[0]]  # the fourth and fifth: refused, not throttled
    assert second[2] == 429
    assert any(b"login-account" in key for key in redis_keys(redis_prefix))


REPORT = """
import app.reports.views as report_views
if args["config"].get("FORBID_COMPUTING"):
    def refuse(*_args, **_kwargs):
        raise AssertionError("this instance computed the report itself")
    report_views.build_report = refuse
post("/login", username=args["config"]["USERNAME"], password=args["config"]["PASSWORD"])
answer = client.get("/reports/")
print(json.dumps([answer.status_code, "report-computed-at" in answer.get_data(as_text=True)]))
"""


def test_the_report_computed_by_one_instance_is_served_by_the_other(database_uri, db, redis_prefix):
    coordinator = factories.user(role="coordinator")
    factories.household(factories.organization(), members=2)
    db.session.commit()
    secret = secrets.token_urlsafe(32)
    config = instance(
        database_uri,
        redis_prefix,
        secret,
        REPORT_CACHE_SECONDS=300,
        USERNAME=coordinator.username,
        PASSWORD=factories.PASSWORD,
    )
    assert in_another_process(database_uri, REPORT, **config) == [200, True]
    assert any(b":cache:" in key for key in redis_keys(redis_prefix))
    # Instance B may not compute it: it answers from what A left in Redis.
    assert in_another_process(database_uri, REPORT, FORBID_COMPUTING=True, **config) == [
        200,
        True,
    ]
    # Without Redis, an instance of its own has nothing to answer from: it must compute.
    alone = {**config, "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"}
    with pytest.raises(Exception, match="computed the report itself"):
        in_another_process(database_uri, REPORT, FORBID_COMPUTING=True, **alone)


def test_an_entry_not_sealed_with_this_portals_key_is_computed_afresh(app, redis_prefix):
    """What another key wrote in Redis (or a forged value) is never unpickled."""
    import redis

    calls: list[int] = []
    with app.test_request_context():
        app.config.update(CACHE_KEY_PREFIX=redis_prefix, TEST_CACHE_SECONDS=60)
        app.extensions["reti_redis"] = redis.Redis.from_url(REDIS_TEST_URL)
        try:
            value, _at = cache.cached(
                ("k",), lambda: calls.append(1) or "primo", "TEST_CACHE_SECONDS"
            )
            assert value == "primo"
            again, _at = cache.cached(
                ("k",), lambda: calls.append(1) or "altro", "TEST_CACHE_SECONDS"
            )
            assert again == "primo"  # served from Redis
            assert len(calls) == 1
            name = cache._name(("k",))
            app.extensions["reti_redis"].set(name, b"gAAAAAforged-not-a-fernet-token")
            fresh, _at = cache.cached(
                ("k",), lambda: calls.append(1) or "ricalcolato", "TEST_CACHE_SECONDS"
            )
            assert fresh == "ricalcolato"
            assert len(calls) == 2
        finally:
            app.extensions.pop("reti_redis").close()
            app.config.update(CACHE_KEY_PREFIX="reti:")


def test_redis_down_the_value_is_computed_in_the_request(app):
    """A Redis that does not answer does not take the page down: the value is computed."""
    import redis

    with app.test_request_context():
        app.config.update(TEST_CACHE_SECONDS=60)
        app.extensions["reti_redis"] = redis.Redis.from_url(
            "redis://127.0.0.1:1/0", socket_connect_timeout=0.5
        )
        try:
            value, _at = cache.cached(("down",), lambda: 42, "TEST_CACHE_SECONDS")
        finally:
            app.extensions.pop("reti_redis").close()
    assert value == 42
