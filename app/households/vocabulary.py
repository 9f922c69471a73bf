"""Vocabularies of the households area: codes stored, Italian labels shown."""

from __future__ import annotations

from app.i18n import lazy_gettext as _l

RELATIONS = {
    "reference": _l("persona di riferimento"),
    "partner": _l("coniuge o convivente"),
    "child": _l("figlio/a"),
    "parent": _l("genitore"),
    "sibling": _l("fratello o sorella"),
    "relative": _l("altro parente"),
    "other": _l("altra persona convivente"),
}

SEXES = {"F": _l("femmina"), "M": _l("maschio")}

EMPLOYMENT = {
    "unemployed": _l("disoccupato/a"),
    "seeking_first_job": _l("in cerca di prima occupazione"),
    "employed": _l("occupato/a"),
    "precarious": _l("lavoro precario o irregolare"),
    "student": _l("studente/studentessa"),
    "neet": _l("non studia e non lavora (NEET)"),
    "retired": _l("pensionato/a"),
    "homemaker": _l("casalingo/a"),
    "unable": _l("inabile al lavoro"),
    "child": _l("minore in età non lavorativa"),
}

EDUCATION = {
    "none": _l("nessun titolo"),
    "primary": _l("licenza elementare"),
    "lower_secondary": _l("licenza media"),
    "vocational": _l("qualifica professionale"),
    "upper_secondary": _l("diploma di scuola superiore"),
    "degree": _l("laurea"),
    "foreign_unrecognised": _l("titolo estero non riconosciuto"),
}

HOUSING = {
    "rented": _l("in affitto"),
    "owned": _l("casa di proprietà"),
    "social_housing": _l("edilizia residenziale pubblica"),
    "guest": _l("ospite di parenti o amici"),
    "eviction_risk": _l("a rischio sfratto"),
    "temporary": _l("accoglienza temporanea"),
    "homeless": _l("senza dimora"),
    "other": _l("altra sistemazione"),
}

NEEDS = {
    "work": _l("lavoro"),
    "food": _l("cibo e beni di prima necessità"),
    "housing": _l("casa"),
    "training": _l("formazione"),
    "language": _l("lingua italiana"),
    "digital": _l("competenze digitali"),
    "childcare": _l("cura dei figli"),
    "health": _l("salute"),
    "debt": _l("debiti e bollette"),
    "documents": _l("documenti e permessi"),
}

# The scopes of the sharing authorisation before the consents ledger (migration 0023): only
# the audit log's older events still name them.
SHARING_SCOPES = {
    "job_services": _l("servizi al lavoro della rete"),
    "housing": _l("gestori di alloggi della rete"),
    "all_partners": _l("tutti gli enti partner del progetto"),
}

# What a consent lets the household's data be shared for (the consents ledger).
CONSENT_PURPOSES = {
    "job_services": _l("servizi al lavoro"),
    "housing": _l("accoglienza abitativa"),
    "project": _l("progetto individualizzato"),
    "monitoring": _l("monitoraggio della Città"),
}
# The same, inside a sentence: "Il consenso del nucleo per i servizi al lavoro è scaduto…".
CONSENT_PURPOSES_FOR = {
    "job_services": _l("per i servizi al lavoro"),
    "housing": _l("per l'accoglienza abitativa"),
    "project": _l("per il progetto individualizzato"),
    "monitoring": _l("per il monitoraggio della Città"),
}
CONSENT_STATES = {
    "in_force": _l("in vigore"),
    "expiring": _l("in scadenza"),
    "expired": _l("scaduto"),
    "withdrawn": _l("revocato"),
    "future": _l("non ancora in vigore"),
}
CONSENT_STATE_BADGES = {
    "in_force": "bg-success",
    "expiring": "bg-warning",
    "expired": "bg-secondary",
    "withdrawn": "bg-danger",
    "future": "bg-info",
}

DISTRIBUTION_KINDS = {
    "food_basket": _l("paniere alimentare"),
    "basic_necessities": _l("beni di prima necessità"),
}

HOUSEHOLD_STATUSES = {"active": _l("in carico"), "closed": _l("chiuso")}

# Why a household's care ends: asked when closing it (coded, for the City's figures).
CLOSING_REASONS = {
    "goals_met": _l("obiettivi raggiunti"),
    "other_entity": _l("trasferito ad altro ente"),
    "left_turin": _l("trasferito fuori Torino"),
    "withdrew": _l("rinuncia"),
    "unreachable": _l("non più reperibile"),
    "deceased": _l("decesso"),
    "other": _l("altro"),
}

# How the person prefers to be contacted (issue #26).
CONTACT_CHANNELS = {
    "phone": _l("telefono"),
    "sms": _l("SMS o messaggio"),
    "email": _l("e-mail"),
    "case_worker": _l("tramite l'operatore che la segue"),
}
