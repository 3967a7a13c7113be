"""The checks `make faults` (bench/faults.py) ends each scenario with can fail: each is fed a
planted violation (a 500, a 503 without Retry-After, a wrong success, an acknowledged entry
missing or doubled, a bulk post in part, a 503 "nothing was changed" for a write that was done, a
stored balance that differs from a rebuild) and must name it; clean records pass."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from bench.books import books_problems
from bench.fault_checks import (
    INVOICE,
    Attempt,
    Summary,
    Write,
    answer_check,
    answer_problems,
    stored_problems,
    stored_records,
)
from jobs.tests.factories import sql
from ledger.models import DailyBalance
from ledger.tests.factories import company_with_chart, post_entry
from sales.services import customer_create, invoice_create

PATH = "/api/v1/companies/1/journal-entries"


def write(*attempts: Attempt, references=("F-a",), amounts=(Decimal("10.00"),), key="k1") -> Write:
    return Write(key=key, path=PATH, references=references, amounts=amounts, attempts=list(attempts))


def ok(*ids: int, began: float = 10.0) -> Attempt:
    return Attempt(began=began, seconds=0.1, status=201, ids=ids)


def unavailable(retry_after: str | None = "5", code: str = "service_unavailable") -> Attempt:
    return Attempt(
        began=1.0, seconds=0.1, status=503, code=code, retry_after=retry_after, reason="cache_unavailable"
    )


LOST = Attempt(began=2.0, seconds=0.1, status=None, error="RemoteDisconnected()")


def test_clean_answers_pass():
    writes = [write(unavailable(), LOST, ok(7), ok(7)), write(ok(8), key="k2", references=("F-b",))]
    assert answer_problems(writes) == []


@pytest.mark.parametrize(
    ("attempt", "problem"),
    [
        (Attempt(began=1.0, seconds=0.1, status=500), "answered 500 (no error envelope)"),
        (
            Attempt(began=1.0, seconds=0.1, status=409, code="idempotency_conflict"),
            "answered 409 idempotency_conflict",
        ),
        (unavailable(retry_after=None), "a 503 without a Retry-After header"),
        (unavailable(code="internal_error"), "answered 503 internal_error"),
    ],
)
def test_an_answer_other_than_2xx_503_or_a_lost_connection_is_named(attempt, problem):
    assert answer_problems([write(attempt, ok(7))]) == [f"POST {PATH} [k1]: {problem}"]


def test_a_wrong_success_different_replays_and_no_recovery_are_named():
    wrong = Attempt(
        began=1.0, seconds=0.1, status=201, ids=(7,), wrong="entry 7 answered as 'draft', not posted"
    )
    assert answer_problems([write(wrong)]) == [
        f"POST {PATH} [k1]: a wrong success (201): entry 7 answered as 'draft', not posted"
    ]
    assert answer_problems([write(ok(7), ok(9))]) == [
        f"POST {PATH} [k1]: retries answered different entries [(7,), (9,)]"
    ]
    assert answer_problems([write(unavailable(), LOST)]) == [
        f"POST {PATH} [k1]: never acknowledged after 2 attempts"
    ]


def test_a_503_saying_nothing_was_changed_for_a_write_that_was_done_is_named():
    replayed = Attempt(began=3.0, seconds=0.1, status=201, ids=(7,), replayed=True)
    assert answer_problems([write(unavailable(), replayed)]) == [
        f"POST {PATH} [k1]: answered 503 cache_unavailable (nothing was changed) but the write had been"
        " done: its retry was a replay"
    ]
    # a lost connection (or database) may have committed before: a replay then is what it promised
    assert answer_problems([write(LOST, unavailable(), replayed)]) == []
    lost_database = Attempt(
        began=1.0,
        seconds=0.1,
        status=503,
        code="service_unavailable",
        retry_after="5",
        reason="database_unavailable",
    )
    assert answer_problems([write(lost_database, replayed)]) == []


def test_an_answer_is_checked_against_what_was_sent():
    sent = write(references=("F-a",), amounts=(Decimal("10.00"),))
    entry = {"id": 7, "status": "posted", "reference": "F-a", "total_debit": "10.00"}
    assert answer_check({"data": entry}, sent) == ((7,), "")
    assert answer_check({"data": {**entry, "status": "draft"}}, sent) == (
        (7,),
        "entry 7 answered as 'draft', not posted",
    )
    assert answer_check({"data": {**entry, "total_debit": "11.00"}}, sent) == (
        (7,),
        "entry 7 answered with total 11.00, sent 10.00",
    )
    assert answer_check({"data": {**entry, "reference": "F-b"}}, sent) == (
        (7,),
        "entry 7 answered with reference 'F-b'",
    )
    bulk = write(references=("F-a", "F-b"), amounts=(Decimal("1.00"), Decimal("2.00")))
    assert answer_check({"data": {"entries": [entry]}}, bulk) == ((), "answered 1 records for 2")
    invoice = write(references=("I-a",), amounts=(Decimal("10.00"),))
    invoice.kind = INVOICE
    issued = {"id": 3, "status": "issued", "reference": "I-a", "total": "10.00"}
    assert answer_check({"data": issued}, invoice) == ((3,), "")
    assert answer_check({"data": {**issued, "status": "draft"}}, invoice) == (
        (3,),
        "invoice 3 answered as 'draft', not issued",
    )


def test_stored_entries_are_checked_against_the_acknowledgements():
    acknowledged, unacknowledged = write(ok(7)), write(LOST, key="k2", references=("F-b",))
    bulk = write(ok(8, 9), key="k3", references=("F-c", "F-d"), amounts=(Decimal(1), Decimal(2)))
    clean = {"F-a": [7], "F-c": [8], "F-d": [9]}
    assert stored_problems([acknowledged, unacknowledged, bulk], {**clean, "F-b": [5]}) == []

    assert stored_problems([acknowledged], {}) == ["acknowledged entry 7 (F-a) is in the books as nothing"]
    assert stored_problems([acknowledged], {"F-a": [7, 11]}) == [
        "acknowledged entry 7 (F-a) is in the books as [7, 11]"
    ]
    assert stored_problems([acknowledged], {"F-a": [11]}) == [
        "acknowledged entry 7 (F-a) is in the books as [11]"
    ]
    assert stored_problems([unacknowledged], {"F-b": [5, 6]}) == [
        "unacknowledged write [k2] is in the books more than once"
    ]
    partial = write(LOST, key="k4", references=("F-e", "F-f"), amounts=(Decimal(1), Decimal(2)))
    assert stored_problems([partial], {"F-e": [12]}) == ["bulk post [k4] is in the books in part"]


def test_the_summary_counts_outcomes_and_the_recovery_from_the_end_of_the_fault():
    writes = [write(unavailable(), LOST, ok(7, began=10.0)), write(ok(8, began=4.0), key="k2")]
    summary = Summary.of("restart", writes, fault_ended=9.5)
    assert (summary.requests, summary.acknowledged, summary.unavailable, summary.connection_errors) == (
        4,
        2,
        1,
        1,
    )
    assert (summary.other, summary.writes, summary.recovery_seconds) == (0, 2, 0.6)
    assert summary.reasons == {"cache_unavailable": 1}


@pytest.mark.django_db
def test_stored_records_finds_every_posted_entry_and_issued_invoice_under_a_reference():
    company = company_with_chart()
    first = post_entry(company, "2026-01-05", ("6100", "10.00", "D"), ("1010", "10.00", "C"), reference="F-a")
    second = post_entry(
        company, "2026-01-06", ("6100", "10.00", "D"), ("1010", "10.00", "C"), reference="F-a"
    )
    post_entry(
        company, "2026-01-06", ("6100", "3.00", "D"), ("1010", "3.00", "C"), reference="F-b", post=False
    )
    customer = customer_create(company=company, name="Customer", by=None)
    lines = [{"description": "Work", "quantity": "1", "unit_price": "10.00", "account": "4000"}]
    issued = invoice_create(
        company=company, customer=customer, date=datetime.date(2026, 1, 7), lines=lines, by=None,
        reference="I-a", issue=True,
    )  # fmt: skip
    invoice_create(
        company=company,
        customer=customer,
        date=datetime.date(2026, 1, 7),
        lines=lines,
        by=None,
        reference="I-b",
    )
    writes = [write(references=("F-a", "F-b", "F-c")), write(references=("I-a", "I-b"))]
    writes[1].kind = INVOICE
    assert stored_records(company.pk, writes) == {"F-a": [first.pk, second.pk], "I-a": [issued.pk]}


@pytest.mark.django_db
def test_the_books_check_names_a_stored_balance_that_differs_from_a_rebuild():
    company = company_with_chart()
    post_entry(company, "2026-01-05", ("6100", "10.00", "D"), ("1010", "10.00", "C"))
    assert books_problems(company.pk) == []

    bucket = DailyBalance.objects.filter(company=company).order_by("pk").first()
    sql("UPDATE ledger_dailybalance SET debit = debit + 1 WHERE id = %s", [bucket.pk])

    problems = books_problems(company.pk)
    assert len(problems) == 1
    assert problems[0].startswith("stored balances differ from a rebuild in 1 buckets: daily account=")
