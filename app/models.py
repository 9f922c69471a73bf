"""Every model of the portal, imported in one place for SQLAlchemy and Alembic."""

from app.admin.models import AccountChangeRequest, Setting
from app.audit.models import AuditEvent, AuditEventHousehold
from app.auth.models import User
from app.cards.models import HouseholdCard
from app.counter.models import CounterEntry, CounterKey
from app.distributions.models import Distribution
from app.downloads.models import ExportFile
from app.households.models import (
    Consent,
    ConsentShare,
    Household,
    JointCareRequest,
    Person,
)
from app.housing.models import HousingRiskCase, HousingUnit, Placement, WellbeingCheck
from app.idempotency import Submission
from app.notifications.models import Notification, OutboundEmail
from app.projects.models import BudgetLine, Project, ProjectGoal, ProjectMeeting
from app.referrals.models import Referral, ReferralStatusChange
from app.registry.models import Accreditation, Organization, Service, Site
from app.supplies.models import (
    SupplyBalance,
    SupplyDelivery,
    SupplyDeliveryLine,
    SupplyItem,
    SupplyMovement,
)

__all__ = [
    "AccountChangeRequest",
    "Accreditation",
    "AuditEvent",
    "AuditEventHousehold",
    "BudgetLine",
    "Consent",
    "ConsentShare",
    "CounterEntry",
    "CounterKey",
    "Distribution",
    "ExportFile",
    "Household",
    "HouseholdCard",
    "HousingRiskCase",
    "HousingUnit",
    "JointCareRequest",
    "Notification",
    "Organization",
    "OutboundEmail",
    "Person",
    "Placement",
    "Project",
    "ProjectGoal",
    "ProjectMeeting",
    "Referral",
    "ReferralStatusChange",
    "Service",
    "Setting",
    "Site",
    "Submission",
    "SupplyBalance",
    "SupplyDelivery",
    "SupplyDeliveryLine",
    "SupplyItem",
    "SupplyMovement",
    "User",
    "WellbeingCheck",
]
