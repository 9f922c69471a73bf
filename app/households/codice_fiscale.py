"""Codice fiscale of a person: format, check character, and consistency with birth date and sex.

Homocode variants (letters in place of digits, assigned when two people would share a code) are
valid: the digits are decoded here rather than with stdnum's get_gender(), which reads them as
plain digits.
"""

from __future__ import annotations

from datetime import date

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.it import codicefiscale

from app.i18n import gettext as _

# Homocode letters stand for the digits 0-9.
_HOMOCODE = {letter: str(digit) for digit, letter in enumerate("LMNPQRSTUV")}
_MONTHS = "ABCDEHLMPRST"


def normalise(value: str) -> str:
    return "".join(value.split()).upper()


def _digits(text: str) -> str:
    return "".join(_HOMOCODE.get(ch, ch) for ch in text)


def format_problem(value: str) -> str | None:
    """None if `value` is a well-formed personal codice fiscale (16 characters, right check
    character); else an Italian sentence naming the problem."""
    code = normalise(value)
    if len(code) != 16:
        return _(
            "Il codice fiscale di una persona ha 16 caratteri: ne hai inseriti %(n)d.", n=len(code)
        )
    try:
        codicefiscale.validate(code)
    except InvalidChecksum:
        return _(
            "L'ultimo carattere (di controllo) non corrisponde: verifica di averlo copiato bene."
        )
    except (InvalidFormat, InvalidComponent, InvalidLength):
        return _("Il codice fiscale non ha il formato corretto (6 lettere, 2 cifre, 1 lettera...).")
    return None


def encoded_sex(code: str) -> str:
    return "F" if int(_digits(code[9:11])) > 40 else "M"


def consistency_problem(value: str, birth_date: date | None, sex: str | None) -> str | None:
    """None if the code agrees with the birth date and sex given; else what disagrees."""
    code = normalise(value)
    if format_problem(code) is not None:
        return None  # reported by format_problem
    year = int(_digits(code[6:8]))
    month = _MONTHS.index(code[8]) + 1
    day = int(_digits(code[9:11])) % 40
    if birth_date is not None and (
        birth_date.year % 100 != year or birth_date.month != month or birth_date.day != day
    ):
        return _("Il codice fiscale non corrisponde alla data di nascita indicata.")
    if sex in ("M", "F") and encoded_sex(code) != sex:
        return _("Il codice fiscale non corrisponde al sesso indicato.")
    return None
