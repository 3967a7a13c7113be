"""CSV bank statements, read with the bank account's saved column mapping.

A mapping names the header of each column and how values are written:

    {"delimiter": ";", "encoding": "utf-8", "skip_rows": 0,
     "date_column": "Booking date", "date_format": "%d.%m.%Y",
     "amount_column": "Amount"            # signed: money in positive (or "invert_sign": true)
     # or "debit_column": "Out", "credit_column": "In"   (both positive, one per row)
     "decimal_separator": ",", "thousands_separator": ".",
     "counterparty_column": "Payee", "reference_column": "Reference",
     "description_column": "Details", "unique_id_column": "Transaction id",
     "balance_column": "Balance", "value_date_column": "Value date"}

Headers are matched ignoring case and surrounding spaces; a header the mapping reads that names
two columns of the file refuses it (which of them holds the amount?). With a balance column the
statement's closing balance is the last row's balance and its opening balance the first row's
balance less its amount (rows in the bank's order).
"""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

from banking.parsers.common import (
    ParsedLine,
    ParsedStatement,
    Problems,
    clean_text,
    clean_unique_id,
    parse_statement_amount,
)
from sofinance.errors import ValidationFailed
from sofinance.money import MoneyError

DEFAULT_MAPPING: dict[str, Any] = {
    "delimiter": ",",
    "encoding": "utf-8",
    "skip_rows": 0,
    "date_column": "date",
    "date_format": "%Y-%m-%d",
    "amount_column": "amount",
    "decimal_separator": ".",
    "thousands_separator": "",
    "invert_sign": False,
    "counterparty_column": "counterparty",
    "reference_column": "reference",
    "description_column": "description",
    "unique_id_column": "",
    "balance_column": "",
    "value_date_column": "",
}
COLUMN_KEYS = (
    "date_column", "amount_column", "debit_column", "credit_column", "counterparty_column",
    "reference_column", "description_column", "unique_id_column", "balance_column", "value_date_column",
)  # fmt: skip
OPTIONAL_COLUMNS = ("counterparty_column", "reference_column", "description_column")
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "iso-8859-15")
DATE_FORMATS_HINT = "e.g. %Y-%m-%d, %d/%m/%Y, %m/%d/%Y, %d.%m.%Y"


def csv_mapping_clean(raw: Any) -> dict[str, Any]:
    """A complete, checked mapping from what a user gave (missing keys take the defaults).

    Refused (`validation_error`, per key): unknown keys, a delimiter or separator that is not one
    character of the allowed ones, an unknown encoding, a date format without day, month and
    year, both an amount column and debit/credit columns, or neither."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationFailed(
            "The CSV mapping is an object.", details={"csv_mapping": ["Must be an object."]}
        )
    problems: dict[str, list[str]] = {}
    known = set(DEFAULT_MAPPING) | {"debit_column", "credit_column"}
    for key in raw:
        if key not in known:
            problems.setdefault(str(key)[:50], []).append("Unknown mapping key.")
    mapping = {**DEFAULT_MAPPING, **{k: v for k, v in raw.items() if k in known}}
    if raw.get("debit_column") or raw.get("credit_column"):
        if "amount_column" in raw and raw.get("amount_column"):
            problems.setdefault("amount_column", []).append(
                "Give either an amount column or debit and credit columns, not both."
            )
        mapping["amount_column"] = ""
        for key in ("debit_column", "credit_column"):
            if not isinstance(raw.get(key), str) or not raw.get(key).strip():
                problems.setdefault(key, []).append("Debit and credit columns are given together.")
    for key in COLUMN_KEYS:
        value = mapping.get(key, "")
        if value is None:
            mapping[key] = ""
        elif not isinstance(value, str) or len(value) > 100:
            problems.setdefault(key, []).append("A column is named by its header (at most 100 characters).")
        else:
            mapping[key] = value.strip()
    if not mapping.get("date_column"):
        problems.setdefault("date_column", []).append("The date column is required.")
    if not mapping.get("amount_column") and not (
        mapping.get("debit_column") and mapping.get("credit_column")
    ):
        problems.setdefault("amount_column", []).append(
            "An amount column, or debit and credit columns, is required."
        )
    if mapping["delimiter"] not in DELIMITERS:
        problems.setdefault("delimiter", []).append("One of , ; | or a tab.")
    if mapping["decimal_separator"] not in (".", ","):
        problems.setdefault("decimal_separator", []).append('"." or ",".')
    if mapping["thousands_separator"] not in ("", ",", ".", " ", "'"):
        problems.setdefault("thousands_separator", []).append('"", ",", ".", " " or "\'".')
    elif mapping["thousands_separator"] == mapping["decimal_separator"]:
        problems.setdefault("thousands_separator", []).append("Differs from the decimal separator.")
    if mapping["encoding"] not in ENCODINGS:
        problems.setdefault("encoding", []).append(f"One of {', '.join(ENCODINGS)}.")
    skip = mapping["skip_rows"]
    if isinstance(skip, bool) or not isinstance(skip, int) or not 0 <= skip <= 50:
        problems.setdefault("skip_rows", []).append("A whole number from 0 to 50.")
    if not isinstance(mapping["invert_sign"], bool):
        problems.setdefault("invert_sign", []).append("true or false.")
    fmt = mapping["date_format"]
    if not isinstance(fmt, str) or not _date_format_ok(fmt):
        problems.setdefault("date_format", []).append(
            f"A strftime format with day, month and year ({DATE_FORMATS_HINT})."
        )
    if problems:
        first_key = next(iter(problems))
        raise ValidationFailed(
            f"CSV mapping: {first_key}: {problems[first_key][0]}", details={"csv_mapping": problems}
        )
    return mapping


def _date_format_ok(fmt: str) -> bool:
    if len(fmt) > 30 or "%d" not in fmt or not any(m in fmt for m in ("%m", "%b", "%B")):
        return False
    if "%Y" not in fmt and "%y" not in fmt:
        return False
    try:
        datetime.datetime.strptime(datetime.date(2026, 3, 31).strftime(fmt), fmt)
    except ValueError:
        return False
    return True


def _decode(data: bytes, encoding: str, problems: Problems) -> str | None:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        problems.add(None, f"The file is not {encoding} text (byte {exc.start}); set the mapping's encoding.")
        return None
    if "\x00" in text:
        problems.add(None, "The file holds NUL characters: it is not a CSV text file.")
        return None
    return text.lstrip("\ufeff")


def parse_csv_statement(data: bytes, *, mapping: dict[str, Any], currency: str) -> ParsedStatement:
    """Rows of a CSV statement; refuses the file (InvalidStatementFile, by line and column) on
    missing or repeated columns, bad dates or amounts, and rows with both or neither of debit and
    credit."""
    from banking.errors import InvalidStatementFile

    problems = Problems()
    text = _decode(data, mapping["encoding"], problems)
    if text is None:
        problems.raise_if_any(InvalidStatementFile)
    lines = text.splitlines()
    skip = mapping["skip_rows"]
    reader = csv.reader(io.StringIO("\n".join(lines[skip:])), delimiter=mapping["delimiter"], strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.add(skip + 1, f"Unreadable CSV header: {exc}.")
        problems.raise_if_any(InvalidStatementFile)
    if not header:
        problems.add(skip + 1, "The file is empty: a header row is expected.")
        problems.raise_if_any(InvalidStatementFile)
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(name.strip().lower(), []).append(index)
    columns: dict[str, int | None] = {}
    repeated: set[str] = set()
    for key in COLUMN_KEYS:
        name = mapping.get(key) or ""
        if not name:
            columns[key] = None
            continue
        found = positions.get(name.lower(), [])
        index = found[0] if found else None
        if len(found) > 1 and name.lower() not in repeated:
            repeated.add(name.lower())
            numbers = [str(position + 1) for position in found]
            problems.add(
                skip + 1,
                f"The header names the column {name!r} {len(found)} times (columns "
                f"{', '.join(numbers[:-1])} and {numbers[-1]}): the mapping cannot tell which to read.",
                column=name,
            )
        if index is None and key not in OPTIONAL_COLUMNS:
            problems.add(
                skip + 1,
                f"The header has no column {name!r} (it has: {', '.join(h.strip() for h in header)[:300]}).",
                column=name,
            )
        columns[key] = index
    problems.raise_if_any(InvalidStatementFile)

    statement = ParsedStatement(currency=currency)
    balances: list[tuple[int, Any]] = []
    row_number = skip + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(row_number + 1, f"Unreadable CSV row: {exc}.")
            break
        row_number = skip + reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        parsed = _row(row, row_number, columns, mapping, currency, problems, header)
        if parsed is not None:
            statement.lines.append(parsed[0])
            if parsed[1] is not None:
                balances.append((row_number, parsed[1]))
    if not statement.lines and not problems:
        problems.add(None, "The file has no statement rows.")
    problems.raise_if_any(InvalidStatementFile)
    if columns["balance_column"] is not None and balances:
        first = statement.lines[0]
        statement.opening_balance = balances[0][1] - first.amount
        statement.closing_balance = balances[-1][1]
    statement.start_date = min(line.date for line in statement.lines)
    statement.end_date = max(line.date for line in statement.lines)
    return statement


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _row(row, number, columns, mapping, currency, problems: Problems, header):
    ok = True
    # Every row has the header's columns (trailing unnamed ones aside): a short row would read its
    # missing cells as blank, a long one has a separator inside an unquoted text, and either may
    # read an amount from the wrong column.
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    if len(row) < width or any(cell.strip() for cell in row[width:]):
        hint = " (a separator inside a text that is not quoted?)" if len(row) > width else ""
        problems.add(number, f"The row has {len(row)} columns; the header has {width}{hint}.")
        return None
    raw_date = _cell(row, columns["date_column"])
    date = _date(raw_date, mapping["date_format"])
    if date is None:
        written = _date(raw_date, mapping["date_format"], any_year=True)
        problems.add(
            number,
            f"{raw_date[:40]!r} is outside the days the books keep (years 1900 to 9998)."
            if written is not None
            else f"{raw_date[:40]!r} is not a date written {date_format_shown(mapping['date_format'])}.",
            column=mapping["date_column"],
        )
        ok = False
    value_date = None
    if columns["value_date_column"] is not None and _cell(row, columns["value_date_column"]):
        value_date = _date(_cell(row, columns["value_date_column"]), mapping["date_format"])
        if value_date is None:
            problems.add(number, "The value date is not a date.", column=mapping["value_date_column"])
            ok = False
    amount = _amount(row, number, columns, mapping, currency, problems)
    if amount is None:
        ok = False
    balance = None
    if columns["balance_column"] is not None:
        raw = _cell(row, columns["balance_column"])
        if raw:
            try:
                balance = parse_statement_amount(
                    raw,
                    currency=currency,
                    decimal_separator=mapping["decimal_separator"],
                    thousands_separator=mapping["thousands_separator"],
                )
            except MoneyError as exc:
                problems.add(number, str(exc), column=mapping["balance_column"])
                ok = False
    if not ok:
        return None
    line = ParsedLine(
        line=number,
        date=date,
        value_date=value_date,
        amount=amount,
        counterparty=clean_text(_cell(row, columns["counterparty_column"]), "counterparty"),
        reference=clean_text(_cell(row, columns["reference_column"]), "reference"),
        description=clean_text(_cell(row, columns["description_column"]), "description"),
        unique_id=clean_unique_id(_cell(row, columns["unique_id_column"])),
    )
    return line, balance


_FORMAT_WORDS = {"%Y": "YYYY", "%y": "YY", "%m": "MM", "%d": "DD", "%b": "Mon", "%B": "Month"}


def date_format_shown(date_format: str) -> str:
    """A mapping's strptime format as a person writes it: `%d.%m.%Y` is `DD.MM.YYYY`."""
    shown = date_format
    for code, words in _FORMAT_WORDS.items():
        shown = shown.replace(code, words)
    return shown


def _date(raw: str, fmt: str, *, any_year: bool = False) -> datetime.date | None:
    """The day `raw` is written as in `fmt`, in the years the books keep (any year: `any_year`)."""
    try:
        value = datetime.datetime.strptime(raw, fmt).date()
    except ValueError:
        return None
    return value if any_year or 1900 <= value.year <= 9998 else None


def _amount(row, number, columns, mapping, currency, problems: Problems):
    options = {
        "currency": currency,
        "decimal_separator": mapping["decimal_separator"],
        "thousands_separator": mapping["thousands_separator"],
    }
    try:
        if columns["amount_column"] is not None:
            amount = parse_statement_amount(_cell(row, columns["amount_column"]), **options)
        else:
            debit_raw, credit_raw = _cell(row, columns["debit_column"]), _cell(row, columns["credit_column"])
            debit = parse_statement_amount(debit_raw, **options) if debit_raw else None
            credit = parse_statement_amount(credit_raw, **options) if credit_raw else None
            if bool(debit) == bool(credit):  # both, or neither (an empty cell or a zero)
                problems.add(
                    number,
                    "A row has an amount in the debit or the credit column: "
                    f"{'not both' if debit and credit else 'neither is given'}.",
                    column=mapping["debit_column"],
                )
                return None
            amount = abs(credit) if credit else -abs(debit)
    except MoneyError as exc:
        column = mapping["amount_column"] or mapping["debit_column"]
        problems.add(number, str(exc), column=column)
        return None
    if amount == 0:
        problems.add(
            number, "The amount is zero.", column=mapping["amount_column"] or mapping["debit_column"]
        )
        return None
    return -amount if mapping["invert_sign"] else amount
