"""Infrastructure shared by the processes and machines that serve the portal: Redis.

`REDIS_URL` unset (the embedded default: one process, SQLite) means none of it is used and the
portal works on its own. Set, it carries the login throttle (Flask-Limiter's storage) and the
shared caches, so two processes never disagree and an attacker does not get N times the attempts.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_app_context

EXTENSION = "reti_redis"


def init_redis(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    if not url:
        return
    import redis

    app.extensions[EXTENSION] = redis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
    )


def redis_client() -> Any | None:
    """The application's Redis client, or None without REDIS_URL (or outside an app)."""
    if not has_app_context():
        return None
    return current_app.extensions.get(EXTENSION)
