"""Cursors are the client's input too: one edited, truncated or made up is 404 `not_found`
("Invalid cursor."), as documented, on every cursor-paginated list, and never reaches the database
(no 400 with the database's words, no error-level log for Sentry, no first page answered silently).
The links the API gives keep working, page after page."""

from __future__ import annotations

import base64
import logging
from urllib.parse import parse_qs, quote, urlencode, urlsplit

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
    "/sales-deletions": "id",
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


def keyset(*values: str, reverse: bool = False) -> str:
    """A cursor written as the API writes one: `r=1` when reversed, then `p=` the boundary row's
    value of each ordering field."""
    return b64(urlencode([("r", "1")] * reverse + [("p", value) for value in values]))


# The values of each kind of list's ordering (its first field, then the unique id), well formed.
POSITIONS = {
    "id": ("5",),
    "date": ("2026-11-04", "5"),
    "datetime": ("2026-11-04 10:00:00+00:00", "5"),
    "name": ("Ana & Co", "5"),
}
# Wrong for the type of the list's first ordering field.
TAMPERED_POSITIONS = {
    "id": {"not a number": keyset("abc"), "a fraction": keyset("1.5"), "past a bigint": keyset("9" * 20)},
    "date": {
        "letters before the date": keyset("zz2026-11-04", "5"),
        "no such day": keyset("2026-02-30", "5"),
        "a date-time": keyset("2026-11-04T10:00:00", "5"),
        "a date written otherwise": keyset("2026-11-4", "5"),
    },
    "datetime": {
        "no offset": keyset("2026-11-04 10:00:00", "5"),
        "an offset PostgreSQL refuses": keyset("2026-11-04 10:00:00+18:00", "5"),
        "not a date-time": keyset("yesterday", "5"),
        "a date-time written otherwise": keyset("2026-11-04T10:00:00+00:00", "5"),
    },
    "name": {"longer than any name": keyset("x" * 1001, "5")},
    "ledger": {
        "no such month": base64.urlsafe_b64encode(b"f|2026-13-01|1|1").decode().rstrip("="),
        "past a bigint": base64.urlsafe_b64encode(f"f|2026-01-01|{'9' * 20}|1".encode()).decode().rstrip("="),
        "a date written otherwise": base64.urlsafe_b64encode(b"f|20260101|1|1").decode().rstrip("="),
        "a signed number": base64.urlsafe_b64encode(b"f|2026-01-01|+1|1").decode().rstrip("="),
        "no direction": base64.urlsafe_b64encode(b"x|2026-01-01|1|1").decode().rstrip("="),
    },
}


def tampered_keysets(values: tuple[str, ...]) -> dict[str, str]:
    """A well-formed position edited: a value too few or too many, the unique id wrong or written
    otherwise, a field the cursor does not have (DRF's offset among them), its fields reordered."""
    *first, _ = values
    written = urlencode([("p", value) for value in values])
    return {
        **({"a value too few": keyset(*first)} if first else {}),
        "a value too many": keyset(*values, "6"),
        "an empty position": keyset(""),
        "an offset beside the position": b64(f"o=3&{written}"),
        "reverse written as r=0": b64(f"r=0&{written}"),
        "reverse after the position": b64(f"{written}&r=1"),
        "an unknown field beside the position": b64(f"{written}&x=1"),
        "the position written otherwise": b64(written.replace("5", "%35")),
        "the id not a number": keyset(*first, "abc"),
        "the id signed": keyset(*first, "+5"),
        "the id with a space": keyset(*first, " 5"),
        "the id in other digits": keyset(*first, "\u0665"),
        "the id zero": keyset(*first, "0"),
        "the id negative": keyset(*first, "-5"),
        "the id past a bigint": keyset(*first, str(2**63)),
        "the id with a NUL": keyset(*first, "5\x00"),
        "a value not UTF-8": b64("&".join([*(f"p={quote(v)}" for v in first), "p=%FF"])),
    }


CASES = [
    pytest.param(path, cursor, id=f"{path} {label}")
    for path, kind in CURSOR_LISTS.items()
    for label, cursor in {
        **TAMPERED,
        **TAMPERED_POSITIONS[kind],
        **(tampered_keysets(POSITIONS[kind]) if kind in POSITIONS else {}),
    }.items()
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


@pytest.mark.parametrize("path", [path for path, kind in CURSOR_LISTS.items() if kind in POSITIONS])
@pytest.mark.parametrize("reverse", [False, True], ids=["next", "previous"])
def test_a_position_of_the_lists_types_is_read(books, path, reverse):
    # given a cursor written as the API writes one (of a row that need not be there): the
    # tampered cursors above are refused for what was changed in it, not for its form
    bank, client = books
    cursor = keyset(*POSITIONS[CURSOR_LISTS[path]], reverse=reverse)

    # when
    body = assert_success(client.get(with_cursor(list_url(bank, path), cursor)))

    # then: the rows after (before) it, with a link back the other way
    assert body["meta"]["pagination"]["previous" if not reverse else "next"] is not None


@pytest.mark.parametrize("path", [path for path, kind in CURSOR_LISTS.items() if kind in POSITIONS])
def test_a_reversed_cursor_with_no_position_is_the_lists_last_page(books, path):
    # (the link back from an empty page past the last row, one deleted meanwhile)
    bank, client = books
    url = list_url(bank, path)
    everything = assert_success(client.get(f"{url}?page_size=500"))["data"]

    body = assert_success(client.get(with_cursor(f"{url}?page_size=2", keyset(reverse=True))))

    assert body["data"] == everything[-2:]
    assert body["meta"]["pagination"]["next"] is None
    assert (body["meta"]["pagination"]["previous"] is None) == (len(everything) <= 2)


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
    # given: rows sharing their first ordering field (four entries on one day, two statements'
    # lines on one day, names with accents), so that the cursors carry every type of position
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
