"""The Beancount export: `bean-check` accepts it with no error, and Beancount's balances of every
account equal SOFinance's trial balance on several dates (functional-currency accounts in the
functional currency, an account kept in euros in euros)."""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data as bc

from accounts.models import Account
from accounts.services import account_create
from jobs.exports.beancount import account_names, beancount_write
from jobs.tests.factories import books
from ledger.models import ExchangeRate
from ledger.reports import trial_balance
from ledger.services import journal_entry_create, journal_entry_reverse
from ledger.tests.factories import post_entry

pytestmark = pytest.mark.django_db

DATES = ["2026-01-04", "2026-01-05", "2026-01-09", "2026-01-12", "2026-01-20", "2026-01-31"]


def _books_with_foreign_account():
    b = books()
    company = b.company
    parent = Account.objects.get(company=company, code="1020").parent
    euro_bank = account_create(
        company=company,
        code="1030",
        name="Bank - EUR account",
        type="asset",
        parent=parent,
        currency="EUR",
        by=None,
    )
    # euros in at 1.10 (stored rate) and at a given rate; a reversal; a quote in a description
    post_entry(
        company, "2026-01-09", ("1030", "100.00", "D"), ("3000", "110.00", "C"), description='Capital "EUR"'
    )
    journal_entry_create(
        company=company,
        date=datetime.date(2026, 1, 20),
        lines=[
            {"account": "1030", "credit": "33.33", "fx_rate": "1.1234"},
            {"account": "6100", "debit": "37.44"},
        ],
        by=None,
        description="Rent paid in euros \\ back-slash",
        post=True,
    )
    reversed_entry = post_entry(company, "2026-01-11", ("6100", "12.34", "D"), ("1000", "12.34", "C"))
    journal_entry_reverse(entry=reversed_entry, by=None, date=datetime.date(2026, 1, 12))
    return b, euro_bank


def _balances(entries, day: datetime.date) -> dict[str, dict[str, Decimal]]:
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for entry in entries:
        if isinstance(entry, bc.Transaction) and entry.date <= day:
            for posting in entry.postings:
                totals[posting.account][posting.units.currency] += posting.units.number
    return totals


def test_the_beancount_ledger_passes_bean_check_and_equals_the_trial_balance_on_any_date(tmp_path: Path):
    # given
    b, euro_bank = _books_with_foreign_account()
    company = b.company
    path = tmp_path / "books.beancount"

    # when
    with path.open("w", encoding="utf-8") as out:
        transactions = beancount_write(company=company, out=out)

    # then: bean-check finds nothing to say
    check = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (check.returncode, check.stdout, check.stderr) == (0, "", "")
    entries, errors, options = loader.load_file(str(path))
    assert errors == []
    assert transactions == sum(1 for e in entries if isinstance(e, bc.Transaction))
    assert options["operating_currency"] == ["USD"]
    # one price per stored rate
    prices = [
        (e.date.isoformat(), e.currency, e.amount.number, e.amount.currency)
        for e in entries
        if isinstance(e, bc.Price)
    ]
    assert prices == [
        (r.date.isoformat(), "EUR", r.rate, "USD")
        for r in ExchangeRate.objects.filter(company=company).order_by("date")
    ]
    names = account_names(list(Account.objects.filter(company=company)))
    assert names[euro_bank.pk] == "Assets:1030-Bank-EUR-Account"
    # and on every date each account's balance is the trial balance's
    for text in DATES:
        day = datetime.date.fromisoformat(text)
        held = _balances(entries, day)
        report = trial_balance(company=company, as_of=day)
        expected = {}
        for row in report.rows:
            if row.account.currency:
                expected[names[row.account.id]] = {row.account.currency: row.balance_in_currency}
            else:
                expected[names[row.account.id]] = {"USD": row.balance}
        shown = {
            account: {currency: amount for currency, amount in by_currency.items() if amount}
            for account, by_currency in held.items()
        }
        shown = {account: amounts for account, amounts in shown.items() if amounts}
        assert shown == {a: v for a, v in expected.items() if any(v.values())}, text
    assert held[names[euro_bank.pk]] == {"EUR": Decimal("66.67")}


def test_the_beancount_export_can_stop_at_a_date(tmp_path: Path):
    b, _ = _books_with_foreign_account()
    path = tmp_path / "books.beancount"
    with path.open("w", encoding="utf-8") as out:
        beancount_write(company=b.company, out=out, date_to=datetime.date(2026, 1, 9))

    entries, errors, _ = loader.load_file(str(path))

    assert errors == []
    assert max(e.date for e in entries if isinstance(e, bc.Transaction)) == datetime.date(2026, 1, 9)
