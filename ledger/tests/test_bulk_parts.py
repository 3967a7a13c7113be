"""A large batch is checked and sent in parts (the database writes one while the next is
checked), and many batches of one import write their balance buckets once (`balances_deferred`):
what the books look like afterwards, and when something is refused halfway."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from audit.models import AuditEvent
from ledger.models import DailyBalance, JournalEntry, JournalLine, MonthlyBalance
from ledger.services import EntryInput, balances_deferred, bucket_differences, journal_entries_import
from ledger.services import posting as posting_module
from ledger.services.posting import PART_SIZE
from ledger.tests.factories import account, company_with_chart, post_entry

pytestmark = pytest.mark.django_db

D = Decimal


def entries(count: int, *, start: int = 0) -> list[EntryInput]:
    """`count` entries of two or three lines over the first quarter, each its own amount."""
    made = []
    for n in range(start, start + count):
        day = datetime.date(2026, 1 + n % 3, 1 + n % 28)
        amount = D(100 + n) / 100
        if n % 2:
            lines = [{"account": "6100", "debit": str(amount)}, {"account": "1000", "credit": str(amount)}]
        else:
            lines = [
                {"account": "6100", "debit": str(amount)},
                {"account": "2200", "debit": "1.00"},
                {"account": "1000", "credit": str(amount + 1)},
            ]
        made.append(EntryInput(date=day, lines=lines, reference=f"R-{n}"))
    return made


def written(company) -> tuple[int, int, int, int, int]:
    return (
        JournalEntry.objects.filter(company=company).count(),
        JournalLine.objects.filter(company=company).count(),
        DailyBalance.objects.filter(company=company).count(),
        MonthlyBalance.objects.filter(company=company).count(),
        AuditEvent.objects.filter(company_id=company.pk, object_type="ledger.journalentry").count(),
    )


def test_a_batch_of_several_parts_is_posted_whole_in_order_with_exact_balances():
    # given: more entries than three parts hold
    books = company_with_chart()
    batch = entries(3 * PART_SIZE + 17)
    # when
    result = journal_entries_import(company=books, entries=batch, by=None, max_entries=None)
    # then: every entry, in the batch's order, numbered without a gap; buckets equal the lines
    stored = list(JournalEntry.objects.filter(company=books).order_by("sequence"))
    assert [e.reference for e in stored] == [f"R-{n}" for n in range(len(batch))]
    assert [e.number for e in stored] == [f"JE-2026-{n:06d}" for n in range(1, len(batch) + 1)]
    assert [e.number for e in result.entries] == [e.number for e in stored]
    assert (result.first_number, result.last_number, result.posted) == (
        stored[0].number,
        stored[-1].number,
        len(batch),
    )
    assert result.total == sum(
        (ln.base_amount for ln in JournalLine.objects.filter(company=books) if ln.base_amount > 0), D(0)
    )
    assert bucket_differences(company_id=books.pk)[0] == []
    assert AuditEvent.objects.filter(company_id=books.pk, action="post").count() == len(batch)


def test_the_returned_entries_behave_as_a_list_of_the_stored_rows():
    books = company_with_chart()
    posted = journal_entries_import(company=books, entries=entries(5), by=None).entries
    stored = list(JournalEntry.objects.filter(company=books).order_by("sequence"))
    assert len(posted) == 5
    assert [(e.pk, e.number, e.date, e.reference) for e in posted] == [
        (e.pk, e.number, e.date, e.reference) for e in stored
    ]
    assert (posted[-1].pk, [e.pk for e in posted[1:3]]) == (stored[-1].pk, [stored[1].pk, stored[2].pk])
    assert posted[0] is posted[0]  # built once
    with pytest.raises(IndexError):
        posted[5]


def test_a_refusal_by_the_database_in_a_later_part_writes_nothing(monkeypatch):
    # given: a batch of three parts whose second part reaches the database unbalanced (as if a
    # check in Python had missed it): the database's own check refuses it
    books = company_with_chart()
    post_entry(books, "2026-01-05", ("6100", "5.00", "D"), ("1000", "5.00", "C"))
    before = written(books)
    real = posting_module.write_posted
    calls = []

    def second_part_unbalanced(batch, *, entries, **kwargs):
        calls.append(len(entries))
        if len(calls) == 2:
            entries[0].lines[0].base_amount += D("0.01")
        return real(batch, entries=entries, **kwargs)

    monkeypatch.setattr(posting_module, "write_posted", second_part_unbalanced)
    # when
    with pytest.raises(DatabaseError, match="unbalanced_entry"):
        journal_entries_import(company=books, entries=entries(3 * PART_SIZE), by=None, max_entries=None)
    # then: the parts were sent one by one, and none of them stayed
    assert calls == [PART_SIZE, PART_SIZE, PART_SIZE]
    assert written(books) == before
    # and the connection goes on: the next number is the next one
    monkeypatch.setattr(posting_module, "write_posted", real)
    assert (
        post_entry(books, "2026-01-06", ("6100", "1.00", "D"), ("1000", "1.00", "C")).number
        == "JE-2026-000002"
    )


def test_progress_hears_each_part_checked_and_sent():
    books = company_with_chart()
    heard = []
    journal_entries_import(
        company=books, entries=entries(2 * PART_SIZE + 10), by=None, max_entries=None, progress=heard.append
    )
    assert heard == [PART_SIZE, 2 * PART_SIZE, 2 * PART_SIZE + 10]


def test_batches_in_a_deferred_block_write_their_buckets_once_at_its_end():
    # given: two batches of one import, in one block
    books = company_with_chart()
    with transaction.atomic(), balances_deferred(books):
        journal_entries_import(company=books, entries=entries(300), by=None, audit_per_entry=False)
        # then, inside: the lines are there, the buckets not yet
        assert (JournalLine.objects.filter(company=books).exists(), written(books)[2:4]) == (True, (0, 0))
        journal_entries_import(company=books, entries=entries(300, start=300), by=None, audit_per_entry=False)
    # and once the block ends, the buckets equal the lines
    differences, daily, monthly = bucket_differences(company_id=books.pk)
    assert (differences, daily > 0, monthly) == ([], True, 9)  # 3 months x 3 accounts


def test_a_block_left_by_an_error_writes_nothing():
    books = company_with_chart()
    before = written(books)
    with pytest.raises(RuntimeError), transaction.atomic(), balances_deferred(books):
        journal_entries_import(company=books, entries=entries(20), by=None)
        raise RuntimeError("the import's next step fails")
    assert written(books) == before


def test_a_posting_wrapped_in_its_own_block_inside_writes_its_buckets_at_once():
    # given: inside a deferred block, a batch posted in a block of its own that then rolls back
    # (its rollback drops its entries; had its buckets been deferred, they would remain), then
    # another batch posted directly
    books = company_with_chart()
    with transaction.atomic(), balances_deferred(books):
        try:
            with transaction.atomic():
                journal_entries_import(company=books, entries=entries(10), by=None)
                assert DailyBalance.objects.filter(company=books).exists()  # written at once
                raise RuntimeError("dropped")
        except RuntimeError:
            pass
        journal_entries_import(company=books, entries=entries(10, start=10), by=None)
    # then: only the second batch, and its buckets, are in the books
    assert sorted(JournalEntry.objects.filter(company=books).values_list("reference", flat=True)) == sorted(
        f"R-{n}" for n in range(10, 20)
    )
    assert bucket_differences(company_id=books.pk)[0] == []


def test_nested_blocks_of_one_company_are_one_block():
    books = company_with_chart()
    with transaction.atomic(), balances_deferred(books):
        with balances_deferred(books):
            journal_entries_import(company=books, entries=entries(10), by=None)
        assert not DailyBalance.objects.filter(company=books).exists()  # not at the inner block's end
        journal_entries_import(company=books, entries=entries(10, start=10), by=None)
    assert bucket_differences(company_id=books.pk)[0] == []
    assert DailyBalance.objects.filter(company=books).exists()


def test_another_companys_postings_in_the_block_are_not_deferred():
    books, other = company_with_chart(name="Deferred"), company_with_chart(name="Other")
    with transaction.atomic(), balances_deferred(books):
        journal_entries_import(company=other, entries=entries(5), by=None)
        assert DailyBalance.objects.filter(company=other).exists()
    assert bucket_differences(company_id=other.pk)[0] == []


def _to_post(books, day: datetime.date, amount: str) -> posting_module.EntryToPost:
    lines = []
    for line_no, (code, sign) in enumerate((("6100", 1), ("1000", -1)), start=1):
        chart = account(books, code)
        value = D(amount) * sign
        lines.append(
            posting_module.PostingLine(
                line_no=line_no,
                account_id=chart.pk,
                account_code=chart.code,
                account_currency="",
                account_name=chart.name,
                description="",
                debit=max(value, D(0)),
                credit=max(-value, D(0)),
                currency=books.currency,
                amount=value,
                fx_rate=D(1),
                base_amount=value,
            )
        )
    return posting_module.EntryToPost(date=day, lines=lines)


@pytest.mark.parametrize("given", [1, 3])
def test_a_posting_of_other_entries_than_it_reserved_is_refused_and_writes_nothing(given):
    # given: a reservation for two entries of two lines, and a caller that hands over another count
    books = company_with_chart()
    before = written(books)
    day = datetime.date(2026, 1, 5)
    # when / then: the journal would have a gap (one entry) or an entry without a number (three)
    with pytest.raises(RuntimeError, match="reserved"):
        posting_module.entries_post(
            company=books,
            entries=lambda reservation: [[_to_post(books, day, "1.00") for _ in range(given)]],
            dates=[day, day],
            line_count=4,
            by=None,
            source="manual",
        )
    assert written(books) == before
