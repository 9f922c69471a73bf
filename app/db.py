"""Declarative base with a constraint naming convention, and shared column helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no time zone, PostgreSQL does: this type gives both the same behaviour.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# Searching without accents ("opportunita" finds "opportunità") ----------------------------------

# Accented letters by the plain letter a search without accents finds them by. Upper case too:
# SQLite's lower() folds only ASCII, and so does PostgreSQL's under the C locale.
_ACCENTED = {
    "a": "àáâäÀÁÂÄ",
    "e": "èéêëÈÉÊË",
    "i": "ìíîïÌÍÎÏ",
    "o": "òóôöÒÓÔÖ",
    "u": "ùúûüÙÚÛÜ",
    "c": "çÇ",
    "n": "ñÑ",
}
_FROM = "".join(_ACCENTED.values())
_TO = "".join(plain * len(letters) for plain, letters in _ACCENTED.items())
_TABLE = str.maketrans(_FROM, _TO)


def fold(text: str) -> str:
    """Lower case, the accents of `_ACCENTED` dropped: what `folded()` makes of a column."""
    return text.translate(_TABLE).lower()


def _fold_in_sqlite(value: str | None) -> str | None:
    return None if value is None else fold(str(value))


class folded(FunctionElement[str]):
    """A text column lower case without accents, in SQL: PostgreSQL's translate(), a Python
    function registered on every SQLite connection (`register_sqlite_functions`)."""

    type = String()
    inherit_cache = True


@compiles(folded)
def _folded_sqlite(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"portal_fold({compiler.process(element.clauses, **kw)})"


@compiles(folded, "postgresql")
def _folded_postgresql(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"lower(translate({column}, '{_FROM}', '{_TO}'))"


def register_sqlite_functions(dbapi_connection: Any) -> None:
    dbapi_connection.create_function("portal_fold", 1, _fold_in_sqlite, deterministic=True)
