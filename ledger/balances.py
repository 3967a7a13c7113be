"""Stored balances: per account, per day and per month, kept in the posting transaction.

Posting adds its lines' totals to one daily and one monthly bucket per account with an atomic
upsert (INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x). Concurrent posters therefore
never lose an update, a back-dated entry lands in its own day and month, and buckets are always
written in (account, date) order so two posters cannot deadlock on them.
A balance as of any date then reads whole months plus the days of one month.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth

from audit.services import audit_record
from ledger.models import DailyBalance, EntrySource, JournalLine, MonthlyBalance

ZERO = Decimal(0)


@dataclass
class BucketTotals:
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    amount: Decimal = ZERO
    line_count: int = 0


BucketKey = tuple[int, datetime.date, bool]  # account id, bucket date, is_closing


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def totals_from_lines(
    lines: Iterable[JournalLine], *, is_closing: bool, account_currency: dict[int, str]
) -> tuple[dict[BucketKey, BucketTotals], dict[BucketKey, BucketTotals]]:
    """Aggregate lines into daily and monthly bucket increments."""
    daily: dict[BucketKey, BucketTotals] = defaultdict(BucketTotals)
    monthly: dict[BucketKey, BucketTotals] = defaultdict(BucketTotals)
    for line in lines:
        own_currency = account_currency.get(line.account_id)
        amount = line.amount if own_currency else line.base_amount
        for bucket, day in ((daily, line.date), (monthly, month_start(line.date))):
            totals = bucket[(line.account_id, day, is_closing)]
            if line.debit > 0:
                totals.debit += line.base_amount
            else:
                totals.credit += -line.base_amount
            totals.amount += amount
            totals.line_count += 1
    return daily, monthly


UPSERT_CHUNK = 500


def _upsert(table: str, company_id: int, increments: dict[BucketKey, BucketTotals]) -> None:
    rows = sorted(increments.items(), key=lambda item: (item[0][0], item[0][1], item[0][2]))
    for start in range(0, len(rows), UPSERT_CHUNK):
        _upsert_rows(table, company_id, rows[start : start + UPSERT_CHUNK])


def _upsert_rows(table: str, company_id: int, rows: list[tuple[BucketKey, BucketTotals]]) -> None:
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[object] = []
    for (account_id, day, is_closing), totals in rows:
        params += [
            company_id,
            account_id,
            day,
            is_closing,
            totals.debit,
            totals.credit,
            totals.amount,
            totals.line_count,
        ]
    sql = (
        f"INSERT INTO {table} (company_id, account_id, date, is_closing, debit, credit, amount, line_count) "  # noqa: S608
        f"VALUES {placeholders} "
        "ON CONFLICT (company_id, account_id, date, is_closing) DO UPDATE SET "
        f"debit = {table}.debit + excluded.debit, "
        f"credit = {table}.credit + excluded.credit, "
        f"amount = {table}.amount + excluded.amount, "
        f"line_count = {table}.line_count + excluded.line_count"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def balances_apply(
    *, company_id: int, lines: list[JournalLine], source: str, account_currency: dict[int, str]
) -> None:
    """Add a posting's lines to the stored balances (call inside the posting transaction)."""
    daily, monthly = totals_from_lines(
        lines, is_closing=(source == EntrySource.CLOSING), account_currency=account_currency
    )
    # Daily buckets first, then monthly, each in (account, date) order: one global lock order.
    _upsert(DailyBalance._meta.db_table, company_id, daily)
    _upsert(MonthlyBalance._meta.db_table, company_id, monthly)


# --------------------------------------------------------------------------- rebuild


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
    money = DecimalField(max_digits=22, decimal_places=4)
    lines = JournalLine.objects.filter(company_id=company_id, entry_sequence__isnull=False)
    bucket_date = TruncMonth("date") if monthly else F("date")
    rows = (
        lines.annotate(
            bucket=bucket_date,
            closing=Case(
                When(entry__source=EntrySource.CLOSING, then=Value(True)),
                default=Value(False),
            ),
            own=Case(When(~Q(account__currency=""), then=F("amount")), default=F("base_amount")),
        )
        .values("account_id", "bucket", "closing")
        .annotate(
            debit=Coalesce(Sum("base_amount", filter=Q(debit__gt=0)), Value(ZERO), output_field=money),
            credit=Coalesce(Sum("base_amount", filter=Q(credit__gt=0)), Value(ZERO), output_field=money),
            amount=Coalesce(Sum("own", output_field=money), Value(ZERO), output_field=money),
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
    for key in sorted(set(stored) | set(computed), key=lambda k: (k[0], k[1], k[2])):
        a, b = stored.get(key), computed.get(key)
        if (
            a is None
            or b is None
            or (a.debit, a.credit, a.amount, a.line_count)
            != (
                b.debit,
                b.credit,
                b.amount,
                b.line_count,
            )
        ):
            differences.append(
                f"{name} account={key[0]} date={key[1]} closing={key[2]}: stored={a} computed={b}"
            )
    return differences


def balances_rebuild(*, company_id: int, apply: bool = True) -> RebuildResult:
    """Recompute every bucket from the posted lines, report differences, and (if `apply`) replace them.

    Runs under a lock on the company's numbering row so no posting commits half-way through.
    """
    from ledger.models import NumberSequence
    from ledger.numbering import JOURNAL_SERIES

    with transaction.atomic():
        list(NumberSequence.objects.select_for_update().filter(company_id=company_id, series=JOURNAL_SERIES))
        computed_daily = _computed_buckets(company_id, monthly=False)
        computed_monthly = _computed_buckets(company_id, monthly=True)
        differences = _compare("daily", _stored_buckets(DailyBalance, company_id), computed_daily)
        differences += _compare("monthly", _stored_buckets(MonthlyBalance, company_id), computed_monthly)
        if apply and differences:
            DailyBalance.objects.filter(company_id=company_id).delete()
            MonthlyBalance.objects.filter(company_id=company_id).delete()
            _upsert(DailyBalance._meta.db_table, company_id, computed_daily)
            _upsert(MonthlyBalance._meta.db_table, company_id, computed_monthly)
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
