"""Cursor pages are a keyset on the list's whole ordering: a page starts right after the row its
cursor names (by every ordering field, down to the unique id), with no OFFSET. So rows sharing a
date (an import's 1,600 entries of one day) page through once each, in order, forwards and back,
and a page deep in one date is read by the same query, and as few rows, as the first."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from banking.tests.factories import EUROPEAN_MAPPING, bank_books, upload
from ledger.models import JournalEntry
from ledger.selectors import journal_entries_for_company
from ledger.services import EntryInput, journal_entries_import
from sales import services as sales_services
from sales.models import Customer
from sales.tests.factories import day
from sofinance.api.pagination import EnvelopeCursorPagination
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_success

pytestmark = pytest.mark.django_db

LINES = [{"account": "6100", "debit": "1.00"}, {"account": "1000", "credit": "1.00"}]


@pytest.fixture
def books(make_member):
    bank = bank_books(csv_mapping=EUROPEAN_MAPPING)
    _, client = make_member(bank.company, Role.ADMIN)
    return bank, client


def entries_of_one_busy_day(company) -> list[int]:
    """Three entries of 6 March, then an import's 1,600 of 5 March, then three of 4 March (so the
    ids run against the dates); the ids in the journal's order, newest date first."""
    for date, count in (("2026-03-06", 3), ("2026-03-05", 1600), ("2026-03-04", 3)):
        entries = [EntryInput(date=day(date), lines=LINES) for _ in range(count)]
        journal_entries_import(
            company=company, entries=entries, by=None, max_entries=None, audit_per_entry=False
        )
    return list(
        JournalEntry.objects.filter(company=company).order_by("-date", "-id").values_list("id", flat=True)
    )


def page_at(client, url: str) -> tuple[dict, list[str]]:
    """The page's body and the SQL it ran."""
    with CaptureQueriesContext(connection) as queries:
        body = assert_success(client.get(url))
    return body, [query["sql"] for query in queries.captured_queries]


def ids_of(body: dict) -> list[int]:
    return [row["id"] for row in body["data"]]


def walk_both_ways(client, url: str) -> list[dict]:
    """Every page by the `next` links, then back from the last by the `previous` links: each page
    read backwards is the page read forwards (rows and links alike), and no page's SQL has an
    OFFSET. Returns the pages in order."""
    pages = []
    while url:
        body, sql = page_at(client, url)
        assert not any("OFFSET" in statement.upper() for statement in sql), sql
        pages.append(body)
        url = body["meta"]["pagination"]["next"]
        assert len(pages) < 100
    assert pages[0]["meta"]["pagination"]["previous"] is None

    url, back = pages[-1]["meta"]["pagination"]["previous"], []
    while url:
        body, sql = page_at(client, url)
        assert not any("OFFSET" in statement.upper() for statement in sql), sql
        back.append(body)
        url = body["meta"]["pagination"]["previous"]
        assert len(back) < 100
    back.reverse()
    assert [ids_of(page) for page in back] == [ids_of(page) for page in pages[:-1]]
    assert [page["meta"]["pagination"] for page in back] == [
        page["meta"]["pagination"] for page in pages[:-1]
    ]
    return pages


def test_1600_entries_of_one_date_page_once_each_in_order_and_back(books):
    # given
    bank, client = books
    journal = entries_of_one_busy_day(bank.company)

    # when the journal is read 500 a page by its next links, and back by its previous links
    pages = walk_both_ways(client, f"/api/v1/companies/{bank.company_id}/journal-entries?page_size=500")

    # then every entry comes once, in the journal's order, 500 a page
    assert [len(ids_of(page)) for page in pages] == [500, 500, 500, 106]
    assert [entry_id for page in pages for entry_id in ids_of(page)] == journal
    assert all(page["meta"]["pagination"]["page_size"] == 500 for page in pages)
    assert all("page_size=500" in page["meta"]["pagination"]["next"] for page in pages[:-1])
    assert pages[-1]["meta"]["pagination"]["next"] is None


def list_query(sql: list[str]) -> str:
    (query,) = [q for q in sql if 'FROM "ledger_journalentry"' in q and "ORDER BY" in q]
    return query


def rows_read_from(plan: dict, table: str) -> int:
    """The rows a plan read from `table`: those it returned and those its filters threw away."""
    own = 0
    if plan.get("Relation Name") == table:
        own = (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * plan["Actual Loops"]
    return own + sum(rows_read_from(child, table) for child in plan.get("Plans", []))


def rows_read(query: str) -> int:
    """The rows of journal entries PostgreSQL reads to answer `query`, planned as for a large
    table (by the index, not by scanning and sorting these few thousand rows)."""
    with connection.cursor() as cursor:
        for setting in ("seqscan", "bitmapscan", "sort", "hashjoin", "mergejoin"):  # the plan for many rows
            cursor.execute(f"SET LOCAL enable_{setting} = off")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}")
        (row,) = cursor.fetchall()
        for setting in ("seqscan", "bitmapscan", "sort", "hashjoin", "mergejoin"):
            cursor.execute(f"SET LOCAL enable_{setting} TO DEFAULT")
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return rows_read_from(plan[0]["Plan"], "ledger_journalentry")


def test_a_page_deep_in_one_date_is_read_as_the_first_is_with_no_offset(books):
    # given 1,600 entries of one date, read 500 a page: the first, the second
    bank, client = books
    entries_of_one_busy_day(bank.company)
    first, first_sql = page_at(client, f"/api/v1/companies/{bank.company_id}/journal-entries?page_size=500")
    second, second_sql = page_at(client, first["meta"]["pagination"]["next"])

    # when the third page is read, 997 entries into the date, and the fourth, 1,497 into it
    third, third_sql = page_at(client, second["meta"]["pagination"]["next"])
    fourth, fourth_sql = page_at(client, third["meta"]["pagination"]["next"])

    # then their queries have no OFFSET and are the second page's, but for the row they start after
    pages = [(first, second_sql), (second, third_sql), (third, fourth_sql)]
    shapes = set()
    for before, sql in pages:
        query, after_id = list_query(sql), before["data"][-1]["id"]
        assert "OFFSET" not in query.upper() and "LIMIT 501" in query
        assert f", {after_id})" in query  # (date, id) < ('2026-03-05', after_id)
        shapes.add(query.replace(f", {after_id})", ", <id>)"))
    assert len(shapes) == 1
    if connection.vendor == "postgresql":
        # and each reads the rows it sends (and one to know there is more), as the first page does:
        # not the rows of that date it starts after
        first_rows, *rows = (
            rows_read(list_query(sql)) for sql in (first_sql, second_sql, third_sql, fourth_sql)
        )
        assert first_rows == 501 and rows == [501, 501, len(fourth["data"])] == [501, 501, 106]


@pytest.mark.parametrize(
    "ordering",
    [
        ("date", "id"),
        ("-date", "-id"),
        ("-date", "id"),
        ("date", "-id"),
        ("description", "-date", "id"),
        ("-description", "date", "-id"),
        ("-id",),
        ("id",),
    ],
    ids=str,
)
def test_every_ordering_pages_by_its_whole_keyset_forwards_and_back(books, ordering):
    # given entries whose first ordering fields repeat across pages (three dates, two
    # descriptions, ids running against the dates), and a list paginated by `ordering`
    bank, _ = books
    entries = [
        EntryInput(date=day(f"2026-03-0{4 + (n * 7) % 3}"), description="ab"[n % 2], lines=LINES)
        for n in range(23)
    ]
    journal_entries_import(
        company=bank.company, entries=entries, by=None, max_entries=None, audit_per_entry=False
    )
    queryset = JournalEntry.objects.filter(company=bank.company)
    expected = list(queryset.order_by(*ordering).values_list("id", flat=True))
    paginator_class = type("Paginator", (EnvelopeCursorPagination,), {"ordering": ordering, "page_size": 4})

    def read(url: str):
        paginator = paginator_class()
        with CaptureQueriesContext(connection) as queries:
            page = paginator.paginate_queryset(queryset, Request(APIRequestFactory().get(url)))
        assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
        return [row.id for row in page], paginator.get_next_link(), paginator.get_previous_link()

    # when it is read 4 a page by the next links, then back by the previous links
    pages, url = [], "/entries"
    while url:
        ids, url, previous = read(url)
        pages.append(ids)
    back, url = [], previous
    while url:
        ids, _, url = read(url)
        back.append(ids)

    # then every entry comes once in the ordering's order, and the pages back are the same pages
    assert [entry_id for page in pages for entry_id in page] == expected
    assert [len(page) for page in pages] == [4, 4, 4, 4, 4, 3]
    assert back[::-1] == pages[:-1]


def test_bank_lines_of_one_date_page_in_date_order_forwards_and_back(books):
    # given a statement whose lines share dates (eight of 5 March), read 3 a page in date order
    bank, client = books
    rows = ["Booking date;Payee;Reference;Details;Amount;Balance"]
    balance = 100000
    for n, date in enumerate(["04.03.2026"] * 2 + ["05.03.2026"] * 8 + ["06.03.2026"] * 3):
        balance += n + 1
        rows.append(f"{date};Payee {n};REF-{n};Line {n};{n + 1},00;{balance},00")
    upload(bank, "\n".join(rows).encode() + b"\n")
    url = f"/api/v1/companies/{bank.company_id}/bank-accounts/{bank.pk}/lines"
    everything = assert_success(client.get(f"{url}?page_size=500"))["data"]

    # when
    pages = walk_both_ways(client, f"{url}?page_size=3")

    # then
    lines = [line for page in pages for line in page["data"]]
    assert [line["id"] for line in lines] == [line["id"] for line in everything]
    assert len(lines) == 13 and len({line["id"] for line in lines}) == 13
    assert [(line["date"], line["id"]) for line in lines] == sorted(
        (line["date"], line["id"]) for line in lines
    )


def test_customers_of_one_name_page_in_name_order_forwards_and_back(books):
    # given customers whose names repeat (four "Ana & Co", created between the others)
    bank, client = books
    for name in ("Ana & Co", "Zoë AG", "Ana & Co", "Ærø ApS", "Ana & Co", "ana & co", "Ana & Co", "Bea"):
        sales_services.customer_create(company=bank.company, name=name, by=None)
    url = f"/api/v1/companies/{bank.company_id}/customers"

    # when they are read 2 a page, forwards and back
    pages = walk_both_ways(client, f"{url}?page_size=2")

    # then each comes once, in the database's order of (name, id)
    expected = list(
        Customer.objects.filter(company=bank.company).order_by("name", "id").values_list("id", flat=True)
    )
    assert [row["id"] for page in pages for row in page["data"]] == expected
    assert [len(page["data"]) for page in pages] == [2, 2, 2, 2]


@pytest.fixture
def four_entries(books):
    """Four entries of one date and a paginator class reading 3 a page."""
    bank, _ = books
    entries = [EntryInput(date=day("2026-03-05"), lines=LINES) for _ in range(4)]
    journal_entries_import(
        company=bank.company, entries=entries, by=None, max_entries=None, audit_per_entry=False
    )
    everything = JournalEntry.objects.filter(company=bank.company)
    return everything, type("Paginator", (EnvelopeCursorPagination,), {"page_size": 3})


def test_a_page_after_the_last_row_is_empty_with_a_link_back_to_the_last_rows(four_entries):
    # given four entries, read 3 a page, and the link to the page after the third
    everything, paginator_class = four_entries

    def read(queryset, url):
        paginator = paginator_class()
        rows = paginator.paginate_queryset(queryset, Request(APIRequestFactory().get(url)))
        return rows, paginator.get_next_link(), paginator.get_previous_link()

    first_page, after_third, _ = read(everything, "/entries")

    # when it is followed once the fourth entry has left the list (a draft deleted meanwhile)
    remaining = everything.exclude(pk=everything.order_by("id").first().pk)
    page, next_link, previous_link = read(remaining, after_third)

    # then the page is empty and the list's end, and its link back leads to the three rows before
    # it, the third included (not the two before the third)
    assert page == [] and next_link is None
    back, next_link, previous_link = read(remaining, previous_link)
    assert back == first_page and previous_link is None and next_link is None


def test_a_page_before_the_first_row_is_empty_with_a_link_to_the_first_page(four_entries):
    # given four entries, the second page of 3, and its link back to the page before its row
    everything, paginator_class = four_entries
    paginator = paginator_class()
    paginator.paginate_queryset(everything, Request(APIRequestFactory().get("/entries")))
    second = paginator_class()
    assert (
        len(second.paginate_queryset(everything, Request(APIRequestFactory().get(paginator.get_next_link()))))
        == 1
    )
    before_fourth = second.get_previous_link()

    # when it is followed once the three newer entries have left the list
    remaining = everything.filter(pk=everything.order_by("id").first().pk)
    empty = paginator_class()
    page = empty.paginate_queryset(remaining, Request(APIRequestFactory().get(before_fourth)))

    # then the page is empty, the list's start, with a link on to the first page (no cursor)
    assert page == [] and empty.get_previous_link() is None
    assert empty.get_next_link() == "http://testserver/entries"


def test_an_ordering_that_is_not_a_keyset_is_refused_when_the_class_is_made():
    # an ordering without the unique id last has rows sharing a position: no keyset can page them
    for ordering in (
        ("date",),
        ("-date", "description"),
        ("id", "date"),
        ("date", "date", "id"),
        ("company__name", "id"),
    ):
        with pytest.raises(AssertionError):
            type("Paginator", (EnvelopeCursorPagination,), {"ordering": ordering})
    type("Paginator", (EnvelopeCursorPagination,), {"ordering": ("-date", "-id")})  # one that is


@pytest.mark.parametrize(
    ("ordering", "why"),
    [
        (("-posted_at", "-id"), "NULL"),  # a draft has no posted_at
        (("number", "id"), "NULL"),  # nor a number
        (("created_by_username", "id"), "annotation"),
        (("company", "id"), "relation"),
    ],
)
def test_an_ordering_by_a_nullable_column_or_an_annotation_is_refused(books, ordering, why):
    # a keyset cannot page by a value that may be NULL (NULL compares to nothing) nor read an
    # annotation's value back from a cursor strictly
    bank, _ = books
    paginator = type("Paginator", (EnvelopeCursorPagination,), {"ordering": ordering})()
    request = Request(APIRequestFactory().get("/entries"))
    with pytest.raises(AssertionError, match=why):
        paginator.paginate_queryset(journal_entries_for_company(company=bank.company), request)
