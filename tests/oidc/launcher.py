"""Start the test OpenID provider (tests/oidc/provider.js, npm's oidc-provider) on loopback.

Also a tampering proxy for the "signed by another key" test, and a small user agent that goes
through the provider's own login page the way a browser does (tests/browser uses a real one).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from joserfc import jws
from joserfc.jwk import RSAKey

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")
CLIENT_ID = "portale-reti"
CLIENT_SECRET = "segreto-di-prova-del-portale-reti"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningProvider:
    issuer: str
    port: int
    process: subprocess.Popen[str]


@contextmanager
def provider(
    accounts: dict[str, dict[str, object]],
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    *,
    clock_offset: int = 0,
    issuer: str | None = None,
    port: int | None = None,
) -> Iterator[RunningProvider]:
    if NODE is None:
        raise RuntimeError("node is missing")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError("the test OpenID provider is not installed: run `make oidc-provider`")
    port = port or free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PORT": str(port),
        "ISSUER": issuer or f"http://127.0.0.1:{port}",
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URIS": ",".join(redirect_uris),
        "POST_LOGOUT_REDIRECT_URIS": ",".join(post_logout_redirect_uris),
        "ACCOUNTS": json.dumps(accounts),
        "CLOCK_OFFSET": str(clock_offset),
        "NODE_ENV": "test",
    }
    process = subprocess.Popen(
        [NODE, str(HERE / "provider.js")],
        env=env,
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reader: threading.Thread | None = None
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # blocks until the provider says it listens, or exits
            lines.append(line)
            if line.startswith("ready "):
                break
        else:
            raise RuntimeError("the test OpenID provider did not start:\n" + "".join(lines))
        # Keep reading its output so that its warnings never fill the pipe.
        reader = threading.Thread(target=process.stdout.read, daemon=True)
        reader.start()
        yield RunningProvider(issuer=env["ISSUER"], port=port, process=process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            if reader is not None:
                reader.join(timeout=10)
            process.stdout.close()


HOP_BY_HOP = {"connection", "keep-alive", "content-length", "transfer-encoding"}


class ResigningProxy:
    """Forwards everything to a provider, but signs the ID token again with another key.

    The key has the provider's key id, so the portal picks the provider's published key and
    finds that the signature does not match it.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.upstream_port = 0  # set once the provider behind it runs
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}
                }
                headers["Host"] = f"127.0.0.1:{proxy.port}"
                connection = http.client.HTTPConnection(
                    "127.0.0.1", proxy.upstream_port, timeout=10
                )
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                if self.path.startswith("/token") and answer.status == 200:
                    token = json.loads(data)
                    token["id_token"] = proxy.resign(token["id_token"])
                    data = json.dumps(token).encode()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            do_GET = _forward
            do_POST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def resign(self, id_token: str) -> str:
        original = jws.extract_compact(id_token.encode())
        header = {"alg": "RS256", "kid": original.protected.get("kid", "test-key")}
        return jws.serialize_compact(header, original.payload, self.key)

    def __enter__(self) -> ResigningProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


FORM_RE = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
HIDDEN_RE = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


class ProviderBrowser:
    """A user agent at the provider: its cookies, its login page, its logout confirmation."""

    def __init__(self, portal_prefix: str = "http://localhost/") -> None:
        self.session = requests.Session()
        self.portal_prefix = portal_prefix

    def follow(self, url: str, method: str = "GET", data: dict[str, str] | None = None) -> str:
        """Follow the provider's redirects; the URL of the portal they end at, else the page."""
        response = self.session.request(method, url, data=data, allow_redirects=False, timeout=10)
        for _ in range(10):
            location = response.headers.get("Location")
            if location is None:
                return response.text
            location = urljoin(response.url, location)
            if location.startswith(self.portal_prefix):
                return location
            response = self.session.get(location, allow_redirects=False, timeout=10)
        raise RuntimeError("too many redirects at the provider")

    def submit(self, page: str, base: str, fields: dict[str, str] | None = None) -> str:
        """Submit the page's (first) form with its hidden fields and `fields`."""
        match = FORM_RE.search(page)
        if match is None:
            raise AssertionError("no form on the provider's page:\n" + page[:2000])
        action, inner = match.groups()
        data = {name: unescape(value) for name, value in HIDDEN_RE.findall(inner)}
        data.update(fields or {})
        return self.follow(urljoin(base, unescape(action)), "POST", data)

    def login(self, authorize_url: str, login: str) -> str:
        """Through the provider's login page: the callback URL of the portal."""
        page = self.follow(authorize_url)
        if page.startswith(self.portal_prefix):
            return page  # already logged in at the provider
        return self.submit(page, authorize_url, {"login": login, "password": "qualunque"})


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
