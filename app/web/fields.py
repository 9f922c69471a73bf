"""Form fields shared by every area."""

from __future__ import annotations

from typing import Any

from wtforms import Field, IntegerField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from app.i18n import lazy_gettext as _l

# Integer columns are 32-bit in PostgreSQL: anything beyond is not a value the portal can hold.
INT_MAX = 2**31 - 1


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
