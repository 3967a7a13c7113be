"""Reading stored balances: totals per account as of a date, or over a date range.

A range [start, end] is read as whole months from MonthlyBalance plus the loose days at each end
from DailyBalance, so a balance as of any date touches at most ~31 daily rows per account plus
one row per month, whatever the number of journal lines.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.models import PATH_SEPARATOR
from ledger.balances import month_start
from ledger.models import DailyBalance, MonthlyBalance
from sofinance.db_router import read_connection
from sofinance.money import money_from_sum, money_sum_sql

ZERO = Decimal(0)


@dataclass(frozen=True)
class AccountTotals:
    """Posted totals of one account: debits and credits in the functional currency,
    and the signed total in the account's own currency (for foreign-currency accounts)."""

    debit: Decimal = ZERO
    credit: Decimal = ZERO
    amount: Decimal = ZERO
    line_count: int = 0

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit

    def __add__(self, other: AccountTotals) -> AccountTotals:
        return AccountTotals(
            self.debit + other.debit,
            self.credit + other.credit,
            self.amount + other.amount,
            self.line_count + other.line_count,
        )


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


# A date range of buckets: (first date, last date), both inclusive.
DateRange = tuple[datetime.date, datetime.date]


def bucket_ranges(start: datetime.date | None, end: datetime.date) -> tuple[list[DateRange], list[DateRange]]:
    """(monthly bucket dates, daily bucket dates) that cover [start, end] exactly.

    Whole months come from the monthly buckets (dated the 1st); the loose days at either end from
    the daily buckets. start None means from the beginning of the books.
    """
    end_month = month_start(end)
    end_month_is_whole = end == _next_month(end) - datetime.timedelta(days=1)
    if start is None:
        if end_month_is_whole:
            return [(datetime.date.min, end_month)], []
        return [(datetime.date.min, end_month - datetime.timedelta(days=1))], [(end_month, end)]
    first_whole_month = start if start.day == 1 else _next_month(start)
    last_whole_month = (
        end_month if end_month_is_whole else month_start(end_month - datetime.timedelta(days=1))
    )
    if first_whole_month > last_whole_month:
        return [], [(start, end)]  # no whole month inside the range: read its days
    daily = []
    if start < first_whole_month:
        daily.append((start, first_whole_month - datetime.timedelta(days=1)))
    if not end_month_is_whole:
        daily.append((end_month, end))
    return [(first_whole_month, last_whole_month)], daily


def account_totals(
    *,
    company_id: int,
    end: datetime.date,
    start: datetime.date | None = None,
    include_closing: bool = True,
    account_ids: list[int] | None = None,
) -> dict[int, AccountTotals]:
    """Posted totals per account over [start, end] (from the beginning when start is None).

    One statement over both bucket tables. Written as SQL rather than through the ORM because
    reports call it several times per request and the ORM's query building cost more than the
    query itself (measured in bench/bench_reports.py).
    """
    monthly, daily = bucket_ranges(start, end)
    parts: list[str] = []
    params: list[object] = []
    for table, ranges in ((MonthlyBalance._meta.db_table, monthly), (DailyBalance._meta.db_table, daily)):
        for first, last in ranges:
            where = ["company_id = %s", "date >= %s", "date <= %s"]
            params += [company_id, first, last]
            if not include_closing:
                where.append("is_closing = %s")
                params.append(False)
            if account_ids is not None:
                if not account_ids:
                    return {}
                where.append(f"account_id IN ({', '.join(['%s'] * len(account_ids))})")
                params += list(account_ids)
            parts.append(
                f"SELECT account_id, debit, credit, amount, line_count FROM {table} "  # noqa: S608
                f"WHERE {' AND '.join(where)}"
            )
    if not parts:
        return {}
    db = read_connection()  # a replica when one serves reads (sofinance/db_router.py)
    vendor = db.vendor
    sums = ", ".join(money_sum_sql(column, vendor) for column in ("debit", "credit", "amount"))
    sql = (
        f"SELECT account_id, {sums}, SUM(line_count) "  # noqa: S608
        f"FROM ({' UNION ALL '.join(parts)}) AS buckets GROUP BY account_id"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        account_id: AccountTotals(
            money_from_sum(debit), money_from_sum(credit), money_from_sum(amount), int(count or 0)
        )
        for account_id, debit, credit, amount, count in rows
    }


def roll_up(chart: list[tuple[int, str]], values: dict[int, Any]) -> dict[int, Any]:
    """Add each account's value to itself and every ancestor on its path.

    `chart` is (id, path) for the company's accounts; `values` may hold Decimals or AccountTotals.
    Accounts with nothing under them are absent from the result.
    """
    id_by_path = {path: pk for pk, path in chart}
    path_by_id = dict(chart)
    rolled: dict[int, Any] = {}
    for account_id, value in values.items():
        parts = path_by_id[account_id].split(PATH_SEPARATOR)
        for depth in range(1, len(parts) + 1):
            ancestor = id_by_path.get(PATH_SEPARATOR.join(parts[:depth]))
            if ancestor is not None:
                rolled[ancestor] = rolled[ancestor] + value if ancestor in rolled else value
    return rolled
