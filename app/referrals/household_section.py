"""The household page's referrals section, an htmx fragment (app.households.sections)."""

from __future__ import annotations

from sqlalchemy.orm import selectinload

from app.households.sections import Rows, household_section
from app.i18n import lazy_gettext as _l
from app.referrals import bp
from app.referrals.models import Referral
from app.referrals.policy import visible_referrals
from app.referrals.vocabulary import NEED_LABELS, STATUS_BADGES, STATUSES

WITH_SERVICE = (selectinload(Referral.service), selectinload(Referral.person))
household_section(
    bp,
    _l("Segnalazioni"),
    {"referrals": Rows(visible_referrals, Referral, WITH_SERVICE)},
    referral_statuses=STATUSES,
    referral_badges=STATUS_BADGES,
    referral_needs=NEED_LABELS,
)
