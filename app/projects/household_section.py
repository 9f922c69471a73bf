"""The household page's projects section, an htmx fragment (app.households.sections)."""

from __future__ import annotations

from sqlalchemy.orm import selectinload

from app.households.sections import Rows, household_section
from app.i18n import lazy_gettext as _l
from app.projects import bp
from app.projects.models import Project
from app.projects.policy import visible_projects
from app.projects.vocabulary import STATUS_BADGES, STATUSES

household_section(
    bp,
    _l("Progetti individualizzati"),
    {"projects": Rows(visible_projects, Project, (selectinload(Project.person),))},
    project_statuses=STATUSES,
    project_badges=STATUS_BADGES,
)
