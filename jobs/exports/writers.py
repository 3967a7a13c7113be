"""Writing a table to a file incrementally: CSV (the csv module) or XLSX (openpyxl in write-only
mode, which streams rows to the file instead of holding a workbook in memory). Text that would
run as a formula stays text (sofinance.spreadsheet)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from openpyxl import Workbook

from jobs.models import ExportFormat
from sofinance.spreadsheet import csv_row, xlsx_cell


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


class XlsxRowWriter:
    """One sheet; the table's amount columns are written as numbers (exact: from their strings)."""

    def __init__(self, path: Path, columns: Sequence[str], *, title: str, numeric: frozenset[str]) -> None:
        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=title[:31] or "Export")
        self._sheet.append(list(columns))
        self._numeric = [index for index, name in enumerate(columns) if name in numeric]

    def write(self, row: Sequence[Any]) -> None:
        values = list(row)
        for index in self._numeric:
            value = values[index]
            if isinstance(value, str) and value:
                try:
                    values[index] = Decimal(value)
                except InvalidOperation:
                    pass
        self._sheet.append([xlsx_cell(self._sheet, value) for value in values])

    def close(self) -> None:
        self._book.save(self._path)


def row_writer(
    fmt: str, path: Path, columns: Sequence[str], *, title: str, numeric: frozenset[str]
) -> RowWriter:
    if fmt == ExportFormat.XLSX:
        return XlsxRowWriter(path, columns, title=title, numeric=numeric)
    return CsvRowWriter(path, columns)
