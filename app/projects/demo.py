"""Demo projects: individualised projects with their life budget, in every status.

`seed_projects(organizations, users, today)` is called by `app.demo.seed_demo()` after the
housing demo. Each project's story is played through the real operations of
`app.projects.operations`: created and written by the owning organization (`ente1`, `ente2`, or
an organization without a demo account acting through `OrganizationActor`), approved or sent
back by `coordinatore`, started, followed with monitoring meetings, committed and paid month by
month, closed. Every row written inside a step (audit event, notification, the project's
timestamps) carries the moment of that step.

What the demo relies on:

- 23 projects of `ente1`'s organization, `ente2`'s and others: drafts (one sent back by the City
  with its note), submitted ones waiting for the coordinator, approved, active and closed ones;
  most of them for young people aged 18-29;
- budget lines in every category with realistic amounts (a monthly GTT pass € 38,00, a
  traineeship allowance € 600,00 a month, a course € 1.200,00, ...), exact to the cent:
  approved is the planned amount, committed never above approved, paid never above committed;
  closed projects release what was committed and not spent;
- one budget increase waiting for the City (`ente1`'s), one approved and one refused;
- unread notifications: submitted projects and the pending increase for `coordinatore`, the
  latest decisions for `ente1` and `ente2`;
- a young member of `ente1`'s households without any project, to draft one from the start.

Randomness comes only from `random.Random(SEED)` and dates only from `today`. Rows are added and
flushed, never committed: the caller commits.

The budget kits, the project stories and the meeting notes are in `app.demo_data.projects`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit.models import AuditEvent
from app.audit.operations import record
from app.auth.models import Role, User
from app.clock import ROME
from app.demo_data.projects import KITS, MEETING_NOTES, PROJECTS, Kit, LineSpec, ProjectSpec
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household, Person
from app.housing.demo import OrganizationActor, dated, office_moment, working_day_before
from app.notifications.models import Notification
from app.projects import operations
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.registry.models import Organization
from app.workdays import is_working_day

SEED = 2607
UNREAD_DAYS = 7
MONTH = 30  # days between two monthly payments
STAMPED = (AuditEvent, Notification, Project, ProjectGoal, ProjectMeeting, BudgetLine)
OPEN_STATUSES = ("draft", "submitted", "approved", "active")


# Planning --------------------------------------------------------------------------------------


@dataclass
class _Plan:
    spec: ProjectSpec
    created: date
    starts_on: date
    ends_on: date
    household: Household | None = None
    person: Person | None = None
    events: list[tuple[datetime, Callable[[], None]]] = field(default_factory=list)
    project: Project | None = None


def _months_after(day: date, months: int) -> date:
    return day + timedelta(days=MONTH * months)


def _kit_months(kit: Kit) -> int:
    return max(max(line.months for line in kit.lines), max(m for _g, m in kit.goals))


def _dates(spec: ProjectSpec, today: date) -> tuple[date, date, date]:
    """(creation, start, end) of the project."""
    months = _kit_months(KITS[spec.kit])
    anchor = working_day_before(today, spec.anchor)
    if spec.status in ("active", "closed"):
        start = anchor
        created = working_day_before(start, 15)
    elif spec.status == "approved":
        created = working_day_before(anchor, 12)
        start = today + timedelta(days=10)
    elif spec.status == "submitted":
        created = working_day_before(anchor, 6)
        start = today + timedelta(days=21)
    else:
        created = working_day_before(anchor, 8) if spec.returned else anchor
        start = today + timedelta(days=35)
    return created, start, _months_after(start, months)


ADULTS_LOOKING = ("unemployed", "precarious", "seeking_first_job", "homemaker", "unable")


def _fits(who: str, person: Person, day: date) -> bool:
    if who == "youth":
        return person.is_youth(day)
    age = person.age(day) or 0
    return who == "adult" and 30 <= age <= 62 and person.employment_status in ADULTS_LOOKING


def _candidates(
    households: list[Household], spec: ProjectSpec, day: date
) -> list[tuple[Household, Person | None]]:
    found: list[tuple[Household, Person | None]] = []
    for household in households:
        adults = [m for m in household.members if (m.age(day) or 0) >= 18]
        children = [m for m in household.members if (m.age(day) or 0) < 14]
        if spec.who == "household":
            if children and adults:
                found.append((household, None))
            continue
        if spec.who == "mother":
            reference = household.reference_person
            if len(adults) == 1 and children and reference is not None and reference.sex == "F":
                found.append((household, reference))
            continue
        for person in household.members:
            if _fits(spec.who, person, day):
                found.append((household, person))
    return found


def _choose_people(ctx: _Context, plans: list[_Plan]) -> None:
    """Each project's household and person: one project per household, the owner's
    households, the preferred kind of person (falling back to the whole household)."""
    used: set[int] = set(ctx.reserved)
    for plan in plans:
        spec = plan.spec
        owner = None if spec.owner is None else ctx.organizations[spec.owner].id
        demo_orgs = {ctx.organizations[0].id, ctx.organizations[1].id}
        households = [
            h
            for h in ctx.households
            if h.status == "active"
            and h.id not in used
            and h.created_at.astimezone(ROME).date() <= plan.created
            and (h.organization_id == owner if owner else h.organization_id not in demo_orgs)
        ]
        options = _candidates(households, spec, plan.created)
        if not options and spec.who != "household":
            options = _candidates(households, _replace_who(spec, "household"), plan.created)
        if not options:
            continue
        # Who needs it most first: people out of work and school.
        plan.household, plan.person = min(
            options,
            key=lambda o: (
                o[1] is not None and o[1].employment_status not in ("neet", "unemployed"),
                o[0].id,
                o[1].id if o[1] is not None else 0,
            ),
        )
        used.add(plan.household.id)


def _replace_who(spec: ProjectSpec, who: str) -> ProjectSpec:
    return replace(spec, who=who)


# Playing ---------------------------------------------------------------------------------------


@dataclass
class _Context:
    organizations: Sequence[Organization]
    users: dict[str, User]
    today: date
    rng: random.Random
    households: list[Household]
    reserved: set[int] = field(default_factory=set)

    def operator(self, organization_id: int) -> User | OrganizationActor:
        for user in self.users.values():
            if user.organization_id == organization_id and user.role == Role.ENTITY_OPERATOR:
                return user
        return OrganizationActor(organization_id, Role.ENTITY_OPERATOR.value)


class _Story:
    """The events of one project, in order."""

    def __init__(self, ctx: _Context, plan: _Plan) -> None:
        self.ctx = ctx
        self.plan = plan
        self.planned: list[tuple[date, int, Callable[[datetime], None]]] = []
        household = plan.household
        if household is None:
            raise ValueError("a project story needs its household")
        self.household = household
        self.owner = cast(User, ctx.operator(household.organization_id))
        self.city = ctx.users["coordinatore"]

    def at(self, day: date, action: Callable[[datetime], None]) -> None:
        """Plan `action` on `day`, or the working day after (never today or later)."""
        while not is_working_day(day):
            day += timedelta(days=1)
        if day < self.ctx.today:
            self.planned.append((day, len(self.planned), action))

    def schedule(self) -> None:
        """Give every planned action its moment, in the order of the days."""
        moments: list[datetime] = []
        for day, _n, action in sorted(self.planned, key=lambda p: (p[0], p[1])):
            moment = office_moment(self.ctx.rng, day, moments[-1] if moments else None)
            moments.append(moment)
            self.plan.events.append((moment, partial(action, moment)))

    def build(self) -> None:
        plan, spec, kit = self.plan, self.plan.spec, KITS[self.plan.spec.kit]
        today = self.ctx.today
        self.at(plan.created, self.create)
        if spec.status == "draft":
            if spec.returned:
                submitted = working_day_before(today, spec.anchor)
                self.at(submitted, lambda m: self.step("submit", m))
                self.at(working_day_before(today, spec.anchor - 4), self.send_back)
            return
        if spec.status == "submitted":
            self.at(working_day_before(today, spec.anchor), lambda m: self.step("submit", m))
            return
        if spec.status == "approved":
            approved = working_day_before(today, spec.anchor)
            self.at(working_day_before(approved, 5), lambda m: self.step("submit", m))
            self.at(approved, lambda m: self.step("approve", m))
            self.at(working_day_before(today, max(spec.anchor - 2, 1)), self.commit_first)
            return
        start = plan.starts_on
        self.at(working_day_before(start, 10), lambda m: self.step("submit", m))
        self.at(working_day_before(start, 4), lambda m: self.step("approve", m))
        self.at(start, lambda m: self.step("start", m))
        self.at(start, self.commit_all)
        end = min(plan.ends_on, today - timedelta(days=1))
        # Monthly payments and the purchases, the meetings, the goals reached on the way.
        for k in range(1, _kit_months(kit) + 1):
            day = _months_after(start, k)
            if day > end:
                break
            self.at(day, lambda m, k=k: self.pay_month(k, m))
        meeting = start + timedelta(days=3)
        number = 0
        while meeting <= end and number < len(MEETING_NOTES) - 1:
            self.at(meeting, lambda m, n=number: self.meeting(n, m))
            number += 1
            meeting += timedelta(days=42)
        for index, (_description, months) in enumerate(kit.goals):
            reached = _months_after(start, months)
            if reached <= end and spec.status == "active":
                self.at(reached, lambda m, i=index: self.goal(i, "achieved", m))
        if spec.increase is not None:
            line, amount, outcome = spec.increase
            asked = working_day_before(today, spec.increase_days)
            self.at(asked, lambda m: self.ask_increase(line, amount, m))
            if outcome != "pending":
                decided = working_day_before(today, max(spec.increase_days - 3, 1))
                self.at(decided, lambda m: self.decide(line, outcome == "approved", m))
                if outcome == "approved":
                    self.at(working_day_before(today, max(spec.increase_days - 5, 1)),
                            lambda m: self.commit_line(line, m))  # fmt: skip
        if spec.status == "closed":
            closing = working_day_before(plan.ends_on + timedelta(days=12), 3)
            self.at(closing, lambda m: self.meeting(len(MEETING_NOTES) - 1, m))
            for index, result in enumerate(spec.goal_results):
                self.at(closing, lambda m, i=index, r=result: self.goal(i, r, m))
            self.at(closing, self.release)
            self.at(closing, lambda m: self.step("close", m, spec.note))

    # Steps

    def create(self, moment: datetime) -> None:
        plan, spec, kit = self.plan, self.plan.spec, KITS[self.plan.spec.kit]
        values = {
            "title": spec.title,
            "summary": spec.summary,
            "youth": plan.person is not None and plan.person.is_youth(plan.created),
            "starts_on": plan.starts_on,
            "ends_on": plan.ends_on,
        }
        project = operations.create(self.household, plan.person, values, self.owner)
        project.status_changed_at = moment
        plan.project = project
        for description, months in kit.goals:
            operations.add_goal(
                project, description, _months_after(plan.starts_on, months), self.owner
            )
        for line in kit.lines:
            operations.add_line(
                project,
                {
                    "category": line.category,
                    "description": _describe(line),
                    "supplier": line.supplier,
                    "planned": line.planned,
                },
                self.owner,
            )

    def step(self, name: str, moment: datetime, note: str | None = None) -> None:
        project = self.plan.project
        if project is None:
            return
        actor = self.city if operations.STEPS[name].by_city else self.owner
        day = moment.astimezone(ROME).date()
        operations.transition(project, name, actor, note, day=day)
        project.status_changed_at = moment
        if name == "submit":
            project.submitted_at = moment
        if name == "approve":
            project.approved_at = moment

    def send_back(self, moment: datetime) -> None:
        self.step("return", moment, self.plan.spec.note)

    def _lines(self) -> list[BudgetLine]:
        return self.plan.project.lines if self.plan.project is not None else []

    def _update(self, line: BudgetLine, values: dict[str, Any]) -> None:
        operations.update_line(line, values, self.owner)

    def commit_first(self, moment: datetime) -> None:
        """The enrolment of an approved project's first course or purchase."""
        day = moment.astimezone(ROME).date()
        for line, kit_line in zip(self._lines(), KITS[self.plan.spec.kit].lines, strict=True):
            if kit_line.months == 0:
                self._update(line, {"committed": line.approved, "committed_on": day})
                return

    def commit_all(self, moment: datetime) -> None:
        day = moment.astimezone(ROME).date()
        for line in self._lines():
            if line.committed < line.approved:
                self._update(line, {"committed": line.approved, "committed_on": day})

    def commit_line(self, index: int, moment: datetime) -> None:
        line = self._lines()[index]
        day = moment.astimezone(ROME).date()
        self._update(line, {"committed": line.approved, "committed_on": day})

    def pay_month(self, month: int, moment: datetime) -> None:
        """Month `month` of the project: its monthly payments, and the purchases (in the first
        month) paid in full."""
        day = moment.astimezone(ROME).date()
        stop = self.plan.spec.early_stop
        for line, kit_line in zip(self._lines(), KITS[self.plan.spec.kit].lines, strict=True):
            if kit_line.months == 0:
                if month == 1 and line.paid < line.committed:
                    self._update(line, {"paid": line.committed, "paid_on": day})
                continue
            if month > kit_line.months or (stop is not None and month > stop):
                continue
            paid = min(Decimal(kit_line.amount) * month, line.committed)
            if paid > line.paid:
                self._update(line, {"paid": paid, "paid_on": day})

    def release(self, moment: datetime) -> None:
        """At the end, what was committed and not spent goes back to the budget."""
        for line in self._lines():
            if line.committed > line.paid:
                self._update(line, {"committed": line.paid})

    def meeting(self, number: int, moment: datetime) -> None:
        project = self.plan.project
        if project is None:
            return
        notes, next_steps = MEETING_NOTES[number]
        day = moment.astimezone(ROME).date()
        operations.add_meeting(project, day, notes, next_steps, self.owner, day=day)

    def goal(self, index: int, status: str, moment: datetime) -> None:
        project = self.plan.project
        if project is None or index >= len(project.goals):
            return
        goals = sorted(project.goals, key=lambda g: g.id)
        operations.set_goal_status(goals[index], status, self.owner)

    def ask_increase(self, index: int, amount: str, moment: datetime) -> None:
        operations.request_increase(self._lines()[index], Decimal(amount), self.owner)

    def decide(self, index: int, approve: bool, moment: datetime) -> None:
        operations.decide_increase(self._lines()[index], approve, self.city)


def _describe(line: LineSpec) -> str:
    if not line.months:
        return line.description
    amount = f"{Decimal(line.amount):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"{line.description} ({line.months} mesi × € {amount})"


def _settle_notifications(ctx: _Context, plans: list[_Plan]) -> None:
    """What waits for its reader stays unread (a submitted project for the City, an increase to
    decide), and so does the news of the last few days; the rest was read."""
    cutoff = datetime.combine(ctx.today - timedelta(days=UNREAD_DAYS), time(0), ROME).astimezone(
        UTC
    )
    projects = {p.project.id: p.project for p in plans if p.project is not None}
    notifications = db.session.scalars(
        select(Notification)
        .where(Notification.object_type == "project", Notification.object_id.in_(list(projects)))
        .order_by(Notification.id)
    ).all()
    for notification in notifications:
        project = projects[notification.object_id]
        if notification.kind == "project_submitted" and project.status == "submitted":
            continue
        if notification.kind == "budget_increase_requested" and any(
            line.increase_requested is not None for line in project.lines
        ):
            continue
        if notification.created_at < cutoff or notification.kind in (
            "project_submitted",
            "budget_increase_requested",
        ):
            notification.read_at = notification.created_at + timedelta(hours=ctx.rng.randint(1, 20))


def _done_when_household(ctx: _Context) -> Household | None:
    """ente1's household whose young member is left without projects: a NEET if possible."""
    ente1 = ctx.organizations[0].id
    options = [
        (person.employment_status != "neet", household.id, household)
        for household in ctx.households
        if household.organization_id == ente1 and household.status == "active"
        for person in household.members
        if person.is_youth(ctx.today)
    ]
    return min(options, key=lambda o: o[:2])[2] if options else None


# Entry point -----------------------------------------------------------------------------------


def seed_projects(
    organizations: Sequence[Organization], users: dict[str, User], today: date
) -> dict[str, int]:
    """Add the demo projects with goals, meetings, budget lines, audit events and notifications
    (flushed, not committed) and return how many: {"progetti": ...}."""
    rng = random.Random(SEED)
    households = list(
        db.session.scalars(
            select(Household).order_by(Household.id).options(selectinload(Household.members))
        )
    )
    ctx = _Context(organizations, users, today, rng, households)
    reserved = _done_when_household(ctx)
    if reserved is not None:
        ctx.reserved.add(reserved.id)
    plans = [_Plan(spec, *_dates(spec, today)) for spec in PROJECTS]
    _choose_people(ctx, plans)
    events: list[tuple[datetime, int, Callable[[], None]]] = []
    for plan in plans:
        if plan.household is None:
            continue
        story = _Story(ctx, plan)
        story.build()
        story.schedule()
        events += [
            (moment, len(events) + n, action) for n, (moment, action) in enumerate(plan.events)
        ]
    for moment, _n, action in sorted(events, key=lambda e: (e[0], e[1])):
        with dated(moment, STAMPED):
            try:
                action()
            except DomainError:
                continue
    _settle_notifications(ctx, plans)
    db.session.flush()
    projects = [p.project for p in plans if p.project is not None]
    counts = {"progetti": len(projects)}
    record("demo_projects_loaded", changes=counts, actor=None)
    return counts
