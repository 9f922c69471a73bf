"""The gettext functions of the Python code: Flask-Babel's, without its lookups at every call.

Flask-Babel's own `gettext` finds the request's domain through `g` at each call, and its lazy
strings call it again each time one is shown; a list page shows hundreds of labels. These go
straight to the application's domain (`app.RequestDomain`), which keeps the request's catalogue.
Outside a request they translate nothing, as Flask-Babel's do.
"""

from __future__ import annotations

from typing import Any

from flask_babel.speaklater import LazyString

from app.extensions import babel


def gettext(string: str, **variables: Any) -> str:
    return babel.domain_instance.gettext(string, **variables)  # type: ignore[no-any-return]


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    return babel.domain_instance.ngettext(singular, plural, num, **variables)  # type: ignore[no-any-return]


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """A label translated each time it is shown, in the language of the request showing it."""
    return LazyString(gettext, string, **variables)
