"""`manage.py demo_setup`: idempotent demo data (admin, company, books and sales ledger that agree),
the admin's password printed once."""

from __future__ import annotations

import datetime
import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F

from accounts.chart_templates import SMALL_BUSINESS
from accounts.models import Account, Company, Membership, User
from audit.models import AuditEvent
from ledger.balance_queries import account_totals
from ledger.models import JournalEntry, JournalLine
from sales.models import CreditNote, Invoice, Payment
from sales.reports import ar_aging
from sales.services import sales_summary_rebuild

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def test_first_run_creates_the_admin_and_the_demo_company():
    # when
    output = _run()

    # then
    password = re.search(r"^  password: (\S+)$", output, re.MULTILINE).group(1)
    admin = User.objects.get()
    assert (admin.username, admin.email, admin.is_staff, admin.is_superuser) == (
        "admin",
        "admin@example.com",
        True,
        True,
    )
    assert admin.check_password(password)
    assert len(password) >= 16
    company = Company.objects.get()
    assert (company.name, company.currency, company.created_by_id) == ("Demo Trading Ltd", "USD", admin.pk)
    assert list(Membership.objects.values_list("user_id", "company_id", "role")) == [
        (admin.pk, company.pk, "admin")
    ]
    assert Account.objects.filter(company=company).count() == len(SMALL_BUSINESS)
    assert AuditEvent.objects.filter(object_type="accounts.user", action="create").count() == 1
    assert set(AuditEvent.objects.values_list("request_id", flat=True)) != {""}


def test_second_run_changes_nothing_and_prints_no_password():
    # given
    first = _run()
    password = re.search(r"^  password: (\S+)$", first, re.MULTILINE).group(1)
    counts = (
        User.objects.count(),
        Company.objects.count(),
        Account.objects.count(),
        AuditEvent.objects.count(),
    )

    # when
    second = _run()

    # then
    assert "password:" not in second
    assert password not in second
    assert "already exists" in second
    assert (
        User.objects.count(),
        Company.objects.count(),
        Account.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
    assert User.objects.get(username="admin").check_password(password)


# --------------------------------------------------------------------------- the demo's books and sales


@pytest.fixture
def march_20(monkeypatch):
    from ledger import demo

    monkeypatch.setattr(demo.timezone, "localdate", lambda: datetime.date(2026, 3, 20))


def test_the_demo_loads_books_and_a_sales_ledger_that_agree(march_20):
    # when
    output = _run()

    # then invoices in every state, payments, a credit note and customer credit
    company = Company.objects.get(name="Demo Trading Ltd")
    statuses = set(Invoice.objects.filter(company=company).values_list("status", flat=True))
    assert statuses == {"draft", "issued", "partially_paid", "paid", "void"}
    assert CreditNote.objects.filter(company=company).count() == 1
    assert (
        Payment.objects.filter(company=company, amount_allocated__lt=F("amount")).count() == 1
    )  # a deposit partly used
    count = JournalEntry.objects.filter(company=company).count()
    assert f"Loaded {count} demo journal entries: " in output
    # no credit sale is a plain journal entry any more: every receivable comes from a document
    manual = JournalLine.objects.filter(
        company=company, account__code="1100", entry__source="manual", entry__status="posted"
    )
    assert not manual.exists()
    # the receivables account equals the AR aging, today and at every month end
    receivable = Account.objects.get(company=company, code="1100")
    for as_of in (
        datetime.date(2025, 12, 31),
        datetime.date(2026, 1, 31),
        datetime.date(2026, 2, 28),
        datetime.date(2026, 3, 20),
    ):
        balance = account_totals(company_id=company.pk, end=as_of).get(receivable.pk)
        assert ar_aging(company=company, as_of=as_of).totals.total == (balance.balance if balance else 0), (
            as_of
        )
    aging = ar_aging(company=company, as_of=datetime.date(2026, 3, 20))
    assert aging.totals.days_over_90 == 0 and aging.totals.days_1_30 > 0 and aging.totals.unapplied_credit > 0
    # the export order was paid at a better rate: a realised exchange gain
    fx = Account.objects.get(company=company, code="4950")
    assert account_totals(company_id=company.pk, end=datetime.date(2026, 3, 20))[fx.pk].balance == Decimal(
        "-25.00"
    )
    # stored balances and the stored sales summary agree with what was posted
    call_command("rebuild_balances", "--check", stdout=io.StringIO())
    summary = sales_summary_rebuild(
        company=company, date_from=datetime.date(2025, 1, 1), date_to=datetime.date(2026, 12, 31), apply=False
    )
    assert summary.differences == []
    # and it is still a profitable little business
    totals = account_totals(company_id=company.pk, end=datetime.date(2026, 3, 20))
    by_type = defaultdict(Decimal)
    for account in Account.objects.filter(company=company):
        if account.pk in totals:
            by_type[account.type] += totals[account.pk].balance
    assert -by_type["income"] > by_type["expense"] > 0


def test_the_demo_loads_its_books_once(march_20):
    _run()
    counts = (
        JournalEntry.objects.count(),
        Invoice.objects.count(),
        Payment.objects.count(),
        AuditEvent.objects.count(),
    )
    second = _run()
    assert "demo journal entries" not in second
    assert (
        JournalEntry.objects.count(),
        Invoice.objects.count(),
        Payment.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
