"""Text stays text when a file is opened in a spreadsheet (CSV and XLSX exports, report downloads).

A description, name or reference is the user's text, and a spreadsheet would run one that begins
like a formula (`=HYPERLINK(...)`, `+cmd`, `@SUM(...)`): formula injection. In CSV such a cell
starts with an apostrophe, as OWASP advises (spreadsheets show the rest as text); a plain number
(`-250.00`, an amount) is left as it is, so the amounts stay numbers. In XLSX a text cell is
stored as a string, never as a formula, and keeps its exact text.
"""

from __future__ import annotations

import re
from typing import Any

from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?\Z")


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell that a spreadsheet reads as text when it would read a formula."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def csv_row(row: Any) -> list[Any]:
    return [csv_cell(value) for value in row]


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """`value` for a write-only sheet's row: text beginning with `=` as a string cell (openpyxl
    would otherwise store it as a formula); anything else as it is."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value
