"""Keeping a copy in sync: `updated_since` on the lists of customers, items, tax rates, invoices and
payments, on `updated_at`, which the database stamps on every change whatever writes it
(sales migration 0003)."""

from __future__ import annotations

import datetime
import time

import pytest
from django.db import connection
from django.utils import timezone

from sales import services
from sales.models import Customer, Invoice, Item, Payment, TaxRate
from sales.tests.factories import day, issued, sales_books
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

# Every change is stamped with its transaction's start: these tests commit as they go.
pytestmark = pytest.mark.django_db(transaction=True)


def _ids(client, books, resource: str, since: str) -> list[int]:
    response = client.get(f"/api/v1/companies/{books.company.pk}/{resource}", {"updated_since": since})
    return sorted(row["id"] for row in assert_success(response)["data"])


def _mark() -> str:
    time.sleep(0.01)  # past every stamp committed so far
    mark = timezone.now()
    time.sleep(0.01)
    return mark.isoformat()


def test_updated_since_lists_what_changed_after_the_moment_however_it_was_written(make_member):
    # given: books with two customers' invoices, a payment, items and tax rates, all from before
    books = sales_books()
    client = make_member(books.company, Role.VIEWER)[1]
    paid_later = issued(books, books.acme, "2026-03-02", "100.00")
    untouched = issued(books, books.globex, "2026-03-03", "50.00")
    earlier = services.payment_record(
        company=books.company, customer=books.globex, date=day("2026-03-04"), amount="10.00", by=None
    )
    mark = _mark()

    # when: a payment settles the first invoice (its status, paid amount and balance change), a
    # customer is renamed by its service, and an item and a tax rate are changed by raw SQL, as
    # no service writes them (a stamp that relied on the code's `update_fields` would miss these)
    payment = services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-20"),
        amount="100.00",
        by=None,
        allocations=[{"invoice": paid_later.pk, "amount": "100.00"}],
    )
    services.customer_update(customer=books.globex, by=None, name="Globex Corporation")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sales_item SET name = 'Widget, blue' WHERE id = %s", [books.widget.pk])
        cursor.execute("UPDATE sales_taxrate SET name = 'VAT 5 %%' WHERE id = %s", [books.reduced.pk])

    # then: each list names exactly what changed after the mark
    assert _ids(client, books, "invoices", mark) == [paid_later.pk]
    assert _ids(client, books, "payments", mark) == [payment.pk]
    assert books.globex.pk in _ids(client, books, "customers", mark)
    assert _ids(client, books, "items", mark) == [books.widget.pk]
    assert _ids(client, books, "tax-rates", mark) == [books.reduced.pk]
    # and from before everything, every row again
    assert _ids(client, books, "invoices", "2000-01-01") == sorted([paid_later.pk, untouched.pk])
    assert earlier.pk in _ids(client, books, "payments", "2000-01-01")
    # the stamps are the database's, later than the mark, on the rows themselves
    stamps = {
        "invoice": Invoice.objects.get(pk=paid_later.pk).updated_at,
        "item": Item.objects.get(pk=books.widget.pk).updated_at,
        "tax rate": TaxRate.objects.get(pk=books.reduced.pk).updated_at,
        "payment": Payment.objects.get(pk=payment.pk).updated_at,
        "customer": Customer.objects.get(pk=books.globex.pk).updated_at,
    }
    assert all(stamp > datetime.datetime.fromisoformat(mark) for stamp in stamps.values()), stamps


def test_updated_since_takes_a_date_or_a_date_time_and_refuses_anything_else(make_member):
    books = sales_books()
    client = make_member(books.company, Role.VIEWER)[1]
    issued(books, books.acme, "2026-03-02", "100.00")
    base = f"/api/v1/companies/{books.company.pk}/invoices"

    today = timezone.now().date().isoformat()
    assert len(assert_success(client.get(base, {"updated_since": today}))["data"]) == 1
    assert len(assert_success(client.get(base, {"updated_since": "2999-01-01T00:00:00+02:00"}))["data"]) == 0
    for bad in ("yesterday", "2026-02-30", "2026-03-01T25:00:00Z", "2026-03-01T10:00:00+18:00"):
        error = assert_error(client.get(base, {"updated_since": bad}), 400, "validation_error")
        (message,) = error["details"]["updated_since"]
        assert bad not in message  # the reason, in words, not the value


def test_deleted_sales_records_are_listed_for_a_synced_copy_to_remove(make_member):
    # given a customer, an item and a draft invoice, then a mark, then their deletion over the API
    books = sales_books()
    admin = make_member(books.company, Role.ADMIN)[1]
    viewer = make_member(books.company, Role.VIEWER)[1]
    base = f"/api/v1/companies/{books.company.pk}"
    gone = services.customer_create(company=books.company, name="Short-lived Ltd", by=None)
    draft = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    services.customer_delete(
        customer=services.customer_create(company=books.company, name="Old", by=None), by=None
    )
    mark = _mark()
    assert_success(admin.delete(f"{base}/customers/{gone.pk}"))
    assert_success(admin.delete(f"{base}/invoices/{draft.pk}"))

    # when a sync asks what was deleted since the mark (a viewer may)
    since = assert_success(viewer.get(f"{base}/sales-deletions", {"since": mark}))["data"]
    invoices_only = assert_success(viewer.get(f"{base}/sales-deletions", {"since": mark, "type": "invoice"}))[
        "data"
    ]

    # then exactly those two, newest first, with the ids they had
    assert [(row["type"], row["id"]) for row in since] == [("invoice", draft.pk), ("customer", gone.pk)]
    moment = datetime.datetime.fromisoformat(mark)
    assert all(datetime.datetime.fromisoformat(row["deleted_at"]) >= moment for row in since)
    assert [(row["type"], row["id"]) for row in invoices_only] == [("invoice", draft.pk)]
    assert_error(viewer.get(f"{base}/sales-deletions", {"since": "last week"}), 400, "validation_error")
    assert_error(viewer.get(f"{base}/sales-deletions", {"type": "payment"}), 400, "validation_error")


def test_credit_notes_created_since_a_moment_are_listed_whatever_their_date(make_member):
    # given a credit note from before the mark, then one created after it but dated earlier
    books = sales_books()
    client = make_member(books.company, Role.VIEWER)[1]
    invoice = issued(books, books.acme, "2026-03-02", "100.00", "40.00")
    first, second = invoice.lines.order_by("line_no")
    earlier = services.credit_note_create(
        invoice=invoice, by=None, date=day("2026-03-05"), lines=[{"invoice_line": first.pk, "quantity": "1"}]
    )
    mark = _mark()
    back_dated = services.credit_note_create(
        invoice=invoice, by=None, date=day("2026-03-03"), lines=[{"invoice_line": second.pk, "quantity": "1"}]
    )

    # then a sync from the mark gets the back-dated one only; from before everything, both
    assert _ids(client, books, "credit-notes", mark) == [back_dated.pk]
    assert _ids(client, books, "credit-notes", "2000-01-01") == sorted([earlier.pk, back_dated.pk])


def test_a_parameter_a_list_does_not_read_is_refused_not_ignored(make_member):
    # a client believing it filtered (a misspelt or missing filter) would get the whole list
    books = sales_books()
    client = make_member(books.company, Role.VIEWER)[1]
    issued(books, books.acme, "2026-03-02", "100.00")
    base = f"/api/v1/companies/{books.company.pk}"

    for path, parameter in (
        ("invoices", "stauts"),
        ("journal-entries", "updated_since"),
        ("payments", "ordering"),
        ("customers", "bogus"),
        ("periods", "status"),  # a list with no filters at all
        ("invoices", "page"),  # a cursor list: a page number would give the first page again
        ("accounts", "cursor"),  # a page-number list
    ):
        error = assert_error(client.get(f"{base}/{path}", {parameter: "x"}), 400, "validation_error")
        (message,) = error["details"][parameter]
        assert message.startswith("Not a parameter of this list; it takes ")
    # while the pagination's own parameters and every filter still work
    assert assert_success(client.get(f"{base}/invoices", {"status": "issued", "page_size": "5"}))["data"]
    assert assert_success(client.get(f"{base}/accounts", {"page": "1", "format": "json"}))["data"]
    # and the message names what the list does take
    refused = assert_error(client.get(f"{base}/invoices", {"page": "2"}), 400, "validation_error")
    (takes,) = refused["details"]["page"]
    assert "`cursor`" in takes and "`updated_since`" in takes and "`page`" not in takes
