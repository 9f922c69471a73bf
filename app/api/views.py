"""HSDS 3.0 read API: GET only, for any logged-in user; only active organizations appear.

Errors answer JSON {"error": "..."} in the user's language (Italian by default); the data is
always in Italian. Lists are sorted by name then id, so pages are stable.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from app.api import bp, hsds
from app.clock import ROME, today
from app.extensions import db
from app.i18n import gettext as _
from app.registry.models import Accreditation, Organization, Service, Site, service_site

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_SEARCH_LENGTH = 200
DIGITS = re.compile(r"[0-9]{1,9}")


class InvalidParameter(Exception):
    """A query parameter the API cannot use: answered 400 with `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.before_request
def require_login() -> Response | None:
    """No redirect to the login page: a program gets 401 and a message it can show."""
    if not current_user.is_authenticated:
        return error(401, _("Accesso richiesto: accedi al portale per usare l'API."))
    return None


@bp.errorhandler(InvalidParameter)
def invalid_parameter(exc: InvalidParameter) -> Response:
    return error(400, exc.message)


# Query parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListParameters:
    search: str
    page: int
    per_page: int
    modified_after: datetime | None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _positive_int(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = int(raw.strip()) if DIGITS.fullmatch(raw.strip()) else 0
    if not 1 <= value <= maximum:
        raise InvalidParameter(
            _(
                "Il parametro %(name)s deve essere un numero intero da 1 a %(max)d.",
                name=name,
                max=maximum,
            )
        )
    return value


def _moment(name: str) -> datetime | None:
    """An ISO 8601 date or date-time; without a time zone it is Turin's local time."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            value = value.replace(tzinfo=ROME)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidParameter(
            _(
                "Il parametro %(name)s non è una data valida: usa il formato ISO 8601, "
                "per esempio 2024-05-31 oppure 2024-05-31T08:30:00Z.",
                name=name,
            )
        ) from None


def _uuid(name: str) -> str | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise InvalidParameter(
            _("Il parametro %(name)s non è un identificativo valido (uuid).", name=name)
        ) from None


def list_parameters() -> ListParameters:
    search = (request.args.get("search") or "").strip()
    if len(search) > MAX_SEARCH_LENGTH:
        raise InvalidParameter(
            _(
                "Il parametro search è troppo lungo (al massimo %(max)d caratteri).",
                max=MAX_SEARCH_LENGTH,
            )
        )
    return ListParameters(
        search=search,
        page=_positive_int("page", 1, 1_000_000),
        per_page=_positive_int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
        modified_after=_moment("modified_after"),
    )


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _canonical_id(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


# Queries ---------------------------------------------------------------------------------------


def _accreditation_changed(since: datetime) -> ColumnElement[bool]:
    return exists().where(
        Accreditation.organization_id == Organization.id, Accreditation.updated_at >= since
    )


def service_conditions(params: ListParameters, organization_id: str | None) -> list[Any]:
    """What a service must satisfy to be listed: its organization is active, and the filters."""
    conditions: list[Any] = [Organization.active.is_(True)]
    if params.search:
        conditions.append(
            or_(
                _contains(Service.name, params.search),
                _contains(Service.description, params.search),
            )
        )
    if organization_id:
        conditions.append(Organization.uuid == organization_id)
    if params.modified_after:
        since = params.modified_after
        site_changed = (
            exists()
            .where(service_site.c.service_id == Service.id)
            .where(Site.id == service_site.c.site_id, Site.updated_at >= since)
        )
        conditions.append(
            or_(
                Service.updated_at >= since,
                Organization.updated_at >= since,
                _accreditation_changed(since),
                site_changed,
            )
        )
    return conditions


def organization_conditions(params: ListParameters) -> list[Any]:
    conditions: list[Any] = [Organization.active.is_(True)]
    if params.search:
        conditions.append(
            or_(
                _contains(Organization.name, params.search),
                _contains(Organization.description, params.search),
            )
        )
    if params.modified_after:
        since = params.modified_after
        conditions.append(
            or_(
                Organization.updated_at >= since,
                _accreditation_changed(since),
                exists().where(
                    Service.organization_id == Organization.id, Service.updated_at >= since
                ),
                exists().where(Site.organization_id == Organization.id, Site.updated_at >= since),
            )
        )
    return conditions


def _services_with_details() -> Select[tuple[Service]]:
    return (
        select(Service)
        .join(Organization, Organization.id == Service.organization_id)
        .options(selectinload(Service.organization), selectinload(Service.sites))
    )


# Routes ----------------------------------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    return jsonify(
        {
            "version": hsds.HSDS_VERSION,
            "services": url_for("api.services", _external=True),
            "organizations": url_for("api.organizations", _external=True),
        }
    )


@bp.get("/services")
def services() -> Response:
    params = list_parameters()
    conditions = service_conditions(params, _uuid("organization_id"))
    total = db.session.scalar(
        select(func.count(Service.id))
        .join(Organization, Organization.id == Service.organization_id)
        .where(*conditions)
    )
    rows = db.session.scalars(
        _services_with_details()
        .where(*conditions)
        .order_by(Service.name, Service.id)
        .limit(params.per_page)
        .offset(params.offset)
    ).all()
    with force_locale("it"):
        contents = [hsds.service_list_item(service) for service in rows]
    return jsonify(hsds.page(contents, total or 0, params.page, params.per_page))


@bp.get("/services/<service_id>")
def service(service_id: str) -> Response:
    canonical = _canonical_id(service_id)
    found = None
    if canonical is not None:
        found = db.session.scalar(
            _services_with_details().where(Service.uuid == canonical, Organization.active.is_(True))
        )
    if found is None:
        return error(404, _("Servizio non trovato."))
    with force_locale("it"):
        return jsonify(hsds.service_detail(found, today()))


@bp.get("/organizations")
def organizations() -> Response:
    params = list_parameters()
    conditions = organization_conditions(params)
    total = db.session.scalar(select(func.count(Organization.id)).where(*conditions))
    rows = db.session.scalars(
        select(Organization)
        .where(*conditions)
        .order_by(Organization.name, Organization.id)
        .limit(params.per_page)
        .offset(params.offset)
    ).all()
    with force_locale("it"):
        contents = [hsds.organization_summary(org) for org in rows]
    return jsonify(hsds.page(contents, total or 0, params.page, params.per_page))


@bp.get("/organizations/<organization_id>")
def organization(organization_id: str) -> Response:
    canonical = _canonical_id(organization_id)
    found = None
    if canonical is not None:
        found = db.session.scalar(
            select(Organization).where(
                Organization.uuid == canonical, Organization.active.is_(True)
            )
        )
    if found is None:
        return error(404, _("Ente non trovato."))
    org_services = db.session.scalars(
        select(Service)
        .where(Service.organization_id == found.id)
        .options(selectinload(Service.sites))
        .order_by(Service.name, Service.id)
    ).all()
    sites = db.session.scalars(
        select(Site).where(Site.organization_id == found.id).order_by(Site.name, Site.id)
    ).all()
    with force_locale("it"):
        return jsonify(hsds.organization_detail(found, org_services, sites, today()))
