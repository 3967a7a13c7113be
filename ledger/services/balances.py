"""Rebuilding the stored balances from the posted lines (`manage.py rebuild_balances`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import TruncMonth

from audit.services import audit_record
from ledger.balances import BucketKey, BucketTotals, upsert_in
from ledger.models import DailyBalance, EntrySource, JournalLine, MonthlyBalance
from ledger.numbering import sequence_lock
from sofinance.db_batch import StatementBatch
from sofinance.money import MoneySum


@dataclass(frozen=True)
class RebuildResult:
    company_id: int
    daily_rows: int
    monthly_rows: int
    differences: list[str]

    @property
    def differed(self) -> bool:
        return bool(self.differences)


def _computed_buckets(company_id: int, *, monthly: bool) -> dict[BucketKey, BucketTotals]:
    lines = JournalLine.objects.filter(company_id=company_id, entry_sequence__isnull=False)
    bucket_date = TruncMonth("date") if monthly else F("date")
    rows = (
        lines.annotate(
            bucket=bucket_date,
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


def _compare(name: str, stored: dict, computed: dict) -> list[str]:
    differences = []
    for key in sorted(set(stored) | set(computed)):
        a, b = stored.get(key), computed.get(key)
        if a is None or b is None or a != b:
            differences.append(
                f"{name} account={key[0]} date={key[1]} closing={key[2]}: stored={a} computed={b}"
            )
    return differences


def balances_rebuild(*, company_id: int, apply: bool = True) -> RebuildResult:
    """Recompute every bucket from the posted lines, report differences, and (if `apply`) replace them.

    Takes the company's journal counter first (as posting does: ledger.numbering's lock order),
    so postings wait for the rebuild and none commits half-way through it.
    """
    with transaction.atomic():
        sequence_lock(company_id=company_id)
        computed_daily = _computed_buckets(company_id, monthly=False)
        computed_monthly = _computed_buckets(company_id, monthly=True)
        differences = _compare("daily", _stored_buckets(DailyBalance, company_id), computed_daily)
        differences += _compare("monthly", _stored_buckets(MonthlyBalance, company_id), computed_monthly)
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
                metadata={"differences": len(differences), "first": differences[:20]},
            )
    return RebuildResult(
        company_id=company_id,
        daily_rows=len(computed_daily),
        monthly_rows=len(computed_monthly),
        differences=differences,
    )
