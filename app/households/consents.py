"""The one rule of the consents ledger: when a household's data may go to a recipient.

A consent covers a sharing for `purpose` with `recipient` when it is for that purpose, and its
recipient is empty (the whole network) or is that organization; it is in force on `day` when
given_on <= day, expires_on is empty or day <= expires_on, and it was not withdrawn by then.
`consent_in_force()` asks the database (so a check made under the household's row lock reads what
is committed now), `consent_clause()` is the same rule as a WHERE clause for the policies, and
`Consent`'s state for the pages is `consent_state()`; nothing else decides it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, true

from app.clock import today as current_day
from app.extensions import db
from app.households.models import Consent, Household
from app.households.vocabulary import CONSENT_PURPOSES_FOR
from app.i18n import gettext as _
from app.web.formatting import format_date

# A consent is flagged "in scadenza" this many days before it expires (and listed on the home).
EXPIRING_DAYS = 30
# The signed-form note of the authorisations moved into the ledger (migration 0023).
LEDGER_NOTE = "autorizzazione registrata prima del registro dei consensi"
# What the form proposes as the expiry of a new consent.
DEFAULT_MONTHS = 12
# Any recipient: "is there a consent in force for this purpose at all" (the pages, before a
# recipient is chosen).
ANY = object()


def covers(recipient_column: Any, recipient: Any) -> ColumnElement[bool]:
    if recipient is ANY:
        return true()
    if recipient is None:
        return recipient_column.is_(None)
    return or_(recipient_column.is_(None), recipient_column == recipient)


def in_force_on(day: Any) -> ColumnElement[bool]:
    return and_(
        Consent.given_on <= day,
        or_(Consent.expires_on.is_(None), Consent.expires_on >= day),
        or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > day),
    )


def in_force(consent: Consent, purpose: str, recipient: Any, day: date) -> bool:
    """The same rule on a loaded row (demo and scale loaders, which hold the ledger in memory)."""
    return (
        consent.purpose == purpose
        and (
            recipient is ANY
            or consent.recipient_organization_id is None
            or consent.recipient_organization_id == recipient
        )
        and consent.given_on <= day
        and (consent.expires_on is None or day <= consent.expires_on)
        and (consent.withdrawn_on is None or consent.withdrawn_on > day)
    )


def consent_clause(
    household_id: Any, purpose: str, recipient: Any, day: date | None = None
) -> ColumnElement[bool]:
    """A consent in force on `day` covers sharing `household_id`'s data for `purpose` with
    `recipient` (an organization id, or a column such as `Referral.to_organization_id`)."""
    return exists(
        select(Consent.id).where(
            Consent.household_id == household_id,
            Consent.purpose == purpose,
            covers(Consent.recipient_organization_id, recipient),
            in_force_on(day or current_day()),
        )
    )


def consent_for(
    household: Household | int, purpose: str, recipient: Any, day: date | None = None
) -> Consent | None:
    """The consent in force that covers the sharing (a named one before the network's)."""
    household_id = household if isinstance(household, int) else household.id
    return db.session.scalar(
        select(Consent)
        .where(
            Consent.household_id == household_id,
            Consent.purpose == purpose,
            covers(Consent.recipient_organization_id, recipient),
            in_force_on(day or current_day()),
        )
        .order_by(Consent.recipient_organization_id.is_(None), Consent.given_on.desc(), Consent.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )


def consent_in_force(
    household: Household | int, purpose: str, recipient: Any, day: date | None = None
) -> bool:
    return consent_for(household, purpose, recipient, day) is not None


def consent_state(consent: Consent, day: date) -> str:
    """in_force, expiring (within EXPIRING_DAYS), expired, withdrawn, future."""
    if consent.withdrawn_on is not None and consent.withdrawn_on <= day:
        return "withdrawn"
    if consent.given_on > day:
        return "future"
    if consent.expires_on is not None and consent.expires_on < day:
        return "expired"
    if consent.expires_on is not None and consent.expires_on <= day + timedelta(EXPIRING_DAYS):
        return "expiring"
    return "in_force"


def refusal(
    household: Household | int,
    purpose: str,
    recipient: Any,
    day: date | None = None,
    recipient_name: str | None = None,
) -> str | None:
    """Why the household's data may not go to `recipient` for `purpose` on `day`, in words the
    operator can act on; None when a consent in force covers it."""
    day = day or current_day()
    if consent_in_force(household, purpose, recipient, day):
        return None
    household_id = household if isinstance(household, int) else household.id
    purpose_for = str(CONSENT_PURPOSES_FOR[purpose])
    last = db.session.scalar(
        select(Consent)
        .where(
            Consent.household_id == household_id,
            Consent.purpose == purpose,
            covers(Consent.recipient_organization_id, recipient),
        )
        .order_by(Consent.given_on.desc(), Consent.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if last is None:
        if recipient_name and recipient is not ANY:
            return _(
                "Manca il consenso del nucleo %(purpose)s che copra %(recipient)s (o tutta la "
                "rete): registralo nella sezione Privacy della scheda del nucleo.",
                purpose=purpose_for,
                recipient=recipient_name,
            )
        return _(
            "Manca il consenso del nucleo %(purpose)s: registralo nella sezione Privacy della "
            "scheda del nucleo.",
            purpose=purpose_for,
        )
    state = consent_state(last, day)
    if state == "withdrawn":
        return _(
            "Il consenso del nucleo %(purpose)s è stato revocato il %(date)s: registrane uno "
            "nuovo nella sezione Privacy.",
            purpose=purpose_for,
            date=format_date(last.withdrawn_on),
        )
    if state == "future":
        return _(
            "Il consenso del nucleo %(purpose)s vale dal %(date)s: fino ad allora i dati non si "
            "condividono.",
            purpose=purpose_for,
            date=format_date(last.given_on),
        )
    if state == "expired":
        return _(
            "Il consenso del nucleo %(purpose)s è scaduto il %(date)s: registrane uno nuovo "
            "nella sezione Privacy.",
            purpose=purpose_for,
            date=format_date(last.expires_on),
        )
    return _(  # a consent in force, but not for this recipient
        "Il consenso del nucleo %(purpose)s non copre questo destinatario: registrane uno "
        "nella sezione Privacy.",
        purpose=purpose_for,
    )


def add_months(day: date, months: int) -> date:
    """`day` moved `months` ahead, on the month's last day when it is shorter (31/01 → 28/02)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def expiring(user: Any, day: date, limit: int = 10) -> tuple[int, list[Consent]]:
    """The consents in force that expire within EXPIRING_DAYS, of the active households the
    user may see (the households policy), soonest first: how many, and the first `limit`."""
    from sqlalchemy import func
    from sqlalchemy.orm import selectinload

    from app.households.policy import of_visible_households

    query = (
        select(Consent)
        .join(Household, Household.id == Consent.household_id)
        .where(
            of_visible_households(user, Consent.household_id),
            Household.status == "active",
            Consent.expires_on >= day,
            Consent.expires_on <= day + timedelta(EXPIRING_DAYS),
            Consent.given_on <= day,
            or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > day),
        )
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(selectinload(Consent.household).selectinload(Household.members))
        .order_by(Consent.expires_on, Consent.id)
        .limit(limit)
    ).all()
    return total, list(rows)
