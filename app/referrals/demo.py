"""Demo referrals: the referral loop between the demo organizations over the last three months.

`seed_referrals(organizations, users, today)` is called by `app.demo.seed_demo()` after the
households. It plays a fixed list of stories (`SCENARIOS`) in chronological order, so that every
check of the real workflow sees the data as they were on that day (capacity of the month,
accreditation, an open referral for the same need):

- whenever a demo account plays a part (`ente1`, `ente2` as sender or receiver, `coordinatore`),
  the step goes through `operations.create()` / `operations.transition()` with that account as
  actor, so guards, history, audit events and notifications are the real ones;
- the steps of organizations without a demo account go through the same steps,
  `operations.open_draft()` / `operations.apply_step()` (the same guards, locks, conditional
  update, history row, audit event with the organization as actor, notifications to the demo
  accounts concerned), only without asking who acts; a target whose accreditation was
  suspended after the approval is not checked for it;
- the service of each referral is taken from `matching.rank()` on the day of the referral, and its
  score and reasons are stored as the operator would have stored them.

Every timestamp (referral, history, audit event, notification) is set to the moment of its step:
working days from three months ago to yesterday. What the demo relies on:

- referrals in every status, from `ente1`'s organization (index 0) to `ente2`'s (index 1) and to
  others, from other organizations to `ente1`'s services, from `ente2`'s organization, and between
  organizations without a demo account; most of them for young people aged 18-29;
- in the coordinator's queue, several submitted referrals with their match score and reasons, two
  of them overdue (more than five working days unanswered); three approved referrals overdue, one
  of them addressed to an organization whose accreditation was suspended after the approval;
- a draft of `ente1` for a household whose consent for the job services expired (submitting it
  is refused with the date it expired);
- a referral of `ente1` to `ente2` that `ente2` never answered: the nightly run returned it to
  `ente1` as expired (scaduta); no open referral is past its step's expiry (the nightly run would
  have returned it);
- unread notifications for `coordinatore` (submitted referrals), `ente2` (approved referrals to
  answer, recent decisions on its own), `ente1` (referrals to answer and recent decisions); older
  notifications are read;
- this month's accepted referrals stay within each service's monthly capacity;
- a service full this month (Crocetta's job placement: its places held by referrals in
  flight) with three referrals on its waiting list, one of them from `ente1`;
- one young member of `ente1`'s households, with the sharing authorisation, is left without
  referrals, and a service of `ente2`'s organization is among their suggestions for "job_search":
  the referral journey can be tried from the start.

Randomness comes only from `random.Random(SEED)` and dates only from `today`. Rows are added and
flushed, never committed: the caller commits.

The stories themselves (`SCENARIOS`) are in `app.demo_data.referrals`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from app.audit.models import AuditEvent
from app.audit.operations import record
from app.auth.models import Role, User
from app.clock import ROME
from app.demo_data.referrals import SCENARIOS, Scenario
from app.errors import DomainError
from app.extensions import db
from app.households.consents import ANY, consent_state, in_force
from app.households.models import Consent, Household, Person
from app.notifications.models import Notification
from app.referrals import operations, queries
from app.referrals.matching import Offer, Suggestion, rank
from app.referrals.models import OPEN_STATUSES, Referral, ReferralStatusChange
from app.referrals.policy import PURPOSE, Side
from app.referrals.stalled import NIGHTLY
from app.registry.models import Organization, Service
from app.workdays import is_working_day, local_date

SEED = 2605
# Notifications of decisions newer than this many working days are still unread.
UNREAD_WORKING_DAYS = 5
CLOSING_STATUSES = ("rejected", "declined", "completed", "failed", "cancelled", "expired")
MIN_AGE = 16


@dataclass(frozen=True)
class _OrganizationActor:
    """An operator of an organization without a demo account: the audit knows only the
    organization."""

    organization_id: int
    id: None = None


@dataclass
class _Run:
    scenario: Scenario
    moments: list[datetime]
    referral: Referral | None = None
    stopped: bool = False


@dataclass
class _Context:
    organizations: Sequence[Organization]
    coordinator: User
    operators: dict[int, User]  # organization id -> its demo account
    today: date
    rng: random.Random
    reserved: set[int] = field(default_factory=set)  # person ids left without referrals
    used: Counter[int] = field(default_factory=Counter)  # person id -> referrals
    ledger: dict[int, list[Consent]] | None = None  # household id -> its consents

    def shares(self, household_id: int, day: date) -> bool:
        """A consent of the household for the job services (of the network) is in force."""
        if self.ledger is None:
            self.ledger = {}
            for consent in db.session.scalars(select(Consent).order_by(Consent.id)):
                self.ledger.setdefault(consent.household_id, []).append(consent)
        return any(in_force(c, PURPOSE, ANY, day) for c in self.ledger.get(household_id, []))

    def expired(self, household_id: int) -> bool:
        """The household's consent for the job services has expired (and none is in force)."""
        return not self.shares(household_id, self.today) and any(
            c.purpose == PURPOSE and consent_state(c, self.today) == "expired"
            for c in (self.ledger or {}).get(household_id, [])
        )


# Dates -----------------------------------------------------------------------------------------


def working_day_before(today: date, count: int) -> date:
    """The working day `count` working days before `today`."""
    day = today
    while count > 0:
        day -= timedelta(days=1)
        count -= is_working_day(day)
    return day


def _moments(rng: random.Random, days: Sequence[int], today: date) -> list[datetime]:
    """One moment per step, in office hours, strictly increasing."""
    moments: list[datetime] = []
    for count in days:
        day = working_day_before(today, count)
        local = datetime.combine(day, time(rng.randint(9, 16), rng.randrange(0, 60, 5)), ROME)
        moment = local.astimezone(UTC)
        if moments and moment <= moments[-1]:
            moment = moments[-1] + timedelta(minutes=rng.randint(4, 40))
        moments.append(moment)
    return moments


@contextmanager
def _dated(moment: datetime) -> Iterator[None]:
    """Rows written inside (history, audit events, notifications) carry `moment` as creation
    time: they are inserted with it, never changed afterwards (the audit log is append-only)."""
    session = db.session()

    def stamp(session: Session, flush_context: object, instances: object) -> None:
        for obj in session.new:
            if isinstance(obj, AuditEvent | Notification | ReferralStatusChange):
                obj.created_at = moment

    event.listen(session, "before_flush", stamp)
    try:
        yield
        session.flush()
    finally:
        event.remove(session, "before_flush", stamp)


def _stamp(referral: Referral, moment: datetime) -> None:
    """The referral's timestamps as the step at `moment` sets them (see operations.transition)."""
    referral.status_changed_at = moment
    referral.updated_at = moment
    if referral.status == "draft":
        referral.created_at = moment
    elif referral.status == "submitted":
        referral.submitted_at = moment
    elif referral.status == "approved":
        referral.approved_at = moment
    elif referral.status == "accepted":
        referral.accepted_at = moment
    elif referral.status == "waiting":
        referral.waiting_since = moment
    elif referral.status in CLOSING_STATUSES:
        referral.closed_at = moment


# Choosing the person and the service ---------------------------------------------------------


def _candidates(ctx: _Context, organization: Organization, sharing: bool) -> list[Person]:
    households = db.session.scalars(
        select(Household)
        .where(Household.organization_id == organization.id, Household.status == "active")
        .order_by(Household.id)
        .options(selectinload(Household.members))
    ).all()
    people = []
    for household in households:
        # Without consent: a household whose consent for the job services expired.
        if sharing != ctx.shares(household.id, ctx.today) or (
            not sharing and not ctx.expired(household.id)
        ):
            continue
        people += [p for p in household.members if p.id not in ctx.reserved]
    return people


def _members(household_id: int) -> list[Person]:
    return db.session.get_one(Household, household_id).members


def _target_offers(organization: Organization, day: date, suspended_after: bool) -> list[Offer]:
    """What `queries.offers(day)` holds for this organization. A target whose accreditation was
    suspended after the referral is offered as the operator saw it then."""
    if not suspended_after and not queries.is_referral_target(organization.id, day):
        return []
    services = [s for s in organization.services if s.active]
    taken = queries.places_taken([s.id for s in services], day)
    return [queries.offer_for(s, taken.get(s.id, 0), True) for s in services]


def _choose(ctx: _Context, scenario: Scenario, day: date) -> tuple[Person, Suggestion] | None:
    """The person and the suggested service: unused people first, then the preferred age
    group, then the best match."""
    sender = ctx.organizations[scenario.sender]
    target = ctx.organizations[scenario.target]
    offers = _target_offers(target, day, scenario.suspended_after)
    # Open referrals for the need, as queries.open_referral_for() finds them, in one query.
    open_for = db.session.execute(
        select(Referral.household_id, Referral.person_id).where(
            Referral.need == scenario.need, Referral.status.in_(OPEN_STATUSES)
        )
    ).all()
    busy = {person_id for _h, person_id in open_for} | {
        p.id for h_id, person_id in open_for if person_id is None for p in _members(h_id)
    }
    for service_type in (scenario.service_type, None):
        options: list[tuple[tuple[int, int, int], Person, Suggestion]] = []
        for person in _candidates(ctx, sender, scenario.sharing):
            household = person.household
            age = person.age(day)
            if age is None or age < MIN_AGE or household.created_at.date() > day:
                continue
            if scenario.sharing and not ctx.shares(household.id, day):
                continue
            if person.id in busy:
                continue
            subject = queries.subject_for(household, person, day)
            suggestions = [
                s
                for s in rank(subject, scenario.need, offers)
                if service_type is None or s.offer.service_type == service_type
            ]
            if not suggestions:
                continue
            youth = person.is_youth(day)
            mismatch = {"youth": not youth, "adult": youth}.get(scenario.age, False)
            key = (ctx.used[person.id], int(mismatch), -suggestions[0].score)
            options.append((key, person, suggestions[0]))
        if options:
            best = min(key for key, _p, _s in options)
            _key, person, suggestion = ctx.rng.choice([o for o in options if o[0] == best])
            return person, suggestion
    return None


def _done_when_candidate(ctx: _Context) -> Person | None:
    """A young member of ente1's households, authorised to share, for whom a service of ente2's
    organization ranks highest among the suggestions for "job_search"."""
    ente1, ente2 = ctx.organizations[0], ctx.organizations[1]
    offers = queries.offers(ctx.today)
    best: tuple[int, int] | None = None
    chosen = None
    for person in _candidates(ctx, ente1, sharing=True):
        if not person.is_youth(ctx.today):
            continue
        subject = queries.subject_for(person.household, person, ctx.today)
        ranked = rank(subject, "job_search", offers)
        positions = [i for i, s in enumerate(ranked) if s.offer.organization_id == ente2.id]
        if positions and (best is None or (positions[0], person.id) < best):
            best, chosen = (positions[0], person.id), person
    return chosen


# Writing the steps ---------------------------------------------------------------------------


def _actor(ctx: _Context, scenario: Scenario, side: Side) -> User | None:
    if side is Side.COORDINATOR:
        return ctx.coordinator
    index = scenario.sender if side is Side.SENDER else scenario.target
    return ctx.operators.get(ctx.organizations[index].id)


def _create(ctx: _Context, run: _Run, moment: datetime) -> None:
    scenario, day = run.scenario, local_date(moment)
    choice = _choose(ctx, scenario, day)
    if choice is None:
        run.stopped = True
        return
    person, suggestion = choice
    household = person.household
    service = db.session.get_one(Service, suggestion.service_id)
    actor = _actor(ctx, scenario, Side.SENDER)
    try:
        referral = _new_referral(scenario, household, person, service, suggestion, actor, moment)
    except DomainError:
        run.stopped = True
        return
    ctx.used[person.id] += 1
    run.referral = referral


def _new_referral(
    scenario: Scenario,
    household: Household,
    person: Person,
    service: Service,
    suggestion: Suggestion,
    actor: User | None,
    moment: datetime,
) -> Referral:
    day = local_date(moment)
    with _dated(moment):
        if actor is not None and not scenario.suspended_after:
            referral = operations.create(
                household, person, scenario.need, service, scenario.motivation, actor,
                suggestion=suggestion, day=day,
            )  # fmt: skip
        else:
            referral = operations.open_draft(
                household, person, scenario.need, service, scenario.motivation,
                actor or _OrganizationActor(household.organization_id), suggestion=suggestion,
                day=day, check_accreditation=not scenario.suspended_after,
            )  # fmt: skip
        _stamp(referral, moment)
    return referral


def _step(ctx: _Context, run: _Run, index: int, moment: datetime) -> None:
    scenario, referral = run.scenario, run.referral
    if referral is None:
        return
    action, reason_code = scenario.steps[index]
    note = scenario.note if index == len(scenario.steps) - 1 else None
    side = operations.TRANSITIONS[action].side
    actor = _actor(ctx, scenario, side)
    day = local_date(moment)
    try:
        with _dated(moment):
            if side is Side.SYSTEM:  # the nightly run: a referral left unanswered expires
                operations.apply_step(
                    referral, action, NIGHTLY, reason_code, note, day, check_accreditation=False
                )
            elif actor is not None and not scenario.suspended_after:
                operations.transition(referral, action, actor, reason_code, note, day=day)
            else:
                index_of_side = scenario.sender if side is Side.SENDER else scenario.target
                who = actor or _OrganizationActor(ctx.organizations[index_of_side].id)
                operations.apply_step(
                    referral, action, who, reason_code, note, day,
                    check_accreditation=not scenario.suspended_after,
                )  # fmt: skip
            _stamp(referral, moment)
    except DomainError:
        # Refused as it would be in the browser: the story stops where it is.
        run.stopped = True


def _settle_notifications(ctx: _Context, referrals: list[Referral]) -> None:
    """A request still waiting for its reader stays unread (a submission for the coordinator,
    an approval for the receiving entity), and so do the decisions of the last few working
    days. The rest was read: a request when its reader acted on it, news a few hours later."""
    cutoff = datetime.combine(
        working_day_before(ctx.today, UNREAD_WORKING_DAYS), time(0), ROME
    ).astimezone(UTC)
    by_id = {r.id: r for r in referrals}
    notifications = db.session.scalars(
        select(Notification)
        .where(Notification.object_type == "referral", Notification.object_id.in_(list(by_id)))
        .order_by(Notification.id)
    ).all()
    for notification in notifications:
        referral = by_id[notification.object_id]
        asks = {"referral_submitted": "submitted", "referral_approved": "approved"}
        if notification.kind in asks:
            if referral.status == asks[notification.kind]:
                continue
            later = [
                h.created_at for h in referral.history if h.created_at > notification.created_at
            ]
            notification.read_at = later[0] if later else notification.created_at
        elif notification.created_at < cutoff:
            notification.read_at = notification.created_at + timedelta(hours=ctx.rng.randint(1, 20))


# Entry point -----------------------------------------------------------------------------


def seed_referrals(
    organizations: Sequence[Organization], users: dict[str, User], today: date
) -> dict[str, int]:
    """Add the demo referrals, their history, audit events and notifications (flushed, not
    committed) and return how many referrals: {"segnalazioni": ...}."""
    rng = random.Random(SEED)
    ctx = _Context(
        organizations=organizations,
        coordinator=users["coordinatore"],
        operators={
            u.organization_id: u
            for u in users.values()
            if u.role == Role.ENTITY_OPERATOR.value and u.organization_id is not None
        },
        today=today,
        rng=rng,
    )
    candidate = _done_when_candidate(ctx)
    if candidate is not None:
        ctx.reserved.add(candidate.id)
    runs = [_Run(s, _moments(rng, s.days, today)) for s in SCENARIOS]
    timeline = sorted(
        (moment, n, i) for n, run in enumerate(runs) for i, moment in enumerate(run.moments)
    )
    for moment, n, i in timeline:
        run = runs[n]
        if run.stopped:
            continue
        if i == 0:
            _create(ctx, run, moment)
        else:
            _step(ctx, run, i - 1, moment)
    referrals = [run.referral for run in runs if run.referral is not None]
    _settle_notifications(ctx, referrals)
    db.session.flush()
    counts = {"segnalazioni": len(referrals)}
    record("demo_referrals_loaded", changes=counts, actor=None)
    return counts
