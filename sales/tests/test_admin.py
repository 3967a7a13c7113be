"""The sales admin: pages render, drafts with inline lines go through the services, issue/void/
credit/print, recording a payment with the customer's open invoices, allocation and
unallocation, the report pages, role scoping, and the live totals' arithmetic."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.services import membership_add
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from ledger.tests.factories import post_entry
from sales import services
from sales.amounts import line_amounts
from sales.models import CreditNote, Invoice, InvoiceStatus, Payment, PaymentStatus
from sales.tests.factories import (
    closed_march,
    day,
    eur_rate,
    euro_invoice,
    euro_payment,
    half_credited,
    issued,
    sales_books,
    widget_draft,
    written,
)
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(superuser):
    books = sales_books()
    membership_add(company=books.company, user=superuser, role=Role.ADMIN, by=None)
    return books


def messages_of(response) -> list[str]:
    if response.context is not None and "messages" in response.context:
        return [str(m) for m in response.context["messages"]]
    return [str(m) for m in get_messages(response.wsgi_request)]


def invoice_form(books, *lines, date="2026-03-10", initial=0, **fields):
    data = {
        "company": str(books.company.pk),
        "customer": str(books.acme.pk),
        "date": date,
        "due_date": "",
        "currency": "",
        "fx_rate": "",
        "reference": "PO-9",
        "notes": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "_save": "Save",
        **fields,
    }
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    return data


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:sales_customer_changelist",
        "admin:sales_customer_add",
        "admin:sales_item_changelist",
        "admin:sales_item_add",
        "admin:sales_taxrate_changelist",
        "admin:sales_taxrate_add",
        "admin:sales_invoice_changelist",
        "admin:sales_invoice_add",
        "admin:sales_payment_changelist",
        "admin:sales_payment_record",
        "admin:sales_creditnote_changelist",
        "admin:sales_salessettings_changelist",
        "admin:sales_reports",
        "admin:sales_reports_ar_aging",
        "admin:sales_reports_customer_statement",
        "admin:sales_reports_sales_summary",
        "admin:index",
    ],
)
def test_pages_render_for_a_superuser(client_admin, books, url_name):
    half_credited(books, books.acme, "2026-03-01", "100.00")
    services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-03"), amount="20.00", by=None
    )
    response = client_admin.get(reverse(url_name), follow=True)
    assert response.status_code == 200


def test_the_index_lists_the_sales_reports_next_to_the_ledgers(client_admin, books):
    page = client_admin.get(reverse("admin:index")).content.decode()
    reports = page[page.index('id="section-reports"') :]
    reports = reports[: reports.index("</table>")]
    for url_name in (
        "admin:ledger_reports_trial_balance",
        "admin:sales_reports_ar_aging",
        "admin:sales_reports_customer_statement",
        "admin:sales_reports_sales_summary",
    ):
        assert reverse(url_name) in reports


def test_a_draft_with_inline_lines_is_created_through_the_service(client_admin, books, superuser):
    data = invoice_form(
        books,
        {"item": str(books.consulting.pk), "quantity": "3", "discount": "10"},
        {
            "description": "Paperback",
            "quantity": "1",
            "unit_price": "19.99",
            "no_tax": "on",
            "account": str(books.account("4000").pk),
        },
    )
    response = client_admin.post(reverse("admin:sales_invoice_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.currency, invoice.due_date, invoice.created_by) == (
        InvoiceStatus.DRAFT,
        "USD",
        day("2026-04-09"),
        superuser,
    )
    assert [(ln.description, ln.net, ln.tax, ln.tax_rate_id) for ln in invoice.lines.order_by("line_no")] == [
        ("Consulting hour", Decimal("405.00"), Decimal("81.00"), books.standard.pk),
        ("Paperback", Decimal("19.99"), Decimal("0.00"), None),
    ]
    assert AuditEvent.objects.filter(object_type="sales.invoice", action="create").count() == 1


def test_amounts_are_typed_as_text_and_a_decimal_comma_is_refused_not_read_as_a_larger_number(
    client_admin, books
):
    # A browser's number input drops "12,50"'s comma (1250 reached the server): every decimal of
    # the admin is a text input, so what was typed reaches the form, which refuses it.
    for url in (
        reverse("admin:sales_item_add"),
        reverse("admin:sales_invoice_add"),
        reverse("admin:ledger_journalentry_add"),
        reverse("admin:ledger_exchangerate_add"),
        reverse("admin:sales_taxrate_add"),
    ):
        page = client_admin.get(url).content.decode()
        assert 'type="number"' not in page, url
        assert 'inputmode="decimal"' in page, url
    before = written(books.company)
    comma = invoice_form(books, {"description": "Gadget", "quantity": "1", "unit_price": "12,50"})
    refused = client_admin.post(reverse("admin:sales_invoice_add"), comma)
    assert refused.status_code == 200
    assert "Write a plain number, like 1250.00" in refused.content.decode()
    assert written(books.company) == before
    assert not Invoice.objects.exists()
    # a date in another order is refused naming the one format, never read as month/day
    for typed, url in (
        (invoice_form(books, {"description": "Gadget", "quantity": "1", "unit_price": "12.50"}, date="31/03/2026"),
         reverse("admin:sales_invoice_add")),
        ({"company": books.company.pk, "as_of": "31/03/2026"}, reverse("admin:sales_reports_ar_aging")),
    ):  # fmt: skip
        page = client_admin.post(url, typed) if "lines-TOTAL_FORMS" in typed else client_admin.get(url, typed)
        assert "Enter a valid date, as YYYY-MM-DD (e.g. 2026-03-31)." in page.content.decode(), url
    assert not Invoice.objects.exists()


def test_a_bad_line_shows_the_services_message_and_writes_nothing(client_admin, books):
    before = written(books.company)
    data = invoice_form(books, {"description": "x", "quantity": "1", "unit_price": "5.001"})
    response = client_admin.post(reverse("admin:sales_invoice_add"), data)
    assert response.status_code == 200
    assert "5.001 has more decimal places than USD allows (2)." in response.content.decode()
    assert written(books.company) == before


def test_a_saved_drafts_numbers_read_as_written_not_in_exponent_form(client_admin, books):
    # Decimal("10.0000").normalize() is 1E+1: the saved draft showed "1E+1" and "1.2E+2", and the
    # live totals (which read plain numbers only) went blank
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "10", "unit_price": "120", "discount": "10"}],
        by=None,
    )

    page = client_admin.get(reverse("admin:sales_invoice_change", args=[draft.pk])).content.decode()

    assert 'name="lines-0-quantity" value="10"' in page
    assert 'name="lines-0-unit_price" value="120.00"' in page  # a price reads in the currency's places
    assert 'name="lines-0-discount" value="10"' in page
    assert "E+" not in page


def test_draft_page_has_live_totals_and_issue_and_issued_page_is_read_only(client_admin, books):
    draft = widget_draft(books, quantity="2")
    page = client_admin.get(reverse("admin:sales_invoice_change", args=[draft.pk])).content.decode()
    assert 'id="live-totals"' in page and "sales/invoice_live_totals.js" in page
    assert 'id="sales-live-data"' in page and 'id="issue-invoice"' in page
    assert 'name="lines-0-quantity"' in page

    # the Issue button asks first; nothing happens until it is confirmed
    asked = client_admin.post(reverse("admin:sales_invoice_issue", args=[draft.pk]))
    assert asked.status_code == 200 and 'id="confirm-issue"' in asked.content.decode()
    # it says the number the invoice will get and the period it posts into
    question = asked.content.decode()
    assert (
        "<dt>Number</dt><dd>INV-2026-000001 (the next, unless another invoice is issued first)</dd>"
        in question
    )
    assert "<dt>Period</dt><dd>no period covers the date: it is open</dd>" in question
    draft.refresh_from_db()
    assert draft.number is None and draft.journal_entry_id is None
    response = client_admin.post(reverse("admin:sales_invoice_issue", args=[draft.pk]), {"confirmed": "yes"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.number == "INV-2026-000001"
    assert f"Issued as INV-2026-000001, posted as {draft.journal_entry.number}." in messages_of(response)

    page = client_admin.get(reverse("admin:sales_invoice_change", args=[draft.pk])).content.decode()
    assert 'name="lines-0-quantity"' not in page and 'id="issue-invoice"' not in page
    assert (
        draft.journal_entry.number in page and 'id="void-invoice"' in page and 'id="credit-invoice"' in page
    )
    assert reverse("admin:sales_invoice_document", args=[draft.pk]) in page
    document = client_admin.get(reverse("admin:sales_invoice_document", args=[draft.pk]))
    assert document["Content-Type"].startswith("text/html") and b"INV-2026-000001" in document.content


def test_issue_and_void_actions_report_each_outcome(client_admin, books):
    good = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    zero = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"description": "Free", "quantity": "1", "unit_price": "0", "tax_rate": None}],
        by=None,
    )
    # the list's action asks first: it names each invoice, and issues nothing yet
    asked = client_admin.post(
        reverse("admin:sales_invoice_changelist"),
        {"action": "issue_invoices", "_selected_action": [good.pk, zero.pk]},
    ).content.decode()
    assert "<title>Issue 2 invoices?" in asked and 'id="confirm-selected"' in asked
    assert f"<li>Draft invoice #{good.pk} of 2026-03-10, {books.acme.name}: " in asked
    assert Invoice.objects.filter(status=InvoiceStatus.DRAFT).count() == 2
    response = client_admin.post(
        reverse("admin:sales_invoice_changelist"),
        {"action": "issue_invoices", "_selected_action": [good.pk, zero.pk], "post": "yes"},
        follow=True,
    )
    shown = messages_of(response)
    assert f"Draft invoice #{good.pk}: issued as INV-2026-000001." in shown
    assert f"Draft invoice #{zero.pk}: An invoice is issued for a positive total." in shown
    asked = client_admin.post(
        reverse("admin:sales_invoice_void", args=[good.pk]), {"void_date": "2026-03-15"}
    )
    page = asked.content.decode()
    assert 'id="confirm-void"' in page and 'name="void_date" value="2026-03-15"' in page
    good.refresh_from_db()
    assert good.status == InvoiceStatus.ISSUED  # asked, not done
    listed = client_admin.post(
        reverse("admin:sales_invoice_changelist"), {"action": "void_invoices", "_selected_action": [good.pk]}
    ).content.decode()
    assert "<title>Void 1 invoice?" in listed and "INV-2026-000001 of 2026-03-10" in listed
    good.refresh_from_db()
    assert good.status == InvoiceStatus.ISSUED  # asked from the list, not done either
    void = client_admin.post(
        reverse("admin:sales_invoice_void", args=[good.pk]), {"void_date": "2026-03-15", "confirmed": "yes"}
    )
    good.refresh_from_db()
    assert (good.status, good.voided_on) == (InvoiceStatus.VOID, day("2026-03-15"))
    assert any("void, reversed by" in m for m in messages_of(void))


def test_crediting_from_the_invoice_page(client_admin, books):
    invoice = issued(books, books.acme, "2026-03-01", "100.00", "40.00")
    first, second = invoice.lines.order_by("line_no")
    page = client_admin.get(reverse("admin:sales_invoice_credit", args=[invoice.pk])).content.decode()
    assert f'name="quantity-{first.pk}" value="1"' in page
    form = {
        "date": "2026-03-05",
        "reason": "Returned",
        f"quantity-{first.pk}": "0",
        f"quantity-{second.pk}": "1",
    }
    # asked first: what it credits, its totals, its number and what is left due, and nothing written
    asked = client_admin.post(reverse("admin:sales_invoice_credit", args=[invoice.pk]), form)
    question = asked.content.decode()
    assert asked.status_code == 200 and 'id="confirm-credit"' in question
    for fact in (
        "<dt>Line 2</dt><dd>Goods 2: 1 credited, 40.00 net + 0.00 tax</dd>",
        "<dt>Total</dt><dd>40.00 USD</dd>",
        "<dt>Due on the invoice after it</dt><dd>100.00 USD</dd>",
        "<dt>Number</dt><dd>CN-2026-000001 (the next, unless another credit note is made first)</dd>",
        "<dt>Reason</dt><dd>Returned</dd>",
    ):
        assert fact in question, fact
    assert "Line 1" not in question  # a line credited 0 is not part of it
    assert not CreditNote.objects.exists()
    response = client_admin.post(
        reverse("admin:sales_invoice_credit", args=[invoice.pk]), {**form, "confirmed": "yes"}
    )
    assert response.status_code == 302
    credit = CreditNote.objects.get()
    assert (credit.total, credit.reason, credit.date) == (Decimal("40.00"), "Returned", day("2026-03-05"))
    refused = client_admin.post(
        reverse("admin:sales_invoice_credit", args=[invoice.pk]),
        {"date": "2026-03-05", f"quantity-{second.pk}": "1"},
    )
    assert refused.status_code == 200
    assert "Line 2: 1 asked, 0 left to credit." in refused.content.decode()
    assert CreditNote.objects.count() == 1


def test_recording_a_payment_offers_the_customers_open_invoices(client_admin, books):
    first = issued(books, books.acme, "2026-03-01", "100.00")
    second = issued(books, books.acme, "2026-03-05", "250.00")
    issued(books, books.globex, "2026-03-01", "999.00")
    page = client_admin.get(
        reverse("admin:sales_payment_record") + f"?company={books.company.pk}&customer={books.acme.pk}"
    )
    content = page.content.decode()
    assert f'name="allocate-{first.pk}"' in content and f'name="allocate-{second.pk}"' in content
    assert "999.00" not in content
    # the deposit account is a bank or cash account, never the receivables it is paid from
    deposit_choices = set(page.context["form"].fields["account"].queryset.values_list("code", flat=True))
    assert "1010" in deposit_choices and "1100" not in deposit_choices
    form = {
        "company": books.company.pk,
        "customer": books.acme.pk,
        "date": "2026-03-20",
        "amount": "150.00",
        "currency": "",
        "fx_rate": "",
        "account": "",
        "method": "bank_transfer",
        "reference": "BACS 1",
        "notes": "",
        f"allocate-{first.pk}": "100.00",
        f"allocate-{second.pk}": "50.00",
        "_record": "Record the payment",
    }
    before = written(books.company)
    over = client_admin.post(
        reverse("admin:sales_payment_record"), {**form, f"allocate-{second.pk}": "50.01"}
    )
    assert over.status_code == 200
    assert "50.01 is more than the payment has left to allocate (50.00)." in over.content.decode()
    assert written(books.company) == before
    response = client_admin.post(reverse("admin:sales_payment_record"), form)
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.amount_allocated, payment.reference) == (
        Decimal("150.00"),
        Decimal("150.00"),
        "BACS 1",
    )
    assert "Payment PAY-2026-000001 recorded (150.00 USD allocated)." in messages_of(response)
    first.refresh_from_db()
    assert first.status == InvoiceStatus.PAID


def allocate_inputs(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="text" name="(allocate-\d+)" value="([^"]*)"', page))


def test_fill_oldest_first_spreads_a_payments_credit_over_the_oldest_invoices_and_writes_nothing(
    client_admin, books
):
    # given a customer's invoices, the later one entered first, and a payment of 260.00
    later = issued(books, books.acme, "2026-03-10", "100.00")
    older = issued(books, books.acme, "2026-03-01", "250.00")
    untouched = issued(books, books.acme, "2026-03-20", "40.00")
    payment = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-25"), amount="260.00", by=None
    )
    url = reverse("admin:sales_payment_allocate", args=[payment.pk])
    before = written(books.company)

    # when "Fill oldest first" is pressed
    page = client_admin.post(url, {"date": "", "_fill_oldest": "1"})

    # then the oldest due is filled whole, the next in part, the last not at all; nothing written
    assert page.status_code == 200
    assert allocate_inputs(page.content.decode()) == {
        f"allocate-{older.pk}": "250.00",
        f"allocate-{later.pk}": "10.00",
        f"allocate-{untouched.pk}": "",
    }
    assert written(books.company) == before and not payment.allocations.exists()
    assert (
        "Filled 260.00 USD over 2 invoices, the oldest due first. Nothing is allocated until you confirm."
        in page.content.decode()
    )

    # and allocating what it filled in pays the older invoice and part of the later one
    done = client_admin.post(
        url, {"date": "", f"allocate-{older.pk}": "250.00", f"allocate-{later.pk}": "10.00"}
    )
    assert done.status_code == 302
    older.refresh_from_db()
    later.refresh_from_db()
    assert (older.status, later.amount_due) == (InvoiceStatus.PAID, Decimal("90.00"))


def test_recording_a_payment_fills_the_typed_amount_oldest_first(client_admin, books):
    first = issued(books, books.acme, "2026-03-01", "100.00")
    second = issued(books, books.acme, "2026-03-05", "250.00")
    form = {
        "company": books.company.pk,
        "customer": books.acme.pk,
        "date": "2026-03-20",
        "amount": "120.00",
        "currency": "",
        "fx_rate": "",
        "account": "",
        "method": "bank_transfer",
        "reference": "",
        "notes": "",
        "_fill_oldest": "1",
    }
    before = written(books.company)
    page = client_admin.post(reverse("admin:sales_payment_record"), form).content.decode()
    assert allocate_inputs(page) == {f"allocate-{first.pk}": "100.00", f"allocate-{second.pk}": "20.00"}
    assert 'id="fill-oldest-first"' in page
    # more than is due: each invoice whole, and what stays as credit is said
    page = client_admin.post(
        reverse("admin:sales_payment_record"), {**form, "amount": "400.00"}
    ).content.decode()
    assert allocate_inputs(page) == {f"allocate-{first.pk}": "100.00", f"allocate-{second.pk}": "250.00"}
    assert (
        "Filled 350.00 USD over 2 invoices, the oldest due first; 50.00 USD stays as customer credit." in page
    )
    # an amount with more places than the currency has is refused, never rounded into more
    page = client_admin.post(
        reverse("admin:sales_payment_record"), {**form, "amount": "300.555"}
    ).content.decode()
    assert "300.555 has more decimal places than USD allows (2)." in page and set(
        allocate_inputs(page).values()
    ) == {""}
    # nothing to fill is said, not left blank without a word
    for amount, currency, said in (
        ("0", "", "is not positive: nothing to fill."),
        ("100.00", "GBP", "no open invoices in GBP"),
    ):
        page = client_admin.post(
            reverse("admin:sales_payment_record"), {**form, "amount": amount, "currency": currency}
        ).content.decode()
        assert said in page and set(allocate_inputs(page).values()) == {""}
    # an amount that is not one is said, and fills nothing
    page = client_admin.post(
        reverse("admin:sales_payment_record"), {**form, "amount": "12O"}
    ).content.decode()
    assert "Type the payment&#x27;s amount first (e.g. 1250.00)" in page
    assert set(allocate_inputs(page).values()) == {""}
    assert written(books.company) == before and not Payment.objects.exists()


def test_allocate_unallocate_and_void_a_payment_in_the_admin(client_admin, books):
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    payment = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-05"), amount="60.00", by=None
    )
    page = client_admin.get(reverse("admin:sales_payment_change", args=[payment.pk])).content.decode()
    assert 'id="allocate-payment"' in page and 'id="void-payment"' in page
    response = client_admin.post(
        reverse("admin:sales_payment_allocate", args=[payment.pk]),
        {"date": "", f"allocate-{invoice.pk}": "60.00"},
    )
    assert response.status_code == 302
    allocation = payment.allocations.get()
    assert allocation.date == day("2026-03-05")
    page = client_admin.get(reverse("admin:sales_payment_change", args=[payment.pk])).content.decode()
    assert f'id="unallocate-{allocation.pk}"' in page and 'id="void-payment"' not in page
    assert "To void this payment, unallocate it first" in page  # why Void is not offered
    # the allocation reads as an accountant writes it (it was "27 -> 33: 60.0000")
    assert "60.0000" not in page and " -> " not in page
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert f"60.00 of {payment} to {invoice}" in page
    unallocate = reverse("admin:sales_payment_unallocate", args=[payment.pk, allocation.pk])
    asked = client_admin.post(unallocate, {"unallocate_date": "2026-03-06"}).content.decode()
    assert "<title>Unallocate " in asked and 'id="confirm-unallocate"' in asked
    assert 'name="unallocate_date" value="2026-03-06"' in asked and invoice.number in asked
    allocation.refresh_from_db()
    assert allocation.unallocated_on is None  # asked, not done
    client_admin.post(unallocate, {"unallocate_date": "2026-03-06", "confirmed": "yes"})
    allocation.refresh_from_db()
    assert allocation.unallocated_on == day("2026-03-06")
    void = reverse("admin:sales_payment_void", args=[payment.pk])
    # Void without a date proposes the earliest day it can take, the unallocation's (6 March), not
    # the payment's 5 March, which the void would then refuse ("it has history up to 2026-03-06")
    asked = client_admin.post(void, {}).content.decode()
    assert "<title>Void " in asked and 'id="confirm-void"' in asked and "posts a reversal of" in asked
    assert "<dt>Reversal dated</dt><dd>2026-03-06 (its last change; it cannot be voided before" in asked
    assert 'name="void_date" value="2026-03-06"' in asked
    payment.refresh_from_db()
    assert payment.status != PaymentStatus.VOID and payment.void_entry_id is None
    client_admin.post(void, {"void_date": "2026-03-06", "confirmed": "yes"})
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.VOID
    assert payment.void_entry.date == day("2026-03-06")


def test_the_ar_aging_page_shows_the_aging_and_a_customers_open_invoices(client_admin, books):
    invoice = issued(books, books.acme, "2026-01-05", "100.00")
    services.payment_record(
        company=books.company, customer=books.globex, date=day("2026-01-10"), amount="25.00", by=None
    )
    response = client_admin.get(
        reverse("admin:sales_reports_ar_aging")
        + f"?company={books.company.pk}&as_of=2026-03-31&customer={books.acme.pk}"
    )
    page = response.content.decode()
    assert 'id="aging-total">75.00<' in page
    # Globex's unapplied 25.00 lowers the total: shown negative, so the row adds up (0.00 - 25.00)
    globex = re.search(rf'<tr data-customer="{books.globex.pk}".*?</tr>', page, re.S).group(0)
    assert '<td class="amount">(25.00)</td>' in globex and '<td class="amount">-0.00</td>' not in page
    assert invoice.number in page and 'id="open-items"' in page
    assert "/reports/ar-aging?as_of=2026-03-31&amp;format=csv" in page
    statement = client_admin.get(
        reverse("admin:sales_reports_customer_statement")
        + f"?company={books.company.pk}&customer={books.acme.pk}&date_from=2026-01-01&date_to=2026-03-31"
    ).content.decode()
    assert 'id="closing-balance">100.00<' in statement
    summary = client_admin.get(
        reverse("admin:sales_reports_sales_summary")
        + f"?company={books.company.pk}&date_from=2026-01-01&date_to=2026-03-31&group_by=customer"
    ).content.decode()
    assert 'id="summary-net">100.00<' in summary
    by_rate = client_admin.get(
        reverse("admin:sales_reports_sales_summary")
        + f"?company={books.company.pk}&date_from=2026-01-01&date_to=2026-03-31&group_by=tax_rate"
    ).content.decode()
    assert '<th scope="col">Tax rate</th>' in by_rate and 'id="tax-rate-note"' in by_rate
    assert "<td>(lines without a tax rate)</td>" in by_rate and 'id="summary-net">100.00<' in by_rate


def test_issue_in_a_closed_period_is_refused_at_once_instead_of_asking_first(client_admin, books):
    # given a draft dated in a closed March
    march = closed_march(books)
    draft = widget_draft(books)

    # when Issue is clicked
    answer = client_admin.post(reverse("admin:sales_invoice_issue", args=[draft.pk]))

    # then no "Yes, issue it" to click only to be refused: back to the invoice, saying why and what to do
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "admin:sales_invoice_change", args=[draft.pk]
    )
    said = [str(m) for m in get_messages(answer.wsgi_request)]
    assert len(said) == 1 and f"falls in the closed period {march.start_date} – {march.end_date}." in said[0]
    assert "A controller reopens the period" in said[0]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_void_dated_in_a_closed_period_is_refused_at_once_and_another_date_is_asked(client_admin, books):
    # given an invoice and a payment of March, then March closed
    invoice = issued(books, books.acme, "2026-03-10", "100.00")
    payment = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-12"), amount="30.00", by=None
    )
    march = closed_march(books)
    before = written(books.company)

    for url, back in (
        (
            reverse("admin:sales_invoice_void", args=[invoice.pk]),
            reverse("admin:sales_invoice_change", args=[invoice.pk]),
        ),
        (
            reverse("admin:sales_payment_void", args=[payment.pk]),
            reverse("admin:sales_payment_change", args=[payment.pk]),
        ),
    ):
        # when Void is clicked without a date (its own date, in March) or with one in March
        for typed in ("", "2026-03-20"):
            answer = client_admin.post(url, {"void_date": typed}, follow=True)

            # then no "Yes, void it" to be refused after: back to the document, saying why
            assert answer.redirect_chain == [(back, 302)]
            said = messages_of(answer)
            assert len(said) == 1, said
            assert f"falls in the closed period {march.start_date} – {march.end_date}." in said[0]
            # without a date typed, it says where the date came from and where to type another
            assert ("No void date was typed" in said[0]) == (typed == "")

        # and a date in an open period is asked to confirm
        asked = client_admin.post(url, {"void_date": "2026-04-02"}).content.decode()
        assert 'id="confirm-void"' in asked and 'name="void_date" value="2026-04-02"' in asked
    assert written(books.company) == before


def test_void_says_at_once_why_it_cannot_be_done_instead_of_asking_first(client_admin, books):
    # given an invoice with a payment allocated to it
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-05"),
        amount="40.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "40.00"}],
    )

    # when Void is clicked
    response = client_admin.post(reverse("admin:sales_invoice_void", args=[invoice.pk]), {"void_date": ""})

    # then no confirmation page offers a void that would be refused: the invoice page says why
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:sales_invoice_change", args=[invoice.pk]
    )
    assert f"{invoice} has payments allocated; unallocate them before voiding it." in messages_of(response)
    invoice.refresh_from_db()
    assert invoice.status != InvoiceStatus.VOID


def test_the_ar_aging_page_says_when_receivables_were_posted_outside_sales(client_admin, books):
    issued(books, books.acme, "2026-01-05", "100.00")
    url = reverse("admin:sales_reports_ar_aging") + f"?company={books.company.pk}&as_of=2026-03-31"
    assert 'id="receivables-apart"' not in client_admin.get(url).content.decode()  # they agree

    # a manual entry straight to the receivables account: the books hold 105.00, the invoices 100.00
    post_entry(books.company, "2026-02-01", ("1100", "5.00", "D"), ("4000", "5.00", "C"))
    page = client_admin.get(url).content.decode()

    assert (
        "The receivables in the books come to 105.00 USD on 2026-03-31, but the open invoices less "
        "unapplied credit come to 100.00: 5.00 was posted to receivables outside sales" in page
    )
    assert f"general-ledger/?account={books.account('1100').pk}&amp;date_from=2026-01-01" in page


def test_the_customer_statement_names_a_balance_in_another_currency_and_links_its_statement(
    client_admin, books
):
    # given a USD customer invoiced in EUR too
    issued(books, books.acme, "2026-03-01", "100.00")
    euro_invoice(books, "2026-03-02", "54.00")
    url = reverse("admin:sales_reports_customer_statement")
    query = f"?company={books.company.pk}&customer={books.acme.pk}&date_from=2026-03-01&date_to=2026-03-31"

    # when its statement is opened (in USD)
    page = client_admin.get(url + query).content.decode()

    # then the EUR balance is said, with a link to the statement in EUR
    assert 'id="closing-balance">100.00<' in page
    link = re.search(r'<a href="([^"]+)" id="statement-in-EUR">54.00 EUR owed on 2026-03-31', page)
    assert link, page
    in_euros = client_admin.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert "in EUR." in in_euros and 'id="closing-balance">54.00<' in in_euros
    assert 'id="statement-in-USD">100.00 USD owed on 2026-03-31' in in_euros


def test_the_customer_statement_opens_asking_for_a_customer_and_names_documents_in_words(client_admin, books):
    # opened from the menu: the form asks for a customer, without telling the user off
    page = client_admin.get(reverse("admin:sales_reports_customer_statement")).content.decode()
    assert 'name="customer"' in page
    assert "errornote" not in page and "errorlist" not in page
    assert 'id="customer-statement"' not in page

    # a customer's statement names each document as its reader would
    half_credited(books, books.acme, "2026-03-01", "100.00")
    other = issued(books, books.acme, "2026-03-04", "10.00")
    services.invoice_void(invoice=other, by=None)
    statement = client_admin.get(
        reverse("admin:sales_reports_customer_statement")
        + f"?company={books.company.pk}&customer={books.acme.pk}&date_from=2026-01-01&date_to=2026-03-31"
    ).content.decode()
    documents = re.findall(r"<tr><td>2026-03-0\d</td><td>([^<]*)</td>", statement)
    assert documents == ["Invoice", "Credit note", "Invoice", "Invoice voided"]
    # and a customer the user forgot to choose, with dates given, is an error
    asked = client_admin.get(
        reverse("admin:sales_reports_customer_statement") + "?date_from=2026-01-01&date_to=2026-03-31"
    ).content.decode()
    assert "errorlist" in asked


def test_an_invoices_history_names_its_customer_and_entries_not_their_ids(client_admin, books):
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    services.invoice_void(invoice=invoice, by=None)
    invoice.refresh_from_db()

    page = client_admin.get(reverse("admin:sales_invoice_history", args=[invoice.pk])).content.decode()

    rows = " ".join(re.findall(r'<tr><td class="date">.*?</tr>', page, re.S))
    assert f"customer {books.acme.name}" in rows and f"customer {books.acme.pk};" not in rows
    assert f"void entry {invoice.void_entry.number}" in rows
    assert "status Draft" in rows or "status Issued" in rows


def test_an_invoices_history_shows_its_credit_notes_and_the_payments_allocated_to_it(client_admin, books):
    # given an invoice partly credited, paid, unallocated and paid again; and another invoice's payment
    invoice = issued(books, books.acme, "2026-03-01", "100.00", "50.00")
    credit = services.credit_note_create(
        invoice=invoice,
        by=None,
        date=day("2026-03-02"),
        lines=[{"invoice_line": invoice.lines.get(line_no=2).pk, "quantity": "1"}],
    )
    payment = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-05"),
        amount="60.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "60.00"}],
    )
    allocation = payment.allocations.get()
    services.allocation_remove(allocation=allocation, by=None, date=day("2026-03-06"))
    other = issued(books, books.globex, "2026-03-01", "10.00")
    services.payment_record(
        company=books.company, customer=books.globex, date=day("2026-03-05"), amount="10.00", by=None,
        allocations=[{"invoice": other.pk, "amount": "10.00"}],
    )  # fmt: skip

    # when its History is opened
    page = client_admin.get(reverse("admin:sales_invoice_history", args=[invoice.pk])).content.decode()

    # then it shows the invoice's own events and those of its credit note and its payment, in order
    abouts = re.findall(r'<span class="quiet history-about">([^<]+)</span>', page)
    assert abouts == [f"Credit note {credit}", f"Payment {payment}", f"Payment {payment}"], abouts
    assert other.number not in page  # another invoice's payment is not this invoice's history


def test_staff_see_and_change_only_what_their_role_allows(client, books):
    # a clerk of the company: drafts and reads, but neither issues nor records payments
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(content_type__app_label="sales"))
    membership_add(company=books.company, user=clerk, role=Role.CLERK, by=None)
    other = sales_books(name="Other Co")
    theirs = issued(other, other.acme, "2026-03-01", "10.00")
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    client.force_login(clerk)
    assert (
        client.get(reverse("admin:sales_invoice_change", args=[theirs.pk])).status_code == 302
    )  # not found: back to the list
    page = client.get(reverse("admin:sales_invoice_change", args=[draft.pk])).content.decode()
    assert 'id="issue-invoice"' not in page
    assert client.post(reverse("admin:sales_invoice_issue", args=[draft.pk])).status_code == 403
    assert client.get(reverse("admin:sales_payment_record")).status_code == 403
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.DRAFT
    listed = client.get(reverse("admin:sales_invoice_changelist")).content.decode()
    assert "Other Co" not in listed
    # the report pages are scoped to their companies
    assert (
        client.get(reverse("admin:sales_reports_ar_aging") + f"?company={other.company.pk}").status_code
        == 404
    )


NODE_SCRIPT = """
const fs = require("fs");
global.window = {};
global.document = { addEventListener() {} };
eval(fs.readFileSync(process.argv[1], "utf8"));
const m = window.salesInvoiceMath;
const cases = JSON.parse(process.argv[2]);
console.log(JSON.stringify(cases.map(([q, p, d, r, places]) => {
  const a = m.lineAmounts(m.scaled(q), m.scaled(p), m.scaled(d), m.scaled(r), places);
  return [m.format(a.net, places), m.format(a.tax, places)];
})));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the admin's JavaScript")
def test_live_totals_round_exactly_like_the_server():
    cases = [
        ("3", "150.00", "10", "20", 2),
        ("7", "12.35", "0", "5", 2),
        ("2.5", "33.33", "12.5", "20", 2),
        ("0.5", "0.25", "0", "20", 2),
        ("1", "0.10", "75", "5", 2),
        ("3", "333", "5", "20", 0),
        ("1.2345", "9999.99", "33.3333", "7.125", 2),
        ("3", "10.000", "33.33", "20", 3),
    ]
    script = Path(__file__).resolve().parents[2] / "static" / "sales" / "invoice_live_totals.js"
    result = subprocess.run(
        ["node", "-e", NODE_SCRIPT, str(script), json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    from sofinance.display import display_amount

    currency = {2: "USD", 0: "JPY", 3: "KWD"}
    expected = []
    for q, p, d, r, places in cases:
        amounts = line_amounts(
            quantity=Decimal(q),
            unit_price=Decimal(p),
            discount=Decimal(d),
            tax_percent=Decimal(r),
            currency=currency[places],
        )
        expected.append(
            [display_amount(amounts.net, currency[places]), display_amount(amounts.tax, currency[places])]
        )
    assert json.loads(result.stdout) == expected


ENTRY_NODE_SCRIPT = """
const fs = require("fs");
global.window = {};
global.document = { addEventListener() {} };
eval(fs.readFileSync(process.argv[1], "utf8"));
const m = window.ledgerEntryMath;
const cases = JSON.parse(process.argv[2]);
console.log(JSON.stringify(cases.map(([amount, rate, places]) => {
  const scaledRate = m.scaled(rate);
  return m.format(m.roundTo((m.scaled(amount) * scaledRate) / 10n ** 10n, places), places);
})));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the admin's JavaScript")
def test_entry_running_totals_convert_and_format_like_the_server():
    from sofinance.display import display_amount
    from sofinance.money import convert

    cases = [
        ("1200.00", "1", 2),
        ("1234567.89", "1", 2),
        ("-45.5", "1", 2),
        ("100.00", "1.0857", 2),
        ("333.33", "0.333333", 2),
        ("1000", "0.0067", 0),
        ("2.125", "1.5", 3),
    ]
    script = Path(__file__).resolve().parents[2] / "static" / "ledger" / "entry_totals.js"
    result = subprocess.run(
        ["node", "-e", ENTRY_NODE_SCRIPT, str(script), json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    currency = {2: "USD", 0: "JPY", 3: "KWD"}
    expected = [
        display_amount(convert(Decimal(amount), Decimal(rate), currency[places]), currency[places])
        for amount, rate, places in cases
    ]
    assert json.loads(result.stdout) == expected


def test_the_tax_rate_summary_says_what_else_moved_the_tax_accounts(client_admin, books):
    # given an invoice of 2 consulting hours (tax 60.00 on 2200) and a cash sale posted as a
    # journal entry with its tax (12.00 on 2200)
    services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-02"),
        lines=[{"item": books.consulting.pk, "quantity": "2"}],
        by=None,
        issue=True,
    )
    page_url = (
        reverse("admin:sales_reports_sales_summary")
        + f"?company={books.company.pk}&date_from=2026-03-01&date_to=2026-03-31&group_by=tax_rate"
    )
    alone = client_admin.get(page_url).content.decode()
    post_entry(
        books.company, "2026-03-05", ("1000", "72.00", "D"), ("4000", "60.00", "C"), ("2200", "12.00", "C")
    )

    # when
    page = client_admin.get(page_url).content.decode()

    # then: the note reconciles the tax account's movement to the documents' tax
    assert re.search(
        r'id="tax-accounts">The tax accounts \(2200 [^)]*\) moved 60\.00 USD .*: 60\.00 from the documents below, nothing else\.',
        alone,
    )
    note = re.search(r'<p class="status-note" id="tax-accounts">(.*?)</p>', page, re.S).group(1)
    assert (
        "moved 72.00 USD over these dates: 60.00 from the documents below, and 12.00 from other entries"
        in note
    )
    link = re.search(r'<a href="([^"]+)">See the tax account\'s ledger</a>', note).group(1)
    assert "general-ledger/?" in link and "2026-03-01" in link and "2026-03-31" in link


def test_an_invoices_page_links_the_credit_notes_that_credit_it(client_admin, books):
    # given an invoice credited twice, one line each
    invoice = issued(books, books.acme, "2026-03-01", "100.00", "50.00")
    credits = [
        services.credit_note_create(
            invoice=invoice,
            by=None,
            date=day(f"2026-03-0{n + 2}"),
            lines=[{"invoice_line": invoice.lines.get(line_no=n).pk, "quantity": "1"}],
        )
        for n in (1, 2)
    ]

    # when its page is opened
    page = client_admin.get(reverse("admin:sales_invoice_change", args=[invoice.pk])).content.decode()

    # then "credited" names each credit note, and each opens from there
    for credit in credits:
        url = reverse("admin:sales_creditnote_change", args=[credit.pk])
        assert f'<a href="{url}" class="credit-note-link">{credit.number}</a>' in page


def test_an_invoice_lines_account_and_tax_rate_say_what_blank_means_and_offer_only_leaves(
    client_admin, books
):
    # given a chart with header accounts (e.g. "4 Revenue" above 4000)
    headers = set(books.company.accounts.filter(children__isnull=False).values_list("pk", flat=True))
    assert headers

    # when a new invoice's form is opened
    page = client_admin.get(reverse("admin:sales_invoice_add"))
    line_form = page.context["inline_admin_formsets"][0].formset.forms[0]

    # then a line's account offers only accounts it can post to, and blank says what it means
    offered = set(line_form.fields["account"].queryset.values_list("pk", flat=True))
    assert offered and not offered & headers
    assert line_form.fields["account"].empty_label == "from item"
    assert line_form.fields["tax_rate"].empty_label == "from item"


def test_document_forms_offer_no_delete_beside_a_choice_and_no_icons_beside_the_company(client_admin, books):
    for url in (reverse("admin:sales_invoice_add"), reverse("admin:ledger_journalentry_add")):
        page = client_admin.get(url).content.decode()
        # the company is chosen, not added, changed, viewed or deleted from a document's form
        for icon in ("add", "change", "view", "delete"):
            assert f'id="{icon}_id_company"' not in page, (url, icon)
        # and nothing chosen on the form (a customer, an account on a line) offers deleting it
        assert 'id="delete_id_' not in page, url
        assert "related-widget-wrapper" in page  # the choices are still wrapped (add/change kept)


def test_a_payments_exchange_differences_read_as_a_loss_or_a_gain(client_admin, books):
    first, second = (euro_invoice(books, "2026-03-01", "100.00") for _ in range(2))  # each 110.00 USD
    payment, dearer = (
        euro_payment(
            books, date, "100.00", fx_rate=rate, allocations=[{"invoice": invoice.pk, "amount": "100.00"}]
        )
        for date, rate, invoice in (("2026-03-10", "1.05", first), ("2026-03-11", "1.20", second))
    )
    cheaper_page = client_admin.get(reverse("admin:sales_payment_change", args=[payment.pk])).content.decode()
    dearer_page = client_admin.get(reverse("admin:sales_payment_change", args=[dearer.pk])).content.decode()
    # 110.00 booked, 105.00 received: a loss; 120.00 received: a gain
    assert "5.00 USD loss" in cheaper_page and "gain" not in cheaper_page
    assert "10.00 USD gain" in dearer_page


def test_issuing_a_foreign_currency_invoice_says_its_rate_and_receivable_first(client_admin, books):
    eur_rate(books, "2026-03-01", "1.10")  # the latest stored on or before the invoice's 2 March
    draft = euro_invoice(books, "2026-03-02", "1080.00", rate=None, issue=False)
    asked = client_admin.post(reverse("admin:sales_invoice_issue", args=[draft.pk])).content.decode()
    assert "<dt>Rate</dt><dd>1.1 EUR→USD (the rate stored for 2026-03-01)</dd>" in asked
    assert "<dt>Receivable in USD</dt><dd>1,188.00 USD</dd>" in asked
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_account_choices_are_only_those_the_service_takes_for_the_field(client_admin, books):
    def choices(url_name: str, field: str, *args) -> set[str]:
        page = client_admin.get(reverse(url_name, args=args))
        form = page.context["adminform"].form
        return set(form.fields[field].queryset.values_list("code", flat=True))

    customer = choices("admin:sales_customer_change", "receivables_account", books.acme.pk)
    item = choices("admin:sales_item_add", "revenue_account")
    tax = choices("admin:sales_taxrate_add", "account")
    # receivables: the receivables account and unused asset leaves; never the bank with its
    # postings (its balance would count as owed by customers), nor income or headers
    post_entry(books.company, "2026-01-02", ("1010", "100.00", "D"), ("4000", "100.00", "C"))
    customer = choices("admin:sales_customer_change", "receivables_account", books.acme.pk)
    assert "1100" in customer and "1010" not in customer and "4000" not in customer
    # a line's or an item's revenue: income (or deferred-revenue liability), never the bank or
    # receivables, nor accounts payable or the tax payable account
    assert "4000" in item and "2500" in item
    assert not {"1010", "1100", "2000", "2200"} & item
    # a tax rate's account: a liability, never accounts payable
    assert "2200" in tax and "2000" not in tax
    assert tax and all(code.startswith("2") for code in tax)
    invoice_page = client_admin.get(reverse("admin:sales_invoice_add"))
    line_form = invoice_page.context["inline_admin_formsets"][0].formset.forms[0]
    lines = set(line_form.fields["account"].queryset.values_list("code", flat=True))
    assert "4000" in lines and not {"1010", "1100", "2000", "2200"} & lines


def test_issuing_an_invoice_dated_before_closed_periods_says_what_it_changes_first(client_admin, books):
    from ledger.models import AccountingPeriod
    from ledger.services import period_close, periods_generate

    periods_generate(company=books.company, year=2026, by=None)
    for period in AccountingPeriod.objects.filter(company=books.company).order_by("start_date")[:2]:
        period_close(period=period, by=None)
    draft, on_time = (
        services.invoice_create(
            company=books.company,
            customer=books.acme,
            date=day(date),
            lines=[{"description": "Goods", "quantity": "1", "unit_price": "10.00", "account": "4000"}],
            by=None,
        )
        for date in ("2025-12-20", "2026-03-20")
    )

    asked = client_admin.post(reverse("admin:sales_invoice_issue", args=[draft.pk])).content.decode()
    plain = client_admin.post(reverse("admin:sales_invoice_issue", args=[on_time.pk])).content.decode()

    assert (
        "<dt>Closed periods after it</dt><dd>2025-12-20 comes before 2 closed periods (2026-01-01 – 2026-02-28)."
        in asked
    )
    assert "No period covers it, so it is open and posts" in asked
    assert "Closed periods after it" not in plain
    draft.refresh_from_db()
    assert draft.status == "draft"
