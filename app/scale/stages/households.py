"""Households at city scale: the households with their people and consents, and the
distributions of the hubs."""

from __future__ import annotations

import bisect
from datetime import date, timedelta
from typing import Any

from app.distributions.models import Distribution
from app.households import demo as households_demo
from app.households.consents import LEDGER_NOTE
from app.households.models import Consent, Household, Person
from app.registry.models import NEIGHBOURS
from app.scale.context import (
    ENTE1,
    ENTE2,
    HOUSING_NEED,
    Context,
    HouseholdRecord,
    MemberRecord,
    OrgRecord,
    PersonView,
    accumulate,
)
from app.scale.writer import Buffer

# How many more households the demo organizations own than an average one.
ENTE1_HOUSEHOLD_WEIGHT = 20.0
ENTE2_HOUSEHOLD_WEIGHT = 12.0


# The consents of the ledger each authorisation scope becomes (as in migration 0023).
SCOPE_PURPOSES = {
    "job_services": ("job_services",),
    "housing": ("housing",),
    "all_partners": ("job_services", "housing", "project"),
}


class HouseholdsStage(Context):
    """Households, people, their consents, and the distributions."""

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
        cumulative = list(accumulate(weights))
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
            members: list[MemberRecord] = []
            views: list[PersonView] = []
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
                members.append(MemberRecord(person_id, birth, employment, frozenset(languages)))
                views.append(PersonView(employment, languages))
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
                HouseholdRecord(
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
        hubs_by_circ: dict[int, list[tuple[OrgRecord, tuple[int, str, frozenset[int]]]]] = {}
        for org in self.orgs:
            for hub in org.hub_sites:
                circ = self.site_circ[hub[0]]
                hubs_by_circ.setdefault(circ, []).append((org, hub))
        all_hubs = [h for hubs in hubs_by_circ.values() for h in hubs]
        if not all_hubs:
            return
        # Which households collect at which hub, and for how many months.
        served: list[tuple[HouseholdRecord, OrgRecord, tuple[int, str, frozenset[int]]]] = []
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
        household: HouseholdRecord,
        hub_org: OrgRecord,
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
