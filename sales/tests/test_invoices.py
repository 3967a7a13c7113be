"""Invoices through the services: drafts, issue (numbering, exact posting), void, and refusals
that write nothing."""

import datetime
from decimal import Decimal

import pytest

from accounts.services import account_update
from audit.models import AuditEvent
from ledger.models import EntrySource, EntryStatus, JournalEntry
from sales import services
from sales.models import DailySalesSummary, Invoice, InvoiceStatus
from sales.tests.factories import closed_march, day, entry_lines, issued, sales_books, widget_draft, written
from sofinance.errors import APIError

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return sales_books()


def four_lines(books):
    return [
        {"item": books.consulting.pk, "quantity": "3", "discount": "10"},
        {"item": books.widget.pk, "quantity": "7"},
        {"description": "Paperback", "quantity": "1", "unit_price": "19.99", "tax_rate": None},
        {
            "item": books.consulting.pk,
            "description": "Support",
            "quantity": "2.5",
            "unit_price": "33.33",
            "discount": "12.5",
        },
    ]


def test_an_invoice_with_two_tax_rates_and_a_discount_posts_exactly_the_expected_lines(books):
    # when
    invoice = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=four_lines(books),
        by=None,
        issue=True,
    )

    # then every line is rounded half-up on its own, and the totals are the sums of the lines
    lines = list(invoice.lines.order_by("line_no"))
    assert [(str(ln.net), str(ln.tax), str(ln.total)) for ln in lines] == [
        ("405.0000", "81.0000", "486.0000"),  # 3 x 150.00 less 10 %, VAT 20 %
        ("86.4500", "4.3200", "90.7700"),  # 7 x 12.35, VAT 5 % = 4.3225
        ("19.9900", "0.0000", "19.9900"),  # no tax
        ("72.9100", "14.5800", "87.4900"),  # 2.5 x 33.33 = 83.325, less 12.5 % = 72.909375; tax 14.582
    ]
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("584.35"),
        Decimal("99.90"),
        Decimal("684.25"),
    )
    assert invoice.number == "INV-2026-000001"
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.due_date == datetime.date(2026, 4, 9)  # 30 days' terms
    # the posted entry: Dr receivables / Cr revenue per account / Cr tax per rate, to the cent
    entry = invoice.journal_entry
    assert (entry.status, entry.source, entry.date, entry.reference) == (
        EntryStatus.POSTED,
        EntrySource.SALES,
        datetime.date(2026, 3, 10),
        "INV-2026-000001",
    )
    assert entry.description == "Invoice INV-2026-000001 – Acme Ltd"
    assert entry_lines(entry) == [
        ("4000", "0.00", "106.44", "USD", "-106.44"),
        ("4100", "0.00", "477.91", "USD", "-477.91"),
        ("2200", "0.00", "95.58", "USD", "-95.58"),
        ("2200", "0.00", "4.32", "USD", "-4.32"),
        ("1100", "684.25", "0.00", "USD", "684.25"),
    ]
    assert [ln.description for ln in entry.lines.order_by("line_no")] == [
        "INV-2026-000001: Sales revenue",
        "INV-2026-000001: Service revenue",
        "INV-2026-000001: VAT 20%",
        "INV-2026-000001: VAT 5%",
        "Acme Ltd: INV-2026-000001",
    ]
    # linked both ways, and the functional amounts are the posted ones
    assert JournalEntry.objects.get(pk=entry.pk).invoice == invoice
    assert (invoice.subtotal_base, invoice.tax_total_base, invoice.total_base) == (
        Decimal("584.35"),
        Decimal("99.90"),
        Decimal("684.25"),
    )
    assert invoice.receivables_account.code == "1100"
    summary = DailySalesSummary.objects.get(company=books.company, date=day("2026-03-10"))
    assert (summary.invoice_count, summary.invoiced_net, summary.invoiced_tax) == (
        1,
        Decimal("584.35"),
        Decimal("99.90"),
    )
    assert list(
        AuditEvent.objects.filter(object_id=str(invoice.pk), object_type="sales.invoice")
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["create", "issue"]


def test_rounding_is_half_up_per_line():
    books = sales_books()
    invoice = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[
            # 0.5 x 0.25 = 0.125 -> 0.13 (half-up, not banker's 0.12); tax 20 % of 0.13 = 0.026 -> 0.03
            {"item": books.consulting.pk, "quantity": "0.5", "unit_price": "0.25"},
            # 1 x 0.10 less 75 % = 0.025 -> 0.03; tax 5 % = 0.0015 -> 0.00
            {"item": books.widget.pk, "quantity": "1", "unit_price": "0.10", "discount": "75"},
        ],
        by=None,
    )
    assert [(ln.net, ln.tax) for ln in invoice.lines.order_by("line_no")] == [
        (Decimal("0.13"), Decimal("0.03")),
        (Decimal("0.03"), Decimal("0.00")),
    ]
    assert invoice.total == Decimal("0.19")


def test_yen_invoices_round_to_whole_yen():
    books = sales_books(currency="JPY")
    invoice = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[
            {
                "description": "Tea",
                "quantity": "3",
                "unit_price": "333",
                "discount": "5",
                "tax_rate": books.standard.pk,
            }
        ],
        by=None,
        issue=True,
    )
    # 999 less 5 % = 949.05 -> 949; tax 189.8 -> 190
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (Decimal(949), Decimal(190), Decimal(1139))
    assert entry_lines(invoice.journal_entry)[-1][:3] == ("1100", "1139.00", "0.00")


def test_issuing_numbers_invoices_gaplessly_per_company_and_year(books):
    first = issued(books, books.acme, "2026-01-05", "10.00")
    other_books = sales_books(name="Other Co")
    elsewhere = issued(other_books, other_books.acme, "2026-01-06", "10.00")
    second = issued(books, books.globex, "2027-01-02", "10.00")
    assert (first.number, second.number, elsewhere.number) == (
        "INV-2026-000001",
        "INV-2027-000002",
        "INV-2026-000001",
    )
    assert (first.sequence, second.sequence) == (1, 2)


def test_draft_changes_recompute_totals_and_due_date(books):
    draft = services.invoice_create(
        company=books.company, customer=books.acme, date=day("2026-03-10"), lines=four_lines(books), by=None
    )
    assert draft.number is None and draft.journal_entry is None and draft.status == InvoiceStatus.DRAFT

    changed = services.invoice_update(
        invoice=draft,
        by=None,
        customer=books.globex.pk,
        lines=[{"item": books.widget.pk, "quantity": "2"}],
        reference="PO-77",
    )

    assert changed.due_date == day("2026-03-24")  # Globex: 14 days
    assert (changed.subtotal, changed.tax_total, changed.total) == (
        Decimal("24.70"),
        Decimal("1.24"),
        Decimal("25.94"),
    )
    assert changed.lines.count() == 1 and changed.reference == "PO-77"
    assert JournalEntry.objects.filter(company=books.company).count() == 0
    update = AuditEvent.objects.filter(object_type="sales.invoice", action="update").get()
    assert update.changes["customer"] == {"before": books.acme.pk, "after": books.globex.pk}
    assert update.changes["total"] == {"before": "684.25", "after": "25.94"}


def test_an_explicit_due_date_is_kept_and_must_not_precede_the_date(books):
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        due_date=day("2026-03-15"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    assert draft.due_date == day("2026-03-15")
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_update(invoice=draft, by=None, due_date=day("2026-03-01"))
    assert refused.value.code == "validation_error"
    assert written(books.company) == before


def test_a_draft_is_deleted_and_an_issued_invoice_is_not(books):
    draft = services.invoice_create(
        company=books.company, customer=books.acme, date=day("2026-03-10"), lines=four_lines(books), by=None
    )
    services.invoice_delete(invoice=draft, by=None)
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    invoice = issued(books, books.acme, "2026-03-10", "50.00")
    for call in (
        lambda: services.invoice_delete(invoice=invoice, by=None),
        lambda: services.invoice_update(invoice=invoice, by=None, reference="changed"),
        lambda: services.invoice_issue(invoice=invoice, by=None),
    ):
        before = written(books.company)
        with pytest.raises(APIError) as refused:
            call()
        assert (refused.value.code, refused.value.status_code) == ("invoice_immutable", 409)
        assert written(books.company) == before


@pytest.mark.parametrize(
    ("line", "code", "field"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "5.00"}, "validation_error", "quantity"),
        ({"description": "x", "quantity": "0", "unit_price": "5.00"}, "validation_error", "quantity"),
        ({"description": "x", "quantity": "1.00001", "unit_price": "5.00"}, "validation_error", "quantity"),
        ({"description": "x", "quantity": "1", "unit_price": "-5.00"}, "validation_error", "unit_price"),
        ({"description": "x", "quantity": "1", "unit_price": "5.001"}, "currency_precision", "unit_price"),
        ({"description": "x", "quantity": "1", "unit_price": "NaN"}, "validation_error", "unit_price"),
        ({"description": "x", "quantity": "1", "unit_price": 5.5}, "validation_error", "unit_price"),
        (
            {"description": "x", "quantity": "1", "unit_price": "5", "discount": "101"},
            "validation_error",
            "discount",
        ),
        ({"quantity": "1", "unit_price": "5"}, "validation_error", "description"),
        ({"description": "x", "quantity": "1"}, "validation_error", "unit_price"),
        (
            {"description": "x", "quantity": "1", "unit_price": "5", "tax_rate": 999999},
            "invalid_tax_rate",
            "tax_rate",
        ),
        ({"item": 999999, "quantity": "1"}, "invalid_item", "item"),
        (
            {"description": "x", "quantity": "1", "unit_price": "5", "account": "1010"},
            "invalid_account",
            "account",
        ),
        (
            {"description": "x", "quantity": "1", "unit_price": "5", "account": "40"},
            "invalid_account",
            "account",
        ),
        (
            {"description": "x", "quantity": "1", "unit_price": "5", "account": "9999"},
            "invalid_account",
            "account",
        ),
    ],
)
def test_bad_lines_are_refused_with_their_code_and_write_nothing(books, line, code, field):
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_create(
            company=books.company,
            customer=books.acme,
            date=day("2026-03-10"),
            lines=[line],
            by=None,
            issue=True,
        )
    assert refused.value.code == code
    assert field in refused.value.details["lines"]["0"]
    assert written(books.company) == before


def test_inactive_tax_rates_items_and_customers_are_refused(books):
    services.tax_rate_update(tax_rate=books.reduced, by=None, is_active=False)
    services.item_update(item=books.consulting, by=None, is_active=False)
    inactive_customer = services.customer_create(company=books.company, name="Gone", by=None, is_active=False)
    before = written(books.company)
    attempts = [
        (
            [{"description": "x", "quantity": "1", "unit_price": "5", "tax_rate": books.reduced.pk}],
            books.acme,
            "invalid_tax_rate",
        ),
        ([{"item": books.widget.pk, "quantity": "1"}], books.acme, "invalid_tax_rate"),  # its default rate
        ([{"item": books.consulting.pk, "quantity": "1"}], books.acme, "invalid_item"),
        ([{"description": "x", "quantity": "1", "unit_price": "5"}], inactive_customer, "invalid_customer"),
    ]
    for lines, customer, code in attempts:
        with pytest.raises(APIError) as refused:
            services.invoice_create(
                company=books.company, customer=customer, date=day("2026-03-10"), lines=lines, by=None
            )
        assert refused.value.code == code
    assert written(books.company) == before


def test_another_companys_customer_item_tax_rate_and_account_are_refused(books):
    other = sales_books(name="Other Co")
    before = written(books.company)
    attempts = [
        (other.acme, [{"description": "x", "quantity": "1", "unit_price": "5"}], "invalid_customer"),
        (other.acme.pk, [{"description": "x", "quantity": "1", "unit_price": "5"}], "invalid_customer"),
        (books.acme, [{"item": other.widget.pk, "quantity": "1"}], "invalid_item"),
        (
            books.acme,
            [{"description": "x", "quantity": "1", "unit_price": "5", "tax_rate": other.standard.pk}],
            "invalid_tax_rate",
        ),
        (
            books.acme,
            [{"description": "x", "quantity": "1", "unit_price": "5", "account": other.account("4000").pk}],
            "invalid_account",
        ),
    ]
    for customer, lines, code in attempts:
        with pytest.raises(APIError) as refused:
            services.invoice_create(
                company=books.company, customer=customer, date=day("2026-03-10"), lines=lines, by=None
            )
        assert refused.value.code == code
    assert written(books.company) == before


def test_a_deactivated_tax_rate_on_a_draft_blocks_issue_until_changed(books):
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    services.tax_rate_update(tax_rate=books.reduced, by=None, is_active=False)
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_issue(invoice=draft, by=None)
    assert refused.value.code == "invalid_tax_rate"
    assert written(books.company) == before
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.DRAFT


def test_a_zero_invoice_is_not_issued(books):
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"description": "Free sample", "quantity": "1", "unit_price": "0.00", "tax_rate": None}],
        by=None,
    )
    with pytest.raises(APIError) as refused:
        services.invoice_issue(invoice=draft, by=None)
    assert refused.value.code == "validation_error"


def test_issuing_into_a_closed_period_is_refused_and_gives_the_number_back(books):
    closed_march(books)
    draft = widget_draft(books)
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_issue(invoice=draft, by=None)
    assert refused.value.code == "period_closed"
    assert written(books.company) == before
    # the number was given back: the next invoice issued is number 1
    later = issued(books, books.acme, "2026-04-01", "10.00")
    assert later.number == "INV-2026-000001"


def test_an_inactive_revenue_account_refuses_the_posting(books):
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    account_update(account=books.account("4000"), by=None, is_active=False)
    with pytest.raises(APIError) as refused:
        services.invoice_issue(invoice=draft, by=None)
    assert refused.value.code == "invalid_account"


def test_void_posts_the_reversal_dated_like_the_invoice(books):
    invoice = issued(books, books.acme, "2026-03-10", "100.00", "20.00")

    voided = services.invoice_void(invoice=invoice, by=None)

    assert voided.status == InvoiceStatus.VOID and voided.voided_on == day("2026-03-10")
    reversal = voided.void_entry
    assert reversal.reversal_of_id == invoice.journal_entry_id
    assert JournalEntry.objects.get(pk=invoice.journal_entry_id).reversed_by_id == reversal.pk
    assert reversal.date == day("2026-03-10") and reversal.reference == invoice.number
    assert entry_lines(reversal) == [
        ("4000", "120.00", "0.00", "USD", "120.00"),
        ("1100", "0.00", "120.00", "USD", "-120.00"),
    ]
    assert voided.amount_due == 0 and voided.settled_on == day("2026-03-10")
    summary = DailySalesSummary.objects.get(company=books.company, date=day("2026-03-10"))
    assert (summary.invoice_count, summary.void_count, summary.net_sales) == (1, 1, Decimal(0))
    with pytest.raises(APIError) as again:
        services.invoice_void(invoice=voided, by=None)
    assert (again.value.code, again.value.details["reason"]) == ("conflict", "already_void")


def test_void_on_a_later_date_and_not_before_the_invoice(books):
    invoice = issued(books, books.acme, "2026-03-10", "100.00")
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_void(invoice=invoice, by=None, date=day("2026-03-09"))
    assert refused.value.code == "date_out_of_order"
    assert written(books.company) == before
    voided = services.invoice_void(invoice=invoice, by=None, date=day("2026-04-02"))
    assert voided.void_entry.date == day("2026-04-02")
    assert DailySalesSummary.objects.get(company=books.company, date=day("2026-04-02")).voided_net == Decimal(
        "100.00"
    )


def test_an_invoice_with_payments_allocated_is_not_voided_until_they_are_unallocated(books):
    invoice = issued(books, books.acme, "2026-03-10", "100.00")
    payment = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-20"),
        amount="40.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "40.00"}],
    )
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_void(invoice=invoice, by=None, date=day("2026-03-25"))
    assert refused.value.code == "invoice_has_allocations"
    assert written(books.company) == before

    services.allocation_remove(allocation=payment.allocations.get(), by=None, date=day("2026-03-21"))
    # not before what happened to it
    with pytest.raises(APIError) as early:
        services.invoice_void(invoice=invoice, by=None)
    assert early.value.code == "date_out_of_order"
    voided = services.invoice_void(invoice=invoice, by=None, date=day("2026-03-25"))
    assert voided.status == InvoiceStatus.VOID
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == 0


def test_a_draft_is_not_voided(books):
    draft = services.invoice_create(
        company=books.company, customer=books.acme, date=day("2026-03-10"), lines=four_lines(books), by=None
    )
    with pytest.raises(APIError) as refused:
        services.invoice_void(invoice=draft, by=None)
    assert refused.value.code == "invoice_not_open"


def test_issuing_at_a_rate_that_turns_a_line_into_nothing_is_refused_on_the_rate(books):
    # 10.00 EUR at 0.0000000001 is 0.00 USD: a typo, said of the invoice's rate, nothing written
    draft = services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-10"),
        fx_rate="0.0000000001",
        lines=[{"description": "Service", "quantity": "1", "unit_price": "10.00", "account": "4000"}],
        by=None,
    )
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_issue(invoice=draft, by=None)
    assert refused.value.code == "validation_error"
    assert refused.value.message == "At the rate 0.0000000001, 10.00 EUR is 0.00 USD: check the rate."
    assert list(refused.value.details) == ["fx_rate"]
    assert written(books.company) == before


def test_issuing_at_a_rate_that_turns_the_invoice_into_an_absurd_amount_is_refused_on_the_rate(books):
    # 40.00 EUR at 99999999999999 would be 3,999,999,999,999,960.00 USD of receivables
    draft = services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-10"),
        fx_rate="99999999999999",
        lines=[{"description": "Service", "quantity": "1", "unit_price": "40.00", "account": "4000"}],
        by=None,
    )
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_issue(invoice=draft, by=None)
    assert refused.value.code == "validation_error"
    assert refused.value.message == (
        "At the rate 99999999999999, 40.00 EUR is 3999999999999960.00 USD, more than the books hold "
        "(amounts stay under 1,000,000,000,000,000): check the rate."
    )
    assert list(refused.value.details) == ["fx_rate"]
    assert written(books.company) == before


@pytest.mark.parametrize(
    ("lines", "message", "where"),
    [
        # each part storable, their product not: said of the line and its quantity
        (
            [
                {
                    "description": "d",
                    "quantity": "999999999999",
                    "unit_price": "999999999999.99",
                    "account": "4000",
                }
            ],
            "Line 1: Quantity × unit price comes to ",
            ("lines", "0", "quantity"),
        ),
        # each line fine, the document not
        (
            [{"description": "d", "quantity": "1", "unit_price": "600000000000000.00", "account": "4000"}]
            * 2,
            "The invoice comes to 1200000000000000.00 USD, more than a document may carry",
            ("total",),
        ),
    ],
)
def test_an_invoice_too_large_for_the_books_is_refused_naming_what_is_too_large(books, lines, message, where):
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.invoice_create(
            company=books.company, customer=books.acme, date=day("2026-03-10"), lines=lines, by=None
        )
    assert refused.value.code == "validation_error"
    assert refused.value.message.startswith(message), refused.value.message
    found = refused.value.details
    for key in where:
        found = found[key]
    assert len(found) == 1
    assert written(books.company) == before
