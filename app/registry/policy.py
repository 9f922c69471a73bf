"""Who sees and changes what in the registry: asked here, never re-derived in a view.

The registry is shared and holds no personal data: every logged-in user reads it (admins too,
who need it to attach accounts to organizations). Operators and housing providers change only
their own organization; coordinators change any and alone verify accreditations.
"""

from __future__ import annotations

from datetime import date

from flask import abort
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.models import Role, User
from app.extensions import db
from app.registry.models import Accreditation, Organization, Service, Site

EDITORS = (Role.COORDINATOR, Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER)
READERS = (*EDITORS, Role.ADMIN)


def visible_organizations(user: User) -> Select[tuple[Organization]]:
    query = select(Organization)
    if not user.has_role(*READERS):
        return query.where(False)  # type: ignore[arg-type]
    if user.has_role(Role.COORDINATOR, Role.ADMIN):
        return query
    return query.where(or_(Organization.active.is_(True), Organization.id == user.organization_id))


def can_edit_organization(user: User, org: Organization) -> bool:
    return user.has_role(Role.COORDINATOR) or (
        user.has_role(Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER)
        and user.organization_id == org.id
    )


def can_manage_organizations(user: User) -> bool:
    """Register new organizations and change their kinds: the City's job."""
    return user.has_role(Role.COORDINATOR)


def can_verify_accreditation(user: User) -> bool:
    return user.has_role(Role.COORDINATOR)


def visible_organization_or_404(user: User, org_id: int) -> Organization:
    org = db.session.scalar(visible_organizations(user).where(Organization.id == org_id))
    if org is None:
        abort(404)
    return org


def editable_organization_or_404(user: User, org_id: int) -> Organization:
    """Another organization's edit URL answers 404: it is not there for this user."""
    org = visible_organization_or_404(user, org_id)
    if not can_edit_organization(user, org):
        abort(404)
    return org


def editable_service_or_404(user: User, org_id: int, service_id: int) -> Service:
    org = editable_organization_or_404(user, org_id)
    service = db.session.get(Service, service_id)
    if service is None or service.organization_id != org.id:
        abort(404)
    return service


def editable_site_or_404(user: User, org_id: int, site_id: int) -> Site:
    org = editable_organization_or_404(user, org_id)
    site = db.session.get(Site, site_id)
    if site is None or site.organization_id != org.id:
        abort(404)
    return site


def accreditation_in_force(today: date) -> ColumnElement[bool]:
    """SQL for "actively accredited as of today": the read-time twin of the nightly command."""
    return and_(
        Accreditation.status == "active",
        or_(Accreditation.expires_on.is_(None), Accreditation.expires_on >= today),
    )


def referral_target_organizations(today: date) -> Select[tuple[Organization]]:
    """Organizations that may receive referrals: active, job services, accreditation in force."""
    return (
        select(Organization)
        .join(Accreditation, Accreditation.organization_id == Organization.id)
        .where(Organization.active.is_(True), Organization.is_job_service.is_(True))
        .where(accreditation_in_force(today))
    )
