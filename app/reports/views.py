"""Report pages: the City's monitoring report (filters in the URL), and its CSV and XLSX exports
(aggregate figures only, suppressed as on the page). Coordinators only: the city report is
nobody else's (403)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Response, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from app.audit.operations import record
from app.auth.models import Role
from app.auth.policy import roles_required
from app.clock import today
from app.db import utcnow
from app.exports import Sheet, csv_response, xlsx_response
from app.i18n import gettext as _
from app.reports import bp
from app.reports.forms import ReportFilterForm
from app.reports.queries import ACTION_LINES, ReportFilters
from app.reports.tables import (
    Cell,
    Report,
    build_report,
    circ_label,
    display,
)
from app.web.cache import cached
from app.web.htmx import render
from app.web.transactions import finish

PAGE = "reports/index.html"
SECTIONS = "reports/_sections.html"


def _form() -> ReportFilterForm:
    form = ReportFilterForm(formdata=request.args, today=today())
    form.validate()
    return form


def _sections(report: Report) -> Markup:
    """The report's sections as HTML: a city-wide report is about 200 KiB of tables."""
    # The template escapes every value: its output is HTML already.
    return Markup(render_template(SECTIONS, report=report, cell=display))  # noqa: S704


def _page(
    form: ReportFilterForm,
    report: Report | None,
    status: int = 200,
    computed_at: datetime | None = None,
    sections: Markup | None = None,
) -> Response:
    export_args: dict[str, Any] = {}
    if report is not None:
        export_args = {
            key: value
            for key, value in {
                "dal": report.filters.start.isoformat(),
                "al": report.filters.end.isoformat(),
                "circ": report.filters.circ,
                "linea": report.filters.line,
            }.items()
            if value
        }
    return render(
        PAGE,
        status=status,
        form=form,
        report=report,
        computed_at=computed_at,
        sections=sections,
        export_args=export_args,
        circ_label=circ_label,
        action_lines=ACTION_LINES,
    )


def _invalid(form: ReportFilterForm) -> Response:
    return _page(form, None, status=422)


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> Response:
    form = _form()
    if form.errors:
        return _invalid(form)
    filters, day = form.filters(), today()
    key = ("report", current_user.role, current_user.organization_id, filters, day, get_locale())

    def compute() -> tuple[Report, Markup]:
        report = build_report(current_user, filters, day)
        return report, _sections(report)

    (report, sections), computed_at = cached(key, compute, "REPORT_CACHE_SECONDS")
    return _page(
        form, report, computed_at=datetime.fromtimestamp(computed_at, UTC), sections=sections
    )


# Exports ------------------------------------------------------------------------------------


def _filename(filters: ReportFilters) -> str:
    name = f"report-monitoraggio_{filters.start.isoformat()}_{filters.end.isoformat()}"
    if filters.circ:
        name += f"_circoscrizione-{filters.circ}"
    if filters.line:
        name += f"_linea-{filters.line}"
    return name


def _filter_rows(filters: ReportFilters) -> list[tuple[str, Cell | date]]:
    return [
        (_("Dal"), filters.start),
        (_("Al"), filters.end),
        (
            _("Circoscrizione"),
            circ_label(filters.circ) if filters.circ else _("Tutta la città"),
        ),
        (
            _("Linea di azione"),
            f"{filters.line} · {ACTION_LINES[filters.line]}"
            if filters.line
            else _("Tutte le linee"),
        ),
        (
            _("Nota"),
            _(
                "Dati aggregati: nessun dato per singola persona, nessun testo libero; i"
                " conteggi di persone o nuclei da 1 a 4 sono indicati come «<5», e «n.d.» è un"
                " conteggio nascosto perché dai totali non si possa ricavare un «<5»."
            ),
        ),
    ]


def _audited(response: Response, kind: str, filters: ReportFilters) -> Response:
    """The export is written down in the audit log, in the same transaction."""
    record("report_exported", None, {"format": kind, **filters.as_audit()})
    return finish(response)


@bp.get("/export.csv")
@roles_required(Role.COORDINATOR)
def export_csv() -> Response:
    """Every table of the report in one sheet, one figure per row (section, table, row, column,
    value): a long format any spreadsheet can pivot."""
    form = _form()
    if form.errors:
        return _invalid(form)
    filters = form.filters()
    report = build_report(current_user, filters, today(), with_charts=False)
    header = [_("Sezione"), _("Tabella"), _("Voce"), _("Colonna"), _("Valore")]
    rows: list[list[Any]] = [
        [_("Filtri"), "", label, "", value] for label, value in _filter_rows(filters)
    ]
    rows.append([_("Filtri"), "", _("Estratto il"), "", utcnow()])
    for section, table in report.tables():
        for row in table.all_rows():
            for column, value in zip(table.columns[1:], row[1:], strict=True):
                rows.append([section.title, table.caption, row[0], column, value])
    return _audited(csv_response(_filename(filters), header, rows), "csv", filters)


@bp.get("/export.xlsx")
@roles_required(Role.COORDINATOR)
def export_xlsx() -> Response:
    """One sheet for the filters, one per table of the report: the same cells as the page and
    the CSV. No sheet lists people one per row, even under a pseudonym: rows grouped by district
    would let anyone count the people behind a "<5"."""
    form = _form()
    if form.errors:
        return _invalid(form)
    filters = form.filters()
    report = build_report(current_user, filters, today(), with_charts=False)
    sheets = [
        Sheet(
            _("Filtri"),
            [_("Filtro"), _("Valore")],
            [*_filter_rows(filters), (_("Estratto il"), utcnow())],
        )
    ]
    sheets += [Sheet(table.sheet, table.columns, table.all_rows()) for _s, table in report.tables()]
    return _audited(xlsx_response(_filename(filters), sheets), "xlsx", filters)
