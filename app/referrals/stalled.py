"""Stalled referrals (issue #24), for the nightly reminders (`flask send-reminders`).

A referral waits for somebody at three steps (`queries.STALL_STEPS`): the City's approval, the
receiving entity's answer, the start or outcome after the acceptance. Past the step's first
limit (working days, admin settings) it is "in ritardo" on every list, and once per step the
sender, the City and whoever has to act are told, with the day it will expire. Past the second
limit it returns to the sender as "scaduta", through the one transition table
(`operations.apply_step`, action "expire"): locked, conditional, in the history, audited and
notified like any other step, and counted in the reports by the step that stalled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from app.db import utcnow
from app.extensions import db
from app.notifications.operations import coordinators, notify, operators_of
from app.referrals import operations, queries
from app.referrals.models import Referral
from app.workdays import local_date, nth_working_day_after
from app.workflow import StaleState, lock_row


@dataclass(frozen=True)
class _Nightly:
    """Who expires a referral: nobody (the audit and the history show no person)."""

    id: None = None
    organization_id: None = None


NIGHTLY = _Nightly()


def expiry_day(referral: Referral) -> date | None:
    """The last day the referral may still be answered in its current step."""
    step = queries.STALL_STEP_OF.get(referral.status)
    if step is None:
        return None
    return nth_working_day_after(local_date(referral.status_changed_at), step.limits()[1])


def warn_stalled(today: date) -> int:
    """Tell the people of each referral that went late in its step (once per step)."""
    late = db.session.scalars(
        select(Referral)
        .where(queries.overdue_clause(today), Referral.stalled_notified_at.is_(None))
        .order_by(Referral.id)
    ).all()
    told = 0
    for referral in late:
        # Claimed with a conditional update: two nightly runs at once tell people once.
        claimed = db.session.execute(
            update(Referral)
            .where(
                Referral.id == referral.id,
                Referral.status == referral.status,
                Referral.stalled_notified_at.is_(None),
            )
            .values(stalled_notified_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue
        step = queries.STALL_STEP_OF[referral.status]
        people = operators_of(referral.from_organization_id) + coordinators()
        if referral.status != "submitted":  # the receiving entity has to answer
            people += operators_of(referral.to_organization_id)
        expires = expiry_day(referral)
        notify(
            people,
            "referral_stalled",
            referral,
            {
                "days": step.limits()[0],
                "expires": expires.strftime("%d/%m/%Y") if expires else "",
            },
        )
        told += 1
    return told


def expire_stalled(today: date) -> int:
    """Return to their senders the referrals left unanswered past their step's second limit."""
    ids = db.session.scalars(
        select(Referral.id).where(queries.expired_clause(today)).order_by(Referral.id)
    ).all()
    expired = 0
    for referral_id in ids:
        # Under the referral's lock, still past its step's limit? Answered since the list was
        # read, it is in a new step (maybe one that may expire too, but not yet).
        lock_row(Referral, referral_id)
        if (
            db.session.scalar(
                select(Referral.id).where(Referral.id == referral_id, queries.expired_clause(today))
            )
            is None
        ):
            continue
        referral = db.session.get(Referral, referral_id)
        if referral is None:
            continue
        db.session.refresh(referral)
        step = queries.STALL_STEP_OF[referral.status]
        try:
            with db.session.begin_nested():
                operations.apply_step(
                    referral,
                    "expire",
                    NIGHTLY,
                    reason_code=step.code,
                    day=today,
                    check_accreditation=False,
                )
        except StaleState:  # somebody answered it a moment ago: nothing to expire
            continue
        expired += 1
    return expired
