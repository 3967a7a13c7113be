"""Posting a journal file (CSV or XLSX) through the ledger's bulk path, all or nothing.

1. Every row is read and checked (banking.parsers.journal): dates, amounts, one side per line,
   rows of an entry agreeing on date and reference.
2. Every entry is checked by the ledger's own rules before anything is written: each row by
   `build_lines` (accounts, currencies, rates, precision), reported by row and column; then the
   entry as a whole (`check_balanced`: two lines at least, debits equal credits; closed or locked
   periods), reported by entry ("Entry 3 (rows 7–8): …", no column). An entry with a row in
   error is not checked as a whole: what is left of it would not be the entry the file holds
   (an entry of two rows, one unreadable, is not an entry of one line).
3. The entries are posted, 1,000 per `journal_entries_import` call, all inside one transaction:
   the whole file or nothing.

A dry run runs steps 1 and 2 and reports what would be posted. An import runs step 1 and posts:
the ledger applies the checks of step 2 to each entry as it posts it, so they run once; only
when the file has a problem is step 2 run over the whole file, so the refusal lists every
problem by row and column (and nothing is written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import Company, User
from banking.parsers.common import Problems
from banking.parsers.journal import JournalFile, JournalFileEntry, JournalRow, journal_problems_raise
from ledger import errors as ledger_errors
from ledger.models import AccountingPeriod, EntrySource, JournalEntry, JournalLine, PeriodStatus
from ledger.services import (
    EntryInput,
    LineInput,
    PostingLine,
    balances_deferred,
    build_lines,
    check_balanced,
    journal_entries_import,
)
from ledger.services.lines import ChartLookup
from sofinance.db_maintenance import tables_analyze_grown
from sofinance.errors import APIError
from sofinance.money import format_amount

ZERO = Decimal(0)
# Entries per call of the ledger's bulk path: one reservation and one pipeline of parts each; the
# entries of a call are held as posted records only when read (an import reads its totals).
ENTRIES_PER_CALL = 10_000
FIELD_COLUMNS = {
    "account": "account",
    "debit": "debit",
    "credit": "credit",
    "currency": "currency",
    "fx_rate": "fx_rate",
}


@dataclass(frozen=True)
class JournalImportResult:
    entries: int
    lines: int
    total_debit: Decimal
    total_credit: Decimal
    first_date: Any
    last_date: Any
    first_number: str | None = None
    last_number: str | None = None

    @classmethod
    def of(cls, journal: JournalFile, **totals_and_numbers: Any) -> JournalImportResult:
        """The file's counts and date range, with the given totals (and numbers, once posted)."""
        dates = [entry.date for entry in journal.entries if entry.date is not None]
        return cls(
            entries=len(journal.entries),
            lines=journal.line_count,
            first_date=min(dates, default=None),
            last_date=max(dates, default=None),
            **totals_and_numbers,
        )


def _line_inputs(rows: list[JournalRow]) -> list[LineInput]:
    return [
        LineInput(
            account=row.account,
            debit=row.debit,
            credit=row.credit,
            description=row.description,
            currency=row.currency,
            fx_rate=row.fx_rate,
        )
        for row in rows
    ]


def _blocking_periods(company: Company) -> list[tuple]:
    return list(
        AccountingPeriod.objects.filter(
            company=company, status__in=[PeriodStatus.CLOSED, PeriodStatus.LOCKED]
        )
        .order_by("start_date")
        .values_list("start_date", "end_date", "status")
    )


def journal_file_validate(
    *, company: Company, journal: JournalFile, progress: Callable[[int], None] | None = None
) -> tuple[list[list[LineInput]], JournalImportResult]:
    """Check every entry by the ledger's rules; refuse (`invalid_import_file`) with every problem,
    nothing written: each row's own (by row and column), and each entry's as a whole (balance,
    number of lines, closed period: by entry) for the entries whose rows are all fine. Returns
    each entry's lines and what would be posted."""
    problems = journal.problems
    accounts = ChartLookup(
        company.pk, (row.account for entry in journal.entries for row in entry.rows)
    ).load()
    periods = _blocking_periods(company)
    prepared: list[list[LineInput]] = []
    total_debit = total_credit = ZERO
    count = len(journal.entries)
    for index, entry in enumerate(journal.entries):
        prepared.append(_line_inputs(entry.rows))
        built = _rows_checked(company=company, entry=entry, accounts=accounts, problems=problems)
        if built is not None:
            _entry_checked(company=company, entry=entry, built=built, periods=periods, problems=problems)
            total_debit += sum((line.base_amount for line in built if line.base_amount > 0), ZERO)
            total_credit -= sum((line.base_amount for line in built if line.base_amount < 0), ZERO)
        if progress is not None and index % 2000 == 0:
            progress(index * 100 // max(count, 1))
    problems.items.sort(key=lambda item: (item["line"] is not None, item["line"] or 0))
    journal_problems_raise(problems)
    return prepared, JournalImportResult.of(journal, total_debit=total_debit, total_credit=total_credit)


def _rows_checked(
    *, company: Company, entry: JournalFileEntry, accounts: Any, problems: Problems
) -> list[PostingLine] | None:
    """The ledger's checks of each line (`build_lines`) on the entry's rows that read well, their
    problems added by row and column. Returns the built lines when every row of the entry is
    fine (the entry can be checked as a whole), else None."""
    rows = [row for row in entry.rows if row.sound]
    if entry.date is None or not rows:
        return None
    try:
        built = build_lines(company=company, date=entry.date, lines=_line_inputs(rows), accounts=accounts)
    except APIError as exc:
        lines = exc.details.get("lines") if isinstance(exc.details, dict) else None
        if isinstance(lines, dict) and lines:
            for position, fields in lines.items():
                row = rows[int(position)].row
                for field_name, messages in fields.items():
                    for message in messages:
                        problems.add(row, message, column=FIELD_COLUMNS.get(field_name, field_name))
        elif not entry.broken:  # a refusal of the entry itself (its date, its size)
            problems.add(entry.first_row, f"{entry.shown}: {exc.message}", entry=entry.key)
        return None
    return None if entry.broken else built


def _entry_checked(
    *,
    company: Company,
    entry: JournalFileEntry,
    built: list[PostingLine],
    periods: list[tuple],
    problems: Problems,
) -> None:
    """The checks of an entry as a whole, on all its rows: every problem added, by entry."""
    assert entry.date is not None  # an entry whose rows are all fine has its date
    try:
        check_balanced(company=company, lines=built)
    except ledger_errors.UnbalancedEntry as exc:
        problems.add(entry.first_row, f"{entry.shown}: {exc.message}", entry=entry.key)
    for start, end, status in periods:
        if start <= entry.date <= end:
            problems.add(
                entry.first_row,
                f"{entry.shown}: {entry.date} falls in the {status} period {start} – {end}.",
                entry=entry.key,
            )
            break


def journal_file_post(
    *,
    company: Company,
    journal: JournalFile,
    by: User | None,
    progress: Callable[[int], None] | None = None,
) -> JournalImportResult:
    """Post the file's entries through the ledger's bulk path, ENTRIES_PER_CALL at a time, in
    one transaction (the caller's), all or nothing. The ledger checks and sends each call's
    entries in parts (the database writes one while the next is checked) and, in the
    `balances_deferred` block, writes the balance buckets once, at the end. One audit event per
    call (the ledger's "import", naming its number range). `progress` hears the share of the
    file's entries checked and sent.

    The ledger checks every entry as it posts it, by the rules the dry run applies
    (`journal_file_validate`), so a file is checked once on its way in. When the file has
    problems (a row that does not parse, an entry the ledger refuses) nothing is written and the
    whole file is checked, so the refusal lists every problem by row and column, as a dry run's.
    """
    if journal.problems:
        journal_file_validate(company=company, journal=journal)  # refuses, with every problem
    count = len(journal.entries)
    first_number = last_number = None
    total = ZERO
    try:
        with transaction.atomic(), balances_deferred(company):
            for offset in range(0, count, ENTRIES_PER_CALL):
                chunk = journal.entries[offset : offset + ENTRIES_PER_CALL]
                inputs = [
                    EntryInput(
                        date=entry.date,
                        lines=_line_inputs(entry.rows),
                        description=entry.description,
                        reference=entry.reference,
                    )
                    for entry in chunk
                ]
                try:
                    result = journal_entries_import(
                        company=company,
                        entries=inputs,
                        by=by,
                        source=EntrySource.IMPORT,
                        audit_per_entry=False,
                        max_entries=None,
                        progress=None
                        if progress is None
                        else (lambda done, offset=offset: progress(min(99, (offset + done) * 100 // count))),
                    )
                except ledger_errors.InvalidBatch as exc:
                    raise _Refused(exc, chunk) from exc
                first_number = first_number or result.first_number
                last_number = result.last_number
                total += result.total
    except _Refused as refused:
        # Nothing was written. The whole file's problems, by row and column; should the checks
        # find none (a period closed meanwhile), the ledger's own refusal, by row.
        journal_file_validate(company=company, journal=journal)
        refused.raise_by_row()
    # The statistics follow the journal once it has grown by autovacuum's measure.
    tables_analyze_grown({JournalEntry: count, JournalLine: journal.line_count})
    return JournalImportResult.of(
        journal, total_debit=total, total_credit=total, first_number=first_number, last_number=last_number
    )


class _Refused(Exception):
    """The ledger refused entries of a batch (`chunk`): carried out of the rolled-back block."""

    def __init__(self, error: ledger_errors.InvalidBatch, chunk: list[JournalFileEntry]) -> None:
        super().__init__(error.message)
        self.error = error
        self.chunk = chunk

    def raise_by_row(self) -> None:
        problems = Problems()
        for item in self.error.details.get("entries", []):
            entry = self.chunk[item["index"]]
            problems.add(entry.first_row, f"{entry.shown}: {item['message']}", entry=entry.key)
        if not problems:
            problems.add(None, self.error.message)
        journal_problems_raise(problems)


def result_json(result: JournalImportResult, currency: str) -> dict[str, Any]:
    return {
        "entries": result.entries,
        "lines": result.lines,
        "total_debit": format_amount(result.total_debit, currency),
        "total_credit": format_amount(result.total_credit, currency),
        "first_date": result.first_date.isoformat() if result.first_date else None,
        "last_date": result.last_date.isoformat() if result.last_date else None,
        "first_number": result.first_number,
        "last_number": result.last_number,
    }
