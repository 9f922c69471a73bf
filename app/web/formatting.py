"""Italian formatting: dates dd/mm/yyyy, money € 1.234,56, times in Europe/Rome."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_decimal

from app.clock import ROME


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_rome(value).date()
    return value.strftime("%d/%m/%Y")


def to_rome(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: the portal stores aware UTC datetimes")
    return value.astimezone(ROME)


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_rome(value).strftime("%d/%m/%Y %H:%M")


def datetime_attribute(value: datetime) -> str:
    """A `<time datetime>` value: Rome's local time to the second, with its offset.

    HTML allows at most three digits of a second's fraction; `isoformat()` writes six.
    """
    return to_rome(value).isoformat(timespec="seconds")


def format_money(value: Decimal | int | None, *, cents: bool = False) -> str:
    """€ 1.234,56 (Italian separators, symbol first, always two decimals)."""
    if value is None:
        return ""
    amount = Decimal(value) / 100 if cents else Decimal(value)
    sign = "-" if amount < 0 else ""
    text = format_decimal(abs(amount), format="#,##0.00", locale="it_IT")
    return f"{sign}€ {text}"


def format_number(value: int | Decimal | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, locale="it_IT")


def register_filters(app: object) -> None:
    app.jinja_env.filters.update(  # type: ignore[attr-defined]
        date_it=format_date,
        datetime_it=format_datetime,
        datetime_attr=datetime_attribute,
        money=format_money,
        number=format_number,
    )
