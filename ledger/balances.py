"""Stored balances: per account, per day and per month, kept in the posting transaction.

Posting adds its lines' totals to one daily and one monthly bucket per account with an atomic
upsert (INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x). Concurrent posters therefore
never lose an update, a back-dated entry lands in its own day and month, and buckets are always
written in (account, date, closing) order, daily before monthly, so two writers cannot deadlock on
them (see the lock order in ledger.numbering). A balance as of any date then reads whole months
plus the days of one month.

On SQLite, where decimal columns are floating point, every addition is rounded back to the
column's 4 places, so stored buckets never drift from the exact sums of their lines.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ledger.models import DailyBalance, MonthlyBalance
from sofinance.db_batch import StatementBatch
from sofinance.money import MONEY_DECIMAL_PLACES

ZERO = Decimal(0)


class BucketLine(Protocol):
    account_id: int
    debit: Decimal
    base_amount: Decimal

    @property
    def bucket_amount(self) -> Decimal: ...


@dataclass
class BucketTotals:
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    amount: Decimal = ZERO
    line_count: int = 0


BucketKey = tuple[int, datetime.date, bool]  # account id, bucket date, is_closing


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


class BucketIncrements:
    """What a set of postings adds to the daily and monthly buckets."""

    def __init__(self) -> None:
        self.daily: dict[BucketKey, BucketTotals] = defaultdict(BucketTotals)
        self.monthly: dict[BucketKey, BucketTotals] = defaultdict(BucketTotals)

    def add(self, lines: Iterable[BucketLine], *, date: datetime.date, is_closing: bool) -> None:
        month = month_start(date)
        for line in lines:
            for bucket, day in ((self.daily, date), (self.monthly, month)):
                totals = bucket[(line.account_id, day, is_closing)]
                if line.debit > 0:
                    totals.debit += line.base_amount
                else:
                    totals.credit -= line.base_amount
                totals.amount += line.bucket_amount
                totals.line_count += 1

    def add_to(self, batch: StatementBatch, *, company_id: int) -> None:
        """Add the upserts to a batch: daily buckets first, then monthly, each in key order."""
        upsert_in(batch, DailyBalance._meta.db_table, company_id, self.daily)
        upsert_in(batch, MonthlyBalance._meta.db_table, company_id, self.monthly)


UPSERT_CHUNK = 500  # rows per statement where values are spelled out (SQLite)


def _pg_upsert(table: str) -> str:
    # Rows as one JSON array (cheaper to send than typed arrays), inserted in the array's order.
    return (
        f"INSERT INTO {table} (company_id, account_id, date, is_closing, debit, credit, amount, line_count) "  # noqa: S608
        "SELECT %s::bigint, (r->>0)::bigint, (r->>1)::date, (r->>2)::boolean, (r->>3)::numeric, "
        "(r->>4)::numeric, (r->>5)::numeric, (r->>6)::integer "
        "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(r, n) ORDER BY n "
        "ON CONFLICT (company_id, account_id, date, is_closing) DO UPDATE SET "
        f"debit = {table}.debit + excluded.debit, credit = {table}.credit + excluded.credit, "
        f"amount = {table}.amount + excluded.amount, line_count = {table}.line_count + excluded.line_count"
    )


def _sqlite_upsert(table: str, rows: int) -> str:
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * rows)
    places = MONEY_DECIMAL_PLACES
    return (
        f"INSERT INTO {table} (company_id, account_id, date, is_closing, debit, credit, amount, line_count) "  # noqa: S608
        f"VALUES {placeholders} "
        "ON CONFLICT (company_id, account_id, date, is_closing) DO UPDATE SET "
        f"debit = round({table}.debit + excluded.debit, {places}), "
        f"credit = round({table}.credit + excluded.credit, {places}), "
        f"amount = round({table}.amount + excluded.amount, {places}), "
        f"line_count = {table}.line_count + excluded.line_count"
    )


def upsert_in(
    batch: StatementBatch, table: str, company_id: int, increments: dict[BucketKey, BucketTotals]
) -> None:
    if not increments:
        return
    rows = sorted(increments.items(), key=lambda item: item[0])
    if batch.vendor == "postgresql":
        payload = [
            [account_id, day, is_closing, t.debit, t.credit, t.amount, t.line_count]
            for (account_id, day, is_closing), t in rows
        ]
        batch.add(_pg_upsert(table), [company_id, json.dumps(payload, default=str, separators=(",", ":"))])
        return
    for start in range(0, len(rows), UPSERT_CHUNK):
        chunk = rows[start : start + UPSERT_CHUNK]
        params: list[object] = []
        for (account_id, day, is_closing), t in chunk:
            params += [company_id, account_id, day.isoformat(), is_closing]
            params += [str(t.debit), str(t.credit), str(t.amount), t.line_count]
        batch.add(_sqlite_upsert(table, len(chunk)), params)
