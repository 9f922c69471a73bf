"""The city-scale household export as a background job (issue #22): measured over HTTP.

    .venv/bin/python bench/export_job.py --database-url sqlite:///$PWD/instance/scale.db
    .venv/bin/python bench/export_job.py --database-url postgresql://postgres@127.0.0.1:5432/x

Starts the portal with gunicorn (production settings, as bench/run.py, plus REDIS_URL and a
CACHE_KEY_PREFIX of its own) and one RQ worker (`flask --app wsgi worker`), logs in as the City
coordinator (who sees every household), asks for the whole household list as a file and records:

- the time of the request that queues the export (it must answer 303 to the progress page);
- the progress states the progress page showed, polled every 2 s as its htmx trigger does, and
  the progress values the job had written each time the database was read (every 0.2 s);
- the job's wall time (from "running" to "ready", database polled), and the worker process's CPU
  time and peak RSS (/proc/<pid>: utime + stime, VmHWM) before and after;
- the rows and bytes of the file, the time of its download (which writes the audit event naming
  every household, in that request) and the number of households that event names;
- pages served by gunicorn while the job runs (`/households/` every second): status and time.

It prints a Markdown report (bench/README.md, "Background export at city scale", holds the
figures). Exit status 1 when the file or its audit event lacks a household or a page served
during the job was not the list; 2 when the run could not be made. The run writes to the
database (exports, audit events): use a benchmark database.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # bench/ is not a package: bench/run.py imported from its folder
    ROOT,
    VENV_BIN,
    BenchError,
    Browser,
    Server,
    data_size,
    git_commit,
    log_in,
    machine,
    masked,
    portal_environment,
    portal_url,
    say,
    serving,
    stop_on_sigterm,
)

HTMX_POLL_S = 2.0  # templates/downloads/_progress.html: hx-trigger="every 2s"
DB_POLL_S = 0.2
PAGE_EVERY_S = 1.0
PROGRESS_TEXT = re.compile(r"Preparazione del file: ([\d.]+) di ([\d.]+) righe")
READY_TEXT = "Il file è pronto"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# The worker process ---------------------------------------------------------------------------


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_memory_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MiB (/proc/<pid>/status VmRSS, VmHWM)."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


class Worker:
    """`flask --app wsgi worker` in its own process group, stopped by that group's id."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "flask"), "--app", "wsgi", "worker"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while "Listening on" not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the worker did not start:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# Watching the export ----------------------------------------------------------------------------


@dataclass
class Watch:
    """What the database said of the export, polled every DB_POLL_S."""

    states: list[tuple[float, str, int, int]] = field(
        default_factory=list
    )  # t, status, done, total

    def first(self, status: str) -> float | None:
        return next((t for t, s, _d, _n in self.states if s == status), None)

    @property
    def written(self) -> list[int]:
        """The distinct rows_done values the job wrote while running."""
        return list(dict.fromkeys(d for _t, s, d, _n in self.states if s == "running"))


def watch_export(url: str, export_id: int, stop: threading.Event, into: Watch) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(portal_url(url))
    started = time.monotonic()
    try:
        with engine.connect() as connection:
            while not stop.is_set():
                row = connection.execute(
                    text("SELECT status, rows_done, rows_total FROM export_file WHERE id = :id"),
                    {"id": export_id},
                ).one()
                connection.rollback()  # a new snapshot each time
                into.states.append((time.monotonic() - started, row[0], row[1], row[2]))
                if row[0] in ("ready", "failed"):
                    return
                time.sleep(DB_POLL_S)
    finally:
        engine.dispose()


@dataclass
class PageLoad:
    samples: list[tuple[int, float, bool]] = field(default_factory=list)  # status, ms, page ok


def load_pages(browser: Browser, stop: threading.Event, into: PageLoad) -> None:
    """`/households/` once a second while the job runs, as a colleague would browse."""
    while not stop.is_set():
        began = time.perf_counter()
        reply = browser.get("/households/")
        ms = (time.perf_counter() - began) * 1000
        into.samples.append((reply.status, ms, 'id="household-results"' in reply.body))
        stop.wait(PAGE_EVERY_S)


def audit_named(url: str) -> tuple[int, int]:
    """The newest households_exported event: (its id, the households it names)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(portal_url(url))
    try:
        with engine.connect() as connection:
            event_id = connection.execute(
                text("SELECT max(id) FROM audit_event WHERE action = 'households_exported'")
            ).scalar()
            named = connection.execute(
                text("SELECT count(*) FROM audit_event_household WHERE audit_event_id = :id"),
                {"id": event_id},
            ).scalar()
    finally:
        engine.dispose()
    return int(event_id or 0), int(named or 0)


def expected_rows(url: str, query: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(portal_url(url))
    where = "" if "stato=tutti" in query else " WHERE status = 'active'"
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM household" + where)).scalar())  # noqa: S608
    finally:
        engine.dispose()


# One run ----------------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    queue_ms: float
    shown: list[str]
    written: int
    wall_s: float
    waited_s: float
    cpu_s: float
    rss_before_mib: float
    rss_peak_mib: float
    rows: int
    expected: int
    file_bytes: int
    download_ms: float
    audit_named: int
    pages: PageLoad


def run_once(
    url: str, portal: Server, worker: Worker, kind: str, query: str, timeout: float
) -> Result:
    browser = log_in(portal.port, "coordinatore")
    colleague = log_in(portal.port, "coordinatore")
    expected = expected_rows(url, query)
    cpu_before = proc_cpu_s(worker.pid)
    rss_before, _ = proc_memory_mib(worker.pid)
    began = time.perf_counter()
    asked = browser.get(f"/households/export.{kind}?{query}")
    queue_ms = (time.perf_counter() - began) * 1000
    match = re.fullmatch(r".*/exports/(\d+)", asked.location)
    if asked.status != 303 or match is None:
        raise BenchError(
            f"the export answered {asked.status} {asked.location!r}, not 303 to /exports/<id>: "
            "is REDIS_URL set, and the list above EXPORT_BACKGROUND_ROWS?"
        )
    export_id = int(match.group(1))
    stop = threading.Event()
    watch, pages = Watch(), PageLoad()
    watcher = threading.Thread(target=watch_export, args=(url, export_id, stop, watch))
    loader = threading.Thread(target=load_pages, args=(colleague, stop, pages))
    watcher.start()
    loader.start()
    shown: list[str] = []
    progress = f"/exports/{export_id}"
    deadline = time.monotonic() + timeout
    try:
        page = browser.get(progress)  # the page the redirect leads to, then htmx's polls
        while True:
            if page.status != 200:
                raise BenchError(f"{progress} answered {page.status}")
            found = PROGRESS_TEXT.search(page.body)
            if found:
                text = f"{found.group(1)} di {found.group(2)}"
                if not shown or shown[-1] != text:
                    shown.append(text)
            elif READY_TEXT in page.body:
                shown.append("pronto")
                break
            else:
                raise BenchError(f"{progress} shows neither progress nor the file:\n{page.body}")
            if time.monotonic() > deadline:
                raise BenchError(f"the export was not ready after {timeout:.0f} s")
            time.sleep(HTMX_POLL_S)
            page = browser.get(progress, {"HX-Request": "true"})
    finally:
        watcher.join(timeout=timeout)
        stop.set()
        watcher.join()
        loader.join()
    cpu_after = proc_cpu_s(worker.pid)
    _rss, rss_peak = proc_memory_mib(worker.pid)
    running, ready = watch.first("running"), watch.first("ready")
    if ready is None:
        raise BenchError(f"the export ended {watch.states[-1][1]}:\n{worker.log_tail()}")
    began = time.perf_counter()
    file = browser_download(browser, f"{progress}/file")
    download_ms = (time.perf_counter() - began) * 1000
    rows = count_rows(kind, file)
    _event, named = audit_named(url)
    return Result(
        kind=kind,
        queue_ms=queue_ms,
        shown=shown,
        written=len(watch.written),
        wall_s=ready - (running if running is not None else 0.0),
        waited_s=ready,
        cpu_s=cpu_after - cpu_before,
        rss_before_mib=rss_before,
        rss_peak_mib=rss_peak,
        rows=rows,
        expected=expected,
        file_bytes=len(file),
        download_ms=download_ms,
        audit_named=named,
        pages=pages,
    )


def browser_download(browser: Browser, path: str) -> bytes:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", browser.port, timeout=300)
    try:
        connection.request("GET", path, headers={"Cookie": browser.cookie_header})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise BenchError(f"the download answered {response.status}")
    finally:
        connection.close()
    return body


def count_rows(kind: str, body: bytes) -> int:
    """Data rows of the file (its header not counted)."""
    if kind == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")) - 1
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    return sum(1 for _ in sheet.iter_rows(values_only=True)) - 1


# Report -----------------------------------------------------------------------------------------


def report(
    label: str, url: str, version: str, counts: dict[str, int], results: list[Result]
) -> str:
    lines = [
        f"### {label}",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; commit {git_commit()}",
        f"- Machine: {machine()}",
        f"- Database: {version}, `{masked(url)}`; households {counts.get('household', 0):,}, "
        f"people {counts.get('person', 0):,}, audit events {counts.get('audit_event', 0):,}",
        "- gunicorn `--workers 2 --no-control-socket`, one RQ worker (`flask --app wsgi worker`), "
        "Redis db 5 with a prefix of the run's own; logged in as `coordinatore`.",
        "",
        "| | " + " | ".join(r.kind.upper() for r in results) + " |",
        "|---|" + "--:|" * len(results),
    ]

    def row(name: str, values: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(values) + " |")

    def ms_list(r: Result) -> list[float]:
        return [ms for _s, ms, _ok in r.pages.samples]

    row("request that queues it (ms)", [f"{r.queue_ms:.0f}" for r in results])
    row("progress states shown (2 s polls)", [str(len(r.shown)) for r in results])
    row("progress values read in the database (0.2 s polls)", [str(r.written) for r in results])
    row("job wall time, running → ready (s)", [f"{r.wall_s:.1f}" for r in results])
    row("request → ready (s)", [f"{r.waited_s:.1f}" for r in results])
    row("worker CPU time (s)", [f"{r.cpu_s:.1f}" for r in results])
    row(
        "worker RSS before → peak (MiB)",
        [f"{r.rss_before_mib:.0f} → {r.rss_peak_mib:.0f}" for r in results],
    )
    row("rows in the file (expected)", [f"{r.rows:,} ({r.expected:,})" for r in results])
    row("file size (MB)", [f"{r.file_bytes / 1e6:.1f}" for r in results])
    row("download request, audit included (ms)", [f"{r.download_ms:.0f}" for r in results])
    row("households named by its audit event", [f"{r.audit_named:,}" for r in results])
    row(
        "`/households/` during the job: answers, all 200 with the list",
        [
            f"{len(r.pages.samples)}, "
            + ("yes" if all(s == 200 and ok for s, _ms, ok in r.pages.samples) else "NO")
            for r in results
        ],
    )
    row(
        "… median / max (ms)",
        [
            f"{statistics.median(ms_list(r)):.0f} / {max(ms_list(r)):.0f}" if ms_list(r) else "—"
            for r in results
        ],
    )
    lines.append("")
    for r in results:
        lines.append(f"- {r.kind.upper()} progress shown: " + ", ".join(r.shown))
    lines.append("")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a city-scale database (seed-scale)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument(
        "--kind", action="append", choices=("csv", "xlsx"), help="csv, xlsx or both (default csv)"
    )
    parser.add_argument(
        "--query", default="stato=tutti", help="the list's filters (default: every household)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for a file")
    parser.add_argument("--label", help="report title (default: SQLite or PostgreSQL)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import redis

    args = parse_args(argv)
    url: str = args.database_url
    label = args.label or ("SQLite" if url.startswith("sqlite") else "PostgreSQL")
    version, counts = data_size(url)
    if counts.get("household", 0) <= 5000:
        raise BenchError(
            f"{masked(url)} has {counts.get('household', 0)} households: seed-scale it"
        )
    prefix = f"bench-export-{secrets.token_hex(4)}:"
    env = {
        **portal_environment(url),
        "REDIS_URL": args.redis_url,
        "CACHE_KEY_PREFIX": prefix,
    }
    client = redis.Redis.from_url(args.redis_url)
    client.ping()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-export-") as logs:
            portal = Server("portal", "wsgi:app", env, Path(logs), workers=2)
            with serving(portal):
                for kind in args.kind or ["csv"]:
                    worker = Worker(env, Path(logs) / f"worker-{kind}.log")
                    worker.start()  # a new worker per file: its peak RSS is this job's
                    try:
                        say(f"{kind}: asking coordinatore's export ({args.query})")
                        result = run_once(url, portal, worker, kind, args.query, args.timeout)
                    finally:
                        worker.stop()
                    say(
                        f"{kind}: {result.rows} rows, {result.file_bytes} bytes, "
                        f"{result.wall_s:.1f} s, CPU {result.cpu_s:.1f} s, "
                        f"peak RSS {result.rss_peak_mib:.0f} MiB"
                    )
                    results.append(result)
                lost = portal.workers_lost()
                if lost:
                    say(f"warning: gunicorn replaced {lost} worker(s) during the run")
    finally:
        names = list(client.scan_iter(match=f"*{prefix}*", count=500))
        if names:
            client.delete(*names)
        client.close()
    print(report(label, url, version, counts, results))
    failures = [
        r
        for r in results
        if r.rows != r.expected
        or r.audit_named != r.expected
        or not all(s == 200 and ok for s, _ms, ok in r.pages.samples)
    ]
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as problem:
        print(f"bench: {problem}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench: interrupted, servers stopped", file=sys.stderr)
        sys.exit(130)
