"""The database itself keeps issued documents as they were issued, whatever goes around the
services: raw SQL, ORM update()/delete(), a model save. The transitions the services make
(payments, credit notes, voids) still pass."""

import datetime
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from sales import services
from sales.models import (
    Allocation,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    TaxRate,
)
from sales.tests.factories import day, issued, sales_books
from sofinance.db_errors import domain_error_from_db

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return sales_books()


@pytest.fixture
def invoice(books):
    return issued(books, books.acme, "2026-03-10", "100.00", "50.00")


def refused(code: str):
    return pytest.raises(DatabaseError, match=code)


def sql(statement: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_raw_sql_edits_of_an_issued_invoice_are_refused(invoice):
    for statement in (
        "UPDATE sales_invoice SET total = 1, subtotal = 1 WHERE id = %s",
        "UPDATE sales_invoice SET date = '2026-01-01' WHERE id = %s",
        "UPDATE sales_invoice SET customer_id = customer_id + 0, reference = 'x' WHERE id = %s",
        "UPDATE sales_invoice SET status = 'draft', number = NULL, sequence = NULL WHERE id = %s",
        "DELETE FROM sales_invoice WHERE id = %s",
        "UPDATE sales_invoiceline SET net = 1, total = 1 WHERE invoice_id = %s",
        "DELETE FROM sales_invoiceline WHERE invoice_id = %s",
    ):
        with refused("invoice_immutable"):
            sql(statement, [invoice.pk])
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.total, stored.date, stored.reference) == (Decimal("150.00"), day("2026-03-10"), "")
    assert sorted(InvoiceLine.objects.filter(invoice=invoice).values_list("net", flat=True)) == [50, 100]


def test_orm_writes_to_an_issued_invoice_are_refused(books, invoice):
    with refused("invoice_immutable"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(due_date=datetime.date(2027, 1, 1))
    invoice.notes = "edited"
    with refused("invoice_immutable"), transaction.atomic():
        invoice.save()
    line = invoice.lines.first()
    with refused("invoice_immutable"), transaction.atomic():
        InvoiceLine.objects.create(
            company=books.company,
            invoice=invoice,
            line_no=9,
            description="extra",
            quantity=1,
            unit_price=1,
            account=line.account,
            net=1,
            tax=0,
            total=1,
        )


def test_the_moves_services_make_pass_and_a_void_invoice_is_frozen(books, invoice):
    # status, amounts paid/credited, settlement and void columns move through the services
    payment = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-12"),
        amount="10.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "10.00"}],
    )
    services.allocation_remove(allocation=payment.allocations.get(), by=None, date=day("2026-03-13"))
    voided = services.invoice_void(invoice=invoice, by=None, date=day("2026-03-13"))
    assert voided.status == InvoiceStatus.VOID
    with refused("invoice_immutable"):
        sql("UPDATE sales_invoice SET status = 'issued' WHERE id = %s", [invoice.pk])
    with refused("invoice_immutable"):
        sql("UPDATE sales_invoice SET updated_at = now() WHERE id = %s", [invoice.pk])


def test_issuing_needs_totals_equal_to_the_lines(books):
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    with refused("invoice_inconsistent"):
        sql(
            "UPDATE sales_invoice SET status = 'issued', number = 'INV-X', sequence = 99, subtotal = 1, "
            "tax_total = 0, total = 1 WHERE id = %s",
            [draft.pk],
        )
    with refused("invoice_inconsistent"):
        sql("UPDATE sales_invoice SET status = 'paid' WHERE id = %s", [draft.pk])
    with refused("invoice_inconsistent"):
        sql(
            "INSERT INTO sales_invoice (company_id, customer_id, status, date, due_date, currency, reference, notes, "
            "subtotal, tax_total, total, amount_credited, amount_paid, created_at, updated_at) "
            "VALUES (%s, %s, 'issued', '2026-01-01', '2026-01-01', 'USD', '', '', 0, 0, 0, 0, 0, now(), now())",
            [books.company.pk, books.acme.pk],
        )
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.DRAFT


def test_credit_notes_never_change(books, invoice):
    credit = services.credit_note_create(invoice=invoice, by=None, date=day("2026-03-11"))
    for statement in (
        "UPDATE sales_creditnote SET total = 1 WHERE id = %s",
        "UPDATE sales_creditnote SET journal_entry_id = NULL WHERE id = %s",
        "DELETE FROM sales_creditnote WHERE id = %s",
        "UPDATE sales_creditnoteline SET quantity = 5 WHERE credit_note_id = %s",
        "DELETE FROM sales_creditnoteline WHERE credit_note_id = %s",
    ):
        with refused("credit_note_immutable"):
            sql(statement, [credit.pk])
    line = credit.lines.first()
    with refused("credit_note_immutable"), transaction.atomic():
        CreditNoteLine.objects.create(
            company=books.company,
            credit_note=credit,
            invoice_line=line.invoice_line,
            line_no=9,
            quantity=1,
            net=0,
            tax=0,
            total=0,
        )
    assert CreditNote.objects.get(pk=credit.pk).total == Decimal("150.00")


def test_payments_and_allocations_change_only_as_the_services_do(books, invoice):
    payment = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-12"),
        amount="60.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "60.00"}],
    )
    allocation = payment.allocations.get()
    for statement in (
        "UPDATE sales_payment SET amount = 1, amount_base = 1 WHERE id = %s",
        "UPDATE sales_payment SET date = '2026-01-01' WHERE id = %s",
        "DELETE FROM sales_payment WHERE id = %s",
    ):
        with refused("payment_immutable"):
            sql(statement, [payment.pk])
    for statement in (
        "UPDATE sales_allocation SET amount = 1 WHERE id = %s",
        "DELETE FROM sales_allocation WHERE id = %s",
    ):
        with refused("allocation_immutable"):
            sql(statement, [allocation.pk])
    services.allocation_remove(allocation=allocation, by=None, date=day("2026-03-13"))
    with refused("allocation_immutable"):
        sql("UPDATE sales_allocation SET unallocated_on = '2026-03-20' WHERE id = %s", [allocation.pk])
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("60.00")
    assert Allocation.objects.get(pk=allocation.pk).unallocated_on == day("2026-03-13")


def test_a_tax_rate_in_use_keeps_its_rate(books):
    services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    with refused("tax_rate_in_use"):
        sql("UPDATE sales_taxrate SET rate = 7 WHERE id = %s", [books.reduced.pk])
    with refused("tax_rate_in_use"):
        sql("DELETE FROM sales_taxrate WHERE id = %s", [books.reduced.pk])
    sql(
        "UPDATE sales_taxrate SET is_active = false, name = 'VAT five (old)' WHERE id = %s",
        [books.reduced.pk],
    )
    assert TaxRate.objects.get(pk=books.reduced.pk).rate == Decimal("5")
    # a rate nothing uses may still change
    sql("UPDATE sales_taxrate SET rate = 21 WHERE id = %s", [books.standard.pk])


def test_trigger_refusals_map_to_the_services_error_codes(invoice):
    with pytest.raises(DatabaseError) as caught:
        sql("UPDATE sales_invoice SET total = 1 WHERE id = %s", [invoice.pk])
    error = domain_error_from_db(caught.value)
    assert (error.code, error.status_code) == ("invoice_immutable", 409)


# --------------------------------------------------------------------------- SQLite


SQLITE_SCRIPT = textwrap.dedent(
    """
    import datetime, django
    django.setup()
    from django.core.management import call_command
    from django.db import DatabaseError, connection, transaction
    call_command("migrate", verbosity=0)
    from sales.tests.factories import day, issued, sales_books
    from sales import services
    books = sales_books()
    invoice = issued(books, books.acme, "2026-03-10", "100.00")
    payment = services.payment_record(company=books.company, customer=books.acme, date=day("2026-03-11"),
        amount="30.00", by=None, allocations=[{"invoice": invoice.pk, "amount": "30.00"}])
    credit = services.credit_note_create(invoice=invoice, by=None, date=day("2026-03-12"),
        lines=[{"invoice_line": invoice.lines.get().pk, "quantity": "0.5"}])
    allocation = payment.allocations.get()
    draft = services.invoice_create(company=books.company, customer=books.acme, date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "1"}], by=None)
    results = []
    for statement in [
        f"UPDATE sales_invoice SET total = 1, subtotal = 1 WHERE id = {invoice.pk}",
        f"DELETE FROM sales_invoice WHERE id = {invoice.pk}",
        f"UPDATE sales_invoiceline SET net = 1, total = 1 WHERE invoice_id = {invoice.pk}",
        f"UPDATE sales_invoice SET status = 'issued', number = 'X', sequence = 9, subtotal = 1, total = 1 WHERE id = {draft.pk}",
        f"UPDATE sales_creditnote SET total = 1 WHERE id = {credit.pk}",
        f"DELETE FROM sales_creditnoteline WHERE credit_note_id = {credit.pk}",
        f"UPDATE sales_payment SET amount = 1 WHERE id = {payment.pk}",
        f"DELETE FROM sales_payment WHERE id = {payment.pk}",
        f"DELETE FROM sales_allocation WHERE id = {allocation.pk}",
        f"UPDATE sales_taxrate SET rate = 7 WHERE id = {books.reduced.pk}",
        f"UPDATE sales_taxrate SET rate = 21 WHERE id = {books.standard.pk}",
    ]:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
            results.append("allowed")
        except DatabaseError as exc:
            results.append(str(exc).split(":")[0])
    services.allocation_remove(allocation=allocation, by=None, date=day("2026-03-13"))
    results.append("unallocated")
    # the raw update of the standard rate above was stamped by the database (sales 0003)
    from sales.models import TaxRate
    stamped = TaxRate.objects.get(pk=books.standard.pk).updated_at > books.standard.updated_at
    results.append("stamped" if stamped else "not stamped")
    print("RESULTS", ",".join(results))
    """
)


def test_sqlite_triggers_enforce_the_same_invariants(tmp_path: Path):
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'sales.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "ERROR",
    }
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("RESULTS"))
    assert line.split(" ", 1)[1].split(",") == [
        "invoice_immutable",
        "invoice_immutable",
        "invoice_immutable",
        "invoice_inconsistent",
        "credit_note_immutable",
        "credit_note_immutable",
        "payment_immutable",
        "payment_immutable",
        "allocation_immutable",
        "tax_rate_in_use",
        "allowed",
        "unallocated",
        "stamped",
    ]
