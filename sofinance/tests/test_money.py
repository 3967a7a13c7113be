"""Money parsing and checks are exact: nothing is rounded, by the decimal context or the database."""

from __future__ import annotations

from decimal import Decimal, getcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sofinance.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    RATE_DECIMAL_PLACES,
    RATE_MAX_DIGITS,
    MoneyError,
    check_precision,
    check_storable,
    convert,
    currency_exponent,
    decimal_places,
    integer_digits,
    is_valid_currency,
    parse_amount,
    parse_rate,
)


def _refusal(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(MoneyError) as info:
        call(*args, **kwargs)
    return info.value.code, str(info.value)


@pytest.mark.parametrize("text", ["1250.00", "0", "-3", "0.0001", "999999999999999.9999"])
def test_plain_decimal_strings_parse_exactly(text):
    assert str(parse_amount(text)) == text


def test_a_string_longer_than_the_context_precision_is_kept_digit_for_digit():
    # given: 31 significant digits; the decimal context holds 28
    text = "9.999999999999999999999999999999"
    assert getcontext().prec == 28

    # when
    amount = parse_amount(text)

    # then
    assert str(amount) == text
    assert decimal_places(amount) == 30


@pytest.mark.parametrize(
    "text",
    [
        "1E2",
        "1e-999999999",
        " 10.00 ",
        "10.00 ",
        "١٠.٠٠",
        "１０",
        "+10",
        "1.",
        ".5",
        "1,000.00",
        "0x10",
        "",
        "--1",
    ],
)
def test_amount_strings_are_plain_ascii_decimals(text):
    code, message = _refusal(parse_amount, text)

    assert code == "invalid_amount"
    assert "is not a plain decimal number" in message


@pytest.mark.parametrize(
    "value", [1.5, True, None, [], {}, Decimal("NaN"), Decimal("Infinity"), Decimal("-1e15")]
)
def test_non_numbers_floats_and_non_finite_values_are_refused(value):
    assert _refusal(parse_amount, value)[0] == "invalid_amount"


def test_json_numbers_arrive_as_decimals_and_stay_accepted():
    assert parse_amount(Decimal("1E+2")) == Decimal(100)
    assert parse_amount(Decimal("-0")) == 0
    assert parse_amount(12) == Decimal(12)


@pytest.mark.parametrize(
    ("amount", "places", "digits"),
    [
        ("12.50", 1, 2),
        ("12.505", 3, 2),
        ("12", 0, 2),
        ("1E+5", 0, 6),
        ("0.5", 1, 0),
        ("1E-999999999", 999999999, 0),
        ("0E-999999999", 0, 0),
        ("9.999999999999999999999999999999", 30, 1),
    ],
)
def test_places_and_digits_are_counted_without_the_context(amount, places, digits):
    assert (decimal_places(Decimal(amount)), integer_digits(Decimal(amount))) == (places, digits)


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (
            "9.999999999999999999999999999999",
            "USD",
            "9.999999999999999999999999999999 has more decimal places than USD allows (2).",
        ),
        ("1E-999999999", "USD", "1E-999999999 has more decimal places than USD allows (2)."),
        ("10.5", "JPY", "10.5 has more decimal places than JPY allows (0)."),
        ("1.0001", "KWD", "1.0001 has more decimal places than KWD allows (3)."),
    ],
)
def test_check_precision_refuses_what_cannot_be_stored_exactly(amount, currency, message):
    assert _refusal(check_precision, Decimal(amount), currency) == ("currency_precision", message)


def test_check_precision_accepts_trailing_zeros():
    check_precision(Decimal("10.000000"), "USD")
    check_precision(Decimal("1E+3"), "JPY")


def test_the_column_bounds_come_from_the_money_and_rate_columns():
    check_storable(Decimal("1" * 18 + ".1234"), max_digits=MONEY_MAX_DIGITS, places=MONEY_DECIMAL_PLACES)
    assert (
        _refusal(check_storable, Decimal("1" * 19), max_digits=MONEY_MAX_DIGITS, places=MONEY_DECIMAL_PLACES)[
            0
        ]
        == "currency_precision"
    )
    assert RATE_MAX_DIGITS - RATE_DECIMAL_PLACES == 14


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (
            "123456789012345",
            "currency_precision",
            "The rate 123456789012345 has more digits than can be stored (14 before the point).",
        ),
        (
            Decimal("1E-999999999"),
            "currency_precision",
            "The rate 1E-999999999 has more decimal places than can be stored (10).",
        ),
        (
            "0.00000000001",
            "currency_precision",
            "The rate 0.00000000001 has more decimal places than can be stored (10).",
        ),
        ("0", "invalid_amount", "An exchange rate must be positive."),
        ("-1.1", "invalid_amount", "An exchange rate must be positive."),
    ],
)
def test_rates_are_positive_and_fit_their_column(value, code, message):
    assert _refusal(parse_rate, value) == (code, message)


def test_rates_at_the_column_limits_are_accepted():
    assert parse_rate("99999999999999.9999999999") == Decimal("99999999999999.9999999999")


def test_conversion_rounds_once_not_twice():
    # given: an exact product ending ...030.00499999999999; rounded first to the context's 28 digits
    # it becomes ...030.0050000000 and then rounds up to .01
    amount, rate = Decimal("810007403946671.0813"), Decimal("123.4567890123")

    # then
    assert convert(amount, rate, "USD") == Decimal("100000913167445030.00")


@given(
    st.decimals(
        min_value=Decimal("-999999999999999.9999"), max_value=Decimal("999999999999999.9999"), places=4
    )
)
def test_every_storable_amount_round_trips_through_its_string(amount):
    assert parse_amount(str(amount) if "E" not in str(amount) else format(amount, "f")) == amount


def _precision_by_the_digits(amount: Decimal, currency: str) -> str | None:
    """check_precision's rule spelled out digit by digit (what it did before its fast path)."""
    allowed = currency_exponent(currency)
    if decimal_places(amount) > allowed or decimal_places(amount) > MONEY_DECIMAL_PLACES:
        return "currency_precision"
    if integer_digits(amount) > MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES:
        return "currency_precision"
    return None


@given(
    # everyday amounts (a few digits, a few places) as well as huge and tiny ones
    digits=st.one_of(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=10**30)),
    exponent=st.one_of(st.integers(min_value=-6, max_value=3), st.integers(min_value=-30, max_value=20)),
    negative=st.booleans(),
    currency=st.sampled_from(["USD", "JPY", "KWD", "XAU", "CLF"]),
)
@settings(max_examples=2000, deadline=None)
def test_check_precision_decides_as_the_digit_by_digit_rule(digits, exponent, negative, currency):
    amount = Decimal(f"{'-' if negative else ''}{digits}E{exponent}")
    try:
        check_precision(amount, currency)
        decided = None
    except MoneyError as refused:
        decided = refused.code
    assert decided == _precision_by_the_digits(amount, currency), amount


@given(
    digits=st.one_of(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=10**30)),
    exponent=st.one_of(
        st.integers(min_value=-12, max_value=3),
        st.integers(min_value=-30, max_value=20),
        st.sampled_from([-999_999_999, 999_999_999]),
    ),
    negative=st.booleans(),
    column=st.sampled_from(
        [(MONEY_MAX_DIGITS, MONEY_DECIMAL_PLACES), (RATE_MAX_DIGITS, RATE_DECIMAL_PLACES)]
    ),
)
@settings(max_examples=2000, deadline=None)
def test_check_storable_decides_as_the_digit_by_digit_rule(digits, exponent, negative, column):
    max_digits, places = column
    amount = Decimal(f"{'-' if negative else ''}{digits}E{exponent}")
    expected = (
        "currency_precision"
        if decimal_places(amount) > places or integer_digits(amount) > max_digits - places
        else None
    )
    try:
        check_storable(amount, max_digits=max_digits, places=places)
        decided = None
    except MoneyError as refused:
        decided = refused.code
    assert decided == expected, amount


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("USD", True),
        ("XOF", True),
        ("XAU", True),
        ("XXX", False),
        ("XTS", False),
        ("usd", False),
        ("ZZZ", False),
    ],
)
def test_no_currency_and_the_testing_code_are_not_currencies(code, valid):
    # XXX ("no currency") was taken for an entry; XOF (CFA franc) and XAU (gold) are kept in books
    assert is_valid_currency(code) is valid
