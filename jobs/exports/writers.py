"""Writing a table to a file incrementally: CSV (the csv module) or XLSX (openpyxl in write-only
mode, which streams rows to the file instead of holding a workbook in memory). Text that would
run as a formula stays text (sofinance.spreadsheet)."""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from jobs.models import ExportFormat
from sofinance.spreadsheet import csv_row, xlsx_cell

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class RowWriter(Protocol):
    def write(self, row: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


class CsvRowWriter:
    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._file = path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        self._csv.writerow(columns)

    def write(self, row: Sequence[Any]) -> None:
        self._csv.writerow(csv_row(row))

    def close(self) -> None:
        self._file.close()


# Columns holding a day (ISO `YYYY-MM-DD` in the table): date cells in a spreadsheet, so they sort
# and filter as dates.
DATE_COLUMNS = frozenset({"date", "due_date"})
DATE_FORMAT = "yyyy-mm-dd"


def number_format(value: Decimal) -> str:
    """Thousands grouped, as many decimal places as the amount is written with (2 for USD, 0 for
    JPY, 4 for a rate of 1.1025): what the screen shows, not Excel's General format."""
    places = max(0, -value.as_tuple().exponent) if value.is_finite() else 0
    return "#,##0" + ("." + "0" * places if places else "")


class XlsxRowWriter:
    """One sheet; the table's amount columns are written as numbers (exact: from their strings)
    shown with their decimal places and thousands grouped, its days as date cells."""

    def __init__(self, path: Path, columns: Sequence[str], *, title: str, numeric: frozenset[str]) -> None:
        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=title[:31] or "Export")
        # A header that reads as one (bold, kept in view while scrolling) over columns wide enough
        # for their amounts and dates (a narrow column shows an amount as ####). Write-only
        # sheets take these before the first row.
        self._sheet.freeze_panes = "A2"
        for index, name in enumerate(columns, start=1):
            wide = name in numeric or name in DATE_COLUMNS
            self._sheet.column_dimensions[get_column_letter(index)].width = max(
                len(name) + 2, 16 if wide else 12
            )
        header = []
        for name in columns:
            cell = WriteOnlyCell(self._sheet, value=name)
            cell.font = Font(bold=True)
            header.append(cell)
        self._sheet.append(header)
        self._numeric = [index for index, name in enumerate(columns) if name in numeric]
        self._dates = [index for index, name in enumerate(columns) if name in DATE_COLUMNS]

    def write(self, row: Sequence[Any]) -> None:
        values = [xlsx_cell(self._sheet, value) for value in row]
        for index in self._numeric:
            value = values[index]
            if isinstance(value, str) and value:
                try:
                    number = Decimal(value)
                except InvalidOperation:
                    continue
                cell = WriteOnlyCell(self._sheet, value=number)
                cell.number_format = number_format(number)
                values[index] = cell
        for index in self._dates:
            value = values[index]
            if isinstance(value, str) and _ISO_DAY.fullmatch(value):
                try:
                    day = datetime.date.fromisoformat(value)
                except ValueError:
                    continue
                cell = WriteOnlyCell(self._sheet, value=day)
                cell.number_format = DATE_FORMAT
                values[index] = cell
        self._sheet.append(values)

    def close(self) -> None:
        self._book.save(self._path)


def row_writer(
    fmt: str, path: Path, columns: Sequence[str], *, title: str, numeric: frozenset[str]
) -> RowWriter:
    if fmt == ExportFormat.XLSX:
        return XlsxRowWriter(path, columns, title=title, numeric=numeric)
    return CsvRowWriter(path, columns)
