"""Housing pages: the availability board, units, placements, follow-ups, eviction prevention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.audit.models import AuditEvent
from app.audit.operations import commit_view, record_views
from app.auth.models import Role, User
from app.auth.policy import roles_required
from app.clock import today
from app.db import utcnow
from app.errors import DomainError
from app.exports import ROW_LIMIT, Sheet, csv_response, limit_note, list_response, xlsx_response
from app.extensions import db
from app.households.models import Household
from app.households.policy import USERS as HOUSEHOLD_USERS
from app.households.policy import visible_household_or_404, visible_households
from app.households.vocabulary import NEEDS, RELATIONS
from app.housing import bp, operations, queries
from app.housing.forms import (
    CheckForm,
    CloseRiskCaseForm,
    EditUnitForm,
    NewUnitForm,
    ProposalForm,
    RiskCaseForm,
    StepForm,
    VacancyForm,
)
from app.housing.models import HousingRiskCase, HousingUnit, Placement, WellbeingCheck
from app.housing.operations import (
    STEPS,
    AlreadyDone,
    StepInputError,
    TargetMismatch,
    VersionConflict,
)
from app.housing.policy import (
    BOARD_READERS,
    PLACEMENT_USERS,
    can_edit_unit,
    can_manage_risk_cases,
    can_manage_units,
    can_propose_for,
    can_record_checks,
    editable_unit_or_404,
    managed_risk_case_or_404,
    sees_household_details,
    sees_reason_note,
    visible_placement_or_404,
    visible_placements,
    visible_risk_case_or_404,
    visible_risk_cases,
    visible_unit_or_404,
)
from app.housing.vocabulary import (
    PLACEMENT_BADGES,
    PLACEMENT_STATUSES,
    REASONS_BY_STATUS,
    RISK_ACTIONS,
    RISK_KINDS,
    RISK_OUTCOMES,
    RISK_STATUSES,
    TARGET_GROUPS,
    UNIT_KINDS,
    WELLBEING,
)
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.idempotency import claim, complete
from app.notifications.operations import mark_read
from app.registry.models import CIRCOSCRIZIONI
from app.registry.vocabulary import LANGUAGES
from app.web.errors import error_response
from app.web.fields import bounded_int
from app.web.htmx import render, wants_fragment
from app.web.paging import capped_total, page_count

FOLLOW_UP_ROWS = 50  # the most overdue first; the page says how many there are in all
BOARD_LIMIT = 60  # rows shown on the board (filters narrow it); the totals count every unit
PROPOSAL_CHOICES = 60
PAGE_SIZE = 25
PROPOSAL_PURPOSE = "housing.new_placement"  # the idempotency keys of the proposal form
STEP_FIELDS = ("reason_code", "note", "on")
BOARD_LIVE_ID = "board-live"  # the element that refreshes the board every 30 seconds

VOCABULARY = {
    "unit_kinds": UNIT_KINDS,
    "target_groups": TARGET_GROUPS,
    "placement_statuses": PLACEMENT_STATUSES,
    "placement_badges": PLACEMENT_BADGES,
    "reasons_by_status": REASONS_BY_STATUS,
    "wellbeing_labels": WELLBEING,
    "risk_kinds": RISK_KINDS,
    "risk_actions": RISK_ACTIONS,
    "risk_outcomes": RISK_OUTCOMES,
    "risk_statuses": RISK_STATUSES,
    "circoscrizioni": CIRCOSCRIZIONI,
    "needs_labels": NEEDS,
    "relations": RELATIONS,
    "languages": LANGUAGES,
}


STEP_BUTTONS = {
    "approve": _l("Approva"),
    "reject": _l("Respingi"),
    "accept": _l("Accetta"),
    "decline": _l("Rifiuta"),
    "cancel": _l("Annulla l'inserimento"),
    "move_in": _l("Registra l'ingresso"),
    "end": _l("Registra l'uscita"),
}
REASON_FIELDS = {
    "reject": _l("Motivo del respingimento"),
    "decline": _l("Motivo del rifiuto"),
    "cancel": _l("Motivo dell'annullamento"),
    "end": _l("Motivo dell'uscita"),
}
DATE_FIELDS = {"move_in": _l("Data di ingresso"), "end": _l("Data di uscita")}

STEP_DONE = {
    "approve": _l("Inserimento approvato: ora risponde il gestore."),
    "reject": _l("Proposta respinta: il posto è di nuovo libero."),
    "accept": _l("Inserimento accettato: registra l'ingresso quando il nucleo arriva."),
    "decline": _l("Proposta rifiutata: il posto è di nuovo libero."),
    "cancel": _l("Inserimento annullato: il posto è di nuovo libero."),
    "move_in": _l("Ingresso registrato: l'inserimento è in corso."),
    "end": _l("Uscita registrata: il posto è di nuovo libero."),
}


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


def _conflict_message(unit: HousingUnit) -> str:
    """The same words operations.VersionConflict uses: someone changed the unit meanwhile."""
    return _(
        "Nel frattempo qualcun altro ha aggiornato questo alloggio: ora i posti liberi sono "
        "%(n)s su %(capacity)s. Controlla e riprova.",
        n=unit.vacancies,
        capacity=unit.capacity,
    )


# The board -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    unit: HousingUnit
    stale: bool
    editable: bool


@dataclass(frozen=True)
class BoardGroup:
    key: str
    title: str
    rows: list[BoardRow]


def _board_groups(rows: list[BoardRow], by_kind: bool) -> list[BoardGroup]:
    groups: dict[str, BoardGroup] = {}
    for row in rows:
        unit = row.unit
        if by_kind:
            key, title = unit.kind, str(UNIT_KINDS.get(unit.kind, unit.kind))
        else:
            key = str(unit.circoscrizione)
            title = _(
                "Circoscrizione %(n)s · %(areas)s",
                n=unit.circoscrizione,
                areas=CIRCOSCRIZIONI.get(unit.circoscrizione, ""),
            )
        groups.setdefault(key, BoardGroup(key, title, [])).rows.append(row)
    return list(groups.values())


def _is_timed_refresh() -> bool:
    """The board's own 30-second refresh (htmx names the element that fired the request)."""
    return request.headers.get("HX-Source") == f"div#{BOARD_LIVE_ID}"


def _board_row(unit: HousingUnit) -> BoardRow:
    return BoardRow(unit, queries.is_stale(unit), can_edit_unit(current_user, unit))


@bp.get("/")
@roles_required(*BOARD_READERS)
def index() -> Response:
    filters = queries.BoardFilters.from_args(request.args, current_user)
    now = utcnow()
    units = queries.board_units(current_user, filters, BOARD_LIMIT + 1)
    rows = [
        BoardRow(unit, queries.is_stale(unit, now), can_edit_unit(current_user, unit))
        for unit in units[:BOARD_LIMIT]
    ]
    response = render(
        "housing/index.html",
        "housing/_board.html",
        filters=filters,
        groups=_board_groups(rows, filters.raggruppa == "tipo"),
        totals=queries.board_totals(current_user, filters, now),
        truncated=len(units) > BOARD_LIMIT,
        board_limit=BOARD_LIMIT,
        refreshed_at=now,
        can_manage=can_manage_units(current_user),
        can_propose=current_user.has_role(Role.COORDINATOR, Role.ENTITY_OPERATOR),
        live_id=BOARD_LIVE_ID,
        **VOCABULARY,
    )
    if wants_fragment() and not _is_timed_refresh():
        response.headers["HX-Push-Url"] = url_for("housing.index", **filters.url_args())
    return response


def _board_export(kind: str) -> Response:
    """The board with its current filters (units, no personal data) as a spreadsheet."""
    filters = queries.BoardFilters.from_args(request.args, current_user)
    now = utcnow()
    units = queries.board_units(current_user, filters, ROW_LIMIT + 1)
    header = [
        _("N. alloggio"), _("Alloggio"), _("Gestore"), _("Tipologia"), _("Indirizzo"),
        _("Circoscrizione"), _("Capienza"), _("Posti liberi"), _("Destinatari"), _("Accessibile"),
        _("Permanenza massima (giorni)"), _("Costo mensile"), _("Posti aggiornati il"),
        _("Non aggiornato da 7 giorni"), _("Attivo"),
    ]  # fmt: skip
    rows: list[list[Any]] = [
        [
            unit.id,
            unit.name,
            unit.provider.name,
            str(UNIT_KINDS.get(unit.kind, unit.kind)),
            unit.address,
            unit.circoscrizione,
            unit.capacity,
            unit.vacancies,
            ", ".join(str(TARGET_GROUPS.get(code, code)) for code in unit.target_groups),
            unit.accessible,
            unit.max_stay_days,
            unit.monthly_cost,
            unit.vacancies_updated_at,
            queries.is_stale(unit, now),
            unit.active,
        ]
        for unit in units[:ROW_LIMIT]
    ]
    if len(units) > ROW_LIMIT:
        rows.append([limit_note(ROW_LIMIT)])
    name = f"alloggi-{today().isoformat()}"
    if kind == "csv":
        return csv_response(name, header, rows)
    totals_header = [
        _("Circoscrizione"), _("Alloggi"), _("Capienza"), _("Posti liberi"),
        _("Non aggiornati da 7 giorni"),
    ]  # fmt: skip
    totals = [
        [
            total.circoscrizione if total.circoscrizione is not None else _("Tutta la città"),
            total.units,
            total.capacity,
            total.free,
            total.stale,
        ]
        for total in queries.board_totals(current_user, filters, now)
    ]
    return xlsx_response(
        name,
        [
            Sheet(_("Alloggi"), header, rows),
            Sheet(_("Per circoscrizione"), totals_header, totals),
        ],
    )


@bp.get("/export.csv")
@roles_required(*BOARD_READERS)
def export_csv() -> Response:
    return _board_export("csv")


@bp.get("/export.xlsx")
@roles_required(*BOARD_READERS)
def export_xlsx() -> Response:
    return _board_export("xlsx")


# Units ---------------------------------------------------------------------------------------


@bp.route("/units/new", methods=["GET", "POST"])
@roles_required(Role.HOUSING_PROVIDER)
def new_unit() -> Response:
    if not can_manage_units(current_user):
        abort(403)
    form = NewUnitForm()
    if request.method == "GET":
        form.vacancies.data = 0
    if form.validate_on_submit():
        try:
            unit = operations.create_unit(current_user.organization_id, form.values(), current_user)
        except DomainError as error:
            db.session.rollback()
            form.vacancies.errors = [error.message]
        else:
            db.session.commit()
            flash(_("Alloggio registrato: ora compare nella bacheca."), "success")
            return _see_other("housing.unit", unit_id=unit.id)
    return render(
        "housing/unit_form.html",
        form=form,
        unit=None,
        current=None,
        conflict=None,
        status=422 if form.is_submitted() else 200,
        **VOCABULARY,
    )


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@roles_required(Role.HOUSING_PROVIDER)
def edit_unit(unit_id: int) -> Response:
    unit = editable_unit_or_404(current_user, unit_id)
    form = EditUnitForm(obj=unit if request.method == "GET" else None)
    if request.method == "GET":
        form.circoscrizione.data = str(unit.circoscrizione)
        form.version.data = str(unit.version)
    conflict: str | None = None
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        seen = form.seen_version()
        try:
            if seen is None:
                raise VersionConflict(_conflict_message(unit), unit)
            changes = operations.update_unit(unit, form.values(), seen, current_user)
        except VersionConflict as error:
            db.session.rollback()
            conflict, status = error.message, 409
        except StaleDataError:  # changed between our read and our write
            db.session.rollback()
            unit = editable_unit_or_404(current_user, unit_id)
            conflict, status = _conflict_message(unit), 409
        except DomainError as error:
            db.session.rollback()
            form.capacity.errors = [error.message]
        else:
            db.session.commit()
            flash(
                _("Dati dell'alloggio aggiornati.")
                if changes
                else _("Nessuna modifica da salvare."),
                "success",
            )
            return _see_other("housing.unit", unit_id=unit.id)
    if conflict is not None:
        # Show what is on file now; the user's input stays in the form, ready to resubmit.
        unit = db.session.get(HousingUnit, unit_id, populate_existing=True) or unit
        form.version.data = str(unit.version)
    return render(
        "housing/unit_form.html",
        form=form,
        unit=unit,
        current=unit if conflict else None,
        conflict=conflict,
        status=status,
        **VOCABULARY,
    )


@bp.get("/units/<int:unit_id>")
@roles_required(*BOARD_READERS)
def unit(unit_id: int) -> Response:
    item = visible_unit_or_404(current_user, unit_id)
    return _unit_page(item)


def _unit_page(
    item: HousingUnit, error: str | None = None, typed: str | None = None, status: int = 200
) -> Response:
    placements = db.session.scalars(
        visible_placements(current_user)
        .where(Placement.unit_id == item.id)
        .options(selectinload(Placement.household).selectinload(Household.members))
        .order_by(Placement.status_changed_at.desc(), Placement.id.desc())
        .limit(100)
    ).all()
    record_views("unit_placements_viewed", [p.household_id for p in placements], item)
    commit_view()  # the callers have nothing else to save (a refused update was rolled back)
    return render(
        "housing/unit.html",
        status=status,
        unit=item,
        row=_board_row(item),
        error=error,
        typed=typed,
        saved=None,
        placements=[(p, _household_view(p)) for p in placements],
        **VOCABULARY,
    )


@bp.post("/units/<int:unit_id>/vacancies")
@roles_required(Role.HOUSING_PROVIDER)
def vacancies(unit_id: int) -> Response:
    """The provider's one-click update: +1/-1, a typed number, or "still correct"."""
    item = editable_unit_or_404(current_user, unit_id)
    form = VacancyForm()
    back = "unit" if form.back.data == "unit" else "board"
    typed = (form.vacancies.data or "").strip()[:20] or None
    error: str | None = None
    status = 200
    saved: str | None = None
    if not form.validate_on_submit():
        error, status = _("Il modulo è scaduto: ricarica la pagina e riprova."), 400
    else:
        seen = bounded_int(form.version.data)
        try:
            if seen is None or seen != item.version:
                raise VersionConflict(_conflict_message(item), item)
            if form.confirm.data:
                operations.confirm_vacancies(item, seen, current_user)
                saved = _("Posti liberi confermati: %(n)s.", n=item.vacancies)
            elif form.delta.data:
                delta = bounded_int(form.delta.data)
                if delta not in (-1, 1):
                    raise ValueError
                operations.adjust_vacancies(item, delta, seen, current_user)
                saved = _("Posti liberi aggiornati: %(n)s.", n=item.vacancies)
            else:
                number = bounded_int(typed)
                if number is None:
                    raise ValueError
                operations.set_vacancies(item, number, seen, current_user)
                saved = _("Posti liberi aggiornati: %(n)s.", n=item.vacancies)
        except VersionConflict as conflict:
            db.session.rollback()
            error, status, typed = conflict.message, 409, None
        except DomainError as refused:
            db.session.rollback()
            error, status = refused.message, 422
        except ValueError:
            db.session.rollback()
            error, status = _("Scrivi il numero di posti liberi: un numero intero da 0 in su."), 422
        else:
            db.session.commit()
            typed = None
    item = db.session.get(HousingUnit, unit_id, populate_existing=True) or item
    if wants_fragment():
        template = "housing/_vacancy_panel.html" if back == "unit" else "housing/_unit_row.html"
        return render(
            template,
            status=status,
            row=_board_row(item),
            unit=item,
            error=error,
            typed=typed,
            saved=saved,
            **VOCABULARY,
        )
    if error is None:
        flash(saved or _("Posti liberi aggiornati."), "success")
        if back == "unit":
            return _see_other("housing.unit", unit_id=item.id)
        return _see_other("housing.index", miei="1")
    return _unit_page(item, error=error, typed=typed, status=status)


# Placements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdView:
    """What this user may see of a placement's household."""

    full: bool
    name: str  # the reference person's name, or only the initials
    size: int
    linked: bool  # the household page is open to the user


def initials(household: Household) -> str:
    person = household.reference_person or (household.members[0] if household.members else None)
    if person is None:
        return "—"
    return f"{person.first_name[:1].upper()}. {person.last_name[:1].upper()}."


def _household_view(placement: Placement, linked: bool = False) -> HouseholdView:
    household = placement.household
    full = sees_household_details(current_user, placement)
    return HouseholdView(
        full=full,
        name=household.display_name if full else initials(household),
        size=len(household.members),
        linked=linked,
    )


def _can_open_household(user: User, household_id: int) -> bool:
    if not user.has_role(*HOUSEHOLD_USERS):
        return False
    return (
        db.session.scalar(
            visible_households(user)
            .with_only_columns(Household.id)
            .where(Household.id == household_id)
        )
        is not None
    )


def _household_from_query() -> Household:
    household_id = bounded_int(request.args.get("household"))
    if household_id is None:
        abort(404)
    return visible_household_or_404(current_user, household_id)


def _sharing_problem(household: Household) -> str | None:
    try:
        operations.check_sharing(household)
    except DomainError as error:
        return error.message
    return None


@bp.route("/placements/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR, Role.ENTITY_OPERATOR)
def new_placement() -> Response:
    household = _household_from_query()
    if not can_propose_for(current_user, household):
        return error_response(
            409, _("Il nucleo non è più in carico: non si possono proporre alloggi.")
        )
    # The filters come with the GET, and travel with the proposal as hidden fields.
    filters = queries.BoardFilters.from_args(request.values)
    is_city = current_user.has_role(Role.COORDINATOR)
    form = ProposalForm()
    include_declined = is_city and request.values.get("riproponi") == "1"
    top_error: str | None = None
    if form.validate_on_submit():
        unit_id = bounded_int(form.unit_id.data)
        chosen = (
            db.session.scalar(
                queries.board_query(current_user, queries.BoardFilters()).where(
                    HousingUnit.id == unit_id
                )
            )
            if unit_id
            else None
        )
        key = form.idempotency_key.data
        if chosen is None:
            form.unit_id.errors = [_("Scegli un alloggio tra quelli elencati.")]
        elif (earlier := claim(key, current_user, PROPOSAL_PURPOSE)) is not None:
            # The same form sent again (a double click, a slow line): the first one's answer.
            flash(_("La proposta era già stata inviata: eccola."), "info")
            return redirect(  # type: ignore[return-value]
                earlier.result_url or url_for("households.detail", household_id=household.id),
                code=303,
            )
        else:
            try:
                placement = operations.propose(
                    household,
                    chosen,
                    current_user,
                    form.motivation.data,
                    propose_again=include_declined,
                    target_reason=form.target_reason.data,
                    today=today(),
                )
            except TargetMismatch as warning:
                db.session.rollback()
                form.target_reason.errors = [warning.message]
            except DomainError as error:
                db.session.rollback()
                top_error = error.message
            else:
                # The answer is ready before the commit: nothing after it can fail.
                url = url_for("housing.placement", placement_id=placement.id)
                done = ngettext(
                    "Proposta inviata alla Città: %(num)d posto dell'alloggio «%(name)s» è "
                    "riservato al nucleo.",
                    "Proposta inviata alla Città: %(num)d posti dell'alloggio «%(name)s» "
                    "sono riservati al nucleo.",
                    placement.places,
                    name=chosen.name,
                )
                complete(key, current_user, PROPOSAL_PURPOSE, placement, url)
                db.session.commit()
                flash(done, "success")
                return redirect(url, code=303)  # type: ignore[return-value]
    units = queries.units_for_proposal(
        current_user, household, filters, include_declined, PROPOSAL_CHOICES + 1
    )
    day = today()
    context = {
        "form": form,
        "household": household,
        "places_needed": operations.places_needed(household),
        "mismatched": {
            unit.id
            for unit in units[:PROPOSAL_CHOICES]
            if operations.target_mismatch(household, unit, day)
        },
        "filters": filters,
        "units": units[:PROPOSAL_CHOICES],
        "more_units": len(units) > PROPOSAL_CHOICES,
        "declined": queries.declined_unit_ids(household.id),
        "holding": queries.holding_placement(household.id),
        "sharing_problem": _sharing_problem(household),
        "top_error": top_error,
        "is_city": is_city,
        "include_declined": include_declined,
        **VOCABULARY,
    }
    record_views("placement_form_viewed", [household], household)
    commit_view()  # a refused proposal was rolled back: only this event is saved
    if request.method == "GET" and wants_fragment():
        return render("housing/_unit_choices.html", **context)
    failed = form.is_submitted() and bool(form.errors or top_error)
    return render("housing/placement_new.html", status=422 if failed else 200, **context)


@bp.get("/placements/")
@roles_required(*PLACEMENT_USERS)
def placements() -> Response:
    status = request.args.get("stato", "")
    status = status if status in PLACEMENT_STATUSES else ""
    query = visible_placements(current_user)
    if status:
        query = query.where(Placement.status == status)
    total = capped_total(query)
    pages = page_count(total, PAGE_SIZE)
    page = min(max(bounded_int(request.args.get("pagina")) or 1, 1), pages)
    rows = db.session.scalars(
        query.options(
            selectinload(Placement.household).selectinload(Household.members),
            selectinload(Placement.unit),
            selectinload(Placement.provider),
        )
        .order_by(Placement.status_changed_at.desc(), Placement.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    record_views(
        "placements_listed",
        [p.household_id for p in rows],
        changes={"filters": {"stato": status} if status else {}},
    )
    commit_view()
    response = render(
        "housing/placements.html",
        "housing/_placement_results.html",
        rows=[(p, _household_view(p)) for p in rows],
        stato=status,
        total=total,
        page=page,
        pages=pages,
        **VOCABULARY,
    )
    if wants_fragment():
        response.headers["HX-Push-Url"] = url_for(
            "housing.placements", **({"stato": status} if status else {})
        )
    return response


def _placement_export(kind: str) -> Response:
    """The placements list with its filter, as a spreadsheet; the export is an audit event.

    A housing provider gets only the initials and the size of a household until the City
    approves the placement, as on screen.
    """
    status = request.args.get("stato", "")
    status = status if status in PLACEMENT_STATUSES else ""
    query = visible_placements(current_user)
    if status:
        query = query.where(Placement.status == status)
    found = db.session.scalars(
        query.options(
            selectinload(Placement.household).selectinload(Household.members),
            selectinload(Placement.unit),
            selectinload(Placement.provider),
        )
        .order_by(Placement.status_changed_at.desc(), Placement.id.desc())
        .limit(ROW_LIMIT + 1)
    ).all()
    header = [
        _("N."), _("Nucleo"), _("Componenti"), _("Alloggio"), _("Tipologia"), _("Gestore"),
        _("Stato"), _("Motivo"), _("Proposto il"), _("Approvato il"), _("Ingresso"),
        _("Uscita"), _("Ultima modifica"),
    ]  # fmt: skip
    rows: list[list[Any]] = []
    for placement in found[:ROW_LIMIT]:
        who = _household_view(placement)
        reasons = REASONS_BY_STATUS.get(placement.status, {})
        rows.append(
            [
                placement.id,
                who.name,
                who.size,
                placement.unit.name,
                str(UNIT_KINDS.get(placement.unit.kind, placement.unit.kind)),
                placement.provider.name,
                str(PLACEMENT_STATUSES.get(placement.status, placement.status)),
                str(reasons.get(placement.reason_code, placement.reason_code))
                if placement.reason_code
                else "",
                placement.created_at,
                placement.approved_at,
                placement.moved_in_on,
                placement.ended_on,
                placement.status_changed_at,
            ]
        )
    record_views(
        "placements_exported",
        [p.household_id for p in found[:ROW_LIMIT]],
        changes={
            "filters": {"stato": status} if status else {},
            "rows": len(rows),
            "format": kind,
        },
    )
    db.session.commit()
    return list_response(
        kind,
        f"inserimenti-{today().isoformat()}",
        _("Inserimenti"),
        header,
        rows,
        ROW_LIMIT if len(found) > ROW_LIMIT else None,
    )


@bp.get("/placements/export.csv")
@roles_required(*PLACEMENT_USERS)
def export_placements_csv() -> Response:
    return _placement_export("csv")


@bp.get("/placements/export.xlsx")
@roles_required(*PLACEMENT_USERS)
def export_placements_xlsx() -> Response:
    return _placement_export("xlsx")


def _timeline(object_type: str, object_id: int, hidden: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == object_type,
                AuditEvent.object_id == object_id,
                AuditEvent.action != hidden,
            )
            .order_by(AuditEvent.created_at, AuditEvent.id)
            .limit(200)
        )
    )


def _names(events: list[AuditEvent]) -> dict[int, User]:
    ids = {e.actor_id for e in events if e.actor_id}
    if not ids:
        return {}
    users = db.session.scalars(
        select(User).where(User.id.in_(ids)).options(selectinload(User.organization))
    )
    return {u.id: u for u in users}


@bp.get("/placements/<int:placement_id>")
@roles_required(*PLACEMENT_USERS)
def placement(placement_id: int) -> Response:
    # What the page names, in the same statement: the same number of queries whoever proposed.
    item = visible_placement_or_404(
        current_user,
        placement_id,
        joinedload(Placement.provider),
        joinedload(Placement.proposing_organization),
        joinedload(Placement.unit),
    )
    operations.record_view(item, current_user)
    mark_read(current_user, "placement", item.id)
    commit_view()
    return _placement_page(item)


def _placement_page(
    item: Placement,
    status: int = 200,
    error: str | None = None,
    failed_step: str | None = None,
    step_form: StepForm | None = None,
    check_form: CheckForm | None = None,
    field_error: tuple[str, str] | None = None,
) -> Response:
    day = today()
    events = _timeline("placement", item.id, "placement_viewed")
    due = next((c for c in item.checks if c.done_on is None), None)
    if check_form is None:
        check_form = CheckForm(formdata=None, done_on=day)
    steps = operations.available_steps(current_user, item)
    return render(
        "housing/placement.html",
        status=status,
        placement=item,
        unit=item.unit,
        who=_household_view(item, _can_open_household(current_user, item.household_id)),
        reason_note_visible=sees_reason_note(current_user, item),
        spoken=list(dict.fromkeys(c for m in item.household.members for c in m.languages or [])),
        today=day,
        steps=steps,
        step_table=STEPS,
        step_buttons=STEP_BUTTONS,
        reason_fields=REASON_FIELDS,
        date_fields=DATE_FIELDS,
        error=error,
        failed_step=failed_step,
        step_form=step_form,
        field_error=field_error,
        proposed_on=operations.proposed_on(item),
        events=events,
        actors=_names(events),
        due_check=due if item.status == "active" else None,
        can_record=can_record_checks(current_user, item) and item.status == "active",
        check_form=check_form,
        **VOCABULARY,
    )


@bp.post("/placements/<int:placement_id>/<step>")
@roles_required(*PLACEMENT_USERS)
def placement_step(placement_id: int, step: str) -> Response:
    item = visible_placement_or_404(current_user, placement_id)
    if step not in STEPS:
        abort(404)
    form = StepForm()
    if not form.validate_on_submit():
        message = " ".join(str(e) for f in form for e in f.errors) or _("Dati non validi.")
        wrong = next((f.name for f in form if f.errors and f.name in STEP_FIELDS), None)
        return _refused_step(item, step, form, message, 422, wrong)
    try:
        operations.transition(
            item,
            step,
            current_user,
            reason_code=form.reason_code.data or None,
            note=form.note.data,
            on=form.on.data,
            today=today(),
        )
    except AlreadyDone as done:
        # The same step pressed twice (a double click, a colleague): it is done, nothing to fix.
        db.session.rollback()
        flash(done.message, "info")
        return _see_other("housing.placement", placement_id=placement_id)
    except StepInputError as bad:
        db.session.rollback()
        return _refused_step(item, step, form, bad.message, 422, bad.field)
    except DomainError as refused:
        db.session.rollback()
        return _refused_step(item, step, form, refused.message, 409)
    db.session.commit()
    flash(str(STEP_DONE[step]), "success")
    return _see_other("housing.placement", placement_id=placement_id)


def _refused_step(
    item: Placement,
    step: str,
    form: StepForm,
    message: str,
    status: int,
    field: str | None = None,
) -> Response:
    """The placement page again: a wrong field gets its message beside it, input kept; a
    refusal by the rules (409) shows the message and the state the placement is in now."""
    item = visible_placement_or_404(current_user, item.id)
    operations.record_view(item, current_user)
    commit_view()
    if field is not None:
        return _placement_page(item, status, None, step, form, field_error=(field, message))
    return _placement_page(item, status, message, step, form)


@bp.post("/placements/<int:placement_id>/checks/<int:check_id>")
@roles_required(*PLACEMENT_USERS)
def record_check(placement_id: int, check_id: int) -> Response:
    item = visible_placement_or_404(current_user, placement_id)
    check = db.session.get(WellbeingCheck, check_id)
    if check is None or check.placement_id != item.id:
        abort(404)
    form = CheckForm()
    error: str | None = None
    if form.validate_on_submit():
        try:
            operations.record_check(
                check,
                form.done_on.data,
                form.wellbeing.data,
                form.notes.data,
                current_user,
                today(),
            )
        except DomainError as refused:
            db.session.rollback()
            error = refused.message
        else:
            db.session.commit()
            flash(_("Verifica registrata; la prossima è in calendario."), "success")
            return _see_other("housing.placement", placement_id=item.id)
    item = visible_placement_or_404(current_user, placement_id)
    operations.record_view(item, current_user)
    commit_view()
    status = 409 if error is not None else 422  # refused by the rules, or bad input
    return _placement_page(item, status, error, "check", check_form=form)


# Follow-ups ----------------------------------------------------------------------------------


@bp.get("/follow-ups")
@roles_required(*PLACEMENT_USERS)
def follow_ups() -> Response:
    day = today()
    rows = queries.follow_ups(current_user, day, limit=FOLLOW_UP_ROWS)
    query = queries.follow_ups_query(current_user, day)
    record_views("follow_ups_listed", [row.placement.household_id for row in rows])
    commit_view()
    return render(
        "housing/follow_ups.html",
        rows=[(row, _household_view(row.placement)) for row in rows],
        total=db.session.scalar(select(func.count()).select_from(query.subquery())) or 0,
        overdue=queries.overdue_checks_count(current_user, day),
        horizon=queries.FOLLOW_UP_HORIZON_DAYS,
        today=day,
        **VOCABULARY,
    )


# Eviction prevention -------------------------------------------------------------------------


@bp.get("/risk-cases")
@roles_required(*HOUSEHOLD_USERS)
def risk_cases() -> Response:
    day = today()
    status = request.args.get("stato", "open")
    status = status if status in ("open", "closed", "tutti") else "open"
    query = visible_risk_cases(current_user)
    if status != "tutti":
        query = query.where(HousingRiskCase.status == status)
    total = capped_total(query)
    pages = page_count(total, PAGE_SIZE)
    page = min(max(bounded_int(request.args.get("pagina")) or 1, 1), pages)
    cases = db.session.scalars(
        query.options(selectinload(HousingRiskCase.household).selectinload(Household.members))
        .order_by(HousingRiskCase.created_at.desc(), HousingRiskCase.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    deadlines = queries.upcoming_deadlines(current_user, day)
    record_views(
        "risk_cases_listed",
        [c.household_id for c in cases] + [d.case.household_id for d in deadlines],
        changes={"filters": {"stato": status}},
    )
    commit_view()
    return render(
        "housing/risk_cases.html",
        cases=cases,
        deadlines=deadlines,
        deadline_total=queries.deadline_count(current_user, day),
        horizon=queries.DEADLINE_HORIZON_DAYS,
        stato=status,
        total=total,
        page=page,
        pages=pages,
        today=day,
        **VOCABULARY,
    )


@bp.route("/risk-cases/new", methods=["GET", "POST"])
@roles_required(*HOUSEHOLD_USERS)
def new_risk_case() -> Response:
    household = _household_from_query()
    if not can_manage_risk_cases(current_user, household):
        abort(404)
    form = RiskCaseForm()
    top_error: str | None = None
    if form.validate_on_submit():
        try:
            case = operations.open_risk_case(household, form.values(), current_user)
        except DomainError as error:
            db.session.rollback()
            top_error = error.message
        else:
            db.session.commit()
            flash(_("Caso di prevenzione dello sfratto aperto."), "success")
            return _see_other("housing.risk_case", case_id=case.id)
    record_views("risk_case_form_viewed", [household], household)
    commit_view()  # a refused case was rolled back: only this event is saved
    return render(
        "housing/risk_case_new.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        household=household,
        top_error=top_error,
        **VOCABULARY,
    )


@bp.get("/risk-cases/<int:case_id>")
@roles_required(*HOUSEHOLD_USERS)
def risk_case(case_id: int) -> Response:
    case = visible_risk_case_or_404(current_user, case_id)
    record_views("risk_case_viewed", [case.household_id], case)
    commit_view()
    return _risk_case_page(case)


def _risk_case_page(
    case: HousingRiskCase,
    status: int = 200,
    form: RiskCaseForm | None = None,
    close_form: CloseRiskCaseForm | None = None,
    error: str | None = None,
) -> Response:
    if form is None:
        form = RiskCaseForm(formdata=None, obj=case)
    if close_form is None:
        close_form = CloseRiskCaseForm(formdata=None, closed_on=today())
    events = _timeline("housing_risk_case", case.id, "risk_case_viewed")
    return render(
        "housing/risk_case.html",
        status=status,
        case=case,
        form=form,
        close_form=close_form,
        error=error,
        can_manage=case.status == "open" and can_manage_risk_cases(current_user, case.household),
        can_open_household=_can_open_household(current_user, case.household_id),
        events=events,
        actors=_names(events),
        today=today(),
        **VOCABULARY,
    )


def _rerender_case(case_id: int, **context: Any) -> Response:
    case = visible_risk_case_or_404(current_user, case_id)
    record_views("risk_case_viewed", [case.household_id], case)
    commit_view()
    return _risk_case_page(case, **context)


@bp.post("/risk-cases/<int:case_id>/edit")
@roles_required(*HOUSEHOLD_USERS)
def edit_risk_case(case_id: int) -> Response:
    case = managed_risk_case_or_404(current_user, case_id)
    form = RiskCaseForm()
    if form.validate_on_submit():
        try:
            changes = operations.update_risk_case(case, form.values(), current_user)
        except DomainError as refused:
            db.session.rollback()
            return _rerender_case(case_id, status=422, form=form, error=refused.message)
        db.session.commit()
        flash(_("Caso aggiornato.") if changes else _("Nessuna modifica da salvare."), "success")
        return _see_other("housing.risk_case", case_id=case.id)
    return _rerender_case(case_id, status=422, form=form)


@bp.post("/risk-cases/<int:case_id>/close")
@roles_required(*HOUSEHOLD_USERS)
def close_risk_case(case_id: int) -> Response:
    case = managed_risk_case_or_404(current_user, case_id)
    form = CloseRiskCaseForm()
    if form.validate_on_submit():
        try:
            operations.close_risk_case(
                case, form.outcome.data, form.closed_on.data, current_user, today()
            )
        except DomainError as refused:
            db.session.rollback()
            return _rerender_case(case_id, status=409, close_form=form, error=refused.message)
        db.session.commit()
        flash(_("Caso chiuso."), "success")
        return _see_other("housing.risk_case", case_id=case.id)
    return _rerender_case(case_id, status=422, close_form=form)
