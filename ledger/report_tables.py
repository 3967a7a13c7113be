"""The ledger's reports as tables (a header row, then rows of strings): one shape for every flat
rendering, the API's CSV download and the export jobs' CSV and XLSX files alike."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from accounts.models import Account, Company
from ledger.reports import (
    BalanceSheet,
    IncomeStatement,
    StatementSection,
    TrialBalance,
    general_ledger,
)
from sofinance.money import format_amount

Row = list[str]

TRIAL_BALANCE_HEADER = ["code", "name", "type", "debit", "credit", "balance"]
STATEMENT_HEADER = ["code", "account", "kind", "amount"]
GENERAL_LEDGER_HEADER = ["date", "number", "reference", "description", "debit", "credit", "running_balance"]


def trial_balance_rows(report: TrialBalance) -> Iterator[Row]:
    money = _money(report.currency)
    for r in report.rows:
        yield [
            r.account.code,
            r.account.name,
            r.account.type,
            money(r.debit),
            money(r.credit),
            money(r.balance),
        ]
    yield ["", "Total", "", money(report.total_debit), money(report.total_credit), ""]


def _section(title: str, section: StatementSection, currency: str) -> Iterator[Row]:
    money = _money(currency)
    yield [title, "", "", ""]
    for r in section.rows:
        yield [
            r.account.code,
            "  " * r.account.depth + r.account.name,
            "" if r.is_leaf else "subtotal",
            money(r.balance),
        ]
    yield ["", f"Total {title.lower()}", "", money(section.total)]


def balance_sheet_rows(report: BalanceSheet) -> Iterator[Row]:
    money = _money(report.currency)
    yield from _section("Assets", report.assets, report.currency)
    yield from _section("Liabilities", report.liabilities, report.currency)
    yield from _section("Equity", report.equity, report.currency)
    if report.earlier_years_earnings:
        # the two parts, so that the rows still add up to the total below
        yield ["", "Earnings of earlier years, not yet closed", "", money(report.earlier_years_earnings)]
        yield ["", "Current year's earnings", "", money(report.year_earnings)]
    else:
        yield ["", "Current earnings", "", money(report.current_earnings)]
    yield [
        "",
        "Total liabilities, equity and current earnings",
        "",
        money(report.total_liabilities_and_equity),
    ]


def income_statement_rows(report: IncomeStatement) -> Iterator[Row]:
    money = _money(report.currency)
    yield from _section("Income", report.income, report.currency)
    yield from _section("Expenses", report.expenses, report.currency)
    yield ["", "Net income", "", money(report.net_income)]


def general_ledger_rows(
    *,
    company: Company,
    account: Account,
    date_from: datetime.date,
    date_to: datetime.date,
    page_size: int = 500,
) -> Iterator[Row]:
    """The opening balance, every posted line with its running balance, the closing balance: read
    one keyset page at a time, so any length streams in constant memory."""
    money = _money(company.currency)
    cursor = None
    while True:
        report = general_ledger(
            company=company,
            account=account,
            date_from=date_from,
            date_to=date_to,
            page_size=page_size,
            cursor=cursor,
        )
        if cursor is None:
            yield ["", "", "", "Opening balance", "", "", money(report.opening_balance)]
        for ln in report.lines:
            yield [
                ln.date.isoformat(),
                ln.number,
                ln.reference,
                ln.description or ln.entry_description,
                money(ln.debit),
                money(ln.credit),
                money(ln.running_balance),
            ]
        if report.next_cursor is None:
            yield ["", "", "", "Closing balance", "", "", money(report.closing_balance)]
            return
        cursor = report.next_cursor


def _money(currency: str):
    def money(amount) -> str:
        return "" if amount is None else format_amount(amount, currency)

    return money
