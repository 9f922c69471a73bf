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

SHARING_SCOPES = {
    "job_services": _l("servizi al lavoro della rete"),
    "housing": _l("gestori di alloggi della rete"),
    "all_partners": _l("tutti gli enti partner del progetto"),
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
