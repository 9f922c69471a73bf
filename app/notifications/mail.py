"""E-mail for the notifications that ask someone to act, through the City's SMTP server.

`notify()` writes, beside each such notification, an `outbound_email` row in the same
transaction: if the step is not saved, no e-mail exists. Rows are sent afterwards: by the
background worker when REDIS_URL is set (`make worker`), else right after the response, in
the same process. Each user chooses on "Il mio account": at once, a daily digest
(`flask send-digests`, by cron or the worker's schedule), or none.

An e-mail carries no personal data of the people followed: the sentence of the notification
(a referral's number, an entity's name, the kind of step), a link into the portal, where the
recipient sees what they may see after logging in.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import select, update

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.i18n import gettext as _
from app.notifications.labels import target_url, text
from app.notifications.models import Notification, OutboundEmail

MODES = ("immediate", "digest", "none")
# The steps that wait for the recipient's answer (the others only inform).
ASKS_FOR_ACTION = frozenset(
    {
        "referral_submitted",
        "referral_approved",
        "referral_stalled",
        "referral_expired",
        "placement_proposed",
        "placement_approved",
        "wellbeing_critical",
        "project_submitted",
        "budget_increase_requested",
        "account_create_requested",
        "account_update_requested",
        "account_reset_requested",
        "accreditation_expiring",
        "units_stale",
        "supply_short",
    }
)
MAX_ATTEMPTS = 5


def enabled() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def queue(notification: Notification, user: User) -> None:
    """Write the e-mail that `notification` asks for, if it asks for one and the user wants it."""
    if not enabled() or notification.kind not in ASKS_FOR_ACTION or not user.email:
        return
    mode = user.email_notifications or "immediate"
    if mode not in ("immediate", "digest"):
        return
    db.session.add(OutboundEmail(user_id=user.id, notification=notification, mode=mode))
    if mode == "immediate":
        from app.jobs import later

        later(deliver_pending_job)


def _absolute(path: str | None) -> str:
    base = str(current_app.config.get("PORTAL_URL", "")).rstrip("/")
    return base + (path or "/")


def _message(user: User, subject: str, lines: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = user.email
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="reti.torino")
    footer = [
        "",
        _(
            "Ricevi questa e-mail per la scelta fatta in «Il mio account», dove puoi "
            "cambiarla: %(url)s",
            url=_absolute("/account"),
        ),
        "-- ",
        _("Portale Reti di comunità per l'inclusione, Città di Torino"),
    ]
    message.set_content(
        "\n".join([_("Gentile %(name)s,", name=user.full_name), "", *lines, *footer])
    )
    return message


def _urls(notification: Notification) -> str:
    with current_app.test_request_context(base_url=current_app.config.get("PORTAL_URL")):
        return _absolute(target_url(notification))


def _send(message: EmailMessage) -> None:
    config = current_app.config
    kind = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    with kind(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def _claim(ids: list[int]) -> list[int]:
    """Take these rows for this sender: one conditional update each, committed before sending,
    so two senders at once never send the same e-mail twice."""
    mine = []
    for row_id in ids:
        result = db.session.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id == row_id, OutboundEmail.sent_at.is_(None))
            .values(sent_at=utcnow(), attempts=OutboundEmail.attempts + 1)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            mine.append(row_id)
    db.session.commit()
    return mine


def _failed(ids: list[int], error: Exception) -> None:
    """Sending failed: the rows wait for the next try (at most MAX_ATTEMPTS)."""
    db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id.in_(ids))
        .values(sent_at=None, last_error=str(error)[:300])
    )
    db.session.commit()


def deliver_pending(limit: int = 200) -> int:
    """Send the e-mails waiting to go at once; returns how many were sent."""
    if not enabled():
        return 0
    ids = list(
        db.session.scalars(
            select(OutboundEmail.id)
            .where(
                OutboundEmail.sent_at.is_(None),
                OutboundEmail.mode == "immediate",
                OutboundEmail.attempts < MAX_ATTEMPTS,
            )
            .order_by(OutboundEmail.id)
            .limit(limit)
        )
    )
    sent = 0
    for row_id in _claim(ids):
        row = db.session.get(OutboundEmail, row_id)
        if row is None:
            continue
        user = db.session.get(User, row.user_id)
        if user is None or not user.active:
            continue  # claimed and never sent: nobody to tell
        sentence = text(row.notification)
        message = _message(
            user,
            "[Reti Torino] " + sentence,
            [sentence, "", _("Apri nel portale: %(url)s", url=_urls(row.notification))],
        )
        try:
            _send(message)
        except (OSError, smtplib.SMTPException) as error:
            current_app.logger.warning("e-mail %s not sent: %s", row_id, error)
            _failed([row_id], error)
            continue
        sent += 1
    return sent


def deliver_digests() -> int:
    """One e-mail per user with what their daily digest collected; returns how many were sent."""
    if not enabled():
        return 0
    waiting = db.session.execute(
        select(OutboundEmail.user_id, OutboundEmail.id)
        .where(
            OutboundEmail.sent_at.is_(None),
            OutboundEmail.mode == "digest",
            OutboundEmail.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboundEmail.user_id, OutboundEmail.id)
    ).all()
    per_user: dict[int, list[int]] = {}
    for user_id, row_id in waiting:
        per_user.setdefault(user_id, []).append(row_id)
    sent = 0
    for user_id, ids in per_user.items():
        mine = _claim(ids)
        user = db.session.get(User, user_id)
        if not mine or user is None or not user.active:
            continue
        rows = db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.id.in_(mine)).order_by(OutboundEmail.id)
        ).all()
        lines = [_("Nel portale ti aspettano %(n)d cose da fare:", n=len(rows)), ""]
        for row in rows:
            lines += [f"- {text(row.notification)}", f"  {_urls(row.notification)}"]
        message = _message(user, _("[Reti Torino] Il riepilogo del giorno"), lines)
        try:
            _send(message)
        except (OSError, smtplib.SMTPException) as error:
            current_app.logger.warning("digest for user %s not sent: %s", user_id, error)
            _failed(mine, error)
            continue
        sent += 1
    return sent


# Jobs: what the background worker runs (each with its own session) ---------------------------


def deliver_pending_job() -> int:
    try:
        return deliver_pending()
    finally:
        db.session.remove()


def deliver_digests_job() -> int:
    try:
        return deliver_digests()
    finally:
        db.session.remove()
