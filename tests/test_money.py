"""Money: Italian amounts parsed exactly, formatted and parsed back, totals that never drift.

The parser is what stands between a social worker typing "1.234,56" and a budget line: every
accepted text must mean the amount the user meant, every refused one must say why in Italian.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from app.money import ABSURD, ZERO, MoneyError, parse_euro, total
from app.projects.models import BudgetLine
from app.projects.operations import totals
from app.web.formatting import format_money

FORMAT = "Scrivi un importo in euro, per esempio 1.234,56."
DECIMALS = "Un importo in euro ha al massimo due decimali."
NEGATIVE = "L'importo non può essere negativo."
TOO_HIGH = "L'importo è troppo alto: controlla le cifre."


@pytest.fixture(autouse=True)
def request_context(app: Flask) -> Iterator[None]:
    """Messages are translated for the user of a request, as in the forms."""
    with app.test_request_context():
        yield


# Parsing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("€ 1.234,56", "1234.56"),
        ("€1.234,56", "1234.56"),
        ("1.234,56 €", "1234.56"),
        ("\u20ac\u00a01.234,56", "1234.56"),
        ("  1234,56  ", "1234.56"),
        ("0,5", "0.50"),
        ("0,05", "0.05"),
        ("0", "0.00"),
        ("1.234", "1234.00"),  # Italian thousands, not one euro and 234 thousandths
        ("12.345", "12345.00"),
        ("1.234.567,89", "1234567.89"),
        ("1234", "1234.00"),
        ("12.5", "12.50"),
        ("100.000.000,00", "100000000.00"),
    ],
)
def test_accepts_the_ways_italians_write_amounts(text: str, amount: str) -> None:
    parsed = parse_euro(text)
    assert parsed == Decimal(amount)
    # Always stored with two decimals, ready for a Numeric(12, 2) column.
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12,345", DECIMALS),
        ("1,500", DECIMALS),  # not silently 1,50: the user may mean one thousand five hundred
        ("12.345,678", DECIMALS),
        ("1.2345", DECIMALS),
        ("-5", NEGATIVE),
        ("-0,01", NEGATIVE),
        ("€ -5,00", NEGATIVE),
        ("abc", FORMAT),
        ("1,2,3", FORMAT),
        ("", FORMAT),
        ("   ", FORMAT),
        ("€", FORMAT),
        ("12,", FORMAT),
        (",5", FORMAT),
        ("1.23.456", FORMAT),
        ("1,234.56", FORMAT),  # English grouping: ambiguous, refused rather than guessed
        ("1e5", FORMAT),
        ("NaN", FORMAT),
        ("Infinity", FORMAT),
        ("+5", FORMAT),
        ("100.000.000,01", TOO_HIGH),
        ("999999999999", TOO_HIGH),
        ("9" * 40, TOO_HIGH),  # beyond the decimal context: a message, not a crash
        ("9" * 40 + ",99", TOO_HIGH),
    ],
)
def test_refuses_what_is_not_an_amount_with_an_italian_message(text: str, message: str) -> None:
    with pytest.raises(MoneyError) as error:
        parse_euro(text)
    assert str(error.value) == message


def test_a_lower_maximum_is_honoured() -> None:
    assert parse_euro("500,00", maximum=Decimal("500.00")) == Decimal("500.00")
    with pytest.raises(MoneyError, match="troppo alto"):
        parse_euro("500,01", maximum=Decimal("500.00"))


# Round trip and exact sums (property tests) ------------------------------------------------------

amounts = st.integers(min_value=0, max_value=int(ABSURD * 100)).map(
    lambda cents: Decimal(cents).scaleb(-2)
)
small_amounts = st.integers(min_value=0, max_value=10**9).map(
    lambda cents: Decimal(cents).scaleb(-2)
)


def cents(amount: Decimal) -> int:
    value = amount * 100
    assert value == value.to_integral_value(), f"{amount} is not whole cents"
    return int(value)


@settings(max_examples=300, deadline=None)
@given(amount=amounts)
def test_what_the_portal_shows_parses_back_to_the_same_amount(amount: Decimal) -> None:
    shown = format_money(amount)
    assert shown.startswith("€ ")
    assert parse_euro(shown) == amount
    assert parse_euro(shown.removeprefix("€ ")) == amount
    # What a money field shows when it is filled from the database.
    assert parse_euro(format_decimal(amount, format="#,##0.00", locale="it_IT")) == amount


@settings(max_examples=300, deadline=None)
@given(amount=amounts)
def test_plain_decimal_text_parses_to_the_same_amount(amount: Decimal) -> None:
    # "1234.56" as typed by someone used to a dot, and "1234,56" without thousands.
    assert parse_euro(f"{amount:.2f}") == amount
    assert parse_euro(f"{amount:.2f}".replace(".", ",")) == amount


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(small_amounts, st.none()), max_size=60))
def test_total_is_the_exact_sum_and_never_drifts(values: list[Decimal | None]) -> None:
    result = total(values)
    exact_cents = sum(cents(v) for v in values if v is not None)
    assert cents(result) == exact_cents
    assert result == Decimal(exact_cents).scaleb(-2)
    assert result.as_tuple().exponent == -2
    # The order of the lines never changes the total.
    assert total(reversed(values)) == result
    # Adding the same list twice doubles it exactly (no accumulated float error).
    assert total(values + values) == result * 2


def test_total_of_tenths_is_exact_where_floats_drift() -> None:
    tenths = [Decimal("0.10")] * 10
    drifting = 0.0
    for t in tenths:  # a running total, as a spreadsheet or a loop keeps it
        drifting += float(t)
    assert drifting != 1.0  # the trap (sum() of floats compensates since Python 3.12)
    assert total(tenths) == Decimal("1.00")
    assert total([]) == ZERO
    assert total([None, None]) == ZERO


@st.composite
def budget_lines(draw: st.DrawFn) -> BudgetLine:
    """A line consistent with the database CHECKs: paid <= committed <= approved."""
    planned = draw(small_amounts)
    approved = draw(small_amounts)
    committed = Decimal(draw(st.integers(0, cents(approved)))).scaleb(-2)
    paid = Decimal(draw(st.integers(0, cents(committed)))).scaleb(-2)
    return BudgetLine(
        category="training",
        description="voce",
        planned=planned,
        approved=approved,
        committed=committed,
        paid=paid,
    )


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(budget_lines(), max_size=40))
def test_budget_totals_are_the_exact_sums_of_the_lines(lines: list[BudgetLine]) -> None:
    result = totals(lines)
    for field in ("planned", "approved", "committed", "paid"):
        assert cents(getattr(result, field)) == sum(cents(getattr(line, field)) for line in lines)
    assert result.available == result.approved - result.committed
    assert cents(result.available) == sum(cents(line.available) for line in lines)
    assert result.to_pay == result.committed - result.paid
    assert ZERO <= result.paid <= result.committed <= result.approved
    assert result.available >= ZERO


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12.500", "12500.00"),
        ("12.500,00", "12500.00"),
        ("12500", "12500.00"),
        ("12,5", "12.50"),
        ("1.234,56", "1234.56"),
    ],
)
def test_every_money_field_reads_amounts_with_the_one_parser(text: str, amount: str) -> None:
    """Issue #17, item 7: the ISEE field had a parser of its own that read "12.500" as 12,50."""
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from app.households.forms import HouseholdForm
    from app.web.fields import MoneyField

    assert parse_euro(text) == Decimal(amount)
    assert isinstance(HouseholdForm.isee_value.field_class, type)
    assert issubclass(HouseholdForm.isee_value.field_class, MoneyField)

    class OneAmount(FlaskForm):
        class Meta:
            csrf = False

        amount = HouseholdForm.isee_value

    form = OneAmount(formdata=MultiDict({"amount": text}))
    assert form.amount.data == Decimal(amount)
    assert str(form.amount.data) == amount
