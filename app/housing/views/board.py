"""The availability board and the housing units: the live list, its exports, a unit's page,
its form and the provider's update of the free places."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, abort, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.audit.operations import commit_view, record_views
from app.auth.models import Role
from app.auth.policy import roles_required
from app.clock import today
from app.db import utcnow
from app.errors import DomainError
from app.exports import ROW_LIMIT, Sheet, csv_response, limit_note, xlsx_response
from app.extensions import db
from app.households.models import Household
from app.housing import bp, operations, queries
from app.housing.forms import EditUnitForm, NewUnitForm, VacancyForm
from app.housing.models import HousingUnit, Placement
from app.housing.operations import VersionConflict
from app.housing.policy import (
    BOARD_READERS,
    can_edit_unit,
    can_manage_units,
    editable_unit_or_404,
    visible_placements,
    visible_unit_or_404,
)
from app.housing.views.common import VOCABULARY, household_view, see_other
from app.housing.vocabulary import TARGET_GROUPS, UNIT_KINDS
from app.i18n import gettext as _
from app.registry.models import CIRCOSCRIZIONI
from app.web.fields import bounded_int
from app.web.headers import revalidated
from app.web.htmx import push_url, render, wants_fragment
from app.web.transactions import finish, roll_back
from app.web.versions import versions

BOARD_LIMIT = 60  # rows shown on the board (filters narrow it); the totals count every unit
BOARD_LIVE_ID = "board-live"  # the element that refreshes the board every 30 seconds


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


def _board_etag(filters: queries.BoardFilters, now: datetime) -> str:
    """What the board's answer depends on: the units' and organizations' data (their versions,
    app/web/versions.py), who asks (what they may edit, their forms), the filters, the language,
    full page or fragment, and the minute it shows. The same tag, the same bytes (#21)."""
    kept = versions()
    parts = (
        kept.get("housing"),
        kept.get("users"),
        current_user.id,
        sorted(filters.url_args().items()),
        str(get_locale()),
        request.headers.get("HX-Request"),
        request.headers.get("HX-Target"),
        now.isoformat(),
    )
    if parts[0] is None or parts[1] is None:
        return ""  # no version to tell a change by: always drawn afresh
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


@bp.get("/")
@roles_required(*BOARD_READERS)
def index() -> Response:
    filters = queries.BoardFilters.from_args(request.args, current_user)
    # To the minute, as the board shows it: a refresh within the minute, with nothing changed,
    # is answered "304 Not Modified" (the board holds no personal data).
    now = utcnow().replace(second=0, microsecond=0)
    etag = _board_etag(filters, now)
    if etag and etag in request.if_none_match:
        return revalidated(Response(status=304), etag)
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
        push_url(response, "housing.index", **filters.url_args())
    return revalidated(response, etag) if etag else response


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
            roll_back()
            form.vacancies.errors = [error.message]
        else:
            return finish(
                see_other("housing.unit", unit_id=unit.id),
                _("Alloggio registrato: ora compare nella bacheca."),
            )
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
            roll_back()
            conflict, status = error.message, 409
        except StaleDataError:  # changed between our read and our write
            roll_back()
            unit = editable_unit_or_404(current_user, unit_id)
            conflict, status = _conflict_message(unit), 409
        except DomainError as error:
            roll_back()
            form.capacity.errors = [error.message]
        else:
            return finish(
                see_other("housing.unit", unit_id=unit.id),
                _("Dati dell'alloggio aggiornati.")
                if changes
                else _("Nessuna modifica da salvare."),
            )
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
        placements=[(p, household_view(p)) for p in placements],
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
            roll_back()
            error, status, typed = conflict.message, 409, None
        except DomainError as refused:
            roll_back()
            error, status = refused.message, 422
        except ValueError:
            roll_back()
            error, status = _("Scrivi il numero di posti liberi: un numero intero da 0 in su."), 422
        else:
            typed = None
    # The unit as it is now (after a refusal, what a colleague saved); the answer is prepared
    # before the change is committed.
    item = db.session.get(HousingUnit, unit_id, populate_existing=True) or item
    if wants_fragment():
        template = "housing/_vacancy_panel.html" if back == "unit" else "housing/_unit_row.html"
        panel = render(
            template,
            status=status,
            row=_board_row(item),
            unit=item,
            error=error,
            typed=typed,
            saved=saved,
            **VOCABULARY,
        )
        return finish(panel) if error is None else panel
    if error is None:
        if back == "unit":
            answer = see_other("housing.unit", unit_id=item.id)
        else:
            answer = see_other("housing.index", miei="1")
        return finish(answer, saved or _("Posti liberi aggiornati."))
    return _unit_page(item, error=error, typed=typed, status=status)
