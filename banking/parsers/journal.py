"""Journal files (CSV or XLSX): one row per journal line, grouped into entries by a column.

Columns (a header row, names in any case; the order is free):

| column | required | meaning |
| --- | --- | --- |
| `entry` | yes | groups rows into one entry (any text: "1", "JV-7"); rows of an entry need not be adjacent |
| `date` | yes | YYYY-MM-DD (or a date cell in XLSX); the same on every row of an entry |
| `account` | yes | the account's code |
| `debit`, `credit` | one of them | a plain decimal ("1250.00"), positive; the other empty or 0 |
| `description` | no | the line's description |
| `entry_description` | no | the entry's description (else the first row's description) |
| `reference` | no | the entry's reference; the same on every row of an entry |
| `currency`, `fx_rate` | no | a line in another currency, and its rate (else the stored rate) |

A header names each column once (names compared as read: any case, surrounding spaces and a
byte-order mark ignored); a repeated or unknown column refuses the file.

Every problem is reported with its row (the file's own line number, the header being row 1) and
column. A row with a problem marks its entry: the entry still holds all its rows as written
(`JournalRow.sound` says which are fine), so the checks of an entry as a whole (balance, number
of lines) are not run on what is left of it. Nothing here touches the books: the ledger's own
rules run in banking.services.journal_import.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import ParseError

from banking.parsers.common import Problems
from sofinance.api.fields import parse_iso_date
from sofinance.money import MoneyError, parse_amount

REQUIRED = ("entry", "date", "account")
KNOWN = (*REQUIRED, "debit", "credit", "description", "entry_description", "reference", "currency", "fx_rate")
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024  # a zip bomb is refused before it is opened
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class JournalRow:
    row: int
    account: str
    debit: Decimal | None
    credit: Decimal | None
    description: str
    currency: str | None
    fx_rate: Decimal | None
    sound: bool = True  # False: the row has problems of its own (reported by row and column)


@dataclass
class JournalFileEntry:
    """An entry with every row the file gives it. `date` is the first readable date of its rows
    (on row `date_row`); None only when no row's date can be read, and then the entry is broken."""

    key: str
    first_row: int
    date: datetime.date | None
    date_row: int | None
    description: str
    reference: str
    rows: list[JournalRow] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        """A row of it has a problem: the entry is not checked as a whole (balance, line count)."""
        return not all(row.sound for row in self.rows)

    @property
    def shown(self) -> str:
        """How the entry is named in a problem of the entry as a whole: "Entry 3 (rows 7–8)"."""
        return f"Entry {self.key[:40]} ({rows_shown([row.row for row in self.rows])})"


@dataclass
class JournalFile:
    entries: list[JournalFileEntry]
    row_count: int
    problems: Problems = field(default_factory=Problems)

    @property
    def line_count(self) -> int:
        return sum(len(entry.rows) for entry in self.entries)


def rows_shown(numbers: list[int]) -> str:
    """Row numbers as runs: "row 5", "rows 7–8", "rows 2–3, 9"."""
    ordered = sorted(set(numbers))
    if len(ordered) == 1:
        return f"row {ordered[0]}"
    runs: list[list[int]] = []
    for number in ordered:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return "rows " + ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def problem_shown(item: dict[str, Any]) -> str:
    """One problem of a journal file as a person reads it, the same on every page: "Row 4, date:
    …" for a row's, the message itself ("Entry 3 (rows 7–8): …") for an entry's as a whole."""
    if item.get("entry") is not None or item.get("line") is None:
        return item["message"]
    column = f", {item['column']}" if item.get("column") else ""
    return f"Row {item['line']}{column}: {item['message']}"


def journal_problems_raise(problems: Problems) -> None:
    """Refuse the file (`invalid_import_file`) with every problem, if it has any."""
    from banking.errors import InvalidImportFile

    problems.raise_if_any(InvalidImportFile, "journal file", shown=problem_shown)


def journal_format(data: bytes, declared: str | None) -> str:
    if declared:
        return declared
    return "xlsx" if data[:4] == XLSX_MAGIC else "csv"


def parse_journal_file(data: bytes, *, format: str) -> JournalFile:
    """The file's entries, in the order of their first row, with the problems of its rows
    (`problems`: the caller adds the ledger's and refuses the file with all of them). A file that
    cannot be read at all, lacks a required column, or names a column twice or one not known is
    refused here (InvalidImportFile)."""
    problems = Problems()
    rows = _xlsx_rows(data, problems) if format == "xlsx" else _csv_rows(data, problems)
    journal_problems_raise(problems)
    header = next(rows, None)
    if header is None:
        problems.add(1, "The file is empty: a header row is expected.")
        journal_problems_raise(problems)
    names = [_header_name(cell) for cell in header[1]]
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        if name:
            positions.setdefault(name, []).append(index)
    for name, indexes in positions.items():
        if len(indexes) > 1:
            # read by name, the last would win and the others' amounts be dropped unseen
            numbers = [str(index + 1) for index in indexes]
            problems.add(
                1,
                f"The header names the column {name[:40]!r} {len(indexes)} times (columns "
                f"{', '.join(numbers[:-1])} and {numbers[-1]}): each column is named once.",
                column=name[:40],
            )
    columns = {name: indexes[0] for name, indexes in positions.items()}
    for name in REQUIRED:
        if name not in columns:
            problems.add(1, f"The header has no {name!r} column.", column=name)
    if "debit" not in columns and "credit" not in columns:
        problems.add(1, "The header needs a 'debit' or a 'credit' column.", column="debit")
    unknown = [name for name in columns if name not in KNOWN]
    if unknown:
        problems.add(1, f"Unknown columns: {', '.join(unknown)[:200]} (known: {', '.join(KNOWN)}).")
    journal_problems_raise(problems)

    entries: dict[str, JournalFileEntry] = {}
    row_count = 0
    at = _Columns(columns)
    dates: dict[Any, datetime.date | None] = {}  # a file repeats its dates: each parsed once
    for number, cells in rows:
        if _blank(cells):
            continue
        row_count += 1
        known = problems.added
        entry = _row(number, cells, at, entries, problems, dates)
        if problems.added > known and entry is not None:
            entry.rows[-1].sound = False
    if not entries and not problems:
        problems.add(None, "The file has no journal rows.")
        journal_problems_raise(problems)
    return JournalFile(entries=list(entries.values()), row_count=row_count, problems=problems)


def _csv_rows(data: bytes, problems: Problems):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(None, f"The file is not UTF-8 text (byte {exc.start}).")
        return iter(())
    if "\x00" in text:
        problems.add(None, "The file holds NUL characters: it is not a CSV text file.")
        return iter(())
    dialect = "excel"
    first_line = text.split("\n", 1)[0]
    if first_line.count(";") > first_line.count(","):
        dialect = "excel-semicolon"

    def rows():
        reader = csv.reader(
            io.StringIO(text), delimiter=";" if dialect == "excel-semicolon" else ",", strict=True
        )
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                problems.add(reader.line_num, f"Unreadable CSV row: {exc}.")
                return
            yield reader.line_num, cells

    return rows()


def _xlsx_rows(data: bytes, problems: Problems):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNCOMPRESSED:
            problems.add(None, "The XLSX file unpacks to more than 200 MB: refused.")
            return iter(())
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, ValueError, OSError) as exc:
        problems.add(
            None, f"The file is not a readable XLSX workbook ({str(exc)[:120] or type(exc).__name__})."
        )
        return iter(())

    def rows():
        # openpyxl reads the sheet's XML as the rows are asked for: a broken cell (a date out of
        # the calendar, "nan" where a number belongs, malformed XML) raises then, mid-file.
        number = 0
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(cells)
        except (
            ParseError,
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            OverflowError,
            zipfile.BadZipFile,
        ) as exc:
            problems.add(
                number + 1,
                f"The XLSX sheet cannot be read past this row ({str(exc)[:120] or type(exc).__name__}).",
            )
        finally:
            workbook.close()

    return rows()


class _Columns:
    """Where each known column is in a row (None: the file has no such column)."""

    __slots__ = KNOWN

    def __init__(self, columns: dict[str, int]) -> None:
        for name in KNOWN:
            setattr(self, name, columns.get(name))


def _header_name(cell: Any) -> str:
    """A header cell as it is compared: any case, no surrounding spaces or byte-order mark."""
    return str(cell or "").replace("\ufeff", "").strip().lower()


def _blank(cells: list[Any]) -> bool:
    return not any(cell is not None and cell != "" and str(cell).strip() for cell in cells)


def _cell(cells: list[Any], index: int | None) -> Any:
    return cells[index] if index is not None and index < len(cells) else None


def _text(value: Any) -> str:
    """A cell as text, its runs of whitespace made one space ("" for an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _amount(
    value: Any, number: int, column: str, problems: Problems, *, zero_is_blank: bool = True
) -> Decimal | None:
    """A debit, credit or rate cell; blank is None, and so is zero for a debit or credit (the side
    not used). A rate of zero is kept, for the ledger to refuse."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        problems.add(number, "Not an amount.", column=column)
        return None
    if isinstance(value, float):
        value = repr(value)  # an XLSX number cell: its shortest exact text, checked below
    if isinstance(value, int):
        value = str(value)
    try:
        amount = parse_amount(str(value).strip())
    except MoneyError as exc:
        problems.add(number, str(exc), column=column)
        return None
    if amount < 0:
        problems.add(number, "Amounts are positive; use the other column.", column=column)
        return None
    return amount if amount != 0 or not zero_is_blank else None


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return parse_iso_date(str(value).strip()) if value is not None else None


def _row(
    number: int,
    cells: list[Any],
    at: _Columns,
    entries: dict[str, JournalFileEntry],
    problems: Problems,
    dates: dict[Any, datetime.date | None],
) -> JournalFileEntry | None:
    """Add the row to its entry (returned), or None when the row names no entry. A row whose
    date cannot be read still belongs to its entry (it is one of the entry's rows in the file)."""
    key = _text(_cell(cells, at.entry))
    if not key:
        problems.add(number, "The entry column is empty.", column="entry")
        return None
    raw_date = _cell(cells, at.date)
    try:
        date = dates[raw_date]
    except KeyError:
        date = _date(raw_date)
        if len(dates) < 10_000:
            dates[raw_date] = date
    except TypeError:  # an unhashable cell (never from CSV or XLSX, but not assumed)
        date = _date(raw_date)
    if date is None:
        problems.add(number, f"{str(raw_date or '')[:40]!r} is not a date (YYYY-MM-DD).", column="date")
    account = _text(_cell(cells, at.account))
    if not account:
        problems.add(number, "The account is empty.", column="account")
    debit = _amount(_cell(cells, at.debit), number, "debit", problems)
    credit = _amount(_cell(cells, at.credit), number, "credit", problems)
    if debit is not None and credit is not None:
        problems.add(number, "A line has a debit or a credit, not both.", column="debit")
    elif (
        debit is None
        and credit is None
        and not any(
            item["line"] == number and item.get("column") in ("debit", "credit")
            for item in problems.items[-2:]
        )
    ):
        problems.add(number, "A line needs a positive debit or credit.", column="debit")
    fx_rate = None
    raw_rate = _cell(cells, at.fx_rate)
    if raw_rate not in (None, ""):
        fx_rate = _amount(raw_rate, number, "fx_rate", problems, zero_is_blank=False)
    reference = _text(_cell(cells, at.reference))[:100]
    description = _text(_cell(cells, at.description))[:500]
    entry = entries.get(key)
    if entry is None:
        entry = entries[key] = JournalFileEntry(
            key=key,
            first_row=number,
            date=date,
            date_row=number if date is not None else None,
            description=(_text(_cell(cells, at.entry_description)) or description)[:500],
            reference=reference,
        )
    else:
        if date is not None and entry.date is None:
            entry.date, entry.date_row = date, number
        elif date is not None and date != entry.date:
            problems.add(
                number,
                f"Entry {key[:40]} is dated {entry.date} on row {entry.date_row}; every row of an entry "
                "has the same date.",
                column="date",
            )
        if reference and reference != entry.reference:
            problems.add(
                number,
                f"Entry {key[:40]} has reference {entry.reference!r} on row {entry.first_row}.",
                column="reference",
            )
    entry.rows.append(
        JournalRow(
            row=number,
            account=account,
            debit=debit,
            credit=credit,
            description=description,
            currency=_text(_cell(cells, at.currency)).upper() or None,
            fx_rate=fx_rate,
        )
    )
    return entry
