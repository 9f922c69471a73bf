"""HSDS 3.0 read API: GET only, for any logged-in user; only active organizations appear.

Errors answer JSON {"error": "..."} in the user's language (Italian by default); the data is
always in Italian. Lists are sorted by name then id, so pages are stable.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import Response, jsonify, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import selectinload

from app.api import bp, hsds
from app.clock import ROME, today
from app.db import fold, folded
from app.extensions import db
from app.i18n import gettext as _
from app.referrals.models import Referral
from app.referrals.queries import places_left
from app.registry.models import Accreditation, Organization, Service, Site, service_site
from app.workdays import month_start_utc

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
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return folded(column).like(f"%{escaped}%", escape="\\")


def _flag(name: str) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise InvalidParameter(_("Il parametro %(name)s vale true oppure false.", name=name))


def _wants_ndjson() -> bool:
    raw = (request.args.get("format") or "").strip().lower()
    if raw in ("", "json"):
        return False
    if raw == "ndjson":
        return True
    raise InvalidParameter(_("Il parametro format vale json oppure ndjson."))


def ndjson(items: list[Any]) -> Response:
    """`format=ndjson`: every result, one JSON object a line, without pages."""
    body = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    return Response(body, mimetype="application/x-ndjson")


def service_type_condition() -> ColumnElement[bool] | None:
    """`taxonomy_term_id` and `taxonomy_id`: the services of a type, or of the taxonomy."""
    conditions: list[ColumnElement[bool]] = []
    term_id = _uuid("taxonomy_term_id")
    if term_id is not None:
        codes = [c for c in hsds.service_type_codes() if hsds.service_type_term_id(c) == term_id]
        conditions.append(Service.service_type.in_(codes) if codes else false())
    taxonomy_id = _uuid("taxonomy_id")
    if taxonomy_id is not None and taxonomy_id != hsds.service_type_taxonomy_id():
        conditions.append(false())
    return and_(*conditions) if conditions else None


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
    if (by_type := service_type_condition()) is not None:
        conditions.append(by_type)
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


def capacities(services: list[Service], today_: date) -> dict[int, hsds.Capacity]:
    """The monthly places of these services: two queries, whatever their number."""
    ids = [service.id for service in services]
    if not ids:
        return {}
    left = places_left(services, today_)
    month_start = month_start_utc(today_)
    # Any step of this month may have taken or freed a place (submitted, approved, accepted,
    # rejected, declined, cancelled); the month's turn frees those of the month before.
    changed = dict(
        db.session.execute(
            select(Referral.service_id, func.max(Referral.status_changed_at))
            .where(Referral.service_id.in_(ids), Referral.status_changed_at >= month_start)
            .group_by(Referral.service_id)
        ).all()
    )
    return {
        service.id: hsds.Capacity(
            maximum=service.monthly_capacity,
            available=left[service.id],
            updated=max(filter(None, (service.updated_at, changed.get(service.id), month_start))),
        )
        for service in services
    }


@bp.get("/")
def index() -> Response:
    return jsonify(
        {
            "version": hsds.HSDS_VERSION,
            "services": url_for("api.services", _external=True),
            "organizations": url_for("api.organizations", _external=True),
            "service_at_locations": url_for("api.service_at_locations", _external=True),
            "taxonomies": url_for("api.taxonomies", _external=True),
            "taxonomy_terms": url_for("api.taxonomy_terms", _external=True),
        }
    )


@bp.get("/services")
def services() -> Response:
    params = list_parameters()
    conditions = service_conditions(params, _uuid("organization_id"))
    minimal, full, as_lines = _flag("minimal"), _flag("full"), _wants_ndjson()
    query = _services_with_details().where(*conditions).order_by(Service.name, Service.id)
    if as_lines or minimal:
        # Every result at once: ndjson has no pages, minimal is meant for one call.
        rows = db.session.scalars(query).all()
    else:
        rows = db.session.scalars(query.limit(params.per_page).offset(params.offset)).all()
    day = today()
    with force_locale("it"):
        if minimal:
            contents = [hsds.service_minimal(service) for service in rows]
        elif full:
            places = capacities(list(rows), day)
            contents = [hsds.service_detail(s, day, places.get(s.id)) for s in rows]
        else:
            contents = [hsds.service_list_item(service) for service in rows]
    if as_lines:
        return ndjson(contents)
    if minimal:
        return jsonify(hsds.page(contents, len(contents), 1, max(len(contents), 1)))
    total = db.session.scalar(
        select(func.count(Service.id))
        .join(Organization, Organization.id == Service.organization_id)
        .where(*conditions)
    )
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
    day = today()
    with force_locale("it"):
        return jsonify(hsds.service_detail(found, day, capacities([found], day).get(found.id)))


# Taxonomies: the registry's types of service ---------------------------------------------------


def _terms_matching(search: str) -> list[str]:
    wanted = fold(search)
    with force_locale("it"):
        return [
            code
            for code in hsds.service_type_codes()
            if not wanted or wanted in fold(f"{code} {hsds.taxonomy_term(code)['name']}")
        ]


def _listed(contents: list[Any], params: ListParameters) -> Response:
    """A list computed in full (a few items): as ndjson, or the requested page of it."""
    if _wants_ndjson():
        return ndjson(contents)
    shown = contents[params.offset : params.offset + params.per_page]
    return jsonify(hsds.page(shown, len(contents), params.page, params.per_page))


@bp.get("/taxonomies")
def taxonomies() -> Response:
    params = list_parameters()
    with force_locale("it"):
        found = hsds.taxonomy()
    wanted = fold(params.search)
    contents = [found] if fold(f"{found['name']} {found['description']}").find(wanted) >= 0 else []
    return _listed(contents, params)


@bp.get("/taxonomies/<taxonomy_id>")
def taxonomy(taxonomy_id: str) -> Response:
    if _canonical_id(taxonomy_id) != hsds.service_type_taxonomy_id():
        return error(404, _("Tassonomia non trovata."))
    with force_locale("it"):
        return jsonify(hsds.taxonomy())


@bp.get("/taxonomy_terms")
def taxonomy_terms() -> Response:
    params = list_parameters()
    taxonomy_id = _uuid("taxonomy_id")
    parent_id = _uuid("parent_id")
    _flag("top_only")  # every term is at the top: the taxonomy has one level
    codes = _terms_matching(params.search)
    if parent_id is not None or (
        taxonomy_id is not None and taxonomy_id != hsds.service_type_taxonomy_id()
    ):
        codes = []
    with force_locale("it"):
        contents = [hsds.taxonomy_term(code) for code in codes]
    return _listed(contents, params)


@bp.get("/taxonomy_terms/<term_id>")
def taxonomy_term(term_id: str) -> Response:
    canonical = _canonical_id(term_id)
    for code in hsds.service_type_codes():
        if hsds.service_type_term_id(code) == canonical:
            with force_locale("it"):
                return jsonify(hsds.taxonomy_term(code, with_taxonomy=True))
    return error(404, _("Voce della tassonomia non trovata."))


# Services at locations -------------------------------------------------------------------------


def _service_site_pairs(conditions: list[Any]) -> Select[tuple[Service, Site]]:
    return (
        select(Service, Site)
        .join(Organization, Organization.id == Service.organization_id)
        .join(service_site, service_site.c.service_id == Service.id)
        .join(Site, Site.id == service_site.c.site_id)
        .where(*conditions)
        .options(selectinload(Service.organization), selectinload(Service.sites))
    )


@bp.get("/service_at_locations")
def service_at_locations() -> Response:
    params = list_parameters()
    conditions = service_conditions(params, _uuid("organization_id"))
    postcode = (request.args.get("postcode") or "").strip()
    if postcode:
        conditions.append(Site.postal_code == postcode)
    full, as_lines = _flag("full"), _wants_ndjson()
    query = _service_site_pairs(conditions).order_by(Service.name, Service.id, Site.name, Site.id)
    if not as_lines:
        query = query.limit(params.per_page).offset(params.offset)
    pairs = [(row[0], row[1]) for row in db.session.execute(query)]
    day = today()
    with force_locale("it"):
        if full:
            places = capacities(list({s.id: s for s, _site in pairs}.values()), day)
            contents = [
                hsds.service_at_location_detail(s, site, day, places.get(s.id)) for s, site in pairs
            ]
        else:
            contents = [hsds.service_at_location_item(s, site) for s, site in pairs]
    if as_lines:
        return ndjson(contents)
    total = db.session.scalar(
        select(func.count())
        .select_from(Service)
        .join(Organization, Organization.id == Service.organization_id)
        .join(service_site, service_site.c.service_id == Service.id)
        .join(Site, Site.id == service_site.c.site_id)
        .where(*conditions)
    )
    return jsonify(hsds.page(contents, total or 0, params.page, params.per_page))


@bp.get("/service_at_locations/<link_id>")
def service_at_location(link_id: str) -> Response:
    """Its id is derived from the service's and the site's: found among the active links."""
    canonical = _canonical_id(link_id)
    if canonical is not None:
        links = db.session.execute(
            select(Service.uuid, Site.uuid)
            .join(Organization, Organization.id == Service.organization_id)
            .join(service_site, service_site.c.service_id == Service.id)
            .join(Site, Site.id == service_site.c.site_id)
            .where(Organization.active.is_(True))
        ).all()
        for service_uuid, site_uuid in links:
            if hsds.derived_id("service_at_location", service_uuid, site_uuid) == canonical:
                found = db.session.execute(
                    _service_site_pairs([Service.uuid == service_uuid, Site.uuid == site_uuid])
                ).first()
                if found is None:
                    break
                service_row, site = found
                day = today()
                with force_locale("it"):
                    place = capacities([service_row], day).get(service_row.id)
                    return jsonify(hsds.service_at_location_detail(service_row, site, day, place))
    return error(404, _("Servizio nella sede non trovato."))


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
