"""Concurrency on PostgreSQL: invoice numbers stay gapless, an invoice is never over-allocated,
and sales postings beside plain ledger postings neither deadlock nor lose balances."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from ledger.balance_queries import account_totals
from ledger.services import journal_entry_create
from sales import services
from sales.models import Invoice, InvoiceStatus
from sales.tests.factories import day, issued, sales_books

THREADS = 6
PER_THREAD = 12


def _run_threads(target, count: int) -> list[BaseException]:
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def runner(index: int) -> None:
        try:
            start.wait()
            target(index)
        except BaseException as exc:  # collected and asserted on below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return failures


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_yields_gapless_invoice_numbers_beside_ledger_postings():
    # given drafts to issue, and a thread posting plain entries to the same accounts meanwhile
    assert connection.vendor == "postgresql"
    books = sales_books()
    drafts = [
        services.invoice_create(
            company=books.company,
            customer=books.acme,
            date=day("2026-03-01") + datetime.timedelta(days=n % 5),
            lines=[{"item": books.widget.pk, "quantity": str(n + 1)}],
            by=None,
        )
        for n in range(THREADS * PER_THREAD)
    ]

    def work(index: int) -> None:
        if index == THREADS:
            for n in range(PER_THREAD):
                journal_entry_create(
                    company=books.company,
                    date=day("2026-03-01") + datetime.timedelta(days=n % 5),
                    lines=[{"account": "1100", "debit": "1.00"}, {"account": "4000", "credit": "1.00"}],
                    by=None,
                    post=True,
                )
            return
        for draft in drafts[index::THREADS]:
            services.invoice_issue(invoice=draft, by=None)

    # when
    failures = _run_threads(work, THREADS + 1)

    # then every invoice is issued with a distinct number, 1..N without a gap
    assert failures == []
    invoices = Invoice.objects.filter(company=books.company)
    assert invoices.filter(status=InvoiceStatus.ISSUED).count() == THREADS * PER_THREAD
    assert sorted(invoices.values_list("sequence", flat=True)) == list(range(1, THREADS * PER_THREAD + 1))
    assert sorted(invoices.values_list("number", flat=True)) == [
        f"INV-2026-{n:06d}" for n in range(1, THREADS * PER_THREAD + 1)
    ]
    # and the receivables hold every invoice and every plain posting, nothing lost
    expected = sum((i.total for i in invoices), Decimal(0)) + PER_THREAD * Decimal("1.00")
    totals = account_totals(company_id=books.company.pk, end=day("2026-12-31"))
    assert totals[books.account("1100").pk].balance == expected


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_never_over_allocate_an_invoice():
    books = sales_books()
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    payments = [
        services.payment_record(
            company=books.company, customer=books.acme, date=day("2026-03-05"), amount="100.00", by=None
        )
        for _ in range(4)
    ]
    outcomes: list[str] = []

    def allocate(index: int) -> None:
        try:
            services.payment_allocate(
                payment=payments[index], allocations=[{"invoice": invoice.pk, "amount": "100.00"}], by=None
            )
            outcomes.append("allocated")
        except Exception as exc:
            outcomes.append(getattr(exc, "code", type(exc).__name__))

    assert _run_threads(allocate, 4) == []
    assert sorted(outcomes) == ["allocated", "invoice_not_open", "invoice_not_open", "invoice_not_open"]
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (Decimal("100.00"), InvoiceStatus.PAID)
