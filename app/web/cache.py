"""A short-lived cache of computed aggregates, kept in each process.

Only for results that are not personal data and may be a few minutes old (the monitoring
report of a past quarter); each process keeps its own copy, so no process depends on another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, has_request_context

T = TypeVar("T")

MAX_ENTRIES = 64

_entries: dict[Hashable, tuple[float, float, object]] = {}
_lock = threading.Lock()
_computing: dict[Hashable, threading.Lock] = {}


def cached(key: Hashable, compute: Callable[[], T], setting: str) -> tuple[T, float]:
    """The value for `key` and when it was computed (time.time()); `setting` holds the seconds
    a value lives (0: always computed afresh)."""
    # Only pages are served from the cache: commands (the demo loader) always read afresh.
    lifetime = float(current_app.config.get(setting, 0)) if has_request_context() else 0.0
    now = time.monotonic()
    if lifetime > 0:
        with _lock:
            hit = _entries.get(key)
        if hit is not None and now - hit[0] < lifetime:
            return hit[2], hit[1]  # type: ignore[return-value]
    if lifetime <= 0:
        return compute(), time.time()
    # One thread computes a missing value; the others asking for it meanwhile wait for it
    # instead of computing it too (eight report requests at once would each take seconds).
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


def clear() -> None:
    with _lock:
        _entries.clear()
        _computing.clear()
