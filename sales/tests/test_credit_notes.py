"""Credit notes: whole or partial, the mirror entry, and never more than is left to credit."""

from decimal import Decimal

import pytest

from ledger.models import EntrySource, JournalEntry
from sales import services
from sales.models import CreditNote, DailySalesSummary, InvoiceStatus
from sales.tests.factories import day, entry_lines, eur_rate, issued, sales_books, written
from sofinance.errors import APIError

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return sales_books()


def invoice_with_tax(books, date="2026-03-10"):
    # 3 h x 150.00 less 10 % = 405.00 + VAT 81.00; 7 widgets 86.45 + VAT 4.32: 576.77
    return services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day(date),
        lines=[
            {"item": books.consulting.pk, "quantity": "3", "discount": "10"},
            {"item": books.widget.pk, "quantity": "7"},
        ],
        by=None,
        issue=True,
    )


def test_crediting_a_whole_invoice_posts_the_mirror_entry(books):
    invoice = invoice_with_tax(books)

    credit = services.credit_note_create(
        invoice=invoice, by=None, date=day("2026-03-20"), reason="Cancelled order"
    )

    assert credit.number == "CN-2026-000001"
    assert (credit.subtotal, credit.tax_total, credit.total) == (
        Decimal("491.45"),
        Decimal("85.32"),
        Decimal("576.77"),
    )
    entry = credit.journal_entry
    assert (entry.source, entry.reference, entry.date) == (
        EntrySource.SALES,
        "CN-2026-000001",
        day("2026-03-20"),
    )
    assert JournalEntry.objects.get(pk=entry.pk).credit_note == credit
    assert entry_lines(entry) == [
        ("4000", "86.45", "0.00", "USD", "86.45"),
        ("4100", "405.00", "0.00", "USD", "405.00"),
        ("2200", "81.00", "0.00", "USD", "81.00"),
        ("2200", "4.32", "0.00", "USD", "4.32"),
        ("1100", "0.00", "576.77", "USD", "-576.77"),
    ]
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.amount_due, invoice.status) == (
        Decimal("576.77"),
        0,
        InvoiceStatus.PAID,
    )
    summary = DailySalesSummary.objects.get(company=books.company, date=day("2026-03-20"))
    assert (summary.credit_note_count, summary.credited_net, summary.credited_tax) == (
        1,
        Decimal("491.45"),
        Decimal("85.32"),
    )


def test_partial_credits_by_line_and_quantity_never_add_up_to_more_than_the_line(books):
    # 3 x 10.00 less 33.33 % = 20.001 -> 20.00; one unit alone would be 6.667 -> 6.67
    invoice = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[
            {
                "description": "Gadget",
                "quantity": "3",
                "unit_price": "10.00",
                "discount": "33.33",
                "tax_rate": books.standard.pk,
            }
        ],
        by=None,
        issue=True,
    )
    line = invoice.lines.get()
    assert (line.net, line.tax) == (Decimal("20.00"), Decimal("4.00"))

    credits = [
        services.credit_note_create(
            invoice=invoice,
            by=None,
            date=day("2026-03-11"),
            lines=[{"invoice_line": line.pk, "quantity": "1"}],
        )
        for _ in range(3)
    ]

    assert [(c.subtotal, c.tax_total) for c in credits] == [
        (Decimal("6.67"), Decimal("1.33")),
        (Decimal("6.67"), Decimal("1.33")),
        (Decimal("6.66"), Decimal("1.34")),  # the last unit takes exactly what is left
    ]
    assert [c.number for c in credits] == ["CN-2026-000001", "CN-2026-000002", "CN-2026-000003"]
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.amount_due) == (Decimal("24.00"), 0)
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.credit_note_create(
            invoice=invoice, by=None, lines=[{"invoice_line": line.pk, "quantity": "1"}]
        )
    assert refused.value.code == "credit_exceeds_remaining"
    assert written(books.company) == before


def test_a_credit_note_above_what_is_left_is_refused_and_writes_nothing(books):
    invoice = invoice_with_tax(books)
    consulting = invoice.lines.get(line_no=1)
    services.credit_note_create(
        invoice=invoice,
        by=None,
        date=day("2026-03-11"),
        lines=[{"invoice_line": consulting.pk, "quantity": "2"}],
    )
    before = written(books.company)

    with pytest.raises(APIError) as refused:
        services.credit_note_create(
            invoice=invoice, by=None, lines=[{"invoice_line": consulting.pk, "quantity": "1.5"}]
        )

    assert refused.value.code == "credit_exceeds_remaining"
    assert refused.value.message == "Line 1: 1.5 asked, 1 left to credit."
    assert written(books.company) == before


def test_a_credit_note_never_exceeds_the_amount_due(books):
    invoice = invoice_with_tax(books)
    services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-15"),
        amount="500.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "500.00"}],
    )
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.credit_note_create(invoice=invoice, by=None, date=day("2026-03-20"))
    assert refused.value.code == "credit_exceeds_remaining"
    assert refused.value.details == {"total": "576.77", "amount_due": "76.77"}
    assert written(books.company) == before
    widgets = invoice.lines.get(line_no=2)
    credit = services.credit_note_create(
        invoice=invoice,
        by=None,
        date=day("2026-03-20"),
        lines=[{"invoice_line": widgets.pk, "quantity": "5"}],
    )
    invoice.refresh_from_db()
    # 5 x 12.35 = 61.75 + VAT 5 % 3.0875 -> 3.09
    assert (credit.total, invoice.amount_due, invoice.status) == (
        Decimal("64.84"),
        Decimal("11.93"),
        InvoiceStatus.PARTIALLY_PAID,
    )


def test_paid_void_and_draft_invoices_are_not_credited(books):
    paid = issued(books, books.acme, "2026-03-01", "50.00")
    services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-02"),
        amount="50.00",
        by=None,
        allocations=[{"invoice": paid.pk, "amount": "50.00"}],
    )
    void = services.invoice_void(invoice=issued(books, books.acme, "2026-03-01", "50.00"), by=None)
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-01"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    before = written(books.company)
    for invoice, code in (
        (paid, "credit_exceeds_remaining"),
        (void, "invoice_not_open"),
        (draft, "invoice_not_open"),
    ):
        with pytest.raises(APIError) as refused:
            services.credit_note_create(invoice=invoice, by=None, date=day("2026-03-05"))
        assert refused.value.code == code
    assert written(books.company) == before


def test_bad_credit_lines_are_refused(books):
    invoice = invoice_with_tax(books)
    other = invoice_with_tax(books)
    line = invoice.lines.get(line_no=1)
    before = written(books.company)
    second = invoice.lines.get(line_no=2)
    foreign = other.lines.get(line_no=1).pk
    # each refusal's message names the line it is about, as the invoice numbers its lines
    attempts = [
        ([{"invoice_line": foreign, "quantity": "1"}], "validation_error", "Credit line 1, invoice line: "),
        ([{"invoice_line": line.pk, "quantity": "-1"}], "validation_error", "Invoice line 1, quantity: "),
        (
            [{"invoice_line": line.pk, "quantity": "1"}, {"invoice_line": second.pk, "quantity": "abc"}],
            "validation_error",
            "Invoice line 2, quantity: ",
        ),
        (
            [{"invoice_line": line.pk, "quantity": "1"}, {"invoice_line": line.pk, "quantity": "1"}],
            "validation_error",
            "Invoice line 1, invoice line: Given twice.",
        ),
        ([], "validation_error", "A credit note needs at least one line."),
    ]
    for lines, code, message in attempts:
        with pytest.raises(APIError) as refused:
            services.credit_note_create(invoice=invoice, by=None, lines=lines)
        assert refused.value.code == code
        assert refused.value.message.startswith(message), refused.value.message
    with pytest.raises(APIError) as early:
        services.credit_note_create(invoice=invoice, by=None, date=day("2026-03-09"))
    assert early.value.code == "date_out_of_order"
    assert written(books.company) == before


def test_crediting_a_foreign_invoice_uses_its_rate_and_clears_its_receivable(books):
    eur_rate(books, "2026-03-01", "1.2345")
    invoice = services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-10"),
        lines=[
            {"description": "A", "quantity": "1", "unit_price": "10.01", "tax_rate": None, "account": "4000"},
            {"description": "B", "quantity": "1", "unit_price": "10.01", "tax_rate": None, "account": "4100"},
        ],
        by=None,
        issue=True,
    )
    eur_rate(books, "2026-03-15", "2.00")  # a later rate does not matter: credits use the invoice's

    credit = services.credit_note_create(invoice=invoice, by=None, date=day("2026-03-20"))

    assert credit.fx_rate == Decimal("1.2345") and credit.total_base == Decimal("24.71")
    assert entry_lines(credit.journal_entry) == [
        ("4000", "10.01", "0.00", "EUR", "12.36"),
        ("4100", "10.01", "0.00", "EUR", "12.36"),
        ("1100", "0.00", "20.02", "EUR", "-24.71"),
        ("4950", "0.00", "0.01", "USD", "-0.01"),
    ]
    assert CreditNote.objects.get(pk=credit.pk).invoice.status == InvoiceStatus.PAID


def test_a_fully_credited_invoice_credited_again_says_so_not_to_unallocate_a_payment(books):
    # given an invoice credited in full by a credit note, with no payment at all
    invoice = issued(books, books.acme, "2026-03-01", "50.00")
    services.credit_note_create(invoice=invoice, by=None, date=day("2026-03-02"))
    before = written(books.company)

    # when it is credited again
    with pytest.raises(APIError) as refused:
        services.credit_note_create(invoice=invoice, by=None, date=day("2026-03-05"))

    # then the refusal says why (there is no payment to unallocate)
    assert refused.value.code == "credit_exceeds_remaining"
    assert refused.value.message == f"{invoice.number} is fully credited: nothing is left to credit."
    assert written(books.company) == before
