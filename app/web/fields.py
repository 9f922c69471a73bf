"""Form fields shared by every area."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField

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
