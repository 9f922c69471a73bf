"""Nightly reminders (`flask --app wsgi send-reminders`): what will go wrong unless someone acts.

- An accreditation that expires within REMIND_DAYS: the entity's operators and the City are told
  (once per accreditation and expiry date), so it is renewed before referrals stop.
- Housing units whose free places were not confirmed for a week (stale on the board): the
  provider's staff are told, at most once a week.

- A hub whose stock of an item covers fewer days than the setting (at the pace of the last four
  weeks): its operators and the City are told, once per shortage episode (app/supplies).

All ask someone to act, so they also go by e-mail as each user chose (app/notifications/mail.py).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.auth.models import Role
from app.db import utcnow
from app.extensions import db
from app.housing.models import HousingUnit
from app.housing.queries import stale_before
from app.notifications.models import Notification
from app.notifications.operations import coordinators, notify, staff_of
from app.registry.models import Accreditation, Organization

REMIND_DAYS = 30
STALE_EVERY = timedelta(days=7)


def _already(kind: str, org_id: int, since: object = None, **params: object) -> bool:
    query = select(Notification.id, Notification.params).where(
        Notification.kind == kind,
        Notification.object_type == Organization.__tablename__,
        Notification.object_id == org_id,
    )
    if since is not None:
        query = query.where(Notification.created_at >= since)
    return any(
        all((row.params or {}).get(k) == v for k, v in params.items())
        for row in db.session.execute(query)
    )


def remind_expiring_accreditations(today: date) -> int:
    """Tell each entity whose accreditation expires within REMIND_DAYS; returns how many."""
    due = db.session.execute(
        select(Accreditation, Organization)
        .join(Organization, Organization.id == Accreditation.organization_id)
        .where(
            Accreditation.status == "active",
            Accreditation.expires_on >= today,
            Accreditation.expires_on <= today + timedelta(days=REMIND_DAYS),
        )
    ).all()
    told = 0
    for accreditation, org in due:
        expires = accreditation.expires_on.isoformat()
        if _already("accreditation_expiring", org.id, expires_on=expires):
            continue
        people = staff_of(org.id, Role.ENTITY_OPERATOR) + coordinators()
        notify(
            people,
            "accreditation_expiring",
            org,
            {
                "name": org.name,
                "expires_on": expires,
                "when": accreditation.expires_on.strftime("%d/%m/%Y"),
            },
        )
        told += 1
    return told


def remind_stale_units() -> int:
    """Tell each housing provider with units not confirmed for a week; returns how many."""
    rows = db.session.execute(
        select(HousingUnit.provider_id, func.count())
        .where(HousingUnit.active.is_(True), HousingUnit.vacancies_updated_at < stale_before())
        .group_by(HousingUnit.provider_id)
    ).all()
    told = 0
    for provider_id, count in rows:
        if _already("units_stale", provider_id, since=utcnow() - STALE_EVERY):
            continue
        org = db.session.get(Organization, provider_id)
        if org is None:
            continue
        notify(staff_of(org.id, Role.HOUSING_PROVIDER), "units_stale", org, {"count": int(count)})
        told += 1
    return told


def send_reminders(today: date) -> dict[str, int]:
    from app.referrals.stalled import expire_stalled, warn_stalled
    from app.supplies.operations import review_all_shortages

    summary = {
        "segnalazioni scadute": expire_stalled(today),
        "segnalazioni in ritardo segnalate": warn_stalled(today),
        "accreditamenti in scadenza": remind_expiring_accreditations(today),
        "gestori con alloggi da aggiornare": remind_stale_units(),
        "snodi con scorte basse": review_all_shortages(today),
    }
    db.session.flush()
    return summary
