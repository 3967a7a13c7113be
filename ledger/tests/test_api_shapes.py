"""The entry shapes are rendered by hand for speed; these keep them equal to what they document."""

import pytest
from rest_framework import serializers

from ledger.api.entry_input import ENTRY_FIELDS, LINE_FIELDS
from ledger.api.serializers import (
    JournalEntryCreateInput,
    JournalEntryOutput,
    JournalLineInput,
    JournalLineOutput,
)
from ledger.selectors import journal_entry_get
from ledger.services import journal_entry_reverse
from ledger.tests.factories import company_with_chart, post_entry

pytestmark = pytest.mark.django_db


def test_a_rendered_entry_has_exactly_the_documented_fields_in_drfs_formats():
    books = company_with_chart()
    original = post_entry(books, "2026-01-05", ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    journal_entry_reverse(entry=original, by=None)
    entry = journal_entry_get(company=books, pk=original.pk)
    data = JournalEntryOutput(entry, context={"currency": "USD"}).data
    assert list(data) == list(JournalEntryOutput().fields)
    assert list(data["lines"][0]) == list(JournalLineOutput().fields)
    assert data["reversed_by"] == entry.reversed_by_id and data["reversal_of"] is None
    assert data["posted_at"] == serializers.DateTimeField().to_representation(entry.posted_at)
    assert data["created_at"] == serializers.DateTimeField().to_representation(entry.created_at)
    assert data["date"] == "2026-01-05"


def test_the_body_parser_reads_exactly_the_documented_fields():
    assert list(ENTRY_FIELDS) == list(JournalEntryCreateInput().fields)
    assert list(LINE_FIELDS) == list(JournalLineInput().fields)


def test_a_page_of_entries_costs_the_same_queries_however_many_lines_it_shows(
    make_member, django_assert_num_queries
):
    books = company_with_chart()
    poster, client = make_member(books)
    url = f"/api/v1/companies/{books.pk}/journal-entries?page_size=50"
    post_entry(books, "2026-01-05", ("6100", "10.00", "D"), ("1000", "10.00", "C"), by=poster)
    client.get(url)  # warm the per-process caches (membership, token)
    with django_assert_num_queries(3) as small:  # membership+user, the entries, their lines
        response = client.get(url)
    assert response.status_code == 200 and len(response.json()["data"]) == 1
    for day in range(2, 30):
        post_entry(
            books,
            f"2026-03-{day:02d}",
            ("6100", "4.00", "D"),
            ("6200", "6.00", "D"),
            ("1000", "10.00", "C"),
            by=None,
        )
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    data = response.json()["data"]
    assert len(data) == 29
    newest, oldest = data[0], data[-1]
    assert [line["account_code"] for line in newest["lines"]] == ["6100", "6200", "1000"]
    assert [line["line_no"] for line in newest["lines"]] == [1, 2, 3]
    assert newest["created_by"] is None and newest["posted_by"] is None
    assert oldest["created_by"] == poster.username and oldest["posted_by"] == poster.username
    assert [line["account_name"] for line in oldest["lines"]] == [
        books.accounts.get(code="6100").name,
        books.accounts.get(code="1000").name,
    ]


def test_posting_an_entry_over_the_api_costs_its_round_trips_and_no_read_back(
    make_member, django_assert_num_queries
):
    # given: a member posting one entry (the per-process caches warm)
    books = company_with_chart()
    _poster, client = make_member(books)
    url = f"/api/v1/companies/{books.pk}/journal-entries"

    def body(amount):
        return {
            "date": "2026-01-05",
            "post": True,
            "lines": [{"account": "6100", "debit": amount}, {"account": "1000", "credit": amount}],
        }

    client.post(url, body("1.00"), format="json")
    # then: the membership, the two posting round trips inside BEGIN ... COMMIT, and nothing
    # read back (the answer is built from what was written; a new entry is quarantined by no one)
    with django_assert_num_queries(5) as queries:
        response = client.post(url, body("2.00"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["data"]["quarantined"] is False
    assert not any("quarantine" in query["sql"] for query in queries.captured_queries)
