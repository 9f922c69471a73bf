"""Items 1-3 of issue #17 over HTTP, with real concurrent clients: limits, histories, duplicates.

    .venv/bin/python bench/concurrency.py --database-url "$DATABASE_URL" --start
    .venv/bin/python bench/concurrency.py --database-url "$DATABASE_URL" \
        --base-url http://127.0.0.1:8620

Against a running portal (gunicorn with 4 workers, demo data, `TOTP_REQUIRED_FOR_CITY=false`;
`--start` starts one itself, as bench/run.py does), it logs in twice as each demo account
(two colleagues, or two tabs), and sends what people send at the same moment, each request from
its own thread after a barrier:

1. limits consumed by several people: two accepts of a service with one place left; two food
   baskets for the same household in the same month, none with a reason;
2. conflicting decisions on one referral (two approvals; approve and reject; cancel and
   accept; two acceptances) and on one project (approve and withdraw);
3. double clicks: the same form body sent twice at once (same `idempotency_key` when the form
   has one) for a new referral, a household intake without and with a codice fiscale, basic
   necessities, a second food basket with its reason, a housing proposal («Proponi»), and the
   provider's «Accetta» of a placement.

Everything is done through the portal's pages and forms, as a browser does: GET the form,
take every field it has (the hidden `csrf_token` and `idempotency_key` included), fill in what a
user types, POST. The database (`--database-url`, read only) is used to choose the records to
work on and to count what came of it:

- over-allocations: a service's acceptances of the month above its monthly places, and
  second food baskets of the month recorded without a reason;
- duplicates: records beyond the first made by one double submission;
- contradictory histories: a referral with two transitions out of the same state, a
  transition that is not in the table, a final state that disagrees with its history or its
  dates, more audit events than history rows; a project both approved and withdrawn;
- errors after a success: a double click on a full-page form whose step was done, yet one of
  the two answers is an error page (the browser shows the second);
- server errors: answers 500 or above.

The places given to the two services of ente2 it uses are raised for the run (the accepts of
item 1 aside) and put back at the end; the placements it makes are cancelled after each trial.

Exits 1 when any count is above 0, 2 when the run could not be done. The run writes to the
database (referrals, households, distributions, audit events): use a database made for it.
See bench/README.md, "Concurrency".
"""

from __future__ import annotations

import argparse
import os
import random
import re
import string
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (
    BenchError,
    Browser,
    Reply,
    Server,
    log_in,
    portal_environment,
    portal_url,
    serving,
)

HTMX = {"HX-Request": "true"}
STALE_OFFERS_RETRIES = 20
SERVICE_REFUSED = ("scegline uno tra quelli suggeriti", "non ha più posti disponibili")
ROOM = 100  # places given to the services the run uses, while it runs
JOB_SHARING = ("job_services", "all_partners")
CONSUMING = ("accepted", "in_progress", "completed", "failed")
OPEN = ("draft", "submitted", "approved", "accepted", "in_progress")
NEEDS = (
    "job_search",
    "orientation",
    "training",
    "traineeship",
    "italian_language",
    "digital_skills",
    "self_employment",
)
# The referral state machine (app/referrals/operations.py TRANSITIONS): (from, to) pairs.
REFERRAL_STEPS = {
    (None, "draft"),
    ("draft", "submitted"),
    ("draft", "cancelled"),
    ("submitted", "cancelled"),
    ("approved", "cancelled"),
    ("submitted", "approved"),
    ("submitted", "rejected"),
    ("approved", "accepted"),
    ("approved", "declined"),
    ("accepted", "in_progress"),
    ("in_progress", "completed"),
    ("in_progress", "failed"),
}
# The date each state stamps, and the states a referral can only reach through that date.
STAMPS = {
    "submitted_at": {"submitted", "approved", "rejected", "accepted", "declined", "in_progress",
                     "completed", "failed"},
    "approved_at": {"approved", "accepted", "declined", "in_progress", "completed", "failed"},
    "accepted_at": {"accepted", "in_progress", "completed", "failed"},
}  # fmt: skip


# Forms as a browser sends them -----------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    attrs: dict[str, str]
    fields: list[tuple[str, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # every field the form has, filled or not
    radios: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        return next((v for n, v in self.fields if n == name), None)

    def set(self, name: str, *values: str) -> None:
        self.fields = [(n, v) for n, v in self.fields if n != name]
        self.fields += [(name, v) for v in values]

    def body(self, **overrides: str | list[str]) -> list[tuple[str, str]]:
        sent = list(self.fields)
        for name, value in overrides.items():
            sent = [(n, v) for n, v in sent if n != name]
            sent += [(name, v) for v in (value if isinstance(value, list) else [value])]
        return sent


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None
        self._select_values: list[tuple[str, bool]] = []
        self._option: tuple[str | None, bool] | None = None
        self._option_text = ""
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: (v if v is not None else "") for k, v in attrs_list}
        if tag == "form":
            self._form = Form(attrs.get("action", ""), attrs.get("method", "get").lower(), attrs)
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            form.names.add(name)
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind == "radio":
                form.radios.setdefault(name, []).append(attrs.get("value", "on"))
            if kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(attrs.get("value", "on"))
                if "checked" in attrs:
                    form.fields.append((name, attrs.get("value", "on")))
                return
            form.fields.append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            form.names.add(name)
            self._textarea, self._text = name, ""
        elif tag == "select" and name:
            form.names.add(name)
            self._select = (name, "multiple" in attrs)
            self._select_values = []
        elif tag == "option" and self._select is not None:
            self._flush_option()
            self._option = (attrs.get("value"), "selected" in attrs)
            self._option_text = ""

    def _flush_option(self) -> None:
        if self._option is not None:
            value, selected = self._option
            self._select_values.append(
                (value if value is not None else self._option_text.strip(), selected)
            )
            self._option = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data
        if self._option is not None:
            self._option_text += data

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if tag == "form":
            self._form = None
        elif tag == "textarea" and form is not None and self._textarea is not None:
            form.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "option":
            self._flush_option()
        elif tag == "select" and form is not None and self._select is not None:
            self._flush_option()
            name, multiple = self._select
            form.options[name] = [v for v, _s in self._select_values]
            chosen = [v for v, s in self._select_values if s]
            if not chosen and not multiple and self._select_values:
                chosen = [self._select_values[0][0]]
            form.fields += [(name, v) for v in chosen]
            self._select = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def form_with(html: str, field_name: str, action: str | None = None) -> Form:
    for form in forms_of(html):
        if field_name in form.names and (action is None or form.action.startswith(action)):
            return form
    raise BenchError(f"no form with a field {field_name!r} (action {action!r}) in the page")


def post(browser: Browser, path: str, body: list[tuple[str, str]], htmx: bool = False) -> Reply:
    """A form POST (urlencoded like a browser, repeated names kept)."""
    reply = browser.request("POST", path, HTMX if htmx else {}, form=body, timeout=120)
    STATS.record("POST", path, reply.status)
    return reply


def get(browser: Browser, path: str, htmx: bool = False) -> Reply:
    reply = browser.request("GET", path, HTMX if htmx else {}, timeout=120)
    STATS.record("GET", path, reply.status)
    return reply


def at_once(*calls: Callable[[], Reply]) -> list[Reply | BaseException]:
    """Each call in its own thread, released together by a barrier: real concurrent clients."""
    barrier = threading.Barrier(len(calls))
    results: list[Reply | BaseException] = [BenchError("not run")] * len(calls)

    def run(index: int, call: Callable[[], Reply]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def statuses(results: list[Reply | BaseException]) -> str:
    return ", ".join(str(r.status) if isinstance(r, Reply) else type(r).__name__ for r in results)


# What happened: counts -------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server_errors: list[str] = []
        self.requests = 0

    def record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.requests += 1
            if status >= 500:
                self.server_errors.append(f"{method} {path} -> {status}")


STATS = Stats()


@dataclass
class Finding:
    category: str  # "over-allocation", "duplicate", "contradiction"
    scenario: str
    count: int
    detail: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    trials: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)

    def trial(self, scenario: str, count: int, category: str, detail: str) -> None:
        self.trials[scenario] += 1
        mark = "VIOLATION" if count else "ok"
        line = f"  {scenario:<40} {mark:<9} {detail}"
        self.lines.append(line)
        say(line)
        if count:
            self.findings.append(Finding(category, scenario, count, detail))

    def total(self, category: str) -> int:
        return sum(f.count for f in self.findings if f.category == category)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The database: choosing records, counting results (read only) ----------------------------------


class Database:
    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(portal_url(url))
        self.postgres = self.engine.dialect.name == "postgresql"

    def rows(self, sql: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def scalar(self, sql: str, **params: Any) -> Any:
        found = self.rows(sql, **params)
        return found[0][0] if found else None

    def now(self) -> Any:
        """The latest created_at written so far: a marker for "made by this run"."""
        latest = self.scalar("SELECT MAX(created_at) FROM audit_event")
        return (
            latest
            if latest is not None
            else self.stamp(datetime(2000, 1, 1, tzinfo=UTC).replace(tzinfo=None))
        )

    def stamp(self, moment: datetime) -> Any:
        """A naive UTC datetime as the column holds it: aware on PostgreSQL, text on SQLite."""
        if self.postgres:
            return moment.replace(tzinfo=UTC)
        return moment.isoformat(" ")

    def user_org(self, username: str) -> int:
        org = self.scalar(
            "SELECT organization_id FROM user_account WHERE username = :u", u=username
        )
        if org is None:
            raise BenchError(f"no account {username!r} with an organization: load the demo data")
        return int(org)


def rome_today() -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/Rome")).date()


def month_bounds_utc(day: date) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    rome, utc = ZoneInfo("Europe/Rome"), ZoneInfo("UTC")
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)

    def utc_naive(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=rome).astimezone(utc).replace(tzinfo=None)

    return utc_naive(first), utc_naive(following)


def age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# The portal's people ---------------------------------------------------------------------------


@dataclass
class People:
    sessions: dict[str, list[Browser]]

    def __getitem__(self, key: str) -> Browser:
        name, _sep, index = key.partition(":")
        return self.sessions[name][int(index or 0)]


def log_everyone(port: int) -> People:
    sessions = {}
    for account in ("ente1", "ente2", "coordinatore", "alloggi1"):
        sessions[account] = [log_in(port, account), log_in(port, account)]
    return People(sessions)


# Referrals through the forms -------------------------------------------------------------------


class Referrals:
    """Referrals from ente1's households to a service, made through the referral form."""

    def __init__(self, db: Database, people: People, report: Report) -> None:
        self.db = db
        self.people = people
        self.report = report
        self.sender_org = db.user_org("ente1")
        self.receiver_org = db.user_org("ente2")
        self.used_pairs: set[tuple[int, str]] = set()
        self.made: list[int] = []  # every referral this run created

    def service(self, rank: int = 0) -> Any:
        """ente2's active service that takes the widest range of ages (rank 0), the next..."""
        return self.services()[rank]

    def services(self) -> list[Any]:
        """ente2's two active services that take the widest ranges of ages."""
        found = self.db.rows(
            "SELECT id, name, monthly_capacity, age_min, age_max FROM service "
            "WHERE organization_id = :org AND active = :yes ORDER BY id",
            org=self.receiver_org,
            yes=True,
        )
        if len(found) < 2:
            raise BenchError("ente2's organization has fewer than two active services")
        return sorted(found, key=lambda s: (s.age_min or 0) - (s.age_max or 200))[:2]

    def candidates(self, service: Any = None) -> Iterator[tuple[int, int, str]]:
        """(household, person, need) of ente1's households that may get a new referral."""
        day = rome_today()
        people = self.db.rows(
            "SELECT p.id, p.household_id, p.birth_date FROM person p "
            "JOIN household h ON h.id = p.household_id "
            "WHERE h.organization_id = :org AND h.status = 'active' AND h.anonymised_at IS NULL "
            "AND EXISTS (SELECT 1 FROM consent c WHERE c.household_id = h.id "
            "AND c.purpose = 'job_services' AND c.recipient_organization_id IS NULL "
            "AND c.given_on <= CURRENT_DATE AND (c.expires_on IS NULL OR c.expires_on >= "
            "CURRENT_DATE) AND c.withdrawn_on IS NULL) "
            "ORDER BY p.id",
            org=self.sender_org,
        )
        open_pairs = {
            (r.person_id, r.need)
            for r in self.db.rows(
                "SELECT person_id, need FROM referral WHERE status IN "
                "('draft', 'submitted', 'approved', 'accepted', 'in_progress')"
            )
        }
        for person in people:
            years = age(as_date(person.birth_date), day)
            if service is not None and (
                (service.age_min is not None and years < service.age_min)
                or (service.age_max is not None and years > service.age_max)
            ):
                continue
            for need in NEEDS:
                pair = (person.id, need)
                if pair in open_pairs or pair in self.used_pairs:
                    continue
                self.used_pairs.add(pair)
                yield person.household_id, person.id, need

    def form(self, household: int, person: int, need: str) -> Form:
        query = urllib.parse.urlencode({"household": household, "person": person, "need": need})
        page = get(self.people["ente1"], f"/referrals/new?{query}")
        if page.status != 200:
            raise BenchError(f"the referral form answered {page.status}")
        return form_with(page.body, "motivation", "/referrals/new")

    def body(self, form: Form, service_id: int | None) -> list[tuple[str, str]] | None:
        # A given service may be outside the ten shown: the form takes any eligible one.
        choices = form.radios.get("service", [])
        if service_id is None:
            if not choices:
                return None
            service_id = int(choices[0])  # the first suggestion, as a hurried user picks
        return form.body(
            service=str(service_id),
            motivation="Prova di concorrenza (bench/concurrency.py).",
            action="submit",
        )

    def submitted(self, service_id: int | None = None, service: Any = None) -> tuple[int, int]:
        """A new referral sent to the City, one at a time; (referral id, service id)."""
        for household, person, need in self.candidates(service):
            form = self.form(household, person, need)
            body = self.body(form, service_id)
            if body is None:
                continue
            reply = post(self.people["ente1"], form.action, body)
            for _wait in range(STALE_OFFERS_RETRIES):
                # Each worker keeps the services' free places for OFFERS_CACHE_SECONDS (30 s):
                # after the places changed, the form may still see the service as full.
                if reply.status != 422 or not any(m in reply.body for m in SERVICE_REFUSED):
                    break
                time.sleep(2)
                form = self.form(household, person, need)
                body = self.body(form, service_id) or body
                reply = post(self.people["ente1"], form.action, body)
            match = re.match(r".*/referrals/(\d+)$", reply.location)
            if reply.status == 303 and match:
                referral = int(match.group(1))
                self.made.append(referral)
                chosen = int(dict(body)["service"])
                return referral, chosen
        raise BenchError("no household, person and need of ente1's left for a new referral")

    def act(self, who: str, referral: int, action: str, **extra: str) -> Reply:
        browser = self.people[who]
        page = get(browser, f"/referrals/{referral}")
        token = next(
            (f.value("csrf_token") for f in forms_of(page.body) if f.value("csrf_token")), None
        )
        if token is None:
            raise BenchError(f"no csrf_token on referral {referral} for {who}")
        return post(
            browser, f"/referrals/{referral}/{action}", [("csrf_token", token), *extra.items()]
        )

    def prepared(self, who: str, referral: int, action: str, **extra: str) -> Callable[[], Reply]:
        """The request of a button on the referral's page, read first, sent later."""
        browser = self.people[who]
        page = get(browser, f"/referrals/{referral}")
        token = next(
            (f.value("csrf_token") for f in forms_of(page.body) if f.value("csrf_token")), None
        )
        if token is None:
            raise BenchError(f"no csrf_token on referral {referral} for {who}")
        body = [("csrf_token", token), *extra.items()]
        return lambda: post(browser, f"/referrals/{referral}/{action}", body)

    def approved(self, service_id: int | None = None, service: Any = None) -> tuple[int, int]:
        referral, chosen = self.submitted(service_id, service)
        reply = self.act("coordinatore", referral, "approve")
        if self.db.scalar("SELECT status FROM referral WHERE id = :id", id=referral) != "approved":
            raise BenchError(f"approving referral {referral} answered {reply.status}, not approved")
        return referral, chosen


# 1. Limits -------------------------------------------------------------------------------------


def places_used(db: Database, service_id: int) -> int:
    start, end = month_bounds_utc(rome_today())
    return int(
        db.scalar(
            "SELECT COUNT(*) FROM referral WHERE service_id = :s AND status IN "
            "('accepted', 'in_progress', 'completed', 'failed') "
            "AND accepted_at >= :start AND accepted_at < :end",
            s=service_id,
            start=db.stamp(start),
            end=db.stamp(end),
        )
    )


def set_capacity(people: People, org: int, service_id: int, places: int) -> None:
    """ente2 changes the service's monthly places in its own registry form."""
    browser = people["ente2"]
    path = f"/entities/{org}/services/{service_id}"
    page = get(browser, path)
    if page.status != 200:
        raise BenchError(f"the service form {path} answered {page.status}")
    form = form_with(page.body, "monthly_capacity")
    reply = post(browser, form.action or path, form.body(monthly_capacity=str(places)))
    if reply.status != 303:
        raise BenchError(f"saving {places} places on {path} answered {reply.status}")


def last_place(
    db: Database, people: People, referrals: Referrals, report: Report, trials: int
) -> None:
    service = referrals.service()
    say(f"1. two acceptances, one place left: service {service.id} «{service.name}»")
    # Every referral approved first, while the service has room (an approval checks the places).
    pairs = [
        (referrals.approved(service.id, service)[0], referrals.approved(service.id, service)[0])
        for _ in range(trials)
    ]
    try:
        for first, second in pairs:
            used = places_used(db, service.id)
            set_capacity(people, referrals.receiver_org, service.id, used + 1)
            results = at_once(
                referrals.prepared("ente2:0", first, "accept"),
                referrals.prepared("ente2:1", second, "accept"),
            )
            after = places_used(db, service.id)
            over = max(0, after - (used + 1))
            report.trial(
                "1 accept x2, one place left",
                over,
                "over-allocation",
                f"service {service.id}: {after}/{used + 1} places used, "
                f"answers {statuses(results)}",
            )
    finally:
        set_capacity(people, referrals.receiver_org, service.id, places_used(db, service.id) + ROOM)


def food_basket_race(db: Database, people: People, report: Report, trials: int) -> None:
    """Two operators of the hub record a food basket for the same household at once, neither
    with a reason: one is the month's first, the other must be asked for a reason."""
    say("1. two first food baskets of the month at once (no reason)")
    households = distribution_households(db, people, with_basket=False)
    for _ in range(trials):
        household = next(households)
        before = db.now()
        forms = [distribution_form(people[f"ente1:{i}"], household) for i in (0, 1)]
        bodies = [f.body(kind="food_basket") for f in forms]
        results = at_once(
            *(
                (lambda b=b, body=body: post(people[b], "/distributions/", body, htmx=True))
                for b, body in zip(("ente1:0", "ente1:1"), bodies, strict=True)
            )
        )
        made = new_distributions(db, household, "food_basket", before)
        without_reason = sum(1 for r in made if not r.override_reason)
        report.trial(
            "1 food basket x2 (two operators)",
            max(0, without_reason - 1),
            "over-allocation",
            f"household {household}: {len(made)} baskets, {without_reason} without a reason, "
            f"answers {statuses(results)}",
        )


# 2. Conflicting decisions ----------------------------------------------------------------------


def decisions(
    db: Database, people: People, referrals: Referrals, report: Report, trials: int
) -> None:
    reason = {"reason_code": "incomplete", "note": "Prova di concorrenza"}
    scenarios: list[tuple[str, str, list[tuple[str, str, dict[str, str]]]]] = [
        ("2 approve x2 (two coordinators)", "submitted",
         [("coordinatore:0", "approve", {}), ("coordinatore:1", "approve", {})]),
        ("2 approve + reject", "submitted",
         [("coordinatore:0", "approve", {}), ("coordinatore:1", "reject", reason)]),
        ("2 cancel + accept", "approved",
         [("ente1:0", "cancel", {}), ("ente2:0", "accept", {})]),
        ("2 accept x2 (two colleagues)", "approved",
         [("ente2:0", "accept", {}), ("ente2:1", "accept", {})]),
    ]  # fmt: skip
    service = referrals.service(1)  # not the one of item 1, whose places keep changing
    for name, start, steps in scenarios:
        say(f"2. {name}")
        for _ in range(trials):
            if start == "submitted":
                referral, _s = referrals.submitted(service.id, service)
            else:
                referral, _s = referrals.approved(service.id, service)
            calls = [
                referrals.prepared(who, referral, action, **extra) for who, action, extra in steps
            ]
            results = at_once(*calls)
            problems = referral_problems(db, referral)
            report.trial(
                name,
                1 if problems else 0,
                "contradiction",
                f"referral {referral}: {'; '.join(problems) or 'consistent'}, "
                f"answers {statuses(results)}",
            )


def referral_problems(db: Database, referral: int) -> list[str]:
    """What is contradictory in one referral's history, state, dates and audit trail."""
    row = db.rows(
        "SELECT status, submitted_at, approved_at, accepted_at, closed_at FROM referral "
        "WHERE id = :id",
        id=referral,
    )[0]
    history = db.rows(
        "SELECT from_status, to_status FROM referral_status_change WHERE referral_id = :id "
        "ORDER BY created_at, id",
        id=referral,
    )
    problems = []
    leaving = Counter(h.from_status for h in history if h.from_status is not None)
    for state, times in leaving.items():
        if times > 1:
            targets = ", ".join(h.to_status for h in history if h.from_status == state)
            problems.append(f"{times} transitions out of {state} (to {targets})")
    for h in history:
        if (h.from_status, h.to_status) not in REFERRAL_STEPS:
            problems.append(f"{h.from_status} -> {h.to_status} is not a transition")
    for before, after in pairwise(history):
        if after.from_status != before.to_status:
            problems.append(f"history jumps from {before.to_status} to {after.from_status}")
    if history and history[-1].to_status != row.status:
        problems.append(f"state {row.status} but the history ends in {history[-1].to_status}")
    reached = {h.to_status for h in history}
    for column, states in STAMPS.items():
        stamped = getattr(row, column) is not None
        through = bool(reached & states)
        if stamped and not through:
            problems.append(f"{column} set but the history never reached {sorted(states)[0]}…")
        if row.status in states and not stamped:
            problems.append(f"state {row.status} without {column}")
    if row.status in ("cancelled", "rejected", "declined") and row.accepted_at is not None:
        problems.append(f"state {row.status} with an acceptance date")
    events = Counter(
        r.action
        for r in db.rows(
            "SELECT action FROM audit_event WHERE object_type = 'referral' AND object_id = :id",
            id=referral,
        )
    )
    arrivals = Counter(h.to_status for h in history if h.from_status is not None)
    for target, times in arrivals.items():
        if events.get(f"referral_{target}", 0) > times:
            problems.append(f"{events[f'referral_{target}']} audit events referral_{target}")
    for action, times in events.items():
        target = action.removeprefix("referral_")
        if target in arrivals or target in ("created", "viewed"):
            continue
        if target in {s for _f, s in REFERRAL_STEPS}:
            problems.append(f"audit event {action} x{times} without its history row")
    return problems


def project_race(db: Database, people: People, report: Report, trials: int) -> None:
    """The City approves a project while its organization withdraws the request."""
    say("2. project approve + withdraw")
    org = db.user_org("ente1")
    done = 0
    for project in db.rows(
        "SELECT id, status FROM project WHERE organization_id = :org AND status IN "
        "('submitted', 'draft') ORDER BY status DESC, id",
        org=org,
    ):
        if done >= trials:
            break
        if project.status == "draft":
            project_step(people["ente1:0"], project.id, "submit")
            if db.scalar("SELECT status FROM project WHERE id = :id", id=project.id) != "submitted":
                continue  # a draft that cannot be sent yet (no budget line or goal)
        before = db.now()
        results = at_once(
            project_call(people["coordinatore:0"], project.id, "approve"),
            project_call(people["ente1:1"], project.id, "withdraw"),
        )
        events = Counter(
            r.action
            for r in db.rows(
                "SELECT action FROM audit_event WHERE object_type = 'project' AND object_id = :id "
                "AND created_at > :before AND action IN ('project_approve', 'project_withdraw')",
                id=project.id,
                before=before,
            )
        )
        state = db.rows("SELECT status, approved_at FROM project WHERE id = :id", id=project.id)[0]
        both = events["project_approve"] >= 1 and events["project_withdraw"] >= 1
        odd = state.status == "draft" and events["project_approve"] >= 1
        report.trial(
            "2 project approve + withdraw",
            1 if both or odd else 0,
            "contradiction",
            f"project {project.id}: now {state.status}, audit {dict(events)}, "
            f"answers {statuses(results)}",
        )
        done += 1
    if done == 0:
        say("   (no project of ente1's in a state to try: skipped)")


def project_call(browser: Browser, project: int, step: str) -> Callable[[], Reply]:
    page = get(browser, f"/projects/{project}")
    token = next(
        (f.value("csrf_token") for f in forms_of(page.body) if f.value("csrf_token")), None
    )
    if token is None:
        raise BenchError(f"no csrf_token on project {project}")
    return lambda: post(browser, f"/projects/{project}/{step}", [("csrf_token", token)])


def project_step(browser: Browser, project: int, step: str) -> Reply:
    return project_call(browser, project, step)()


# 3. Double clicks ------------------------------------------------------------------------------


def double_referral(
    db: Database, people: People, referrals: Referrals, report: Report, trials: int
) -> None:
    say("3. referral form sent twice at once")
    browser = people["ente1"]
    made = 0
    for household, person, need in referrals.candidates():
        if made >= trials:
            break
        form = referrals.form(household, person, need)
        body = referrals.body(form, None)
        if body is None:
            continue
        before = db.now()
        results = at_once(*[partial(post, browser, form.action, body)] * 2)
        created = [
            r.id
            for r in db.rows(
                "SELECT id FROM referral WHERE person_id = :p AND need = :n AND created_at > :t",
                p=person,
                n=need,
                t=before,
            )
        ]
        referrals.made += created
        if not created and not any(isinstance(r, Reply) and r.status >= 500 for r in results):
            continue  # refused for a reason of its own (sharing, service): try another one
        made += 1
        report.trial(
            "3 referral form x2",
            max(0, len(created) - 1),
            "duplicate",
            f"household {household}: {len(created)} referrals{key_note(form)}, "
            f"answers {statuses(results)}",
        )


def key_note(form: Form) -> str:
    return " (with idempotency_key)" if form.value("idempotency_key") else " (form has no key)"


def codice_fiscale(surname: str, name: str, birth: date, sex: str) -> str:
    from stdnum.it import codicefiscale

    months = "ABCDEHLMPRST"
    day = birth.day + (40 if sex == "F" else 0)
    letters = "".join(random.choice(string.ascii_uppercase) for _ in range(6))
    stem = f"{letters}{birth.year % 100:02d}{months[birth.month - 1]}{day:02d}L219"
    return stem + codicefiscale.calc_check_digit(stem)


def double_intake(db: Database, people: People, report: Report, trials: int, with_cf: bool) -> None:
    label = "3 intake x2, with codice fiscale" if with_cf else "3 intake x2, no codice fiscale"
    say(
        f"3. household intake sent twice at once "
        f"({'with' if with_cf else 'without'} codice fiscale)"
    )
    browser = people["ente1"]
    for _ in range(trials):
        page = get(browser, "/households/new")
        form = form_with(page.body, "members-0-first_name", "/households/new")
        surname = "Prova" + "".join(random.choice(string.ascii_lowercase) for _ in range(10))
        first = random.choice(["Giulia", "Marco", "Aisha", "Ion", "Fatima", "Luca"])
        birth = date(
            1960 + random.randrange(40), 1 + random.randrange(12), 1 + random.randrange(28)
        )
        sex = random.choice("MF")
        circoscrizione = next(v for v in form.options.get("circoscrizione", []) if v)
        needs = form.options.get("needs", [])[:1]
        overrides: dict[str, str | list[str]] = {
            "members-0-first_name": first,
            "members-0-last_name": surname,
            "members-0-birth_date": birth.isoformat(),
            "members-0-sex": sex,
            "members-0-relation": "reference",
            "members-0-codice_fiscale": codice_fiscale(surname, first, birth, sex)
            if with_cf
            else "",
            "circoscrizione": circoscrizione,
            "needs": needs,
            "address": f"Via della Prova {random.randrange(1, 200)}, Torino",
            "privacy_notice_given": "y",
        }
        if not form.value("privacy_notice_on"):
            overrides["privacy_notice_on"] = rome_today().isoformat()
        body = form.body(**overrides)
        results = at_once(*[partial(post, browser, form.action, body)] * 2)
        made = int(
            db.scalar(
                "SELECT COUNT(DISTINCT household_id) FROM person WHERE last_name = :s", s=surname
            )
        )
        errors = sum(1 for r in results if isinstance(r, Reply) and r.status >= 500)
        if made == 0:
            say(f"   no household made: answers {statuses(results)} (form refused?)")
        report.trial(
            label,
            max(0, made - 1),
            "duplicate",
            f"{made} households{key_note(form)}, answers {statuses(results)}"
            + (f", {errors} server error(s)" if errors else ""),
        )


def distribution_households(db: Database, people: People, with_basket: bool) -> Iterator[int]:
    """ente1's active households, with (or without) a food basket already this month."""
    today = rome_today()
    first = today.replace(day=1)
    org = db.user_org("ente1")
    rows = db.rows(
        "SELECT h.id, (SELECT COUNT(*) FROM distribution d WHERE d.household_id = h.id "
        "AND d.kind = 'food_basket' AND d.distributed_on >= :first) AS baskets "
        "FROM household h WHERE h.organization_id = :org AND h.status = 'active' "
        "AND h.anonymised_at IS NULL ORDER BY h.id DESC",
        org=org,
        first=first,
    )
    for row in rows:
        if (row.baskets > 0) == with_basket:
            yield row.id
    if not with_basket:
        raise BenchError("no household of ente1's without a food basket this month left")
    # None has a basket yet: give one (an ordinary, single request), then use it.
    for row in rows:
        form = distribution_form(people["ente1"], row.id)
        post(people["ente1"], "/distributions/", form.body(kind="food_basket"), htmx=True)
        yield row.id


def distribution_form(browser: Browser, household: int) -> Form:
    page = get(browser, f"/distributions/form?household_id={household}", htmx=True)
    if page.status != 200:
        raise BenchError(f"the distribution form for household {household} answered {page.status}")
    return form_with(page.body, "kind")


def new_distributions(db: Database, household: int, kind: str, before: Any) -> list[Any]:
    return db.rows(
        "SELECT id, override_reason FROM distribution WHERE household_id = :h AND kind = :k "
        "AND created_at > :t",
        h=household,
        k=kind,
        t=before,
    )


def double_distribution(
    db: Database, people: People, report: Report, trials: int, kind: str
) -> None:
    second = kind == "food_basket"
    label = "3 second food basket x2, with reason" if second else "3 basic necessities x2"
    say(f"3. {'second food basket with its reason' if second else 'basic necessities'} sent twice")
    browser = people["ente1"]
    households = distribution_households(db, people, with_basket=True)
    for _ in range(trials):
        household = next(households)
        form = distribution_form(browser, household)
        extra: dict[str, str] = {"kind": kind}
        if second:
            extra["override_reason"] = "Nucleo numeroso: secondo paniere (prova di concorrenza)"
        body = form.body(**extra)
        before = db.now()
        results = at_once(*[partial(post, browser, "/distributions/", body, htmx=True)] * 2)
        made = new_distributions(db, household, kind, before)
        report.trial(
            label,
            max(0, len(made) - 1),
            "duplicate",
            f"household {household}: {len(made)} rows{key_note(form)}, answers {statuses(results)}",
        )


def placement_households(db: Database) -> Iterator[tuple[int, str]]:
    """Households of ente1's and ente2's organizations that may get a housing proposal (data
    shared with housing providers, no placement in progress), the smallest first; with the
    account of the organization that proposes."""
    for account in ("ente1", "ente2"):
        rows = db.rows(
            "SELECT h.id FROM household h WHERE h.organization_id = :org "
            "AND h.status = 'active' AND h.anonymised_at IS NULL "
            "AND EXISTS (SELECT 1 FROM consent c WHERE c.household_id = h.id "
            "AND c.purpose = 'housing' AND c.recipient_organization_id IS NULL "
            "AND c.given_on <= CURRENT_DATE AND (c.expires_on IS NULL OR c.expires_on >= "
            "CURRENT_DATE) AND c.withdrawn_on IS NULL) "
            "AND NOT EXISTS (SELECT 1 FROM placement p WHERE p.household_id = h.id AND p.status "
            "IN ('proposed', 'approved', 'accepted', 'active')) "
            "ORDER BY (SELECT COUNT(*) FROM person m WHERE m.household_id = h.id), h.id",
            org=db.user_org(account),
        )
        yield from ((row.id, account) for row in rows)


def cancel_placements(people: People, account: str, placements: list[int]) -> None:
    """Give back the places a trial reserved (the proposer cancels: «inserita per errore»)."""
    for placement in placements:
        try:
            form = step_form(people[account], placement, "cancel")
        except BenchError:
            continue  # already past the steps the proposer can cancel
        body = form.body(reason_code="error", note="Prova di concorrenza (bench/concurrency.py)")
        post(people[account], form.action, body)


def proposal(db: Database, browser: Browser, household: int, provider: int | None) -> Form | None:
    """The «Proponi» form for a household, with a unit chosen (of `provider` if given)."""
    page = get(browser, f"/housing/placements/new?household={household}")
    if page.status != 200:
        return None
    try:
        form = next(
            f for f in forms_of(page.body) if f.method == "post" and "motivation" in f.names
        )
    except StopIteration:
        return None
    units = form.radios.get("unit_id", [])
    if provider is not None:
        mine = {
            str(r.id)
            for r in db.rows("SELECT id FROM housing_unit WHERE provider_id = :p", p=provider)
        }
        units = [u for u in units if u in mine]
    if not units:
        return None
    form.set("unit_id", units[0])
    form.set("motivation", "Prova di concorrenza (bench/concurrency.py).")
    if "target_reason" in form.names:  # asked when the household is outside the unit's groups
        form.set("target_reason", "Prova di concorrenza: destinatari non verificati.")
    return form


def error_after_success(results: list[Reply | BaseException], succeeded: bool) -> bool:
    """The step was done, yet one of the two answers is an error: if it is the second click's,
    it is the page the browser shows."""
    failed = any(not isinstance(r, Reply) or r.status >= 400 for r in results)
    return succeeded and failed


def double_proposal(db: Database, people: People, report: Report, trials: int) -> None:
    say("3. placement «Proponi» clicked twice")
    done = 0
    for household, account in placement_households(db):
        if done >= trials:
            break
        browser = people[account]
        form = proposal(db, browser, household, None)
        if form is None:
            continue
        before = db.now()
        results = at_once(*[partial(post, browser, form.action, form.fields)] * 2)
        made = db.rows(
            "SELECT id FROM placement WHERE household_id = :h AND created_at > :t",
            h=household,
            t=before,
        )
        if not made and not any(isinstance(r, Reply) and r.status >= 500 for r in results):
            continue  # refused for a reason of its own (sharing, size): another household
        done += 1
        report.trial(
            "3 placement «Proponi» x2",
            max(0, len(made) - 1),
            "duplicate",
            f"household {household}: {len(made)} placements{key_note(form)}, "
            f"answers {statuses(results)}",
        )
        report.trial(
            "3 placement «Proponi» x2: answers",
            1 if error_after_success(results, bool(made)) else 0,
            "error after success",
            f"household {household}: answers {statuses(results)}",
        )
        cancel_placements(people, account, [r.id for r in made])
    if done == 0:
        raise BenchError("no household could get a housing proposal: «Proponi» was not tried")


def step_form(browser: Browser, placement: int, step: str) -> Form:
    page = get(browser, f"/housing/placements/{placement}")
    action = f"/housing/placements/{placement}/{step}"
    form = next((f for f in forms_of(page.body) if f.action == action), None)
    if form is None:
        raise BenchError(f"no {step} button on placement {placement} (answered {page.status})")
    return form


def step_call(browser: Browser, placement: int, step: str) -> Callable[[], Reply]:
    form = step_form(browser, placement, step)
    return partial(post, browser, form.action, form.fields)


def double_accept_placement(db: Database, people: People, report: Report, trials: int) -> None:
    say("3. placement «Accetta» clicked twice")
    provider = db.user_org("alloggi1")
    done = 0
    for household, account in placement_households(db):
        if done >= trials:
            break
        form = proposal(db, people[account], household, provider)
        if form is None:
            continue
        reply = post(people[account], form.action, form.fields)
        match = re.match(r".*/housing/placements/(\d+)$", reply.location)
        if reply.status != 303 or match is None:
            continue
        placement = int(match.group(1))
        step_call(people["coordinatore"], placement, "approve")()
        if db.scalar("SELECT status FROM placement WHERE id = :id", id=placement) != "approved":
            cancel_placements(people, account, [placement])
            continue
        accept = step_call(people["alloggi1"], placement, "accept")
        results = at_once(accept, accept)
        status = db.scalar("SELECT status FROM placement WHERE id = :id", id=placement)
        done += 1
        report.trial(
            "3 placement «Accetta» x2: answers",
            1 if error_after_success(results, status == "accepted") else 0,
            "error after success",
            f"placement {placement}: now {status}, answers {statuses(results)}",
        )
        cancel_placements(people, account, [placement])


# The server (--start) --------------------------------------------------------------------------


@contextmanager
def portal(url: str, workers: int, log_path: Path) -> Iterator[int]:
    server = Server(
        "portal", "wsgi:app", portal_environment(url), log_path.parent,
        workers=workers, log_path=log_path,
    )  # fmt: skip
    with serving(server):
        yield server.port


# Main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="the portal's database (read to choose records and count results)",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="a running portal, e.g. http://127.0.0.1:8620")
    where.add_argument(
        "--start",
        action="store_true",
        help="start the portal with gunicorn (production settings) for the run",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers with --start")
    parser.add_argument(
        "--log",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench-concurrency-gunicorn.log",
        help="gunicorn's log with --start",
    )
    parser.add_argument("--trials", type=int, default=4, help="trials of each scenario")
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeatable); default: all",
    )
    parser.add_argument("--seed", type=int, help="random seed (names, birth dates)")
    return parser.parse_args(argv)  # fmt: skip


SCENARIOS = (
    "places",
    "baskets",
    "referral-decisions",
    "project",
    "referral-form",
    "intake",
    "intake-cf",
    "necessities",
    "second-basket",
    "proposal",
    "placement-accept",
)


def run(port: int, db: Database, trials: int, only: set[str]) -> Report:
    report = Report()
    say(f"logging in on :{port} (two sessions per demo account)")
    people = log_everyone(port)
    referrals = Referrals(db, people, report)
    services = referrals.services()
    originals = {s.id: s.monthly_capacity for s in services}
    try:
        for service in services:  # room for every referral of the run; restored at the end
            set_capacity(
                people, referrals.receiver_org, service.id, places_used(db, service.id) + ROOM
            )
        if "places" in only:
            last_place(db, people, referrals, report, trials)
        if "baskets" in only:
            food_basket_race(db, people, report, trials)
        if "referral-decisions" in only:
            decisions(db, people, referrals, report, trials)
        if "referral-form" in only:
            double_referral(db, people, referrals, report, trials)
    finally:
        for service_id, places in originals.items():
            set_capacity(people, referrals.receiver_org, service_id, places)
    if "project" in only:
        project_race(db, people, report, trials)
    if "intake" in only:
        double_intake(db, people, report, trials, with_cf=False)
    if "intake-cf" in only:
        double_intake(db, people, report, trials, with_cf=True)
    if "necessities" in only:
        double_distribution(db, people, report, trials, "basic_necessities")
    if "second-basket" in only:
        double_distribution(db, people, report, trials, "food_basket")
    if "proposal" in only:
        double_proposal(db, people, report, trials)
    if "placement-accept" in only:
        double_accept_placement(db, people, report, trials)
    # Every referral the run made, whatever the scenario: none may be contradictory.
    inconsistent = {r: p for r in set(referrals.made) if (p := referral_problems(db, r))}
    already = {
        int(m.group(1))
        for f in report.findings
        if f.category == "contradiction" and (m := re.search(r"referral (\d+)", f.detail))
    }
    for referral, problems in sorted(inconsistent.items()):
        if referral not in already:
            report.trial("2 any referral of the run", 1, "contradiction",
                         f"referral {referral}: {'; '.join(problems)}")  # fmt: skip
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.database_url:
        raise BenchError("--database-url (or DATABASE_URL) is needed to count the results")
    if args.seed is not None:
        random.seed(args.seed)
    db = Database(args.database_url)
    if not db.scalar("SELECT COUNT(*) FROM household"):
        raise BenchError("no households: load the demo data first (flask seed-demo)")
    started = time.monotonic()
    if args.start:
        with portal(args.database_url, args.workers, args.log) as port:
            report = run(port, db, args.trials, set(args.only or SCENARIOS))
        lost = args.log.read_text(errors="replace").count("was sent SIG") - args.log.read_text(
            errors="replace"
        ).count("was sent SIGTERM")
    else:
        parts = urllib.parse.urlsplit(args.base_url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise BenchError("--base-url must be a portal on this machine (127.0.0.1)")
        report = run(parts.port or 80, db, args.trials, set(args.only or SCENARIOS))
        lost = 0
    print("\n".join(report.lines))
    over = report.total("over-allocation")
    duplicates = report.total("duplicate")
    contradictions = report.total("contradiction")
    shown_errors = report.total("error after success")
    errors = len(STATS.server_errors)
    print(
        f"\n{sum(report.trials.values())} trials, {STATS.requests} requests in "
        f"{time.monotonic() - started:.0f} s on {db.engine.dialect.name}"
    )
    print(f"over-allocations:        {over}")
    print(f"duplicates:              {duplicates}")
    print(f"contradictory histories: {contradictions}")
    print(f"errors after a success:  {shown_errors}  (double click on a full-page form)")
    print(f"server errors (5xx):     {errors}")
    for line in STATS.server_errors[:20]:
        print(f"    {line}")
    if lost > 0:
        print(f"worker processes lost:   {lost}")
    failed = over or duplicates or contradictions or shown_errors or errors or lost > 0
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as problem:
        print(f"concurrency: {problem}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("concurrency: interrupted", file=sys.stderr)
        sys.exit(130)
