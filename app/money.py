"""Money: euro amounts as Decimal with two decimals, parsed the Italian way, never float."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# No budget line of a personal project, nor a programme envelope, reaches this: beyond it a typo.
ABSURD = Decimal("100000000.00")

# 1234,56 · 1.234,56 · 1234.56 · 1234 · € 1.234,56 (thousands with dots only in groups of three)
_ITALIAN = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$|^\d+(,\d+)?$")
_DOTTED = re.compile(r"^\d+\.\d+$")


class MoneyError(ValueError):
    """Raised with an Italian message when a text is not an acceptable amount."""


def parse_euro(text: str, maximum: Decimal = ABSURD) -> Decimal:
    """The amount in `text`, exact to the cent, or MoneyError with the reason in Italian.

    Accepts "1.234,56", "1234,56", "1234.56", "1234", with or without "€" and spaces.
    Refuses more than two decimals, negative amounts, amounts above `maximum`, anything else.
    """
    from app.i18n import gettext as _

    cleaned = text.replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    if cleaned.startswith("-"):
        raise MoneyError(_("L'importo non può essere negativo."))
    if _ITALIAN.match(cleaned):
        normal = cleaned.replace(".", "").replace(",", ".")
    elif _DOTTED.match(cleaned):
        normal = cleaned
    else:
        raise MoneyError(_("Scrivi un importo in euro, per esempio 1.234,56."))
    try:
        amount = Decimal(normal)
    except InvalidOperation:
        raise MoneyError(_("Scrivi un importo in euro, per esempio 1.234,56.")) from None
    # Decimals as typed: "1,500" is refused, not read as 1,50 (it may mean one thousand five
    # hundred written the English way).
    decimals = len(normal.partition(".")[2])
    if decimals > 2:
        raise MoneyError(_("Un importo in euro ha al massimo due decimali."))
    # Compared before quantizing: a 30-digit amount does not fit the decimal context.
    if amount > maximum:
        raise MoneyError(_("L'importo è troppo alto: controlla le cifre."))
    return amount.quantize(CENT)


def total(amounts: Iterable[Decimal | None]) -> Decimal:
    """Exact sum to the cent (None counts as zero)."""
    return sum((a or ZERO for a in amounts), ZERO).quantize(CENT, rounding=ROUND_HALF_UP)
