"""Concurrent posting on PostgreSQL: nothing lost, numbers gapless, no deadlock."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from ledger.balance_queries import account_totals
from ledger.models import DailyBalance, EntryStatus, JournalEntry
from ledger.services import fiscal_year_close, journal_entry_create, journal_entry_post, journal_entry_reverse
from ledger.tests.factories import account, company_with_chart

THREADS = 8
PER_THREAD = 100


def _run_threads(target, count: int) -> list[BaseException]:
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def runner(index: int) -> None:
        try:
            start.wait()
            target(index)
        except BaseException as exc:  # collected and asserted on below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a posting thread hung (deadlock?)"
    return failures


@pytest.mark.django_db(transaction=True)
def test_eight_threads_posting_to_the_same_two_accounts():
    # given
    assert connection.vendor == "postgresql"
    books = company_with_chart()
    day = datetime.date(2026, 4, 1)

    def post_many(index: int) -> None:
        for n in range(PER_THREAD):
            amount = Decimal(index + 1) + Decimal(n) / 100
            journal_entry_create(
                company=books,
                date=day + datetime.timedelta(days=n % 7),
                lines=[{"account": "1000", "debit": str(amount)}, {"account": "4000", "credit": str(amount)}],
                by=None,
                post=True,
            )

    # when
    failures = _run_threads(post_many, THREADS)

    # then every posting succeeded
    assert failures == []
    entries = JournalEntry.objects.filter(company=books)
    assert entries.count() == THREADS * PER_THREAD
    assert entries.filter(status=EntryStatus.POSTED).count() == THREADS * PER_THREAD
    # numbers are gapless and unique
    sequences = sorted(entries.values_list("sequence", flat=True))
    assert sequences == list(range(1, THREADS * PER_THREAD + 1))
    assert len(set(entries.values_list("number", flat=True))) == THREADS * PER_THREAD
    # stored balances are exact (no lost update)
    expected = sum(Decimal(i + 1) + Decimal(n) / 100 for i in range(THREADS) for n in range(PER_THREAD))
    totals = account_totals(company_id=books.pk, end=day + datetime.timedelta(days=7))
    assert totals[account(books, "1000").pk].balance == expected
    assert totals[account(books, "4000").pk].balance == -expected
    assert sum(
        DailyBalance.objects.filter(account=account(books, "1000")).values_list("line_count", flat=True)
    ) == (THREADS * PER_THREAD)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reversals_of_one_entry_produce_exactly_one_reversal():
    books = company_with_chart()
    original = journal_entry_create(
        company=books,
        date=datetime.date(2026, 4, 1),
        lines=[{"account": "1000", "debit": "10.00"}, {"account": "4000", "credit": "10.00"}],
        by=None,
        post=True,
    )
    outcomes: list[str] = []

    def reverse(index: int) -> None:
        try:
            journal_entry_reverse(entry=original, by=None)
            outcomes.append("reversed")
        except Exception as exc:
            outcomes.append(getattr(exc, "code", type(exc).__name__))

    failures = _run_threads(reverse, 6)
    assert failures == []
    assert sorted(outcomes) == ["conflict"] * 5 + ["reversed"]
    assert JournalEntry.objects.filter(reversal_of=original).count() == 1
    assert JournalEntry.objects.filter(company=books).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_posting_of_one_draft_posts_it_once():
    books = company_with_chart()
    draft = journal_entry_create(
        company=books,
        date=datetime.date(2026, 4, 1),
        lines=[{"account": "1000", "debit": "10.00"}, {"account": "4000", "credit": "10.00"}],
        by=None,
    )
    outcomes: list[str] = []

    def post(index: int) -> None:
        try:
            journal_entry_post(entry=draft, posted_by=None)
            outcomes.append("posted")
        except Exception as exc:
            outcomes.append(getattr(exc, "code", type(exc).__name__))

    assert _run_threads(post, 4) == []
    assert sorted(outcomes) == ["entry_immutable"] * 3 + ["posted"]
    assert DailyBalance.objects.get(company=books, account=account(books, "1000")).line_count == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["post_draft", "reverse", "close_year"])
def test_a_posting_holding_the_number_never_deadlocks_with_a_draft_posted_an_entry_reversed_or_a_year_closed(
    action,
):
    """A posting takes the journal number first, then inserts rows whose foreign key shares the
    company's row. Posting a draft or reversing an entry locked the company's row FOR UPDATE
    (select_for_update over select_related), and the year-end close locked it FOR UPDATE on
    purpose, each then waiting for the number: with a posting holding the number and reaching its
    inserts, PostgreSQL found a deadlock and one of the two requests answered 503 `database_busy`
    (seen under an API reviewer's concurrent posts). The company is now locked FOR NO KEY UPDATE
    where it is meant to be, which a foreign key check does not wait for."""
    from sofinance.tests.sessions import second_session

    books = company_with_chart()
    lines = [{"account": "1000", "debit": "10.00"}, {"account": "4000", "credit": "10.00"}]
    day = datetime.date(2025, 4, 1)  # a year that has ended, for the year-end close
    journal_entry_create(company=books, date=day, lines=lines, by=None, post=True)  # the counter's row
    target = journal_entry_create(company=books, date=day, lines=lines, by=None, post=action != "post_draft")

    # given another posting's transaction holding the journal number (what the reserve call locks)
    other = second_session(autocommit=False)
    other.execute("SET lock_timeout = '5s'")
    other.execute(
        "UPDATE ledger_numbersequence SET last_value = last_value WHERE company_id = %s AND series = 'journal'",
        [books.pk],
    )
    outcome: list[str] = []

    def act() -> None:
        try:
            if action == "post_draft":
                journal_entry_post(entry=target, posted_by=None)
            elif action == "reverse":
                journal_entry_reverse(entry=target, by=None)
            else:
                fiscal_year_close(company=books, year=2025, by=None)
            outcome.append("done")
        except BaseException as exc:
            outcome.append(repr(exc))
        finally:
            connections.close_all()

    # when the draft's posting (or the reversal) starts and waits for that number
    thread = threading.Thread(target=act)
    thread.start()
    try:
        waiting = 0
        for _ in range(100):
            with second_session() as probe:
                waiting = probe.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]
            if waiting:
                break
            threading.Event().wait(0.05)
        assert waiting, "the second posting never waited for the journal number"
        # then the posting holding the number still reaches its inserts' share of the company's row
        other.execute("SELECT 1 FROM accounts_company WHERE id = %s FOR KEY SHARE", [books.pk])
        other.commit()
    finally:
        other.close()
        thread.join(timeout=30)
    assert outcome == ["done"]
    # (the first entry and the draft; or the first, the target and its reversal or the closing entry)
    assert JournalEntry.objects.filter(company=books, status=EntryStatus.POSTED).count() == (
        2 if action == "post_draft" else 3
    )
