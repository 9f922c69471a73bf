"""Referrals at city scale: each walks the workflow's transition table step by step, with its
history rows, audit events and (when recent) notifications."""

from __future__ import annotations

import bisect
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from app.referrals.matching import Subject, score
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
from app.scale import texts
from app.scale.context import (
    ENTE1,
    ENTE2,
    NOTIFY_DAYS,
    Context,
    HouseholdRecord,
    ServiceRecord,
    accumulate,
    age_on,
)
from app.scale.writer import Buffer

TO_ENTE2_SHARE = 0.015  # referrals addressed to ente2's organization
TO_ENTE1_SHARE = 0.01
JOB_SCOPES = ("job_services", "all_partners")


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


class ReferralsStage(Context):
    """Referrals from the households to the services."""

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
        cumulative = list(accumulate(weights))
        offers_by_need: dict[str, list[ServiceRecord]] = {}
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
                m for m in household.members if 16 <= age_on(m.birth_date, created_day) <= 64
            ]
            if not candidates:
                continue
            youth = [m for m in candidates if age_on(m.birth_date, created_day) <= 29]
            person = rng.choice(youth if youth and rng.random() < 0.6 else candidates)
            need = self.weighted(NEED_WEIGHTS)
            if need == "italian_language" and "it" in person.languages and rng.random() < 0.8:
                need = "job_search"
            age = age_on(person.birth_date, created_day)
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
        household: HouseholdRecord,
        person_id: int,
        svc: ServiceRecord,
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
