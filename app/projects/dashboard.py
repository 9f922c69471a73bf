"""The project figures of the home pages: what waits for whom."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.auth.models import Role, User
from app.extensions import db
from app.projects.models import BudgetLine, Project
from app.projects.policy import visible_projects


@dataclass(frozen=True)
class ProjectsHome:
    by_status: dict[str, int]
    increases_waiting: int  # budget increases waiting for the City


def for_user(user: User) -> ProjectsHome:
    scoped = visible_projects(user).subquery()
    rows = db.session.execute(select(scoped.c.status, func.count()).group_by(scoped.c.status)).all()
    increases = 0
    if user.has_role(Role.COORDINATOR):
        increases = (
            db.session.scalar(
                select(func.count())
                .select_from(BudgetLine)
                .join(Project, Project.id == BudgetLine.project_id)
                .where(BudgetLine.increase_requested.is_not(None), Project.status != "closed")
            )
            or 0
        )
    return ProjectsHome(by_status={row[0]: row[1] for row in rows}, increases_waiting=increases)
