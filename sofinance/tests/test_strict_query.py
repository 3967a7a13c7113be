"""Query parameters read as the schema declares them: a boolean is true or false, a page size a
whole number. What django-filter and DRF would ignore (and answer the unfiltered list or the
default page for) is a 400 naming the parameter."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from banking.tests.factories import bank_books, banking_rows, fixture
from conftest import auth_client
from ledger.tests.factories import company_with_chart
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    owner = UserFactory()
    company = company_with_chart(owner=owner)
    return f"/api/v1/companies/{company.pk}", auth_client(owner)


@pytest.mark.parametrize("value", ["1", "yes", "no", "0", "maybe"])
@pytest.mark.parametrize("path", ["/invoices?overdue=", "/customers?is_active=", "/payments?unallocated="])
def test_a_boolean_filter_that_is_not_true_or_false_is_400(books, path, value):
    base, client = books
    name = path.split("?")[1].rstrip("=")

    error = assert_error(client.get(f"{base}{path}{value}"), 400, "validation_error")

    assert error["details"] == {name: ["Write true or false."]}


@pytest.mark.parametrize("value", ["true", "false", "True", "FALSE", ""])  # blank: no filter
def test_true_and_false_filter_in_any_case(books, value):
    base, client = books
    assert_success(client.get(f"{base}/customers?is_active={value}"))


@pytest.mark.parametrize("value", ["abc", "0", "-1", "-5", "1.5", "١"])
@pytest.mark.parametrize("path", ["/accounts", "/journal-entries", "/reports/general-ledger?account=1000&"])
def test_a_page_size_that_is_not_a_whole_number_is_400(books, path, value):
    base, client = books
    query = path if "?" in path else f"{path}?"
    error = assert_error(client.get(f"{base}{query}page_size={value}"), 400, "validation_error")
    assert list(error["details"]) == ["page_size"]


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "١", "1e3"])
def test_a_page_that_is_not_a_whole_number_from_1_is_400(books, value):
    base, client = books
    error = assert_error(client.get(f"{base}/accounts?page={value}"), 400, "validation_error")
    assert error["details"] == {"page": ["A whole number from 1."]}


def test_a_page_past_the_last_is_404_saying_how_many_there_are(books):
    base, client = books
    assert_success(client.get(f"{base}/accounts?page=last"))  # DRF's name for the last page
    error = assert_error(client.get(f"{base}/accounts?page=99&page_size=500"), 404, "not_found")
    assert error["message"] == "There is no page 99: the list has 1 page."


def test_a_page_size_over_the_most_sends_the_most(books):
    base, client = books
    assert_success(client.get(f"{base}/accounts?page_size=100000"))


def test_an_upload_with_async_neither_true_nor_false_is_400_and_writes_nothing(make_member):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sofinance.permissions import Role

    bank = bank_books()
    _, client = make_member(bank.company, Role.ACCOUNTANT)
    before = banking_rows(bank.company)

    response = client.post(
        f"/api/v1/companies/{bank.company_id}/bank-accounts/{bank.pk}/statements?async=maybe",
        {"file": SimpleUploadedFile("march.ofx", fixture("ofx_march_1.ofx"))},
        format="multipart",
    )

    assert assert_error(response, 400, "validation_error")["details"] == {"async": ["Write true or false."]}
    assert banking_rows(bank.company) == before


# --------------------------------------------------------------------------- every boolean parameter

# Every boolean query parameter of the API: (operation path, with the company's ids filled in by
# the test, and its other required parameters; the parameter). A test below keeps this list
# equal to the schema's.
BOOLEAN_PARAMETERS = [
    ("/accounts", "is_active"),
    ("/customers", "is_active"),
    ("/items", "is_active"),
    ("/tax-rates", "is_active"),
    ("/invoices", "overdue"),
    ("/payments", "unallocated"),
    ("/payments/{payment}/allocations", "include_removed"),
    ("/reports/trial-balance?as_of=2026-12-31", "include_zero"),
    ("/reports/trial-balance?as_of=2026-12-31", "before_closing"),
]
# Read by a write, tested with the upload it belongs to: above, and the journal import's `dry_run`
# in banking/tests/test_api.py (test_a_journal_import_asked_as_a_dry_run_in_the_query_posts_nothing).
BOOLEAN_PARAMETERS_OF_WRITES = [
    ("post", "/bank-accounts/{id}/statements", "async"),
    ("post", "/journal-imports", "dry_run"),
]


@pytest.fixture
def sales(make_member):
    from sales import services
    from sales.tests.factories import day, sales_books

    books = sales_books()
    payment = services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-10"), amount="100.00", by=None
    )
    _, client = make_member(books.company, Role.ADMIN)
    return books, payment, client


def _url(books, payment, path: str) -> str:
    return f"/api/v1/companies/{books.company.pk}{path.format(payment=payment.pk)}"


def test_the_boolean_parameters_tested_are_every_boolean_parameter_of_the_schema():
    from sofinance.tests.openapi_contract import published_schema

    documented = {
        (method, path.removeprefix("/api/v1/companies/{company_id}"), parameter["name"])
        for path, operations in published_schema()["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter.get("schema", {}).get("type") == "boolean"
    }
    tested = {
        ("get", path.split("?")[0].replace("{payment}", "{id}"), name) for path, name in BOOLEAN_PARAMETERS
    }
    assert documented == tested | set(BOOLEAN_PARAMETERS_OF_WRITES)


@pytest.mark.parametrize("value", ["yes", "1", "abc", "0", "on", "no"])
@pytest.mark.parametrize(("path", "name"), BOOLEAN_PARAMETERS, ids=[name for _, name in BOOLEAN_PARAMETERS])
def test_every_boolean_parameter_that_is_not_true_or_false_is_400_naming_it(sales, path, name, value):
    books, payment, client = sales
    joiner = "&" if "?" in path else "?"

    response = client.get(f"{_url(books, payment, path)}{joiner}{name}={value}")

    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {name: ["Write true or false."]}


@pytest.mark.parametrize("value", ["true", "false", "TRUE", "False", ""])
@pytest.mark.parametrize(("path", "name"), BOOLEAN_PARAMETERS, ids=[name for _, name in BOOLEAN_PARAMETERS])
def test_every_boolean_parameter_takes_true_and_false_in_any_case(sales, path, name, value):
    books, payment, client = sales
    joiner = "&" if "?" in path else "?"
    assert_success(client.get(f"{_url(books, payment, path)}{joiner}{name}={value}"))


def test_tax_rates_filter_on_is_active(sales):
    from sales import services

    books, payment, client = sales
    services.tax_rate_update(tax_rate=books.reduced, by=None, is_active=False)
    url = _url(books, payment, "/tax-rates")

    def names(query: str) -> list[str]:
        return [rate["name"] for rate in assert_success(client.get(f"{url}{query}"))["data"]]

    assert names("?is_active=false") == ["VAT 5%"]
    assert names("?is_active=TRUE") == ["VAT 20%"]
    assert names("") == ["VAT 20%", "VAT 5%"]


def test_the_trial_balance_lists_zero_balances_only_with_include_zero_true(sales):
    books, payment, client = sales
    url = _url(books, payment, "/reports/trial-balance?as_of=2026-12-31")

    def rows(query: str) -> int:
        return len(assert_success(client.get(f"{url}{query}"))["data"]["rows"])

    assert rows("&include_zero=true") > rows("&include_zero=false") == rows("") == 2
