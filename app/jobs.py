"""Work done after the response or by the background worker.

With REDIS_URL, `later()` puts a job on the portal's RQ queue, run by `make worker`
(`flask --app wsgi worker`): no web worker waits for it. Without Redis the same function runs in
this process right after the response has been sent (the embedded default, as before).
Jobs are module-level functions, given plain arguments (ids), that open and close their own
session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g

from app.shared import redis_client

PENDING = "reti_jobs_pending"


def queue() -> Any:
    """The portal's queue: "<CACHE_KEY_PREFIX>jobs" ("reti:jobs"), so portals sharing a Redis
    keep their jobs apart."""
    from rq import Queue

    return Queue(current_app.config["CACHE_KEY_PREFIX"] + "jobs", connection=redis_client())


def later(job: Callable[..., Any], *args: Any) -> None:
    """Run `job(*args)` once this request's response is out (once per request, job and args).
    The arguments travel through Redis: plain values (ids), never objects."""
    pending: list[tuple[Callable[..., Any], tuple[Any, ...]]] = g.setdefault(PENDING, [])
    if (job, args) not in pending:
        pending.append((job, args))


def _dispatch(response: Response) -> Response:
    pending: list[tuple[Callable[..., Any], tuple[Any, ...]]] = g.pop(PENDING, [])
    if not pending:
        return response
    if redis_client() is not None:
        try:
            for job, args in pending:
                queue().enqueue(f"{job.__module__}.{job.__name__}", *args, job_timeout=1800)
            return response
        except Exception as error:  # Redis unreachable: run it here rather than lose it
            current_app.logger.warning("job queue unreachable, running in the process: %s", error)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            for job, args in pending:
                try:
                    job(*args)
                except Exception:  # a failed job never breaks the response already sent
                    app.logger.exception("job %s failed", job.__name__)

    response.call_on_close(run)
    return response


def register_jobs(app: Flask) -> None:
    app.after_request(_dispatch)


def worker(connection: Any) -> Any:
    """The worker of `make worker`: rq's SimpleWorker (each job runs in this process, in its
    application context) without rq's command channel, which nothing here uses: stop it with
    SIGTERM (it finishes the job in hand). Without the channel it also stops at once after a
    burst, instead of waiting up to a minute for the channel's thread."""
    from rq import SimpleWorker

    class Worker(SimpleWorker):
        def subscribe(self) -> None:
            return None

        def unsubscribe(self) -> None:
            return None

    return Worker([queue()], connection=connection)
