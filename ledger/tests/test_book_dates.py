"""Every door that dates something in the books keeps to the books' dates (1900-01-01 to
9998-12-31): the reports select nothing outside them, so an entry dated 0001-01-01 or 9999-12-31
would be posted and never seen."""

from __future__ import annotations

import datetime

import pytest

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from conftest import auth_client
from ledger.models import AccountingPeriod, ExchangeRate, JournalEntry
from ledger.tests.factories import company_with_chart, post_entry
from sofinance.tests.asserts import assert_error

pytestmark = pytest.mark.django_db

OUTSIDE = ["0001-01-01", "1899-12-31", "9999-12-31"]
MESSAGE = "Accounting dates run from 1900-01-01 to 9998-12-31."


@pytest.fixture
def books():
    owner = UserFactory()
    company = company_with_chart(owner=owner)
    return company, auth_client(owner)


def _written(company) -> tuple[int, ...]:
    return (
        JournalEntry.objects.filter(company=company).count(),
        AccountingPeriod.objects.filter(company=company).count(),
        ExchangeRate.objects.filter(company=company).count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("date", OUTSIDE)
def test_a_reversal_dated_outside_the_books_is_refused_and_writes_nothing(books, date):
    company, client = books
    entry = post_entry(company, "2026-03-05", ("1000", "5.00", "D"), ("4000", "5.00", "C"))
    before = _written(company)

    response = client.post(
        f"/api/v1/companies/{company.pk}/journal-entries/{entry.pk}/reverse", {"date": date}, format="json"
    )

    assert assert_error(response, 400, "validation_error")["message"] == MESSAGE
    assert _written(company) == before
    entry.refresh_from_db()
    assert entry.reversed_by_id is None


@pytest.mark.parametrize("date", OUTSIDE)
def test_an_exchange_rate_dated_outside_the_books_is_refused(books, date):
    company, client = books
    before = _written(company)

    response = client.post(
        f"/api/v1/companies/{company.pk}/exchange-rates",
        {"from_currency": "EUR", "date": date, "rate": "1.1"},
        format="json",
    )

    assert "date" in assert_error(response, 400, "validation_error")["details"]
    assert _written(company) == before


@pytest.mark.parametrize(("start", "end"), [("2030-01-01", "9999-12-31"), ("1899-12-01", "1900-01-31")])
def test_a_period_reaching_outside_the_books_is_refused(books, start, end):
    company, client = books
    before = _written(company)

    response = client.post(
        f"/api/v1/companies/{company.pk}/periods", {"start_date": start, "end_date": end}, format="json"
    )

    assert assert_error(response, 400, "validation_error")["message"] == MESSAGE
    assert _written(company) == before


def test_the_posting_service_itself_refuses_a_date_outside_the_books(books):
    # the backstop under every door (sales documents, reversals, imports): entries_post
    from ledger.services import journal_entry_reverse
    from sofinance.errors import ValidationFailed

    company, _ = books
    entry = post_entry(company, "2026-03-05", ("1000", "5.00", "D"), ("4000", "5.00", "C"))
    with pytest.raises(ValidationFailed, match="Accounting dates run"):
        journal_entry_reverse(entry=entry, date=datetime.date(9999, 12, 31), by=None)
    assert JournalEntry.objects.filter(company=company).count() == 1
