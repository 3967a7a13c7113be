"""Payments and allocations: partial payments, customer credit, over-allocation, foreign-currency
settlement with its realised exchange difference, unallocation and void."""

from decimal import Decimal

import pytest

from accounts.services import account_create
from audit.models import AuditEvent
from ledger.balance_queries import account_totals
from ledger.models import EntrySource, JournalEntry
from sales import services
from sales.models import Allocation, InvoiceStatus, Payment, PaymentStatus
from sales.tests.factories import (
    day,
    entry_lines,
    eur_rate,
    euro_invoice,
    euro_payment,
    issued,
    sales_books,
    written,
)
from sofinance.errors import APIError

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return sales_books()


def receivables_balance(books, on: str = "2099-12-31") -> Decimal:
    totals = account_totals(company_id=books.company.pk, end=day(on))
    found = totals.get(books.account("1100").pk)
    return found.balance if found else Decimal(0)


def refresh(obj):
    obj.refresh_from_db()
    return obj


def test_partial_payments_across_two_invoices(books):
    # given two open invoices
    first = issued(books, books.acme, "2026-03-01", "100.00")
    second = issued(books, books.acme, "2026-03-05", "250.00")

    # when one payment pays the first and part of the second, and a later one the rest
    one = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-20"),
        amount="150.00",
        by=None,
        reference="BANK-1",
        allocations=[{"invoice": first.pk, "amount": "100.00"}, {"invoice": second.pk, "amount": "50.00"}],
    )

    # then
    assert one.number == "PAY-2026-000001" and one.unallocated == 0
    assert entry_lines(one.journal_entry) == [
        ("1010", "150.00", "0.00", "USD", "150.00"),
        ("1100", "0.00", "150.00", "USD", "-150.00"),
    ]
    assert (one.journal_entry.source, one.journal_entry.reference) == (EntrySource.PAYMENT, "PAY-2026-000001")
    assert JournalEntry.objects.get(pk=one.journal_entry_id).payment == one
    assert (refresh(first).status, first.amount_paid, first.amount_due) == (
        InvoiceStatus.PAID,
        Decimal("100.00"),
        0,
    )
    assert (refresh(second).status, second.amount_paid, second.amount_due) == (
        InvoiceStatus.PARTIALLY_PAID,
        Decimal("50.00"),
        Decimal("200.00"),
    )
    assert first.settled_on == day("2026-03-20") and second.settled_on is None
    assert sorted(a.date for a in one.allocations.all()) == [day("2026-03-20")] * 2
    assert receivables_balance(books) == Decimal("200.00")

    two = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-04-02"),
        amount="200.00",
        by=None,
        allocations=[{"invoice": second.pk, "amount": "200.00"}],
    )
    assert two.number == "PAY-2026-000002"
    assert (refresh(second).status, second.amount_paid, second.settled_on) == (
        InvoiceStatus.PAID,
        Decimal("250.00"),
        day("2026-04-02"),
    )
    assert receivables_balance(books) == 0


def test_customer_credit_is_allocated_later(books):
    # given a payment with nothing to allocate to yet
    payment = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-01"), amount="300.00", by=None
    )
    assert (payment.unallocated, payment.amount_allocated, payment.exhausted_on) == (
        Decimal("300.00"),
        0,
        None,
    )
    assert receivables_balance(books) == Decimal("-300.00")

    # when an invoice comes and the credit is allocated to it
    invoice = issued(books, books.acme, "2026-03-15", "120.00")
    entries_before = JournalEntry.objects.filter(company=books.company).count()
    created = services.payment_allocate(
        payment=payment, allocations=[{"invoice": invoice.pk, "amount": "120.00"}], by=None
    )

    # then the allocation is dated when both existed, and nothing more is posted (one currency)
    assert [(a.date, a.amount) for a in created] == [(day("2026-03-15"), Decimal("120.00"))]
    assert JournalEntry.objects.filter(company=books.company).count() == entries_before
    assert refresh(payment).unallocated == Decimal("180.00")
    assert refresh(invoice).status == InvoiceStatus.PAID
    assert receivables_balance(books) == Decimal("-180.00")
    event = AuditEvent.objects.get(action="allocate")
    assert event.changes["amount_allocated"] == {"before": "0.00", "after": "120.00"}

    # and the rest can go to another invoice, on a date given
    other = issued(books, books.acme, "2026-03-20", "500.00")
    services.payment_allocate(
        payment=payment,
        allocations=[{"invoice": other.pk, "amount": "180.00"}],
        by=None,
        date=day("2026-03-25"),
    )
    assert (refresh(payment).unallocated, payment.exhausted_on) == (0, day("2026-03-25"))
    assert refresh(other).amount_due == Decimal("320.00")


def test_over_allocation_is_refused_and_writes_nothing(books):
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    other = issued(books, books.acme, "2026-03-01", "500.00")
    payment = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-10"), amount="80.00", by=None
    )
    before = written(books.company)
    attempts = [
        # more than the invoice has due, at recording
        lambda: services.payment_record(
            company=books.company,
            customer=books.acme,
            date=day("2026-03-10"),
            amount="150.00",
            by=None,
            allocations=[{"invoice": invoice.pk, "amount": "100.01"}],
        ),
        # more than the payment
        lambda: services.payment_record(
            company=books.company,
            customer=books.acme,
            date=day("2026-03-10"),
            amount="50.00",
            by=None,
            allocations=[{"invoice": other.pk, "amount": "50.01"}],
        ),
        # more than the payment has left, in total
        lambda: services.payment_allocate(
            payment=payment,
            allocations=[
                {"invoice": invoice.pk, "amount": "50.00"},
                {"invoice": other.pk, "amount": "30.01"},
            ],
            by=None,
        ),
    ]
    for attempt in attempts:
        with pytest.raises(APIError) as refused:
            attempt()
        assert refused.value.code == "over_allocation"
        assert written(books.company) == before
    assert refresh(invoice).amount_paid == 0 and refresh(payment).amount_allocated == 0


def test_an_allocation_never_over_allocates_an_earlier_date(books):
    # given an invoice paid by P1 from 10 March until that was unallocated on 20 March
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    p1 = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        amount="100.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
    )
    services.allocation_remove(allocation=p1.allocations.get(), by=None, date=day("2026-03-20"))
    p2 = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-05"), amount="100.00", by=None
    )
    before = written(books.company)

    # when P2 is allocated from 12 March, the invoice would have been paid twice until the 20th
    with pytest.raises(APIError) as refused:
        services.payment_allocate(
            payment=p2,
            allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
            by=None,
            date=day("2026-03-12"),
        )

    # then
    assert refused.value.code == "over_allocation"
    assert refused.value.details["short_on"] == "2026-03-12"
    assert written(books.company) == before
    # from the 20th it fits
    services.payment_allocate(
        payment=p2, allocations=[{"invoice": invoice.pk, "amount": "100.00"}], by=None, date=day("2026-03-20")
    )
    assert refresh(invoice).status == InvoiceStatus.PAID


@pytest.mark.parametrize("state", ["void", "draft", "paid"])
def test_paying_an_invoice_that_is_not_open_is_refused(books, state):
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    if state == "void":
        services.invoice_void(invoice=invoice, by=None)
    elif state == "draft":
        invoice = services.invoice_create(
            company=books.company,
            customer=books.acme,
            date=day("2026-03-01"),
            lines=[{"item": books.widget.pk, "quantity": "1"}],
            by=None,
        )
    else:
        services.payment_record(
            company=books.company,
            customer=books.acme,
            date=day("2026-03-02"),
            amount="100.00",
            by=None,
            allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
        )
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.payment_record(
            company=books.company,
            customer=books.acme,
            date=day("2026-03-10"),
            amount="10.00",
            by=None,
            allocations=[{"invoice": invoice.pk, "amount": "10.00"}],
        )
    assert refused.value.code == "invoice_not_open"
    assert refused.value.details["status"] == state
    assert written(books.company) == before


def test_allocations_must_match_customer_company_and_currency(books):
    eur_rate(books, "2026-03-01", "1.10")
    theirs = issued(books, books.globex, "2026-03-01", "100.00")
    in_euros = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-01"),
        currency="EUR",
        lines=[{"description": "x", "quantity": "1", "unit_price": "10.00", "tax_rate": None}],
        by=None,
        issue=True,
    )
    other_books = sales_books(name="Other Co")
    elsewhere = issued(other_books, other_books.acme, "2026-03-01", "100.00")
    before = written(books.company)
    for invoice, code in (
        (theirs, "invalid_invoice"),
        (in_euros, "currency_mismatch"),
        (elsewhere, "invalid_invoice"),
    ):
        with pytest.raises(APIError) as refused:
            services.payment_record(
                company=books.company,
                customer=books.acme,
                date=day("2026-03-10"),
                amount="10.00",
                by=None,
                allocations=[{"invoice": invoice.pk, "amount": "10.00"}],
            )
        assert refused.value.code == code
    assert written(books.company) == before


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": "-5.00"}, "validation_error"),
        ({"amount": "0"}, "validation_error"),
        ({"amount": "10.001"}, "currency_precision"),
        ({"amount": "1e20"}, "validation_error"),
        ({"currency": "XYZ"}, "validation_error"),
        ({"method": "barter"}, "validation_error"),
        ({"account": "4000"}, "invalid_account"),
        ({"account": "1100"}, "invalid_account"),  # receivables: Dr 1100 / Cr 1100 is no payment
        ({"currency": "EUR"}, "missing_exchange_rate"),
        ({"currency": "EUR", "fx_rate": "0.0000000001"}, "validation_error"),  # 10 EUR would be 0.00
        ({"customer": "other-company"}, "invalid_customer"),
    ],
)
def test_bad_payments_are_refused_with_codes(books, changes, code):
    other = sales_books(name="Other Co")
    arguments = {
        "company": books.company,
        "customer": books.acme,
        "date": day("2026-03-10"),
        "amount": "10.00",
        "by": None,
    }
    arguments.update(changes)
    if arguments["customer"] == "other-company":
        arguments["customer"] = other.acme
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.payment_record(**arguments)
    assert refused.value.code == code
    assert written(books.company) == before


def test_an_invoice_dated_after_the_payment_is_allocated_later(books):
    invoice = issued(books, books.acme, "2026-03-15", "100.00")
    with pytest.raises(APIError) as refused:
        services.payment_record(
            company=books.company,
            customer=books.acme,
            date=day("2026-03-10"),
            amount="100.00",
            by=None,
            allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
        )
    assert refused.value.code == "date_out_of_order"


def test_a_customers_own_receivables_account_is_no_deposit_account(books):
    own = account_create(
        company=books.company, code="1150", name="Receivables, Globex", type="asset", by=None
    )
    books.globex.receivables_account = own
    books.globex.save(update_fields=["receivables_account"])
    payment = {"company": books.company, "customer": books.acme, "date": day("2026-03-10"), "amount": "10.00"}
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.payment_record(**payment, by=None, account="1150")
    assert refused.value.code == "invalid_account"
    assert "holds receivables" in refused.value.message
    assert written(books.company) == before
    # a bank account is still a deposit account
    paid = services.payment_record(**payment, by=None, account="1010")
    assert entry_lines(paid.journal_entry)[0][0] == "1010"


def test_a_foreign_payment_lands_in_the_deposit_accounts_own_currency(books):
    # given a EUR invoice, the company's USD bank account (no currency of its own) and a EUR account
    eur_rate(books, "2026-04-01", "1.10")
    euro_bank = account_create(
        company=books.company, code="1030", name="Bank - EUR", type="asset", currency="EUR", by=None
    )

    # when the customer pays 100.00 EUR at 1.15 into each
    into_usd, into_eur = (
        euro_payment(books, "2026-04-05", "100.00", fx_rate="1.15", account=account)
        for account in ("1010", euro_bank.pk)
    )

    # then the USD bank receives 115.00 USD (what its statement shows), the EUR account 100.00 EUR;
    # receivables are credited 100.00 EUR either way
    assert entry_lines(into_usd.journal_entry) == [
        ("1010", "115.00", "0.00", "USD", "115.00"),
        ("1100", "0.00", "100.00", "EUR", "-115.00"),
    ]
    assert entry_lines(into_eur.journal_entry) == [
        ("1030", "100.00", "0.00", "EUR", "115.00"),
        ("1100", "0.00", "100.00", "EUR", "-115.00"),
    ]
    # and voiding the first takes back exactly what it posted
    services.payment_void(payment=into_usd, by=None)
    into_usd.refresh_from_db()
    assert entry_lines(into_usd.void_entry) == [
        ("1010", "0.00", "115.00", "USD", "-115.00"),
        ("1100", "100.00", "0.00", "EUR", "115.00"),
    ]
    # so does the void of one whose entry also carried an exchange difference (then unallocated)
    invoice = euro_invoice(books, "2026-04-02", "100.00", rate=None)  # at the stored 1.10
    with_difference = euro_payment(
        books,
        "2026-04-06",
        "100.00",
        fx_rate="1.20",
        allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
    )
    services.allocation_remove(allocation=with_difference.allocations.get(), by=None, date=day("2026-04-07"))
    services.payment_void(payment=with_difference, by=None, date=day("2026-04-08"))
    with_difference.refresh_from_db()
    assert entry_lines(with_difference.void_entry) == [
        ("1100", "100.00", "0.00", "EUR", "120.00"),
        ("1010", "0.00", "120.00", "USD", "-120.00"),
    ]


def test_a_foreign_currency_invoice_paid_at_another_rate_posts_the_exchange_difference(books):
    # given an EUR invoice issued at 1.10 (stored rate): 1,000.00 + 20 % VAT = 1,200.00 EUR
    eur_rate(books, "2026-03-01", "1.10")
    invoice = services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-10"),
        lines=[
            {
                "description": "Machine",
                "quantity": "1",
                "unit_price": "1000.00",
                "tax_rate": books.standard.pk,
            }
        ],
        by=None,
        issue=True,
    )
    assert (invoice.currency, invoice.fx_rate, invoice.total_base) == (
        "EUR",
        Decimal("1.1"),
        Decimal("1320.00"),
    )
    assert entry_lines(invoice.journal_entry) == [
        ("4000", "0.00", "1000.00", "EUR", "-1100.00"),
        ("2200", "0.00", "200.00", "EUR", "-220.00"),
        ("1100", "1200.00", "0.00", "EUR", "1320.00"),
    ]

    # when the customer pays 600.00 EUR at 1.05, then 600.00 EUR at 1.20
    first = services.payment_record(
        company=books.company,
        customer=books.euro,
        date=day("2026-04-05"),
        amount="600.00",
        fx_rate="1.05",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "600.00"}],
    )
    second = services.payment_record(
        company=books.company,
        customer=books.euro,
        date=day("2026-05-05"),
        amount="600.00",
        fx_rate="1.20",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "600.00"}],
    )

    # then the first settles 660.00 of receivables with 630.00 of cash: a 30.00 loss (the USD
    # bank account receives the 600.00 EUR converted, as its statement shows them)...
    assert entry_lines(first.journal_entry) == [
        ("1010", "630.00", "0.00", "USD", "630.00"),
        ("1100", "0.00", "600.00", "EUR", "-630.00"),
        ("4950", "30.00", "0.00", "USD", "30.00"),
        ("1100", "0.00", "30.00", "USD", "-30.00"),
    ]
    # ...and the second the remaining 660.00 with 720.00: a 60.00 gain
    assert entry_lines(second.journal_entry) == [
        ("1010", "720.00", "0.00", "USD", "720.00"),
        ("1100", "0.00", "600.00", "EUR", "-720.00"),
        ("1100", "60.00", "0.00", "USD", "60.00"),
        ("4950", "0.00", "60.00", "USD", "-60.00"),
    ]
    allocation = second.allocations.get()
    assert (allocation.invoice_base, allocation.payment_base, allocation.fx_entry_id) == (
        Decimal("660.00"),
        Decimal("720.00"),
        second.journal_entry_id,
    )
    assert refresh(invoice).status == InvoiceStatus.PAID
    assert receivables_balance(books) == 0
    fx = account_totals(company_id=books.company.pk, end=day("2026-12-31"))[books.account("4950").pk]
    assert fx.balance == Decimal("-30.00")  # net realised gain of 30.00 (credit)


def test_foreign_currency_rounding_goes_to_exchange_differences(books):
    # 10.01 EUR to each of two revenue accounts at 1.2345: 12.36 + 12.36 = 24.72 of revenue,
    # while the 20.02 EUR receivable is 24.71: the cent is a rounding difference.
    invoice = services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-10"),
        fx_rate="1.2345",
        lines=[
            {"description": "A", "quantity": "1", "unit_price": "10.01", "tax_rate": None, "account": "4000"},
            {"description": "B", "quantity": "1", "unit_price": "10.01", "tax_rate": None, "account": "4100"},
        ],
        by=None,
        issue=True,
    )
    assert entry_lines(invoice.journal_entry) == [
        ("4000", "0.00", "10.01", "EUR", "-12.36"),
        ("4100", "0.00", "10.01", "EUR", "-12.36"),
        ("1100", "20.02", "0.00", "EUR", "24.71"),
        ("4950", "0.01", "0.00", "USD", "0.01"),
    ]
    assert (invoice.subtotal_base, invoice.total_base) == (Decimal("24.72"), Decimal("24.71"))


def test_unallocating_restores_due_and_credit_and_posts_the_exchange_difference_back(books):
    eur_rate(books, "2026-03-01", "1.10")
    invoice = services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-10"),
        lines=[{"description": "Machine", "quantity": "1", "unit_price": "500.00", "tax_rate": None}],
        by=None,
        issue=True,
    )
    payment = services.payment_record(
        company=books.company,
        customer=books.euro,
        date=day("2026-04-05"),
        amount="500.00",
        fx_rate="1.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "200.00"}],
    )
    allocation = payment.allocations.get()
    assert allocation.invoice_base - allocation.payment_base == Decimal("20.00")

    removed = services.allocation_remove(allocation=allocation, by=None, date=day("2026-04-20"))

    assert removed.unallocated_on == day("2026-04-20")
    assert entry_lines(removed.unallocation_entry) == [
        ("1100", "20.00", "0.00", "USD", "20.00"),
        ("4950", "0.00", "20.00", "USD", "-20.00"),
    ]
    assert removed.unallocation_entry.date == day("2026-04-20")
    assert (refresh(invoice).status, invoice.amount_paid) == (InvoiceStatus.ISSUED, 0)
    assert refresh(payment).unallocated == Decimal("500.00")
    assert Allocation.objects.filter(payment=payment).count() == 1  # kept, for reports as of earlier dates
    with pytest.raises(APIError) as again:
        services.allocation_remove(allocation=removed, by=None)
    assert again.value.details["reason"] == "already_unallocated"


def test_voiding_a_payment_reverses_its_entry_once_unallocated(books):
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    payment = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        amount="100.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
    )
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.payment_void(payment=payment, by=None)
    assert refused.value.code == "payment_has_allocations"
    assert written(books.company) == before

    services.allocation_remove(allocation=payment.allocations.get(), by=None, date=day("2026-03-12"))
    with pytest.raises(APIError) as early:
        services.payment_void(payment=payment, by=None)
    assert early.value.code == "date_out_of_order"
    voided = services.payment_void(payment=payment, by=None, date=day("2026-03-12"))

    assert (voided.status, voided.voided_on, voided.unallocated) == (PaymentStatus.VOID, day("2026-03-12"), 0)
    assert voided.void_entry.reversal_of_id == payment.journal_entry_id
    assert entry_lines(voided.void_entry) == [
        ("1010", "0.00", "100.00", "USD", "-100.00"),
        ("1100", "100.00", "0.00", "USD", "100.00"),
    ]
    assert receivables_balance(books) == Decimal("100.00")
    assert refresh(invoice).status == InvoiceStatus.ISSUED
    with pytest.raises(APIError) as again:
        services.payment_void(payment=voided, by=None)
    assert again.value.details["reason"] == "already_void"
    with pytest.raises(APIError) as closed:
        services.payment_allocate(
            payment=voided, allocations=[{"invoice": invoice.pk, "amount": "1.00"}], by=None
        )
    assert closed.value.details["reason"] == "already_void"


def test_voiding_a_payment_whose_entry_carried_exchange_differences_posts_back_the_receipt_only(books):
    eur_rate(books, "2026-03-01", "1.10")
    invoice = services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-10"),
        lines=[{"description": "Machine", "quantity": "1", "unit_price": "100.00", "tax_rate": None}],
        by=None,
        issue=True,
    )
    payment = services.payment_record(
        company=books.company,
        customer=books.euro,
        date=day("2026-04-05"),
        amount="100.00",
        fx_rate="1.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
    )
    services.allocation_remove(allocation=payment.allocations.get(), by=None, date=day("2026-04-06"))

    voided = services.payment_void(payment=payment, by=None, date=day("2026-04-06"))

    assert voided.void_entry.reversal_of_id is None
    assert entry_lines(voided.void_entry) == [
        ("1100", "100.00", "0.00", "EUR", "100.00"),
        ("1010", "0.00", "100.00", "USD", "-100.00"),  # as the receipt landed in the USD bank
    ]
    # everything nets out: the invoice is open again at its own rate, the exchange account at zero
    assert receivables_balance(books) == Decimal("110.00")
    totals = account_totals(company_id=books.company.pk, end=day("2026-12-31"))
    assert totals[books.account("4950").pk].balance == 0
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.VOID


def test_a_payment_at_a_rate_that_turns_it_into_an_absurd_amount_is_refused_on_the_rate(books):
    # 40.00 EUR at 99999999999999 would put 3,999,999,999,999,960.00 USD in the bank
    before = written(books.company)
    with pytest.raises(APIError) as refused:
        services.payment_record(
            company=books.company,
            customer=books.euro,
            date=day("2026-03-13"),
            amount="40.00",
            currency="EUR",
            fx_rate="99999999999999",
            by=None,
        )
    assert refused.value.code == "validation_error"
    assert "3999999999999960.00 USD, more than the books hold" in refused.value.message
    assert list(refused.value.details) == ["fx_rate"]
    assert written(books.company) == before


def test_oldest_first_plan_pays_the_oldest_due_whole_and_the_next_in_part(books):
    later = issued(books, books.acme, "2026-03-10", "100.00")
    older = issued(books, books.acme, "2026-03-01", "250.00")
    plan = services.allocations_oldest_first
    # oldest due first, whatever the order given; the last reached in part
    assert plan(amount=Decimal("260.00"), invoices=[later, older]) == {
        older.pk: Decimal("250.00"),
        later.pk: Decimal("10.00"),
    }
    # more than is due: each whole, the rest left as credit
    assert plan(amount=Decimal("1000.00"), invoices=[later, older]) == {
        older.pk: Decimal("250.00"),
        later.pk: Decimal("100.00"),
    }
    # nothing to spread: nothing planned
    assert plan(amount=Decimal("0.00"), invoices=[later, older]) == {}
    assert plan(amount=Decimal("-5.00"), invoices=[later, older]) == {}
    # an invoice already partly paid is planned at what it has due
    services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-11"),
        amount="200.00",
        allocations=[{"invoice": older.pk, "amount": "200.00"}],
        by=None,
    )
    assert plan(amount=Decimal("60.00"), invoices=[refresh(later), refresh(older)]) == {
        older.pk: Decimal("50.00"),
        later.pk: Decimal("10.00"),
    }


def test_allocating_or_unallocating_in_a_closed_period_is_refused_even_without_an_exchange_difference():
    # given a USD invoice and two payments of March, one allocated to it, the other not; March closed
    from sales.tests.factories import closed_march

    books = sales_books()
    invoice = issued(books, books.acme, "2026-03-05", "100.00")
    other = issued(books, books.acme, "2026-03-05", "40.00")
    paid = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-06"),
        amount="100.00",
        allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
        by=None,
    )
    credit = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-06"), amount="40.00", by=None
    )
    closed_march(books)
    before = written(books.company)

    # when the allocation is removed as of a March day, or the credit allocated in March (its
    # default date is the latest of the documents' dates: March too)
    refusals = (
        lambda: services.allocation_remove(
            allocation=paid.allocations.get(), by=None, date=day("2026-03-20")
        ),
        lambda: services.payment_allocate(
            payment=credit,
            allocations=[{"invoice": other.pk, "amount": "40.00"}],
            by=None,
            date=day("2026-03-10"),
        ),
        lambda: services.payment_allocate(
            payment=credit, allocations=[{"invoice": other.pk, "amount": "40.00"}], by=None
        ),
    )
    for refused_call in refusals:
        with pytest.raises(APIError) as refused:
            refused_call()
        # then each is refused (the AR aging of a closed March would change) and nothing moves
        assert refused.value.code == "period_closed"
        assert refused.value.message.startswith("2026-03-")
    assert written(books.company) == before
    assert paid.allocations.get().unallocated_on is None
    invoice.refresh_from_db()
    other.refresh_from_db()
    assert (invoice.status, other.status) == (InvoiceStatus.PAID, InvoiceStatus.ISSUED)
    # while April is open for both
    services.allocation_remove(allocation=paid.allocations.get(), by=None, date=day("2026-04-01"))
    services.payment_allocate(
        payment=credit,
        allocations=[{"invoice": other.pk, "amount": "40.00"}],
        by=None,
        date=day("2026-04-01"),
    )
    other.refresh_from_db()
    assert other.status == InvoiceStatus.PAID
