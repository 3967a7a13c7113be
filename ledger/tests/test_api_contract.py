"""Every ledger operation's real responses, on their success and refusal paths, validated against
the published OpenAPI schema (sofinance/tests/openapi_contract.py): an undocumented status, a
field whose type or nullability lies, an undocumented or a missing field fail here."""

from __future__ import annotations

import uuid

import pytest

from ledger.tests.factories import company_with_chart, post_entry
from sofinance.permissions import Role
from sofinance.tests.openapi_contract import Contract

pytestmark = pytest.mark.django_db

RENT = {
    "date": "2026-03-31",
    "description": "March rent",
    "reference": "LEASE-03",
    "post": True,
    "lines": [{"account": "6100", "debit": "1200.00"}, {"account": "1000", "credit": "1200.00"}],
}


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def test_every_ledger_operation_answers_as_documented(make_member):
    contract = Contract()
    check = contract.check
    books = company_with_chart()
    _, admin = make_member(books, Role.ADMIN)
    _, clerk = make_member(books, Role.CLERK)
    _, viewer = make_member(books, Role.VIEWER)
    base = f"/api/v1/companies/{books.pk}"
    entries = f"{base}/journal-entries"

    # journal entries: create (posted, draft), refusals
    posted = check(admin.post(entries, RENT, format="json", **key()), 201)["data"]
    draft = check(admin.post(entries, {**RENT, "post": False, "reference": "DRAFT"}, format="json"), 201)[
        "data"
    ]
    assert draft["number"] is None and draft["posted_by"] is None and draft["posted_at"] is None
    check(admin.post(entries, {**RENT, "lines": RENT["lines"][:1]}, format="json"), 422)
    check(admin.post(entries, {**RENT, "date": "31/03/2026"}, format="json"), 400)
    check(clerk.post(entries, RENT, format="json"), 403)
    check(viewer.post(entries, {**RENT, "post": False}, format="json"), 403)
    same = key()
    check(admin.post(entries, {**RENT, "reference": "A"}, format="json", **same), 201)
    check(admin.post(entries, {**RENT, "reference": "B"}, format="json", **same), 409)

    # list, with the one pair of date filters
    listed = check(admin.get(entries, {"from": "2026-03-01", "to": "2026-03-31", "status": "posted"}), 200)
    assert {e["reference"] for e in listed["data"]} == {"LEASE-03", "A"}
    refused = check(admin.get(entries, {"date_from": "2026-03-01"}), 400)
    assert refused["error"]["details"] == {"date_from": ["Not a filter of this list: use `from`."]}
    check(admin.get(entries, {"cursor": "not-a-cursor"}), 404)

    # one entry: read, change, delete, post, reverse
    check(viewer.get(f"{entries}/{posted['id']}"), 200)
    check(admin.get(f"{entries}/999999999"), 404)
    check(clerk.patch(f"{entries}/{draft['id']}", {"description": "Rent, March"}, format="json"), 200)
    check(admin.patch(f"{entries}/{posted['id']}", {"description": "x"}, format="json"), 409)
    check(admin.patch(f"{entries}/{draft['id']}", {"lines": RENT["lines"][:1]}, format="json"), 422)
    check(admin.delete(f"{entries}/{posted['id']}"), 409)
    check(viewer.delete(f"{entries}/{draft['id']}"), 403)
    check(admin.post(f"{entries}/{draft['id']}/post", format="json", **key()), 200)
    check(admin.post(f"{entries}/{draft['id']}/post", format="json"), 409)
    reversal = check(
        admin.post(f"{entries}/{posted['id']}/reverse", {"date": "2026-04-02"}, format="json", **key()), 201
    )
    assert reversal["data"]["reversal_of"] == posted["id"]
    check(admin.post(f"{entries}/{posted['id']}/reverse", {}, format="json"), 409)
    spare = check(admin.post(entries, {**RENT, "post": False}, format="json"), 201)["data"]
    check(admin.delete(f"{entries}/{spare['id']}"), 200)

    # bulk
    bulk = {"entries": [RENT, {**RENT, "reference": "LEASE-04", "date": "2026-04-30"}]}
    check(admin.post(f"{entries}/bulk", bulk, format="json", **key()), 201)
    check(admin.post(f"{entries}/bulk", {"entries": [RENT, {**RENT, "lines": []}]}, format="json"), 422)
    check(admin.post(f"{entries}/bulk", {"entries": "all"}, format="json"), 400)
    check(clerk.post(f"{entries}/bulk", bulk, format="json"), 403)

    # exchange rates
    rate = check(
        admin.post(
            f"{base}/exchange-rates",
            {"from_currency": "EUR", "date": "2026-03-31", "rate": "1.0850"},
            format="json",
            **key(),
        ),
        201,
    )["data"]
    check(
        admin.post(
            f"{base}/exchange-rates",
            {"from_currency": "EUR", "date": "2026-03-31", "rate": "1.00000000001"},
            format="json",
        ),
        422,
    )
    check(
        admin.post(
            f"{base}/exchange-rates",
            {"from_currency": "EUR", "date": "2026-03-31", "rate": "-1"},
            format="json",
        ),
        400,
    )
    check(viewer.get(f"{base}/exchange-rates", {"from_currency": "EUR", "from": "2026-01-01"}), 200)
    check(viewer.get(f"{base}/exchange-rates/{rate['id']}"), 200)
    check(clerk.delete(f"{base}/exchange-rates/{rate['id']}"), 403)
    check(admin.delete(f"{base}/exchange-rates/{rate['id']}"), 200)

    # periods
    march = check(
        admin.post(
            f"{base}/periods", {"start_date": "2026-03-01", "end_date": "2026-03-31"}, format="json", **key()
        ),
        201,
    )
    march_url = f"{base}/periods/{march['data']['id']}"
    assert march["data"]["closed_by"] is None
    check(
        admin.post(f"{base}/periods", {"start_date": "2026-03-15", "end_date": "2026-04-15"}, format="json"),
        409,
    )
    check(admin.post(f"{base}/periods/generate", {"fiscal_year": 2026}, format="json"), 409)
    check(admin.post(f"{base}/periods/generate", {"fiscal_year": 2027}, format="json", **key()), 201)
    check(viewer.get(f"{base}/periods"), 200)
    check(viewer.get(march_url), 200)
    check(admin.post(f"{march_url}/close", format="json"), 200)
    closed = check(viewer.get(march_url), 200)
    assert closed["data"]["closed_by"] is not None
    check(admin.post(entries, RENT, format="json"), 422)
    check(admin.post(f"{march_url}/close", format="json"), 409)
    check(admin.delete(march_url), 409)
    check(admin.post(f"{march_url}/reopen", {}, format="json"), 400)
    check(admin.post(f"{march_url}/reopen", {"reason": "Late invoice"}, format="json"), 200)
    check(admin.post(f"{march_url}/lock", format="json"), 200)
    check(admin.post(f"{march_url}/lock", format="json"), 409)
    check(clerk.post(f"{march_url}/lock", format="json"), 403)
    may = check(
        admin.post(f"{base}/periods", {"start_date": "2026-05-01", "end_date": "2026-05-31"}, format="json"),
        201,
    )
    check(admin.delete(f"{base}/periods/{may['data']['id']}"), 200)

    # the year-end close of a year that has ended
    post_entry(books, "2024-06-30", ("1000", "500.00", "D"), ("4000", "500.00", "C"))
    post_entry(books, "2024-07-31", ("6100", "200.00", "D"), ("1000", "200.00", "C"))
    check(admin.post(f"{base}/fiscal-years/2099/close", format="json"), 422)
    closing = check(admin.post(f"{base}/fiscal-years/2024/close", format="json", **key()), 201)
    assert closing["data"]["closing_entry"]["source"] == "closing" and closing["meta"]["periods_closed"] == 12
    check(admin.post(f"{base}/fiscal-years/2024/close", format="json"), 422)
    check(viewer.get(f"{base}/fiscal-years"), 200)
    check(admin.post(f"{base}/fiscal-years/2024/reopen", {}, format="json"), 400)
    reopened = check(admin.post(f"{base}/fiscal-years/2024/reopen", {"reason": "Audit"}, format="json"), 200)
    assert isinstance(reopened["data"]["closing_entry"], int) and reopened["data"]["reopened_at"]
    check(admin.post(f"{base}/fiscal-years/2024/reopen", {"reason": "Again"}, format="json"), 422)
    check(admin.post(f"{base}/fiscal-years/2026/reopen", {"reason": "x"}, format="json"), 422)

    # reports, as JSON and CSV
    reports = f"{base}/reports"
    check(viewer.get(f"{reports}/trial-balance", {"as_of": "2026-12-31", "include_zero": "true"}), 200)
    check(viewer.get(f"{reports}/trial-balance", {"as_of": "2026-12-31", "format": "csv"}), 200)
    check(viewer.get(f"{reports}/trial-balance", {"as_of": "2026-13-01"}), 400)
    check(viewer.get(f"{reports}/balance-sheet", {"as_of": "2026-12-31"}), 200)
    check(viewer.get(f"{reports}/balance-sheet", {"format": "csv"}), 200)
    check(viewer.get(f"{reports}/income-statement", {"from": "2026-01-01", "to": "2026-12-31"}), 200)
    check(
        viewer.get(
            f"{reports}/income-statement", {"from": "2026-01-01", "to": "2026-12-31", "format": "csv"}
        ),
        200,
    )
    check(viewer.get(f"{reports}/income-statement", {"date_from": "2026-01-01", "to": "2026-12-31"}), 400)
    check(
        viewer.get(f"{reports}/general-ledger", {"account": "1000", "from": "2026-01-01", "page_size": 1}),
        200,
    )
    check(viewer.get(f"{reports}/general-ledger", {"account": "1000", "format": "csv"}), 200)
    euros = check(
        admin.post(
            f"{base}/accounts",
            {"code": "1030", "name": "Bank (EUR)", "type": "asset", "currency": "EUR"},
            format="json",
        ),
        201,
    )
    euro_rent = {"account": "1030", "credit": "100.00", "fx_rate": "1.1"}
    check(
        admin.post(
            entries,
            {**RENT, "date": "2026-06-30", "lines": [{"account": "6100", "debit": "110.00"}, euro_rent]},
            format="json",
        ),
        201,
    )
    foreign = check(viewer.get(f"{reports}/general-ledger", {"account_id": euros["data"]["id"]}), 200)
    assert foreign["data"]["closing_balance_in_account_currency"] == "-100.00"
    check(viewer.get(f"{reports}/trial-balance"), 200)
    check(viewer.get(f"{reports}/general-ledger", {"account": "9999"}), 404)
    check(viewer.get(f"{reports}/general-ledger"), 400)

    # then: every ledger operation was checked, and every kind of refusal
    expected = contract.operations_of("ledger")
    assert len(expected) == 27
    assert expected - contract.checked_operations() == set()
    assert {"400", "403", "404", "409", "422"} <= contract.checked_statuses()
