"""The journal-entry and exchange-rate API, exactly as DESIGN.md's contract gives it."""

import threading
import uuid

import pytest
from django.db import connections

from audit.models import AuditEvent
from conftest import auth_client
from ledger.models import DailyBalance, JournalEntry, JournalLine
from ledger.tests.factories import account, company_with_chart, post_entry
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db

RENT = {
    "date": "2026-03-31",
    "description": "March rent",
    "reference": "INV-7781",
    "post": True,
    "lines": [{"account": "6100", "debit": "1200.00"}, {"account": "1000", "credit": "1200.00"}],
}


@pytest.fixture
def books():
    return company_with_chart()


@pytest.fixture
def accountant(books, make_member):
    return make_member(books, Role.ACCOUNTANT)[1]


def url(company, suffix=""):
    return f"/api/v1/companies/{company.pk}/journal-entries{suffix}"


def written(company) -> tuple[int, int, int, int]:
    return (
        JournalEntry.objects.filter(company=company).count(),
        JournalLine.objects.filter(company=company).count(),
        DailyBalance.objects.filter(company=company).count(),
        AuditEvent.objects.filter(company_id=company.pk).count(),
    )


def test_post_entry_returns_the_contract_shape(books, accountant):
    response = accountant.post(url(books), RENT, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["success"] is True and body["error"] is None
    data = body["data"]
    assert data["number"] == "JE-2026-000001"
    assert data["status"] == "posted"
    assert (data["date"], data["description"], data["reference"]) == ("2026-03-31", "March rent", "INV-7781")
    assert (data["total_debit"], data["total_credit"]) == ("1200.00", "1200.00")
    assert data["reversal_of"] is None and data["reversed_by"] is None and data["posted_at"]
    rent, cash = account(books, "6100"), account(books, "1000")
    assert [
        {
            k: line[k]
            for k in (
                "account",
                "account_code",
                "debit",
                "credit",
                "currency",
                "amount",
                "fx_rate",
                "base_amount",
                "description",
            )
        }
        for line in data["lines"]
    ] == [
        {
            "account": rent.pk,
            "account_code": "6100",
            "debit": "1200.00",
            "credit": "0.00",
            "currency": "USD",
            "amount": "1200.00",
            "fx_rate": "1",
            "base_amount": "1200.00",
            "description": "",
        },
        {
            "account": cash.pk,
            "account_code": "1000",
            "debit": "0.00",
            "credit": "1200.00",
            "currency": "USD",
            "amount": "-1200.00",
            "fx_rate": "1",
            "base_amount": "-1200.00",
            "description": "",
        },
    ]
    assert all(isinstance(line["id"], int) for line in data["lines"])


def test_account_is_an_id_when_a_number_and_a_code_when_a_string(books, accountant):
    rent = account(books, "6100")
    body = {**RENT, "lines": [{"account": rent.pk, "debit": "5.00"}, {"account": "1000", "credit": "5.00"}]}
    response = accountant.post(url(books), body, format="json")
    assert response.status_code == 201
    assert [line["account_code"] for line in response.json()["data"]["lines"]] == ["6100", "1000"]
    # the code "6100" as a number is an id, which does not exist here
    body = {**RENT, "lines": [{"account": 6100, "debit": "5.00"}, {"account": "1000", "credit": "5.00"}]}
    before = written(books)
    response = accountant.post(url(books), body, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_account"
    assert written(books) == before


def test_trailing_slash_works_without_redirect(books, accountant):
    response = accountant.get(url(books, "/"))
    assert response.status_code == 200
    assert response.json()["success"] is True


@pytest.mark.parametrize(
    ("lines", "status", "code"),
    [
        (
            [{"account": "6100", "debit": "100.00"}, {"account": "1000", "credit": "90.00"}],
            422,
            "unbalanced_entry",
        ),
        ([{"account": "6100", "debit": "100.00"}], 422, "unbalanced_entry"),
        (
            [{"account": "6100", "debit": "100.001"}, {"account": "1000", "credit": "100.001"}],
            422,
            "currency_precision",
        ),
        ([{"account": "6100", "debit": "0"}, {"account": "1000", "credit": "0"}], 400, "validation_error"),
        ([{"account": "6100", "debit": "-5"}, {"account": "1000", "debit": "5"}], 400, "validation_error"),
        (
            [{"account": "6100", "debit": "5", "credit": "5"}, {"account": "1000", "credit": "5"}],
            400,
            "validation_error",
        ),
        ([{"account": "60", "debit": "5"}, {"account": "1000", "credit": "5"}], 422, "invalid_account"),
        (
            [{"account": "6100", "debit": "5", "currency": "EUR"}, {"account": "1000", "credit": "5"}],
            422,
            "missing_exchange_rate",
        ),
        ([{"account": "6100", "debit": "abc"}, {"account": "1000", "credit": "5"}], 400, "validation_error"),
        ([{"debit": "5"}, {"account": "1000", "credit": "5"}], 400, "validation_error"),
    ],
)
def test_invalid_entries_get_their_error_code_and_write_nothing(books, accountant, lines, status, code):
    before = written(books)
    response = accountant.post(url(books), {**RENT, "lines": lines}, format="json")
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["success"] is False and body["data"] is None
    assert body["error"]["code"] == code
    assert written(books) == before


def test_unbalanced_message_names_both_totals(books, accountant):
    lines = [{"account": "6100", "debit": "100.00"}, {"account": "1000", "credit": "90.00"}]
    error = accountant.post(url(books), {**RENT, "lines": lines}, format="json").json()["error"]
    assert error["message"] == "Debits 100.00 do not equal credits 90.00."
    assert error["details"]["difference"] == "10.00"


def test_a_rate_that_turns_a_line_into_nothing_is_refused_naming_the_line(books, accountant):
    # a typo'd rate: 10.00 EUR at 0.0000000001 is 0.00 in the books' currency
    lines = [
        {"account": "6100", "debit": "10.00", "currency": "EUR", "fx_rate": "0.0000000001"},
        {"account": "1000", "credit": "0.01"},
    ]
    before = written(books)
    response = accountant.post(url(books), {**RENT, "lines": lines}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert (
        error["message"]
        == "Line 1: At the rate 0.0000000001, 10.00 EUR is 0.00 USD: a line must carry value in USD. Check the rate."
    )
    assert list(error["details"]["lines"]["0"]) == ["fx_rate"]
    assert written(books) == before


def test_a_rate_that_turns_a_line_into_an_absurd_amount_is_refused_naming_the_line(books, accountant):
    # the other typo: 40.00 EUR at 99999999999999 would book 3,999,999,999,999,960.00 USD
    lines = [
        {"account": "6100", "debit": "40.00", "currency": "EUR", "fx_rate": "99999999999999"},
        {"account": "1000", "credit": "1.00"},
    ]
    before = written(books)
    response = accountant.post(url(books), {**RENT, "lines": lines}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == (
        "Line 1: At the rate 99999999999999, 40.00 EUR is 3999999999999960.00 USD, more than the books "
        "hold (amounts stay under 1,000,000,000,000,000). Check the rate."
    )
    assert "fx_rate" in error["details"]["lines"]["0"]
    assert written(books) == before


def test_json_numbers_are_read_exactly(books, accountant):
    # 0.1 + 0.2 as floats would not equal 0.3; as decimals they do
    raw = (
        '{"date": "2026-03-31", "post": true, "lines": [{"account": "6100", "debit": 0.1}, '
        '{"account": "6200", "debit": 0.2}, {"account": "1000", "credit": 0.3}]}'
    )
    response = accountant.post(url(books), raw, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["total_debit"] == "0.30"


def test_nan_literal_is_refused(books, accountant):
    raw = '{"date": "2026-03-31", "lines": [{"account": "6100", "debit": NaN}, {"account": "1000", "credit": 1}]}'
    response = accountant.post(url(books), raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert JournalEntry.objects.filter(company=books).count() == 0


def test_draft_lifecycle_edit_post_reverse(books, accountant):
    created = accountant.post(url(books), {**RENT, "post": False}, format="json").json()["data"]
    assert (created["status"], created["number"]) == ("draft", None)
    entry_url = url(books, f"/{created['id']}")
    patched = accountant.patch(entry_url, {"description": "Rent, March"}, format="json")
    assert patched.status_code == 200 and patched.json()["data"]["description"] == "Rent, March"
    posted = accountant.post(f"{entry_url}/post", format="json")
    assert posted.status_code == 200 and posted.json()["data"]["number"] == "JE-2026-000001"
    # a posted entry cannot be edited or deleted
    assert (
        accountant.patch(entry_url, {"description": "x"}, format="json").json()["error"]["code"]
        == "entry_immutable"
    )
    assert accountant.delete(entry_url).status_code == 409
    # reverse with another date and description
    reversal = accountant.post(
        f"{entry_url}/reverse", {"date": "2026-04-01", "description": "Undo"}, format="json"
    )
    assert reversal.status_code == 201
    data = reversal.json()["data"]
    assert (data["reversal_of"], data["date"], data["description"], data["number"]) == (
        created["id"],
        "2026-04-01",
        "Undo",
        "JE-2026-000002",
    )
    assert [(ln["debit"], ln["credit"]) for ln in data["lines"]] == [("0.00", "1200.00"), ("1200.00", "0.00")]
    assert accountant.get(entry_url).json()["data"]["reversed_by"] == data["id"]
    again = accountant.post(f"{entry_url}/reverse", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["details"]["reason"] == "already_reversed"


def test_delete_draft(books, accountant):
    created = accountant.post(url(books), {**RENT, "post": False}, format="json").json()["data"]
    response = accountant.delete(url(books, f"/{created['id']}"))
    assert response.status_code == 200 and response.json()["success"] is True
    assert not JournalEntry.objects.filter(pk=created["id"]).exists()


def test_list_filters_and_cursor_pagination(books, accountant):
    post_entry(books, "2026-01-10", ("6100", "1.00", "D"), ("1000", "1.00", "C"), reference="A")
    post_entry(books, "2026-02-10", ("6200", "2.00", "D"), ("1000", "2.00", "C"), reference="B")
    post_entry(books, "2026-03-10", ("6100", "3.00", "D"), ("1010", "3.00", "C"), reference="C", post=False)

    def refs(query):
        response = accountant.get(url(books) + query)
        assert response.status_code == 200, response.json()
        return [e["reference"] for e in response.json()["data"]]

    assert refs("") == ["C", "B", "A"]
    assert refs("?from=2026-02-01") == ["C", "B"]
    assert refs("?to=2026-02-10") == ["B", "A"]
    assert refs("?status=draft") == ["C"]
    assert refs("?account=6100") == ["C", "A"]
    assert refs(f"?account={account(books, '1010').pk}") == ["C"]
    assert refs(f"?account_id={account(books, '1010').pk}") == ["C"]
    assert refs("?account_code=6100") == ["C", "A"]
    # one account only, where `account=<digits>` matches an id and a code at once
    assert refs(f"?account_code={account(books, '1010').pk}") == []
    assert accountant.get(url(books) + "?account_id=0").status_code == 400
    assert refs("?reference=B") == ["B"]
    assert refs("?source=manual&status=posted") == ["B", "A"]
    # pages of one, followed through meta.pagination.next
    seen, next_url = [], url(books) + "?page_size=1"
    while next_url:
        body = accountant.get(next_url).json()
        seen += [e["reference"] for e in body["data"]]
        next_url = body["meta"]["pagination"]["next"]
    assert seen == ["C", "B", "A"]


def test_roles_clerk_drafts_accountant_posts_viewer_reads(books, make_member):
    _, clerk = make_member(books, Role.CLERK)
    _, viewer = make_member(books, Role.VIEWER)
    before = written(books)
    assert clerk.post(url(books), RENT, format="json").status_code == 403  # post: true needs posting rights
    assert viewer.post(url(books), {**RENT, "post": False}, format="json").status_code == 403
    assert written(books) == before
    draft = clerk.post(url(books), {**RENT, "post": False}, format="json")
    assert draft.status_code == 201
    entry_id = draft.json()["data"]["id"]
    assert clerk.post(url(books, f"/{entry_id}/post")).json()["error"]["code"] == "permission_denied"
    assert viewer.get(url(books, f"/{entry_id}")).status_code == 200


def test_other_companies_objects_are_not_found_on_every_endpoint(books, accountant):
    other = company_with_chart(name="Other Ltd")
    theirs = post_entry(other, "2026-01-10", ("6100", "1.00", "D"), ("1000", "1.00", "C"))
    their_draft = post_entry(other, "2026-01-10", ("6100", "1.00", "D"), ("1000", "1.00", "C"), post=False)
    # their ids under my company
    for method, suffix in [
        ("get", f"/{theirs.pk}"),
        ("patch", f"/{their_draft.pk}"),
        ("delete", f"/{their_draft.pk}"),
        ("post", f"/{their_draft.pk}/post"),
        ("post", f"/{theirs.pk}/reverse"),
    ]:
        response = getattr(accountant, method)(url(books, suffix), {}, format="json")
        assert response.status_code == 404, (method, suffix)
        assert response.json()["error"]["code"] == "not_found"
    # their company path itself
    for method, suffix in [("get", ""), ("post", ""), ("get", f"/{theirs.pk}")]:
        assert getattr(accountant, method)(url(other, suffix), RENT, format="json").status_code == 404
    assert accountant.get(f"/api/v1/companies/{other.pk}/exchange-rates").status_code == 404
    # their account used in my entry
    lines = [{"account": account(other, "6100").pk, "debit": "1"}, {"account": "1000", "credit": "1"}]
    assert accountant.post(url(books), {**RENT, "lines": lines}, format="json").status_code == 422
    assert JournalEntry.objects.get(pk=their_draft.pk).status == "draft"
    assert JournalEntry.objects.get(pk=theirs.pk).reversed_by_id is None


def test_idempotent_replay_returns_the_first_response_and_writes_nothing(books, accountant):
    key = str(uuid.uuid4())
    first = accountant.post(url(books), RENT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    before = written(books)
    replay = accountant.post(url(books), RENT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert replay.status_code == 201
    assert replay.json()["data"] == first.json()["data"]
    assert replay["Idempotent-Replayed"] == "true"
    assert written(books) == before
    conflict = accountant.post(
        url(books), {**RENT, "description": "other"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert written(books) == before


def test_failed_request_does_not_burn_its_idempotency_key(books, accountant):
    key = str(uuid.uuid4())
    bad = {**RENT, "lines": [{"account": "6100", "debit": "1"}, {"account": "1000", "credit": "2"}]}
    assert accountant.post(url(books), bad, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 422
    # the same key may carry the corrected request
    assert accountant.post(url(books), RENT, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_with_one_key_write_exactly_once():
    books = company_with_chart()
    from accounts.tests.factories import MembershipFactory, UserFactory

    user = UserFactory()
    MembershipFactory(user=user, company=books, role=Role.ACCOUNTANT)
    key = str(uuid.uuid4())
    statuses: list[int] = []
    ids: list[int] = []
    barrier = threading.Barrier(6)

    def send():
        try:
            client = auth_client(user)
            barrier.wait()
            response = client.post(url(books), RENT, format="json", HTTP_IDEMPOTENCY_KEY=key)
            statuses.append(response.status_code)
            ids.append(response.json()["data"]["id"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [201] * 6
    assert len(set(ids)) == 1
    assert JournalEntry.objects.filter(company=books).count() == 1
    assert JournalLine.objects.filter(company=books).count() == 2


def test_exchange_rates_and_foreign_currency_lines(books, accountant):
    rates = f"/api/v1/companies/{books.pk}/exchange-rates"
    created = accountant.post(
        rates, {"from_currency": "EUR", "date": "2026-03-01", "rate": "1.0850"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["data"] == {
        **created.json()["data"],
        "from_currency": "EUR",
        "to_currency": "USD",
        "rate": "1.085",
        "date": "2026-03-01",
    }
    # a stored rate on or before the entry date is used when none is given
    body = {
        **RENT,
        "lines": [
            {"account": "1100", "debit": "100.00", "currency": "EUR"},
            {"account": "4000", "credit": "100.00", "currency": "EUR"},
        ],
    }
    entry = accountant.post(url(books), body, format="json").json()["data"]
    assert [(ln["currency"], ln["amount"], ln["fx_rate"], ln["base_amount"]) for ln in entry["lines"]] == [
        ("EUR", "100.00", "1.085", "108.50"),
        ("EUR", "-100.00", "1.085", "-108.50"),
    ]
    assert entry["total_debit"] == "108.50"
    # a given rate wins
    body["lines"][0]["fx_rate"] = body["lines"][1]["fx_rate"] = "1.1"
    entry = accountant.post(url(books), body, format="json").json()["data"]
    assert entry["lines"][0]["base_amount"] == "110.00"
    # JPY has no decimals
    body = {
        **RENT,
        "lines": [
            {"account": "1100", "debit": "100.5", "currency": "JPY", "fx_rate": "0.0067"},
            {"account": "4000", "credit": "100.5", "currency": "JPY", "fx_rate": "0.0067"},
        ],
    }
    response = accountant.post(url(books), body, format="json")
    assert response.json()["error"]["code"] == "currency_precision"
    # rates with bad input
    bad = accountant.post(rates, {"from_currency": "EUR", "date": "2026-03-01", "rate": "-1"}, format="json")
    assert bad.status_code == 400
    assert (
        accountant.post(
            rates, {"from_currency": "XXQ", "date": "2026-03-01", "rate": "1"}, format="json"
        ).status_code
        == 400
    )


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2026-03-31"},  # no lines
        {"date": "31/03/2026", "lines": RENT["lines"]},  # not a date
        {"lines": RENT["lines"]},  # no date
        [RENT],  # not an object
        {**RENT, "lines": "6100"},  # lines not a list
        {
            **RENT,
            "lines": [{"account": 6100.5, "debit": "1"}, {"account": "1000", "credit": "1"}],
        },  # float id
        {
            **RENT,
            "lines": [{"account": "6100", "debit": "1"}] * 600 + [{"account": "1000", "credit": "600"}] * 401,
        },
    ],
)
def test_malformed_requests_are_validation_errors_and_write_nothing(books, accountant, body):
    before = written(books)
    response = accountant.post(url(books), body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "validation_error"
    assert written(books) == before


def test_page_size_is_capped(books, accountant):
    response = accountant.get(url(books) + "?page_size=100000")
    assert response.status_code == 200
    assert response.json()["meta"]["pagination"]["page_size"] == 500


def test_the_list_filters_on_from_and_to_both_inclusive(books, accountant):
    # given
    for day, reference in (
        ("2026-02-28", "FEB"),
        ("2026-03-01", "MAR-1"),
        ("2026-03-31", "MAR-31"),
        ("2026-04-01", "APR"),
    ):
        post_entry(books, day, ("6100", "10.00", "D"), ("1000", "10.00", "C"), reference=reference)

    # when
    response = accountant.get(url(books), {"from": "2026-03-01", "to": "2026-03-31"})

    # then
    assert response.status_code == 200
    assert [e["reference"] for e in response.json()["data"]] == ["MAR-31", "MAR-1"]


def test_the_old_date_filter_names_are_refused_not_silently_preferred(books, accountant):
    # given: an entry before and one inside the range `from` names
    post_entry(books, "2026-03-01", ("6100", "10.00", "D"), ("1000", "10.00", "C"), reference="EARLY")
    post_entry(books, "2026-03-20", ("6100", "10.00", "D"), ("1000", "10.00", "C"), reference="LATE")

    # when: `date_from` beside `from` (it used to win silently) and alone (it used to filter)
    both = accountant.get(url(books), {"from": "2026-03-15", "date_from": "2026-03-01"})
    alone = accountant.get(url(books), {"date_to": "2026-03-10"})

    # then: a 400 that names the right parameter, never a list over another range
    assert both.status_code == 400
    assert both.json()["error"]["details"] == {"date_from": ["Not a filter of this list: use `from`."]}
    assert alone.status_code == 400
    assert alone.json()["error"]["details"] == {"date_to": ["Not a filter of this list: use `to`."]}
    only_from = accountant.get(url(books), {"from": "2026-03-15"})
    assert [e["reference"] for e in only_from.json()["data"]] == ["LATE"]


def test_a_client_syncs_the_journal_by_the_last_number_it_read_back_dated_entries_included(books, accountant):
    # given a client that has read the journal up to today's entry
    seen = post_entry(books, "2026-12-01", ("1010", "10.00", "D"), ("4000", "10.00", "C"))
    draft = accountant.post(
        url(books),
        {
            "date": "2026-11-02",
            "lines": [{"account": "1010", "debit": "1.00"}, {"account": "4000", "credit": "1.00"}],
        },
        format="json",
    ).json()["data"]

    # when entries are posted since, one dated back in November (the list's date order puts it
    # among pages the client has read)
    back_dated = post_entry(books, "2026-11-20", ("1010", "25.00", "D"), ("4000", "25.00", "C"))
    later = post_entry(books, "2026-12-01", ("1010", "5.00", "D"), ("4000", "5.00", "C"))

    # then asking for what was numbered after the last one read returns exactly those (no draft)
    response = accountant.get(url(books) + f"?number_after={seen.number}")
    assert response.status_code == 200
    assert {row["number"] for row in response.json()["data"]} == {back_dated.number, later.number}
    assert draft["number"] is None
    assert accountant.get(url(books) + f"?number_after={later.number}").json()["data"] == []

    # in posting order, so a client paging while entries are posted never leaves one behind
    first = accountant.get(url(books) + f"?number_after={seen.number}&page_size=1").json()
    assert [row["number"] for row in first["data"]] == [back_dated.number]
    newer_still = post_entry(books, "2026-01-05", ("1010", "1.00", "D"), ("4000", "1.00", "C"))
    following, numbers = first["meta"]["pagination"]["next"], []
    while following:
        answer = accountant.get(following.replace("http://testserver", "")).json()
        numbers += [row["number"] for row in answer["data"]]
        following = answer["meta"]["pagination"]["next"]
    assert numbers == [later.number, newer_still.number]

    # a blank value filters nothing: the usual list, drafts and all, newest date first
    assert len(accountant.get(url(books) + "?number_after=").json()["data"]) == 5

    # and a value that is not a journal number is refused, naming the parameter
    for bad in (
        "146",
        "INV-2026-000001",
        "JE-2026-1",
        "JE-٢٠٢٦-000146",
        "JE-2026-000146%20",
        "%20JE-2026-000146",
    ):
        refused = accountant.get(url(books) + f"?number_after={bad}")
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["details"] == {
            "number_after": ["Give a journal entry number, e.g. JE-2026-000042."]
        }
