"""Registry pages: list with active search, detail, profile/accreditation/service/site editing."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from app.auth.models import Role
from app.auth.policy import roles_required
from app.clock import today
from app.exports import Sheet, csv_response, xlsx_response
from app.extensions import db
from app.i18n import gettext as _
from app.registry import bp, operations
from app.registry.forms import (
    AccreditationForm,
    OrganizationForm,
    ReasonForm,
    ServiceForm,
    SiteForm,
)
from app.registry.models import CIRCOSCRIZIONI, Organization, Service, Site
from app.registry.policy import (
    EDITORS,
    READERS,
    can_edit_organization,
    can_manage_organizations,
    can_verify_accreditation,
    editable_organization_or_404,
    editable_service_or_404,
    editable_site_or_404,
    visible_organization_or_404,
)
from app.registry.search import (
    PAGE_SIZE,
    OrganizationFilters,
    count_query,
    filtered_organizations,
    service_counts,
)
from app.registry.vocabulary import (
    ACCREDITATION_FUNCTIONS,
    ACCREDITATION_STATUSES,
    LANGUAGES,
    LEGAL_FORMS,
    ORGANIZATION_KINDS,
    RUNTS_SECTIONS,
    SERVICE_TYPES,
    WEEKDAYS,
)
from app.web.htmx import push_url, render, wants_fragment
from app.web.transactions import finish

VOCABULARY = {
    "service_types": SERVICE_TYPES,
    "languages": LANGUAGES,
    "legal_forms": LEGAL_FORMS,
    "runts_sections": RUNTS_SECTIONS,
    "statuses": ACCREDITATION_STATUSES,
    "kinds": ORGANIZATION_KINDS,
    "weekdays": WEEKDAYS,
    "circoscrizioni": CIRCOSCRIZIONI,
    "functions": ACCREDITATION_FUNCTIONS,
}


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


# List, export ------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index() -> Response:
    filters = OrganizationFilters.from_args(request.args)
    now = today()
    query = filtered_organizations(current_user, filters, now)
    total = db.session.scalar(count_query(query)) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(filters.pagina, pages)
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique().all()
    response = render(
        "registry/index.html",
        "registry/_results.html",
        organizations=rows,
        counts=service_counts([org.id for org in rows]),
        filters=filters,
        total=total,
        page=page,
        pages=pages,
        today=now,
        can_create=can_manage_organizations(current_user),
        **VOCABULARY,
    )
    if wants_fragment():
        # The address bar shows the short, shareable form of the search (no empty filters).
        push_url(response, "registry.index", **filters.url_args())
    return response


def _export_table() -> tuple[list[str], list[list[Any]]]:
    """The filtered list (the page's filters and the user's scope), one organization a row."""
    filters = OrganizationFilters.from_args(request.args)
    now = today()
    query = filtered_organizations(current_user, filters, now).options(
        selectinload(Organization.services)
    )
    header = [
        _("Denominazione"), _("Codice fiscale"), _("Forma giuridica"), _("Circoscrizione"),
        _("Indirizzo"), _("Telefono"), _("Email"), _("Tipologie"), _("Accreditamento"),
        _("Numero regionale"), _("Scadenza"), _("Servizi attivi"),
    ]  # fmt: skip
    rows: list[list[Any]] = []
    for org in db.session.scalars(query).unique():
        accreditation = org.accreditation
        rows.append(
            [
                org.name,
                org.tax_code or "",
                str(LEGAL_FORMS.get(org.legal_form or "", "")),
                org.circoscrizione,
                org.address or "",
                org.phone or "",
                org.email or "",
                ", ".join(str(ORGANIZATION_KINDS[k]) for k in org.kinds),
                str(ACCREDITATION_STATUSES[accreditation.effective_status(now)])
                if accreditation
                else "",
                accreditation.regional_number if accreditation else "",
                accreditation.expires_on if accreditation else None,
                "; ".join(s.name for s in org.services if s.active),
            ]
        )
    return header, rows


@bp.get("/export.csv")
@roles_required(*READERS)
def export_csv() -> Response:
    """The filtered list for a spreadsheet with Italian settings: `;`, UTF-8 with BOM."""
    header, rows = _export_table()
    return csv_response(f"enti-{today().isoformat()}", header, rows)


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export_xlsx() -> Response:
    header, rows = _export_table()
    return xlsx_response(f"enti-{today().isoformat()}", [Sheet(_("Enti"), header, rows)])


# Organization -----------------------------------------------------------------------------


def _organization_values(form: OrganizationForm) -> dict[str, Any]:
    return {
        "name": (form.name.data or "").strip(),
        "legal_form": form.legal_form.data,
        "tax_code": form.tax_code.data,
        "runts_section": form.runts_section.data or None,
        "runts_number": (form.runts_number.data or "").strip() or None,
        "address": (form.address.data or "").strip(),
        "postal_code": form.postal_code.data or None,
        "circoscrizione": int(form.circoscrizione.data),
        "phone": (form.phone.data or "").strip() or None,
        "email": (form.email.data or "").strip() or None,
        "website": (form.website.data or "").strip() or None,
        "description": (form.description.data or "").strip() or None,
        "is_job_service": form.is_job_service.data,
        "is_hub": form.is_hub.data,
        "is_housing_provider": form.is_housing_provider.data,
    }


def _unique_tax_code(form: OrganizationForm, exclude_id: int | None) -> Organization | None:
    if form.tax_code.errors or not form.tax_code.data:
        return None
    holder = operations.tax_code_holder(form.tax_code.data, exclude_id)
    if holder is not None:
        form.tax_code.errors = [_("Questo codice fiscale è già registrato per un altro ente.")]
    return holder


def _passes_for_the_city(form: OrganizationForm) -> bool:
    """An entity may not call itself the City nor take its tax code: says so next to the field."""
    refused = False
    if operations.impersonates_city(form.name.data or ""):
        form.name.errors = [
            _("La denominazione non può richiamare la Città di Torino o il Comune di Torino.")
        ]
        refused = True
    if form.tax_code.data == operations.CITY_TAX_CODE:
        form.tax_code.errors = [_("Questo è il codice fiscale della Città di Torino.")]
        refused = True
    return refused


def _identity_changed(changes: dict[str, Any]) -> bool:
    return any(field in operations.IDENTITY_FIELDS for field in changes)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def new_organization() -> Response:
    form = OrganizationForm()
    duplicate = None
    if form.validate_on_submit():
        duplicate = _unique_tax_code(form, None)
        if duplicate is None:
            org = operations.create_organization(_organization_values(form))
            return finish(_see_other("registry.detail", org_id=org.id), _("Ente registrato."))
    return render(
        "registry/organization_form.html",
        form=form,
        org=None,
        duplicate=duplicate,
        may_change_kinds=True,
        status=422 if form.errors else 200,
    )


@bp.get("/<int:org_id>")
@roles_required(*READERS)
def detail(org_id: int) -> Response:
    org = visible_organization_or_404(current_user, org_id)
    services = db.session.scalars(
        select(Service)
        .where(Service.organization_id == org.id)
        .options(selectinload(Service.sites))
        .order_by(Service.name)
    ).all()
    sites = db.session.scalars(
        select(Site).where(Site.organization_id == org.id).order_by(Site.name)
    ).all()
    return render(
        "registry/detail.html",
        org=org,
        services=services,
        places=_places(list(services)),
        sees_queues=_sees_queues(org),
        queue_links=current_user.has_role(Role.COORDINATOR),
        sites=sites,
        today=today(),
        can_edit=can_edit_organization(current_user, org),
        can_verify=can_verify_accreditation(current_user),
        reason_form=ReasonForm(),
        **VOCABULARY,
    )


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_organization(org_id: int) -> Response:
    org = editable_organization_or_404(current_user, org_id)
    may_change_kinds = can_manage_organizations(current_user)
    form = OrganizationForm(obj=org if request.method == "GET" else None)
    if request.method == "GET":
        form.circoscrizione.data = str(org.circoscrizione)
        form.runts_section.data = org.runts_section or ""
    duplicate = None
    by_city = can_verify_accreditation(current_user)
    if form.validate_on_submit():
        duplicate = _unique_tax_code(form, org.id)
        if duplicate is None and (by_city or not _passes_for_the_city(form)):
            was_pending = org.accreditation is not None and org.accreditation.status == "pending"
            changes = operations.update_organization(
                org,
                _organization_values(form),
                may_change_kinds=may_change_kinds,
                verified_by_city=by_city,
            )
            if not changes:
                done = _("Nessuna modifica da salvare.")
            elif not by_city and not was_pending and _identity_changed(changes):
                done = _("Dati dell'ente aggiornati: la Città verificherà la nuova identità.")
            else:
                done = _("Dati dell'ente aggiornati.")
            return finish(_see_other("registry.detail", org_id=org.id), done)
    return render(
        "registry/organization_form.html",
        form=form,
        org=org,
        duplicate=duplicate,
        may_change_kinds=may_change_kinds,
        status=422 if form.errors else 200,
    )


# Accreditation ----------------------------------------------------------------------------


@bp.route("/<int:org_id>/accreditation", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_accreditation(org_id: int) -> Response:
    org = editable_organization_or_404(current_user, org_id)
    accreditation = org.accreditation
    form = AccreditationForm(obj=accreditation if request.method == "GET" else None)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in operations.ACCREDITATION_FIELDS}
        values["regional_number"] = values["regional_number"].strip()
        by_city = can_verify_accreditation(current_user)
        saved = operations.save_accreditation(org, values, current_user, verified_by_city=by_city)
        if saved.status == "pending":
            done = _("Dati di accreditamento salvati: la Città li verificherà.")
        else:
            done = _("Dati di accreditamento salvati.")
        return finish(_see_other("registry.detail", org_id=org.id), done)
    return render(
        "registry/accreditation_form.html",
        form=form,
        org=org,
        status=422 if form.errors else 200,
    )


@bp.post("/<int:org_id>/accreditation/<action>")
@roles_required(Role.COORDINATOR)
def accreditation_action(org_id: int, action: str) -> Response:
    org = visible_organization_or_404(current_user, org_id)
    if org.accreditation is None or action not in operations.ACCREDITATION_TRANSITIONS:
        abort(404)
    form = ReasonForm()
    reason = (form.reason.data or "").strip()[:500] if form.reason.data else None
    if action == "suspend" and not form.validate_on_submit():
        flash(_("Per sospendere un accreditamento serve la motivazione."), "danger")
        return _see_other("registry.detail", org_id=org.id)
    operations.transition_accreditation(org.accreditation, action, current_user, reason)
    messages = {
        "verify": _("Accreditamento verificato: l'ente è attivo."),
        "suspend": _("Accreditamento sospeso: l'ente non riceve nuove segnalazioni."),
        "reactivate": _("Accreditamento riattivato."),
        "expire": _("Scadenza dell'accreditamento registrata."),
    }
    return finish(_see_other("registry.detail", org_id=org.id), messages[action])


# Services (inline editing in the detail table) --------------------------------------------


def _service_form(org: Organization, service: Service | None = None) -> ServiceForm:
    form = ServiceForm(obj=service if request.method == "GET" else None)
    form.sites.choices = [
        SelectChoice(site.id, site.name)  # type: ignore[arg-type]
        for site in db.session.scalars(
            select(Site).where(Site.organization_id == org.id).order_by(Site.name)
        )
    ]
    if request.method == "GET" and service is not None:
        form.sites.data = [site.id for site in service.sites]
    return form


def _service_values(form: ServiceForm) -> tuple[dict[str, Any], list[int]]:
    values = {name: getattr(form, name).data for name in operations.SERVICE_FIELDS}
    values["name"] = values["name"].strip()
    values["description"] = (values["description"] or "").strip() or None
    return values, list(form.sites.data or [])


def _sites_of(org: Organization, ids: list[int]) -> list[Site]:
    if not ids:
        return []
    return list(
        db.session.scalars(select(Site).where(Site.organization_id == org.id, Site.id.in_(ids)))
    )


@bp.route("/<int:org_id>/services/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new_service(org_id: int) -> Response:
    org = editable_organization_or_404(current_user, org_id)
    form = _service_form(org)
    if request.method == "GET":
        form.active.data = True
        form.languages.data = ["it"]
    if form.validate_on_submit():
        values, site_ids = _service_values(form)
        operations.create_service(org, values, _sites_of(org, site_ids), today())
        return finish(_see_other("registry.detail", org_id=org.id), _("Servizio aggiunto."))
    return render(
        "registry/service_page.html",
        form=form,
        org=org,
        service=None,
        status=422 if form.errors else 200,
        **VOCABULARY,
    )


@bp.route("/<int:org_id>/services/<int:service_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_service(org_id: int, service_id: int) -> Response:
    """GET: the edit form (a table row for htmx, a page otherwise). POST: save."""
    service = editable_service_or_404(current_user, org_id, service_id)
    org = service.organization
    form = _service_form(org, service)
    if form.validate_on_submit():
        values, site_ids = _service_values(form)
        changes = operations.update_service(service, values, _sites_of(org, site_ids), today())
        if wants_fragment():
            return finish(_service_row(service, saved=True))
        return finish(
            _see_other("registry.detail", org_id=org.id),
            _("Servizio aggiornato.") if changes else _("Servizio confermato."),
        )
    return render(
        "registry/service_page.html",
        "registry/_service_form_row.html",
        form=form,
        org=org,
        service=service,
        status=422 if form.errors else 200,
        **VOCABULARY,
    )


def _places(services: list[Service]) -> dict[int, tuple[int, int]]:
    """Each service's places left this month and the length of its waiting list (issue #24):
    the same count as the referral form and the HSDS `capacities`."""
    from app.referrals.queries import places_left, waiting_counts

    left = places_left(services, today())
    waiting = waiting_counts([service.id for service in services])
    return {service.id: (left[service.id], waiting.get(service.id, 0)) for service in services}


def _sees_queues(org: Organization) -> bool:
    """The City and the service's own entity see how long its waiting lists are."""
    return can_verify_accreditation(current_user) or can_edit_organization(current_user, org)


def _service_row(service: Service, saved: bool = False) -> Response:
    return render(
        "registry/_service_row.html",
        service=service,
        org=service.organization,
        places=_places([service]),
        sees_queues=_sees_queues(service.organization),
        queue_links=current_user.has_role(Role.COORDINATOR),
        can_edit=True,
        today=today(),
        saved=saved,
        **VOCABULARY,
    )


@bp.get("/<int:org_id>/services/<int:service_id>/row")
@roles_required(*EDITORS)
def service_row(org_id: int, service_id: int) -> Response:
    """The read-only row again (the Cancel button of the inline editor)."""
    service = editable_service_or_404(current_user, org_id, service_id)
    if not wants_fragment():
        return _see_other("registry.detail", org_id=service.organization_id)
    return _service_row(service)


@bp.post("/<int:org_id>/services/<int:service_id>/confirm")
@roles_required(*EDITORS)
def confirm_service(org_id: int, service_id: int) -> Response:
    service = editable_service_or_404(current_user, org_id, service_id)
    operations.confirm_service(service, today())
    if wants_fragment():
        return finish(_service_row(service, saved=True))
    return finish(
        _see_other("registry.detail", org_id=service.organization_id),
        _("Servizio confermato: dati verificati oggi."),
    )


# Sites ------------------------------------------------------------------------------------


def _site_values(form: SiteForm) -> dict[str, Any]:
    values = {name: getattr(form, name).data for name in operations.SITE_FIELDS}
    values["circoscrizione"] = int(form.circoscrizione.data)
    for name in ("name", "address", "opening_hours", "phone", "postal_code"):
        values[name] = (values[name] or "").strip() or None
    if not values["is_hub"]:
        values["distribution_days"] = []
    return values


@bp.route("/<int:org_id>/sites/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new_site(org_id: int) -> Response:
    org = editable_organization_or_404(current_user, org_id)
    form = SiteForm()
    if form.validate_on_submit():
        operations.create_site(org, _site_values(form))
        return finish(_see_other("registry.detail", org_id=org.id), _("Sede aggiunta."))
    return render(
        "registry/site_form.html", form=form, org=org, site=None, status=422 if form.errors else 200
    )


@bp.route("/<int:org_id>/sites/<int:site_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_site(org_id: int, site_id: int) -> Response:
    site = editable_site_or_404(current_user, org_id, site_id)
    form = SiteForm(obj=site if request.method == "GET" else None)
    if request.method == "GET":
        form.circoscrizione.data = str(site.circoscrizione)
    if form.validate_on_submit():
        changes = operations.update_site(site, _site_values(form))
        return finish(
            _see_other("registry.detail", org_id=site.organization_id),
            _("Sede aggiornata.") if changes else _("Nessuna modifica da salvare."),
        )
    return render(
        "registry/site_form.html",
        form=form,
        org=site.organization,
        site=site,
        status=422 if form.errors else 200,
    )
