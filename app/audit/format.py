"""The changes of an audit event in words a social worker reads: Italian field labels, dates
dd/mm/yyyy, times in Europe/Rome, amounts € 1.234,56 and the vocabularies' words instead of the
codes stored, for old and new values alike.

The audit page, its CSV and XLSX, and the data-subject extract all go through `field_label` and
`value_text`. A key or a code nobody has named yet falls back to a readable form ("piano_terra"
becomes "piano terra"); nothing here raises on an odd value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from babel.numbers import format_decimal

from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.web.formatting import format_date, format_datetime, format_money

FIELD_LABELS: dict[str, Any] = {
    # Households and people
    "household_id": _l("Nucleo"),
    "household_ids": _l("Nuclei"),
    "person_id": _l("Persona"),
    "first_name": _l("Nome"),
    "last_name": _l("Cognome"),
    "full_name": _l("Nome e cognome"),
    "codice_fiscale": _l("Codice fiscale"),
    "birth_date": _l("Data di nascita"),
    "sex": _l("Sesso"),
    "relation": _l("Relazione"),
    "employment_status": _l("Lavoro"),
    "education": _l("Studi"),
    "languages": _l("Lingue"),
    "address": _l("Indirizzo"),
    "postal_code": _l("CAP"),
    "circoscrizione": _l("Circoscrizione"),
    "isee_value": _l("ISEE"),
    "isee_expires_on": _l("Scadenza ISEE"),
    "housing_situation": _l("Situazione abitativa"),
    "needs": _l("Bisogni"),
    "need": _l("Bisogno"),
    "notes": _l("Note"),
    "members": _l("Componenti"),
    "status": _l("Stato"),
    "from_status": _l("Stato precedente"),
    "to_status": _l("Nuovo stato"),
    "closed_on": _l("Chiuso il"),
    "closing_reason": _l("Motivo della chiusura"),
    "closing_note": _l("Nota di chiusura"),
    "earlier_households": _l("Nuclei precedenti"),
    "shown": _l("Dati mostrati"),
    "privacy_notice_on": _l("Informativa consegnata"),
    "sharing_scope": _l("Ambito della condivisione"),
    "sharing_authorised_on": _l("Condivisione autorizzata il"),
    "sharing_withdrawn_on": _l("Condivisione revocata il"),
    "consent_id": _l("Consenso"),
    "purpose": _l("Finalità"),
    "recipient_organization_id": _l("Destinatario"),
    "given_on": _l("Firmato il"),
    "withdrawn_on": _l("Revocato il"),
    "signed_form": _l("Modulo firmato"),
    "distributed_on": _l("Data della distribuzione"),
    "kind": _l("Tipo"),
    "quantity": _l("Quantità"),
    "format": _l("Formato"),
    "case_worker_id": _l("Operatore di riferimento"),
    "co_holder_id": _l("Ente co-titolare"),
    # Organizations, sites, services, accounts
    "organization_id": _l("Ente"),
    "from_organization_id": _l("Ente inviante"),
    "to_organization_id": _l("Ente destinatario"),
    "provider_id": _l("Gestore"),
    "site_id": _l("Sede"),
    "service_id": _l("Servizio"),
    "unit_id": _l("Alloggio"),
    "project_id": _l("Progetto"),
    "placement_id": _l("Inserimento"),
    "user_id": _l("Utente"),
    "name": _l("Nome"),
    "tax_code": _l("Codice fiscale dell'ente"),
    "legal_form": _l("Forma giuridica"),
    "runts_section": _l("Sezione RUNTS"),
    "runts_number": _l("Numero RUNTS"),
    "service_type": _l("Tipo di servizio"),
    "email": _l("Email"),
    "phone": _l("Telefono"),
    "website": _l("Sito web"),
    "username": _l("Nome utente"),
    "role": _l("Ruolo"),
    "active": _l("Attivo"),
    "functions": _l("Funzioni"),
    "weekdays": _l("Giorni"),
    "description": _l("Descrizione"),
    # Referrals
    "motivation": _l("Motivazione"),
    "match_score": _l("Punteggio di corrispondenza"),
    "reason_code": _l("Motivo"),
    "reason_note": _l("Nota sul motivo"),
    "submitted_at": _l("Inviata il"),
    "approved_at": _l("Approvata il"),
    "decided_at": _l("Decisa il"),
    "status_changed_at": _l("Stato cambiato il"),
    # Housing
    "capacity": _l("Posti"),
    "vacancies_after": _l("Posti liberi dopo"),
    "places_freed": _l("Posti liberati"),
    "vacancies": _l("Posti liberi"),
    "places": _l("Posti richiesti"),
    "target_groups": _l("Destinatari"),
    "target_reason": _l("Motivo della scelta"),
    "accessible": _l("Accessibile"),
    "max_stay_days": _l("Permanenza massima (giorni)"),
    "monthly_cost": _l("Costo mensile"),
    "moved_in_on": _l("Ingresso il"),
    "ended_on": _l("Uscita il"),
    "due_on": _l("Scadenza"),
    "done_on": _l("Svolta il"),
    "wellbeing": _l("Benessere"),
    "arrears_amount": _l("Morosità"),
    "notice_on": _l("Intimazione il"),
    "hearing_on": _l("Udienza il"),
    "execution_on": _l("Esecuzione il"),
    "actions": _l("Azioni"),
    "outcome": _l("Esito"),
    # Projects and budgets
    "title": _l("Titolo"),
    "summary": _l("Sintesi"),
    "youth": _l("Per giovani 18-29"),
    "starts_on": _l("Inizio"),
    "ends_on": _l("Fine"),
    "status_note": _l("Nota sullo stato"),
    "category": _l("Categoria"),
    "supplier": _l("Fornitore"),
    "planned": _l("Previsto"),
    "approved": _l("Approvato"),
    "committed": _l("Impegnato"),
    "paid": _l("Pagato"),
    "increase_requested": _l("Aumento richiesto"),
    "committed_on": _l("Impegnato il"),
    "paid_on": _l("Pagato il"),
    "target_on": _l("Entro il"),
    "held_on": _l("Incontro il"),
    "next_steps": _l("Prossimi passi"),
    "amount": _l("Importo"),
    "line_id": _l("Voce di spesa"),
    "goal_id": _l("Obiettivo"),
    # Exports and views
    "filters": _l("Filtri"),
    "rows": _l("Righe"),
    "capped": _l("Esportazione limitata"),
    "q": _l("Ricerca"),
    "count": _l("Numero"),
    "dal": _l("Dal"),
    "al": _l("Al"),
    "linea": _l("Linea di azione"),
    # Logins and accounts
    "method": _l("Modalità di accesso"),
    "acr": _l("Livello di autenticazione"),
    "second_factor": _l("Secondo fattore del portale"),
    "second_factor_at_provider": _l("Secondo fattore presso il gestore dell'identità"),
    "provider": _l("Gestore dell'identità"),
    "subject": _l("Identificativo presso il gestore"),
    "claim": _l("Dato di collegamento"),
    "reason": _l("Motivo"),
    "scope": _l("Ambito"),
    "attempt": _l("Tentativo n."),
    "remaining": _l("Codici di recupero rimasti"),
    "email_notifications": _l("Avvisi per e-mail"),
    "decided_by_id": _l("Deciso da"),
    "answers_last_hour": _l("Risposte nell'ultima ora"),
    # Other steps
    "approved_total": _l("Totale approvato"),
    "requested": _l("Richiesto"),
    "check_id": _l("Verifica"),
    "meeting_id": _l("Incontro"),
    "next_due_on": _l("Prossima scadenza"),
    "expires_on": _l("Scade il"),
    "last_verified": _l("Ultima verifica"),
    "monthly_cost_from": _l("Costo mensile dal"),
    "override_reason": _l("Motivo della deroga"),
    "decision_note": _l("Nota della decisione"),
}
# How a login happened, and why one was refused (auth.operations, auth.sso).
ACCESS_WORDS: dict[str, Any] = {
    "sso:city": _l("account della Città"),
    "sso:spid": _l("SPID / CIE"),
    "unknown_user": _l("utente sconosciuto"),
    "wrong_password": _l("password errata"),
    "disabled": _l("account disattivato"),
    "reused": _l("password già usata di recente"),
    "unknown_identity": _l("identità non collegata a un account"),
    "ambiguous": _l("più account corrispondono"),
    "already_linked": _l("identità già collegata a un altro account"),
    "invalid_response": _l("risposta del gestore non valida"),
}
# Amounts in euro (stored as text like "480.00" or as numbers).
MONEY_FIELDS = frozenset(
    {
        "isee_value",
        "monthly_cost",
        "arrears_amount",
        "planned",
        "approved",
        "committed",
        "paid",
        "increase_requested",
        "amount",
        "traineeship_allowance",
        "approved_total",
        "requested",
    }
)
# Values of these fields are lists, never [old, new] pairs.
LIST_VALUED = frozenset(
    {"members", "similar_people", "ids", "people", "household_ids", "earlier_households", "shown"}
)
# Fields holding a list of codes: a change is a pair of lists.
CODE_LISTS = frozenset(
    {"languages", "needs", "target_groups", "actions", "functions", "weekdays", "circoscrizioni"}
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$"
)
# Fields whose values are codes: one without a vocabulary of its own is looked up in all of them.
CODE_FIELDS = frozenset({"status", "from_status", "to_status", "kind", "reason_code", "outcome"})
_SAME_VOCABULARY = {"from_status": "status", "to_status": "status"}
_CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


Vocabularies = dict[tuple[str | None, str], dict[str, Any]]
_SOURCES: list[Callable[[], Vocabularies]] = []


def register_vocabularies(source: Callable[[], Vocabularies]) -> None:
    """Hand the audit log the domains' vocabularies: `source()` maps (object type or None,
    field) -> {code: words}. Called at app creation (app.audit_wiring): audit imports no domain."""
    if source not in _SOURCES:
        _SOURCES.append(source)
        _vocabularies.cache_clear()


@cache
def _vocabularies() -> tuple[Vocabularies, dict[str, Any]]:
    """(object type or None, field) -> vocabulary, and every vocabulary's words by code (the
    last resort for a code shown without its field's vocabulary): the domains' registered ones
    first, then the audit log's own words."""
    by_field: Vocabularies = {}
    for source in _SOURCES:
        by_field.update(source())
    by_field.update(
        {
            (None, "method"): ACCESS_WORDS,
            ("user_account", "reason"): ACCESS_WORDS,
            (None, "provider"): {
                "city": ACCESS_WORDS["sso:city"],
                "spid": ACCESS_WORDS["sso:spid"],
            },
        }
    )
    words: dict[str, Any] = {}
    for vocabulary in reversed(list(by_field.values())):
        words.update(vocabulary)
    return by_field, words


def readable(code: str) -> str:
    """A key or code nobody has named: its words, without underscores."""
    text = code.removesuffix("_id").replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else code


def field_label(field: str) -> str:
    """The Italian name of a changed field."""
    label = FIELD_LABELS.get(field)
    return str(label) if label is not None else readable(str(field))


def _vocabulary(field: str, object_type: str | None) -> dict[str, Any] | None:
    by_field, _words = _vocabularies()
    field = _SAME_VOCABULARY.get(field, field)
    return by_field.get((object_type, field)) or by_field.get((None, field))


def _money(value: Any) -> str | None:
    try:
        return format_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _text(field: str, value: str, object_type: str | None) -> str:
    vocabulary = _vocabulary(field, object_type)
    if vocabulary is not None and value in vocabulary:
        return str(vocabulary[value])
    if field in MONEY_FIELDS and (money := _money(value)) is not None:
        return money
    try:
        if _ISO_DATE.match(value):
            return format_date(date.fromisoformat(value))
        if _ISO_DATETIME.match(value):
            return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value
    if field in CODE_FIELDS or _CODE.match(value):
        _by_field, words = _vocabularies()
        return str(words.get(value, value.replace("_", " ")))
    return value


def value_text(field: str, value: Any, object_type: str | None = None) -> str:
    """One old or new value of a change, the Italian way."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("sì") if value else _("no")
    if isinstance(value, list):
        return ", ".join(value_text(field, item, object_type) for item in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{field_label(str(key))}: {value_text(str(key), item, object_type)}"
            for key, item in value.items()
        )
    if isinstance(value, int | float | Decimal):
        if field in MONEY_FIELDS:
            return _money(value) or str(value)
        if isinstance(value, int) or field.endswith("_id"):
            return str(value)
        return format_decimal(value, locale="it_IT")
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    return _text(field, str(value), object_type)


def is_pair(field: str, value: Any) -> bool:
    """Is this change `[old, new]` rather than a single value?"""
    if not isinstance(value, list) or len(value) != 2 or field in LIST_VALUED:
        return False
    if field in CODE_LISTS:
        return all(item is None or isinstance(item, list) for item in value)
    return True


def change_text(field: str, value: Any, object_type: str | None = None) -> str:
    """`old → new` for a pair, or the single value."""
    if is_pair(field, value):
        old, new = (value_text(field, item, object_type) for item in value)
        return f"{old} → {new}"
    return value_text(field, value, object_type)
