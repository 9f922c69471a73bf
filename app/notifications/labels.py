"""What each kind of notification says, in the user's language."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from app.notifications.models import Notification

TEXTS = {
    "referral_submitted": _l("Nuova segnalazione n. %(id)s da approvare"),
    "referral_approved": _l(
        "Segnalazione n. %(id)s approvata dalla Città: attende la vostra risposta"
    ),
    "referral_rejected": _l("La Città ha respinto la segnalazione n. %(id)s"),
    "referral_accepted": _l("La segnalazione n. %(id)s è stata accettata dal servizio"),
    "referral_declined": _l("Il servizio ha rifiutato la segnalazione n. %(id)s"),
    "referral_completed": _l("La segnalazione n. %(id)s si è conclusa con esito positivo"),
    "referral_failed": _l("La segnalazione n. %(id)s si è conclusa senza esito"),
    "referral_cancelled": _l("L'ente inviante ha annullato la segnalazione n. %(id)s"),
}

TARGETS = {"referral": ("referrals.detail", "referral_id")}


def text(notification: Notification) -> str:
    template = TEXTS.get(notification.kind)
    if template is None:
        return str(notification.kind)
    return str(template) % {"id": notification.object_id, **(notification.params or {})}


def target_url(notification: Notification) -> str | None:
    target = TARGETS.get(notification.object_type)
    if target is None:
        return None
    endpoint, arg = target
    return url_for(endpoint, **{arg: notification.object_id})
