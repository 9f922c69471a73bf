"""The list of projects with its filters, and its exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from app.audit.operations import commit_view, record_views
from app.auth.models import Role, User
from app.auth.policy import roles_required
from app.clock import today
from app.exports import ROW_LIMIT
from app.extensions import db
from app.households.models import Household
from app.i18n import gettext as _
from app.projects import bp
from app.projects.models import BudgetLine, Project
from app.projects.operations import totals
from app.projects.policy import USERS, visible_projects
from app.projects.views.common import VOCABULARY
from app.projects.vocabulary import STATUSES
from app.registry.models import Organization
from app.web.fields import bounded_int
from app.web.htmx import push_url, render, wants_fragment
from app.web.list_export import Column, export_list
from app.web.paging import paginate

PAGE_SIZE = 25


@dataclass(frozen=True)
class ProjectFilters:
    stato: str = ""
    ente: int | None = None
    giovani: bool = False
    circ: int | None = None
    aumenti: bool = False  # only projects with a budget increase waiting for the City
    pagina: int = 1

    @classmethod
    def from_args(cls, args: MultiDict[str, str], coordinator: bool) -> ProjectFilters:
        circ = bounded_int(args.get("circ"))
        return cls(
            stato=args.get("stato", "") if args.get("stato") in STATUSES else "",
            ente=bounded_int(args.get("ente")) if coordinator else None,
            giovani=args.get("giovani") == "1",
            circ=circ if circ in range(1, 9) else None,
            aumenti=args.get("aumenti") == "1",
            pagina=max(min(bounded_int(args.get("pagina")) or 1, 100000), 1),
        )

    def url_args(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "stato": self.stato,
            "ente": self.ente,
            "giovani": "1" if self.giovani else None,
            "circ": self.circ,
            "aumenti": "1" if self.aumenti else None,
            "pagina": self.pagina,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "") and (k, v) != ("pagina", 1)}


def filtered_projects(user: User, filters: ProjectFilters) -> Any:
    query = visible_projects(user)
    if filters.stato:
        query = query.where(Project.status == filters.stato)
    if filters.ente:
        query = query.where(Project.organization_id == filters.ente)
    if filters.giovani:
        query = query.where(Project.youth.is_(True))
    if filters.aumenti:  # what the coordinator's home counts as "aumenti di budget da decidere"
        query = query.where(
            Project.status != "closed",
            Project.id.in_(
                select(BudgetLine.project_id).where(BudgetLine.increase_requested.is_not(None))
            ),
        )
    if filters.circ:
        query = query.where(
            Project.household_id.in_(
                select(Household.id).where(Household.circoscrizione == filters.circ)
            )
        )
    return query


def _organization_options() -> list[tuple[int, str]]:
    """The organizations that run projects: the choices of the coordinator's filter."""
    running = select(Project.organization_id).distinct()
    rows = db.session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.id.in_(running))
        .order_by(Organization.name, Organization.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


@bp.get("/")
@roles_required(*USERS)
def index() -> Response:
    coordinator = current_user.has_role(Role.COORDINATOR)
    filters = ProjectFilters.from_args(request.args, coordinator)
    query = filtered_projects(current_user, filters)
    paging = paginate(query, filters.pagina, PAGE_SIZE)
    projects = db.session.scalars(
        paging.rows_of(
            query.options(
                selectinload(Project.lines),
                selectinload(Project.person),
                selectinload(Project.organization),
                selectinload(Project.household).selectinload(Household.members),
            ).order_by(Project.status_changed_at.desc(), Project.id.desc())
        )
    ).all()
    record_views(
        "projects_listed",
        [p.household_id for p in projects],
        changes={"filters": filters.url_args(pagina=paging.number)},
    )
    commit_view()
    response = render(
        "projects/index.html",
        "projects/_results.html",
        rows=[(project, totals(project.lines)) for project in projects],
        filters=filters,
        **paging.context(),
        show_organization=coordinator,
        organization_options=_organization_options() if coordinator else [],
        can_see_programme=coordinator,
        **VOCABULARY,
    )
    if wants_fragment():
        push_url(response, "projects.index", **filters.url_args())
    return response


def _project_export(kind: str) -> Response:
    """The list with its current filters, as a spreadsheet; the export is an audit event."""
    coordinator = current_user.has_role(Role.COORDINATOR)
    filters = ProjectFilters.from_args(request.args, coordinator)
    projects = list(
        db.session.scalars(
            filtered_projects(current_user, filters)
            .options(
                selectinload(Project.lines),
                selectinload(Project.person),
                selectinload(Project.organization),
                selectinload(Project.household).selectinload(Household.members),
            )
            .order_by(Project.status_changed_at.desc(), Project.id.desc())
            .limit(ROW_LIMIT + 1)
        )
    )
    # Each project with the totals of its budget lines.
    columns: list[Column[tuple[Project, Any]]] = [
        Column(_("N."), lambda shown: shown[0].id),
        Column(_("Progetto"), lambda shown: shown[0].title),
        Column(_("Persona"), lambda shown: shown[0].person.full_name if shown[0].person else ""),
        Column(_("Nucleo"), lambda shown: shown[0].household.display_name),
        Column(_("Ente"), lambda shown: shown[0].organization.name),
        Column(_("Giovani 18-29"), lambda shown: shown[0].youth),
        Column(_("Stato"), lambda shown: str(STATUSES.get(shown[0].status, shown[0].status))),
        Column(_("Inizio"), lambda shown: shown[0].starts_on),
        Column(_("Fine"), lambda shown: shown[0].ends_on),
        Column(_("Previsto"), lambda shown: shown[1].planned),
        Column(_("Approvato"), lambda shown: shown[1].approved),
        Column(_("Impegnato"), lambda shown: shown[1].committed),
        Column(_("Pagato"), lambda shown: shown[1].paid),
        Column(_("Disponibile"), lambda shown: shown[1].available),
    ]
    return export_list(
        kind,
        [(project, totals(project.lines)) for project in projects[:ROW_LIMIT]],
        columns,
        cut_at=ROW_LIMIT if len(projects) > ROW_LIMIT else None,
        household_of=lambda shown: shown[0].household_id,
        filename=f"progetti-{today().isoformat()}",
        title=_("Progetti"),
        action="projects_exported",
        changes={"filters": filters.url_args(pagina=1)},
    )


@bp.get("/export.csv")
@roles_required(*USERS)
def export_csv() -> Response:
    return _project_export("csv")


@bp.get("/export.xlsx")
@roles_required(*USERS)
def export_xlsx() -> Response:
    return _project_export("xlsx")
