"""Rebuilding the stored balances from the posted lines (`manage.py rebuild_balances`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, Count, F, Q, Value, When

from audit.services import audit_record
from ledger.balances import BucketKey, BucketTotals, month_start, upsert_in
from ledger.models import DailyBalance, EntrySource, JournalLine, MonthlyBalance
from ledger.numbering import sequence_lock
from sofinance.db_batch import StatementBatch
from sofinance.money import MoneySum


@dataclass(frozen=True)
class BucketDifference:
    """A stored bucket that differs from the one its posted lines give (None: no such bucket)."""

    table: str  # "daily" or "monthly"
    account_id: int
    date: datetime.date
    is_closing: bool
    stored: BucketTotals | None
    computed: BucketTotals | None

    def __str__(self) -> str:
        return (
            f"{self.table} account={self.account_id} date={self.date} closing={self.is_closing}: "
            f"stored={self.stored} computed={self.computed}"
        )


@dataclass(frozen=True)
class RebuildResult:
    company_id: int
    daily_rows: int
    monthly_rows: int
    differences: list[BucketDifference]

    @property
    def differed(self) -> bool:
        return bool(self.differences)


def _computed_daily(company_id: int) -> dict[BucketKey, BucketTotals]:
    lines = JournalLine.objects.filter(company_id=company_id, entry_sequence__isnull=False)
    rows = (
        lines.annotate(
            bucket=F("date"),
            closing=Case(When(entry__source=EntrySource.CLOSING, then=Value(True)), default=Value(False)),
            own=Case(When(~Q(account__currency=""), then=F("amount")), default=F("base_amount")),
        )
        .values("account_id", "bucket", "closing")
        .annotate(
            debit=MoneySum("base_amount", filter=Q(debit__gt=0)),
            credit=MoneySum("base_amount", filter=Q(credit__gt=0)),
            amount=MoneySum("own"),
            n=Count("id"),
        )
    )
    result: dict[BucketKey, BucketTotals] = {}
    for row in rows:
        bucket = row["bucket"]
        if isinstance(bucket, datetime.datetime):
            bucket = bucket.date()
        result[(row["account_id"], bucket, bool(row["closing"]))] = BucketTotals(
            debit=row["debit"], credit=-row["credit"], amount=row["amount"], line_count=row["n"]
        )
    return result


def _stored_buckets(model, company_id: int) -> dict[BucketKey, BucketTotals]:
    return {
        (row.account_id, row.date, row.is_closing): BucketTotals(
            debit=row.debit, credit=row.credit, amount=row.amount, line_count=row.line_count
        )
        for row in model.objects.filter(company_id=company_id).exclude(line_count=0)
    }


def _compare(name: str, stored: dict, computed: dict) -> list[BucketDifference]:
    differences = []
    for key in sorted(set(stored) | set(computed)):
        a, b = stored.get(key), computed.get(key)
        if a is None or b is None or a != b:
            differences.append(BucketDifference(name, key[0], key[1], key[2], a, b))
    return differences


def bucket_differences(*, company_id: int) -> tuple[list[BucketDifference], int, int]:
    """(every stored daily and monthly bucket that differs from its recomputation from the
    posted lines, daily buckets computed, monthly buckets computed). Reads only: the caller
    decides the transaction (a rebuild's lock, or an integrity run's snapshot)."""
    daily, monthly, differences = _recompute(company_id)
    return differences, len(daily), len(monthly)


def _recompute(company_id: int):
    computed_daily = _computed_daily(company_id)
    computed_monthly = _months_of(computed_daily)
    differences = _compare("daily", _stored_buckets(DailyBalance, company_id), computed_daily)
    differences += _compare("monthly", _stored_buckets(MonthlyBalance, company_id), computed_monthly)
    return computed_daily, computed_monthly, differences


def _months_of(daily: dict[BucketKey, BucketTotals]) -> dict[BucketKey, BucketTotals]:
    """Monthly buckets as the exact sums of their days (one pass over the lines, not two)."""
    months: dict[BucketKey, BucketTotals] = {}
    for (account_id, day, closing), t in daily.items():
        key = (account_id, month_start(day), closing)
        m = months.get(key)
        if m is None:
            months[key] = BucketTotals(t.debit, t.credit, t.amount, t.line_count)
        else:
            m.debit += t.debit
            m.credit += t.credit
            m.amount += t.amount
            m.line_count += t.line_count
    return months


def balances_rebuild(*, company_id: int, apply: bool = True) -> RebuildResult:
    """Recompute every bucket from the posted lines, report differences, and (if `apply`) replace them.

    Takes the company's journal counter first (as posting does: ledger.numbering's lock order),
    so postings wait for the rebuild and none commits half-way through it.
    """
    with transaction.atomic():
        sequence_lock(company_id=company_id)
        computed_daily, computed_monthly, differences = _recompute(company_id)
        if apply and differences:
            DailyBalance.objects.filter(company_id=company_id).delete()
            MonthlyBalance.objects.filter(company_id=company_id).delete()
            batch = StatementBatch()
            upsert_in(batch, DailyBalance._meta.db_table, company_id, computed_daily)
            upsert_in(batch, MonthlyBalance._meta.db_table, company_id, computed_monthly)
            batch.run()
            audit_record(
                action="rebuild",
                company=company_id,
                object_type="ledger.balances",
                object_id=str(company_id),
                object_repr="Stored balances",
                metadata={"differences": len(differences), "first": [str(d) for d in differences[:20]]},
            )
    return RebuildResult(
        company_id=company_id,
        daily_rows=len(computed_daily),
        monthly_rows=len(computed_monthly),
        differences=differences,
    )
