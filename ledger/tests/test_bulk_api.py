"""POST /api/v1/companies/{id}/journal-entries/bulk: up to 1,000 entries, all or nothing."""

import datetime
import threading
import uuid

import pytest
from django.db import connections

from audit.models import AuditEvent
from conftest import auth_client
from ledger.models import (
    AccountingPeriod,
    DailyBalance,
    JournalEntry,
    JournalLine,
    NumberSequence,
    PeriodStatus,
)
from ledger.tests.factories import account, company_with_chart, post_entry
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


def url(company):
    return f"/api/v1/companies/{company.pk}/journal-entries/bulk"


def rent(day: int, amount: str = "100.00", reference: str = "") -> dict:
    return {
        "date": f"2026-03-{day:02d}",
        "description": f"Rent {day}",
        "reference": reference or f"R-{day}",
        "lines": [{"account": "6100", "debit": amount}, {"account": "1000", "credit": amount}],
    }


@pytest.fixture
def books():
    return company_with_chart()


@pytest.fixture
def accountant(books, make_member):
    return make_member(books, Role.ACCOUNTANT)[1]


def closed_february(books) -> AccountingPeriod:
    return AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 2, 28),
        status=PeriodStatus.CLOSED,
    )


def written(company) -> tuple[int, ...]:
    counter = NumberSequence.objects.filter(company=company, series="journal").first()
    return (
        JournalEntry.objects.filter(company=company).count(),
        JournalLine.objects.filter(company=company).count(),
        DailyBalance.objects.filter(company=company).count(),
        AuditEvent.objects.filter(company_id=company.pk).count(),
        counter.last_value if counter else 0,
    )


def test_a_batch_is_posted_in_request_order_with_gapless_numbers_balances_and_one_event_each(
    books, accountant
):
    # given: one entry posted before
    post_entry(books, "2026-03-01", ("6100", "5.00", "D"), ("1000", "5.00", "C"))
    events_before = AuditEvent.objects.filter(company_id=books.pk, action="post").count()
    body = {"entries": [rent(3), rent(2, "250.00"), {**rent(1), "post": True}]}
    # when
    response = accountant.post(url(books), body, format="json")
    # then
    assert response.status_code == 201, response.json()
    entries = response.json()["data"]["entries"]
    assert [(e["number"], e["status"], e["date"], e["reference"]) for e in entries] == [
        ("JE-2026-000002", "posted", "2026-03-03", "R-3"),
        ("JE-2026-000003", "posted", "2026-03-02", "R-2"),
        ("JE-2026-000004", "posted", "2026-03-01", "R-1"),
    ]
    stored = JournalEntry.objects.in_bulk([e["id"] for e in entries])
    assert [stored[e["id"]].sequence for e in entries] == [2, 3, 4]
    assert all(stored[e["id"]].source == "manual" for e in entries)
    rent_day2 = DailyBalance.objects.get(
        company=books, account=account(books, "6100"), date=datetime.date(2026, 3, 2)
    )
    assert (rent_day2.debit, rent_day2.line_count) == (250, 1)
    posts = AuditEvent.objects.filter(company_id=books.pk, action="post").order_by("id")[events_before:]
    assert [(ev.object_id, ev.changes["number"]["after"]) for ev in posts] == [
        (str(e["id"]), e["number"]) for e in entries
    ]


def test_one_bad_entry_among_a_thousand_writes_nothing_and_is_named_by_index(books, accountant):
    # given
    before = written(books)
    batch = [rent(1 + i % 28, reference=f"B-{i}") for i in range(1000)]
    batch[537] = {
        **rent(5),
        "lines": [{"account": "6100", "debit": "100.00"}, {"account": "1000", "credit": "99.99"}],
    }
    # when
    response = accountant.post(url(books), {"entries": batch}, format="json")
    # then
    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid_batch"
    assert [(e["index"], e["code"]) for e in error["details"]["entries"]] == [(537, "unbalanced_entry")]
    assert error["details"]["entries"][0]["details"]["difference"] == "0.01"
    assert error["message"].startswith("Entry 538: Debits 100.00 do not equal credits 99.99.")
    assert written(books) == before
    # and the numbers the refused batch did not use are the next ones given
    assert (
        accountant.post(url(books), {"entries": [rent(9)]}, format="json").json()["data"]["entries"][0][
            "number"
        ]
        == "JE-2026-000001"
    )


def test_every_refused_entry_is_listed_with_its_own_code(books, accountant):
    closed_february(books)
    before = written(books)
    batch = [
        rent(1),
        {**rent(2), "lines": [{"account": "NOPE", "debit": "1.00"}, {"account": "1000", "credit": "1.00"}]},
        {**rent(3), "date": "2026-02-10"},
        {**rent(4), "post": False},
        {**rent(5), "date": "10/03/2026"},
        {**rent(6), "lines": [{"account": "6100", "debit": "1.001"}, {"account": "1000", "credit": "1.001"}]},
    ]
    response = accountant.post(url(books), {"entries": batch}, format="json")
    assert response.status_code == 422, response.json()
    listed = response.json()["error"]["details"]["entries"]
    # entries of the wrong shape are listed among the ledger's own refusals, in index order
    assert [(e["index"], e["code"]) for e in listed] == [
        (1, "invalid_account"),
        (2, "period_closed"),
        (3, "validation_error"),
        (4, "validation_error"),
        (5, "currency_precision"),
    ]
    assert listed[2]["details"] == {
        "post": ["Every entry of a bulk request is posted; drop `post` or set it to true."]
    }
    assert listed[3]["details"] == {"date": ["Must be a date written YYYY-MM-DD, e.g. 2026-03-31."]}
    assert written(books) == before
    # with the shapes fixed, the ledger's own refusals are listed alone
    batch[3], batch[4] = rent(4), rent(5)
    response = accountant.post(url(books), {"entries": batch}, format="json")
    listed = response.json()["error"]["details"]["entries"]
    assert [(e["index"], e["code"]) for e in listed] == [
        (1, "invalid_account"),
        (2, "period_closed"),
        (5, "currency_precision"),
    ]
    assert written(books) == before


MALFORMED = {
    "not an object": "str",
    "a list": [rent(1)],
    "no date": {key: value for key, value in rent(1).items() if key != "date"},
    "lines not a list": {**rent(1), "lines": "6100"},
    "a line not an object": {**rent(1), "lines": ["6100", {"account": "1000", "credit": "1.00"}]},
}


@pytest.mark.parametrize("malformed", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_entry_is_one_refused_entry_among_the_others(books, accountant, malformed):
    # given: a closed February; an entry that posts, one unbalanced, one in February, one to an
    # unknown account, and one the API cannot read
    closed_february(books)
    before = written(books)
    batch = [
        rent(1),
        {**rent(2), "lines": [{"account": "6100", "debit": "10.00"}, {"account": "1000", "credit": "9.00"}]},
        {**rent(3), "date": "2026-02-10"},
        {**rent(4), "lines": [{"account": "nope", "debit": "1.00"}, {"account": "1000", "credit": "1.00"}]},
        malformed,
    ]

    # when
    response = accountant.post(url(books), {"entries": batch}, format="json")

    # then: every refused entry is named, with its own code, and nothing was posted
    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid_batch"
    assert [(e["index"], e["code"]) for e in error["details"]["entries"]] == [
        (1, "unbalanced_entry"),
        (2, "period_closed"),
        (3, "invalid_account"),
        (4, "validation_error"),
    ]
    assert all(set(e) == {"index", "code", "message", "details"} for e in error["details"]["entries"])
    assert error["details"]["entries"][3]["details"] != {}
    assert error["message"].startswith("Entry 2: Debits 10.00 do not equal credits 9.00.")
    assert error["message"].endswith("(4 of 5 entries refused; nothing was posted.)")
    assert written(books) == before


def test_a_batch_of_malformed_entries_only_lists_each_and_writes_nothing(books, accountant):
    before = written(books)

    response = accountant.post(url(books), {"entries": ["str", 7, {"lines": []}]}, format="json")

    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert [(e["index"], e["code"]) for e in error["details"]["entries"]] == [
        (0, "validation_error"),
        (1, "validation_error"),
        (2, "validation_error"),
    ]
    assert error["details"]["entries"][2]["details"]["date"] == ["This field is required."]
    assert error["message"].endswith("(3 of 3 entries refused; nothing was posted.)")
    assert written(books) == before


def test_a_malformed_entry_past_the_first_part_is_listed_with_the_refusals_before_it(books, accountant):
    # given: a thousand entries (four parts), one unbalanced in the first part, one malformed in the last
    before = written(books)
    batch = [rent(1 + i % 28, reference=f"B-{i}") for i in range(1000)]
    batch[10] = {
        **rent(5),
        "lines": [{"account": "6100", "debit": "1.00"}, {"account": "1000", "credit": "2.00"}],
    }
    batch[900] = {**rent(6), "date": None}

    response = accountant.post(url(books), {"entries": batch}, format="json")

    assert response.status_code == 422, response.json()
    listed = response.json()["error"]["details"]["entries"]
    assert [(e["index"], e["code"]) for e in listed] == [(10, "unbalanced_entry"), (900, "validation_error")]
    assert written(books) == before


@pytest.mark.parametrize(
    "body",
    [[rent(1)], {"entries": []}, {"entries": "all"}, {"items": [rent(1)]}, {"entries": [rent(1)] * 1001}],
    ids=["a list", "no entries", "not a list", "no entries key", "over 1,000"],
)
def test_a_body_of_the_wrong_shape_is_a_validation_error(books, accountant, body):
    before = written(books)
    response = accountant.post(url(books), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert written(books) == before


def test_a_retried_request_replays_the_first_response_and_posts_nothing_more(books, accountant):
    key = str(uuid.uuid4())
    body = {"entries": [rent(1), rent(2)]}
    first = accountant.post(url(books), body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    after_first = written(books)
    again = accountant.post(url(books), body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    assert written(books) == after_first
    other = accountant.post(url(books), {"entries": [rent(3)]}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    assert written(books) == after_first


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CLERK, Role.AUDITOR])
def test_roles_that_may_not_post_are_refused(books, make_member, role):
    before = written(books)
    response = make_member(books, role)[1].post(url(books), {"entries": [rent(1)]}, format="json")
    assert response.status_code == 403
    assert written(books) == before


def test_another_company_is_not_found(books, make_member):
    other = company_with_chart(name="Other Ltd")
    client = make_member(other, Role.ADMIN)[1]
    assert client.post(url(books), {"entries": [rent(1)]}, format="json").status_code == 404
    assert written(books)[0] == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_get_gapless_numbers_and_exact_balances():
    books = company_with_chart(name="Concurrent Ltd")
    from accounts.tests.factories import MembershipFactory, UserFactory

    user = UserFactory()
    MembershipFactory(user=user, company=books, role=Role.ACCOUNTANT)
    start = threading.Barrier(4)
    statuses: list[int] = []

    def poster(n: int) -> None:
        try:
            client = auth_client(user)
            start.wait(timeout=30)
            for _ in range(3):
                batch = [rent(1 + (n + i) % 28, "10.00") for i in range(50)]
                statuses.append(client.post(url(books), {"entries": batch}, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poster, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [201] * 12
    sequences = sorted(JournalEntry.objects.filter(company=books).values_list("sequence", flat=True))
    assert sequences == list(range(1, 601))
    rent_total = sum(
        b.debit for b in DailyBalance.objects.filter(company=books, account=account(books, "6100"))
    )
    assert rent_total == 6000


def test_a_balance_past_what_its_bucket_holds_is_refused_in_words_and_writes_nothing(books, accountant):
    # given one account's day holding two entries of 500 lines of the largest amount each
    # (999,999,999,999,999,990.00 in all, just under the 10^18 its DECIMAL(22,4) bucket holds)
    largest = "999999999999999.99"

    def huge(day: int) -> dict:
        return {
            "date": f"2026-03-{day:02d}",
            "lines": [{"account": "6100", "debit": largest}] * 500
            + [{"account": "1000", "credit": largest}] * 500,
        }

    assert accountant.post(url(books), {"entries": [huge(5), huge(5)]}, format="json").status_code == 201
    before = written(books)
    bucket = DailyBalance.objects.get(
        company=books, account=account(books, "6100"), date=datetime.date(2026, 3, 5)
    )

    # when a third such entry is posted on that day, alone or in a batch
    alone = accountant.post(
        f"/api/v1/companies/{books.pk}/journal-entries", {**huge(5), "post": True}, format="json"
    )
    batch = accountant.post(url(books), {"entries": [rent(6), huge(5)]}, format="json")

    # then each is a validation_error saying what it is, and nothing is written
    for response in (alone, batch):
        assert response.status_code == 400, response.json()
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"] == {"reason": "balance_out_of_range"}
        assert "past the largest amount the books hold" in error["message"]
    assert written(books) == before
    bucket_now = DailyBalance.objects.get(pk=bucket.pk)
    assert (bucket_now.debit, bucket_now.line_count) == (bucket.debit, bucket.line_count)
    # and the books go on: the account's March is full (its month's bucket too), April posts
    april = {**rent(1), "date": "2026-04-01"}
    assert accountant.post(url(books), {"entries": [april]}, format="json").status_code == 201
