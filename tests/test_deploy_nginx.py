"""The production layout on this machine: Debian's nginx (deploy/nginx.conf) in front of two
gunicorn instances on this test's database and the real Redis.

Through nginx: a login and a page (the two instances take turns, the session holds on both), a
static file served by nginx itself with its cache headers, the login throttle counted across both
instances, and the monitoring report computed by one and served by the other. CI installs nginx
and sets REQUIRE_NGINX=1, so there this test cannot be skipped.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests import factories
from tests.conftest import csrf_token_from
from tests.test_housing_rules import unit
from tests.test_shared_redis import REDIS_TEST_URL, redis_keys, redis_prefix  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects (as the tests read them)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), self._NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as answer:
                return answer.status, dict(answer.headers), answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def login(self, username: str, password: str) -> int:
        _status, _headers, page = self.request("/login")
        token = csrf_token_from(page)
        status, _headers, _page = self.request(
            "/login", {"username": username, "password": password, "csrf_token": token}
        )
        return status


@pytest.fixture
def production(database_uri, db, redis_prefix, tmp_path) -> Iterator[dict[str, object]]:  # noqa: F811
    if NGINX is None:
        if os.environ.get("REQUIRE_NGINX"):
            pytest.fail("nginx required (REQUIRE_NGINX) but not installed")
        pytest.skip("nginx not installed (apt-get install nginx)")
    env = {
        **os.environ,
        "DATABASE_URL": database_uri,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "REDIS_URL": REDIS_TEST_URL,
        "CACHE_KEY_PREFIX": redis_prefix,
        "PROXY_HOPS": "1",
        "LOGIN_LIMIT_PER_ACCOUNT": "5 per minute",
        "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        "REPORT_CACHE_SECONDS": "300",
    }
    env.pop("RATELIMIT_STORAGE_URI", None)
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"gunicorn-{i}.log" for i in range(2)]
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    instances = [
        subprocess.Popen(
            [
                gunicorn,
                "--no-control-socket",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                str(log),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    # nginx's workers run as nobody when started by root: a folder they can read and write.
    place = Path(tempfile.mkdtemp(prefix="reti-nginx-"))
    place.chmod(0o755)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (place / name).mkdir()
        (place / name).chmod(0o777)
    listen = free_port()
    server = (ROOT / "deploy" / "nginx.conf").read_text()
    server = (
        server.replace("@LISTEN@", f"127.0.0.1:{listen}")
        .replace("@UPSTREAMS@", "\n    ".join(f"server 127.0.0.1:{p};" for p in ports))
        .replace("@STATIC_ROOT@", str(ROOT / "static") + "/")
        .replace("# @EXTRA@", "add_header X-Upstream $upstream_addr always;")
    )
    (place / "portal.conf").write_text(server)
    user = "user root;" if os.geteuid() == 0 else ""  # reads the checkout wherever it is
    (place / "nginx.conf").write_text(
        f"""{user}
worker_processes 1;
error_log {place}/error.log;
pid {place}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {place}/body;
    proxy_temp_path {place}/proxy;
    fastcgi_temp_path {place}/fastcgi;
    uwsgi_temp_path {place}/uwsgi;
    scgi_temp_path {place}/scgi;
    include {place}/portal.conf;
}}
"""
    )
    stderr = (place / "stderr.log").open("wb")
    nginx = subprocess.Popen(
        [NGINX, "-c", str(place / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz")
        try:
            wait_for(f"http://127.0.0.1:{listen}/healthz", seconds=10)
        except OSError:
            logs = [place / "error.log", place / "stderr.log"]
            pytest.fail(
                "nginx did not start: " + " ".join(p.read_text() for p in logs if p.exists())
            )
        yield {"base": f"http://127.0.0.1:{listen}", "ports": ports, "logs": logs}
    finally:
        nginx.terminate()
        for process in instances:
            process.terminate()
        for process in (nginx, *instances):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        stderr.close()
        shutil.rmtree(place, ignore_errors=True)


def test_through_nginx_two_instances_serve_one_portal(production, db, redis_prefix):  # noqa: F811
    operator = factories.user(role="entity_operator", organization=factories.organization())
    coordinator = factories.user(role="coordinator")
    factories.household(factories.organization(), members=2)
    provider = factories.organization(is_housing_provider=True)
    provider_staff = factories.user(role="housing_provider", organization=provider)
    shelter = unit(provider, vacancies=4, capacity=10)
    db.session.commit()
    base = str(production["base"])

    # A login and pages: the instances take turns, the session holds on both.
    browser = Browser(base)
    assert browser.login(operator.username, factories.PASSWORD) == 303
    upstreams = set()
    for _ in range(4):
        status, headers, page = browser.request("/")
        assert status == 200
        assert operator.full_name in page
        upstreams.add(headers["X-Upstream"])
    assert upstreams == {f"127.0.0.1:{p}" for p in production["ports"]}

    # A static file from nginx itself (no instance logged it), kept a year.
    stylesheet = re.search(r'href="(/static/[^"]+\.css\?v=[0-9a-f]+)"', page)
    assert stylesheet is not None
    status, headers, css = Browser(base).request(stylesheet.group(1))
    assert status == 200
    assert "max-age=31536000" in headers["Cache-Control"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Upstream" not in headers
    assert css.strip()
    served_by_gunicorn = "".join(Path(log).read_text() for log in production["logs"])
    assert "/static/" not in served_by_gunicorn
    assert "GET / " in served_by_gunicorn

    # Wrong passwords spread over both instances: the sixth is refused as on one instance.
    intruder = Browser(base)
    codes = []
    for _ in range(6):
        _s, _h, page = intruder.request("/login")
        token = csrf_token_from(page)
        status, _h, _p = intruder.request(
            "/login", {"username": operator.username, "password": "sbagliata", "csrf_token": token}
        )
        codes.append(status)
    assert 429 not in codes[:5]
    assert codes[5] == 429
    assert any(b"login-account" in key for key in redis_keys(redis_prefix))

    # The report: computed by one instance, the same copy served by the other.
    city = Browser(base)
    assert city.login(coordinator.username, factories.PASSWORD) == 303
    answers = [city.request("/reports/") for _ in range(2)]
    assert [a[0] for a in answers] == [200, 200]
    assert answers[0][1]["X-Upstream"] != answers[1][1]["X-Upstream"]
    stamps = [re.search(r'id="report-computed-at">([^<]+)<', a[2]) for a in answers]
    assert stamps[0] is not None
    assert stamps[1] is not None
    assert stamps[0].group(1) == stamps[1].group(1)
    assert any(b":cache:" in key for key in redis_keys(redis_prefix))

    # A vacancy changed through one instance is shown by the other on the next request.
    corridor = Browser(base)
    assert corridor.login(provider_staff.username, factories.PASSWORD) == 303
    _s, _h, page = corridor.request(f"/housing/units/{shelter.id}")
    status, changed, _p = corridor.request(
        f"/housing/units/{shelter.id}/vacancies",
        {
            "version": str(shelter.version),
            "delta": "1",
            "back": "unit",
            "csrf_token": csrf_token_from(page),
        },
    )
    assert status in (200, 303)
    status, shown, page = corridor.request(f"/housing/units/{shelter.id}")
    assert status == 200
    assert shown["X-Upstream"] != changed["X-Upstream"]
    assert '<span class="free-places"><strong>5</strong>' in page
