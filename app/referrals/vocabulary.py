"""Vocabularies of referrals: codes stored, Italian labels shown."""

from __future__ import annotations

from app.i18n import lazy_gettext as _l

# What the person needs from a job service, and the service types that answer it:
# (label, primary types, related types).
NEEDS: dict[str, tuple[object, frozenset[str], frozenset[str]]] = {
    "job_search": (
        _l("trovare lavoro"),
        frozenset({"job_placement", "job_search"}),
        frozenset({"counselling", "orientation", "traineeship", "self_employment"}),
    ),
    "orientation": (
        _l("orientamento e bilancio di competenze"),
        frozenset({"orientation", "skills_assessment", "counselling"}),
        frozenset({"information", "secretariat", "job_search"}),
    ),
    "training": (
        _l("formazione professionale"),
        frozenset({"training"}),
        frozenset({"traineeship", "skills_assessment", "digital_skills"}),
    ),
    "traineeship": (
        _l("tirocinio"),
        frozenset({"traineeship"}),
        frozenset({"job_placement", "training"}),
    ),
    "italian_language": (
        _l("lingua italiana"),
        frozenset({"italian_language"}),
        frozenset({"training", "information"}),
    ),
    "digital_skills": (
        _l("competenze digitali"),
        frozenset({"digital_skills"}),
        frozenset({"training", "job_search"}),
    ),
    "self_employment": (
        _l("avviare un'attività"),
        frozenset({"self_employment"}),
        frozenset({"counselling", "training"}),
    ),
}
NEED_LABELS = {code: label for code, (label, _p, _r) in NEEDS.items()}

STATUSES = {
    "draft": _l("bozza"),
    "submitted": _l("in attesa di approvazione"),
    "approved": _l("approvata, in attesa dell'ente"),
    "rejected": _l("respinta dalla Città"),
    "accepted": _l("accettata dall'ente"),
    "declined": _l("rifiutata dall'ente"),
    "in_progress": _l("in corso"),
    "completed": _l("conclusa con esito positivo"),
    "failed": _l("conclusa senza esito"),
    "cancelled": _l("annullata"),
    "waiting": _l("in lista d'attesa"),
    "expired": _l("scaduta, tornata all'ente inviante"),
}

STATUS_BADGES = {
    "draft": "bg-secondary",
    "submitted": "bg-warning",
    "approved": "bg-info",
    "rejected": "bg-danger",
    "accepted": "bg-primary",
    "declined": "bg-danger",
    "in_progress": "bg-primary",
    "completed": "bg-success",
    "failed": "bg-dark",
    "cancelled": "bg-secondary",
    "waiting": "bg-warning",
    "expired": "bg-danger",
}

REJECT_REASONS = {
    "not_eligible": _l("la persona non ha i requisiti del servizio"),
    "wrong_service": _l("il servizio non risponde al bisogno indicato"),
    "incomplete": _l("motivazione o dati insufficienti"),
    "already_followed": _l("la persona è già seguita da un altro servizio"),
    "other": _l("altro motivo"),
}

DECLINE_REASONS = {
    "no_capacity": _l("nessun posto disponibile"),
    "not_eligible": _l("la persona non ha i requisiti del servizio"),
    "unreachable": _l("la persona non è raggiungibile"),
    "person_refused": _l("la persona ha rinunciato"),
    "language": _l("barriera linguistica non gestibile"),
    "other": _l("altro motivo"),
}

# Why a referral expired: the step nobody answered in time (issue #24; the limits are settings,
# app/referrals/queries.STALL_STEPS).
EXPIRY_REASONS = {
    "no_approval": _l("la Città non ha deciso entro il termine"),
    "no_answer": _l("l'ente non ha risposto entro il termine"),
    "no_outcome": _l("l'ente non ha avviato il percorso né registrato un esito entro il termine"),
}

# Whether a declined person may be referred to the same service again, and after how many
# days (coordinated entry "parks" a declined match): 0 at once, None never.
REFER_AGAIN_AFTER_DAYS: dict[str, int | None] = {
    "no_capacity": 0,  # the next month's places (or the waiting list) are the answer
    "not_eligible": None,
    "unreachable": 30,
    "person_refused": 90,
    "language": 180,
    "other": 30,
}


def refer_again_rule(code: str) -> object:
    """The decline reason's rule, as the decline form and the suggestions say it."""
    days = REFER_AGAIN_AFTER_DAYS.get(code, 0)
    if days is None:
        return _l("non riproporre allo stesso servizio")
    if days == 0:
        return _l("riproponibile subito")
    return _l("riproponibile dopo %(days)d giorni", days=days)


OUTCOMES_COMPLETED = {
    "employment_contract": _l("contratto di lavoro"),
    "traineeship": _l("tirocinio avviato"),
    "training_enrolment": _l("iscrizione a un corso di formazione"),
    "orientation_completed": _l("percorso di orientamento concluso"),
    "language_course": _l("corso di lingua frequentato"),
    "self_employment": _l("attività autonoma avviata"),
}

OUTCOMES_FAILED = {
    "dropped_out": _l("la persona ha abbandonato il percorso"),
    "unreachable": _l("la persona non è più raggiungibile"),
    "not_suitable": _l("percorso non adatto alla persona"),
    "moved_away": _l("la persona si è trasferita"),
    "other": _l("altro motivo"),
}

# The coded reasons each closing status asks for.
REASONS_BY_STATUS: dict[str, dict[str, object]] = {
    "rejected": REJECT_REASONS,
    "declined": DECLINE_REASONS,
    "completed": OUTCOMES_COMPLETED,
    "failed": OUTCOMES_FAILED,
    "expired": EXPIRY_REASONS,
}


def reason_label(status: str, code: str | None) -> object:
    return REASONS_BY_STATUS.get(status, {}).get(code or "", code or "")
