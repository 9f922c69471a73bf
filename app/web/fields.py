"""Form fields shared by every area."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from wtforms import Field, IntegerField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l

# Integer columns are 32-bit in PostgreSQL: anything beyond is not a value the portal can hold.
INT_MAX = 2**31 - 1
# The dates a list may be filtered by: the programme's records start after 2000, and a year
# typed with one digit too many (20266) or the calendar's ends (0001-01-01, 9999-12-31) are
# mistakes, not periods. The same bounds as the audit log's filters.
FILTER_EARLIEST, FILTER_LATEST = date(2000, 1, 1), date(2099, 12, 31)


def parse_filter_day(text: str | None) -> tuple[date | None, str | None]:
    """The date of a list filter, typed yyyy-mm-dd (a date input) or dd/mm/yyyy, and the
    message to show next to the field when it is not a date or outside the bounds (then the
    date is None: the list is not filtered by it)."""
    text = (text or "").strip()
    if not text:
        return None, None
    parts = text.split("/")
    if len(parts) == 3:
        text = "-".join(reversed(parts))
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        return None, _("Scrivi una data valida, per esempio 31/01/2026.")
    if not FILTER_EARLIEST <= day <= FILTER_LATEST:
        return None, _("Scegli una data tra il 2000 e il 2099.")
    return day, None


def bounded_int(value: Any) -> int | None:
    """The whole number in `value`, or None when it is not one or does not fit a database column
    (so a 400-digit number is a form error, not a crash)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -INT_MAX <= value <= INT_MAX else None
    text = str(value).strip()
    if not text or len(text) > 11:
        return None
    try:
        number = int(text)
    except ValueError:
        return None
    return number if -INT_MAX <= number <= INT_MAX else None


def invisible_characters(text: str, lines: bool = False, identifier: bool = False) -> bool:
    """True if `text` holds control characters (tab, escape, backspace, a line break where
    `lines` is False), or, in an `identifier`, invisible format characters too (zero-width
    spaces, right-to-left overrides): nothing a person types, and a way to make two codes look
    alike."""
    allowed = "\n\r\t" if lines else ""
    for character in text:
        category = unicodedata.category(character)
        if category == "Cc" and character not in allowed:
            return True
        if identifier and category == "Cf":
            return True
    return False


def no_control_characters(
    lines: bool = False, identifier: bool = False
) -> Callable[[Any, Field], None]:
    """A WTForms validator refusing control characters (see `invisible_characters`), with an
    Italian message next to the field. `lines=True` for a text area (line breaks and tabs
    are fine there); `identifier=True` for codes and numbers of registers."""

    def check(form: Any, field: Field) -> None:
        if isinstance(field.data, str) and invisible_characters(field.data, lines, identifier):
            # Stop: the field's other checks would only add confusing messages about it.
            raise StopValidation(
                str(_l("Contiene caratteri invisibili o di controllo: riscrivi il valore."))
            )

    return check


class WholeNumberField(IntegerField):
    """An integer field that refuses, with an Italian message, what is not a storable integer."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        self.data = bounded_int(valuelist[0])
        if self.data is None:
            raise ValueError(str(_l("Scrivi un numero intero.")))


class MoneyField(Field):
    """A euro amount typed the Italian way ("1.234,56"; "1234.56" too), exact to the cent.

    The one money field of the portal: every amount (ISEE, costs, arrears, budget lines,
    settings) is read by `app.money.parse_euro`, so "12.500" is twelve thousand five hundred
    everywhere.

    More than two decimals, negative, absurd or malformed amounts are refused with an Italian
    message; the text typed is kept for the user to correct. A text input (with the numeric
    keyboard on phones), since a number input refuses the comma.
    """

    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        from app.money import MoneyError, parse_euro

        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = parse_euro(str(valuelist[0]))
        except MoneyError as error:
            self.data = None
            raise ValueError(str(error)) from None

    def pre_validate(self, form: Any) -> None:
        # A text that is not an amount gets the parser's message alone, not also the range's.
        if self.process_errors:
            raise StopValidation()

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        from babel.numbers import format_decimal

        return format_decimal(self.data, format="#,##0.00", locale="it_IT")
