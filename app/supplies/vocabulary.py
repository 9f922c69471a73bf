"""Vocabularies of the hub supply: codes stored, Italian labels shown."""

from __future__ import annotations

from app.i18n import lazy_gettext as _l

REASONS = {
    "damaged": _l("danneggiato"),
    "expired": _l("scaduto"),
    "transferred": _l("trasferito ad altro snodo"),
    "count_correction": _l("rettifica inventario"),
}
# These reasons take goods away: their quantity is negative. A count correction goes either way.
OUTGOING_REASONS = ("damaged", "expired", "transferred")

MOVEMENT_KINDS = {
    "delivery": _l("consegna"),
    "distribution": _l("distribuzione"),
    "adjustment": _l("rettifica"),
    "transfer_in": _l("trasferimento in arrivo"),
    "transfer_out": _l("trasferimento in uscita"),
}
