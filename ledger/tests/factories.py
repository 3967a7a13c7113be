"""Ledger test helpers: companies with a chart, and entries posted through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from accounts.models import Account, Company
from accounts.services import company_create
from accounts.tests.factories import UserFactory
from ledger.models import JournalEntry
from ledger.services import journal_entry_create


def company_with_chart(
    *, currency: str = "USD", name: str = "Books Ltd", fiscal_year_start: int = 1, owner=None
) -> Company:
    owner = owner or UserFactory()
    return company_create(
        name=name,
        currency=currency,
        fiscal_year_start=fiscal_year_start,
        created_by=owner,
        chart_template="small_business",
    )


def account(company: Company, code: str) -> Account:
    return Account.objects.get(company=company, code=code)


def post_entry(
    company: Company,
    date: datetime.date | str,
    *pairs: tuple[str, str | Decimal, str],
    by=None,
    description: str = "",
    post: bool = True,
    **kwargs,
) -> JournalEntry:
    """post_entry(company, "2026-01-05", ("1000", "100.00", "D"), ("4000", "100.00", "C"))."""
    if isinstance(date, str):
        date = datetime.date.fromisoformat(date)
    lines = [
        {"account": code, "debit" if side == "D" else "credit": str(amount)} for code, amount, side in pairs
    ]
    return journal_entry_create(
        company=company, date=date, lines=lines, by=by, description=description, post=post, **kwargs
    )
