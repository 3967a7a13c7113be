"""Test helpers of the jobs app: books with every kind of sales document, raw SQL to plant damage,
and counts of what a run may or may not write."""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

from audit.models import AuditEvent
from audit.sealing import in_process_sealer
from jobs.models import Discrepancy
from ledger.models import EntryStatus, JournalEntry, JournalLine
from ledger.tests.factories import post_entry
from sales import services
from sales.models import CreditNote, Invoice, Payment
from sales.tests.factories import SalesBooks, day, eur_rate, issued, sales_books
from sofinance.models import Quarantine


@dataclass
class Books:
    sales: SalesBooks
    invoice: Invoice  # Acme, 100.00 + 20.00 VAT (4100 service revenue), partly paid
    paid: Invoice  # Globex, 50.00 untaxed (4000), paid in full
    void: Invoice  # Acme, 30.00, voided
    euro: Invoice  # Euro GmbH, EUR 200.00 at 1.10, paid at 1.12 (an exchange difference)
    credit_note: CreditNote  # on `invoice`: one consulting hour's worth, 60.00 + 12.00
    payment: Payment  # Acme, 40.00 allocated to `invoice`
    euro_payment: Payment
    manual: JournalEntry  # Dr 6100 rent 500.00 / Cr 1000 cash

    @property
    def company(self):
        return self.sales.company


def books() -> Books:
    """A company whose books and sales ledger agree on every check (a clean run finds nothing)."""
    s = sales_books()
    invoice = services.invoice_create(
        company=s.company,
        customer=s.acme,
        date=day("2026-01-05"),
        lines=[{"item": s.consulting.pk, "quantity": "0.5"}, {"item": s.consulting.pk, "quantity": "0.5"}],
        by=None,
        issue=True,
    )
    paid = issued(s, s.globex, "2026-01-06", "50.00")
    services.payment_record(
        company=s.company,
        customer=s.globex,
        date=day("2026-01-08"),
        amount="50.00",
        by=None,
        allocations=[{"invoice": paid.pk, "amount": "50.00"}],
    )
    void = issued(s, s.acme, "2026-01-07", "30.00")
    void = services.invoice_void(invoice=void, by=None)
    eur_rate(s, "2026-01-01", "1.10")
    euro = issued(s, s.euro, "2026-01-09", "200.00")
    eur_rate(s, "2026-01-20", "1.12")
    euro_payment = services.payment_record(
        company=s.company,
        customer=s.euro,
        date=day("2026-01-20"),
        amount="200.00",
        by=None,
        allocations=[{"invoice": euro.pk, "amount": "200.00"}],
    )
    credit_note = services.credit_note_create(
        invoice=invoice,
        by=None,
        date=day("2026-01-10"),
        lines=[{"invoice_line": invoice.lines.order_by("line_no").first().pk, "quantity": "0.4"}],
    )
    payment = services.payment_record(
        company=s.company,
        customer=s.acme,
        date=day("2026-01-12"),
        amount="40.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "40.00"}],
    )
    manual = post_entry(s.company, "2026-01-15", ("6100", "500.00", "D"), ("1000", "500.00", "C"))
    in_process_sealer.flush()
    return Books(s, invoice, paid, void, euro, credit_note, payment, euro_payment, manual)


@contextmanager
def triggers_off():
    """Raw SQL around the database's guards (the test database role is a superuser), for this
    transaction only."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET LOCAL session_replication_role = origin")


def sql(statement: str, params: list | None = None) -> int:
    with triggers_off() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def posted_count(company) -> int:
    return JournalEntry.objects.filter(company=company, status=EntryStatus.POSTED).count()


def ledger_state(company) -> tuple:
    """What a run must never change: posted entries and lines."""
    return (
        posted_count(company),
        JournalLine.objects.filter(company=company, entry_sequence__isnull=False).count(),
        sorted(
            JournalLine.objects.filter(company=company, entry_sequence__isnull=False).values_list(
                "id", "account_id", "base_amount"
            )
        ),
    )


def quarantined(company_id: int | None = None) -> set[tuple[str, int]]:
    flags = Quarantine.objects.filter(resolved_at__isnull=True)
    if company_id is not None:
        flags = flags.filter(company_id=company_id)
    return set(flags.values_list("object_type", "object_id"))


def open_discrepancies(company) -> list[Discrepancy]:
    return list(Discrepancy.objects.filter(company=company, status="open").order_by("id"))


def entry_line_of(entry: JournalEntry, account_code: str) -> JournalLine:
    return entry.lines.get(account__code=account_code)


def audit_count(company) -> int:
    return AuditEvent.objects.filter(company_id=company.pk).count()


TODAY = datetime.date(2026, 2, 1)
