"""How amounts and dates read on every page (the admin, report pages, printable documents).

One number format: thousands separators, the currency's decimal places, and negatives the way
accountants write them, in parentheses: 1,250.00 and (1,250.00). One date format: ISO 8601,
2026-11-30 (sofinance/formats). The API keeps its plain strings ("1250.00"): this is for people.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from sofinance.money import quantize

ZERO = Decimal(0)
DATE_FORMAT = "%Y-%m-%d"


def display_amount(amount: Decimal | int | None, currency: str, *, blank_zero: bool = False) -> str:
    """1,250.00 / (1,250.00) at `currency`'s places; "" for None, and for zero with `blank_zero`."""
    if amount is None:
        return ""
    value = quantize(Decimal(amount), currency)
    if blank_zero and value == 0:
        return ""
    text = f"{abs(value):,f}"
    return f"({text})" if value < 0 else text


def display_side(amount: Decimal | None, currency: str) -> str:
    """A balance as a debit or a credit: "1,250.00 Dr", "300.00 Cr", or "0.00"."""
    value = amount or ZERO
    if value > 0:
        return f"{display_amount(value, currency)} Dr"
    if value < 0:
        return f"{display_amount(-value, currency)} Cr"
    return display_amount(ZERO, currency)


def display_rate(rate: Decimal | None) -> str:
    """An exchange rate without trailing zeros: 1.085, 0.92."""
    if rate is None:
        return ""
    return format(rate.normalize(), "f")


def display_date(day: datetime.date | None) -> str:
    return day.strftime(DATE_FORMAT) if day is not None else ""
