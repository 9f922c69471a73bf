"""Every response that shows a household's personal data is an audit event naming that household.

The walk logs in as each demo account, follows every link and htmx request of the site from the
home page (plus the searches, finders and forms no page links to), and for each answer looks for
every household's members in the body: a codice fiscale, or a full name in either order. Each
household found must be named by an audit event that request wrote (in `audit_event_household`,
or as the event's object: the household or one of its people). Every GET route of `app.url_map`
is either reached by some account or listed in NO_PERSONAL_DATA / NOT_WALKED with the reason.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from app.api import hsds
from app.audit.models import AuditEvent, AuditEventHousehold
from app.extensions import db as _db
from app.households.models import Household, Person
from app.housing.models import Placement
from app.projects.models import Project
from app.referrals.models import Referral
from app.registry.models import Organization, Service, Site, service_site
from tests.conftest import _truncate, load_demo
from tests.worlds import DEMO_PASSWORD, log_in

ACCOUNTS = ("ente1", "ente2", "coordinatore", "alloggi1", "admin")
PER_SHAPE = 3  # URLs walked per (endpoint, query parameters): enough to vary the ids

# GET routes that show nobody's personal data by construction.
NO_PERSONAL_DATA = {
    "static": "the vendored CSS, JS and fonts",
    "web.healthz": "a liveness probe",
    "web.accessibility": "the accessibility statement",
    "auth.login": "the login form (a logged-in account is redirected)",
    "auth.login_totp": "the second login step (a logged-in account is redirected)",
    "auth.csrf_token": "a JSON CSRF token",
    "auth.sso_start": "a redirect to the OpenID provider (404 without SSO settings)",
    "auth.sso_callback": "the OpenID provider's answer, a redirect (404 without SSO settings)",
    "auth.logged_in_again": "the page after a re-login",
    "admin.account_request": "a request about a staff account (the demo has none to open)",
    "counter.session_key": "the offline counter's day key and a CSRF token, as JSON",
    "counter.service_worker": "the offline counter's service worker (asset URLs only)",
    "counter.manifest": "the offline counter's web app manifest",
}
# GET routes the walk cannot reach, and why.
NOT_WALKED: dict[str, str] = {
    "downloads.progress": "exports go to the background only with Redis (REDIS_URL), which the "
    "walk's portal has not: tests/test_background_exports.py checks its audit",
    "downloads.download": "as downloads.progress; each download names its households "
    "(tests/test_background_exports.py)",
}

LINK_RE = re.compile(r'(href|hx-get|action)="(/[^"#]*)"')
SKIP_PREFIXES = ("/static/", "/logout", "/lingua")


def _body_text(response) -> str:  # type: ignore[no-untyped-def]
    data = response.get_data()
    if data[:2] == b"PK":  # an XLSX: its sheets and shared strings are XML inside the zip
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            parts = [book.read(n).decode() for n in book.namelist() if n.endswith(".xml")]
        return html.unescape(" ".join(parts))
    return html.unescape(data.decode("utf-8", errors="replace"))


def _signatures() -> dict[int, re.Pattern[str]]:
    """For each household, what reveals its members: a codice fiscale, or a full name (either
    order, as whole words) that no other household's member bears (namesakes need the CF)."""
    marks: dict[int, set[str]] = defaultdict(set)
    names: dict[str, set[int]] = defaultdict(set)
    for person in _db.session.scalars(select(Person)):
        if person.codice_fiscale:
            marks[person.household_id].add(person.codice_fiscale)
        for name in (
            f"{person.first_name} {person.last_name}",
            f"{person.last_name} {person.first_name}",
        ):
            names[name].add(person.household_id)
    for name, households in names.items():
        if len(households) == 1:
            marks[households.pop()].add(name)
    return {
        hid: re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(found))) + r")(?!\w)")
        for hid, found in marks.items()
    }


def shown_households(body: str, signatures: dict[int, re.Pattern[str]]) -> set[int]:
    # Plain substring tests first (fast); the word-boundary pattern only confirms a hit.
    return {
        hid
        for hid, pattern in signatures.items()
        if any(mark in body for mark in pattern.pattern[10:-8].replace("\\", "").split("|"))
        and pattern.search(body)
    }


def named_households(after_id: int) -> set[int]:
    """The households named by the audit events written after `after_id`."""
    events = _db.session.execute(
        select(AuditEvent.id, AuditEvent.object_type, AuditEvent.object_id).where(
            AuditEvent.id > after_id
        )
    ).all()
    ids = [e.id for e in events]
    named = set(
        _db.session.scalars(
            select(AuditEventHousehold.household_id).where(
                AuditEventHousehold.audit_event_id.in_(ids or [-1])
            )
        )
    )
    named |= {e.object_id for e in events if e.object_type == "household"}
    people = [e.object_id for e in events if e.object_type == "person"]
    if people:
        named |= set(_db.session.scalars(select(Person.household_id).where(Person.id.in_(people))))
    return named


def last_event_id() -> int:
    return int(_db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))))


def extra_urls() -> list[str]:
    """Searches, finders and forms no page links to, filled from the demo data."""
    people = _db.session.scalars(select(Person).order_by(Person.id).limit(400)).all()
    with_cf = [p for p in people if p.codice_fiscale][::40]
    households = sorted({p.household_id for p in people})[::15]
    urls = [f"/households/?q={p.last_name}" for p in with_cf[:3]]
    urls += [f"/distributions/find?q={p.last_name}" for p in with_cf[:3]]
    urls += [f"/distributions/form?household_id={h}" for h in households]
    urls.append("/counter/day")  # the offline counter's script asks for it
    urls += [f"/referrals/new?household={h}" for h in households]
    urls += [f"/projects/new?household={h}" for h in households]
    urls += [f"/housing/placements/new?household={h}" for h in households]
    urls += [f"/housing/risk-cases/new?household={h}" for h in households]
    urls += [f"/audit/?tipo=household&oggetto={h}" for h in households]
    closed = list(
        _db.session.scalars(select(Household.id).where(Household.status == "closed").limit(2))
    )
    urls += [f"/households/{h}/anonymise" for h in closed]
    urls += [f"/households/{h}/reopen" for h in closed]
    urls += ["/api/hsds/", "/api/hsds/services", "/api/hsds/organizations"]
    urls.append(f"/api/hsds/services/{_db.session.scalar(select(Service.uuid).limit(1))}")
    urls.append(f"/api/hsds/organizations/{_db.session.scalar(select(Organization.uuid).limit(1))}")
    urls += ["/api/hsds/service_at_locations", "/api/hsds/taxonomies", "/api/hsds/taxonomy_terms"]
    link = _db.session.execute(
        select(Service.uuid, Site.uuid)
        .join(service_site, service_site.c.service_id == Service.id)
        .join(Site, Site.id == service_site.c.site_id)
        .limit(1)
    ).one()
    urls.append(f"/api/hsds/service_at_locations/{hsds.derived_id('service_at_location', *link)}")
    urls.append(f"/api/hsds/taxonomies/{hsds.service_type_taxonomy_id()}")
    urls.append(f"/api/hsds/taxonomy_terms/{hsds.service_type_term_id('orientation')}")
    for model in (Referral, Placement, Project):
        for hid in _db.session.scalars(select(model.household_id).distinct().limit(3)):
            urls.append(f"/audit/?tipo=household&oggetto={hid}")
    return urls


@pytest.fixture(scope="module")
def demo(app: Flask) -> Iterator[dict[int, re.Pattern[str]]]:
    with app.app_context():
        _truncate()
        load_demo()
        yield _signatures()
        _db.session.remove()
        _truncate()


def walk(app: Flask, username: str, signatures: dict[int, re.Pattern[str]]):  # type: ignore[no-untyped-def]
    """Visit what `username` can reach; return (endpoints reached, unaudited views)."""
    client = app.test_client()
    log_in(client, username, DEMO_PASSWORD)
    adapter = app.url_map.bind("localhost")
    queue = [("/", False), *((url, False) for url in extra_urls())]
    seen: set[tuple[str, bool]] = set()
    per_shape: dict[tuple[str, bool, frozenset[str]], int] = defaultdict(int)
    reached: set[str] = set()
    unaudited: list[str] = []
    while queue:
        url, fragment = queue.pop(0)
        if (url, fragment) in seen or url.startswith(SKIP_PREFIXES):
            continue
        seen.add((url, fragment))
        parts = urlsplit(url)
        try:
            endpoint, _args = adapter.match(parts.path, method="GET")
        except HTTPException:  # a POST-only path, a redirect or an unknown path: not a GET page
            continue
        shape = (endpoint, fragment, frozenset(k for k, _v in parse_qsl(parts.query)))
        if per_shape[shape] >= PER_SHAPE:
            continue
        per_shape[shape] += 1
        before = last_event_id()
        response = client.get(url, headers={"HX-Request": "true"} if fragment else {})
        if response.status_code != 200:
            continue
        reached.add(endpoint)
        body = _body_text(response)
        missing = shown_households(body, signatures) - named_households(before)
        if missing:
            unaudited.append(f"{url} ({endpoint}): households {sorted(missing)[:5]}")
        if response.mimetype == "text/html":
            queue.extend(
                (html.unescape(link), attribute == "hx-get")
                for attribute, link in LINK_RE.findall(body)
            )
    return reached, unaudited


@pytest.fixture(scope="module")
def walks(app: Flask, demo: dict[int, re.Pattern[str]]) -> dict[str, tuple[set[str], list[str]]]:
    with app.app_context():
        return {username: walk(app, username, demo) for username in ACCOUNTS}


@pytest.mark.parametrize("username", ACCOUNTS)
def test_every_view_of_a_household_is_audited_naming_it(walks, username):
    reached, unaudited = walks[username]
    assert reached, "the walk reached nothing"
    assert not unaudited, "\n".join(unaudited)


def test_the_walk_reaches_every_get_route(app, walks):
    reached = set().union(*(r for r, _u in walks.values()))
    routes = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    assert sorted(routes - reached - NO_PERSONAL_DATA.keys() - NOT_WALKED.keys()) == []
