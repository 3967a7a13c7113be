"""Ids read from text: ASCII digits only. Python's `\\d` and `str.isdigit()` also take other
scripts' digits ("١", "１") and superscripts ("²"): the first made aliases of ids in the API's
paths (a close or a reconcile ran through `/periods/١/close`), the second a 500 where `int()`
could not read what `isdigit()` had let through."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from conftest import auth_client
from ledger.models import AccountingPeriod
from ledger.services import period_create
from ledger.tests.factories import company_with_chart, post_entry
from sales.tests.factories import sales_books
from sofinance.ids import MAX_ID, id_from_text
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db

OTHER_DIGITS = ["١", "１", "²", "۱", "1١", "١1"]


def test_id_from_text_takes_ascii_digits_within_a_bigint_only():
    assert [id_from_text(text) for text in ["1", "42", str(MAX_ID), "007"]] == [1, 42, MAX_ID, 7]
    refused = ["", "0", "-1", "+1", " 1", "1 ", "1.0", "1e3", str(MAX_ID + 1), "9" * 40, None, *OTHER_DIGITS]
    assert [id_from_text(text) for text in refused] == [None] * len(refused)


def test_other_scripts_digits_in_a_path_name_nothing_and_write_nothing():
    # given: a company with an entry (id 1 or more) and an open period
    owner = UserFactory()
    company = company_with_chart(owner=owner)
    client = auth_client(owner)
    entry = post_entry(company, "2026-03-05", ("1000", "10.00", "D"), ("4000", "10.00", "C"))
    period = period_create(
        company=company, start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 1, 31), by=owner
    )
    base = f"/api/v1/companies/{company.pk}"
    assert_success(client.get(f"{base}/journal-entries/{entry.pk}"))
    events = AuditEvent.objects.count()

    for digit in ["١", "１", "۱"]:
        alias = str(entry.pk).translate(str.maketrans("0123456789", _digits(digit)))
        # when / then: another script's spelling of the entry's id, of the period's, of the company's
        assert_error(client.get(f"{base}/journal-entries/{alias}"), 404, "not_found")
        period_alias = str(period.pk).translate(str.maketrans("0123456789", _digits(digit)))
        assert_error(client.post(f"{base}/periods/{period_alias}/close", {}, format="json"), 404, "not_found")
        company_alias = str(company.pk).translate(str.maketrans("0123456789", _digits(digit)))
        assert_error(client.get(f"/api/v1/companies/{company_alias}/accounts"), 404, "not_found")
    assert AccountingPeriod.objects.get(pk=period.pk).status == "open"
    assert AuditEvent.objects.count() == events


def _digits(one: str) -> str:
    """The ten digits of the script whose "1" is `one`."""
    zero = ord(one) - 1
    return "".join(chr(zero + n) for n in range(10))


@pytest.mark.parametrize("value", ["²", "١", "9" * 30])
def test_an_id_query_parameter_in_other_digits_is_refused_not_a_500(value):
    owner = UserFactory()
    company = company_with_chart(owner=owner)
    client = auth_client(owner)
    base = f"/api/v1/companies/{company.pk}"

    response = client.get(f"{base}/reports/customer-statement", {"customer": value})
    assert_error(response, 400, "validation_error")
    # the audit trail's actor filter reads a non-id as a name: an empty list, not a 500
    assert assert_success(client.get(f"{base}/audit-events", {"actor": value}))["data"] == []


@pytest.mark.parametrize("value", ["²", "١", "9" * 30])
@pytest.mark.parametrize("name", ["account_id", "account"])
def test_the_general_ledger_reads_an_account_id_in_other_digits_as_no_account(caplog, name, value):
    owner = UserFactory()
    company = company_with_chart(owner=owner)
    caplog.set_level(logging.WARNING)

    response = auth_client(owner).get(f"/api/v1/companies/{company.pk}/reports/general-ledger", {name: value})

    assert assert_error(response, 404, "not_found")["message"] == "No such account in this company."
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("value", ["²", "١", "9" * 30])
def test_the_admin_sales_pages_read_a_customer_in_other_digits_as_none(client_admin, superuser, value):
    from accounts.services import membership_add

    books = sales_books()
    membership_add(company=books.company, user=superuser, role=Role.ADMIN, by=None)
    aging = client_admin.get(reverse("admin:sales_reports_ar_aging"), {"customer": value})
    record = client_admin.get(reverse("admin:sales_payment_record"), {"customer": value, "company": value})
    assert (aging.status_code, record.status_code) == (200, 200)
