"""What the audit log needs from the domains, handed to it at app creation.

`app.audit` is shared core and imports no domain (the import-linter contracts in pyproject.toml):
it defines hooks (`register_vocabularies` for the words of the codes in an event's changes,
`register_object_pages` for the link of an event's object and the policy that decides whether the
reader may follow it, `register_organization_model` for the actors' organizations) and this
module, above both, wires the domains in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select

from app.audit.format import register_vocabularies
from app.audit.policy import register_object_pages
from app.audit.views import register_organization_model


def vocabularies() -> dict[tuple[str | None, str], dict[str, Any]]:
    """(object type or None, field) -> the domain vocabulary that names its codes. Imported on
    first use: the vocabularies' modules import much of the portal."""
    from app.admin.forms import REQUEST_KINDS, REQUEST_STATUSES, ROLE_LABELS
    from app.households import vocabulary as households
    from app.housing import vocabulary as housing
    from app.projects import vocabulary as projects
    from app.referrals import vocabulary as referrals
    from app.registry import vocabulary as registry
    from app.rights.operations import JOINT_CARE_STATUSES

    placement_reasons = {
        **housing.REJECT_REASONS,
        **housing.DECLINE_REASONS,
        **housing.CANCEL_REASONS,
        **housing.EXIT_REASONS,
    }
    referral_reasons = {
        **referrals.REJECT_REASONS,
        **referrals.DECLINE_REASONS,
        **referrals.OUTCOMES_COMPLETED,
        **referrals.OUTCOMES_FAILED,
    }
    return {
        ("household", "status"): households.HOUSEHOLD_STATUSES,
        ("household", "closing_reason"): households.CLOSING_REASONS,
        ("joint_care_request", "status"): JOINT_CARE_STATUSES,
        ("placement", "status"): housing.PLACEMENT_STATUSES,
        ("placement", "reason_code"): placement_reasons,
        ("referral", "status"): referrals.STATUSES,
        ("referral", "reason_code"): referral_reasons,
        ("project", "status"): projects.STATUSES,
        ("project_goal", "status"): projects.GOAL_STATUSES,
        ("housing_risk_case", "status"): housing.RISK_STATUSES,
        ("housing_risk_case", "kind"): housing.RISK_KINDS,
        ("accreditation", "status"): registry.ACCREDITATION_STATUSES,
        ("housing_unit", "kind"): housing.UNIT_KINDS,
        ("account_change_request", "kind"): REQUEST_KINDS,
        ("account_change_request", "status"): REQUEST_STATUSES,
        (None, "kind"): households.DISTRIBUTION_KINDS,
        (None, "sex"): households.SEXES,
        (None, "relation"): households.RELATIONS,
        (None, "employment_status"): households.EMPLOYMENT,
        (None, "education"): households.EDUCATION,
        (None, "languages"): registry.LANGUAGES,
        (None, "housing_situation"): households.HOUSING,
        (None, "needs"): households.NEEDS,
        (None, "sharing_scope"): households.SHARING_SCOPES,
        (None, "purpose"): households.CONSENT_PURPOSES,
        (None, "need"): referrals.NEED_LABELS,
        (None, "target_groups"): housing.TARGET_GROUPS,
        (None, "wellbeing"): housing.WELLBEING,
        (None, "actions"): housing.RISK_ACTIONS,
        (None, "outcome"): housing.RISK_OUTCOMES,
        (None, "category"): projects.CATEGORIES,
        (None, "service_type"): registry.SERVICE_TYPES,
        (None, "legal_form"): registry.LEGAL_FORMS,
        (None, "runts_section"): registry.RUNTS_SECTIONS,
        (None, "functions"): registry.ACCREDITATION_FUNCTIONS,
        (None, "weekdays"): registry.WEEKDAYS,
        (None, "role"): {str(role): label for role, label in ROLE_LABELS.items()},
    }


def object_pages() -> dict[str, tuple[Callable[[Any], Select[Any]], str, str]]:
    """Object type -> (visible_* select, page endpoint, id argument of the endpoint)."""
    from app.households.policy import visible_households
    from app.housing.policy import visible_placements, visible_risk_cases, visible_units
    from app.projects.policy import visible_projects
    from app.referrals.policy import visible_referrals
    from app.registry.policy import visible_organizations

    return {
        "household": (visible_households, "households.detail", "household_id"),
        "referral": (visible_referrals, "referrals.detail", "referral_id"),
        "placement": (visible_placements, "housing.placement", "placement_id"),
        "project": (visible_projects, "projects.detail", "project_id"),
        "organization": (visible_organizations, "registry.detail", "org_id"),
        "housing_risk_case": (visible_risk_cases, "housing.risk_case", "case_id"),
        "housing_unit": (visible_units, "housing.unit", "unit_id"),
    }


def register_audit() -> None:
    register_vocabularies(vocabularies)
    register_object_pages(object_pages)
    from app.registry.models import Organization

    register_organization_model(Organization)
