"""Demo housing: the units of the demo housing providers, placements in every state, follow-ups
during the stays and eviction-prevention cases.

`seed_housing(organizations, users, today)` is called by `app.demo.seed_demo()` after the
referrals. It plans everything first (which household lives which story), then plays every step
in chronological order through the real operations of `app.housing.operations`, so guards,
vacancy changes, audit events and notifications are the real ones:

- `alloggi1`, `ente1`, `ente2` and `coordinatore` act as themselves; an organization without a
  demo account acts through `OrganizationActor` (its role and organization, no user): the audit
  knows only the organization, as in the referral demo;
- every row written inside a step (audit event, notification, follow-up, the placement's
  timestamps) carries the moment of that step.

What the demo relies on:

- 24 units of the four housing providers (index 2 `alloggi1`, 7, 12, 13) in all eight
  circoscrizioni, of every kind, with target groups, accessible ones and monthly costs; one of
  `alloggi1`'s is inactive; a few were last confirmed more than a week ago (stale on the board);
- free places always equal capacity minus the guests placed outside the portal minus the
  places held by placements (proposed, approved, accepted, active; one per person): never
  negative; a unit's capacity (in people) is raised, where its stories need it, to hold all the
  households of its stories at once;
- a household proposed outside a unit's target groups is proposed with a reason (its story's,
  or a generic one), as the operations require;
- placements in every status; active ones with well-being checks done and some overdue; ended
  ones with their exit reason; a household declined by one unit and placed in another;
- waiting for the demo accounts: proposals for `coordinatore`, approved placements for
  `alloggi1` (unread notifications);
- eviction-prevention cases, open ones with hearings and executions in the next 30 days, two
  closed with their outcome;
- `ente1`'s households with a housing need extended their sharing authorisation to all partners
  when the need came up; one of them (with the housing authorisation and no placement) is left
  free, so the placement journey can be tried from the start on a unit of `alloggi1` with free
  places.

Randomness comes only from `random.Random(SEED)` and dates only from `today`. Rows are added and
flushed, never committed: the caller commits.

The units, the placement stories, the risk cases and the texts are in `app.demo_data.housing`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from app.audit.models import AuditEvent
from app.audit.operations import record
from app.auth.models import Role, User
from app.clock import ROME
from app.demo_data.housing import (
    CHECK_NOTES,
    DEFAULT_TARGET_REASON,
    PLACEMENTS,
    RISK_CASES,
    UNITS,
    PlacementSpec,
    RiskSpec,
    UnitSpec,
)
from app.errors import DomainError
from app.extensions import db
from app.households.consents import ANY, DEFAULT_MONTHS, add_months, in_force
from app.households.models import Consent, Household
from app.housing import operations
from app.housing.models import (
    DEFAULT_CHECK_INTERVAL_DAYS,
    HOLDING_STATUSES,
    HousingRiskCase,
    HousingUnit,
    Placement,
    UnitRate,
    WellbeingCheck,
)
from app.housing.policy import Side
from app.notifications.models import Notification
from app.registry.models import Organization
from app.workdays import is_working_day

SEED = 2606
# Notifications of news newer than this many days are still unread.
UNREAD_DAYS = 7
HOUSING_SITUATIONS = ("eviction_risk", "guest", "homeless", "temporary")
STAMPED = (
    AuditEvent,
    Notification,
    Household,
    HousingUnit,
    Placement,
    WellbeingCheck,
    HousingRiskCase,
)


# Actors, moments, stamping -------------------------------------------------------------------


@dataclass(frozen=True)
class OrganizationActor:
    """An operator of an organization without a demo account: the operations see its role and
    organization; the audit knows only the organization."""

    organization_id: int
    role: str
    id: None = None

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


def working_day_before(today: date, count: int) -> date:
    day = today
    while count > 0:
        day -= timedelta(days=1)
        count -= is_working_day(day)
    return day


def office_moment(rng: random.Random, day: date, earliest: datetime | None = None) -> datetime:
    """A moment in office hours of `day`, after `earliest`."""
    local = datetime.combine(day, time(rng.randint(9, 16), rng.randrange(0, 60, 5)), ROME)
    moment = local.astimezone(UTC)
    if earliest is not None and moment <= earliest:
        moment = earliest + timedelta(minutes=rng.randint(4, 40))
    return moment


@contextmanager
def dated(moment: datetime, types: tuple[type, ...]) -> Iterator[None]:
    """Rows of `types` written inside carry `moment`: new ones as creation time, changed ones as
    last update (the audit log and notifications are inserted with it, never changed)."""
    session = db.session()

    def stamp(session: Session, flush_context: object, instances: object) -> None:
        for obj in session.new:
            if isinstance(obj, types):
                obj.created_at = moment
                if hasattr(obj, "updated_at"):
                    obj.updated_at = moment
        for obj in session.dirty:
            if isinstance(obj, types) and hasattr(obj, "updated_at"):
                obj.updated_at = moment
                flag_modified(obj, "updated_at")  # written even when it was already `moment`

    event.listen(session, "before_flush", stamp)
    try:
        yield
        session.flush()
    finally:
        event.remove(session, "before_flush", stamp)


# Planning --------------------------------------------------------------------------------------


def _adults(household: Household, day: date) -> list[int]:
    return [a for m in household.members if (a := m.age(day) or 0) >= 18]


def _children(household: Household, day: date, under: int = 18) -> list[int]:
    return [a for m in household.members if (a := m.age(day) or 0) < under]


def _shape_matches(shape: str, household: Household, day: date) -> bool:
    adults, children = _adults(household, day), _children(household, day)
    reference = household.reference_person
    if shape == "single":
        return len(household.members) == 1 and bool(adults) and adults[0] >= 30
    if shape == "young":
        return not children and all(18 <= a <= 29 for a in adults)
    if shape == "family":
        return bool(children) and len(adults) >= 2
    small = _children(household, day, 14)
    if shape == "parent":
        return bool(small) and len(adults) == 1
    if shape == "mother":
        return bool(small) and len(adults) == 1 and reference is not None and reference.sex == "F"
    if shape == "adults":
        return not children and len(adults) >= 2 and any(a >= 30 for a in adults)
    if shape == "elderly":
        return any(a >= 65 for a in adults)
    if shape == "disabled":
        return any(m.employment_status == "unable" for m in household.members)
    return True


FALLBACK = {"mother": "parent", "parent": "family", "elderly": "adults"}


def _shapes(shape: str) -> list[str]:
    """The shape wanted, then the closest ones, then any household."""
    chain = [shape]
    while chain[-1] in FALLBACK:
        chain.append(FALLBACK[chain[-1]])
    if chain[-1] != "any":
        chain.append("any")
    return chain


@dataclass
class _Story:
    spec: PlacementSpec
    moments: list[datetime]
    checks: list[tuple[date, str]] = field(default_factory=list)
    household: Household | None = None
    placement: Placement | None = None
    stopped: bool = False

    @property
    def holds_until(self) -> datetime | None:
        """The moment the placement stops holding a place (None: it still holds one)."""
        if self.spec.final_status in HOLDING_STATUSES:
            return None
        return self.moments[-1]


@dataclass
class _Context:
    organizations: Sequence[Organization]
    users: dict[str, User]
    today: date
    rng: random.Random
    households: list[Household]
    broadened: dict[int, date] = field(default_factory=dict)  # household id -> day
    reserved: set[int] = field(default_factory=set)
    external: Counter[str] = field(default_factory=Counter)  # unit key -> guests off the portal
    units: dict[str, HousingUnit] = field(default_factory=dict)
    ledger: dict[int, list[Consent]] | None = None  # household id -> its consents

    def consents(self, household_id: int) -> list[Consent]:
        if self.ledger is None:
            self.ledger = {}
            for consent in db.session.scalars(select(Consent).order_by(Consent.id)):
                self.ledger.setdefault(consent.household_id, []).append(consent)
        return self.ledger.get(household_id, [])

    def shares(self, household_id: int, purpose: str, day: date) -> bool:
        return any(in_force(c, purpose, ANY, day) for c in self.consents(household_id))

    def org_index(self, household: Household) -> int | None:
        for index in (0, 1):
            if household.organization_id == self.organizations[index].id:
                return index
        return None

    def staff(self, organization_id: int, role: Role) -> User | OrganizationActor:
        for user in self.users.values():
            if user.organization_id == organization_id and user.role == role.value:
                return user
        return OrganizationActor(organization_id, role.value)


def _authorised_for_housing(ctx: _Context, household: Household, day: date) -> bool:
    if household.id in ctx.broadened:
        return ctx.broadened[household.id] <= day
    return ctx.shares(household.id, operations.PURPOSE, day) and ctx.shares(
        household.id, operations.PURPOSE, ctx.today
    )


def _done_when_household(ctx: _Context) -> Household | None:
    """ente1's household left for the placement journey: authorised to share with housing
    providers (from the start if possible), with a housing need if possible."""
    ente1 = ctx.organizations[0].id
    mine = [
        h
        for h in ctx.households
        if h.organization_id == ente1
        and h.status == "active"
        and _authorised_for_housing(ctx, h, ctx.today)
    ]
    mine.sort(
        key=lambda h: (
            h.id in ctx.broadened,
            h.housing_situation not in HOUSING_SITUATIONS,
            h.id,
        )
    )
    return mine[0] if mine else None


def _to_broaden(ctx: _Context) -> dict[int, date]:
    """ente1's households with a housing need and a consent for the job services only: the
    family gave one for housing too when the housing need came up."""
    ente1 = ctx.organizations[0].id
    found: dict[int, date] = {}
    for household in ctx.households:
        if (
            household.organization_id == ente1
            and household.status == "active"
            and ctx.shares(household.id, "job_services", ctx.today)
            and not any(c.purpose == operations.PURPOSE for c in ctx.consents(household.id))
            and household.housing_situation in HOUSING_SITUATIONS
        ):
            given = min(
                c.given_on for c in ctx.consents(household.id) if c.purpose == "job_services"
            )
            earliest = working_day_before(ctx.today, 120)
            day = max(given + timedelta(days=7), earliest)
            if day < ctx.today:
                found[household.id] = day
    return found


def _owned_as(ctx: _Context, household: Household, owner: int | None) -> bool:
    index = ctx.org_index(household)
    if owner is None:
        return index is None
    return index == owner


def _check_days(ctx: _Context, spec: PlacementSpec, days: list[date]) -> list[tuple[date, str]]:
    """The follow-ups recorded during the stay: as written for the stays still going on; for an
    ended stay every one that fell due before the exit."""
    names = [name for name, _r in spec.steps]
    if "move_in" not in names:
        return []
    moved_in = days[1 + names.index("move_in")]
    ended = days[-1] if spec.final_status == "ended" else ctx.today
    wanted = list(spec.checks)
    if spec.final_status == "ended":
        wanted = [
            (
                ctx.rng.choice((0, 0, 1, 2, 3)),
                ctx.rng.choice(("good",) * 4 + ("some_difficulties",)),
            )
            for _n in range(24)
        ]
    checks: list[tuple[date, str]] = []
    due = moved_in + timedelta(days=DEFAULT_CHECK_INTERVAL_DAYS)
    for delay, wellbeing in wanted:
        done = max(due + timedelta(days=delay), moved_in)
        if done >= ended:
            break
        checks.append((done, wellbeing))
        due = done + timedelta(days=DEFAULT_CHECK_INTERVAL_DAYS)
    return checks


SHAPE_ORDER = ("disabled", "elderly", "mother", "parent", "single", "young", "adults", "family")


def _plan_stories(ctx: _Context) -> list[_Story]:
    """Each story's moments, follow-ups and household. Households are chosen for the rarest
    shapes first; a household never holds two places at once."""
    stories = []
    for spec in PLACEMENTS:
        days = [working_day_before(ctx.today, n) for n in spec.days]
        moments: list[datetime] = []
        for day in days:
            moments.append(office_moment(ctx.rng, day, moments[-1] if moments else None))
        story = _Story(spec, moments)
        story.checks = _check_days(ctx, spec, days)
        stories.append(story)

    busy: dict[int, list[tuple[datetime, datetime | None]]] = {}
    used: Counter[int] = Counter()

    def free(household_id: int, story: _Story) -> bool:
        """No other story of the household holds a place while this one does."""
        start, end = story.moments[0], story.holds_until
        return not any(
            (other_end is None or start < other_end) and (end is None or other_start < end)
            for other_start, other_end in busy.get(household_id, [])
        )

    def fits(household: Household, story: _Story, shape: str) -> bool:
        day = story.moments[0].astimezone(ROME).date()
        return (
            household.status == "active"
            and household.id not in ctx.reserved
            and _owned_as(ctx, household, story.spec.owner)
            and household.created_at.astimezone(ROME).date() <= day
            and _authorised_for_housing(ctx, household, day)
            and free(household.id, story)
            and _shape_matches(shape, household, day)
        )

    order = sorted(
        (s for s in stories if s.spec.same_as is None),
        key=lambda s: (
            SHAPE_ORDER.index(s.spec.shape) if s.spec.shape in SHAPE_ORDER else len(SHAPE_ORDER),
            s.moments[0],
        ),
    )
    for story in [*order, *(s for s in stories if s.spec.same_as is not None)]:
        spec = story.spec
        household: Household | None = None
        if spec.same_as is not None:
            household = stories[spec.same_as].household
            if household is not None and not free(household.id, story):
                household = None
        else:
            for shape in _shapes(spec.shape):
                candidates = [h for h in ctx.households if fits(h, story, shape)]
                if candidates:
                    household = min(
                        candidates,
                        key=lambda h: (
                            spec.eviction != (h.housing_situation == "eviction_risk"),
                            used[h.id],
                            h.id,
                        ),
                    )
                    break
        if household is None:
            story.stopped = True
            continue
        story.household = household
        used[household.id] += 1
        busy.setdefault(household.id, []).append((story.moments[0], story.holds_until))
    return stories


def _risk_households(ctx: _Context, stories: list[_Story]) -> list[Household | None]:
    """The household of each eviction case: the household of its placement story, or one at
    risk of eviction of its owner."""
    chosen: list[Household | None] = [
        stories[spec.placement].household if spec.placement is not None else None
        for spec in RISK_CASES
    ]
    used = {h.id for h in chosen if h is not None}
    # The cases that want a particular household first.
    order = sorted(range(len(RISK_CASES)), key=lambda i: (RISK_CASES[i].shape == "any", i))
    for index in order:
        spec = RISK_CASES[index]
        if spec.placement is not None:
            continue
        for shape in _shapes(spec.shape):
            candidates = [
                h
                for h in ctx.households
                if h.status == "active"
                and h.id not in used
                and h.id not in ctx.reserved
                and h.housing_situation == "eviction_risk"
                and _owned_as(ctx, h, spec.owner)
                and _shape_matches(shape, h, ctx.today)
            ]
            if candidates:
                chosen[index] = candidates[0]
                used.add(candidates[0].id)
                break
    return chosen


# Playing the stories ---------------------------------------------------------------------------


def _unit_values(spec: UnitSpec, vacancies: int, capacity: int) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "address": spec.address,
        "circoscrizione": spec.circoscrizione,
        "capacity": capacity,
        "vacancies": vacancies,
        "target_groups": list(spec.target_groups),
        "accessible": spec.accessible,
        "max_stay_days": spec.max_stay_days,
        "monthly_cost": Decimal(spec.monthly_cost) if spec.monthly_cost else None,
        "notes": spec.notes,
        "active": spec.active,
    }


class _Player:
    """Plays the planned events in chronological order."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self.touched: dict[str, datetime] = {}  # unit key -> last change
        self.stories: list[_Story] = []

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        self.events.append((moment, len(self.events), action))

    def play(self) -> None:
        for moment, _n, action in sorted(self.events, key=lambda e: (e[0], e[1])):
            with dated(moment, STAMPED):
                action()

    # Units

    def create_unit(self, spec: UnitSpec, external: int, capacity: int, moment: datetime) -> None:
        ctx = self.ctx
        provider = ctx.organizations[spec.provider]
        actor = ctx.staff(provider.id, Role.HOUSING_PROVIDER)
        vacancies = 0 if not spec.active else capacity - external
        unit = operations.create_unit(
            provider.id, _unit_values(spec, vacancies, capacity), cast(User, actor)
        )
        unit.vacancies_updated_at = moment
        # The cost was in force from the unit's registration, not from the day the demo loads.
        db.session.execute(
            update(UnitRate)
            .where(UnitRate.unit_id == unit.id)
            .values(valid_from=moment.astimezone(ROME).date())
        )
        ctx.units[spec.key] = unit
        ctx.external[spec.key] = external
        self.touched[spec.key] = moment

    def confirm(self, spec: UnitSpec, moment: datetime) -> None:
        """The provider's last check of the free places: the guests placed outside the portal
        are those that leave `spec.free` places at the end, after the placements still to come
        (reserving places) and to close (freeing them)."""
        ctx = self.ctx
        unit = ctx.units[spec.key]
        actor = cast(User, ctx.staff(unit.provider_id, Role.HOUSING_PROVIDER))
        target = spec.free + self._to_come(spec.key, moment) if spec.active else 0
        target = min(max(target, 0), unit.capacity)
        if target != unit.vacancies:
            operations.set_vacancies(unit, target, unit.version, actor)
        else:
            operations.confirm_vacancies(unit, unit.version, actor)
        unit.vacancies_updated_at = moment
        self.touched[spec.key] = moment

    def _to_come(self, key: str, moment: datetime) -> int:
        """Places the unit's stories will still take (+) and give back (-) after `moment`."""
        delta = 0
        for story in self.stories:
            if story.household is None or story.spec.unit != key or story.stopped:
                continue
            places = operations.places_needed(story.household)
            if story.moments[0] > moment:
                delta += places
            released = story.holds_until
            if released is not None and released > moment:
                delta -= places
        return delta

    # Sharing

    def broaden(self, household: Household, day: date) -> None:
        """The family signs a consent for housing (the whole network, 12 months)."""
        consent = Consent(
            household_id=household.id,
            purpose=operations.PURPOSE,
            recipient_organization_id=None,
            given_on=day,
            expires_on=add_months(day, DEFAULT_MONTHS),
            signed_form=f"Prot. {day.year}/{household.id:04d}-A",
            recorded_by_id=self.ctx.users["ente1"].id,
        )
        db.session.add(consent)
        db.session.flush()
        record(
            "consent_recorded",
            household,
            {
                "consent_id": consent.id,
                "purpose": consent.purpose,
                "recipient_organization_id": None,
                "given_on": day.isoformat(),
                "expires_on": consent.expires_on.isoformat() if consent.expires_on else None,
                "signed_form": consent.signed_form,
            },
            actor=self.ctx.users["ente1"],
        )
        self.ctx.consents(household.id).append(consent)

    # Placements

    def _proposer(self, story: _Story, household: Household) -> User | OrganizationActor:
        if story.spec.by_city:
            return self.ctx.users["coordinatore"]
        return self.ctx.staff(household.organization_id, Role.ENTITY_OPERATOR)

    def _actor_for(
        self, story: _Story, placement: Placement, step: str
    ) -> User | OrganizationActor:
        side = operations.STEPS[step].side
        if side is Side.COORDINATOR:
            return self.ctx.users["coordinatore"]
        if side is Side.PROVIDER:
            return self.ctx.staff(
                self.ctx.units[story.spec.unit].provider_id, Role.HOUSING_PROVIDER
            )
        return self._proposer(story, placement.household)

    def propose(self, story: _Story, household: Household, moment: datetime) -> None:
        unit = self.ctx.units[story.spec.unit]
        actor = self._proposer(story, household)
        day = moment.astimezone(ROME).date()
        reason = None
        if operations.target_mismatch(household, unit, day):
            reason = story.spec.target_reason or DEFAULT_TARGET_REASON
        try:
            placement = operations.propose(
                household,
                unit,
                cast(User, actor),
                story.spec.motivation,
                target_reason=reason,
                today=day,
            )
        except DomainError:
            story.stopped = True
            return
        placement.status_changed_at = moment
        story.placement = placement
        self.touched[story.spec.unit] = moment

    def step(self, story: _Story, index: int, moment: datetime) -> None:
        placement = story.placement
        if story.stopped or placement is None:
            return
        name, reason = story.spec.steps[index]
        has_reason = operations.STEPS[name].reasons is not None
        day = moment.astimezone(ROME).date()
        try:
            operations.transition(
                placement,
                name,
                cast(User, self._actor_for(story, placement, name)),
                reason,
                story.spec.note if has_reason else None,
                on=day,
                today=day,
            )
        except DomainError:
            story.stopped = True
            return
        placement.status_changed_at = moment
        if name == "approve":
            placement.approved_at = moment
        if operations.STEPS[name].releases_place:
            self.touched[story.spec.unit] = moment

    def check(
        self, story: _Story, number: int, done_on: date, wellbeing: str, moment: datetime
    ) -> None:
        placement = story.placement
        if story.stopped or placement is None or placement.status != "active":
            return
        ctx = self.ctx
        pending = db.session.scalar(
            select(WellbeingCheck).where(
                WellbeingCheck.placement_id == placement.id, WellbeingCheck.done_on.is_(None)
            )
        )
        if pending is None:
            return
        household = placement.household
        actor: User | OrganizationActor = ctx.staff(placement.provider_id, Role.HOUSING_PROVIDER)
        if ctx.org_index(household) is not None and number % 2 == 1:
            actor = ctx.staff(household.organization_id, Role.ENTITY_OPERATOR)
        notes = ctx.rng.choice(CHECK_NOTES[wellbeing])
        operations.record_check(pending, done_on, wellbeing, notes, cast(User, actor), done_on)
        pending.updated_at = moment

    # Eviction prevention

    def open_case(
        self,
        index: int,
        household: Household,
        moment: datetime,
        cases: dict[int, HousingRiskCase],
    ) -> None:
        spec = RISK_CASES[index]
        ctx = self.ctx
        day = moment.astimezone(ROME).date()
        actor = self._risk_actor(spec, household)
        values: dict[str, Any] = {
            "kind": spec.kind,
            "arrears_amount": Decimal(spec.arrears) if spec.arrears else None,
            "actions": list(spec.actions),
            "notes": spec.notes,
        }
        for name, offset in (
            ("notice_on", spec.notice),
            ("hearing_on", spec.hearing),
            ("execution_on", spec.execution),
        ):
            on = None if offset is None else ctx.today + timedelta(days=offset)
            if on is not None and (spec.updated is None or on <= day):
                values[name] = on
        try:
            cases[index] = operations.open_risk_case(household, values, cast(User, actor))
        except DomainError:
            return

    def update_case(self, spec: RiskSpec, case: HousingRiskCase | None) -> None:
        ctx = self.ctx
        if case is None:
            return
        values: dict[str, Any] = {"actions": [*case.actions, *spec.more]}
        for name, offset in (
            ("notice_on", spec.notice),
            ("hearing_on", spec.hearing),
            ("execution_on", spec.execution),
        ):
            if offset is not None:
                values[name] = ctx.today + timedelta(days=offset)
        actor = self._risk_actor(spec, case.household)
        with suppress(DomainError):
            operations.update_risk_case(case, values, cast(User, actor))

    def close_case(self, spec: RiskSpec, case: HousingRiskCase | None, day: date) -> None:
        if case is None or spec.outcome is None:
            return
        actor = self._risk_actor(spec, case.household)
        with suppress(DomainError):
            operations.close_risk_case(case, spec.outcome, day, cast(User, actor), day)

    def _risk_actor(self, spec: RiskSpec, household: Household) -> User | OrganizationActor:
        if spec.by_city:
            return self.ctx.users["coordinatore"]
        return self.ctx.staff(household.organization_id, Role.ENTITY_OPERATOR)


def _all_people(stories: list[_Story]) -> Counter[str]:
    """The people of every story of each unit: the unit holds them all, even at once."""
    people: Counter[str] = Counter()
    for s in stories:
        if s.household is not None:
            people[s.spec.unit] += operations.places_needed(s.household)
    return people


def _schedule(
    ctx: _Context,
    player: _Player,
    stories: list[_Story],
    risk_households: list[Household | None],
    cases: dict[int, HousingRiskCase],
) -> None:
    rng, today = ctx.rng, ctx.today
    people = _all_people(stories)
    first_use: dict[str, datetime] = {}
    for story in stories:
        if story.household is not None:
            key = story.spec.unit
            first_use[key] = min(first_use.get(key, story.moments[0]), story.moments[0])

    for spec in UNITS:
        # Places are people: a unit starts with room for every household of its stories, and
        # its capacity grows to hold them; the provider's confirmation settles the rest.
        opened = people[spec.key] + spec.free + max(-spec.change, 0)
        capacity = max(spec.capacity, opened + max(spec.change, 0))
        external = capacity - opened
        created = office_moment(rng, today - timedelta(days=spec.created))
        if spec.key in first_use:
            created = min(created, first_use[spec.key] - timedelta(days=10))
        updated = office_moment(rng, today - timedelta(days=spec.updated))
        player.at(
            created,
            lambda s=spec, e=external, c=capacity, m=created: player.create_unit(s, e, c, m),
        )
        player.at(updated, lambda s=spec, m=updated: player.confirm(s, m))

    for household_id, day in ctx.broadened.items():
        household = db.session.get_one(Household, household_id)
        player.at(office_moment(rng, day), lambda h=household, d=day: player.broaden(h, d))

    for story in stories:
        if story.household is None:
            continue
        first = story.moments[0]
        player.at(first, lambda s=story, h=story.household, m=first: player.propose(s, h, m))
        for index, moment in enumerate(story.moments[1:]):
            player.at(moment, lambda s=story, i=index, m=moment: player.step(s, i, m))
        move_in = (
            story.moments[1 + [n for n, _r in story.spec.steps].index("move_in")]
            if (story.checks)
            else None
        )
        for number, (done_on, wellbeing) in enumerate(story.checks):
            moment = office_moment(rng, done_on, move_in)
            player.at(
                moment,
                lambda s=story, n=number, d=done_on, w=wellbeing, m=moment: player.check(
                    s, n, d, w, m
                ),
            )

    for index, (spec, household) in enumerate(zip(RISK_CASES, risk_households, strict=True)):
        if household is None:
            continue
        opened = office_moment(rng, working_day_before(today, spec.opened))
        player.at(opened, lambda i=index, h=household, m=opened: player.open_case(i, h, m, cases))
        if spec.updated is not None:
            moment = office_moment(rng, working_day_before(today, spec.updated), opened)
            player.at(moment, lambda s=spec, i=index: player.update_case(s, cases.get(i)))
        if spec.closed is not None:
            day = working_day_before(today, spec.closed)
            moment = office_moment(rng, day, opened)
            player.at(moment, lambda s=spec, i=index, d=day: player.close_case(s, cases.get(i), d))


def _settle_notifications(ctx: _Context, stories: list[_Story]) -> None:
    """A request still waiting for its reader stays unread (a proposal for the City, an approval
    for the provider), and so does the news of the last few days. The rest was read: a request
    when its reader acted on it, news a few hours later."""
    cutoff = datetime.combine(ctx.today - timedelta(days=UNREAD_DAYS), time(0), ROME).astimezone(
        UTC
    )
    by_id = {s.placement.id: (s, s.placement) for s in stories if s.placement is not None}
    notifications = db.session.scalars(
        select(Notification)
        .where(Notification.object_type == "placement", Notification.object_id.in_(list(by_id)))
        .order_by(Notification.id)
    ).all()
    asks = {"placement_proposed": "proposed", "placement_approved": "approved"}
    for notification in notifications:
        story, placement = by_id[notification.object_id]
        if notification.kind in asks:
            if placement.status == asks[notification.kind]:
                continue
            later = [m for m in story.moments if m > notification.created_at]
            notification.read_at = later[0] if later else notification.created_at
        elif notification.created_at < cutoff:
            notification.read_at = notification.created_at + timedelta(hours=ctx.rng.randint(1, 20))


# Entry point -----------------------------------------------------------------------------------


def seed_housing(
    organizations: Sequence[Organization], users: dict[str, User], today: date
) -> dict[str, int]:
    """Add the demo units, placements, follow-ups and eviction cases (flushed, not committed)
    and return how many: {"alloggi": ..., "inserimenti": ..., "casi_sfratto": ...}."""
    rng = random.Random(SEED)
    households = list(
        db.session.scalars(
            select(Household).order_by(Household.id).options(selectinload(Household.members))
        )
    )
    ctx = _Context(organizations, users, today, rng, households)
    ctx.broadened = _to_broaden(ctx)
    reserved = _done_when_household(ctx)
    if reserved is not None:
        ctx.reserved.add(reserved.id)
    stories = _plan_stories(ctx)
    risk_households = _risk_households(ctx, stories)
    player = _Player(ctx)
    player.stories = stories
    cases: dict[int, HousingRiskCase] = {}
    _schedule(ctx, player, stories, risk_households, cases)
    player.play()
    for key, moment in player.touched.items():
        ctx.units[key].updated_at = moment
    _settle_notifications(ctx, stories)
    db.session.flush()
    placements = [s.placement for s in stories if s.placement is not None]
    counts = {"alloggi": len(ctx.units), "inserimenti": len(placements), "casi_sfratto": len(cases)}
    record("demo_housing_loaded", changes=counts, actor=None)
    return counts
