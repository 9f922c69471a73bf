"""Reading referrals and the services they can go to: capacity, offers, overdue cut-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select

from app.admin.models import get_setting
from app.extensions import db
from app.households.models import Household, Person
from app.referrals.matching import Offer, Subject
from app.referrals.models import (
    CONSUMING_STATUSES,
    IN_FLIGHT,
    OPEN_STATUSES,
    Referral,
)
from app.referrals.vocabulary import REFER_AGAIN_AFTER_DAYS
from app.registry.models import Organization, Service, Site, service_site
from app.registry.policy import referral_target_organizations
from app.web.cache import cached
from app.workdays import local_date, month_start_utc, overdue_before, start_of_day_utc

OVERDUE_SETTING = "referral_overdue_working_days"
OVERDUE_DEFAULT = 5


@dataclass(frozen=True)
class StallStep:
    """A step of a referral that waits for somebody (issue #24): past `late` working days in it
    the referral is "in ritardo" (flagged, and the nightly reminders tell the sender, the City
    and whoever has to act); past `expire` it returns to the sender as "scaduta"."""

    code: str  # stored as the expiry's reason code
    statuses: tuple[str, ...]
    late_setting: str
    late_default: int
    expire_setting: str
    expire_default: int

    def limits(self) -> tuple[int, int]:
        """(late, expire) in working days, as the admin set them (expire always > late)."""
        late = _positive(self.late_setting, self.late_default)
        expire = _positive(self.expire_setting, self.expire_default)
        return late, max(expire, late + 1)


STALL_STEPS: tuple[StallStep, ...] = (
    # The City's approval of a submitted referral.
    StallStep("no_approval", ("submitted",), OVERDUE_SETTING, OVERDUE_DEFAULT,
              "referral_approval_expiry_working_days", 20),
    # The receiving entity's answer to an approved referral.
    StallStep("no_answer", ("approved",), "referral_answer_overdue_working_days", 5,
              "referral_answer_expiry_working_days", 20),
    # Accepted, but neither started nor closed: the outcome after the acceptance.
    StallStep("no_outcome", ("accepted",), "referral_outcome_overdue_working_days", 10,
              "referral_outcome_expiry_working_days", 30),
)  # fmt: skip
STALL_STEP_OF = {status: step for step in STALL_STEPS for status in step.statuses}


def _positive(key: str, default: int) -> int:
    value = get_setting(key, default)
    return value if isinstance(value, int) and value > 0 else default


def overdue_working_days() -> int:
    """The City's approval step's limit (the first of the table)."""
    return STALL_STEPS[0].limits()[0]


def _past(today: date, which: int) -> ColumnElement[bool]:
    """SQL for "in its step for more than the step's limit" (which: 0 late, 1 expired)."""
    return or_(
        *(
            and_(
                Referral.status.in_(step.statuses),
                Referral.status_changed_at
                < start_of_day_utc(overdue_before(today, step.limits()[which])),
            )
            for step in STALL_STEPS
        )
    )


def overdue_clause(today: date) -> ColumnElement[bool]:
    """SQL for "waiting for an answer for more than its step's N working days"."""
    return _past(today, 0)


def expired_clause(today: date) -> ColumnElement[bool]:
    """SQL for "left without an answer past its step's second limit": to return to the sender."""
    return _past(today, 1)


def late_limits() -> dict[str, int]:
    """Each waiting status's late limit, read once for a page of rows."""
    return {status: step.limits()[0] for status, step in STALL_STEP_OF.items()}


def is_overdue(referral: Referral, today: date, limits: dict[str, int]) -> bool:
    days = limits.get(referral.status)
    return days is not None and local_date(referral.status_changed_at) < overdue_before(today, days)


def _next_month(today: date) -> date:
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


def places_used(service_ids: list[int], today: date) -> dict[int, int]:
    """Referrals accepted in the month of `today` (in Turin), by service: the monthly capacity
    they consume. Acceptances of a later month do not count (`today` may be a past day)."""
    if not service_ids:
        return {}
    rows = db.session.execute(
        select(Referral.service_id, func.count())
        .where(
            Referral.service_id.in_(service_ids),
            Referral.status.in_(CONSUMING_STATUSES),
            Referral.accepted_at >= month_start_utc(today),
            Referral.accepted_at < month_start_utc(_next_month(today)),
        )
        .group_by(Referral.service_id)
    ).all()
    return {row[0]: row[1] for row in rows}


def places_held(service_ids: list[int]) -> dict[int, int]:
    """Referrals in flight to each service (submitted or approved): each holds a place while
    the City and the entity answer."""
    if not service_ids:
        return {}
    rows = db.session.execute(
        select(Referral.service_id, func.count())
        .where(Referral.service_id.in_(service_ids), Referral.status.in_(IN_FLIGHT))
        .group_by(Referral.service_id)
    ).all()
    return {row[0]: row[1] for row in rows}


def places_taken(service_ids: list[int], today: date) -> dict[int, int]:
    """The places of the month that are taken, by service: accepted this month (`places_used`)
    and held by the referrals in flight (`places_held`)."""
    used = places_used(service_ids, today)
    held = places_held(service_ids)
    return {key: used.get(key, 0) + held.get(key, 0) for key in set(used) | set(held)}


def places_left(services: list[Service], today: date) -> dict[int, int]:
    """The one answer to "how many places does this service have left this month": its monthly
    capacity less the places taken (never below zero). Matching, the referral form, the
    capacity check of every step, the registry page and the HSDS `capacities` all read it."""
    taken = places_taken([service.id for service in services], today)
    return {
        service.id: max(service.monthly_capacity - taken.get(service.id, 0), 0)
        for service in services
    }


def waiting_counts(service_ids: list[int]) -> dict[int, int]:
    """How many referrals wait on each service's waiting list."""
    if not service_ids:
        return {}
    rows = db.session.execute(
        select(Referral.service_id, func.count())
        .where(Referral.service_id.in_(service_ids), Referral.status == "waiting")
        .group_by(Referral.service_id)
    ).all()
    return {row[0]: row[1] for row in rows}


def waiting_order() -> tuple[ColumnElement[object], ...]:
    """The waiting list's order: who joined first goes first (the id breaks a tie)."""
    return (Referral.waiting_since.asc(), Referral.id.asc())  # type: ignore[return-value]


def waiting_position(referral: Referral) -> int | None:
    """The referral's place on its service's waiting list (1 = next to go), or None."""
    if referral.status != "waiting" or referral.waiting_since is None:
        return None
    ahead = db.session.scalar(
        select(func.count()).where(
            Referral.service_id == referral.service_id,
            Referral.status == "waiting",
            or_(
                Referral.waiting_since < referral.waiting_since,
                and_(Referral.waiting_since == referral.waiting_since, Referral.id < referral.id),
            ),
        )
    )
    return (ahead or 0) + 1


def is_referral_target(organization_id: int, today: date) -> bool:
    return (
        db.session.scalar(
            referral_target_organizations(today)
            .with_only_columns(Organization.id)
            .where(Organization.id == organization_id)
        )
        is not None
    )


def offer_for(service: Service, used: int, accredited: bool) -> Offer:
    districts = frozenset(site.circoscrizione for site in service.sites) or frozenset(
        {service.organization.circoscrizione}
    )
    return Offer(
        service_id=service.id,
        organization_id=service.organization_id,
        service_type=service.service_type,
        circoscrizioni=districts,
        languages=frozenset(service.languages or ()),
        age_min=service.age_min,
        age_max=service.age_max,
        youth_focus=service.youth_focus,
        neet_focus=service.neet_focus,
        capacity=service.monthly_capacity,
        used=used,
        active=service.active,
        accredited=accredited,
    )


def offers(today: date) -> list[Offer]:
    """The active services of the organizations that may receive referrals today.

    Read as plain rows (thousands of services at city scale: no ORM objects), and kept for
    OFFERS_CACHE_SECONDS per process: the capacity shown may be that many seconds old, and
    every step that takes a place checks it again in the database.
    """
    key = ("referral_offers", today)
    found, _at = cached(key, lambda: _load_offers(today), "OFFERS_CACHE_SECONDS")
    return found


def _load_offers(today: date) -> list[Offer]:
    targets = referral_target_organizations(today).with_only_columns(Organization.id)
    in_scope = (Service.active.is_(True), Service.organization_id.in_(targets))
    rows = db.session.execute(
        select(
            Service.id,
            Service.organization_id,
            Service.service_type,
            Service.languages,
            Service.age_min,
            Service.age_max,
            Service.youth_focus,
            Service.neet_focus,
            Service.monthly_capacity,
            Organization.circoscrizione,
        )
        .join(Organization, Organization.id == Service.organization_id)
        .where(*in_scope)
    ).all()
    ids = [row[0] for row in rows]
    districts: dict[int, set[int]] = {}
    for service_id, circ in db.session.execute(
        select(service_site.c.service_id, Site.circoscrizione)
        .join(Site, Site.id == service_site.c.site_id)
        .where(service_site.c.service_id.in_(select(Service.id).where(*in_scope)))
    ):
        districts.setdefault(service_id, set()).add(circ)
    taken = places_taken(ids, today)
    return [
        Offer(
            service_id=row[0],
            organization_id=row[1],
            service_type=row[2],
            circoscrizioni=frozenset(districts.get(row[0]) or {row[9]}),
            languages=frozenset(row[3] or ()),
            age_min=row[4],
            age_max=row[5],
            youth_focus=row[6],
            neet_focus=row[7],
            capacity=row[8],
            used=taken.get(row[0], 0),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Parking:
    """A service that declined this person, and until when it is not proposed again."""

    service_id: int
    declined_on: date
    reason_code: str
    until: date | None  # None: never again


def parked_services(person_id: int | None, today: date) -> dict[int, Parking]:
    """The services that declined `person_id` with a reason that parks the match today (the
    decline rules of `REFER_AGAIN_AFTER_DAYS`); the latest decline of each service counts."""
    if person_id is None:
        return {}
    parking_codes = [code for code, days in REFER_AGAIN_AFTER_DAYS.items() if days != 0]
    rows = db.session.execute(
        select(Referral.service_id, Referral.status_changed_at, Referral.reason_code)
        .where(
            Referral.person_id == person_id,
            Referral.status == "declined",
            Referral.reason_code.in_(parking_codes),
        )
        .order_by(Referral.status_changed_at)
    ).all()
    parked: dict[int, Parking] = {}
    for service_id, moment, code in rows:
        declined_on = local_date(moment)
        days = REFER_AGAIN_AFTER_DAYS[code]
        until = None if days is None else declined_on + timedelta(days=days)
        if until is None or until > today:
            parked[service_id] = Parking(service_id, declined_on, code, until)
        else:
            parked.pop(service_id, None)
    return parked


def subject_for(
    household: Household,
    person: Person | None,
    today: date,
    parked: dict[int, Parking] | None = None,
) -> Subject:
    """The person as matching sees them; `parked`, when the caller has already read it, saves
    reading the person's declines again."""
    if parked is None:
        parked = parked_services(person.id if person else None, today)
    languages = frozenset(person.languages or ()) if person else frozenset()
    return Subject(
        age=person.age(today) if person else None,
        languages=languages,
        circoscrizione=household.circoscrizione,
        neet=bool(person and person.employment_status == "neet"),
        parked=frozenset(parked),
    )


def open_referral_for(
    person_id: int | None, household_id: int, need: str, exclude_id: int | None = None
) -> Referral | None:
    """An open referral for the same need that a new one would duplicate.

    A referral of the whole household (no person) overlaps with every member's, both ways.
    """
    query = select(Referral).where(
        Referral.household_id == household_id,
        Referral.need == need,
        Referral.status.in_(OPEN_STATUSES),
    )
    if person_id is not None:
        query = query.where(or_(Referral.person_id == person_id, Referral.person_id.is_(None)))
    if exclude_id is not None:
        query = query.where(Referral.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()
