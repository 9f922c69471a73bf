"""Benchmark of the portal's main pages against a bare Flask + SQLAlchemy floor (issue #10).

    .venv/bin/python bench/run.py --database-url sqlite:////tmp/bench-demo.db --duration 3
    .venv/bin/python bench/run.py --database-url "$URL" --out bench/RESULTS.md --label PostgreSQL

Starts the portal (production settings) and bench/floor.py with gunicorn, logs in as the demo
accounts, checks every page once, loads each with wrk, counts the SQL statements of one request
in-process, times the matching suggestions in-process, and prints a Markdown report (optionally
written into bench/RESULTS.md under --label). See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
LUA_REPORT = BENCH / "report.lua"
PASSWORD = "demo-Torino-2026"  # noqa: S105 - the published password of the demo accounts
ACCOUNTS = ("admin", "coordinatore", "ente1", "ente2", "alloggi1")

TARGET_RATIO = 0.5  # at least half the floor's throughput
TARGET_P95_MS = 50.0
TARGET_MATCHING_MS = 20.0
MATCHING_SAMPLE = 50
MAIN_TABLES = (
    "organization",
    "service",
    "site",
    "user_account",
    "household",
    "person",
    "distribution",
    "referral",
    "housing_unit",
    "placement",
    "housing_risk_case",
    "project",
    "budget_line",
    "audit_event",
    "notification",
)
HTMX = {"HX-Request": "true"}
LOGIN_FORM = 'name="password"'


class BenchError(Exception):
    """Something the run cannot measure honestly: it stops with this message."""


# Plain HTTP with a cookie jar per account ------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Browser:
    """One account's session: the cookies the portal set, sent back as a Cookie header.

    The portal's production cookies are Secure; the benchmark talks plain HTTP to 127.0.0.1,
    so it keeps them itself instead of using http.cookiejar (which would drop them).
    """

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | list[tuple[str, str]] | None = None,
        timeout: float = 60,
    ) -> Reply:
        """`form` is urlencoded like a browser's: a list of pairs keeps repeated names."""
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = self.cookie_header
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            reply = Reply(response.status, response.msg, response.read().decode("utf-8", "replace"))
        finally:
            connection.close()
        for raw in reply.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return reply

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers)


CSRF_FIELD = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    if match is None:
        raise BenchError("the login page has no csrf_token field")
    return match.group(1) or match.group(2)


def log_in(port: int, username: str) -> Browser:
    browser = Browser(port)
    page = browser.get("/login")
    if page.status != 200:
        raise BenchError(f"GET /login answered {page.status}")
    form = {"csrf_token": csrf_token(page.body), "username": username, "password": PASSWORD}
    reply = browser.request("POST", "/login", form=form)
    if reply.status != 303:
        raise BenchError(
            f"login as {username} answered {reply.status}, not 303: is the database seeded "
            "with the demo accounts (flask seed-demo, or seed-scale)?"
        )
    target = urllib.parse.urlsplit(reply.location).path
    if target.startswith(("/login", "/account")):
        raise BenchError(
            f"login as {username} went to {target} (second factor or password change): the "
            "benchmark needs accounts without those steps"
        )
    home = browser.get("/")  # shows (and so empties) the welcome message kept in the session
    if home.status != 200 or LOGIN_FORM in home.body:
        raise BenchError(f"after logging in as {username}, the home page answered {home.status}")
    return browser


# The pages -------------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    account: str
    path: str
    marker: str  # what the answer must contain: proof that it is the page, not an error
    fragment: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)
    json: bool = False
    # Not a page of the issue: measured to show what the portal's shell alone costs.
    reference: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {**(HTMX if self.fragment else {}), **self.extra_headers}


@dataclass
class Measure:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass
class Row:
    page: Page
    measure: Measure
    queries: int | None = None


def check(browser: Browser, page: Page) -> Reply:
    """One request must answer 200 with the page's own content (not the login page)."""
    reply = browser.get(page.path, page.headers)
    where = f"{page.name} ({page.account}, GET {page.path})"
    if reply.status != 200:
        raise BenchError(f"{where} answered {reply.status} {reply.location}".rstrip())
    if page.json:
        try:
            json.loads(reply.body)
        except ValueError as error:
            raise BenchError(f"{where} did not answer JSON: {reply.body[:200]!r}") from error
        if not reply.headers.get("Content-Type", "").startswith("application/json"):
            raise BenchError(f"{where} answered {reply.headers.get('Content-Type')}, not JSON")
    if LOGIN_FORM in reply.body and page.marker != LOGIN_FORM:
        raise BenchError(f"{where} answered the login page: the session was not accepted")
    if page.marker not in reply.body:
        raise BenchError(f"{where} answered 200 without {page.marker!r}: not the expected page")
    if page.fragment and "<html" in reply.body:
        raise BenchError(f"{where} answered a whole page to an htmx request, not a fragment")
    return reply


def links(html: str, prefix: str) -> list[int]:
    """The ids of the links to `prefix`<id> in a page, in order, without repeats."""
    found = re.findall(rf'href="{re.escape(prefix)}(\d+)"', html)
    return list(dict.fromkeys(int(value) for value in found))


def first_working(
    browser: Browser, ids: list[int], make: Callable[[int], Page], what: str
) -> tuple[int, Page]:
    for candidate in ids[:30]:
        page = make(candidate)
        try:
            check(browser, page)
        except BenchError:
            continue
        return candidate, page
    raise BenchError(f"no {what} among the ids the list showed ({ids[:30]})")


def discover_pages(browsers: dict[str, Browser], url: str) -> list[Page]:
    """The pages of the issue, with ids and search terms taken from what each role sees."""
    ente1 = browsers["ente1"]
    households = links(ente1.get("/households/").body, "/households/")
    if not households:
        raise BenchError("ente1 sees no household in /households/: seed the database first")
    detail_id, detail = first_working(
        ente1,
        households,
        lambda hid: Page("household detail", "ente1", f"/households/{hid}", 'id="members-title"'),
        "household ente1 can open",
    )
    _form_id, matching = first_working(
        ente1,
        households,
        lambda hid: Page(
            "matching suggestions (referral form)",
            "ente1",
            f"/referrals/new?household={hid}&need=job_search",
            'name="service"',
        ),
        "household with suggestions for a job-search referral",
    )
    projects = links(ente1.get("/projects/").body, "/projects/")
    _project_id, project = first_working(
        ente1,
        projects,
        lambda pid: Page("project detail", "ente1", f"/projects/{pid}", 'id="budget-title"'),
        "project ente1 can open",
    )
    surname, organization_word = search_terms(url, detail_id)
    household_q = urllib.parse.urlencode({"q": surname})
    registry_q = urllib.parse.urlencode({"q": organization_word})
    return [
        Page(
            "reference: the layout alone (accessibility statement, no data)",
            "ente1",
            "/accessibilita",
            "Dichiarazione di accessibilità",
            reference=True,
        ),
        Page(
            "registry search", "coordinatore", f"/entities/?{registry_q}", 'id="registry-results"'
        ),
        Page(
            "registry search (fragment)",
            "coordinatore",
            f"/entities/?{registry_q}",
            'href="/entities/',
            fragment=True,
        ),
        Page("household list", "ente1", "/households/", 'id="household-results"'),
        Page(
            "household search (fragment)",
            "ente1",
            f"/households/?{household_q}",
            'href="/households/',
            fragment=True,
        ),
        detail,
        Page(
            "referral queue",
            "coordinatore",
            "/referrals/?status=submitted",
            'id="referral-results"',
        ),
        matching,
        Page(
            "matching suggestions (fragment)",
            "ente1",
            matching.path,
            'name="service"',
            fragment=True,
        ),
        Page("housing board", "alloggi1", "/housing/", 'id="board-filters"'),
        Page("housing board", "coordinatore", "/housing/", 'id="board-filters"'),
        Page(
            "housing board refresh (fragment)",
            "coordinatore",
            "/housing/",
            'id="totals-title"',
            fragment=True,
            extra_headers={"HX-Source": "div#board-live"},
        ),
        project,
        Page("reports home", "coordinatore", "/reports/", 'id="report-scope"'),
        Page("HSDS services (API)", "admin", "/api/hsds/services", '"contents"', json=True),
    ]


def search_terms(url: str, household_id: int) -> tuple[str, str]:
    """A surname of that household (what a worker types) and a word of an organization's name."""
    from sqlalchemy import create_engine, text

    engine = create_engine(portal_url(url))
    try:
        with engine.connect() as connection:
            surname = connection.execute(
                text(
                    "SELECT last_name FROM person WHERE household_id = :id "
                    "AND last_name IS NOT NULL ORDER BY id LIMIT 1"
                ),
                {"id": household_id},
            ).scalar()
            name = connection.execute(text("SELECT name FROM organization ORDER BY id LIMIT 1"))
            organization = name.scalar() or ""
    finally:
        engine.dispose()
    words = [w for w in re.findall(r"\w+", organization) if len(w) >= 4] or ["coop"]
    return (surname or "rossi").lower(), words[0].lower()


# wrk ------------------------------------------------------------------------------------------


def run_wrk(
    port: int, path: str, headers: dict[str, str], duration: float, connections: int
) -> Measure:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_REPORT),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed on {path}: {done.stderr.strip() or done.stdout.strip()}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = data["duration_us"] / 1e6
    errors = sum(
        data[key]
        for key in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return Measure(
        requests_per_second=data["requests"] / seconds if seconds else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        errors=errors,
    )


SETTLED_S = 1.0
SETTLE_LIMIT_S = 60.0


def settle(browser: Browser, page: Page, connections: int) -> float:
    """After the warm-up, `connections` requests at once, again until every one answers within
    SETTLED_S: the per-process caches (the report's first computation, seconds at city scale)
    are then filled in every worker, and the run measures the steady state. The seconds it took.
    """
    started = time.monotonic()

    def probe(_index: int) -> float:
        began = time.perf_counter()
        Browser(browser.port, dict(browser.cookies)).get(page.path, page.headers)
        return time.perf_counter() - began

    with ThreadPoolExecutor(connections) as pool:
        while True:
            slowest = max(pool.map(probe, range(connections)))
            waited = time.monotonic() - started
            if slowest < SETTLED_S or waited > SETTLE_LIMIT_S:
                return waited


def mean_measure(first: Measure, second: Measure) -> Measure:
    """The floor measured before and after the pages: the mean of both."""
    return Measure(
        requests_per_second=(first.requests_per_second + second.requests_per_second) / 2,
        p50_ms=(first.p50_ms + second.p50_ms) / 2,
        p95_ms=(first.p95_ms + second.p95_ms) / 2,
        p99_ms=(first.p99_ms + second.p99_ms) / 2,
        requests=first.requests + second.requests,
        errors=first.errors + second.errors,
    )


# Servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A gunicorn started in its own process group, stopped by that group's id."""

    def __init__(
        self,
        name: str,
        app: str,
        env: dict[str, str],
        log_dir: Path,
        *,
        workers: int = 2,
        options: tuple[str, ...] = (),
        gunicorn: Path = VENV_BIN / "gunicorn",
        log_path: Path | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = log_path or log_dir / f"{name}.log"
        self.command = [
            str(gunicorn),
            "--no-control-socket",
            "--workers",
            str(workers),
            *options,
            "--bind",
            f"127.0.0.1:{self.port}",
            *(["--pythonpath", str(BENCH)] if app.startswith("floor:") else []),
            app,
        ]
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                if Browser(self.port).get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"{self.name} not healthy after {timeout:.0f}s:\n{self.log_tail()}")

    def workers_lost(self) -> int:
        """Worker processes gunicorn had to replace: killed by a signal or timed out."""
        log = self.log_path.read_text(errors="replace")
        return log.count("was sent SIG") + log.count("WORKER TIMEOUT")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)  # the master and its workers, nothing else
            process.wait(timeout=20)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def base_environment() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "PORTAL_ENV", "SECRET_KEY", "FLASK_DEBUG"}
    }


def portal_environment(url: str) -> dict[str, str]:
    """The portal in production mode on `url`, with a random secret key."""
    return {
        **base_environment(),
        "DATABASE_URL": url,
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        # The demo accounts of the City have no authenticator app: no second step to log in.
        "TOTP_REQUIRED_FOR_CITY": "false",
    }


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    """The server started and healthy for the block, stopped after it whatever happens."""
    try:
        server.start()
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@contextmanager
def servers(url: str, log_dir: Path) -> Iterator[tuple[Server, Server]]:
    base = base_environment()
    portal = Server("portal", "wsgi:app", portal_environment(url), log_dir)
    floor = Server("floor", "floor:app", {**base, "DATABASE_URL": url}, log_dir)
    try:
        portal.start()
        floor.start()
        portal.wait_healthy()
        floor.wait_healthy()
        yield portal, floor
    finally:
        floor.stop()
        portal.stop()


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# In-process: queries per request, matching suggestions, data size ---------------------------


def portal_url(url: str) -> str:
    sys.path.insert(0, str(ROOT))
    from app.config import database_url

    return database_url(url)


IN_PROCESS_SAMPLES = 20


@dataclass
class InProcess:
    queries: dict[tuple[str, str, bool], int]
    serial_ms: dict[tuple[str, str, bool], float]  # median of one request at a time, no HTTP
    floor_serial_ms: float
    cpu_ms: dict[tuple[str, str, bool], float]  # the same requests' CPU time (process_time)
    floor_cpu_ms: float
    matching: dict[str, float]


def serial_ms(call: Callable[[], object]) -> tuple[float, float]:
    """Median wall-clock ms and median CPU ms (`time.process_time`, which other programs on a
    shared machine do not disturb) of one request at a time."""
    wall, cpu = [], []
    for _ in range(IN_PROCESS_SAMPLES):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def in_process(url: str, pages: list[Page], *, show_queries: bool = False) -> InProcess:
    """SQL statements of one request per page (after one warm-up), then the matching timing."""
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(ROOT))
    from flask.testing import FlaskClient
    from sqlalchemy import event

    from app import create_app
    from app.config import Config
    from app.extensions import db

    config = Config()
    config.TOTP_REQUIRED_FOR_CITY = False  # type: ignore[misc]
    config.SESSION_COOKIE_SECURE = False  # type: ignore[misc]
    app = create_app(config)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    clients: dict[str, FlaskClient] = {}
    for account in sorted({page.account for page in pages}):
        client = app.test_client()
        form_page = client.get("/login").get_data(as_text=True)
        answer = client.post(
            "/login",
            data={
                "csrf_token": csrf_token(form_page),
                "username": account,
                "password": PASSWORD,
            },
        )
        if answer.status_code != 303:
            raise BenchError(f"in-process login as {account} answered {answer.status_code}")
        client.get("/")
        clients[account] = client
    queries: dict[tuple[str, str, bool], int] = {}
    for page in pages:
        client = clients[page.account]
        client.get(page.path, headers=page.headers)  # warm-up: caches, first connection
        statements.clear()
        answer = client.get(page.path, headers=page.headers)
        if answer.status_code != 200:
            raise BenchError(f"in-process {page.name} answered {answer.status_code}")
        queries[(page.path, page.account, page.fragment)] = len(statements)
        if show_queries:
            say(f"{page.name} ({page.account}): {len(statements)} statements")
            for statement in statements:
                say("    " + " ".join(statement.split())[:160])
    event.remove(engine, "before_cursor_execute", count)
    measured = {
        (page.path, page.account, page.fragment): serial_ms(
            lambda page=page: clients[page.account].get(page.path, headers=page.headers)
        )
        for page in pages
    }
    timings = {key: wall for key, (wall, _cpu) in measured.items()}
    cpu = {key: cpu_ms for key, (_wall, cpu_ms) in measured.items()}
    sys.path.insert(0, str(BENCH))
    from floor import create_app as create_floor

    floor_client = create_floor(url).test_client()
    floor_client.get("/")
    floor_ms, floor_cpu = serial_ms(lambda: floor_client.get("/"))
    with app.app_context():
        matching = time_matching(app)
    return InProcess(queries, timings, floor_ms, cpu, floor_cpu, matching)


def time_matching(app: Any) -> dict[str, float]:
    """The referral form's suggestions as the page computes them (`views._suggestions`): the
    services offered (kept OFFERS_CACHE_SECONDS per process, so read from the database once),
    the hard filters, and the ranking of the 10 shown; for households across the table."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.clock import today
    from app.extensions import db
    from app.households.models import Household
    from app.referrals import queries, views
    from app.referrals.vocabulary import NEED_LABELS
    from app.web import cache

    ids = list(db.session.scalars(select(Household.id).order_by(Household.id)))
    step = max(len(ids) // MATCHING_SAMPLE, 1)
    chosen = ids[::step][:MATCHING_SAMPLE]
    households = db.session.scalars(
        select(Household).where(Household.id.in_(chosen)).options(selectinload(Household.members))
    ).all()
    needs = list(NEED_LABELS)
    day = today()
    start = time.perf_counter()
    services = len(queries._load_offers(day))
    cold = (time.perf_counter() - start) * 1000
    totals: list[float] = []
    cache.clear()
    with app.test_request_context("/referrals/new"):
        views._suggestions(households[0], households[0].reference_person, needs[0])  # fills it
        for index, household in enumerate(households):
            person = household.reference_person or (
                household.members[0] if household.members else None
            )
            start = time.perf_counter()
            views._suggestions(household, person, needs[index % len(needs)])
            totals.append((time.perf_counter() - start) * 1000)
    cache.clear()
    db.session.rollback()
    if not totals:
        raise BenchError("no household to time the matching suggestions with")
    return {
        "households": len(totals),
        "services": services,
        "median_ms": statistics.median(totals),
        "p95_ms": percentile(totals, 95),
        "offers_load_ms": cold,
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def data_size(url: str) -> tuple[str, dict[str, int]]:
    """The database server's version and the row count of each main table."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(portal_url(url))
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                version = "SQLite " + connection.execute(text("SELECT sqlite_version()")).scalar()
            else:
                raw = connection.execute(text("SELECT version()")).scalar() or ""
                version = " ".join(raw.split()[:2])
            existing = set(inspect(connection).get_table_names())
            counts = {
                table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)  # noqa: S608 - fixed names
                for table in MAIN_TABLES
                if table in existing
            }
    finally:
        engine.dispose()
    return version, counts


# Report ---------------------------------------------------------------------------------------


def machine() -> str:
    cpus = len(os.sched_getaffinity(0))
    model = "unknown CPU"
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    return f"{cpus} CPUs ({model}){memory}, {platform.system()} {platform.release()}"


def git_commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


def masked(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def verdict(row: Row, floor_rps: float) -> tuple[float, str]:
    ratio = row.measure.requests_per_second / floor_rps if floor_rps else 0.0
    misses = []
    if ratio < TARGET_RATIO:
        misses.append(f"ratio < {TARGET_RATIO}")
    if row.measure.p95_ms >= TARGET_P95_MS:
        misses.append(f"p95 ≥ {TARGET_P95_MS:.0f} ms")
    if row.measure.errors:
        misses.append(f"{row.measure.errors} errors")
    return ratio, "pass" if not misses else "FAIL (" + ", ".join(misses) + ")"


def report(
    label: str,
    url: str,
    args: argparse.Namespace,
    floor: Row,
    floor_note: str,
    rows: list[Row],
    inproc: InProcess,
    version: str,
    counts: dict[str, int],
    lost: int,
) -> str:
    now = datetime.now(ZoneInfo("Europe/Rome"))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    wrk_line = (wrk_version.stdout or wrk_version.stderr).splitlines()[0].split(" [")[0]
    sizes = ", ".join(f"{table} {count:,}".replace(",", " ") for table, count in counts.items())
    lines = [
        f"## {label}",
        "",
        f"- Date: {now:%Y-%m-%d %H:%M} (Europe/Rome); commit {git_commit()}",
        f"- Machine: {machine()}; Python {platform.python_version()}; {wrk_line}",
        f"- Database: {version}, `{masked(url)}`",
        f"- Data: {sizes}",
        f"- Load: `wrk -t{min(2, args.connections)} -c{args.connections} "
        f"-d{round(args.duration)}s` per page after a {args.warmup:g} s warm-up, then "
        f"{args.connections} requests at once until each answers within {SETTLED_S:g} s "
        "(every worker's caches filled); "
        "gunicorn `--workers 2` (one request at a time per process), "
        "`PORTAL_ENV=production`; wrk runs on the same machine.",
        f"- Floor: mean of two runs ({floor_note}).",
        f"- Portal worker processes lost during the run (crashed or timed out): {lost}.",
        "- Targets: throughput ≥ "
        f"{TARGET_RATIO:g} × floor and p95 < {TARGET_P95_MS:g} ms with "
        f"{args.connections} connections.",
        "",
        "| Page | Role | Req/s | p50 ms | p95 ms | p99 ms | Queries/req | × floor | 1 req ms "
        "| CPU ms | floor CPU ÷ CPU | Target |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]

    def line(
        name: str, role: str, row: Row, ratio: str, serial: float, cpu: float, result: str
    ) -> str:
        m = row.measure
        queries = "?" if row.queries is None else str(row.queries)
        cpu_ratio = inproc.floor_cpu_ms / cpu if cpu else 0.0
        return (
            f"| {name} | {role} | {m.requests_per_second:.0f} | {m.p50_ms:.1f} | "
            f"{m.p95_ms:.1f} | {m.p99_ms:.1f} | {queries} | {ratio} | {serial:.1f} | "
            f"{cpu:.2f} | {cpu_ratio:.2f} | {result} |"
        )

    floor_name = "floor: 50 households, bare Flask + SQLAlchemy"
    lines.append(
        line(floor_name, "—", floor, "1.00", inproc.floor_serial_ms, inproc.floor_cpu_ms, "—")
    )
    for row in rows:
        ratio, result = verdict(row, floor.measure.requests_per_second)
        if row.page.reference:
            result = "reference, not a target"
        name = f"{row.page.name} `{row.page.path}`"
        key = (row.page.path, row.page.account, row.page.fragment)
        serial, cpu = inproc.serial_ms[key], inproc.cpu_ms[key]
        lines.append(line(name, row.page.account, row, f"{ratio:.2f}", serial, cpu, result))
    match = inproc.matching
    matching_ok = match["p95_ms"] < TARGET_MATCHING_MS
    lines += [
        "",
        f"Matching suggestions in-process (the referral form's `_suggestions()`: offers kept "
        f"30 s per process, hard filters, the 10 shown ranked; {match['households']:.0f} "
        f"households, {match['services']:.0f} services offered): "
        f"median {match['median_ms']:.1f} ms, p95 {match['p95_ms']:.1f} ms "
        f"(reading the offers from the database, once per 30 s per process: "
        f"{match['offers_load_ms']:.0f} ms): "
        + ("pass" if matching_ok else "FAIL")
        + f" (target < {TARGET_MATCHING_MS:g} ms).",
        "",
    ]
    return "\n".join(lines)


RESULTS_HEADER = """# Benchmark results

What is measured and how to reproduce it: [README.md](README.md). Each section is one run of
`bench/run.py` on one database; a new run with the same label replaces its section.
"""


def write_results(path: Path, label: str, section: str) -> None:
    start, end = f"<!-- bench:{label}:start -->", f"<!-- bench:{label}:end -->"
    block = f"{start}\n{section}\n{end}\n"
    text = path.read_text() if path.exists() else RESULTS_HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + block + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)


# Main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the portal's main pages against a bare Flask + SQLAlchemy floor "
        "(see bench/README.md).",
    )
    parser.add_argument(
        "--database-url",
        required=True,
        help="the seeded database, e.g. sqlite:////tmp/bench.db or postgresql://u:p@127.0.0.1/db",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per page")
    parser.add_argument("--warmup", type=float, default=1, help="seconds of warm-up per page")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--show-queries",
        action="store_true",
        help="also print the SQL statements of each page's counted request (to stderr)",
    )
    parser.add_argument("--out", type=Path, help="write the section into this file (RESULTS.md)")
    parser.add_argument(
        "--label", help="section title in --out (default: SQLite or PostgreSQL from the URL)"
    )
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url: str = args.database_url
    label = args.label or ("SQLite" if url.startswith("sqlite") else "PostgreSQL")
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (apt-get install wrk)")
    if not (VENV_BIN / "gunicorn").exists():
        raise BenchError(f"{VENV_BIN / 'gunicorn'} is missing: run make install first")
    if args.connections < 1 or args.duration < 1:
        raise BenchError("--connections and --duration must be at least 1")
    version, counts = data_size(url)
    if not counts.get("household"):
        raise BenchError(f"no households in {masked(url)}: migrate and seed it first")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as logs,
        servers(url, Path(logs)) as (
            portal,
            floor_server,
        ),
    ):
        say(f"portal on :{portal.port}, floor on :{floor_server.port}; logging in")
        browsers = {account: log_in(portal.port, account) for account in ACCOUNTS}
        pages = discover_pages(browsers, url)
        for page in pages:
            check(browsers[page.account], page)
        floor_page = Page("floor", "-", "/", "<table>")
        check(Browser(floor_server.port), floor_page)
        rows: list[Row] = []

        def measure(port: int, page: Page, browser: Browser) -> Measure:
            check(browser, page)  # also refreshes the session cookie (its idle clock)
            headers = {**page.headers}
            if browser.cookies:
                headers["Cookie"] = browser.cookie_header
            if args.warmup > 0:
                run_wrk(port, page.path, headers, args.warmup, args.connections)
                waited = settle(browser, page, args.connections)
                if waited > 2 * SETTLED_S:
                    say(f"  {page.name}: {waited:.1f} s until every answer took under 1 s")
            result = run_wrk(port, page.path, headers, args.duration, args.connections)
            check(browser, page)  # still logged in, still the page: the numbers are of it
            say(
                f"  {page.name:<40} {page.account:<13} {result.requests_per_second:7.0f} req/s"
                f"  p50 {result.p50_ms:6.1f} ms  p95 {result.p95_ms:6.1f} ms"
            )
            return result

        floor_measure = measure(floor_server.port, floor_page, Browser(floor_server.port))
        for page in pages:
            rows.append(Row(page, measure(portal.port, page, browsers[page.account])))
        # The floor again at the end: a drift between the two says the machine was busy.
        floor_after = measure(floor_server.port, floor_page, Browser(floor_server.port))
        lost = portal.workers_lost()
    if lost:
        say(f"warning: gunicorn replaced {lost} portal worker(s) during the run (see its log)")
    floor_row = Row(floor_page, mean_measure(floor_measure, floor_after), 1)
    drift = abs(floor_after.requests_per_second - floor_measure.requests_per_second)
    if floor_measure.requests_per_second and drift / floor_measure.requests_per_second > 0.15:
        say(
            f"warning: the floor went from {floor_measure.requests_per_second:.0f} to "
            f"{floor_after.requests_per_second:.0f} req/s during the run: the machine was busy"
        )
    floor_note = (
        f"{floor_measure.requests_per_second:.0f} req/s before the pages, "
        f"{floor_after.requests_per_second:.0f} after"
    )
    say("counting queries and timing the matching suggestions in-process")
    inproc = in_process(url, pages, show_queries=args.show_queries)
    for row in rows:
        row.queries = inproc.queries[(row.page.path, row.page.account, row.page.fragment)]
    section = report(label, url, args, floor_row, floor_note, rows, inproc, version, counts, lost)
    print(section)
    if args.out:
        write_results(args.out, label, section)
        say(f"written to {args.out} (section {label!r})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as problem:
        print(f"bench: {problem}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted, servers stopped", file=sys.stderr)
        sys.exit(130)
