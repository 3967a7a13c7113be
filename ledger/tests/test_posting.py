"""Journal entry services: drafts, posting, numbering, stored balances, reversal."""

import datetime
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from ledger import errors
from ledger.balance_queries import account_totals
from ledger.models import (
    AccountingPeriod,
    DailyBalance,
    EntrySource,
    EntryStatus,
    JournalEntry,
    JournalLine,
    MonthlyBalance,
    PeriodStatus,
)
from ledger.services import (
    journal_entry_create,
    journal_entry_delete,
    journal_entry_post,
    journal_entry_reverse,
    journal_entry_update,
)
from ledger.tests.factories import account, company_with_chart, post_entry
from sofinance.errors import ValidationFailed

pytestmark = pytest.mark.django_db

D = Decimal
JAN5 = datetime.date(2026, 1, 5)


@pytest.fixture
def books():
    return company_with_chart()


def test_create_draft_stores_lines_with_base_amounts_and_no_number(books):
    # when
    entry = post_entry(books, JAN5, ("6100", "1200.00", "D"), ("1000", "1200.00", "C"), post=False)
    # then
    assert entry.status == EntryStatus.DRAFT
    assert entry.number is None and entry.sequence is None
    lines = list(entry.lines.order_by("line_no"))
    assert [
        (ln.account.code, ln.debit, ln.credit, ln.amount, ln.base_amount, ln.currency) for ln in lines
    ] == [
        ("6100", D("1200.00"), D("0"), D("1200.00"), D("1200.00"), "USD"),
        ("1000", D("0"), D("1200.00"), D("-1200.00"), D("-1200.00"), "USD"),
    ]
    assert all(ln.entry_sequence is None and ln.date == JAN5 for ln in lines)
    # and a draft does not touch the balances
    assert DailyBalance.objects.filter(company=books).count() == 0


def test_post_assigns_number_updates_balances_and_audits(books):
    # given
    entry = post_entry(books, JAN5, ("6100", "1200.00", "D"), ("1000", "1200.00", "C"), post=False)
    events_before = AuditEvent.objects.filter(company_id=books.pk).count()
    # when
    posted = journal_entry_post(entry=entry, posted_by=None)
    # then
    assert posted.status == EntryStatus.POSTED
    assert posted.number == "JE-2026-000001"
    assert posted.sequence == 1
    assert posted.posted_at is not None
    assert set(JournalLine.objects.filter(entry=posted).values_list("entry_sequence", flat=True)) == {1}
    rent, cash = account(books, "6100"), account(books, "1000")
    day = DailyBalance.objects.get(company=books, account=rent, date=JAN5)
    assert (day.debit, day.credit, day.line_count) == (D("1200.00"), D("0"), 1)
    month = MonthlyBalance.objects.get(company=books, account=cash, date=datetime.date(2026, 1, 1))
    assert (month.debit, month.credit, month.line_count) == (D("0"), D("1200.00"), 1)
    events = AuditEvent.objects.filter(company_id=books.pk).order_by("id")[events_before:]
    assert [(e.action, e.object_id) for e in events] == [("post", str(posted.pk))]
    assert events[0].changes["number"] == {"before": None, "after": "JE-2026-000001"}


def test_numbers_are_sequential_per_company_and_ignore_drafts(books):
    other = company_with_chart(name="Other Co")
    first = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    elsewhere = post_entry(other, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    second = post_entry(books, datetime.date(2027, 2, 1), ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    assert (first.number, second.number, elsewhere.number) == (
        "JE-2026-000001",
        "JE-2027-000002",
        "JE-2026-000001",
    )


def test_posting_twice_is_refused(books):
    entry = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    with pytest.raises(errors.EntryImmutable):
        journal_entry_post(entry=entry, posted_by=None)
    assert JournalEntry.objects.get(pk=entry.pk).sequence == 1


def test_post_rechecks_accounts_deactivated_since_the_draft(books):
    from accounts.services import account_update

    entry = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    account_update(account=account(books, "6100"), by=None, is_active=False)
    with pytest.raises(errors.InvalidAccount):
        journal_entry_post(entry=entry, posted_by=None)
    assert JournalEntry.objects.get(pk=entry.pk).status == EntryStatus.DRAFT
    assert DailyBalance.objects.filter(company=books).count() == 0


def test_update_draft_replaces_lines_and_date(books):
    entry = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    updated = journal_entry_update(
        entry=entry,
        by=None,
        date=datetime.date(2026, 2, 1),
        description="Corrected",
        lines=[{"account": "6200", "debit": "15.00"}, {"account": "1010", "credit": "15.00"}],
    )
    lines = list(updated.lines.order_by("line_no"))
    assert updated.description == "Corrected"
    assert [(ln.account.code, ln.debit, ln.credit, ln.date) for ln in lines] == [
        ("6200", D("15.00"), D("0"), datetime.date(2026, 2, 1)),
        ("1010", D("0"), D("15.00"), datetime.date(2026, 2, 1)),
    ]
    assert JournalLine.objects.filter(entry=entry).count() == 2


def test_posted_entries_cannot_be_updated_or_deleted_by_the_services(books):
    entry = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    with pytest.raises(errors.EntryImmutable):
        journal_entry_update(entry=entry, by=None, description="x")
    with pytest.raises(errors.EntryImmutable):
        journal_entry_delete(entry=entry, by=None)
    assert JournalEntry.objects.get(pk=entry.pk).description == ""


def test_delete_draft_removes_it_and_its_lines(books):
    entry = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    journal_entry_delete(entry=entry, by=None)
    assert not JournalEntry.objects.filter(pk=entry.pk).exists()
    assert not JournalLine.objects.filter(entry_id=entry.pk).exists()
    assert AuditEvent.objects.filter(action="delete", object_id=str(entry.pk)).count() == 1


def test_reverse_swaps_every_line_links_both_ways_and_nets_balances_to_zero(books):
    # given
    original = post_entry(
        books,
        JAN5,
        ("6100", "1200.00", "D"),
        ("2200", "100.00", "D"),
        ("1000", "1300.00", "C"),
        description="Rent",
    )
    # when
    reversal = journal_entry_reverse(entry=original, by=None)
    # then
    original.refresh_from_db()
    assert original.reversed_by_id == reversal.pk
    assert reversal.reversal_of_id == original.pk
    assert reversal.status == EntryStatus.POSTED and reversal.source == EntrySource.REVERSAL
    assert reversal.number == "JE-2026-000002"
    assert reversal.date == JAN5
    assert reversal.description == "Reversal of JE-2026-000001"
    assert [(ln.account.code, ln.debit, ln.credit) for ln in reversal.lines.order_by("line_no")] == [
        ("6100", D("0"), D("1200.00")),
        ("2200", D("0"), D("100.00")),
        ("1000", D("1300.00"), D("0")),
    ]
    totals = account_totals(company_id=books.pk, end=JAN5)
    assert {account(books, c).pk: totals[account(books, c).pk].balance for c in ("6100", "2200", "1000")} == {
        account(books, "6100").pk: D("0"),
        account(books, "2200").pk: D("0"),
        account(books, "1000").pk: D("0"),
    }


def test_an_entry_is_reversed_at_most_once(books):
    original = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    journal_entry_reverse(entry=original, by=None)
    with pytest.raises(errors.AlreadyReversed):
        journal_entry_reverse(entry=original, by=None)
    assert JournalEntry.objects.filter(reversal_of=original).count() == 1
    assert JournalEntry.objects.filter(company=books).count() == 2


def test_a_reversal_is_never_dated_before_the_entry_it_reverses(books):
    original = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    before = JournalEntry.objects.filter(company=books).count()

    with pytest.raises(ValidationFailed) as refused:
        journal_entry_reverse(entry=original, by=None, date=datetime.date(2025, 12, 20))

    assert refused.value.details["date"] == [
        f"A reversal is dated on or after the entry it reverses: {original.number} is dated 2026-01-05, "
        "the reversal 2025-12-20."
    ]
    assert JournalEntry.objects.filter(company=books).count() == before
    original.refresh_from_db()
    assert original.reversed_by_id is None
    # the same day is fine
    assert journal_entry_reverse(entry=original, by=None, date=JAN5).date == JAN5


def test_drafts_cannot_be_reversed(books):
    draft = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    with pytest.raises(errors.NotPosted):
        journal_entry_reverse(entry=draft, by=None)
    assert JournalEntry.objects.filter(company=books).count() == 1


def test_reversal_into_a_closed_period_is_refused_and_another_date_is_accepted(books):
    # given an entry in January, and January closed afterwards
    original = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 1, 31),
        status=PeriodStatus.CLOSED,
    )
    # when / then
    with pytest.raises(errors.PeriodClosed):
        journal_entry_reverse(entry=original, by=None)
    assert JournalEntry.objects.filter(company=books).count() == 1
    reversal = journal_entry_reverse(
        entry=original, by=None, date=datetime.date(2026, 2, 1), description="Fix"
    )
    assert (reversal.date, reversal.description) == (datetime.date(2026, 2, 1), "Fix")


def test_create_into_closed_period_is_refused_and_writes_nothing(books):
    AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 1, 31),
        status=PeriodStatus.LOCKED,
    )
    with pytest.raises(errors.PeriodClosed):
        post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    assert JournalEntry.objects.filter(company=books).count() == 0


def test_back_dated_posting_lands_in_its_own_day_and_month(books):
    post_entry(books, "2026-03-10", ("1000", "50.00", "D"), ("4000", "50.00", "C"))
    post_entry(books, "2026-01-20", ("1000", "20.00", "D"), ("4000", "20.00", "C"))
    post_entry(books, "2026-03-10", ("1000", "5.00", "D"), ("4000", "5.00", "C"))
    cash = account(books, "1000")
    assert list(
        DailyBalance.objects.filter(account=cash).order_by("date").values_list("date", "debit", "line_count")
    ) == [(datetime.date(2026, 1, 20), D("20.00"), 1), (datetime.date(2026, 3, 10), D("55.00"), 2)]
    assert account_totals(company_id=books.pk, end=datetime.date(2026, 2, 28))[cash.pk].balance == D("20.00")
    assert account_totals(company_id=books.pk, end=datetime.date(2026, 3, 10))[cash.pk].balance == D("75.00")


def test_draft_created_by_a_user_records_who(books):
    from accounts.tests.factories import UserFactory

    clerk = UserFactory()
    entry = journal_entry_create(
        company=books,
        date=JAN5,
        lines=[{"account": "6100", "debit": "1"}, {"account": "1000", "credit": "1"}],
        by=clerk,
    )
    assert entry.created_by == clerk
    event = AuditEvent.objects.get(
        action="create", object_type="ledger.journalentry", object_id=str(entry.pk)
    )
    assert event.actor_id == clerk.pk
    assert event.changes["lines"]["after"] == [
        {
            "account": account(books, "6100").pk,
            "debit": "1.00",
            "credit": "0.00",
            "currency": "USD",
            "fx_rate": "1",
            "base_amount": "1.00",
            "description": "",
        },
        {
            "account": account(books, "1000").pk,
            "debit": "0.00",
            "credit": "1.00",
            "currency": "USD",
            "fx_rate": "1",
            "base_amount": "-1.00",
            "description": "",
        },
    ]
