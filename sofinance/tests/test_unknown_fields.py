"""A request body's field that the operation does not take is refused (400 `validation_error`,
the field named in `details`), not dropped: a typo (`"posted": true`, `"paymentTerms": 60`) was
answered 201 and did something else than asked. Nested objects (an entry's lines, an invoice's
lines, a payment's allocations) are held to the same rule; a refused request writes nothing."""

from __future__ import annotations

import pytest

from accounts.models import Account
from audit.models import AuditEvent
from ledger.models import JournalEntry
from sales.models import Customer, Invoice
from sales.tests.factories import issued, sales_books
from sofinance.api.views import UNKNOWN_FIELD
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error
from sofinance.tests.openapi_contract import published_schema

pytestmark = pytest.mark.django_db

LINES = [{"account": "6100", "debit": "10.00"}, {"account": "1010", "credit": "10.00"}]


@pytest.fixture
def books(make_member):
    books = sales_books()
    books.client = make_member(books.company, Role.ADMIN)[1]
    books.api = f"/api/v1/companies/{books.company.pk}"
    return books


def written(books) -> tuple[int, ...]:
    company = books.company
    return (
        JournalEntry.objects.filter(company=company).count(),
        Customer.objects.filter(company=company).count(),
        Invoice.objects.filter(company=company).count(),
        Account.objects.filter(company=company).count(),
        AuditEvent.objects.filter(company_id=company.pk).count(),
    )


def refused(books, method: str, path: str, body: dict, status: int = 400, code: str = "validation_error"):
    before = written(books)
    response = getattr(books.client, method)(f"{books.api}{path}", body, format="json")
    error = assert_error(response, status, code)
    assert written(books) == before
    return error["details"]


def test_a_journal_entry_with_a_field_it_does_not_take_is_refused_not_saved_as_a_draft(books):
    # `posted` for `post`: it was answered 201 with a draft
    details = refused(
        books, "post", "/journal-entries", {"date": "2026-03-31", "posted": True, "lines": LINES}
    )
    assert details == {"posted": [UNKNOWN_FIELD]}


def test_a_line_with_a_misspelt_side_is_refused_naming_the_line(books):
    lines = [{"account": "6100", "debt": "10.00"}, {"account": "1010", "credit": "10.00"}]
    details = refused(books, "post", "/journal-entries", {"date": "2026-03-31", "post": True, "lines": lines})
    assert details["lines"] == {"0": {"debt": [UNKNOWN_FIELD]}}


def test_bulk_refuses_an_unknown_field_of_the_body_and_of_an_entry(books):
    body = {"entries": [{"date": "2026-03-31", "lines": LINES}], "atomic": True}
    assert refused(books, "post", "/journal-entries/bulk", body) == {"atomic": [UNKNOWN_FIELD]}
    entries = [{"date": "2026-03-31", "lines": LINES}, {"date": "2026-03-31", "memo": "x", "lines": LINES}]
    details = refused(books, "post", "/journal-entries/bulk", {"entries": entries}, 422, "invalid_batch")
    assert [(item["index"], item["details"]) for item in details["entries"]] == [
        (1, {"memo": [UNKNOWN_FIELD]})
    ]


def test_a_bulk_entry_may_carry_post_true_as_the_schema_documents_it(books):
    # a client generated from the schema sends each property's default: for a bulk entry, true
    components = published_schema()["components"]["schemas"]
    item = components["JournalEntryBulkInputRequest"]["properties"]["entries"]["items"]["$ref"]
    assert components[item.rsplit("/", 1)[1]]["properties"]["post"]["default"] is True
    response = books.client.post(
        f"{books.api}/journal-entries/bulk",
        {"entries": [{"date": "2026-03-31", "post": True, "lines": LINES}]},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_customer_with_a_camel_case_field_is_refused_and_the_default_terms_are_not_taken(books):
    details = refused(books, "post", "/customers", {"name": "Initech", "paymentTerms": 60})
    assert details == {"paymentTerms": [UNKNOWN_FIELD]}


def test_read_only_fields_sent_back_on_an_update_are_refused_with_the_real_problem(books):
    # a GET's answer sent back as a PATCH: `id` cannot be set; said together with a bad value
    details = refused(
        books, "patch", f"/customers/{books.acme.pk}", {"id": 1, "payment_terms_days": "x", "name": "Acme"}
    )
    assert set(details) == {"id", "payment_terms_days"}
    assert details["id"] == [UNKNOWN_FIELD]


def test_an_invoice_line_and_a_payment_allocation_are_held_to_the_same_rule(books):
    line = {
        "description": "Work",
        "quantity": "1",
        "unit_price": "10.00",
        "tax_rate": None,
        "account": "4000",
    }
    body = {"customer": books.acme.pk, "date": "2026-03-01", "lines": [line, {**line, "qty": "2"}]}
    details = refused(books, "post", "/invoices", body)
    assert details["lines"] == [{}, {"qty": [UNKNOWN_FIELD]}]

    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    payment = {
        "customer": books.acme.pk,
        "date": "2026-03-02",
        "amount": "100.00",
        "allocations": [{"invoice": invoice.pk, "amount": "100.00", "discount": "1.00"}],
    }
    details = refused(books, "post", "/payments", payment)
    assert details["allocations"] == [{"discount": [UNKNOWN_FIELD]}]
