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
