"""Controlled vocabularies of the registry: codes in the database, Italian labels on screen."""

from __future__ import annotations

from app.i18n import lazy_gettext as _l

LEGAL_FORMS = {
    "associazione": _l("Associazione"),
    "aps": _l("Associazione di promozione sociale (APS)"),
    "odv": _l("Organizzazione di volontariato (ODV)"),
    "coop_a": _l("Cooperativa sociale di tipo A"),
    "coop_b": _l("Cooperativa sociale di tipo B"),
    "consorzio": _l("Consorzio di cooperative sociali"),
    "fondazione": _l("Fondazione"),
    "impresa_sociale": _l("Impresa sociale"),
    "ente_religioso": _l("Ente religioso civilmente riconosciuto"),
    "altro": _l("Altra forma"),
}

RUNTS_SECTIONS = {
    "a": _l("a) Organizzazioni di volontariato"),
    "b": _l("b) Associazioni di promozione sociale"),
    "c": _l("c) Enti filantropici"),
    "d": _l("d) Imprese sociali, incluse le cooperative sociali"),
    "e": _l("e) Reti associative"),
    "f": _l("f) Società di mutuo soccorso"),
    "g": _l("g) Altri enti del Terzo settore"),
}

SERVICE_TYPES = {
    "information": _l("Informazione e accoglienza"),
    "counselling": _l("Consulenza al lavoro"),
    "orientation": _l("Orientamento"),
    "job_placement": _l("Accompagnamento e inserimento lavorativo"),
    "training": _l("Formazione professionale"),
    "traineeship": _l("Tirocinio"),
    "skills_assessment": _l("Bilancio di competenze"),
    "italian_language": _l("Corso di lingua italiana"),
    "digital_skills": _l("Competenze digitali"),
    "job_search": _l("Curriculum e ricerca attiva del lavoro"),
    "self_employment": _l("Avvio di impresa e lavoro autonomo"),
    "secretariat": _l("Segretariato sociale"),
}

LANGUAGES = {
    "it": _l("italiano"),
    "en": _l("inglese"),
    "fr": _l("francese"),
    "es": _l("spagnolo"),
    "pt": _l("portoghese"),
    "ar": _l("arabo"),
    "ro": _l("romeno"),
    "sq": _l("albanese"),
    "uk": _l("ucraino"),
    "ru": _l("russo"),
    "zh": _l("cinese"),
    "wo": _l("wolof"),
    "ff": _l("fula"),
    "bn": _l("bengalese"),
    "ur": _l("urdu"),
    "tl": _l("tagalog"),
}

ACCREDITATION_FUNCTIONS = {
    "information": _l("Informazione"),
    "counselling": _l("Consulenza"),
    "orientation": _l("Orientamento"),
    "secretariat": _l("Segretariato"),
}

ACCREDITATION_STATUSES = {
    "pending": _l("da verificare"),
    "active": _l("attivo"),
    "suspended": _l("sospeso"),
    "expired": _l("scaduto"),
}

WEEKDAYS = {
    "mon": _l("lunedì"),
    "tue": _l("martedì"),
    "wed": _l("mercoledì"),
    "thu": _l("giovedì"),
    "fri": _l("venerdì"),
    "sat": _l("sabato"),
    "sun": _l("domenica"),
}

ORGANIZATION_KINDS = {
    "job_service": _l("Servizio al lavoro"),
    "hub": _l("Snodo Torino Solidale"),
    "housing_provider": _l("Gestore di alloggi"),
}
