"""What every statement parser returns, and how problems are collected by line."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sofinance.money import MoneyError, check_precision, parse_amount

MAX_PROBLEMS = 200  # a file with more is refused with the first 200 listed
MAX_TEXT = {"counterparty": 200, "reference": 200, "description": 500}
# The bank's id of a line is kept whole (OFX allows FITIDs of 255 characters): two lines whose ids
# differ only past some cut would be taken for one and the second skipped as a duplicate.
MAX_UNIQUE_ID_STORED = 255


@dataclass(frozen=True)
class ParsedLine:
    """One movement as the file states it: `amount` signed, money in positive; `line` is where
    it is in the file (a CSV row, an OFX or CAMT.053 entry's position)."""

    line: int
    date: datetime.date
    amount: Decimal
    counterparty: str = ""
    reference: str = ""
    description: str = ""
    unique_id: str = ""
    value_date: datetime.date | None = None


@dataclass
class ParsedStatement:
    """One statement of a file. Balances and dates are None when the file does not state them."""

    lines: list[ParsedLine] = field(default_factory=list)
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    currency: str | None = None
    account_ids: tuple[str, ...] = ()  # IBAN, account number: compared with the bank account's


class Problems:
    """Problems of a file, each with where it is; `raise_if_any` refuses the file with all of them.

    An item is `{"line", "column"?, "message"}`; a problem of a journal entry as a whole (its
    balance, its number of lines) has `entry` (the entry's key) instead of a column."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.truncated = False
        self.added = 0  # every problem found, the ones past MAX_PROBLEMS included

    def add(
        self, line: int | None, message: str, *, column: str | None = None, entry: str | None = None
    ) -> None:
        self.added += 1
        if len(self.items) >= MAX_PROBLEMS:
            self.truncated = True
            return
        item: dict[str, Any] = {"line": line}
        if entry is not None:
            item["entry"] = entry
        if column is not None:
            item["column"] = column
        item["message"] = message
        self.items.append(item)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(
        self, error_class, what: str = "file", *, shown: Callable[[dict[str, Any]], str] | None = None
    ) -> None:
        """Refuse with every problem in `details.errors`; the message is the first problem (in the
        words of `shown`, else "Line 3: Amount: …") and how many more there are."""
        if not self.items:
            return
        first = self.items[0]
        if shown is not None:
            headline = shown(first)
        else:
            where = f"Line {first['line']}: " if first.get("line") is not None else ""
            column = f"{first['column']}: " if first.get("column") else ""
            headline = f"{where}{column}{first['message']}"
        more = len(self.items) - 1
        suffix = f" ({more} more problem{'s' if more != 1 else ''}; nothing was written.)" if more else ""
        raise error_class(
            f"{headline}{suffix}",
            details={"errors": self.items, "truncated": self.truncated, "what": what},
        )


def clean_text(value: Any, kind: str) -> str:
    text = " ".join(str(value or "").replace("\x00", " ").split())
    return text[: MAX_TEXT[kind]]


def clean_unique_id(value: Any) -> str:
    """A line's id from the bank, whole (its runs of whitespace made one space, as always)."""
    return " ".join(str(value or "").replace("\x00", " ").split())


_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_statement_amount(
    raw: str, *, currency: str, decimal_separator: str = ".", thousands_separator: str = ""
) -> Decimal:
    """An amount as banks write it: "1,234.56", "1.234,56", "-12.00", "(12.00)", "12.00-".

    Never rounded: more decimals than the currency allows is an error (MoneyError)."""
    text = (raw or "").strip()
    if not text:
        raise MoneyError("The amount is empty.", code="validation_error")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text.endswith("-"):
        negative, text = True, text[:-1].strip()
    if text.startswith("+"):
        text = text[1:]
    if thousands_separator and thousands_separator in text:
        # Grouped by threes, or the amount is written in the other style: with a decimal comma,
        # "87.45" would lose its point and read 8745.00 (a hundred times the payment).
        whole = text.split(decimal_separator, 1)[0].strip()
        first, *rest = whole.split(thousands_separator)
        first = first.strip().removeprefix("-").strip()
        if not (
            first.isascii() and first.isdigit() and len(first) <= 3
            and all(len(g) == 3 and g.isascii() and g.isdigit() for g in rest)
        ):  # fmt: skip
            raise MoneyError(
                f"{raw!r} is not an amount written with {decimal_separator!r} for decimals and "
                f"{thousands_separator!r} between thousands (e.g. 1{thousands_separator}234{decimal_separator}56).",
                code="validation_error",
            )
        text = text.replace(thousands_separator, "")
    text = _SPACES.sub("", text)
    if decimal_separator != ".":
        if "." in text and decimal_separator == ",":
            raise MoneyError(
                f"{raw!r} is not an amount with ',' as the decimal separator.", code="validation_error"
            )
        text = text.replace(decimal_separator, ".")
    amount = parse_amount(text)
    check_precision(amount, currency)
    return -amount if negative else amount


def parse_plain_amount(raw: str, *, currency: str) -> Decimal:
    amount = parse_amount((raw or "").strip())
    check_precision(amount, currency)
    return amount
