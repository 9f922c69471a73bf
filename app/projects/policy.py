"""Who sees and changes which project: asked here, never re-derived in a view.

Projects follow their household: the organization that took the household in charge runs them,
the City sees them all and approves them and their budgets; housing providers and admins see none.
Everything else answers 404.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, false, select

from app.auth.models import Role, User
from app.extensions import db
from app.projects.models import Project

USERS = (Role.COORDINATOR, Role.ENTITY_OPERATOR)


def visible_projects(user: User) -> Select[tuple[Project]]:
    query = select(Project)
    if user.has_role(Role.COORDINATOR):
        return query
    if user.has_role(Role.ENTITY_OPERATOR) and user.organization_id is not None:
        return query.where(Project.organization_id == user.organization_id)
    return query.where(false())


def visible_project_or_404(user: User, project_id: int) -> Project:
    project = db.session.scalar(visible_projects(user).where(Project.id == project_id))
    if project is None:
        abort(404)
    return project


def runs_project(user: User, project: Project) -> bool:
    """The owning organization's operators write the project (until it is closed)."""
    return user.has_role(Role.ENTITY_OPERATOR) and user.organization_id == project.organization_id


def run_project_or_404(user: User, project_id: int) -> Project:
    """A project of the user's organization, to work on (others are not there for them)."""
    project = visible_project_or_404(user, project_id)
    if not runs_project(user, project):
        abort(404)
    return project


def can_edit(user: User, project: Project) -> bool:
    return runs_project(user, project) and not project.read_only


def can_decide(user: User) -> bool:
    """Approving projects, budgets and increases: the City's job."""
    return user.has_role(Role.COORDINATOR)
