"""Registry state changes: mutate, audit in the same transaction, flush. Views commit."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from sqlalchemy import select

from app.audit.operations import diff, record
from app.auth.models import User
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.registry.models import Accreditation, Organization, Service, Site

ORGANIZATION_FIELDS = (
    "name", "legal_form", "tax_code", "runts_section", "runts_number", "address", "postal_code",
    "circoscrizione", "phone", "email", "website", "description",
)  # fmt: skip
KIND_FIELDS = ("is_job_service", "is_hub", "is_housing_provider")
# Who the entity is: changed by the entity, these wait for the City's check like accreditation data.
IDENTITY_FIELDS = ("name", "legal_form", "tax_code", "runts_section", "runts_number")
# Names and the tax code of the City itself, which no partner entity may take.
CITY_NAMES = ("citta di torino", "comune di torino")
CITY_TAX_CODE = "00514490010"
ACCREDITATION_FIELDS = (
    "regional_number", "granted_on", "expires_on",
    "fn_information", "fn_counselling", "fn_orientation", "fn_secretariat",
)  # fmt: skip
SERVICE_FIELDS = (
    "name", "service_type", "description", "languages", "age_min", "age_max", "youth_focus",
    "neet_focus", "monthly_capacity", "active",
)  # fmt: skip
SITE_FIELDS = (
    "name", "address", "postal_code", "circoscrizione", "opening_hours", "phone", "is_hub",
    "distribution_days", "households_served",
)  # fmt: skip

# The accreditation state machine: action -> (states it may start from, state it leads to).
ACCREDITATION_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "verify": (frozenset({"pending"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "reactivate": (frozenset({"suspended"}), "active"),
    "expire": (frozenset({"pending", "active", "suspended"}), "expired"),
}


def _apply(obj: object, values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    wanted = {k: values[k] for k in fields if k in values}
    changes = diff(obj, wanted)
    for field in changes:
        setattr(obj, field, wanted[field])
    return changes


def tax_code_holder(tax_code: str, exclude_id: int | None = None) -> Organization | None:
    query = select(Organization).where(Organization.tax_code == tax_code)
    if exclude_id is not None:
        query = query.where(Organization.id != exclude_id)
    return db.session.scalar(query)


def _plain(text: str) -> str:
    """Lower case, without accents, apostrophes or repeated spaces: "Città  di TORINO" ->
    "citta di torino" (also "Citta' di Torino")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = "".join(c if c.isalnum() else " " for c in letters)
    return " ".join(letters.split())


def impersonates_city(name: str) -> bool:
    """True if an entity's name would pass it off as the City ("Città di Torino - ...")."""
    plain = _plain(name)
    return any(city in plain for city in CITY_NAMES)


def create_organization(values: dict[str, Any]) -> Organization:
    org = Organization(**{k: values.get(k) for k in ORGANIZATION_FIELDS + KIND_FIELDS})
    org.active = True
    db.session.add(org)
    db.session.flush()
    record("organization_created", org, {k: values.get(k) for k in ("name", "tax_code")})
    return org


def update_organization(
    org: Organization,
    values: dict[str, Any],
    *,
    may_change_kinds: bool,
    verified_by_city: bool,
) -> dict[str, list[Any]]:
    """Change the profile. When the entity itself changes who it is (name, legal form, tax
    code, RUNTS), its accreditation goes back to `pending` and the coordinators are told, so
    the City checks the new identity before the entity receives referrals under it."""
    from app.notifications.operations import coordinators, notify

    fields = ORGANIZATION_FIELDS + (KIND_FIELDS if may_change_kinds else ())
    changes = _apply(org, values, fields)
    if changes:
        record("organization_updated", org, changes)
    if not verified_by_city and any(field in IDENTITY_FIELDS for field in changes):
        accreditation = org.accreditation
        if accreditation is not None and accreditation.status != "pending":
            old = accreditation.status
            accreditation.status = "pending"
            record("accreditation_updated", accreditation, {"status": [old, "pending"]})
        notify(coordinators(), "organization_identity_changed", org, {"name": org.name})
    db.session.flush()
    return changes


def save_accreditation(
    org: Organization, values: dict[str, Any], actor: User, *, verified_by_city: bool
) -> Accreditation:
    """Create or change the accreditation data. Data changed by the entity goes back to
    `pending` until a coordinator verifies it; a coordinator's own edit needs no check."""
    accreditation = org.accreditation
    if accreditation is None:
        accreditation = Accreditation(organization_id=org.id, status="pending")
        db.session.add(accreditation)
        changes = _apply(accreditation, values, ACCREDITATION_FIELDS)
        db.session.flush()
        record("accreditation_created", accreditation, changes)
    else:
        changes = _apply(accreditation, values, ACCREDITATION_FIELDS)
        if not changes:
            return accreditation
        if not verified_by_city and accreditation.status != "pending":
            changes["status"] = [accreditation.status, "pending"]
            accreditation.status = "pending"
        record("accreditation_updated", accreditation, changes)
    if verified_by_city and accreditation.status == "pending":
        transition_accreditation(accreditation, "verify", actor)
    db.session.flush()
    return accreditation


def transition_accreditation(
    accreditation: Accreditation, action: str, actor: User | None, reason: str | None = None
) -> None:
    allowed_from, target = ACCREDITATION_TRANSITIONS[action]
    if accreditation.status not in allowed_from:
        raise DomainError(
            _(
                "L'accreditamento è nello stato «%(state)s»: questa azione non è possibile.",
                state=accreditation.status,
            )
        )
    if action == "suspend" and not (reason or "").strip():
        raise DomainError(_("Per sospendere un accreditamento serve la motivazione."))
    old = accreditation.status
    accreditation.status = target
    accreditation.status_reason = (reason or "").strip() or None
    changes: dict[str, Any] = {"status": [old, target]}
    if reason:
        changes["reason"] = reason.strip()
    if action in ("verify", "reactivate"):
        accreditation.verified_by_id = actor.id if actor is not None else None
        accreditation.verified_at = utcnow()
    record(f"accreditation_{action}", accreditation, changes, actor=actor)
    db.session.flush()


def expire_accreditations(today: date) -> list[Accreditation]:
    """Write down the expiry of every accreditation past its date. Running it twice changes
    nothing the second time."""
    due = db.session.scalars(
        select(Accreditation).where(
            Accreditation.status.in_(("pending", "active", "suspended")),
            Accreditation.expires_on.is_not(None),
            Accreditation.expires_on < today,
        )
    ).all()
    for accreditation in due:
        old = accreditation.status
        accreditation.status = "expired"
        record(
            "accreditation_expired",
            accreditation,
            {"status": [old, "expired"], "expires_on": accreditation.expires_on.isoformat()},
            actor=None,
        )
    db.session.flush()
    return list(due)


def create_service(
    org: Organization, values: dict[str, Any], sites: list[Site], today: date
) -> Service:
    service = Service(organization_id=org.id, **{k: values.get(k) for k in SERVICE_FIELDS})
    service.last_verified = today
    service.sites = sites
    db.session.add(service)
    db.session.flush()
    record("service_created", service, {"name": service.name, "organization_id": org.id})
    return service


def update_service(
    service: Service, values: dict[str, Any], sites: list[Site], today: date
) -> dict[str, list[Any]]:
    changes = _apply(service, values, SERVICE_FIELDS)
    old_sites = sorted(site.id for site in service.sites)
    new_sites = sorted(site.id for site in sites)
    if old_sites != new_sites:
        service.sites = sites
        changes["sites"] = [old_sites, new_sites]
    # Saving the service is confirming it: it counts as verified today.
    if service.last_verified != today:
        changes["last_verified"] = [
            service.last_verified.isoformat() if service.last_verified else None,
            today.isoformat(),
        ]
        service.last_verified = today
    record("service_updated", service, changes)
    db.session.flush()
    return changes


def confirm_service(service: Service, today: date) -> None:
    """The owner confirms the service is still as described."""
    old = service.last_verified
    service.last_verified = today
    record(
        "service_confirmed",
        service,
        {"last_verified": [old.isoformat() if old else None, today.isoformat()]},
    )
    db.session.flush()


def create_site(org: Organization, values: dict[str, Any]) -> Site:
    site = Site(organization_id=org.id, **{k: values.get(k) for k in SITE_FIELDS})
    db.session.add(site)
    db.session.flush()
    record("site_created", site, {"name": site.name, "organization_id": org.id})
    return site


def update_site(site: Site, values: dict[str, Any]) -> dict[str, list[Any]]:
    changes = _apply(site, values, SITE_FIELDS)
    if changes:
        record("site_updated", site, changes)
    db.session.flush()
    return changes
