"""Query parameters read as the schema declares them: a boolean is true or false, a page size a
whole number. What django-filter and DRF would ignore (and answer the unfiltered list or the
default page for) is a 400 naming the parameter."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from banking.tests.factories import bank_books, banking_rows, fixture
from conftest import auth_client
from ledger.tests.factories import company_with_chart
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


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "١"])
@pytest.mark.parametrize("path", ["/accounts", "/journal-entries"])
def test_a_page_size_that_is_not_a_whole_number_is_400(books, path, value):
    base, client = books
    error = assert_error(client.get(f"{base}{path}?page_size={value}"), 400, "validation_error")
    assert list(error["details"]) == ["page_size"]


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
