"""Cursors are the client's input too: one edited, truncated or made up is 404 `not_found`
("Invalid cursor."), as documented, on every cursor-paginated list, and never reaches the database
(no 400 with the database's words, no error-level log for Sentry, no first page answered silently).
The links the API gives keep working, page after page."""

from __future__ import annotations

import base64
import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from audit.models import AuditEvent
from banking.tests.factories import bank_books, upload
from ledger.tests.factories import post_entry
from sales import services as sales_services
from sales.tests.factories import day
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success
from sofinance.tests.openapi_contract import published_schema

pytestmark = pytest.mark.django_db

COMPANY = "/api/v1/companies/{company_id}"

# Every cursor-paginated list (kept equal to the schema's below), with what its position is.
CURSOR_LISTS = {
    "/audit-events": "id",
    "/bank-accounts": "name",
    "/bank-accounts/{id}/lines": "date",
    "/bank-accounts/{id}/statements": "date",
    "/credit-notes": "date",
    "/customers": "name",
    "/discrepancies": "id",
    "/exports": "id",
    "/import-jobs": "datetime",
    "/integrity-runs": "id",
    "/invoices": "date",
    "/items": "name",
    "/journal-entries": "date",
    "/payments": "date",
    "/reports/general-ledger": "ledger",
    "/tax-rates": "name",
}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Wrong whatever the list: not base64, not a query string, fields unknown, repeated or out of range.
TAMPERED = {
    "not base64": "!!!",
    "not ascii": "é",
    "base64 with junk": b64("o=1") + "!",
    "NUL in the position": b64("p=%00"),
    "a negative offset": b64("o=-5&r=1&p=2026-11-04"),
    "an offset in other digits": b64("o=%D9%A1"),
    "reverse neither 0 nor 1": b64("r=2"),
    "not a query string": b64("zz"),
    "a field twice": b64("o=1&o=2"),
    "an unknown field": b64("q=1"),
}
# Wrong for the type of the list's position.
TAMPERED_POSITIONS = {
    "id": {"not a number": b64("p=abc"), "a fraction": b64("p=1.5"), "past a bigint": b64("p=" + "9" * 20)},
    "date": {
        "letters before the date": b64("p=zz2026-11-04"),
        "no such day": b64("p=2026-02-30"),
        "a date-time": b64("p=2026-11-04T10:00:00"),
    },
    "datetime": {
        "no offset": b64("p=2026-11-04 10:00:00"),
        "an offset PostgreSQL refuses": b64("p=2026-11-04 10:00:00%2B18:00"),
        "not a date-time": b64("p=yesterday"),
    },
    "name": {"longer than any name": b64("p=" + "x" * 1001)},
    "ledger": {
        "no such month": base64.urlsafe_b64encode(b"f|2026-13-01|1|1").decode().rstrip("="),
        "past a bigint": base64.urlsafe_b64encode(f"f|2026-01-01|{'9' * 20}|1".encode()).decode().rstrip("="),
        "a date written otherwise": base64.urlsafe_b64encode(b"f|20260101|1|1").decode().rstrip("="),
        "a signed number": base64.urlsafe_b64encode(b"f|2026-01-01|+1|1").decode().rstrip("="),
        "no direction": base64.urlsafe_b64encode(b"x|2026-01-01|1|1").decode().rstrip("="),
    },
}
CASES = [
    pytest.param(path, cursor, id=f"{path} {label}")
    for path, kind in CURSOR_LISTS.items()
    for label, cursor in {**TAMPERED, **TAMPERED_POSITIONS[kind]}.items()
]


@pytest.fixture
def books(make_member):
    bank = bank_books()
    _, client = make_member(bank.company, Role.ADMIN)
    return bank, client


def list_url(bank, path: str) -> str:
    url = f"/api/v1/companies/{bank.company_id}{path.format(id=bank.pk)}"
    return url + ("?account=1010" if path == "/reports/general-ledger" else "")


def with_cursor(url: str, cursor: str) -> str:
    from urllib.parse import quote

    return f"{url}{'&' if '?' in url else '?'}cursor={quote(cursor, safe='')}"


def test_the_lists_tested_are_every_cursor_paginated_list_of_the_schema():
    documented = {
        path.removeprefix(COMPANY)
        for path, operations in published_schema()["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict)
        and any(p["in"] == "query" and p["name"] == "cursor" for p in operation.get("parameters", []))
    }
    assert documented == set(CURSOR_LISTS)


@pytest.mark.parametrize(("path", "cursor"), CASES)
def test_a_tampered_cursor_is_404_invalid_cursor_and_logs_no_error(books, caplog, path, cursor):
    # given
    bank, client = books
    caplog.set_level(logging.WARNING)
    events = AuditEvent.objects.count()

    # when
    response = client.get(with_cursor(list_url(bank, path), cursor))

    # then
    error = assert_error(response, 404, "not_found")
    assert error == {
        "code": "not_found",
        "message": "Invalid cursor.",
        "details": {"cursor": ["Take it from the links in `meta.pagination`."]},
    }
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("path", list(CURSOR_LISTS))
def test_a_blank_cursor_is_the_first_page(books, path):
    bank, client = books
    first = assert_success(client.get(list_url(bank, path)))
    blank = assert_success(client.get(with_cursor(list_url(bank, path), "")))
    assert blank["data"] == first["data"]


def follow(client, url: str) -> list[int]:
    """The ids of every row, page after page, by the `next` links; checks each link's cursor is
    read back as given."""
    ids, pages = [], 0
    while url:
        body = assert_success(client.get(url))
        rows = body["data"]["lines"] if isinstance(body["data"], dict) else body["data"]
        ids += [row["id"] for row in rows]
        url = body["meta"]["pagination"]["next"]
        if url:
            assert parse_qs(urlsplit(url).query)["cursor"]
        pages += 1
        assert pages < 50
    return ids


def test_the_links_the_api_gives_walk_every_list_to_its_end(books):
    # given: rows sharing a position (four entries on one day, two statements' lines on one day,
    # names with accents), so that the cursors carry offsets and every type of position
    bank, client = books
    company = bank.company
    for _ in range(4):
        post_entry(company, "2026-03-05", ("6100", "1.00", "D"), ("1000", "1.00", "C"))
    post_entry(company, "2026-03-07", ("6100", "2.00", "D"), ("1010", "2.00", "C"))
    for name in ("Zoë AG", "Ærø ApS", "Ana & Co", "Ana & Co."):
        sales_services.customer_create(company=company, name=name, by=None)
    upload(bank, "ofx_march_1.ofx")
    upload(bank, "ofx_march_2.ofx")
    customer = sales_services.customer_create(company=company, name="Payer", by=None)
    for amount in ("10.00", "20.00", "30.00"):
        sales_services.payment_record(
            company=company, customer=customer, date=day("2026-03-10"), amount=amount, by=None
        )

    # when / then: one row a page, every row once, in the order of the list's first page
    for path in CURSOR_LISTS:
        url = list_url(bank, path)
        everything = assert_success(client.get(f"{url}{'&' if '?' in url else '?'}page_size=500"))["data"]
        rows = everything["lines"] if isinstance(everything, dict) else everything
        assert follow(client, f"{url}{'&' if '?' in url else '?'}page_size=1") == [r["id"] for r in rows], (
            path
        )


def test_more_rows_on_one_date_than_the_offset_limit_still_page_through_once_each(books):
    # given 1,600 entries of one date (an import's opening entries): past DRF's default offset
    # cut-off (1,000), pages of one position repeated and rows went missing
    from ledger.services import EntryInput, journal_entries_import

    bank, client = books
    lines = [{"account": "6100", "debit": "1.00"}, {"account": "1000", "credit": "1.00"}]
    for _ in range(2):
        journal_entries_import(
            company=bank.company,
            entries=[EntryInput(date=day("2026-03-05"), lines=lines) for _ in range(800)],
            by=None,
            max_entries=None,
        )

    # when the entries are read 500 a page by the API's own links
    ids = follow(client, f"/api/v1/companies/{bank.company_id}/journal-entries?page_size=500")

    # then every entry comes once
    assert len(ids) == 1600 and len(set(ids)) == 1600
