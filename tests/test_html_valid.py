"""The pages of every role's journeys are valid HTML for the Nu Html Checker (vnu.jar).

On the demo data, each demo account logs in and follows the links of its pages (breadth first,
one page for each path shape: `/households/12` and `/households/40` are the same page), plus the
forms of the journeys shown with their validation errors and the pages seen before login. Every
page is written to a folder and checked by ONE run of vnu (one JVM start). Only the errors about
htmx attributes are excepted: the checker knows no `hx-*` attribute, browsers and htmx do.

The jar comes from `make vnu` (npm's vnu-jar, sha256 pinned in the Makefile); `make test` fetches
it where java and npm exist. Without java or the jar the test skips and says why.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import deque
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient

from app.cli import seed_demo_command
from tests.conftest import csrf_token_from
from tests.worlds import DEMO_PASSWORD, log_in

ROOT = Path(__file__).resolve().parent.parent
VNU_VERSION = re.search(r"^VNU_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]
VNU_JAR = ROOT / ".tools" / f"vnu-{VNU_VERSION}" / "vnu.jar"
JAVA = shutil.which("java")

# The one exception: vnu's error for an attribute it does not know, when the attribute is htmx's.
HTMX_ATTRIBUTE = re.compile(
    r"^Attribute “hx-[a-z:-]+” not allowed on element “[^”]+” at this point\.$"
)

ACCOUNTS = ("admin", "coordinatore", "ente1", "ente2", "alloggi1")
PUBLIC_PAGES = ("/login", "/accessibilita")
# Followed by no link, or only by a link the crawl may not reach first.
ALSO_VISIT = ("/account", "/account/2fa", "/households/new", "/projects/new")
# Not HTML pages, or not to be followed: exports, the API, actions.
SKIP = re.compile(r"^/(static|api)/|\.(csv|xlsx|json)$|/export$|^/logout$|^/login|^/lingua$")
HREF = re.compile(r'<a\b[^>]*\bhref="(/[^"#]*)')
# Forms posted empty, at the first URL of the crawl with that path (N: any id): the page as the
# user sees it after a mistake (HTTP 422).
INVALID_POSTS = {
    "ente1": (
        "/households/new",
        "/households/N/edit",
        "/households/N/members/new",
        "/referrals/new",
        "/projects/new",
        "/housing/placements/new",
        "/housing/risk-cases/new",
    ),
    "alloggi1": ("/housing/units/new", "/housing/units/N/edit", "/entities/N/sites/new"),
    "coordinatore": ("/entities/new", "/entities/N/services/new"),
    "admin": ("/admin/users/new",),
}
MAX_PAGES_PER_ACCOUNT = 80

pytestmark = pytest.mark.skipif(
    JAVA is None or not VNU_JAR.is_file(),
    reason=(
        "Nu Html Checker non disponibile: serve java (pacchetto Debian 'default-jre-headless') "
        f"e {VNU_JAR.relative_to(ROOT)} ('make vnu', con npm)"
    ),
)


def _shape(url: str) -> str:
    """The page a URL shows: ids and query values left out, query parameter names kept."""
    parts = urlsplit(url)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(names)


def _crawl(client: FlaskClient) -> dict[str, str]:
    """Path -> HTML of each page shape the account reaches from its home page."""
    pages: dict[str, str] = {}
    seen = {_shape(p) for p in ("/", *ALSO_VISIT)}
    queue = deque(["/", *ALSO_VISIT])
    while queue and len(pages) < MAX_PAGES_PER_ACCOUNT:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages[path] = html
        for link in map(unescape, HREF.findall(html)):
            if not SKIP.search(urlsplit(link).path) and _shape(link) not in seen:
                seen.add(_shape(link))
                queue.append(link)
    return pages


def _file_name(account: str, path: str, suffix: str = "") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
    return f"{account}--{slug}{suffix}.html"


def _collect(app, folder: Path) -> list[Path]:
    files: list[Path] = []

    def write(name: str, html: str) -> None:
        file = folder / f"{len(files):03d}-{name}"
        file.write_text(html, encoding="utf-8")
        files.append(file)

    anonymous = app.test_client()
    for path in PUBLIC_PAGES:
        response = anonymous.get(path)
        assert response.status_code == 200, path
        write(_file_name("anonimo", path), response.get_data(as_text=True))
    for account in ACCOUNTS:
        client = app.test_client()
        log_in(client, account, DEMO_PASSWORD)
        pages = _crawl(client)
        for url, html in pages.items():
            write(_file_name(account, url), html)
        for path in INVALID_POSTS.get(account, ()):
            url = next(u for u in pages if _shape(urlsplit(u).path) == f"{path}?")
            response = client.post(url, data={"csrf_token": csrf_token_from(pages[url])})
            assert response.status_code == 422, f"{account} {url}: {response.status_code}"
            write(_file_name(account, url, "-errori"), response.get_data(as_text=True))
    return files


def _vnu_errors(files: list[Path]) -> list[str]:
    result = subprocess.run(
        [JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(result.stderr)["messages"]
    return [
        f"{Path(m.get('url', '?')).name}:{m.get('lastLine', '?')}: {m['message']}"
        for m in messages
        if not HTMX_ATTRIBUTE.match(m["message"])
    ]


def test_every_page_of_the_journeys_is_valid_html(app, db, tmp_path):
    result = app.test_cli_runner().invoke(seed_demo_command, [])
    assert result.exit_code == 0, result.output
    files = _collect(app, tmp_path)
    assert len(files) > 60, f"solo {len(files)} pagine raccolte"
    errors = _vnu_errors(files)
    assert errors == [], f"{len(errors)} errori su {len(files)} pagine:\n" + "\n".join(errors)
