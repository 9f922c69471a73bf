"""Individualised projects at city scale: goals, meetings and budget lines that keep
paid <= committed <= approved."""

from __future__ import annotations

import bisect
from datetime import timedelta
from decimal import Decimal

from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.scale import texts
from app.scale.context import ENTE1, ENTE2, NOTIFY_DAYS, Context, accumulate, age_on
from app.scale.writer import Buffer

PROJECT_WEIGHTS = {"draft": 8, "submitted": 6, "approved": 6, "active": 45, "closed": 35}


class ProjectsStage(Context):
    """Projects with their goals, meetings and life budget."""

    # Projects -------------------------------------------------------------------------------

    def projects(self) -> None:
        rng = self.rng
        pool = [h for h in self.households if h.closed_on is None]
        weights = [1.5 if h.org.index in (ENTE1, ENTE2) else 1.0 for h in pool]
        cumulative = list(accumulate(weights))
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
            adults = [m for m in household.members if age_on(m.birth_date, self.today) >= 16]
            youth = [m for m in adults if age_on(m.birth_date, self.today) <= 29]
            person = rng.choice(
                youth if youth and rng.random() < 0.6 else adults or household.members
            )
            is_youth = 18 <= age_on(person.birth_date, self.today) <= 29
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
