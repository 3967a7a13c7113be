"""How a posting's two steps reach the database (the steps themselves: ledger/services/posting.py).

On PostgreSQL each step is one call of a function of migrations 0005 and 0008 (`ledger_posting_reserve`,
`ledger_posting_write`), added to the step's batch. Elsewhere (SQLite) the same work is
done by separate statements and the ORM. Either way: the company's journal counter is taken
first, the lines are inserted before their entries (inserted already posted), and the balance
buckets are upserted in (account, date, closing) order, daily before monthly.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from ledger.balances import BucketIncrements, BucketKey, BucketTotals
from ledger.models import AccountingPeriod, JournalEntry, JournalLine, PeriodStatus
from ledger.numbering import JOURNAL_SERIES, sequence_reserve_in
from ledger.services.lines import AccountKey, ChartAccount, ChartLookup, PostingLine
from sofinance.db_batch import Statement, StatementBatch

ENTRY_TABLE = JournalEntry._meta.db_table


def _json(rows: list) -> str:
    """Rows as one JSON text: psycopg sends a string in microseconds where a dozen typed arrays
    cost a hundred (Decimals and dates travel as their exact text)."""
    return json.dumps(rows, default=str, ensure_ascii=False, separators=(",", ":"))


class EntryRow(Protocol):
    id: int | None
    number: str | None
    sequence: int | None
    date: datetime.date
    description: str
    reference: str
    source: str
    reversal_of: JournalEntry | None
    lines: list[PostingLine]


# --------------------------------------------------------------------------- step 1

LINE_TABLE = JournalLine._meta.db_table
_SQLITE_LAST_ID = (
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
    "coalesce((SELECT max(id) FROM {table}), 0))"
)
_BLOCKING_PERIODS = (
    f"SELECT id, status, start_date, end_date FROM {AccountingPeriod._meta.db_table} "  # noqa: S608
    "WHERE company_id = %s AND status IN (%s, %s) AND start_date <= %s AND end_date >= %s ORDER BY start_date"
)
_PG_RESERVE = (
    "SELECT last_sequence, entry_ids, line_ids, periods, accounts "
    "FROM ledger_posting_reserve(%s::bigint, %s::integer, %s::integer, %s::date, %s::date, %s::bigint[], %s::text[])"
)


class Reservation:
    """Step 1: numbers for `count` entries, ids for them and their `line_count` lines, the
    blocking periods over their dates and (with a lookup) the accounts their lines name."""

    def __init__(
        self,
        batch: StatementBatch,
        *,
        company_id: int,
        dates: Sequence[datetime.date],
        line_count: int,
        lookup: ChartLookup | None = None,
    ) -> None:
        self.count = len(dates)
        self.line_count = line_count
        self.vendor = batch.vendor
        self.lookup = lookup
        self._periods_read: list[tuple[int, str, datetime.date, datetime.date]] | None = None
        first, last = min(dates), max(dates)
        if self.vendor == "postgresql":
            ids = sorted(lookup.ids) if lookup else []
            codes = sorted(lookup.codes) if lookup else []
            self._reserved: Statement = batch.add(
                _PG_RESERVE, [company_id, self.count, line_count, first, last, ids, codes]
            )
            return
        self._numbers = sequence_reserve_in(
            batch, company_id=company_id, series=JOURNAL_SERIES, count=self.count
        )
        # The write lock is held from here on (the counter was just written): nobody else inserts.
        self._last_id = batch.add(_SQLITE_LAST_ID.format(table=ENTRY_TABLE), [ENTRY_TABLE])
        self._last_line_id = batch.add(_SQLITE_LAST_ID.format(table=LINE_TABLE), [LINE_TABLE])
        self._periods = batch.add(
            _BLOCKING_PERIODS,
            [company_id, PeriodStatus.CLOSED, PeriodStatus.LOCKED, last.isoformat(), first.isoformat()],
        )
        if lookup is not None:
            lookup.add_to(batch)

    def first_sequence(self) -> int:
        last = self._reserved.one()[0] if self.vendor == "postgresql" else self._numbers.one()[0]
        return int(last) - self.count + 1

    def entry_ids(self) -> list[int]:
        if self.vendor == "postgresql":
            return sorted(int(pk) for pk in self._reserved.one()[1])
        last = int(self._last_id.one()[0])
        return list(range(last + 1, last + 1 + self.count))

    def line_ids(self) -> list[int]:
        if self.vendor == "postgresql":
            return sorted(int(pk) for pk in self._reserved.one()[2])
        last = int(self._last_line_id.one()[0])
        return list(range(last + 1, last + 1 + self.line_count))

    def periods(self) -> list[tuple[int, str, datetime.date, datetime.date]]:
        if self._periods_read is None:  # read once: a batch asks for each of its entries
            rows = _loaded(self._reserved.one()[3]) if self.vendor == "postgresql" else self._periods.rows
            self._periods_read = [(pk, status, _date(start), _date(end)) for pk, status, start, end in rows]
        return self._periods_read

    def blocking_period(self, date: datetime.date, *, closing: bool) -> tuple | None:
        """The period refusing `date` (a closing entry may go into a closed, never a locked, one)."""
        for period in self.periods():
            _, status, start, end = period
            if start <= date <= end and (status == PeriodStatus.LOCKED or not closing):
                return period
        return None

    def accounts(self) -> dict[AccountKey, ChartAccount]:
        if self.lookup is None:
            return {}
        if self.vendor == "postgresql":
            return ChartLookup.from_rows(_loaded(self._reserved.one()[4]))
        return self.lookup.accounts()


def _loaded(value: Any) -> Any:
    """A JSON column as Python (Django's connections leave JSON as text for its JSONField)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _date(value: Any) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


# --------------------------------------------------------------------------- step 2

_PG_WRITE = "ledger_posting_write(%s::bigint, %s::bigint, %s::timestamptz, %s::jsonb, %s::jsonb, %s::jsonb, %s::jsonb, %s::jsonb)"


def _bucket_rows(increments: dict[BucketKey, BucketTotals]) -> list[list[Any]]:
    # In key order (the lock order); amounts and dates as their exact text, as the lines.
    return [
        [account_id, day.isoformat(), is_closing, str(t.debit), str(t.credit), str(t.amount), t.line_count]
        for (account_id, day, is_closing), t in sorted(increments.items())
    ]


_ONE = Decimal(1)


def _line_row(entry_id: int | None, sequence: int | None, day: str, ln: PostingLine) -> list[Any]:
    """A line as the write function reads it, amounts as their exact text. A line has one side,
    its amount is that side (signed) and, in the functional currency, its base amount is its
    amount: each such text is spelled out once (a str() of a Decimal is the costly part of
    encoding a 30,000-line import); a line that is not so gets its own texts, for the
    database's checks to judge."""
    debit, credit, amount = ln.debit, ln.credit, ln.amount
    debit_text = str(debit) if debit else "0"
    credit_text = str(credit) if credit else "0"
    if not credit and amount == debit:
        amount_text = debit_text
    elif not debit and amount == -credit:
        amount_text = "-" + credit_text
    else:
        amount_text = str(amount)
    return [
        entry_id,
        ln.line_no,
        ln.account_id,
        ln.description,
        debit_text,
        credit_text,
        ln.currency,
        amount_text,
        "1" if ln.fx_rate == _ONE else str(ln.fx_rate),
        amount_text if ln.base_amount == amount else str(ln.base_amount),
        day,
        sequence,
        ln.id,
    ]


def write_posted(
    batch: StatementBatch,
    *,
    company_id: int,
    entries: Iterable[EntryRow],
    increments: BucketIncrements,
    user_id: int | None,
    now: datetime.datetime,
) -> None:
    """Step 2: the lines, the entries (posted), the balance increments, the reversal links."""
    entries = list(entries)
    reversals = [[e.id, e.reversal_of.pk] for e in entries if e.reversal_of is not None]
    if batch.vendor == "postgresql":
        # Decimals and dates as their exact text here: through the encoder's fallback they would
        # cost a Python call each (a bulk request holds thousands).
        lines = []
        rows = []
        for e in entries:
            day = e.date.isoformat()
            rows.append(
                [e.id, e.number, e.sequence, day, e.description, e.reference, e.source, e.reversal_of_id]
            )
            lines += [_line_row(e.id, e.sequence, day, ln) for ln in e.lines]
        batch.add_call(
            _PG_WRITE,
            [
                company_id,
                user_id,
                now,
                _json(lines),
                _json(rows),
                _json(_bucket_rows(increments.daily)),
                _json(_bucket_rows(increments.monthly)),
                _json(reversals),
            ],
        )
        return
    _write_models(company_id=company_id, entries=entries, user_id=user_id, now=now)
    increments.add_to(batch, company_id=company_id)
    for reversal_id, original_id in reversals:
        batch.add(
            f"UPDATE {ENTRY_TABLE} SET reversed_by_id = %s WHERE id = %s AND reversed_by_id IS NULL",  # noqa: S608
            [reversal_id, original_id],
        )


def _write_models(*, company_id: int, entries: list[EntryRow], user_id: int | None, now) -> None:
    """Without the functions: the same rows through the ORM, lines before their entries."""
    JournalLine.objects.bulk_create(
        [
            JournalLine(
                id=ln.id,
                company_id=company_id,
                entry_id=e.id,
                line_no=ln.line_no,
                account_id=ln.account_id,
                description=ln.description,
                debit=ln.debit,
                credit=ln.credit,
                currency=ln.currency,
                amount=ln.amount,
                fx_rate=ln.fx_rate,
                base_amount=ln.base_amount,
                date=e.date,
                entry_sequence=e.sequence,
            )
            for e in entries
            for ln in e.lines
        ],
        batch_size=500,
    )
    JournalEntry.objects.bulk_create(
        [
            JournalEntry(
                id=e.id,
                company_id=company_id,
                number=e.number,
                sequence=e.sequence,
                date=e.date,
                description=e.description,
                reference=e.reference,
                source=e.source,
                status="posted",
                created_by_id=user_id,
                created_at=now,
                updated_at=now,
                posted_by_id=user_id,
                posted_at=now,
                reversal_of_id=e.reversal_of_id,
            )
            for e in entries
        ],
        batch_size=500,
    )
