"""The registry at city scale: organizations and their accreditations, the user accounts, sites,
hubs and services."""

from __future__ import annotations

import bisect
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.demo_data.accounts import DEMO_USERS
from app.demo_data.registry import ORGANIZATIONS as DEMO_ORGANIZATIONS
from app.households import demo as households_demo
from app.referrals.matching import Offer
from app.registry.demo import tax_code as demo_tax_code
from app.registry.models import NEIGHBOURS, Accreditation, Organization, Service, Site, service_site
from app.scale import texts
from app.scale.context import (
    ALLOGGI1,
    ENTE1,
    ENTE2,
    Context,
    OrgRecord,
    ServiceRecord,
    accumulate,
    ascii_letters,
)
from app.scale.writer import insert_all

DEMO_SERVICES = 10  # services of ente1's and ente2's organizations each
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")
OTHER_LANGUAGES = ("en", "fr", "ar", "ro", "es", "zh", "sq", "uk", "wo")


class RegistryStage(Context):
    """Organizations, accounts, sites and services."""

    # Organizations ---------------------------------------------------------------------------

    def organizations(self) -> None:
        rng = self.rng
        count = self.n["organizations"]
        names: set[str] = set()
        tax_codes: set[str] = set()
        org_rows: list[dict[str, Any]] = []
        accreditations: list[dict[str, Any]] = []
        self.accreditation_rows = accreditations
        for index in range(count):
            org_id = index + 1
            created = self.moment(self.day_ago(400, 2500))
            if index < 3:
                spec = DEMO_ORGANIZATIONS[index]
                name, legal_form, circ = spec.name, spec.legal_form, spec.circoscrizione
                tax = demo_tax_code(spec.tax_base)
                is_job, is_hub, is_housing = (
                    spec.is_job_service,
                    spec.is_hub,
                    spec.is_housing_provider,
                )
                row_extra = {
                    "runts_section": spec.runts_section,
                    "runts_number": spec.runts_number,
                    "address": spec.address,
                    "postal_code": spec.postal_code,
                    "phone": spec.phone,
                    "email": f"info@{spec.domain}.example.it",
                    "website": f"https://www.{spec.domain}.example.it",
                    "description": spec.description,
                }
                active = True
            else:
                legal_form = self.weighted(texts.LEGAL_FORM_WEIGHTS)
                circ = rng.randint(1, 8)
                quartiere = rng.choice(texts.QUARTIERI[circ])
                prefix = rng.choice(texts.ORG_PREFIXES[legal_form])
                name = f"{prefix} {rng.choice(texts.ORG_NOUNS)} {quartiere}"
                serial = 2
                while name in names:
                    name = f"{prefix} {rng.choice(texts.ORG_NOUNS)} {quartiere} {serial}"
                    serial += 1
                base = f"{2_000_000 + index:07d}001"
                tax = demo_tax_code(base)
                roll = rng.random()
                is_housing = roll < 0.12
                is_hub = 0.10 <= roll < 0.32
                is_job = roll >= 0.25 and roll < 0.88
                if not (is_housing or is_hub or is_job):
                    is_job = rng.random() < 0.5
                domain = ascii_letters(name)[:40] or f"ente{org_id}"
                row_extra = {
                    "runts_section": texts.RUNTS_SECTION[legal_form],
                    "runts_number": str(10_000 + index * 7),
                    "address": households_demo._address(rng, circ, "rented"),
                    "postal_code": rng.choice(texts.POSTAL_CODES[circ]),
                    "phone": f"011 {rng.randint(2_000_000, 8_999_999)}",
                    "email": f"info@{domain}.example.it",
                    "website": f"https://www.{domain}.example.it",
                    "description": None,
                }
                active = rng.random() < 0.97
            if name in names or tax in tax_codes:
                raise RuntimeError(f"Nome o codice fiscale ripetuto: {name}, {tax}")
            names.add(name)
            tax_codes.add(tax)
            org = OrgRecord(index, org_id, name, circ, is_job, is_hub, is_housing, active)
            self.orgs.append(org)
            org_rows.append(
                {
                    "id": org_id,
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "name": name,
                    "legal_form": legal_form,
                    "tax_code": tax,
                    "circoscrizione": circ,
                    "is_job_service": is_job,
                    "is_hub": is_hub,
                    "is_housing_provider": is_housing,
                    "active": active,
                    "created_at": created,
                    "updated_at": created,
                    **row_extra,
                }
            )
            if is_job:
                accreditations.append(self._accreditation(org, created))
        self.counts["enti"] = insert_all(self.conn, Organization.__table__, org_rows)

    def _accreditation(self, org: OrgRecord, created: datetime) -> dict[str, Any]:
        rng = self.rng
        status, reason = "active", None
        if org.index < 3:
            spec = DEMO_ORGANIZATIONS[org.index].accreditation
            if spec is None:
                raise RuntimeError("the demo job services have an accreditation")
            granted = self.today - timedelta(days=spec.granted_days_ago)
            expires = self.today + timedelta(days=spec.expires_in_days)
            functions = set(spec.functions)
        else:
            roll = rng.random()
            granted = self.day_ago(200, 1500)
            functions = {"information", "orientation"} | set(
                rng.sample(["counselling", "secretariat"], rng.randint(0, 2))
            )
            if roll < 0.78:
                expires = self.today + timedelta(days=rng.randint(61, 1000))
            elif roll < 0.84:
                expires = self.today + timedelta(days=rng.randint(1, 60))  # expiring soon
            elif roll < 0.90:
                expires = self.today - timedelta(days=rng.randint(1, 300))
                status, reason = "expired", None
            elif roll < 0.94:
                expires = self.today + timedelta(days=rng.randint(30, 700))
                status, reason = "suspended", "Verifica dei requisiti in corso presso la Regione."
            else:
                expires = self.today + timedelta(days=rng.randint(300, 1000))
                status = "pending"
            expires = max(expires, granted + timedelta(days=30))
            if status == "expired" and expires >= self.today:
                granted = self.today - timedelta(days=400)
                expires = self.today - timedelta(days=5)
        org.accredited = org.active and status == "active" and expires >= self.today
        verified = status != "pending"
        return {
            "id": len(self.accreditation_rows) + 1,
            "organization_id": org.id,
            "regional_number": f"ACC-LAV-{granted.year}-{org.id:04d}",
            "granted_on": granted,
            "expires_on": expires,
            "fn_information": "information" in functions,
            "fn_counselling": "counselling" in functions,
            "fn_orientation": "orientation" in functions,
            "fn_secretariat": "secretariat" in functions,
            "status": status,
            "status_reason": reason,
            "verified_by_id": None,  # set once the admin account exists
            "verified_at": self.moment(granted + timedelta(days=rng.randint(1, 30)))
            if verified
            else None,
            "created_at": created,
            "updated_at": created,
        }

    # Users ----------------------------------------------------------------------------------

    def users(self) -> None:
        rng = self.rng
        password_hash = hash_password(current_app.config["DEMO_PASSWORD"])
        rows: list[dict[str, Any]] = []
        created = self.moment(self.day_ago(300, 400))

        def add(username: str, full_name: str, role: Role, org: OrgRecord | None) -> int:
            user_id = len(rows) + 1
            last_login = self.moment(self.day_ago(0, 20))
            rows.append(
                {
                    "id": user_id,
                    "username": username,
                    "full_name": full_name,
                    "email": f"{username}@scala.reti-inclusione.torino.it",
                    "role": role.value,
                    "organization_id": org.id if org is not None else None,
                    "active": True,
                    "password_hash": password_hash,
                    "must_change_password": False,
                    "session_token": secrets.token_urlsafe(32),
                    "last_login_at": last_login,
                    "totp_secret": None,
                    "email_notifications": "immediate",
                    "totp_last_step": None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            self.user_ip[user_id] = (
                f"10.{user_id // 65536 % 256}.{user_id // 256 % 256}.{user_id % 256}"
            )
            self.user_org[user_id] = org.id if org is not None else None
            self.all_users.append(user_id)
            if role == Role.ENTITY_OPERATOR and org is not None:
                org.operators.append(user_id)
            elif role == Role.HOUSING_PROVIDER and org is not None:
                org.providers.append(user_id)
            elif role == Role.COORDINATOR:
                self.coordinators.append(user_id)
            return user_id

        for username, full_name, role, org_index in DEMO_USERS:
            user_id = add(
                username, full_name, role, self.orgs[org_index] if org_index is not None else None
            )
            if role == Role.ADMIN:
                self.admin_id = user_id
        usernames = {row["username"] for row in rows}

        def person_name() -> tuple[str, str]:
            sex = rng.choice((0, 1))
            first = rng.choice((households_demo.IT_MALE, households_demo.IT_FEMALE)[sex][1])
            last = rng.choice(households_demo.ITALIAN.surnames)
            return first, last

        def username_for(first: str, last: str) -> str:
            base = f"{ascii_letters(first)}.{ascii_letters(last)}"
            name, n = base, 2
            while name in usernames:
                name, n = f"{base}{n}", n + 1
            usernames.add(name)
            return name

        for _ in range(max(0, round(4 * self.scale))):
            first, last = person_name()
            add(username_for(first, last), f"{first} {last}", Role.COORDINATOR, None)
        for org in self.orgs:
            if not org.active:
                continue
            extra = {ENTE1: 4, ENTE2: 2, ALLOGGI1: 1}.get(org.index, 0)
            if org.is_job_service or org.is_hub:
                for _ in range(rng.randint(1, 3) + extra):
                    first, last = person_name()
                    add(username_for(first, last), f"{first} {last}", Role.ENTITY_OPERATOR, org)
            if org.is_housing_provider:
                for _ in range(rng.randint(1, 2) + extra):
                    first, last = person_name()
                    add(username_for(first, last), f"{first} {last}", Role.HOUSING_PROVIDER, org)
        self.counts["utenti"] = insert_all(self.conn, User.__table__, rows)
        for row in self.accreditation_rows:
            if row["verified_at"] is not None:
                row["verified_by_id"] = self.admin_id
        self.counts["accreditamenti"] = insert_all(
            self.conn, Accreditation.__table__, self.accreditation_rows
        )
        for row in self.accreditation_rows:
            self.audit_event(
                "accreditation_created",
                "accreditation",
                row["id"],
                {"status": row["status"], "regional_number": row["regional_number"]},
                self.admin_id,
                row["created_at"],
            )
        self.stage(
            "Enti e account",
            f"enti {self.counts['enti']}, accreditamenti {self.counts['accreditamenti']}, "
            f"utenti {self.counts['utenti']}",
        )

    # Sites and services ---------------------------------------------------------------------

    def sites_and_services(self) -> None:
        rng = self.rng
        site_rows: list[dict[str, Any]] = []

        def add_site(org: OrgRecord, spec: Any | None, hub: bool, circ: int) -> int:
            site_id = len(site_rows) + 1
            quartiere = rng.choice(texts.QUARTIERI[circ])
            if spec is not None:
                name, address, postal = spec.name, spec.address, spec.postal_code
                hours, phone = spec.opening_hours, spec.phone
                days = list(spec.distribution_days)
                served = spec.households_served
                hub, circ = spec.is_hub, spec.circoscrizione
            else:
                name = (
                    f"Snodo Torino Solidale {quartiere}"
                    if hub
                    else f"Sede di {quartiere}"
                    if not org.sites
                    else f"Sportello di {quartiere}"
                )
                address = households_demo._address(rng, circ, "rented")
                postal = rng.choice(texts.POSTAL_CODES[circ])
                hours = rng.choice(texts.OPENING_HOURS)
                phone = f"011 {rng.randint(2_000_000, 8_999_999)}"
                days = sorted(rng.sample(WEEKDAYS, rng.randint(1, 2)), key=WEEKDAYS.index)
                days = days if hub else []
                served = rng.randint(30, 220) if hub else None
            created = self.moment(self.day_ago(300, 2000))
            site_rows.append(
                {
                    "id": site_id,
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "organization_id": org.id,
                    "name": name,
                    "address": address,
                    "postal_code": postal,
                    "circoscrizione": circ,
                    "opening_hours": hours,
                    "phone": phone,
                    "is_hub": hub,
                    "distribution_days": days,
                    "households_served": served,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            org.sites.append(site_id)
            org.site_circs.add(circ)
            self.site_names[site_id] = name
            self.site_circ[site_id] = circ
            if hub and org.active:
                weekdays = frozenset(WEEKDAYS.index(d) for d in days) or frozenset(range(6))
                org.hub_sites.append((site_id, name, weekdays))
            return site_id

        for org in self.orgs:
            if org.index < 3:
                for spec in DEMO_ORGANIZATIONS[org.index].sites:
                    add_site(org, spec, spec.is_hub, spec.circoscrizione)
                continue
            add_site(org, None, False, org.circoscrizione)
            if org.is_hub:
                add_site(org, None, True, org.circoscrizione)
            if rng.random() < 0.2:
                add_site(org, None, False, rng.choice(sorted(NEIGHBOURS[org.circoscrizione])))
        self.counts["sedi"] = insert_all(self.conn, Site.__table__, site_rows)

        # Services: the demo organizations' own first, then spread over the job services.
        service_rows: list[dict[str, Any]] = []
        links: list[dict[str, int]] = []

        def add_service(org: OrgRecord, spec: Any | None, service_type: str) -> None:
            service_id = len(service_rows) + 1
            demo_org = org.index in (ENTE1, ENTE2)
            if spec is not None:
                name, description = spec.name, spec.description
                languages = list(spec.languages)
                age_min, age_max = spec.age_min, spec.age_max
                youth, neet = spec.youth_focus, spec.neet_focus
                capacity = max(spec.monthly_capacity, 40)
                active, verified_ago = spec.active, spec.verified_days_ago
                site_ids = [org.sites[i] for i in spec.sites]
            else:
                name = rng.choice(texts.SERVICE_NAMES[service_type])
                description = texts.SERVICE_DESCRIPTION
                languages = ["it", *rng.sample(OTHER_LANGUAGES, rng.choice((0, 1, 1, 2, 3)))]
                youth = service_type in ("job_placement", "traineeship", "training") and (
                    rng.random() < 0.3
                )
                if youth:
                    age_min, age_max, neet = rng.choice((16, 18)), 29, rng.random() < 0.5
                else:
                    age_min = rng.choices((18, 16, None), weights=(70, 20, 10))[0]
                    age_max = 64 if rng.random() < 0.15 else None
                    neet = False
                capacity = rng.randint(40, 80) if demo_org else rng.randint(5, 40)
                active = rng.random() < 0.95 or demo_org
                verified_ago = rng.randint(0, 170) if rng.random() < 0.8 else rng.randint(184, 500)
                site_ids = [org.sites[0]]
                if len(org.sites) > 1 and rng.random() < 0.3:
                    site_ids.append(org.sites[1])
            created = self.moment(self.day_ago(verified_ago, verified_ago + 400))
            service_rows.append(
                {
                    "id": service_id,
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "organization_id": org.id,
                    "name": name,
                    "service_type": service_type,
                    "description": description,
                    "languages": languages,
                    "age_min": age_min,
                    "age_max": age_max,
                    "youth_focus": youth,
                    "neet_focus": neet,
                    "monthly_capacity": capacity,
                    "active": active,
                    "last_verified": self.today - timedelta(days=verified_ago),
                    "created_at": created,
                    "updated_at": created,
                }
            )
            links.extend({"service_id": service_id, "site_id": s} for s in site_ids)
            svc = ServiceRecord(service_id, org, service_type, age_min, age_max, capacity, active)
            if active and org.accredited:
                svc.offer = Offer(
                    service_id=service_id,
                    organization_id=org.id,
                    service_type=service_type,
                    circoscrizioni=frozenset(site_rows[s - 1]["circoscrizione"] for s in site_ids),
                    languages=frozenset(languages),
                    age_min=age_min,
                    age_max=age_max,
                    youth_focus=youth,
                    neet_focus=neet,
                    capacity=capacity,
                    used=0,
                )
            self.services.append(svc)
            org.services.append(service_id)

        for index in (ENTE1, ENTE2):
            org = self.orgs[index]
            for spec in DEMO_ORGANIZATIONS[index].services:
                add_service(org, spec, spec.service_type)
            while len(org.services) < DEMO_SERVICES:
                add_service(org, None, self.weighted(texts.SERVICE_TYPE_WEIGHTS))
        owners = [o for o in self.orgs[3:] if o.is_job_service]
        for org in owners:  # every job service offers something
            if len(service_rows) < self.n["services"]:
                add_service(org, None, self.weighted(texts.SERVICE_TYPE_WEIGHTS))
        hubs_only = [o for o in self.orgs[3:] if o.is_hub and not o.is_job_service]
        weights = [9.0 * rng.uniform(0.5, 1.5) for _ in owners] + [1.0 for _ in hubs_only]
        pool = owners + hubs_only
        cumulative = list(accumulate(weights))
        while len(service_rows) < self.n["services"] and pool:
            org = pool[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            if org.is_job_service:
                add_service(org, None, self.weighted(texts.SERVICE_TYPE_WEIGHTS))
            else:
                add_service(org, None, rng.choice(("information", "secretariat")))
        self.counts["servizi"] = insert_all(self.conn, Service.__table__, service_rows)
        insert_all(self.conn, service_site, links)
        for row in service_rows:
            self.audit_event(
                "service_created",
                "service",
                row["id"],
                {"name": row["name"], "organization_id": row["organization_id"]},
                None,
                row["created_at"],
                actor_org=row["organization_id"],
            )
        self.stage(
            "Sedi e servizi", f"sedi {self.counts['sedi']}, servizi {self.counts['servizi']}"
        )
