"""CSV statement amounts as the bank's mapping says they are written: a thousands separator comes
between groups of three, so an amount written in the other style is refused, never read a hundred
times too large ("87.45" with a decimal comma lost its point and read 8745.00)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from banking.models import BankStatement, BankStatementLine
from banking.parsers.common import parse_statement_amount
from banking.tests.factories import bank_books, upload
from sofinance.errors import APIError
from sofinance.money import MoneyError

pytestmark = pytest.mark.django_db

EUROPEAN = {"decimal_separator": ",", "thousands_separator": "."}
AMERICAN = {"decimal_separator": ".", "thousands_separator": ","}


@pytest.mark.parametrize(
    ("raw", "style", "amount"),
    [
        ("1.234,56", EUROPEAN, "1234.56"),
        ("-1.234.567,89", EUROPEAN, "-1234567.89"),
        ("87,45", EUROPEAN, "87.45"),
        ("1.234", EUROPEAN, "1234"),
        ("(12.345,00)", EUROPEAN, "-12345.00"),
        ("1,234.56", AMERICAN, "1234.56"),
        ("87.45", AMERICAN, "87.45"),
        ("12.00-", AMERICAN, "-12.00"),
    ],
)
def test_amounts_written_as_the_mapping_says_are_read_exactly(raw, style, amount):
    assert parse_statement_amount(raw, currency="EUR", **style) == Decimal(amount)


@pytest.mark.parametrize(
    ("raw", "style"),
    [
        ("87.45", EUROPEAN),  # the other style's decimal point: was 8745.00
        ("12.34.5", EUROPEAN),  # groups not of three
        ("1.2345,00", EUROPEAN),
        ("87,45", AMERICAN),  # was 8745.00
        ("1,23,456.00", AMERICAN),  # grouped by twos (lakh): not this mapping's style
        ("٨.٧٤٥,00", EUROPEAN),  # other digits
    ],
)
def test_an_amount_written_in_another_style_is_refused(raw, style):
    with pytest.raises(MoneyError, match="is not an amount written with"):
        parse_statement_amount(raw, currency="EUR", **style)


def test_a_statement_with_an_amount_in_the_other_style_is_refused_naming_the_line_and_writes_nothing():
    # given a bank whose CSV writes 1.234,56
    bank = bank_books(
        csv_mapping={
            "delimiter": ";",
            "date_format": "%d.%m.%Y",
            "decimal_separator": ",",
            "thousands_separator": ".",
        }
    )
    data = (
        b"date;amount;counterparty;reference;description\n"
        b"02.03.2026;1.250,00;Acme;INV-1;Payment\n"
        b"03.03.2026;87.45;Shop;R-2;Card\n"
    )

    # when
    with pytest.raises(APIError) as refused:
        upload(bank, data, opening_balance="0.00")

    # then
    errors = refused.value.details["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(3, "amount")]
    assert "'87.45' is not an amount written with ','" in errors[0]["message"]
    assert (BankStatement.objects.filter(bank_account=bank).count(), BankStatementLine.objects.count()) == (
        0,
        0,
    )
