"""The household page's projects section, an htmx fragment (app.households.sections)."""

from __future__ import annotations

from flask import Response
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.auth.policy import roles_required
from app.extensions import db
from app.households.policy import USERS
from app.households.sections import open_section, render_section
from app.i18n import gettext as _
from app.projects import bp
from app.projects.models import Project
from app.projects.policy import visible_projects
from app.projects.vocabulary import STATUS_BADGES, STATUSES


@bp.get("/household/<int:household_id>")
@roles_required(*USERS)
def household_section(household_id: int) -> Response:
    household = open_section(household_id, "projects")
    projects = db.session.scalars(
        visible_projects(current_user)
        .where(Project.household_id == household.id)
        .options(selectinload(Project.person))
        .order_by(Project.created_at.desc(), Project.id.desc())
        .limit(50)
    ).all()
    return render_section(
        "projects/_household_section.html",
        household,
        _("Progetti individualizzati"),
        projects=projects,
        project_statuses=STATUSES,
        project_badges=STATUS_BADGES,
    )
