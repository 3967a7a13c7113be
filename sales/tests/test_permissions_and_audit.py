"""Who may do what in sales (the one role table), and the audit trail every sales write leaves."""

import pytest

from audit.models import AuditEvent
from sales import services
from sales.documents import invoice_document
from sales.tests.factories import day, issued, sales_books
from sofinance.permissions import PERMISSIONS, Action, Role

pytestmark = pytest.mark.django_db

SALES_ACTIONS = {
    Action.SALES_VIEW,
    Action.CUSTOMERS_MANAGE,
    Action.TAX_RATES_MANAGE,
    Action.INVOICES_DRAFT,
    Action.INVOICES_ISSUE,
    Action.INVOICES_VOID,
    Action.PAYMENTS_RECORD,
}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, {Action.SALES_VIEW}),
        (Role.AUDITOR, {Action.SALES_VIEW}),
        (Role.CLERK, {Action.SALES_VIEW, Action.CUSTOMERS_MANAGE, Action.INVOICES_DRAFT}),
        (Role.ACCOUNTANT, SALES_ACTIONS),
        (Role.CONTROLLER, SALES_ACTIONS),
        (Role.ADMIN, SALES_ACTIONS),
    ],
)
def test_the_sales_rows_of_the_role_table(role, allowed):
    assert PERMISSIONS[role] & SALES_ACTIONS == allowed


def events(company) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(company_id=company.pk, object_type__startswith="sales.")
        .order_by("id")
        .values_list("object_type", "action")
    )


def test_every_sales_write_records_its_event_in_its_transaction():
    books = sales_books()
    start = AuditEvent.objects.filter(company_id=books.company.pk).count()
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    services.credit_note_create(
        invoice=invoice,
        by=None,
        date=day("2026-03-02"),
        lines=[{"invoice_line": invoice.lines.get().pk, "quantity": "0.1"}],
    )
    payment = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-03"), amount="50.00", by=None
    )
    services.payment_allocate(
        payment=payment, allocations=[{"invoice": invoice.pk, "amount": "50.00"}], by=None
    )
    services.allocation_remove(allocation=payment.allocations.get(), by=None, date=day("2026-03-04"))
    services.payment_void(payment=payment, by=None, date=day("2026-03-04"))
    services.sales_settings_update(company=books.company, by=None, legal_name="Sales Co Ltd")
    assert events(books.company)[-8:] == [
        ("sales.invoice", "create"),
        ("sales.invoice", "issue"),
        ("sales.creditnote", "create"),
        ("sales.payment", "create"),
        ("sales.payment", "allocate"),
        ("sales.payment", "unallocate"),
        ("sales.payment", "void"),
        ("sales.salessettings", "create"),
    ]
    # the postings' own events are there too (the ledger's), one per posting
    ledger_posts = AuditEvent.objects.filter(
        company_id=books.company.pk, object_type="ledger.journalentry", action="post"
    )
    assert (
        ledger_posts.count() == 4
    )  # the invoice, the credit note, the payment and its void (no exchange difference)
    assert AuditEvent.objects.filter(company_id=books.company.pk).count() > start


def test_the_printable_invoice_groups_thousands_and_marks_drafts():
    books = sales_books(currency="JPY")
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[
            {"description": "Machine", "quantity": "3", "unit_price": "411523", "tax_rate": books.standard.pk}
        ],
        by=None,
    )
    doc = invoice_document(draft)
    # 3 x 411,523 = 1,234,569; tax 20 % = 246,913.8 -> 246,914
    assert (doc.subtotal, doc.tax_total, doc.total, doc.amount_due) == (
        "1,234,569",
        "246,914",
        "1,481,483",
        "1,481,483",
    )
    assert (doc.is_draft, doc.number, doc.lines[0].unit_price) == (True, "", "411,523")
    assert [(t.name, t.percent, t.taxable, t.tax) for t in doc.tax_summary] == [
        ("VAT 20%", "20.00%", "1,234,569", "246,914")
    ]
    issued_invoice = services.invoice_issue(invoice=draft, by=None)
    assert invoice_document(issued_invoice).number == "INV-2026-000001"


def test_a_changed_quantity_reads_as_written_in_the_audit_trail():
    # given a draft of 10 hours, changed to 12 (a quantity of 10 normalised is Decimal("1E+1"))
    books = sales_books()
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-01"),
        lines=[{"item": books.consulting.pk, "quantity": "10"}],
        by=None,
    )
    services.invoice_update(
        invoice=draft, by=None, lines=[{"item": books.consulting.pk, "quantity": "12", "discount": "100"}]
    )

    # then its event says 10 and 12, never "1E+1" (nor the 100% discount as "1E+2")
    event = AuditEvent.objects.filter(
        object_type="sales.invoice", object_id=str(draft.pk), action="update"
    ).get()
    before, after = event.changes["lines"]["before"][0], event.changes["lines"]["after"][0]
    assert (before["quantity"], after["quantity"], after["discount"]) == ("10", "12", "100")
