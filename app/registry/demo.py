"""Demo data of the registry: invented third-sector entities of Turin, with their accreditation,
services, sites and Torino Solidale hubs.

`seed_registry(today)` adds 16 organizations covering all eight circoscrizioni and returns them in
a fixed order; the demo accounts rely on the first three:

- 0 `ente1`: Cooperativa Sociale Il Ponte (Barriera di Milano, circ. 6), hub and accredited job
  service, with one service not verified for more than six months;
- 1 `ente2`: Associazione Orizzonti di Lavoro (San Paolo, circ. 3), accredited job service;
- 2 `alloggi1`: Fondazione Casa Solidale Torino (Vanchiglia, circ. 7), housing provider.

Ten organizations are job services: seven with an active accreditation (exactly one of them expiring
within 60 days), one suspended, one pending verification and one expired. Seven are hubs, four are
housing providers; one former hub is inactive. Every date is relative to `today`; tax codes are
valid 11-digit codici fiscali built from fixed bases, so the data are the same on every run.
Names, addresses, phone numbers and codes are invented (e-mail and web domains end in .example.it).

The organizations themselves (names, addresses, sites, services) are in `app.demo_data.registry`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from stdnum import luhn
from stdnum.it import iva

from app.demo_data.registry import ORGANIZATIONS, OrgSpec
from app.extensions import db
from app.registry.models import Accreditation, Organization, Service, Site

ROME = ZoneInfo("Europe/Rome")


def tax_code(base: str) -> str:
    """The valid 11-digit codice fiscale whose first ten digits are `base` (the Italian check
    digit is the Luhn one, which `iva.validate` verifies)."""
    code = base + luhn.calc_check_digit(base)
    return iva.validate(code)


def _at(today: date, days_ago: int) -> datetime:
    """10:00 in Turin `days_ago` days before `today`, as an aware UTC datetime."""
    return datetime.combine(today - timedelta(days=days_ago), time(10, 0), ROME).astimezone(UTC)


def _build(spec: OrgSpec, today: date) -> Organization:
    org = Organization(
        name=spec.name,
        legal_form=spec.legal_form,
        tax_code=tax_code(spec.tax_base),
        runts_section=spec.runts_section,
        runts_number=spec.runts_number,
        address=spec.address,
        postal_code=spec.postal_code,
        circoscrizione=spec.circoscrizione,
        phone=spec.phone,
        email=f"info@{spec.domain}.example.it",
        website=f"https://www.{spec.domain}.example.it",
        description=spec.description,
        is_job_service=spec.is_job_service,
        is_hub=spec.is_hub,
        is_housing_provider=spec.is_housing_provider,
        active=spec.active,
    )
    sites = [
        Site(
            organization=org,
            name=s.name,
            address=s.address,
            postal_code=s.postal_code,
            circoscrizione=s.circoscrizione,
            opening_hours=s.opening_hours,
            phone=s.phone,
            is_hub=s.is_hub,
            distribution_days=list(s.distribution_days),
            households_served=s.households_served,
        )
        for s in spec.sites
    ]
    for s in spec.services:
        Service(
            organization=org,
            name=s.name,
            service_type=s.service_type,
            description=s.description,
            languages=list(s.languages),
            age_min=s.age_min,
            age_max=s.age_max,
            youth_focus=s.youth_focus,
            neet_focus=s.neet_focus,
            monthly_capacity=s.monthly_capacity,
            active=s.active,
            last_verified=today - timedelta(days=s.verified_days_ago),
            sites=[sites[i] for i in s.sites],
        )
    if spec.accreditation is not None:
        a = spec.accreditation
        granted_on = today - timedelta(days=a.granted_days_ago)
        org.accreditation = Accreditation(
            regional_number=f"ACC-LAV-{granted_on.year}-{a.sequence:04d}",
            granted_on=granted_on,
            expires_on=today + timedelta(days=a.expires_in_days),
            fn_information="information" in a.functions,
            fn_counselling="counselling" in a.functions,
            fn_orientation="orientation" in a.functions,
            fn_secretariat="secretariat" in a.functions,
            status=a.status,
            status_reason=a.status_reason,
            verified_at=None if a.verified_days_ago is None else _at(today, a.verified_days_ago),
        )
    return org


def seed_registry(today: date) -> list[Organization]:
    """Add the demo organizations with their accreditation, sites and services (flushed, not
    committed) and return them in the order of `ORGANIZATIONS`: index 0 is `ente1`'s, 1 is
    `ente2`'s, 2 is `alloggi1`'s."""
    organizations = [_build(spec, today) for spec in ORGANIZATIONS]
    db.session.add_all(organizations)
    db.session.flush()
    return organizations
