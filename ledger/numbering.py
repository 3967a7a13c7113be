"""Gapless per-company numbering.

A counter row per company and series is advanced by one upsert (INSERT ... ON CONFLICT DO UPDATE
... RETURNING) inside the caller's transaction: the row lock serialises the company's posters on
this one row until commit, a rollback gives the numbers back, so numbers are never duplicated or
skipped. The first number of a series creates the row in the same statement.

Lock order (every writer of the books follows it, so no two can deadlock):
0. the company's row, FOR NO KEY UPDATE, where a service locks it (the year-end close and its
   reopening, period creation): a foreign key check never waits for that lock, so a posting
   holding the counter below still reaches its inserts;
1. the document's own rows (a draft being posted, an entry being reversed, an invoice);
2. a document series' counter (invoice, credit note), when there is one;
3. the company's journal counter (this module, series "journal");
4. stored balance buckets, daily then monthly, each in (account, date, closing) order
   (ledger.balances).
Row locks name their rows (`select_for_update(of=("self",))` over a join), or the joined company
row would be locked FOR UPDATE in the middle of this order. A posting takes the journal counter
before it writes anything else, and the balance rebuild takes
it before the buckets, so a rebuild and a posting queue on the counter instead of deadlocking.
"""

from __future__ import annotations

from ledger.models import NumberSequence
from sofinance.db_batch import Statement, StatementBatch

JOURNAL_SERIES = "journal"

_TABLE = NumberSequence._meta.db_table
_RESERVE = (
    f"INSERT INTO {_TABLE} (company_id, series, last_value) VALUES (%s, %s, %s) "  # noqa: S608
    f"ON CONFLICT (company_id, series) DO UPDATE SET last_value = {_TABLE}.last_value + excluded.last_value "
    "RETURNING last_value"
)


def sequence_reserve_in(batch: StatementBatch, *, company_id: int, series: str, count: int) -> Statement:
    """Add the reservation of `count` numbers to a batch; its one row is the block's last value."""
    return batch.add(_RESERVE, [company_id, series, count])


def sequence_reserve(*, company_id: int, series: str, count: int) -> int:
    """Advance the series by `count` and return its new last value (the block ends there)."""
    batch = StatementBatch()
    reserved = sequence_reserve_in(batch, company_id=company_id, series=series, count=count)
    batch.run()
    return int(reserved.one()[0])


def sequence_next(*, company_id: int, series: str) -> int:
    return sequence_reserve(company_id=company_id, series=series, count=1)


def sequence_peek(*, company_id: int, series: str) -> int:
    """The number the series would give next, read without a lock (a page says it ahead; the
    write takes the number under the counter's lock, which another writer may take first)."""
    last = NumberSequence.objects.filter(company_id=company_id, series=series).values_list(
        "last_value", flat=True
    )
    return (last.first() or 0) + 1


def sequence_lock(*, company_id: int, series: str = JOURNAL_SERIES) -> None:
    """Hold the counter row without taking a number: postings of the company wait until the
    caller's transaction ends (closing a period, rebuilding balances)."""
    sequence_reserve(company_id=company_id, series=series, count=0)


def journal_number(*, year: int, sequence: int) -> str:
    """`JE-2026-000042`: the trailing digits are the company's gapless sequence."""
    return f"JE-{year}-{sequence:06d}"
