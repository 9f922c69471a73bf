"""The headline figures of the home pages, each with the list it links to. Counted in SQL,
within what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import url_for
from sqlalchemy import Select, func, select

from app.auth.models import Role, User
from app.distributions.models import Distribution
from app.distributions.policy import visible_distributions
from app.extensions import db
from app.households.models import Household
from app.households.policy import visible_households
from app.housing.models import HousingUnit
from app.housing.policy import visible_units
from app.housing.queries import stale_before
from app.i18n import lazy_gettext as _l
from app.projects.models import Project
from app.projects.policy import visible_projects
from app.referrals.models import Referral
from app.referrals.policy import visible_referrals
from app.referrals.queries import overdue_clause
from app.workdays import month_start_utc


@dataclass(frozen=True)
class Figure:
    label: object
    value: int
    url: str
    alert: bool = False  # something is late: shown with a warning badge and words


def _count(query: Select[tuple[object]]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def for_user(user: User, today: date) -> list[Figure]:
    figures: list[Figure] = []
    if user.has_role(Role.COORDINATOR, Role.ENTITY_OPERATOR):
        figures.append(
            Figure(
                _l("Nuclei in carico"),
                _count(visible_households(user).where(Household.status == "active")),
                url_for("households.index"),
            )
        )
        figures.append(
            Figure(
                _l("Distribuzioni di questo mese"),
                _count(
                    visible_distributions(user).where(
                        Distribution.distributed_on >= today.replace(day=1)
                    )
                ),
                url_for("distributions.index"),
            )
        )
        figures.append(
            Figure(
                _l("Segnalazioni inviate questo mese"),
                _count(
                    visible_referrals(user).where(Referral.submitted_at >= month_start_utc(today))
                ),
                url_for("referrals.index"),
            )
        )
        overdue = _count(visible_referrals(user).where(overdue_clause(today)))
        figures.append(
            Figure(
                _l("Segnalazioni in ritardo"),
                overdue,
                url_for("referrals.index", scadute=1),
                alert=overdue > 0,
            )
        )
        figures.append(
            Figure(
                _l("Progetti in corso"),
                _count(visible_projects(user).where(Project.status == "active")),
                url_for("projects.index", stato="active"),
            )
        )
    if user.has_role(Role.COORDINATOR, Role.HOUSING_PROVIDER):
        units = visible_units(user).where(HousingUnit.active.is_(True))
        own = user.has_role(Role.HOUSING_PROVIDER)
        if own:
            units = units.where(HousingUnit.provider_id == user.organization_id)
        board = url_for("housing.index", miei=1) if own else url_for("housing.index")
        free = (
            db.session.scalar(select(func.coalesce(func.sum(units.subquery().c.vacancies), 0))) or 0
        )
        figures.append(Figure(_l("Posti liberi ora"), int(free), board))
        stale = _count(units.where(HousingUnit.vacancies_updated_at < stale_before()))
        figures.append(
            Figure(_l("Alloggi non aggiornati da 7 giorni"), stale, board, alert=stale > 0)
        )
    return figures
