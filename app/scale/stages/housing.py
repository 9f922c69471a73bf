"""Housing at city scale: the units and their vacancies, the placements (walks of the
workflow's steps) with their well-being checks, and the eviction risk cases."""

from __future__ import annotations

import bisect
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from app.households import demo as households_demo
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
from app.scale import texts
from app.scale.context import (
    ALLOGGI1,
    ENTE1,
    HOUSING_NEED,
    NOTIFY_DAYS,
    Context,
    HouseholdRecord,
    accumulate,
)
from app.scale.writer import Buffer, insert_all

ALLOGGI1_UNIT_SHARE = 0.04
HOUSING_SCOPES = ("housing", "all_partners")
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


class HousingStage(Context):
    """Housing units, placements and risk cases."""

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
        cumulative = list(accumulate(weights))
        holding_households: set[int] = set()
        declined_pairs: set[tuple[int, int]] = set()
        planned: list[tuple[int, HouseholdRecord, dict[str, Any], str]] = []
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
        household: HouseholdRecord,
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
