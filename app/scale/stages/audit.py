"""The rest of the audit log at city scale: logins, views and small edits that fill it up to
the target, then the event that says the load was test data."""

from __future__ import annotations

import bisect
from datetime import timedelta
from typing import Any

from app.scale.context import Context, accumulate

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


class AuditStage(Context):
    """The filler audit events, and the flush of the audit and notification buffers."""

    # The rest of the audit log ----------------------------------------------------------------

    def filler_audit(self) -> None:
        """Logins, consultations and small edits, up to the audit events of the scale."""
        rng = self.rng
        self.audit.flush()
        missing = self.n["audit_events"] - self.audit.count - 1
        actions = list(FILLER_ACTIONS)
        cumulative = list(accumulate(FILLER_ACTIONS[a] for a in actions))
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
