"""The home page of each role."""

from __future__ import annotations

from flask import Response
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.admin.forms import ROLE_LABELS
from app.audit.operations import commit_view, record_views
from app.auth.models import Role, User
from app.clock import today
from app.extensions import db
from app.home import bp, figures
from app.households import consents
from app.households.models import JointCareRequest
from app.households.vocabulary import CONSENT_PURPOSES
from app.housing import dashboard as housing_dashboard
from app.projects import dashboard as projects_dashboard
from app.projects.vocabulary import STATUS_BADGES as PROJECT_BADGES
from app.projects.vocabulary import STATUSES as PROJECT_STATUSES
from app.referrals import dashboard as referral_dashboard
from app.referrals.vocabulary import STATUS_BADGES, STATUSES
from app.registry import dashboard
from app.supplies import queries as supply_queries
from app.web.htmx import render
from app.web.nav import nav_for


@bp.get("/")
@login_required
def index() -> Response:
    role = current_user.role_enum
    context: dict[str, object] = {"areas": nav_for(role)[1:], "role_label": ROLE_LABELS[role]}
    if role == Role.ADMIN:
        rows = db.session.execute(
            select(User.role, User.active, func.count()).group_by(User.role, User.active)
        ).all()
        counts: dict[str, dict[bool, int]] = {}
        for user_role, active, n in rows:
            counts.setdefault(user_role, {True: 0, False: 0})[active] = n
        context["user_counts"] = [
            (r, ROLE_LABELS[r], counts.get(r, {}).get(True, 0), counts.get(r, {}).get(False, 0))
            for r in Role
        ]
    if role == Role.COORDINATOR:
        context["referral_queue"] = referral_dashboard.coordinator_queue(today())
        context["to_verify"] = dashboard.accreditations_to_verify()
        context["expiring"] = dashboard.accreditations_expiring(today())
        pending_joint = select(JointCareRequest).where(JointCareRequest.status == "pending")
        context["joint_total"] = (
            db.session.scalar(select(func.count()).select_from(pending_joint.subquery())) or 0
        )
        context["short_supplies"] = supply_queries.short_rows(current_user, today())
        context["joint_requests"] = db.session.scalars(
            pending_joint.options(joinedload(JointCareRequest.requesting_organization))
            .order_by(JointCareRequest.created_at, JointCareRequest.id)
            .limit(dashboard.HOME_ROWS)
        ).all()
    if role == Role.ENTITY_OPERATOR and current_user.organization_id:
        context["incoming"] = referral_dashboard.incoming(current_user.organization_id, today())
        context["outgoing"] = referral_dashboard.outgoing_counts(current_user.organization_id)
        context["referral_statuses"] = STATUSES
        context["status_badges"] = STATUS_BADGES
        context["consents_total"], context["consents_expiring"] = consents.expiring(
            current_user, today(), dashboard.HOME_ROWS
        )
        context["consent_purposes"] = CONSENT_PURPOSES
    if role in (Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER) and current_user.organization_id:
        context["stale_services"] = dashboard.stale_services(current_user.organization_id, today())
    if role in (Role.COORDINATOR, Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER):
        context["housing"] = housing_dashboard.for_user(current_user, today())
    if role in (Role.COORDINATOR, Role.ENTITY_OPERATOR):
        context["projects_home"] = projects_dashboard.for_user(current_user)
        context["project_statuses"] = PROJECT_STATUSES
        context["project_badges"] = PROJECT_BADGES
    context["figures"] = figures.for_user(current_user, today())
    context["today"] = today()
    record_views("home_viewed", _households_shown(context))
    commit_view()
    return render(f"home/{role.value}.html", **context)


def _households_shown(context: dict[str, object]) -> list[int]:
    """The households the dashboard names: referrals and placements waiting, joint-care
    requests, eviction deadlines."""
    shown = [
        referral.household_id
        for key in ("referral_queue", "incoming")
        if key in context
        for referral in context[key].oldest  # type: ignore[attr-defined]
    ]
    shown += [r.household_id for r in context.get("joint_requests", [])]  # type: ignore[attr-defined]
    shown += [c.household_id for c in context.get("consents_expiring", [])]  # type: ignore[attr-defined]
    housing = context.get("housing")
    if housing is not None:
        shown += [p.household_id for p in housing.waiting]  # type: ignore[attr-defined]
        shown += [d.case.household_id for d in housing.deadlines]  # type: ignore[attr-defined]
    return shown
