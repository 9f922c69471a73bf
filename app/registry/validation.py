"""Checks of Italian identifiers, with messages that name the problem."""

from __future__ import annotations

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.it import codicefiscale, iva

from app.i18n import gettext as _


def normalise_tax_code(value: str) -> str:
    return "".join(value.split()).upper()


def tax_code_problem(value: str) -> str | None:
    """None if `value` is a valid codice fiscale of an organization (11 digits) or a person
    (16 characters); else an Italian sentence saying what is wrong."""
    code = normalise_tax_code(value)
    if len(code) == 11:
        if not code.isdigit():
            return _("Il codice fiscale di 11 caratteri di un ente contiene solo cifre.")
        try:
            iva.validate(code)
        except InvalidChecksum:
            return _(
                "L'ultima cifra (di controllo) non corrisponde: verifica di averlo copiato bene."
            )
        except (InvalidFormat, InvalidComponent):
            return _("Il codice fiscale numerico non è valido: verifica le prime cifre.")
        return None
    if len(code) == 16:
        try:
            codicefiscale.validate(code)
        except InvalidChecksum:
            return _(
                "L'ultimo carattere (di controllo) non corrisponde: "
                "verifica di averlo copiato bene."
            )
        except (InvalidFormat, InvalidComponent, InvalidLength):
            return _("Il codice fiscale di 16 caratteri non ha il formato corretto.")
        return None
    return _(
        "Il codice fiscale di un ente ha 11 cifre (16 caratteri quello di una persona): "
        "ne hai inseriti %(n)d.",
        n=len(code),
    )
