"""The city-scale data set: `seed_scale(scale, seed)` fills an empty database.

Scale 1.0 is the city of DESIGN.md: 2,000 organizations, 6,000 services, 100,000 households
(about 250,000 people), 500,000 distributions, 200,000 referrals, 5,000 housing units, 50,000
placements, 20,000 projects and 2,000,000 audit events. Every figure is multiplied by `scale`.

How it is written: `writer.CHUNK` rows at a time (PostgreSQL: one COPY per chunk, on a writer
thread; SQLite: SQLAlchemy Core `insert(Table)` with executemany), ids assigned here for the rows
that others reference, in one transaction (a failure leaves the database empty). The states
follow the real workflows (see the `demo.py` of each domain): referrals and placements walk the
transition tables step by step, each step with its history row, audit event and, when recent,
its notifications; vacancies are capacity minus the guests placed outside the portal minus the
placements holding a place; budget lines keep paid <= committed <= approved. Randomness comes
only from `random.Random(seed)`, dates from `today`.

The five demo accounts (`app.demo.DEMO_USERS`) exist with the demo password; their organizations
are those of the demo (ente1's a hub and job service, ente2's a job service, alloggi1's a
housing provider) and own a larger share of the data than an average organization, so their pages
are full.
"""

from __future__ import annotations

import bisect
import gc
import random
import secrets
import time as clock
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Table, func, select, text

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.clock import ROME
from app.demo import DEMO_USERS
from app.extensions import db
from app.households import demo as households_demo
from app.households.consents import LEDGER_NOTE
from app.households.models import Consent, Distribution, Household, Person
from app.housing.models import HousingRiskCase, HousingUnit, Placement, WellbeingCheck
from app.housing.vocabulary import (
    CANCEL_REASONS,
    EXIT_REASONS,
    RISK_ACTIONS,
    RISK_OUTCOMES,
    TARGET_GROUPS,
)
from app.housing.vocabulary import DECLINE_REASONS as HOUSING_DECLINE_REASONS
from app.housing.vocabulary import REJECT_REASONS as HOUSING_REJECT_REASONS
from app.notifications.models import Notification
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.referrals.matching import Offer, Subject, score
from app.referrals.models import OPEN_STATUSES, Referral, ReferralStatusChange
from app.referrals.operations import NOTIFY_ON
from app.referrals.vocabulary import (
    DECLINE_REASONS,
    EXPIRY_REASONS,
    NEEDS,
    OUTCOMES_COMPLETED,
    OUTCOMES_FAILED,
    REJECT_REASONS,
)
from app.registry.demo import ORGANIZATIONS as DEMO_ORGANIZATIONS
from app.registry.demo import tax_code as demo_tax_code
from app.registry.models import (
    NEIGHBOURS,
    Accreditation,
    Organization,
    Service,
    Site,
    service_site,
)
from app.scale import texts
from app.scale.codici import CodiceFiscaleRegistry
from app.scale.writer import Buffer, copying, insert_all

CITY = {
    "organizations": 2_000,
    "services": 6_000,
    "households": 100_000,
    "distributions": 500_000,
    "referrals": 200_000,
    "housing_units": 5_000,
    "placements": 50_000,
    "projects": 20_000,
    "audit_events": 2_000_000,
}
MINIMUM = {"organizations": 20, "services": 40, "housing_units": 12}
HOUSEHOLDS_AT_SCALE_1 = CITY["households"]

# Demo organizations (index in the organization list) and how much more they own than average.
ENTE1, ENTE2, ALLOGGI1 = 0, 1, 2
ENTE1_HOUSEHOLD_WEIGHT = 20.0
ENTE2_HOUSEHOLD_WEIGHT = 12.0
DEMO_SERVICES = 10  # services of ente1's and ente2's organizations each
ALLOGGI1_UNIT_SHARE = 0.04
TO_ENTE2_SHARE = 0.015  # referrals addressed to ente2's organization
TO_ENTE1_SHARE = 0.01

NOTIFY_DAYS = 30  # steps older than this left no notification (purged)
UNREAD_DAYS = 7
JOB_SCOPES = ("job_services", "all_partners")
HOUSING_SCOPES = ("housing", "all_partners")
# The consents of the ledger each authorisation scope becomes (as in migration 0023).
SCOPE_PURPOSES = {
    "job_services": ("job_services",),
    "housing": ("housing",),
    "all_partners": ("job_services", "housing", "project"),
}
HOUSING_NEED = ("eviction_risk", "guest", "homeless", "temporary")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")
OTHER_LANGUAGES = ("en", "fr", "ar", "ro", "es", "zh", "sq", "uk", "wo")

REFERRAL_PATHS: dict[str, tuple[str, ...]] = {
    "draft": ("draft",),
    "submitted": ("draft", "submitted"),
    "approved": ("draft", "submitted", "approved"),
    "rejected": ("draft", "submitted", "rejected"),
    "accepted": ("draft", "submitted", "approved", "accepted"),
    "declined": ("draft", "submitted", "approved", "declined"),
    "in_progress": ("draft", "submitted", "approved", "accepted", "in_progress"),
    "completed": ("draft", "submitted", "approved", "accepted", "in_progress", "completed"),
    "failed": ("draft", "submitted", "approved", "accepted", "in_progress", "failed"),
    "cancelled": ("draft", "submitted", "approved", "cancelled"),
    # Only the one forced referral: the generator does not fill services (issue #24).
    "waiting": ("draft", "waiting"),
    # Approved, then left unanswered by the entity past the step's limit (issue #24).
    "expired": ("draft", "submitted", "approved", "expired"),
}
REFERRAL_GAP_DAYS = {
    "submitted": (0, 3),
    "approved": (1, 6),
    "rejected": (1, 6),
    "accepted": (1, 8),
    "declined": (1, 8),
    "in_progress": (1, 10),
    "completed": (20, 150),
    "failed": (15, 120),
    "cancelled": (1, 10),
    "waiting": (0, 3),
    "expired": (29, 40),  # 20 working days and more after the approval
}
# Who takes each step: "sender", "coordinator" or "receiver".
REFERRAL_SIDE = {
    "draft": "sender",
    "submitted": "sender",
    "cancelled": "sender",
    "approved": "coordinator",
    "rejected": "coordinator",
    "accepted": "receiver",
    "declined": "receiver",
    "in_progress": "receiver",
    "completed": "receiver",
    "failed": "receiver",
    "waiting": "sender",
    "expired": "system",  # the nightly run: no person
}
REFERRAL_REASONS = {
    "rejected": REJECT_REASONS,
    "declined": DECLINE_REASONS,
    "completed": OUTCOMES_COMPLETED,
    "failed": OUTCOMES_FAILED,
    "expired": {"no_answer": EXPIRY_REASONS["no_answer"]},  # expired at the entity's answer
}
REFERRAL_WEIGHTS_RECENT = {
    "draft": 12, "submitted": 40, "approved": 20, "accepted": 8, "rejected": 6, "declined": 5,
    "cancelled": 4, "in_progress": 5,
}  # fmt: skip
REFERRAL_WEIGHTS_MONTH = {
    "draft": 3, "submitted": 6, "approved": 8, "accepted": 12, "in_progress": 30, "rejected": 10,
    "declined": 10, "cancelled": 6, "completed": 8, "failed": 7,
}  # fmt: skip
REFERRAL_WEIGHTS_OLD = {
    "draft": 1, "submitted": 1, "approved": 2, "accepted": 3, "in_progress": 22, "completed": 32,
    "failed": 14, "rejected": 9, "declined": 10, "cancelled": 6, "expired": 2,
}  # fmt: skip
NEED_WEIGHTS = {
    "job_search": 35, "orientation": 20, "training": 12, "traineeship": 10,
    "italian_language": 10, "digital_skills": 8, "self_employment": 5,
}  # fmt: skip

PLACEMENT_WEIGHTS = {
    "ended": 40, "active": 24, "cancelled": 10, "declined": 8, "rejected": 6, "proposed": 4,
    "approved": 3, "accepted": 3,
}  # fmt: skip
HOLDING = ("proposed", "approved", "accepted", "active")
PLACEMENT_PATHS: dict[str, tuple[str, ...]] = {
    "proposed": ("proposed",),
    "approved": ("proposed", "approved"),
    "rejected": ("proposed", "rejected"),
    "accepted": ("proposed", "approved", "accepted"),
    "declined": ("proposed", "approved", "declined"),
    "active": ("proposed", "approved", "accepted", "active"),
    "ended": ("proposed", "approved", "accepted", "active", "ended"),
    "cancelled": ("proposed", "approved", "cancelled"),
}
PLACEMENT_REASONS = {
    "rejected": HOUSING_REJECT_REASONS,
    "declined": HOUSING_DECLINE_REASONS,
    "cancelled": CANCEL_REASONS,
    "ended": EXIT_REASONS,
}
PLACEMENT_NOTIFY = {
    "proposed": "coordinators",
    "approved": "provider",
    "rejected": "proposer",
    "accepted": "proposer",
    "declined": "proposer",
    "ended": "proposer",
}
UNIT_KINDS = {
    # kind: (weight, lowest and highest capacity, longest stay in days, monthly cost per place)
    "night_shelter_bed": (10, 8, 30, 90, 0),
    "temporary_flat": (35, 2, 6, 365, 250),
    "social_housing": (30, 2, 6, 730, 320),
    "family_hosting": (10, 1, 2, 180, 400),
    "co_housing": (15, 3, 8, 540, 280),
}
PROJECT_WEIGHTS = {"draft": 8, "submitted": 6, "approved": 6, "active": 45, "closed": 35}

FILLER_ACTIONS = {
    # action: weight
    "login": 24,
    "logout": 9,
    "household_viewed": 30,
    "referral_viewed": 10,
    "project_viewed": 6,
    "placement_viewed": 3,
    "vacancies_changed": 5,
    "household_updated": 4,
    "person_updated": 4,
    "login_failed": 2,
    "service_confirmed": 2,
    "person_data_exported": 1,
}


def targets(scale: float) -> dict[str, int]:
    return {key: max(MINIMUM.get(key, 1), round(value * scale)) for key, value in CITY.items()}


def database_is_empty() -> bool:
    """No row in any table of the portal."""
    for table in db.metadata.sorted_tables:
        if db.session.execute(select(text("1")).select_from(table).limit(1)).first():
            return False
    return True


# Small records kept in memory ------------------------------------------------------------------


@dataclass(slots=True)
class _Org:
    index: int
    id: int
    name: str
    circoscrizione: int
    is_job_service: bool
    is_hub: bool
    is_housing_provider: bool
    active: bool = True
    accredited: bool = False  # accreditation in force today
    sites: list[int] = field(default_factory=list)
    site_circs: set[int] = field(default_factory=set)
    hub_sites: list[tuple[int, str, frozenset[int]]] = field(default_factory=list)
    operators: list[int] = field(default_factory=list)
    providers: list[int] = field(default_factory=list)
    services: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Svc:
    id: int
    org: _Org
    service_type: str
    age_min: int | None
    age_max: int | None
    capacity: int
    active: bool
    offer: Offer | None = None


@dataclass(slots=True)
class _Member:
    id: int
    birth_date: date
    employment: str
    languages: frozenset[str]


@dataclass(slots=True)
class _Household:
    id: int
    org: _Org
    circoscrizione: int
    created: date
    closed_on: date | None
    sharing_scope: str | None
    sharing_on: date | None
    withdrawn: bool
    housing: str
    needs: list[str]
    case_worker: int | None
    members: list[_Member]


@dataclass(slots=True)
class _PersonView:
    """What the demo's need and note helpers read of a person."""

    employment_status: str
    languages: list[str]


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _ascii(value: str) -> str:
    plain = unicodedata.normalize("NFD", value)
    return "".join(ch for ch in plain.lower() if "a" <= ch <= "z")


# The generator ----------------------------------------------------------------------------------


class _Generator:
    def __init__(
        self,
        conn: Connection,
        scale: float,
        seed: int,
        today: date,
        echo: Callable[[str], None],
    ) -> None:
        self.conn = conn
        self.scale = scale
        self.rng = random.Random(seed)
        self.today = today
        self.now = datetime.now(UTC)
        self.echo = echo
        self.started = clock.perf_counter()
        self.n = targets(scale)
        self.counts: dict[str, int] = {}
        self.orgs: list[_Org] = []
        self.services: list[_Svc] = []
        self.households: list[_Household] = []
        self.coordinators: list[int] = []
        self.admin_id = 0
        self.user_ip: dict[int, str] = {}
        self.user_org: dict[int, int | None] = {}
        self.all_users: list[int] = []
        self.site_names: dict[int, str] = {}
        self.site_circ: dict[int, int] = {}
        self.unit_provider: list[int] = []
        self.audit = Buffer(conn, AuditEvent.__table__, 20_000)
        self.notifications = Buffer(conn, Notification.__table__)
        self.cf = CodiceFiscaleRegistry()
        self._offsets: dict[date, timedelta] = {}

    # helpers --------------------------------------------------------------------------------

    def stage(self, label: str, details: str) -> None:
        elapsed = clock.perf_counter() - self.started
        self.echo(f"[{elapsed:7.1f} s] {label}: {details}")

    def weighted(self, weights: dict[str, int] | dict[str, float]) -> str:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def day_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    def moment(self, day: date, earliest: datetime | None = None) -> datetime:
        """A moment in office hours of `day` (Turin), after `earliest`, never in the future."""
        rng = self.rng
        offset = self._offsets.get(day)
        if offset is None:
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=ROME)
            offset = self._offsets[day] = noon.utcoffset() or timedelta(0)
        local = datetime(
            day.year, day.month, day.day, rng.randint(8, 17), rng.randrange(60), tzinfo=UTC
        )
        moment = local - offset
        if earliest is not None and moment <= earliest:
            moment = earliest + timedelta(minutes=rng.randint(3, 50))
        return min(moment, self.now - timedelta(seconds=rng.randint(60, 3600)))

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ROME).date()

    def operator_of(self, org: _Org) -> int | None:
        return self.rng.choice(org.operators) if org.operators else None

    def provider_of(self, org: _Org) -> int | None:
        return self.rng.choice(org.providers) if org.providers else None

    def audit_event(
        self,
        action: str,
        object_type: str | None,
        object_id: int | None,
        changes: dict[str, Any] | None,
        actor_id: int | None,
        moment: datetime,
        actor_org: int | None = None,
    ) -> None:
        if actor_id is not None:
            actor_org = self.user_org.get(actor_id)
        self.audit.add(
            {
                "created_at": moment,
                "actor_id": actor_id,
                "actor_organization_id": actor_org,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "changes": changes,
                "ip_address": self.user_ip.get(actor_id) if actor_id else None,
            }
        )

    def notify(
        self,
        users: Sequence[int],
        kind: str,
        object_type: str,
        object_id: int,
        moment: datetime,
        read_at: datetime | None,
        exclude: int | None,
    ) -> None:
        for user_id in users:
            if user_id == exclude:
                continue
            self.notifications.add(
                {
                    "user_id": user_id,
                    "kind": kind,
                    "object_type": object_type,
                    "object_id": object_id,
                    "params": {},
                    "created_at": moment,
                    "read_at": read_at,
                }
            )

    def news_read_at(self, moment: datetime) -> datetime | None:
        """News is read a few hours later, unless it is from the last few days."""
        if moment > self.now - timedelta(days=UNREAD_DAYS):
            return None
        return moment + timedelta(hours=self.rng.randint(1, 30))

    # stages ---------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.organizations()
        self.users()
        self.sites_and_services()
        self.households_and_people()
        self.distributions()
        self.referrals()
        self.housing()
        self.projects()
        self.filler_audit()
        return self.counts

    # Organizations ---------------------------------------------------------------------------

    def organizations(self) -> None:
        rng = self.rng
        count = self.n["organizations"]
        names: set[str] = set()
        tax_codes: set[str] = set()
        org_rows: list[dict[str, Any]] = []
        accreditations: list[dict[str, Any]] = []
        self.accreditation_rows = accreditations
        for index in range(count):
            org_id = index + 1
            created = self.moment(self.day_ago(400, 2500))
            if index < 3:
                spec = DEMO_ORGANIZATIONS[index]
                name, legal_form, circ = spec.name, spec.legal_form, spec.circoscrizione
                tax = demo_tax_code(spec.tax_base)
                is_job, is_hub, is_housing = (
                    spec.is_job_service,
                    spec.is_hub,
                    spec.is_housing_provider,
                )
                row_extra = {
                    "runts_section": spec.runts_section,
                    "runts_number": spec.runts_number,
                    "address": spec.address,
                    "postal_code": spec.postal_code,
                    "phone": spec.phone,
                    "email": f"info@{spec.domain}.example.it",
                    "website": f"https://www.{spec.domain}.example.it",
                    "description": spec.description,
                }
                active = True
            else:
                legal_form = self.weighted(texts.LEGAL_FORM_WEIGHTS)
                circ = rng.randint(1, 8)
                quartiere = rng.choice(texts.QUARTIERI[circ])
                prefix = rng.choice(texts.ORG_PREFIXES[legal_form])
                name = f"{prefix} {rng.choice(texts.ORG_NOUNS)} {quartiere}"
                serial = 2
                while name in names:
                    name = f"{prefix} {rng.choice(texts.ORG_NOUNS)} {quartiere} {serial}"
                    serial += 1
                base = f"{2_000_000 + index:07d}001"
                tax = demo_tax_code(base)
                roll = rng.random()
                is_housing = roll < 0.12
                is_hub = 0.10 <= roll < 0.32
                is_job = roll >= 0.25 and roll < 0.88
                if not (is_housing or is_hub or is_job):
                    is_job = rng.random() < 0.5
                domain = _ascii(name)[:40] or f"ente{org_id}"
                row_extra = {
                    "runts_section": texts.RUNTS_SECTION[legal_form],
                    "runts_number": str(10_000 + index * 7),
                    "address": households_demo._address(rng, circ, "rented"),
                    "postal_code": rng.choice(texts.POSTAL_CODES[circ]),
                    "phone": f"011 {rng.randint(2_000_000, 8_999_999)}",
                    "email": f"info@{domain}.example.it",
                    "website": f"https://www.{domain}.example.it",
                    "description": None,
                }
                active = rng.random() < 0.97
            if name in names or tax in tax_codes:
                raise RuntimeError(f"Nome o codice fiscale ripetuto: {name}, {tax}")
            names.add(name)
            tax_codes.add(tax)
            org = _Org(index, org_id, name, circ, is_job, is_hub, is_housing, active)
            self.orgs.append(org)
            org_rows.append(
                {
                    "id": org_id,
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "name": name,
                    "legal_form": legal_form,
                    "tax_code": tax,
                    "circoscrizione": circ,
                    "is_job_service": is_job,
                    "is_hub": is_hub,
                    "is_housing_provider": is_housing,
                    "active": active,
                    "created_at": created,
                    "updated_at": created,
                    **row_extra,
                }
            )
            if is_job:
                accreditations.append(self._accreditation(org, created))
        self.counts["enti"] = insert_all(self.conn, Organization.__table__, org_rows)

    def _accreditation(self, org: _Org, created: datetime) -> dict[str, Any]:
        rng = self.rng
        status, reason = "active", None
        if org.index < 3:
            spec = DEMO_ORGANIZATIONS[org.index].accreditation
            if spec is None:
                raise RuntimeError("the demo job services have an accreditation")
            granted = self.today - timedelta(days=spec.granted_days_ago)
            expires = self.today + timedelta(days=spec.expires_in_days)
            functions = set(spec.functions)
        else:
            roll = rng.random()
            granted = self.day_ago(200, 1500)
            functions = {"information", "orientation"} | set(
                rng.sample(["counselling", "secretariat"], rng.randint(0, 2))
            )
            if roll < 0.78:
                expires = self.today + timedelta(days=rng.randint(61, 1000))
            elif roll < 0.84:
                expires = self.today + timedelta(days=rng.randint(1, 60))  # expiring soon
            elif roll < 0.90:
                expires = self.today - timedelta(days=rng.randint(1, 300))
                status, reason = "expired", None
            elif roll < 0.94:
                expires = self.today + timedelta(days=rng.randint(30, 700))
                status, reason = "suspended", "Verifica dei requisiti in corso presso la Regione."
            else:
                expires = self.today + timedelta(days=rng.randint(300, 1000))
                status = "pending"
            expires = max(expires, granted + timedelta(days=30))
            if status == "expired" and expires >= self.today:
                granted = self.today - timedelta(days=400)
                expires = self.today - timedelta(days=5)
        org.accredited = org.active and status == "active" and expires >= self.today
        verified = status != "pending"
        return {
            "id": len(self.accreditation_rows) + 1,
            "organization_id": org.id,
            "regional_number": f"ACC-LAV-{granted.year}-{org.id:04d}",
            "granted_on": granted,
            "expires_on": expires,
            "fn_information": "information" in functions,
            "fn_counselling": "counselling" in functions,
            "fn_orientation": "orientation" in functions,
            "fn_secretariat": "secretariat" in functions,
            "status": status,
            "status_reason": reason,
            "verified_by_id": None,  # set once the admin account exists
            "verified_at": self.moment(granted + timedelta(days=rng.randint(1, 30)))
            if verified
            else None,
            "created_at": created,
            "updated_at": created,
        }

    # Users ----------------------------------------------------------------------------------

    def users(self) -> None:
        rng = self.rng
        password_hash = hash_password(current_app.config["DEMO_PASSWORD"])
        rows: list[dict[str, Any]] = []
        created = self.moment(self.day_ago(300, 400))

        def add(username: str, full_name: str, role: Role, org: _Org | None) -> int:
            user_id = len(rows) + 1
            last_login = self.moment(self.day_ago(0, 20))
            rows.append(
                {
                    "id": user_id,
                    "username": username,
                    "full_name": full_name,
                    "email": f"{username}@scala.reti-inclusione.torino.it",
                    "role": role.value,
                    "organization_id": org.id if org is not None else None,
                    "active": True,
                    "password_hash": password_hash,
                    "must_change_password": False,
                    "session_token": secrets.token_urlsafe(32),
                    "last_login_at": last_login,
                    "totp_secret": None,
                    "email_notifications": "immediate",
                    "totp_last_step": None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            self.user_ip[user_id] = (
                f"10.{user_id // 65536 % 256}.{user_id // 256 % 256}.{user_id % 256}"
            )
            self.user_org[user_id] = org.id if org is not None else None
            self.all_users.append(user_id)
            if role == Role.ENTITY_OPERATOR and org is not None:
                org.operators.append(user_id)
            elif role == Role.HOUSING_PROVIDER and org is not None:
                org.providers.append(user_id)
            elif role == Role.COORDINATOR:
                self.coordinators.append(user_id)
            return user_id

        for username, full_name, role, org_index in DEMO_USERS:
            user_id = add(
                username, full_name, role, self.orgs[org_index] if org_index is not None else None
            )
            if role == Role.ADMIN:
                self.admin_id = user_id
        usernames = {row["username"] for row in rows}

        def person_name() -> tuple[str, str]:
            sex = rng.choice((0, 1))
            first = rng.choice((households_demo.IT_MALE, households_demo.IT_FEMALE)[sex][1])
            last = rng.choice(households_demo.ITALIAN.surnames)
            return first, last

        def username_for(first: str, last: str) -> str:
            base = f"{_ascii(first)}.{_ascii(last)}"
            name, n = base, 2
            while name in usernames:
                name, n = f"{base}{n}", n + 1
            usernames.add(name)
            return name

        for _ in range(max(0, round(4 * self.scale))):
            first, last = person_name()
            add(username_for(first, last), f"{first} {last}", Role.COORDINATOR, None)
        for org in self.orgs:
            if not org.active:
                continue
            extra = {ENTE1: 4, ENTE2: 2, ALLOGGI1: 1}.get(org.index, 0)
            if org.is_job_service or org.is_hub:
                for _ in range(rng.randint(1, 3) + extra):
                    first, last = person_name()
                    add(username_for(first, last), f"{first} {last}", Role.ENTITY_OPERATOR, org)
            if org.is_housing_provider:
                for _ in range(rng.randint(1, 2) + extra):
                    first, last = person_name()
                    add(username_for(first, last), f"{first} {last}", Role.HOUSING_PROVIDER, org)
        self.counts["utenti"] = insert_all(self.conn, User.__table__, rows)
        for row in self.accreditation_rows:
            if row["verified_at"] is not None:
                row["verified_by_id"] = self.admin_id
        self.counts["accreditamenti"] = insert_all(
            self.conn, Accreditation.__table__, self.accreditation_rows
        )
        for row in self.accreditation_rows:
            self.audit_event(
                "accreditation_created",
                "accreditation",
                row["id"],
                {"status": row["status"], "regional_number": row["regional_number"]},
                self.admin_id,
                row["created_at"],
            )
        self.stage(
            "Enti e account",
            f"enti {self.counts['enti']}, accreditamenti {self.counts['accreditamenti']}, "
            f"utenti {self.counts['utenti']}",
        )

    # Sites and services ---------------------------------------------------------------------

    def sites_and_services(self) -> None:
        rng = self.rng
        site_rows: list[dict[str, Any]] = []

        def add_site(org: _Org, spec: Any | None, hub: bool, circ: int) -> int:
            site_id = len(site_rows) + 1
            quartiere = rng.choice(texts.QUARTIERI[circ])
            if spec is not None:
                name, address, postal = spec.name, spec.address, spec.postal_code
                hours, phone = spec.opening_hours, spec.phone
                days = list(spec.distribution_days)
                served = spec.households_served
                hub, circ = spec.is_hub, spec.circoscrizione
            else:
                name = (
                    f"Snodo Torino Solidale {quartiere}"
                    if hub
                    else f"Sede di {quartiere}"
                    if not org.sites
                    else f"Sportello di {quartiere}"
                )
                address = households_demo._address(rng, circ, "rented")
                postal = rng.choice(texts.POSTAL_CODES[circ])
                hours = rng.choice(texts.OPENING_HOURS)
                phone = f"011 {rng.randint(2_000_000, 8_999_999)}"
                days = sorted(rng.sample(WEEKDAYS, rng.randint(1, 2)), key=WEEKDAYS.index)
                days = days if hub else []
                served = rng.randint(30, 220) if hub else None
            created = self.moment(self.day_ago(300, 2000))
            site_rows.append(
                {
                    "id": site_id,
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "organization_id": org.id,
                    "name": name,
                    "address": address,
                    "postal_code": postal,
                    "circoscrizione": circ,
                    "opening_hours": hours,
                    "phone": phone,
                    "is_hub": hub,
                    "distribution_days": days,
                    "households_served": served,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            org.sites.append(site_id)
            org.site_circs.add(circ)
            self.site_names[site_id] = name
            self.site_circ[site_id] = circ
            if hub and org.active:
                weekdays = frozenset(WEEKDAYS.index(d) for d in days) or frozenset(range(6))
                org.hub_sites.append((site_id, name, weekdays))
            return site_id

        for org in self.orgs:
            if org.index < 3:
                for spec in DEMO_ORGANIZATIONS[org.index].sites:
                    add_site(org, spec, spec.is_hub, spec.circoscrizione)
                continue
            add_site(org, None, False, org.circoscrizione)
            if org.is_hub:
                add_site(org, None, True, org.circoscrizione)
            if rng.random() < 0.2:
                add_site(org, None, False, rng.choice(sorted(NEIGHBOURS[org.circoscrizione])))
        self.counts["sedi"] = insert_all(self.conn, Site.__table__, site_rows)

        # Services: the demo organizations' own first, then spread over the job services.
        service_rows: list[dict[str, Any]] = []
        links: list[dict[str, int]] = []

        def add_service(org: _Org, spec: Any | None, service_type: str) -> None:
            service_id = len(service_rows) + 1
            demo_org = org.index in (ENTE1, ENTE2)
            if spec is not None:
                name, description = spec.name, spec.description
                languages = list(spec.languages)
                age_min, age_max = spec.age_min, spec.age_max
                youth, neet = spec.youth_focus, spec.neet_focus
                capacity = max(spec.monthly_capacity, 40)
                active, verified_ago = spec.active, spec.verified_days_ago
                site_ids = [org.sites[i] for i in spec.sites]
            else:
                name = rng.choice(texts.SERVICE_NAMES[service_type])
                description = texts.SERVICE_DESCRIPTION
                languages = ["it", *rng.sample(OTHER_LANGUAGES, rng.choice((0, 1, 1, 2, 3)))]
                youth = service_type in ("job_placement", "traineeship", "training") and (
                    rng.random() < 0.3
                )
                if youth:
                    age_min, age_max, neet = rng.choice((16, 18)), 29, rng.random() < 0.5
                else:
                    age_min = rng.choices((18, 16, None), weights=(70, 20, 10))[0]
                    age_max = 64 if rng.random() < 0.15 else None
                    neet = False
                capacity = rng.randint(40, 80) if demo_org else rng.randint(5, 40)
                active = rng.random() < 0.95 or demo_org
                verified_ago = rng.randint(0, 170) if rng.random() < 0.8 else rng.randint(184, 500)
                site_ids = [org.sites[0]]
                if len(org.sites) > 1 and rng.random() < 0.3:
                    site_ids.append(org.sites[1])
            created = self.moment(self.day_ago(verified_ago, verified_ago + 400))
            service_rows.append(
                {
                    "id": service_id,
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "organization_id": org.id,
                    "name": name,
                    "service_type": service_type,
                    "description": description,
                    "languages": languages,
                    "age_min": age_min,
                    "age_max": age_max,
                    "youth_focus": youth,
                    "neet_focus": neet,
                    "monthly_capacity": capacity,
                    "active": active,
                    "last_verified": self.today - timedelta(days=verified_ago),
                    "created_at": created,
                    "updated_at": created,
                }
            )
            links.extend({"service_id": service_id, "site_id": s} for s in site_ids)
            svc = _Svc(service_id, org, service_type, age_min, age_max, capacity, active)
            if active and org.accredited:
                svc.offer = Offer(
                    service_id=service_id,
                    organization_id=org.id,
                    service_type=service_type,
                    circoscrizioni=frozenset(site_rows[s - 1]["circoscrizione"] for s in site_ids),
                    languages=frozenset(languages),
                    age_min=age_min,
                    age_max=age_max,
                    youth_focus=youth,
                    neet_focus=neet,
                    capacity=capacity,
                    used=0,
                )
            self.services.append(svc)
            org.services.append(service_id)

        for index in (ENTE1, ENTE2):
            org = self.orgs[index]
            for spec in DEMO_ORGANIZATIONS[index].services:
                add_service(org, spec, spec.service_type)
            while len(org.services) < DEMO_SERVICES:
                add_service(org, None, self.weighted(texts.SERVICE_TYPE_WEIGHTS))
        owners = [o for o in self.orgs[3:] if o.is_job_service]
        for org in owners:  # every job service offers something
            if len(service_rows) < self.n["services"]:
                add_service(org, None, self.weighted(texts.SERVICE_TYPE_WEIGHTS))
        hubs_only = [o for o in self.orgs[3:] if o.is_hub and not o.is_job_service]
        weights = [9.0 * rng.uniform(0.5, 1.5) for _ in owners] + [1.0 for _ in hubs_only]
        pool = owners + hubs_only
        cumulative = list(_accumulate(weights))
        while len(service_rows) < self.n["services"] and pool:
            org = pool[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            if org.is_job_service:
                add_service(org, None, self.weighted(texts.SERVICE_TYPE_WEIGHTS))
            else:
                add_service(org, None, rng.choice(("information", "secretariat")))
        self.counts["servizi"] = insert_all(self.conn, Service.__table__, service_rows)
        insert_all(self.conn, service_site, links)
        for row in service_rows:
            self.audit_event(
                "service_created",
                "service",
                row["id"],
                {"name": row["name"], "organization_id": row["organization_id"]},
                None,
                row["created_at"],
                actor_org=row["organization_id"],
            )
        self.stage(
            "Sedi e servizi", f"sedi {self.counts['sedi']}, servizi {self.counts['servizi']}"
        )

    # Households and people ------------------------------------------------------------------

    def households_and_people(self) -> None:
        rng = self.rng
        owners = [o for o in self.orgs if o.active and (o.is_hub or o.is_job_service)]
        weights = []
        for org in owners:
            if org.index == ENTE1:
                weights.append(ENTE1_HOUSEHOLD_WEIGHT)
            elif org.index == ENTE2:
                weights.append(ENTE2_HOUSEHOLD_WEIGHT)
            else:
                weights.append(rng.uniform(0.3, 1.7))
        cumulative = list(_accumulate(weights))
        households = Buffer(self.conn, Household.__table__)
        people = Buffer(self.conn, Person.__table__, after=(households,))
        consents = Buffer(self.conn, Consent.__table__, after=(households,))
        consent_id = 0
        person_id = 0
        for index in range(self.n["households"]):
            household_id = index + 1
            org = owners[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            home = org.circoscrizione
            circ = home if rng.random() < 0.7 else rng.choice(sorted(NEIGHBOURS[home]))
            origin = households_demo._pick_origin(rng, circ)
            template = households_demo._weighted(
                rng,
                households_demo.TEMPLATES_BY_ORIGIN.get(
                    origin.key,
                    households_demo.TEMPLATES_ITALIAN
                    if origin.italian
                    else households_demo.TEMPLATES_FOREIGN,
                ),
            )
            plan = households_demo._Plan(org, circ, None, origin, template)  # type: ignore[arg-type]
            plan.members = households_demo._compose(rng, origin, template)
            if rng.random() < 0.07:
                plan.closed_days_ago = rng.randint(20, 1500)
            closed_on = (
                None
                if plan.closed_days_ago is None
                else self.today - timedelta(days=plan.closed_days_ago)
            )
            if closed_on is not None:
                intake = closed_on - timedelta(days=rng.randint(200, 900))
            elif rng.random() < 0.2:
                intake = self.day_ago(20, 150)
            else:
                intake = self.day_ago(150, 1400)
            created = self.moment(intake)
            members: list[_Member] = []
            views: list[_PersonView] = []
            first_names: list[str] = []
            person_rows: list[dict[str, Any]] = []
            for m in plan.members:
                person_id += 1
                born_in_italy = m.origin.italian or m.age < m.arrived_years_ago
                schooled_in_italy = born_in_italy or m.age - m.arrived_years_ago < 14
                if m.relation == "parent" and not m.origin.italian:
                    m.arrived_years_ago = rng.randint(1, max(1, m.arrived_years_ago))
                    born_in_italy = schooled_in_italy = False
                first = households_demo._first_name(rng, m, born_in_italy, first_names)
                first_names.append(first)
                birth = households_demo._birth_date(rng, m.age, self.today)
                place = households_demo._birthplace(rng, m, born_in_italy)
                code = self.cf.new(m.surname, first, birth, m.sex, place)
                education = households_demo._education(rng, m, schooled_in_italy)
                employment = households_demo._employment(rng, m)
                languages = households_demo._languages(rng, m, schooled_in_italy, education)
                person_rows.append(
                    {
                        "id": person_id,
                        "household_id": household_id,
                        "first_name": first,
                        "last_name": m.surname,
                        "codice_fiscale": code,
                        "birth_date": birth,
                        "sex": m.sex,
                        "relation": m.relation,
                        "employment_status": employment,
                        "education": education,
                        "languages": languages,
                        "phone": None,
                        "email": None,
                        "preferred_channel": None,
                        "contact_consent": False,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                members.append(_Member(person_id, birth, employment, frozenset(languages)))
                views.append(_PersonView(employment, languages))
            housing = households_demo._housing(rng, plan)
            needs = households_demo._needs(rng, plan, views, housing)  # type: ignore[arg-type]
            isee = households_demo._isee(rng, housing)
            isee_expires_on = None
            if isee is not None:
                if closed_on is not None:
                    isee_expires_on = closed_on + timedelta(days=rng.randint(30, 300))
                elif rng.random() < 0.07:
                    isee_expires_on = self.day_ago(3, 150)
                else:
                    isee_expires_on = self.today + timedelta(days=rng.randint(30, 365))
            worker = self.operator_of(org)
            if org.index == ENTE1 and rng.random() < 0.5:
                worker = org.operators[0]  # ente1 follows many of them herself
            privacy_on = None if rng.random() < 0.03 else intake
            scope = authorised = withdrawn = None
            if privacy_on is not None and rng.random() < 0.87:
                if housing in HOUSING_NEED:
                    scope = self.weighted({"all_partners": 50, "housing": 35, "job_services": 15})
                else:
                    scope = self.weighted({"job_services": 55, "all_partners": 45})
                authorised = min(
                    privacy_on + timedelta(days=rng.choice((0, 0, 0, 7, 14))), self.today
                )
                if rng.random() < 0.02:
                    withdrawn = max(authorised, self.day_ago(10, 60))
            households.add(
                {
                    "id": household_id,
                    "organization_id": org.id,
                    "case_worker_id": worker,
                    "address": households_demo._address(rng, circ, housing),
                    "circoscrizione": circ,
                    "isee_value": isee,
                    "isee_expires_on": isee_expires_on,
                    "housing_situation": housing,
                    "needs": needs,
                    "notes": households_demo._notes(rng, plan, views, housing),  # type: ignore[arg-type]
                    "status": "closed" if closed_on is not None else "active",
                    "closed_on": closed_on,
                    "anonymised_at": None,
                    "privacy_notice_on": privacy_on,
                    "privacy_notice_by_id": worker if privacy_on else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if scope is not None and authorised is not None:
                # Authorisations recorded before the ledger, as migration 0023 moves them.
                for purpose in SCOPE_PURPOSES[scope]:
                    consent_id += 1
                    consents.add(
                        {
                            "id": consent_id,
                            "household_id": household_id,
                            "purpose": purpose,
                            "recipient_organization_id": None,
                            "given_on": authorised,
                            "expires_on": None,
                            "withdrawn_on": withdrawn,
                            "signed_form": LEDGER_NOTE,
                            "recorded_by_id": worker,
                            "created_at": created,
                        }
                    )
            people.extend(person_rows)
            self.households.append(
                _Household(
                    household_id,
                    org,
                    circ,
                    intake,
                    closed_on,
                    scope,
                    authorised,
                    withdrawn is not None,
                    housing,
                    needs,
                    worker,
                    members,
                )
            )
            self.audit_event(
                "household_taken_in_charge",
                "household",
                household_id,
                {
                    "organization_id": org.id,
                    "members": [m.id for m in members],
                    "circoscrizione": circ,
                },
                worker,
                created,
                actor_org=org.id,
            )
        households.flush()
        people.flush()
        consents.flush()
        self.counts["nuclei"] = households.count
        self.counts["persone"] = people.count
        self.stage("Nuclei e persone", f"nuclei {households.count}, persone {people.count}")

    # Distributions --------------------------------------------------------------------------

    def distributions(self) -> None:
        rng = self.rng
        months = households_demo._month_starts(self.today, 12)
        hubs_by_circ: dict[int, list[tuple[_Org, tuple[int, str, frozenset[int]]]]] = {}
        for org in self.orgs:
            for hub in org.hub_sites:
                circ = self.site_circ[hub[0]]
                hubs_by_circ.setdefault(circ, []).append((org, hub))
        all_hubs = [h for hubs in hubs_by_circ.values() for h in hubs]
        if not all_hubs:
            return
        # Which households collect at which hub, and for how many months.
        served: list[tuple[_Household, _Org, tuple[int, str, frozenset[int]]]] = []
        household_months = 0
        for household in self.households:
            if household.org.hub_sites:
                hub_org, hub = household.org, rng.choice(household.org.hub_sites)
            elif "food" in household.needs:
                hub_org, hub = rng.choice(hubs_by_circ.get(household.circoscrizione) or all_hubs)
            else:
                continue
            served.append((household, hub_org, hub))
            start = max(months[0], household.created)
            end = household.closed_on or self.today
            if end >= start:
                household_months += (end.year - start.year) * 12 + end.month - start.month + 1
        per_month = self.n["distributions"] / max(household_months, 1)
        # A month with a basket brings about 1.05 rows, plus the basic necessities.
        basket_p = min(0.95, per_month / 1.35)
        basic_p = min(1.0, max(0.3, per_month / basket_p - 1.05))
        days_cache: dict[tuple[date, frozenset[int]], list[date]] = {}
        rows = Buffer(self.conn, Distribution.__table__)
        for household, hub_org, (site_id, site_name, weekdays) in served:
            start = max(months[0], household.created)
            end = min(self.today, household.closed_on or self.today)
            size = len(household.members)
            for month in months:
                key = (month, weekdays)
                days = days_cache.get(key)
                if days is None:
                    following = households_demo._next_month(month)
                    days = [
                        month + timedelta(days=k)
                        for k in range((following - month).days)
                        if (month + timedelta(days=k)).weekday() in weekdays
                    ]
                    days_cache[key] = days
                usable = [d for d in days if start <= d <= end]
                if not usable or rng.random() > basket_p:
                    continue
                day = rng.choice(usable)
                self._distribution(
                    rows,
                    household,
                    hub_org,
                    site_id,
                    site_name,
                    day,
                    "food_basket",
                    households_demo._basket_quantity(rng, size),
                    None,
                )
                later = [d for d in usable if d > day]
                if later and rng.random() < (0.12 if size >= 4 else 0.03):
                    reason = rng.choice(households_demo.SECOND_BASKET_REASONS)
                    self._distribution(
                        rows,
                        household,
                        hub_org,
                        site_id,
                        site_name,
                        rng.choice(later),
                        "food_basket",
                        1,
                        reason,
                    )
                if rng.random() < basic_p:
                    self._distribution(
                        rows,
                        household,
                        hub_org,
                        site_id,
                        site_name,
                        day,
                        "basic_necessities",
                        rng.randint(1, 2),
                        None,
                    )
        rows.flush()
        self.counts["distribuzioni"] = rows.count
        self.stage("Distribuzioni", f"{rows.count} negli ultimi 12 mesi")

    def _distribution(
        self,
        rows: Buffer,
        household: _Household,
        hub_org: _Org,
        site_id: int,
        site_name: str,
        day: date,
        kind: str,
        quantity: int,
        reason: str | None,
    ) -> None:
        operator = self.operator_of(hub_org)
        moment = self.moment(day)
        rows.add(
            {
                "household_id": household.id,
                "site_id": site_id,
                "organization_id": hub_org.id,
                "distributed_on": day,
                "kind": kind,
                "quantity": quantity,
                "operator_id": operator,
                "override_reason": reason,
                "created_at": moment,
            }
        )
        self.audit_event(
            "distribution_recorded",
            "distribution",
            None,
            {
                "household_id": household.id,
                "site_id": site_id,
                "site": site_name,
                "distributed_on": day.isoformat(),
                "kind": kind,
                "quantity": quantity,
                "override_reason": reason,
            },
            operator,
            moment,
            actor_org=hub_org.id,
        )

    # Referrals ------------------------------------------------------------------------------

    def referrals(self) -> None:
        rng = self.rng
        pool = [
            h
            for h in self.households
            if h.closed_on is None
            and h.sharing_scope in JOB_SCOPES
            and not h.withdrawn
            and h.sharing_on is not None
        ]
        if not pool:
            return
        weights = [3.0 if h.org.index == ENTE1 else 1.0 for h in pool]
        cumulative = list(_accumulate(weights))
        offers_by_need: dict[str, list[_Svc]] = {}
        for need, (_label, primary, related) in NEEDS.items():
            offers_by_need[need] = [
                s
                for s in self.services
                if s.offer is not None and s.service_type in primary | related
            ]
        demo_targets = {
            ENTE1: [s for s in self.services if s.org.index == ENTE1 and s.offer is not None],
            ENTE2: [s for s in self.services if s.org.index == ENTE2 and s.offer is not None],
        }
        month_start = self.today.replace(day=1)
        used_this_month: Counter[int] = Counter()
        open_pairs: set[tuple[int, str]] = set()
        referral_rows = Buffer(self.conn, Referral.__table__)
        history = Buffer(self.conn, ReferralStatusChange.__table__, after=(referral_rows,))
        statuses = list(REFERRAL_PATHS)
        window_start = self.today - timedelta(days=365)
        referral_id = 0
        attempts = 0
        while referral_id < self.n["referrals"] and attempts < self.n["referrals"] * 5:
            attempts += 1
            household = pool[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            earliest = max(window_start, household.created, household.sharing_on or window_start)
            if earliest >= self.today:
                continue
            created_day = earliest + timedelta(days=rng.randint(0, (self.today - earliest).days))
            candidates = [
                m for m in household.members if 16 <= _age(m.birth_date, created_day) <= 64
            ]
            if not candidates:
                continue
            youth = [m for m in candidates if _age(m.birth_date, created_day) <= 29]
            person = rng.choice(youth if youth and rng.random() < 0.6 else candidates)
            need = self.weighted(NEED_WEIGHTS)
            if need == "italian_language" and "it" in person.languages and rng.random() < 0.8:
                need = "job_search"
            age = _age(person.birth_date, created_day)
            subject = Subject(
                age=age,
                languages=person.languages,
                circoscrizione=household.circoscrizione,
                neet=person.employment == "neet",
            )
            roll = rng.random()
            if roll < TO_ENTE2_SHARE and household.org.index != ENTE2 and demo_targets[ENTE2]:
                options = demo_targets[ENTE2]
            elif (
                roll < TO_ENTE2_SHARE + TO_ENTE1_SHARE
                and household.org.index != ENTE1
                and demo_targets[ENTE1]
            ):
                options = demo_targets[ENTE1]
            else:
                options = offers_by_need[need]
            best = None
            for svc in rng.sample(options, min(4, len(options))):
                if svc.org is household.org or svc.offer is None:
                    continue
                if svc.age_min is not None and age < svc.age_min:
                    continue
                if svc.age_max is not None and age > svc.age_max:
                    continue
                suggestion = score(subject, need, svc.offer)
                if best is None or suggestion.score > best[1].score:
                    best = (svc, suggestion)
            if best is None:
                continue
            svc, suggestion = best
            # The final status: forced for the first ones, so every status exists at any scale.
            days_ago = (self.today - created_day).days
            if referral_id < len(statuses):
                status = statuses[referral_id]
                if days_ago < 40 and status in ("completed", "failed"):
                    continue
            elif days_ago <= 7:
                status = self.weighted(REFERRAL_WEIGHTS_RECENT)
            elif days_ago <= 30:
                status = self.weighted(REFERRAL_WEIGHTS_MONTH)
            else:
                status = self.weighted(REFERRAL_WEIGHTS_OLD)
            path = list(REFERRAL_PATHS[status])
            if status == "cancelled":
                path = [*path[: rng.randint(1, 3)], "cancelled"]
            is_open = status in OPEN_STATUSES
            if is_open and (person.id, need) in open_pairs:
                continue
            moments = self._referral_moments(path, created_day)
            if "accepted" in path:
                accepted_at = moments[path.index("accepted")]
                if self.local_day(accepted_at) >= month_start:
                    if used_this_month[svc.id] >= svc.capacity:
                        path = [*REFERRAL_PATHS["declined"]]
                        moments = moments[: len(path)]
                        status = "declined"
                        is_open = False
                    else:
                        used_this_month[svc.id] += 1
            if is_open:
                open_pairs.add((person.id, need))
            referral_id += 1
            self._write_referral(
                referral_rows,
                history,
                referral_id,
                household,
                person.id,
                svc,
                need,
                suggestion,
                path,
                moments,
            )
        referral_rows.flush()
        history.flush()
        self.counts["segnalazioni"] = referral_rows.count
        self.counts["storico_segnalazioni"] = history.count
        self.stage(
            "Segnalazioni",
            f"{referral_rows.count} (storico {history.count} passaggi)",
        )

    def _referral_moments(self, path: list[str], created_day: date) -> list[datetime]:
        rng = self.rng
        start = self.moment(created_day)
        gaps = [0.0]
        for status in path[1:]:
            low, high = REFERRAL_GAP_DAYS[status]
            gaps.append(rng.uniform(low, high) * 86400 + rng.randint(600, 7200))
        total = sum(gaps)
        room = (self.now - start).total_seconds() - 600
        factor = min(1.0, room / total) if total > 0 else 1.0
        moments = []
        moment = start
        for gap in gaps:
            moment = moment + timedelta(seconds=max(gap * factor, 60 if gap else 0))
            moments.append(moment)
        return moments

    def _write_referral(
        self,
        rows: Buffer,
        history: Buffer,
        referral_id: int,
        household: _Household,
        person_id: int,
        svc: _Svc,
        need: str,
        suggestion: Any,
        path: list[str],
        moments: list[datetime],
    ) -> None:
        rng = self.rng
        sender, receiver = household.org, svc.org
        status = path[-1]
        sender_user = (
            household.case_worker
            if household.case_worker in sender.operators
            else self.operator_of(sender)
        )
        receiver_user = self.operator_of(receiver)
        coordinator = rng.choice(self.coordinators)
        stamps: dict[str, datetime] = {}
        reason_code = reason_note = None
        previous: str | None = None
        notify_from = self.now - timedelta(days=NOTIFY_DAYS)
        steps: list[dict[str, Any]] = []
        for index, (step, moment) in enumerate(zip(path, moments, strict=True)):
            side = REFERRAL_SIDE[step]
            actor = {"sender": sender_user, "receiver": receiver_user, "system": None}.get(
                side, coordinator
            )
            actor_org = {"sender": sender.id, "receiver": receiver.id}.get(side)
            code = note = None
            if step in REFERRAL_REASONS:
                code = rng.choice(list(REFERRAL_REASONS[step]))
                noted = step in texts.REFERRAL_NOTES and (code == "other" or rng.random() < 0.5)
                note = texts.REFERRAL_NOTES[step] if noted else None
                reason_code, reason_note = code, note
            steps.append(
                {
                    "referral_id": referral_id,
                    "from_status": previous,
                    "to_status": step,
                    "actor_id": actor,
                    "actor_organization_id": actor_org,
                    "reason_code": code,
                    "note": note,
                    "created_at": moment,
                }
            )
            if step == "draft":
                changes: dict[str, Any] = {
                    "household_id": household.id,
                    "person_id": person_id,
                    "service_id": svc.id,
                    "need": need,
                    "match_score": suggestion.score,
                }
                self.audit_event(
                    "referral_created", "referral", referral_id, changes, actor, moment, actor_org
                )
            else:
                changes = {"status": [previous, step]}
                if code:
                    changes["reason_code"] = code
                self.audit_event(
                    f"referral_{step}", "referral", referral_id, changes, actor, moment, actor_org
                )
                if moment >= notify_from:
                    audience = NOTIFY_ON.get(step)
                    if step == "cancelled" and previous == "approved":
                        audience = "receiver"
                    users = {
                        "coordinators": self.coordinators,
                        "receiver": receiver.operators,
                        "sender": sender.operators,
                    }.get(audience or "", [])
                    if step in ("submitted", "approved"):
                        # A request: read when its reader acted on it.
                        read_at = moments[index + 1] if index + 1 < len(moments) else None
                    else:
                        read_at = self.news_read_at(moment)
                    self.notify(
                        users, f"referral_{step}", "referral", referral_id, moment, read_at, actor
                    )
            stamps[step] = moment
            previous = step
        closed = status in ("rejected", "declined", "completed", "failed", "cancelled", "expired")
        rows.add(
            {
                "id": referral_id,
                "household_id": household.id,
                "person_id": person_id,
                "from_organization_id": sender.id,
                "service_id": svc.id,
                "to_organization_id": receiver.id,
                "created_by_id": sender_user,
                "need": need,
                "motivation": rng.choice(texts.MOTIVATIONS[need]),
                "match_score": suggestion.score,
                "match_reasons": [[c, p] for c, p in suggestion.reasons],
                "status": status,
                "status_changed_at": moments[-1],
                "submitted_at": stamps.get("submitted"),
                "approved_at": stamps.get("approved"),
                "accepted_at": stamps.get("accepted"),
                "waiting_since": stamps.get("waiting"),
                "closed_at": moments[-1] if closed else None,
                "reason_code": reason_code,
                "reason_note": reason_note,
                "created_at": moments[0],
                "updated_at": moments[-1],
            }
        )
        history.extend(steps)

    # Housing --------------------------------------------------------------------------------

    def housing(self) -> None:
        rng = self.rng
        providers = [o for o in self.orgs if o.is_housing_provider and o.active]
        alloggi1 = self.orgs[ALLOGGI1]
        units: list[dict[str, Any]] = []
        count = self.n["housing_units"]
        own = max(8, round(count * ALLOGGI1_UNIT_SHARE))
        kind_weights = {k: v[0] for k, v in UNIT_KINDS.items()}
        for index in range(count):
            provider = alloggi1 if index < own or len(providers) == 1 else rng.choice(providers)
            kind = self.weighted(kind_weights)
            _w, low, high, stay, cost = UNIT_KINDS[kind]
            capacity = rng.randint(low, high)
            circ = (index % 8) + 1 if index < own else rng.randint(1, 8)
            address = households_demo._address(rng, circ, "rented")
            created = self.moment(self.day_ago(400, 2000))
            units.append(
                {
                    "id": index + 1,
                    "provider_id": provider.id,
                    "name": f"{texts.UNIT_NAMES[kind]} {address}",
                    "kind": kind,
                    "address": address,
                    "circoscrizione": circ,
                    "capacity": capacity,
                    "vacancies": 0,  # computed below, from the places held
                    "target_groups": sorted(rng.sample(list(TARGET_GROUPS), rng.randint(1, 3))),
                    "accessible": rng.random() < 0.3,
                    "max_stay_days": stay,
                    "monthly_cost": Decimal(cost * capacity + rng.randint(0, 9) * 10).quantize(
                        Decimal("0.01")
                    )
                    if cost
                    else None,
                    "notes": None,
                    "active": rng.random() < 0.96 or index == 0,
                    "vacancies_updated_at": self.moment(self.day_ago(0, 14)),
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        held: Counter[int] = Counter()
        pool = [
            h
            for h in self.households
            if h.closed_on is None
            and h.sharing_scope in HOUSING_SCOPES
            and not h.withdrawn
            and h.sharing_on is not None
        ]
        weights = [
            (4.0 if h.housing in HOUSING_NEED else 1.0) * (2.0 if h.org.index == ENTE1 else 1.0)
            for h in pool
        ]
        cumulative = list(_accumulate(weights))
        holding_households: set[int] = set()
        declined_pairs: set[tuple[int, int]] = set()
        planned: list[tuple[int, _Household, dict[str, Any], str]] = []
        statuses = list(PLACEMENT_PATHS)
        active_units = [u for u in units if u["active"]]
        for index in range(self.n["placements"] if pool else 0):
            household = pool[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            status = statuses[index] if index < len(statuses) else self.weighted(PLACEMENT_WEIGHTS)
            holds = status in HOLDING
            if holds and household.id in holding_households:
                status, holds = "ended", False
            unit = None
            for _ in range(6):
                candidate = rng.choice(active_units)
                if (household.id, candidate["id"]) in declined_pairs:
                    continue
                if holds and held[candidate["id"]] >= candidate["capacity"]:
                    continue
                unit = candidate
                if candidate["circoscrizione"] == household.circoscrizione:
                    break
            if unit is None:
                if not holds:
                    continue
                status, holds = "ended", False
                unit = rng.choice(active_units)
                if (household.id, unit["id"]) in declined_pairs:
                    continue
            if holds:
                held[unit["id"]] += 1
                holding_households.add(household.id)
            if status == "declined":
                declined_pairs.add((household.id, unit["id"]))
            planned.append((len(planned) + 1, household, unit, status))
        # Free places: capacity minus the places held minus guests placed outside the portal.
        for unit in units:
            room = unit["capacity"] - held[unit["id"]]
            outside = rng.randint(0, room) if room and rng.random() < 0.6 else 0
            unit["vacancies"] = room - outside
        self.counts["alloggi"] = insert_all(self.conn, HousingUnit.__table__, units)
        self.unit_provider = [unit["provider_id"] for unit in units]
        for unit in units:
            self.audit_event(
                "housing_unit_created",
                "housing_unit",
                unit["id"],
                {
                    "capacity": unit["capacity"],
                    "vacancies": unit["vacancies"],
                    "kind": unit["kind"],
                },
                self.provider_of(self.orgs[unit["provider_id"] - 1]),
                unit["created_at"],
                actor_org=unit["provider_id"],
            )
        placements = Buffer(self.conn, Placement.__table__)
        checks = Buffer(self.conn, WellbeingCheck.__table__, after=(placements,))
        for placement_id, household, unit, status in planned:
            self._placement(placements, checks, placement_id, household, unit, status)
        placements.flush()
        checks.flush()
        self.counts["inserimenti"] = placements.count
        self.counts["verifiche"] = checks.count
        self.risk_cases()
        self.stage(
            "Alloggi",
            f"alloggi {self.counts['alloggi']}, inserimenti {placements.count}, "
            f"verifiche {checks.count}, casi di sfratto {self.counts['casi_sfratto']}",
        )

    def _placement(
        self,
        placements: Buffer,
        checks: Buffer,
        placement_id: int,
        household: _Household,
        unit: dict[str, Any],
        status: str,
    ) -> None:
        rng = self.rng
        provider = self.orgs[unit["provider_id"] - 1]
        path = list(PLACEMENT_PATHS[status])
        if status == "cancelled":
            path = [*path[: rng.randint(1, 2)], "cancelled"]
        by_city = rng.random() < 0.1
        proposer = rng.choice(self.coordinators) if by_city else self.operator_of(household.org)
        proposing_org = None if by_city else household.org.id
        coordinator = rng.choice(self.coordinators)
        provider_user = self.provider_of(provider)
        stay = unit["max_stay_days"] or 365
        earliest = max(household.created, self.today - timedelta(days=730))
        span = (self.today - earliest).days
        # The first day: recent for the open steps, anywhere in two years for the rest.
        if status in ("proposed",):
            first = self.today - timedelta(days=rng.randint(0, min(10, span)))
        elif status in ("approved", "accepted"):
            first = self.today - timedelta(days=rng.randint(min(3, span), min(25, span)))
        elif status == "active":
            first = self.today - timedelta(days=rng.randint(min(5, span), min(stay - 5, span)))
        else:
            first = self.today - timedelta(days=rng.randint(min(10, span), span))
        moments = [self.moment(first)]
        for _step in path[1:]:
            day = self.local_day(moments[-1]) + timedelta(days=rng.randint(1, 6))
            moments.append(self.moment(min(day, self.today), moments[-1]))
        moved_in = ended = None
        if "active" in path:
            moved_in = self.local_day(moments[path.index("active")])
        if status == "ended":
            if moved_in is None:
                raise RuntimeError("an ended placement moved in first")
            last = min(self.today, moved_in + timedelta(days=stay))
            ended = moved_in + timedelta(days=rng.randint(0, max(0, (last - moved_in).days)))
            moments[-1] = max(self.moment(ended, moments[-2]), moments[-2])
            ended = max(self.local_day(moments[-1]), moved_in)
        reason_code = reason_note = None
        approved_at = None
        notify_from = self.now - timedelta(days=NOTIFY_DAYS)
        previous = None
        for index, (step, moment) in enumerate(zip(path, moments, strict=True)):
            actor = {
                "proposed": proposer,
                "approved": coordinator,
                "rejected": coordinator,
                "accepted": provider_user,
                "declined": provider_user,
                "active": provider_user,
                "ended": provider_user,
                "cancelled": proposer,
            }[step]
            actor_org = {
                "accepted": provider.id,
                "declined": provider.id,
                "active": provider.id,
                "ended": provider.id,
            }.get(step, proposing_org)
            if step == "approved":
                approved_at = moment
            changes: dict[str, Any]
            if step == "proposed":
                changes = {"household_id": household.id, "unit_id": unit["id"]}
            else:
                changes = {"status": [previous, step]}
            if step in PLACEMENT_REASONS:
                reason_code = rng.choice(list(PLACEMENT_REASONS[step]))
                reason_note = texts.PLACEMENT_NOTES[step] if reason_code == "other" else None
                changes["reason_code"] = reason_code
            if step == "active":
                changes["moved_in_on"] = moved_in.isoformat() if moved_in else None
            if step == "ended":
                changes["ended_on"] = ended.isoformat() if ended else None
            self.audit_event(
                f"placement_{step}", "placement", placement_id, changes, actor, moment, actor_org
            )
            if moment >= notify_from:
                audience = PLACEMENT_NOTIFY.get(step)
                if step == "cancelled" and approved_at is not None:
                    audience = "provider"
                users: list[int] = {
                    "coordinators": self.coordinators,
                    "provider": provider.providers,
                    "proposer": household.org.operators
                    + (self.coordinators if step == "declined" else []),
                }.get(audience or "", [])
                if step in ("proposed", "approved"):
                    read_at = moments[index + 1] if index + 1 < len(moments) else None
                else:
                    read_at = self.news_read_at(moment)
                self.notify(
                    users, f"placement_{step}", "placement", placement_id, moment, read_at, actor
                )
            previous = step
        interval = rng.choice((30, 30, 30, 15, 60))
        placements.add(
            {
                "id": placement_id,
                "household_id": household.id,
                "unit_id": unit["id"],
                "provider_id": provider.id,
                "proposed_by_id": proposer,
                "proposing_organization_id": proposing_org,
                "status": status,
                "status_changed_at": moments[-1],
                "motivation": rng.choice(texts.PLACEMENT_MOTIVATIONS),
                "approved_at": approved_at,
                "moved_in_on": moved_in,
                "ended_on": ended,
                "reason_code": reason_code,
                "reason_note": reason_note,
                "check_interval_days": interval,
                "places": 1,  # the scale data holds one place per placement
                "target_reason": None,
                "created_at": moments[0],
                "updated_at": moments[-1],
            }
        )
        if moved_in is None:
            return
        # Follow-ups: done ones during the stay; while it goes on, the next one is pending.
        last_day = ended or self.today
        due = moved_in + timedelta(days=interval)
        while due <= last_day:
            if status == "active" and rng.random() < 0.12:
                break  # overdue: still pending
            done = min(due + timedelta(days=rng.randint(0, 5)), last_day)
            wellbeing = self.weighted({"good": 60, "some_difficulties": 30, "critical": 10})
            moment = self.moment(done)
            checks.add(
                {
                    "placement_id": placement_id,
                    "due_on": due,
                    "done_on": done,
                    "done_by_id": provider_user,
                    "wellbeing": wellbeing,
                    "notes": rng.choice(texts.CHECK_NOTES),
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
            self.audit_event(
                "wellbeing_check_recorded",
                "placement",
                placement_id,
                {
                    "wellbeing": wellbeing,
                    "next_due_on": (done + timedelta(days=interval)).isoformat(),
                },
                provider_user,
                moment,
                provider.id,
            )
            due = done + timedelta(days=interval)
        if status == "active":
            moment = self.moment(min(due - timedelta(days=interval), self.today))
            checks.add(
                {
                    "placement_id": placement_id,
                    "due_on": due,
                    "done_on": None,
                    "done_by_id": None,
                    "wellbeing": None,
                    "notes": None,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )

    def risk_cases(self) -> None:
        rng = self.rng
        at_risk = [h for h in self.households if h.housing == "eviction_risk"]
        count = min(len(at_risk), round(5_000 * self.scale) or 1)
        rows: list[dict[str, Any]] = []
        for index, household in enumerate(rng.sample(at_risk, count)):
            opened_by = household.case_worker
            notice = max(self.day_ago(20, 400), household.created)
            hearing = notice + timedelta(days=rng.randint(30, 120))
            execution = hearing + timedelta(days=rng.randint(20, 150))
            is_open = index % 3 != 0 if index < 3 else rng.random() < 0.65
            if is_open and rng.random() < 0.3:  # a hearing or an execution in the next 30 days
                hearing = self.today + timedelta(days=rng.randint(0, 30))
                notice = min(notice, hearing - timedelta(days=20))
                execution = hearing + timedelta(days=rng.randint(20, 120))
            created = self.moment(max(notice, household.created))
            closed_on = None
            outcome = None
            if not is_open:
                closed_on = max(
                    notice, min(self.today, notice + timedelta(days=rng.randint(20, 300)))
                )
                outcome = rng.choice(list(RISK_OUTCOMES))
            rows.append(
                {
                    "id": index + 1,
                    "household_id": household.id,
                    "organization_id": household.org.id,
                    "opened_by_id": opened_by,
                    "kind": self.weighted(
                        {"no_fault_arrears": 50, "eviction_notice": 40, "other": 10}
                    ),
                    "arrears_amount": Decimal(rng.randint(50_000, 1_200_000)) / 100,
                    "notice_on": notice,
                    "hearing_on": hearing,
                    "execution_on": execution if rng.random() < 0.7 else None,
                    "actions": sorted(rng.sample(list(RISK_ACTIONS), rng.randint(1, 3))),
                    "notes": rng.choice(texts.RISK_NOTES),
                    "status": "open" if is_open else "closed",
                    "outcome": outcome,
                    "closed_on": closed_on,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            self.audit_event(
                "risk_case_opened",
                "housing_risk_case",
                index + 1,
                {"household_id": household.id, "kind": rows[-1]["kind"]},
                opened_by,
                created,
                household.org.id,
            )
            if closed_on is not None:
                self.audit_event(
                    "risk_case_closed",
                    "housing_risk_case",
                    index + 1,
                    {"outcome": outcome},
                    opened_by,
                    self.moment(closed_on, created),
                    household.org.id,
                )
        self.counts["casi_sfratto"] = insert_all(self.conn, HousingRiskCase.__table__, rows)

    # Projects -------------------------------------------------------------------------------

    def projects(self) -> None:
        rng = self.rng
        pool = [h for h in self.households if h.closed_on is None]
        weights = [1.5 if h.org.index in (ENTE1, ENTE2) else 1.0 for h in pool]
        cumulative = list(_accumulate(weights))
        projects = Buffer(self.conn, Project.__table__)
        goals = Buffer(self.conn, ProjectGoal.__table__, after=(projects,))
        meetings = Buffer(self.conn, ProjectMeeting.__table__, after=(projects,))
        lines = Buffer(self.conn, BudgetLine.__table__, after=(projects,))
        statuses = list(PROJECT_WEIGHTS)
        cent = Decimal("0.01")
        notify_from = self.now - timedelta(days=NOTIFY_DAYS)
        for index in range(self.n["projects"] if pool else 0):
            project_id = index + 1
            household = pool[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            org = household.org
            status = statuses[index] if index < len(statuses) else self.weighted(PROJECT_WEIGHTS)
            adults = [m for m in household.members if _age(m.birth_date, self.today) >= 16]
            youth = [m for m in adults if _age(m.birth_date, self.today) <= 29]
            person = rng.choice(
                youth if youth and rng.random() < 0.6 else adults or household.members
            )
            is_youth = 18 <= _age(person.birth_date, self.today) <= 29
            worker = (
                household.case_worker
                if household.case_worker in org.operators
                else self.operator_of(org)
            )
            coordinator = rng.choice(self.coordinators)
            span = max(1, (self.today - household.created).days)
            low, high = {
                "draft": (1, 60), "submitted": (5, 60), "approved": (15, 120),
                "active": (40, 500), "closed": (200, 1000),
            }[status]  # fmt: skip
            created_day = self.today - timedelta(days=min(span, rng.randint(low, high)))
            steps = {
                "draft": ["created"],
                "submitted": ["created", "submit"],
                "approved": ["created", "submit", "approve"],
                "active": ["created", "submit", "approve", "start"],
                "closed": ["created", "submit", "approve", "start", "close"],
            }[status]
            moments = [self.moment(created_day)]
            remaining = (self.today - created_day).days
            for _step in steps[1:]:
                gap = rng.randint(0, max(0, min(20, remaining // len(steps))))
                day = min(self.local_day(moments[-1]) + timedelta(days=gap), self.today)
                moments.append(self.moment(day, moments[-1]))
            stamp = dict(zip(steps, moments, strict=True))
            starts_on = ends_on = None
            if "approve" in stamp:
                starts_on = self.local_day(stamp.get("start", stamp["approve"]))
                ends_on = starts_on + timedelta(days=rng.randint(180, 540))
            closed_on = self.local_day(stamp["close"]) if "close" in stamp else None
            if closed_on is not None and ends_on is not None and ends_on > closed_on:
                ends_on = max(closed_on, starts_on or closed_on)
            status_note = None
            if status == "draft" and rng.random() < 0.2:
                status_note = "Rivedere il budget: manca il preventivo del corso."
            elif status == "closed":
                status_note = "Progetto concluso: obiettivi verificati con la persona."
            projects.add(
                {
                    "id": project_id,
                    "household_id": household.id,
                    "person_id": person.id,
                    "organization_id": org.id,
                    "case_worker_id": worker,
                    "title": rng.choice(texts.PROJECT_TITLES),
                    "summary": None,
                    "youth": is_youth,
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                    "status": status,
                    "status_changed_at": moments[-1],
                    "submitted_at": stamp.get("submit"),
                    "approved_at": stamp.get("approve"),
                    "approved_by_id": coordinator if "approve" in stamp else None,
                    "closed_on": closed_on,
                    "status_note": status_note,
                    "created_at": moments[0],
                    "updated_at": moments[-1],
                }
            )
            self.audit_event(
                "project_created",
                "project",
                project_id,
                {"household_id": household.id, "person_id": person.id, "youth": is_youth},
                worker,
                moments[0],
                org.id,
            )
            for goal in rng.sample(texts.GOALS, rng.randint(1, 3)):
                goal_status = "open"
                if status == "closed":
                    goal_status = self.weighted(
                        {"achieved": 55, "partly_achieved": 30, "not_achieved": 15}
                    )
                elif status == "active" and rng.random() < 0.25:
                    goal_status = "achieved"
                goals.add(
                    {
                        "project_id": project_id,
                        "description": goal,
                        "target_on": (ends_on or created_day + timedelta(days=365)),
                        "status": goal_status,
                        "created_at": moments[0],
                        "updated_at": moments[-1],
                    }
                )
                self.audit_event(
                    "project_goal_added",
                    "project",
                    project_id,
                    {"description": goal},
                    worker,
                    moments[0],
                    org.id,
                )
            approved_project = status in ("approved", "active", "closed")
            for category in rng.sample(list(texts.BUDGET_LINES), rng.randint(1, 4)):
                description, supplier, low_c, high_c = texts.BUDGET_LINES[category]
                planned = (Decimal(rng.randint(low_c, high_c)) / 100).quantize(cent)
                approved = planned if approved_project else Decimal("0.00")
                committed = paid = Decimal("0.00")
                increase = None
                if status == "active":
                    committed = (approved * Decimal(rng.uniform(0.3, 1.0))).quantize(cent)
                    paid = (committed * Decimal(rng.uniform(0.0, 1.0))).quantize(cent)
                    if rng.random() < 0.03:
                        increase = approved + Decimal(rng.randint(1_000, 30_000)) / 100
                elif status == "closed":
                    committed = paid = (approved * Decimal(rng.uniform(0.6, 1.0))).quantize(cent)
                committed, paid = min(committed, approved), min(paid, committed)
                lines.add(
                    {
                        "project_id": project_id,
                        "category": category,
                        "description": description,
                        "supplier": supplier,
                        "planned": planned,
                        "approved": approved,
                        "committed": committed,
                        "paid": paid,
                        "increase_requested": increase,
                        "committed_on": starts_on if committed else None,
                        "paid_on": min(self.today, (starts_on or self.today) + timedelta(days=30))
                        if paid
                        else None,
                        "created_at": moments[0],
                        "updated_at": moments[-1],
                    }
                )
                self.audit_event(
                    "budget_line_added",
                    "project",
                    project_id,
                    {"category": category, "planned": str(planned)},
                    worker,
                    moments[0],
                    org.id,
                )
                if paid:
                    self.audit_event(
                        "budget_line_updated",
                        "project",
                        project_id,
                        {"committed": ["0.00", str(committed)], "paid": ["0.00", str(paid)]},
                        worker,
                        moments[-1],
                        org.id,
                    )
            previous = "draft"
            for step, target in (
                ("submit", "submitted"),
                ("approve", "approved"),
                ("start", "active"),
                ("close", "closed"),
            ):
                if step not in stamp:
                    break
                moment = stamp[step]
                actor = coordinator if step == "approve" else worker
                self.audit_event(
                    f"project_{step}",
                    "project",
                    project_id,
                    {"status": [previous, target]},
                    actor,
                    moment,
                    None if step == "approve" else org.id,
                )
                if moment >= notify_from:
                    if step == "submit":
                        read_at = stamp.get("approve")
                        self.notify(
                            self.coordinators,
                            "project_submitted",
                            "project",
                            project_id,
                            moment,
                            read_at,
                            actor,
                        )
                    elif step == "approve":
                        self.notify(
                            org.operators,
                            "project_approve",
                            "project",
                            project_id,
                            moment,
                            self.news_read_at(moment),
                            actor,
                        )
                previous = target
            if status in ("active", "closed") and starts_on is not None:
                held = starts_on + timedelta(days=30)
                end = closed_on or self.today
                while held <= end:
                    moment = self.moment(held)
                    meetings.add(
                        {
                            "project_id": project_id,
                            "held_on": held,
                            "notes": rng.choice(texts.MEETING_NOTES),
                            "next_steps": rng.choice(texts.MEETING_NEXT),
                            "recorded_by_id": worker,
                            "created_at": moment,
                            "updated_at": moment,
                        }
                    )
                    held += timedelta(days=rng.randint(30, 75))
        for buffer in (projects, goals, meetings, lines):
            buffer.flush()
        self.counts["progetti"] = projects.count
        self.counts["obiettivi"] = goals.count
        self.counts["voci_di_budget"] = lines.count
        self.counts["incontri"] = meetings.count
        self.stage(
            "Progetti",
            f"progetti {projects.count}, obiettivi {goals.count}, voci di budget {lines.count}, "
            f"incontri {meetings.count}",
        )

    # The rest of the audit log ----------------------------------------------------------------

    def filler_audit(self) -> None:
        """Logins, consultations and small edits, up to the audit events of the scale."""
        rng = self.rng
        self.audit.flush()
        missing = self.n["audit_events"] - self.audit.count - 1
        actions = list(FILLER_ACTIONS)
        cumulative = list(_accumulate(FILLER_ACTIONS[a] for a in actions))
        households = self.households
        operators = [u for u in self.all_users if self.user_org.get(u) is not None]
        unit_count = self.counts.get("alloggi", 0)
        counts = {
            "referral": self.counts.get("segnalazioni", 0),
            "project": self.counts.get("progetti", 0),
            "placement": self.counts.get("inserimenti", 0),
        }
        span = 365 * 86400
        for _ in range(max(0, missing)):
            action = actions[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            moment = self.now - timedelta(seconds=rng.randrange(span))
            changes: dict[str, Any] | None = None
            actor_org: int | None = None
            object_type: str | None = None
            object_id: int | None = None
            if action in ("login", "logout", "login_failed"):
                actor = rng.choice(self.all_users)
                object_type, object_id = "user_account", actor
                if action == "login_failed":
                    changes = {"username": "", "reason": "wrong_password"}
            elif action in (
                "household_viewed",
                "household_updated",
                "person_updated",
                "person_data_exported",
            ):
                household = households[rng.randrange(len(households))]
                actor = self.operator_of(household.org) or rng.choice(self.coordinators)
                if action == "person_updated" or action == "person_data_exported":
                    object_type, object_id = "person", rng.choice(household.members).id
                else:
                    object_type, object_id = "household", household.id
                if action == "household_viewed":
                    changes = {"viewed_at": moment.isoformat()}
                elif action == "household_updated":
                    changes = {"notes": ["…", "…"]}
            elif action in ("referral_viewed", "project_viewed", "placement_viewed"):
                object_type = action.removesuffix("_viewed")
                if not counts[object_type]:
                    continue
                object_id = rng.randint(1, counts[object_type])
                actor = rng.choice(operators) if operators else rng.choice(self.coordinators)
            elif action == "vacancies_changed":
                if not unit_count:
                    continue
                object_type, object_id = "housing_unit", rng.randint(1, unit_count)
                provider = self.orgs[self.unit_provider[object_id - 1] - 1]
                actor = self.provider_of(provider)
                actor_org = provider.id
                before = rng.randint(0, 5)
                changes = {"vacancies": [before, max(0, before + rng.choice((-1, 1)))]}
            else:
                svc = self.services[rng.randrange(len(self.services))]
                object_type, object_id = "service", svc.id
                actor = self.operator_of(svc.org)
                actor_org = svc.org.id
                changes = {"last_verified": moment.date().isoformat()}
            self.audit_event(action, object_type, object_id, changes, actor, moment, actor_org)
        self.audit_event(
            "scale_data_loaded",
            None,
            None,
            {"generator": "seed-scale", "scale": self.scale, **self.counts},
            None,
            self.now,
        )
        self.audit.flush()
        self.notifications.flush()
        self.counts["eventi_di_audit"] = self.audit.count
        self.counts["notifiche"] = self.notifications.count
        self.stage(
            "Registro e notifiche",
            f"eventi di audit {self.audit.count}, notifiche {self.notifications.count}",
        )


def _accumulate(weights: Any) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


# After loading ------------------------------------------------------------------------------------


def _reset_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    """PostgreSQL: every sequence continues after the largest id written."""
    for table in tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                f"(SELECT MAX(id) FROM {table.name}) IS NOT NULL)"
            )
        )


def seed_scale(scale: float, seed: int, today: date, echo: Callable[[str], None]) -> dict[str, int]:
    """Fill the (empty) database at `scale`; one transaction; returns the counts."""
    engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    db.session.remove()
    with engine.connect() as conn:
        previous_sync = None
        if sqlite:
            previous_sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
            conn.commit()
        # Millions of small objects and no cycles: the cyclic collector would only rescan them.
        gc.disable()
        try:
            with conn.begin():
                with copying(conn):
                    counts = _Generator(conn, scale, seed, today, echo).run()
                if not sqlite:
                    _reset_sequences(conn, db.metadata.sorted_tables)
            started = clock.perf_counter()
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            elapsed = clock.perf_counter() - started
            echo(f"Statistiche del database aggiornate (ANALYZE) in {elapsed:.1f} s")
        finally:
            gc.enable()
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql(f"PRAGMA synchronous={int(previous_sync or 2)}")
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
                conn.exec_driver_sql("PRAGMA temp_store=DEFAULT")
                conn.commit()
    return counts


def count_rows(table: Table) -> int:
    return int(db.session.scalar(select(func.count()).select_from(table)) or 0)
