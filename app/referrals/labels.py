"""Referral words for the pages: match reasons, action buttons, what an action did."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.referrals.vocabulary import DECLINE_REASONS
from app.registry.vocabulary import LANGUAGES, SERVICE_TYPES
from app.web.formatting import format_date

if TYPE_CHECKING:
    from app.referrals.matching import Offer
    from app.referrals.queries import Parking

# The button of each action (operations.TRANSITIONS holds the verb used inside sentences).
ACTION_BUTTONS = {
    "submit": _l("Invia alla Città per l'approvazione"),
    "cancel": _l("Annulla la segnalazione"),
    "approve": _l("Approva"),
    "reject": _l("Respingi"),
    "accept": _l("Accetta"),
    "decline": _l("Rifiuta"),
    "start": _l("Avvia il percorso"),
    "complete": _l("Chiudi con esito positivo"),
    "fail": _l("Chiudi senza esito"),
    "wait": _l("Metti in lista d'attesa"),
}

# The label of the coded reason each action asks for.
REASON_FIELDS = {
    "reject": _l("Motivo del respingimento"),
    "decline": _l("Motivo del rifiuto"),
    "complete": _l("Esito"),
    "fail": _l("Esito"),
}

# The title of the coded reason a closed referral carries, by its status.
REASON_TITLES = {
    "rejected": _l("Motivo del respingimento"),
    "declined": _l("Motivo del rifiuto"),
    "completed": _l("Esito"),
    "failed": _l("Esito"),
    "expired": _l("Scaduta"),
}

# The message after an action succeeded.
ACTION_DONE = {
    "submit": _l("Segnalazione inviata alla Città per l'approvazione."),
    "cancel": _l("Segnalazione annullata."),
    "approve": _l("Segnalazione approvata."),
    "reject": _l("Segnalazione respinta."),
    "accept": _l("Segnalazione accettata."),
    "decline": _l("Segnalazione rifiutata."),
    "start": _l("Percorso avviato."),
    "complete": _l("Segnalazione chiusa con esito positivo."),
    "fail": _l("Segnalazione chiusa senza esito."),
    "wait": _l("Segnalazione messa in lista d'attesa."),
}


def _service_type(params: Mapping[str, Any]) -> str:
    code = str(params.get("type", ""))
    return str(SERVICE_TYPES.get(code, code))


def reason_text(code: str, params: Mapping[str, Any] | None = None) -> str:
    """One match reason (as stored by matching.reasons_json) in plain Italian."""
    params = params or {}
    if code == "type_primary":
        return _("servizio adatto al bisogno: %(type)s", type=_service_type(params))
    if code == "type_related":
        return _("servizio affine: %(type)s", type=_service_type(params))
    if code == "same_district":
        return _("stessa circoscrizione")
    if code == "neighbour_district":
        return _("circoscrizione confinante (%(circ)s)", circ=params.get("circ", ""))
    if code == "language":
        codes = params.get("languages") or []
        names = ", ".join(str(LANGUAGES.get(c, c)) for c in codes)
        return _("parla %(languages)s", languages=names)
    if code == "youth":
        return _("dedicato ai giovani 18-29")
    if code == "neet":
        return _("dedicato ai NEET")
    if code == "places_left":
        return _("posti disponibili: %(n)s", n=params.get("n", ""))
    return code


def reason_texts(reasons: Any) -> list[str]:
    """Stored reasons ([[code, params], ...]) or a suggestion's ((code, params), ...)."""
    texts = []
    for item in reasons or ():
        if isinstance(item, list | tuple) and item:
            params = item[1] if len(item) > 1 and isinstance(item[1], Mapping) else {}
            texts.append(with_points(reason_text(str(item[0]), params), params))
    return texts


def with_points(text: str, params: Mapping[str, Any]) -> str:
    """A reason with the points it gave (reasons stored before issue #26 carry none)."""
    points = params.get("points")
    if not isinstance(points, int) or isinstance(points, bool):
        return text
    return ngettext("%(reason)s: +%(num)d punto", "%(reason)s: +%(num)d punti", points, reason=text)


def unfit_text(service_type: str, need_label: object) -> str:
    """Why a service is under "altri servizi" and not ranked."""
    return _(
        "non è tra i suggeriti: il tipo di servizio «%(type)s» non risponde al bisogno «%(need)s»",
        type=_service_type({"type": service_type}),
        need=need_label,
    )


def waiting_text(waiting: int) -> str:
    """Beside a suggested service with no place left this month (issue #24)."""
    if waiting <= 0:
        return _("nessun posto questo mese: lista d'attesa")
    return ngettext(
        "nessun posto questo mese: lista d'attesa (%(num)d in attesa)",
        "nessun posto questo mese: lista d'attesa (%(num)d in attesa)",
        waiting,
    )


def waiting_offer_text(service_name: str, position: int) -> str:
    """The referral form's offer when the chosen service has no place left."""
    return _(
        "Il servizio «%(name)s» non ha più posti disponibili questo mese. Puoi metterla in "
        "lista d'attesa: sarà in posizione %(position)d in lista e passerà da sola alla Città "
        "per l'approvazione appena si libera un posto (un invio rifiutato o annullato, o il "
        "mese nuovo).",
        name=service_name,
        position=position,
    )


def exclusion_text(code: str, offer: Offer, parking: Parking | None) -> str:
    """Why a service that answers the need cannot take this person: the hard rule, in words."""
    if code in ("too_young", "too_old"):
        low = "" if offer.age_min is None else str(offer.age_min)
        high = "" if offer.age_max is None else str(offer.age_max)
        return _("età fuori dai limiti del servizio: %(low)s-%(high)s anni", low=low, high=high)
    if code == "age_unknown":
        return _("il servizio ha limiti di età e la data di nascita della persona non è nota")
    if code == "no_places":
        return _("il servizio non ha posti mensili per le segnalazioni")
    if code == "parked" and parking is not None:
        reason = DECLINE_REASONS.get(parking.reason_code, parking.reason_code)
        if parking.until is None:
            return _(
                "ha rifiutato la persona il %(on)s (%(reason)s): non riproporre",
                on=format_date(parking.declined_on),
                reason=reason,
            )
        return _(
            "ha rifiutato la persona il %(on)s (%(reason)s): riproponibile dal %(until)s",
            on=format_date(parking.declined_on),
            reason=reason,
            until=format_date(parking.until),
        )
    if code == "service_inactive":
        return _("servizio non attivo")
    return _("l'ente non può ricevere segnalazioni: accreditamento non in vigore")
