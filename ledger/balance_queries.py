"""Reading stored balances: totals per account as of a date, or over a date range.

A range [start, end] is read as whole months from MonthlyBalance plus the loose days at each end
from DailyBalance, so a balance as of any date touches at most ~31 daily rows per account plus
one row per month, whatever the number of journal lines.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import PATH_SEPARATOR
from ledger.balances import month_start
from ledger.models import DailyBalance, MonthlyBalance

ZERO = Decimal(0)
_MONEY = DecimalField(max_digits=22, decimal_places=4)


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


def _range_filters(start: datetime.date | None, end: datetime.date) -> tuple[Q, Q]:
    """(monthly filter, daily filter) covering [start, end] exactly (start None = beginning)."""
    end_month = month_start(end)
    last_day_of_end_month = _next_month(end) - datetime.timedelta(days=1)
    whole_months_end = end_month if end == last_day_of_end_month else None  # end month is whole
    if start is None:
        monthly = Q(date__lt=end_month) if whole_months_end is None else Q(date__lte=end_month)
        daily = Q(date__gte=end_month, date__lte=end) if whole_months_end is None else Q(pk__in=[])
        return monthly, daily
    first_whole_month = start if start.day == 1 else _next_month(start)
    if first_whole_month > end_month or (first_whole_month == end_month and whole_months_end is None):
        # No whole month inside the range: read its days.
        return Q(pk__in=[]), Q(date__gte=start, date__lte=end)
    monthly_upper = Q(date__lte=end_month) if whole_months_end is not None else Q(date__lt=end_month)
    monthly = Q(date__gte=first_whole_month) & monthly_upper
    daily = Q(date__gte=start, date__lt=first_whole_month)
    if whole_months_end is None:
        daily |= Q(date__gte=end_month, date__lte=end)
    return monthly, daily


def account_totals(
    *,
    company_id: int,
    end: datetime.date,
    start: datetime.date | None = None,
    include_closing: bool = True,
    account_ids: list[int] | None = None,
) -> dict[int, AccountTotals]:
    """Posted totals per account over [start, end] (from the beginning when start is None)."""
    monthly_filter, daily_filter = _range_filters(start, end)
    result: dict[int, AccountTotals] = defaultdict(AccountTotals)
    for model, bucket_filter in ((MonthlyBalance, monthly_filter), (DailyBalance, daily_filter)):
        queryset = model.objects.filter(bucket_filter, company_id=company_id)
        if not include_closing:
            queryset = queryset.filter(is_closing=False)
        if account_ids is not None:
            queryset = queryset.filter(account_id__in=account_ids)
        rows = queryset.values("account_id").annotate(
            d=Coalesce(Sum("debit"), Value(ZERO), output_field=_MONEY),
            c=Coalesce(Sum("credit"), Value(ZERO), output_field=_MONEY),
            a=Coalesce(Sum("amount"), Value(ZERO), output_field=_MONEY),
            n=Coalesce(Sum("line_count"), Value(0)),
        )
        for row in rows:
            result[row["account_id"]] = result[row["account_id"]] + AccountTotals(
                row["d"], row["c"], row["a"], row["n"]
            )
    return dict(result)


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
