"""URL converters: an id in a path that no column can hold matches no route (404)."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from app.web.fields import INT_MAX


class IdConverter(IntegerConverter):
    """`<int:...>` limited to the range of the database's INTEGER columns (32-bit signed).

    Without it, /households/9223372036854775808 reaches the query and the driver fails
    (SQLite: "Python int too large", PostgreSQL: "out of int8 range"): a 500 for a page that
    simply does not exist. A rule may still give its own `max`.
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def register_converters(app: Any) -> None:
    """Before any blueprint: a rule takes its converter when it is added to the map."""
    app.url_map.converters["int"] = IdConverter
