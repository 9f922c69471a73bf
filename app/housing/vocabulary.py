"""Vocabularies of housing: codes stored, Italian labels shown."""

from __future__ import annotations

from app.i18n import lazy_gettext as _l

UNIT_KINDS = {
    "night_shelter_bed": _l("posto letto in dormitorio"),
    "temporary_flat": _l("alloggio temporaneo"),
    "social_housing": _l("alloggio sociale"),
    "family_hosting": _l("accoglienza in famiglia"),
    "co_housing": _l("coabitazione (co-housing)"),
}

TARGET_GROUPS = {
    "families": _l("famiglie con figli"),
    "single_women": _l("donne sole"),
    "women_with_children": _l("donne con bambini"),
    "single_men": _l("uomini soli"),
    "young_people": _l("giovani 18-29"),
    "elderly": _l("persone anziane"),
    "disabled": _l("persone con disabilità"),
    "refugees": _l("rifugiati e richiedenti asilo"),
}

PLACEMENT_STATUSES = {
    "proposed": _l("proposto, in attesa della Città"),
    "approved": _l("approvato, in attesa del gestore"),
    "rejected": _l("respinto dalla Città"),
    "accepted": _l("accettato, in attesa dell'ingresso"),
    "declined": _l("rifiutato dal gestore"),
    "active": _l("in corso"),
    "ended": _l("concluso"),
    "cancelled": _l("annullato"),
}

PLACEMENT_BADGES = {
    "proposed": "bg-warning",
    "approved": "bg-info",
    "rejected": "bg-danger",
    "accepted": "bg-primary",
    "declined": "bg-danger",
    "active": "bg-success",
    "ended": "bg-secondary",
    "cancelled": "bg-secondary",
}

REJECT_REASONS = {
    "not_priority": _l("il nucleo non rientra nelle priorità"),
    "unsuitable_unit": _l("l'alloggio non è adatto al nucleo"),
    "other_solution": _l("c'è una soluzione più adatta"),
    "other": _l("altro motivo"),
}

DECLINE_REASONS = {
    "no_place": _l("nessun posto effettivamente libero"),
    "target_mismatch": _l("il nucleo non rientra nei destinatari dell'alloggio"),
    "household_size": _l("il nucleo è troppo numeroso per l'alloggio"),
    "accessibility": _l("l'alloggio non è accessibile per il nucleo"),
    "household_refused": _l("il nucleo ha rinunciato"),
    "other": _l("altro motivo"),
}

CANCEL_REASONS = {
    "household_refused": _l("il nucleo ha rinunciato"),
    "other_solution": _l("il nucleo ha trovato un'altra sistemazione"),
    "error": _l("proposta inserita per errore"),
    "other": _l("altro motivo"),
}

EXIT_REASONS = {
    "own_home": _l("casa propria (affitto o proprietà)"),
    "social_housing": _l("assegnazione di casa popolare"),
    "other_accommodation": _l("altra struttura di accoglienza"),
    "family": _l("rientro in famiglia o presso parenti"),
    "max_stay": _l("raggiunto il periodo massimo di permanenza"),
    "dropped_out": _l("abbandono dell'accoglienza"),
    "rules_breach": _l("allontanamento per violazione del regolamento"),
    "other": _l("altro motivo"),
}

REASONS_BY_STATUS: dict[str, dict[str, object]] = {
    "rejected": REJECT_REASONS,
    "declined": DECLINE_REASONS,
    "cancelled": CANCEL_REASONS,
    "ended": EXIT_REASONS,
}

WELLBEING = {
    "good": _l("buono"),
    "some_difficulties": _l("qualche difficoltà"),
    "critical": _l("critico: serve un intervento"),
}

RISK_KINDS = {
    "no_fault_arrears": _l("morosità incolpevole"),
    "eviction_notice": _l("sfratto notificato"),
    "other": _l("altro rischio abitativo"),
}

RISK_ACTIONS = {
    "mediation": _l("mediazione con la proprietà"),
    "arrears_fund": _l("contributo del fondo morosità incolpevole"),
    "payment_plan": _l("piano di rientro del debito"),
    "legal_aid": _l("assistenza legale"),
    "postponement": _l("richiesta di rinvio dell'esecuzione"),
    "rehousing": _l("ricerca di una nuova sistemazione"),
    "emergency_placement": _l("proposta di accoglienza temporanea"),
}

RISK_OUTCOMES = {
    "agreement": _l("accordo con la proprietà, la famiglia resta"),
    "arrears_covered": _l("morosità sanata"),
    "rehoused": _l("la famiglia ha trovato un'altra casa"),
    "temporary_accommodation": _l("la famiglia è in accoglienza temporanea"),
    "evicted": _l("sfratto eseguito senza soluzione"),
    "other": _l("altro esito"),
}

RISK_STATUSES = {"open": _l("aperto"), "closed": _l("chiuso")}
