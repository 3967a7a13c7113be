"""Reads of the ledger: entries, rates, periods. Reports live in ledger/reports.py."""

from __future__ import annotations

import datetime

from django.db.models import Prefetch, QuerySet

from accounts.models import Account, Company
from ledger.balance_queries import AccountTotals, account_totals, roll_up
from ledger.models import (
    AccountingPeriod,
    ExchangeRate,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)


def exchange_rate_find(
    *, company: Company, from_currency: str, to_currency: str, on: datetime.date
) -> ExchangeRate | None:
    """The company's most recent stored rate on or before `on`."""
    return (
        ExchangeRate.objects.filter(
            company=company, from_currency=from_currency, to_currency=to_currency, date__lte=on
        )
        .order_by("-date")
        .first()
    )


def exchange_rates_for_company(*, company: Company) -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.filter(company=company).order_by(
        "from_currency", "to_currency", "-date", "-id"
    )


def period_blocking(*, company: Company, on: datetime.date) -> AccountingPeriod | None:
    """The closed or locked period covering `on`, if any (a date no period covers is open)."""
    return (
        AccountingPeriod.objects.filter(
            company=company,
            status__in=[PeriodStatus.CLOSED, PeriodStatus.LOCKED],
            start_date__lte=on,
            end_date__gte=on,
        )
        .order_by("start_date")
        .first()
    )


def journal_entries_for_company(*, company: Company) -> QuerySet[JournalEntry]:
    return (
        JournalEntry.objects.filter(company=company)
        .select_related("created_by", "posted_by")
        .prefetch_related(
            Prefetch("lines", queryset=JournalLine.objects.select_related("account").order_by("line_no"))
        )
    )


def journal_entry_get(*, company: Company, pk: int) -> JournalEntry | None:
    return journal_entries_for_company(company=company).filter(pk=pk).first()


def account_balances_rolled_up(*, company_id: int, as_of: datetime.date) -> dict[int, AccountTotals]:
    """Posted totals as of a date for the company's accounts, each parent summing its subtree
    (accounts with nothing posted under them are absent: zero)."""
    posted = account_totals(company_id=company_id, end=as_of)
    if not posted:
        return {}
    chart = list(Account.objects.filter(company_id=company_id).values_list("id", "path"))
    return roll_up(chart, posted)
