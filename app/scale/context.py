"""What every stage of the city-scale generator shares: the sizes, the small records kept in
memory, and `Context` (the connection, the random generator, the clock, the buffers of audit
events and notifications, and the helpers that draw moments and write events)."""

from __future__ import annotations

import random
import time as clock
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from app.audit.models import AuditEvent
from app.clock import ROME
from app.notifications.models import Notification
from app.referrals.matching import Offer
from app.scale.codici import CodiceFiscaleRegistry
from app.scale.writer import Buffer

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

# The demo organizations: their index in the organization list.
ENTE1, ENTE2, ALLOGGI1 = 0, 1, 2
NOTIFY_DAYS = 30  # steps older than this left no notification (purged)
UNREAD_DAYS = 7
HOUSING_NEED = ("eviction_risk", "guest", "homeless", "temporary")


def targets(scale: float) -> dict[str, int]:
    return {key: max(MINIMUM.get(key, 1), round(value * scale)) for key, value in CITY.items()}


# Small records kept in memory ------------------------------------------------------------------


@dataclass(slots=True)
class OrgRecord:
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
class ServiceRecord:
    id: int
    org: OrgRecord
    service_type: str
    age_min: int | None
    age_max: int | None
    capacity: int
    active: bool
    offer: Offer | None = None


@dataclass(slots=True)
class MemberRecord:
    id: int
    birth_date: date
    employment: str
    languages: frozenset[str]


@dataclass(slots=True)
class HouseholdRecord:
    id: int
    org: OrgRecord
    circoscrizione: int
    created: date
    closed_on: date | None
    sharing_scope: str | None
    sharing_on: date | None
    withdrawn: bool
    housing: str
    needs: list[str]
    case_worker: int | None
    members: list[MemberRecord]


@dataclass(slots=True)
class PersonView:
    """What the demo's need and note helpers read of a person."""

    employment_status: str
    languages: list[str]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def ascii_letters(value: str) -> str:
    plain = unicodedata.normalize("NFD", value)
    return "".join(ch for ch in plain.lower() if "a" <= ch <= "z")


def accumulate(weights: Any) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


class Context:
    """The state the stages share; each stage (a mixin in `app.scale.stages`) adds its rows."""

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
        self.orgs: list[OrgRecord] = []
        self.services: list[ServiceRecord] = []
        self.households: list[HouseholdRecord] = []
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

    def operator_of(self, org: OrgRecord) -> int | None:
        return self.rng.choice(org.operators) if org.operators else None

    def provider_of(self, org: OrgRecord) -> int | None:
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
