"""A short-lived cache of computed aggregates: in Redis when REDIS_URL is set, else per process.

Only for results that are not personal data and may be a few minutes old (the monitoring
report, the services matching ranks). Without Redis each process keeps its own copy, so no
process depends on another (the embedded default: one process). With Redis every process and
machine reads the copy the first one computed, and one computes it while the others wait.

What goes into Redis is pickled and sealed (Fernet, a key derived from SECRET_KEY): a value that
another key wrote, or that was altered in Redis, is never unpickled, only computed afresh. When
Redis cannot be reached the value is computed in the request, as without Redis.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import pickle
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cryptography.fernet import InvalidToken
from flask import current_app, has_request_context

from app.shared import redis_client

T = TypeVar("T")

MAX_ENTRIES = 64
# How long a process waits for another one computing the same value before computing it too.
WAIT_FOR_OTHERS_SECONDS = 30.0

log = logging.getLogger(__name__)

_entries: dict[Hashable, tuple[float, float, object]] = {}
_lock = threading.Lock()
_computing: dict[Hashable, threading.Lock] = {}


def cached(key: Hashable, compute: Callable[[], T], setting: str) -> tuple[T, float]:
    """The value for `key` and when it was computed (time.time()); `setting` holds the seconds
    a value lives (0: always computed afresh)."""
    # Only pages are served from the cache: commands (the demo loader) always read afresh.
    lifetime = float(current_app.config.get(setting, 0)) if has_request_context() else 0.0
    if lifetime <= 0:
        return compute(), time.time()
    # One thread computes a missing value; the others asking for it meanwhile wait for it
    # instead of computing it too (eight report requests at once would each take seconds).
    if redis_client() is not None:
        try:
            return _shared(key, compute, lifetime)
        except _Unreachable as error:
            log.warning("shared cache unreachable, computing in the request: %s", error)
            return compute(), time.time()
    return _local(key, compute, lifetime)


def _local(key: Hashable, compute: Callable[[], T], lifetime: float) -> tuple[T, float]:
    with _lock:
        hit = _entries.get(key)
    if hit is not None and time.monotonic() - hit[0] < lifetime:
        return hit[2], hit[1]  # type: ignore[return-value]
    with _lock:
        key_lock = _computing.setdefault(key, threading.Lock())
    with key_lock:
        with _lock:
            hit = _entries.get(key)
        if hit is not None and time.monotonic() - hit[0] < lifetime:
            return hit[2], hit[1]  # type: ignore[return-value]
        value = compute()
        computed_at = time.time()
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                oldest = min(_entries, key=lambda k: _entries[k][0])
                del _entries[oldest]
            _entries[key] = (time.monotonic(), computed_at, value)
            _computing.pop(key, None)
    return value, computed_at


# Shared (Redis) ----------------------------------------------------------------------------


class _Unreachable(Exception):
    pass


def _name(key: Hashable) -> str:
    digest = hashlib.sha256(repr(key).encode()).hexdigest()
    return f"{current_app.config['CACHE_KEY_PREFIX']}cache:{digest}"


def _box() -> Any:
    from app.auth.sealing import box

    return box(b"shared cache")


def _read(client: Any, name: str) -> tuple[Any, float] | None:
    try:
        raw = client.get(name)
    except Exception as error:  # redis.RedisError, OSError: Redis down or unreachable
        raise _Unreachable(str(error)) from error
    if raw is None:
        return None
    try:
        computed_at, value = pickle.loads(_box().decrypt(raw))  # noqa: S301 - sealed by us
    except (InvalidToken, ValueError, pickle.UnpicklingError):
        log.warning("shared cache entry %s not sealed with this portal's key: ignored", name)
        return None
    return value, computed_at


def _shared(key: Hashable, compute: Callable[[], T], lifetime: float) -> tuple[T, float]:
    client = redis_client()
    name = _name(key)
    found = _read(client, name)
    if found is not None:
        return found  # type: ignore[return-value]
    ttl_ms = max(int(lifetime * 1000), 1)
    lock_name = name + ":computing"
    try:
        mine = bool(client.set(lock_name, b"1", nx=True, px=int(WAIT_FOR_OTHERS_SECONDS * 1000)))
    except Exception as error:
        raise _Unreachable(str(error)) from error
    if not mine:
        # Another process is computing it: wait for its answer (polling a few times a second),
        # then compute it here after all if it never came.
        deadline = time.monotonic() + WAIT_FOR_OTHERS_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.05)
            found = _read(client, name)
            if found is not None:
                return found  # type: ignore[return-value]
    try:
        value = compute()
        computed_at = time.time()
        sealed = _box().encrypt(pickle.dumps((computed_at, value), pickle.HIGHEST_PROTOCOL))
        try:
            client.set(name, sealed, px=ttl_ms)
        except Exception as error:  # the value is right; only sharing it failed
            log.warning("shared cache unreachable, value not shared: %s", error)
        return value, computed_at
    finally:
        if mine:
            with contextlib.suppress(Exception):  # the lock expires by itself anyway
                client.delete(lock_name)


def clear() -> None:
    """Forget every cached value (this process's, and with Redis the shared ones)."""
    with _lock:
        _entries.clear()
        _computing.clear()
    client = redis_client()
    if client is not None:
        prefix = current_app.config["CACHE_KEY_PREFIX"] + "cache:*"
        names = list(client.scan_iter(match=prefix, count=500))
        if names:
            client.delete(*names)
