"""Money: Decimal amounts, ISO 4217 currencies and their minor units.

Every money column is made by `money_field()`; every amount entering the system goes through
`parse_amount()` and `check_precision()` (rates: `parse_rate()`), so nothing is ever rounded
silently. Parsing and checking are exact: no step goes through the decimal context (28 digits),
which would round "9.999999999999999999999999999999" to 10 or turn 1E-999999999 into 0 before
the check, and let the database round or overflow on the insert.
"""

from __future__ import annotations

import re
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache

import iso4217
from django.core.exceptions import ValidationError
from django.db import models

# Columns hold up to 4 decimals (the most any ISO 4217 currency uses) and 18 integer digits.
MONEY_MAX_DIGITS = 22
MONEY_DECIMAL_PLACES = 4
# Anything at or above this magnitude is refused as absurd, whatever the currency.
MAX_ABS_AMOUNT = Decimal("1e15")
RATE_MAX_DIGITS = 24
RATE_DECIMAL_PLACES = 10
# An amount given as text: ASCII digits, an optional minus and fraction; no exponent, no spaces,
# no other scripts' digits ("1E2", " 10.00 " and "١٠.٠٠" are refused). JSON numbers are exact
# Decimals already (DecimalJSONParser) and are accepted as they are.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# Enough digits for any product of a stored amount and a stored rate: convert() is exact before
# its one rounding.
_EXACT_PRECISION = MONEY_MAX_DIGITS + RATE_MAX_DIGITS + 2


class MoneyError(ValueError):
    """An amount that cannot be accepted; `code` says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@lru_cache(maxsize=512)
def currency_exponent(code: str) -> int:
    """Decimal places of an ISO 4217 currency (USD 2, JPY 0, KWD 3)."""
    try:
        exponent = iso4217.Currency(code).exponent
    except ValueError as exc:
        raise MoneyError(f"Unknown currency {code!r}.", code="invalid_currency") from exc
    # Funds and metals (XAU, XDR...) have no minor unit in ISO 4217; treat them as 4 places.
    return MONEY_DECIMAL_PLACES if exponent is None else int(exponent)


# ISO 4217's codes for "no currency" and for testing: not money anyone keeps books in (an entry
# in XXX was accepted). Funds and metals (XAU, XDR...) stay: gold holdings are kept in XAU.
NOT_CURRENCIES = frozenset({"XXX", "XTS"})


def is_valid_currency(code: object) -> bool:
    if not isinstance(code, str) or len(code) != 3 or not code.isupper() or code in NOT_CURRENCIES:
        return False
    try:
        currency_exponent(code)
    except MoneyError:
        return False
    return True


def validate_currency_code(value: str) -> None:
    """Model-field validator: an active ISO 4217 alphabetic code."""
    if not is_valid_currency(value):
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code.", code="invalid_currency")


def parse_amount(value: object) -> Decimal:
    """Turn user input into an exact, finite Decimal.

    Accepts a plain decimal string ("1250.00", "-3"), an int or a Decimal; refuses floats, booleans,
    exponents, spaces, non-ASCII digits, NaN, infinities and absurd magnitudes (`invalid_amount`).
    """
    if isinstance(value, (bool, float)):
        # A float has already lost exactness; JSON numbers reach us as Decimal (DecimalJSONParser).
        raise MoneyError("Amounts must be given as strings or exact decimals.", code="invalid_amount")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        if not PLAIN_DECIMAL.fullmatch(value):
            raise MoneyError(
                f'{value[:40]!r} is not a plain decimal number: write amounts like "1250.00" '
                "(ASCII digits and one optional point; no exponent or spaces).",
                code="invalid_amount",
            )
        amount = Decimal(value)  # exact: the constructor never rounds
    else:
        raise MoneyError(f"{value!r:.40} is not a number.", code="invalid_amount")
    if not amount.is_finite():
        raise MoneyError("NaN and infinite amounts are not allowed.", code="invalid_amount")
    if amount.copy_abs() >= MAX_ABS_AMOUNT:  # copy_abs is exact; abs() would round
        raise MoneyError(f"{_shown(amount)} is too large.", code="invalid_amount")
    return amount


def _shown(amount: Decimal) -> str:
    """The amount in plain notation for a message, shortened (never rounded); a huge exponent stays
    in scientific notation rather than becoming a billion zeros."""
    exponent = amount.as_tuple().exponent
    text = format(amount, "f") if isinstance(exponent, int) and abs(exponent) <= 40 else str(amount)
    return text if len(text) <= 40 else text[:37] + "..."


def decimal_places(amount: Decimal) -> int:
    """Significant decimal places, exactly: 12.50 has 1, 12.505 has 3, 12 has 0, 1E-20 has 20."""
    _sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    significant = len(digits)
    while significant and digits[significant - 1] == 0:  # trailing zeros are not places
        significant -= 1
    if not significant:
        return 0
    return max(0, -exponent - (len(digits) - significant))


def integer_digits(amount: Decimal) -> int:
    """Digits before the point, exactly: 12.5 has 2, 0.5 has 0."""
    if not amount.is_finite() or amount.is_zero():
        return 0
    return max(0, amount.adjusted() + 1)


# Wide enough that quantizing an amount the fast paths admit is always exact (a money or rate
# column holds at most 22 digits).
_QUANTIZE = Context(prec=60, Emin=MIN_EMIN, Emax=MAX_EMAX)


def _exact_within(amount: Decimal, *, before_point: int, quantum: Decimal) -> bool:
    """The common case of the checks below, decided without spelling out the digits (a
    10,000-entry import checks 30,000 amounts): a finite amount with fewer than `before_point`
    digits before the point, equal to itself at `quantum`, has no more places than `quantum`
    allows. False is no refusal: the caller then judges the digits, and says why it refuses."""
    return (
        amount.is_finite()
        and amount.adjusted() < before_point
        and amount.quantize(quantum, context=_QUANTIZE) == amount
    )


@lru_cache(maxsize=64)
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def check_storable(amount: Decimal, *, max_digits: int, places: int, what: str = "amount") -> None:
    """Refuse a value that a DECIMAL(max_digits, places) column cannot hold exactly
    (`currency_precision`): the database would round it, or fail on the insert."""
    if _exact_within(amount, before_point=max_digits - places, quantum=_quantum(places)):
        return
    if decimal_places(amount) > places:
        raise MoneyError(
            f"The {what} {_shown(amount)} has more decimal places than can be stored ({places}).",
            code="currency_precision",
        )
    if integer_digits(amount) > max_digits - places:
        raise MoneyError(
            f"The {what} {_shown(amount)} has more digits than can be stored ({max_digits - places} before the point).",
            code="currency_precision",
        )


@lru_cache(maxsize=512)
def _storable_quantum(currency: str) -> Decimal:
    """1 at the last place both the currency and a money column allow."""
    return Decimal(1).scaleb(-min(currency_exponent(currency), MONEY_DECIMAL_PLACES))


def check_precision(amount: Decimal, currency: str) -> None:
    """Refuse an amount with more decimals than its currency allows, or than a money column holds
    (never round it)."""
    if _exact_within(
        amount, before_point=MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES, quantum=_storable_quantum(currency)
    ):
        return
    allowed = currency_exponent(currency)
    if decimal_places(amount) > allowed:
        raise MoneyError(
            f"{_shown(amount)} has more decimal places than {currency} allows ({allowed}).",
            code="currency_precision",
        )
    check_storable(amount, max_digits=MONEY_MAX_DIGITS, places=MONEY_DECIMAL_PLACES)


def parse_rate(value: object) -> Decimal:
    """An exchange rate: a positive amount that a rate column holds exactly."""
    rate = parse_amount(value)
    if rate <= 0:
        raise MoneyError("An exchange rate must be positive.", code="invalid_amount")
    check_storable(rate, max_digits=RATE_MAX_DIGITS, places=RATE_DECIMAL_PLACES, what="rate")
    return rate


@lru_cache(maxsize=512)
def currency_quantum(currency: str) -> Decimal:
    """1 at the currency's last place: Decimal("0.01") for USD, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Exact representation at the currency's places (only for amounts already checked)."""
    return amount.quantize(currency_quantum(currency))


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """amount × rate rounded half-up to `currency`'s places: the one place conversion rounds
    (the product itself is exact, whatever the decimal context's precision)."""
    with localcontext(prec=_EXACT_PRECISION):
        return (amount * rate).quantize(currency_quantum(currency), ROUND_HALF_UP)


def format_amount(amount: Decimal | None, currency: str) -> str:
    """ "1250.00" for USD, "1250" for JPY: amounts travel in JSON as strings at the currency's places."""
    return str(quantize(amount or Decimal(0), currency))


def money_field(**kwargs: object) -> models.DecimalField:
    """The one way to declare a money column."""
    kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
    kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
    return models.DecimalField(**kwargs)  # type: ignore[arg-type]


def rate_field(**kwargs: object) -> models.DecimalField:
    kwargs.setdefault("max_digits", RATE_MAX_DIGITS)
    kwargs.setdefault("decimal_places", RATE_DECIMAL_PLACES)
    return models.DecimalField(**kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sums in the database

_MONEY_SCALE = 10**MONEY_DECIMAL_PLACES
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)


def money_sum_sql(column: str, vendor: str) -> str:
    """SQL summing a money column exactly.

    PostgreSQL sums numerics exactly. SQLite keeps decimals as floating point and would add them
    as floats (-395.22 comes back as -395.219999999999), so there the values are added as
    integer ten-thousandths (the columns' 4 places) and scaled back once; read the result with
    `money_from_sum`.
    """
    if vendor == "sqlite":
        return f"(CAST(SUM(CAST(ROUND(({column}) * {_MONEY_SCALE}) AS INTEGER)) AS REAL) / {_MONEY_SCALE})"
    return f"SUM({column})"


def money_from_sum(value: object) -> Decimal:
    """A money sum as read from the database (`money_sum_sql`, `MoneySum`): exact, 0 for none."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        # At most 15 significant digits survive SQLite's floats; the sum was taken in integers.
        return Decimal(repr(value)).quantize(_MONEY_QUANTUM)
    return Decimal(value).quantize(_MONEY_QUANTUM)


class MoneySum(models.Aggregate):
    """SUM of a money column, exact on every database (see `money_sum_sql`); 0 over no rows."""

    function = "SUM"
    name = "MoneySum"
    allow_distinct = False

    def __init__(self, expression, **extra):
        super().__init__(expression, output_field=money_field(max_digits=MONEY_MAX_DIGITS + 6), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        copy = self.copy()
        if copy.filter is not None:  # the filter goes inside, as a CASE
            source = copy.get_source_expressions()
            copy.filter = None
            copy.set_source_expressions([models.Case(models.When(self.filter, then=source[0])), None])
        template = f"(CAST(SUM(CAST(ROUND((%(expressions)s) * {_MONEY_SCALE}) AS INTEGER)) AS REAL) / {_MONEY_SCALE})"
        return models.Func.as_sql(copy, compiler, connection, template=template, **extra_context)

    def convert_value(self, value, expression, connection):
        amount = money_from_sum(value)
        return amount.quantize(_MONEY_QUANTUM) if connection.vendor == "sqlite" else amount
