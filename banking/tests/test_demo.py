"""The demo's bank account: last month's statement built from the books, partly matched, and a
reconciliation that explains every difference; loaded once."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from banking.models import BankAccount, BankStatement, LineStatus
from banking.reports import reconciliation_report
from banking.services import bank_line_payment_record, open_invoice_for_line
from ledger.models import AccountingPeriod, EntryStatus, JournalEntry, PeriodStatus
from ledger.services import journal_entry_post
from sales.models import InvoiceStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def march_20(monkeypatch):
    from banking import demo as banking_demo
    from ledger import demo

    monkeypatch.setattr(demo.timezone, "localdate", lambda: datetime.date(2026, 3, 20))
    monkeypatch.setattr(banking_demo.timezone, "localdate", lambda: datetime.date(2026, 3, 20))


def test_the_demo_bank_account_holds_last_month_partly_matched_and_reconciling(march_20):
    output = io.StringIO()
    call_command("demo_setup", stdout=output)

    bank = BankAccount.objects.get()
    statement = BankStatement.objects.get()
    statuses = list(bank.lines.values_list("status", flat=True))
    report = reconciliation_report(bank_account=bank, as_of=statement.end_date)
    assert (bank.account.code, statement.start_date, statement.end_date) == (
        "1010",
        datetime.date(2026, 2, 1),
        datetime.date(2026, 2, 28),
    )
    assert {LineStatus.MATCHED, LineStatus.SUGGESTED, LineStatus.UNMATCHED} <= set(statuses)
    assert statement.line_count == len(statuses) > 10
    assert report.difference == Decimal("0.00") and report.unmatched_book and report.unmatched_bank
    assert f"{len(statuses)} lines, {statuses.count(LineStatus.MATCHED)} matched" in output.getvalue()

    # and a customer's transfer names an open invoice whose payment is not in the books yet:
    # recorded from the bank line, it is matched and the invoice's due falls by its amount
    receipt = next(line for line in bank.lines.all() if open_invoice_for_line(line) is not None)
    invoice = open_invoice_for_line(receipt)
    assert receipt.amount == invoice.amount_due and receipt.status != LineStatus.MATCHED
    assert invoice.date <= receipt.date and invoice.status == InvoiceStatus.ISSUED
    bank_line_payment_record(bank_line=receipt, by=None)
    invoice.refresh_from_db()
    receipt.refresh_from_db()
    assert (invoice.amount_due, receipt.status) == (Decimal("0.00"), LineStatus.MATCHED)

    call_command("demo_setup", stdout=io.StringIO())
    assert (BankAccount.objects.count(), BankStatement.objects.count()) == (1, 1)


def test_the_demo_closes_the_months_before_last_month_and_leaves_the_rest_open(march_20):
    # given / when: the demo loaded on 2026-03-20 (its books start four months back, in 2025)
    call_command("demo_setup", stdout=io.StringIO())

    # then: both fiscal years have their months; those before February are closed, so last month
    # (its bank statement still being matched) and this month take postings
    periods = {p.start_date: p.status for p in AccountingPeriod.objects.all()}
    assert len(periods) == 24
    assert {start for start, status in periods.items() if status == PeriodStatus.OPEN} == {
        datetime.date(2026, month, 1) for month in range(2, 13)
    }
    assert periods[datetime.date(2025, 12, 1)] == PeriodStatus.CLOSED
    # the demo's drafts are dated today and can still be posted
    drafts = JournalEntry.objects.filter(status=EntryStatus.DRAFT)
    assert drafts.exists()
    for draft in drafts:
        journal_entry_post(entry=draft, posted_by=None)
    # and running it again changes nothing
    call_command("demo_setup", stdout=io.StringIO())
    assert {p.start_date: p.status for p in AccountingPeriod.objects.all()} == periods
