"""Vocabularies of projects: codes stored, Italian labels shown."""

from __future__ import annotations

from app.i18n import lazy_gettext as _l

STATUSES = {
    "draft": _l("bozza"),
    "submitted": _l("in attesa di approvazione"),
    "approved": _l("approvato"),
    "active": _l("in corso"),
    "closed": _l("chiuso"),
}

STATUS_BADGES = {
    "draft": "bg-secondary",
    "submitted": "bg-warning",
    "approved": "bg-info",
    "active": "bg-primary",
    "closed": "bg-dark",
}

CATEGORIES = {
    "training": _l("formazione"),
    "traineeship_allowance": _l("indennità di tirocinio"),
    "transport": _l("trasporti"),
    "childcare": _l("cura dei figli"),
    "housing_support": _l("sostegno all'abitare"),
    "tools": _l("strumenti e attrezzature"),
    "health": _l("spese sanitarie"),
    "other": _l("altro"),
}

GOAL_STATUSES = {
    "open": _l("in corso"),
    "achieved": _l("raggiunto"),
    "partly_achieved": _l("raggiunto in parte"),
    "not_achieved": _l("non raggiunto"),
}
