"""The database itself refuses what the invariants forbid, whatever goes around the services:
raw SQL, ORM update()/delete(), or a model save."""

import datetime
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from ledger.models import AccountingPeriod, EntryStatus, JournalEntry, JournalLine, PeriodStatus
from ledger.services import journal_entry_reverse
from ledger.tests.factories import account, company_with_chart, post_entry

pytestmark = pytest.mark.django_db

JAN5 = datetime.date(2026, 1, 5)


@pytest.fixture
def books():
    return company_with_chart()


@pytest.fixture
def posted(books):
    return post_entry(books, JAN5, ("6100", "100.00", "D"), ("1000", "100.00", "C"))


def refused(code: str):
    """Expect the database to refuse, with the trigger's code in the message."""
    return pytest.raises(DatabaseError, match=code)


def sql(statement: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


# --------------------------------------------------------------------------- posted entries


def test_raw_sql_update_of_posted_entry_is_refused(posted):
    with refused("entry_immutable"):
        sql("UPDATE ledger_journalentry SET description = 'edited' WHERE id = %s", [posted.pk])
    assert JournalEntry.objects.get(pk=posted.pk).description == ""


def test_orm_update_of_posted_entry_is_refused(posted):
    with refused("entry_immutable"), transaction.atomic():
        JournalEntry.objects.filter(pk=posted.pk).update(date=datetime.date(2026, 2, 1))
    with refused("entry_immutable"), transaction.atomic():
        JournalEntry.objects.filter(pk=posted.pk).update(
            status=EntryStatus.DRAFT, number=None, sequence=None, posted_at=None
        )
    assert JournalEntry.objects.get(pk=posted.pk).date == JAN5


def test_model_save_of_posted_entry_is_refused(posted):
    posted.reference = "changed"
    with refused("entry_immutable"), transaction.atomic():
        posted.save()


def test_raw_sql_and_orm_delete_of_posted_entry_are_refused(posted):
    with refused("entry_immutable"):
        sql("DELETE FROM ledger_journalline WHERE entry_id = %s", [posted.pk])
    with refused("entry_immutable"):
        sql("DELETE FROM ledger_journalentry WHERE id = %s", [posted.pk])
    with refused("entry_immutable"), transaction.atomic():
        JournalEntry.objects.filter(pk=posted.pk).delete()
    assert JournalLine.objects.filter(entry=posted).count() == 2


def test_lines_of_posted_entry_cannot_be_updated_inserted_or_deleted(books, posted):
    line = posted.lines.first()
    with refused("entry_immutable"):
        sql(
            "UPDATE ledger_journalline SET debit = 999, amount = 999, base_amount = 999 WHERE id = %s",
            [line.pk],
        )
    with refused("entry_immutable"), transaction.atomic():
        JournalLine.objects.filter(pk=line.pk).update(description="x")
    with refused("entry_immutable"), transaction.atomic():
        JournalLine.objects.filter(entry=posted).delete()
    with refused("entry_immutable"), transaction.atomic():
        JournalLine.objects.create(
            company=books,
            entry=posted,
            line_no=3,
            account=account(books, "6200"),
            debit=Decimal("1"),
            currency="USD",
            amount=Decimal("1"),
            base_amount=Decimal("1"),
            date=JAN5,
            entry_sequence=posted.sequence,
        )
    assert sorted(JournalLine.objects.filter(entry=posted).values_list("debit", flat=True)) == [0, 100]


def test_reversal_link_may_be_set_once_and_nothing_else_with_it(books, posted):
    reversal = journal_entry_reverse(entry=posted, by=None)
    other = post_entry(books, JAN5, ("6100", "1.00", "D"), ("1000", "1.00", "C"))
    # changing the link once set is refused
    with refused("entry_immutable"), transaction.atomic():
        JournalEntry.objects.filter(pk=posted.pk).update(reversed_by=other)
    # setting the link together with another column is refused
    third = post_entry(books, JAN5, ("6100", "2.00", "D"), ("1000", "2.00", "C"))
    with refused("entry_immutable"):
        sql(
            "UPDATE ledger_journalentry SET reversed_by_id = %s, description = 'x' WHERE id = %s",
            [other.pk, third.pk],
        )
    assert JournalEntry.objects.get(pk=posted.pk).reversed_by_id == reversal.pk
    assert JournalEntry.objects.get(pk=third.pk).reversed_by_id is None


# --------------------------------------------------------------------------- draft -> posted


def _draft_with_lines(books, *lines):
    entry = JournalEntry.objects.create(company=books, date=JAN5, status=EntryStatus.DRAFT)
    for number, (code, base) in enumerate(lines, start=1):
        base = Decimal(base)
        JournalLine.objects.create(
            company=books,
            entry=entry,
            line_no=number,
            account=account(books, code),
            debit=base if base > 0 else 0,
            credit=-base if base < 0 else 0,
            currency="USD",
            amount=base,
            base_amount=base,
            date=JAN5,
            entry_sequence=77,
        )
    return entry


def _raw_post(entry_id: int):
    sql(
        "UPDATE ledger_journalentry SET status = 'posted', sequence = 77, number = 'JE-2026-000077', "
        "posted_at = now() WHERE id = %s",
        [entry_id],
    )


def test_posting_an_unbalanced_entry_is_refused_by_the_database(books):
    entry = _draft_with_lines(books, ("6100", "100.00"), ("1000", "-90.00"))
    with refused("unbalanced_entry"):
        _raw_post(entry.pk)
    assert JournalEntry.objects.get(pk=entry.pk).status == EntryStatus.DRAFT


def test_posting_a_one_line_entry_is_refused_by_the_database(books):
    entry = _draft_with_lines(books, ("6100", "100.00"))
    with refused("unbalanced_entry"):
        _raw_post(entry.pk)


def test_inserting_an_entry_as_posted_is_refused(books):
    with refused("unbalanced_entry"):
        sql(
            "INSERT INTO ledger_journalentry (company_id, number, sequence, date, description, reference, source, "
            "status, created_at, updated_at, posted_at) VALUES (%s, 'JE-X', 99, %s, '', '', 'manual', 'posted', "
            "now(), now(), now())",
            [books.pk, JAN5],
        )


def test_a_balanced_entry_posts_through_raw_sql_too(books):
    # the trigger refuses only what breaks the rules: a balanced draft with consistent lines posts
    entry = _draft_with_lines(books, ("6100", "100.00"), ("1000", "-100.00"))
    _raw_post(entry.pk)
    assert JournalEntry.objects.get(pk=entry.pk).status == EntryStatus.POSTED


def test_posting_into_a_closed_period_is_refused_by_the_database(books):
    entry = _draft_with_lines(books, ("6100", "100.00"), ("1000", "-100.00"))
    AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 1, 31),
        status=PeriodStatus.CLOSED,
    )
    with refused("period_closed"):
        _raw_post(entry.pk)


def test_locked_period_cannot_change(books):
    period = AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 1, 31),
        status=PeriodStatus.LOCKED,
    )
    with refused("period_locked"), transaction.atomic():
        AccountingPeriod.objects.filter(pk=period.pk).update(status=PeriodStatus.OPEN)
    with refused("period_locked"), transaction.atomic():
        AccountingPeriod.objects.filter(pk=period.pk).delete()


# --------------------------------------------------------------------------- CHECK constraints


@pytest.mark.parametrize(
    ("debit", "credit", "amount", "base"),
    [
        ("10", "10", "0", "0"),  # both sides
        ("0", "0", "0", "0"),  # neither side
        ("-10", "0", "-10", "-10"),  # negative debit
        ("10", "0", "5", "10"),  # amount is not debit - credit
        ("10", "0", "10", "-10"),  # base amount on the wrong side
    ],
)
def test_line_check_constraints(books, debit, credit, amount, base):
    entry = JournalEntry.objects.create(company=books, date=JAN5, status=EntryStatus.DRAFT)
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalLine.objects.create(
            company=books,
            entry=entry,
            line_no=1,
            account=account(books, "6100"),
            debit=Decimal(debit),
            credit=Decimal(credit),
            currency="USD",
            amount=Decimal(amount),
            base_amount=Decimal(base),
            date=JAN5,
        )
    assert JournalLine.objects.filter(entry=entry).count() == 0


def test_draft_needs_no_number_and_posted_needs_one(books):
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(
            company=books, date=JAN5, status=EntryStatus.DRAFT, number="JE-1", sequence=1
        )


# --------------------------------------------------------------------------- a line's company is its entry's


@pytest.fixture
def other_books():
    return company_with_chart(name="Other Ltd")


def _line_values(books, entry_id: int, company_id: int, line_no: int = 1) -> list:
    return [company_id, entry_id, line_no, account(books, "6100").pk]


_INSERT_LINE = (
    "INSERT INTO ledger_journalline (company_id, entry_id, line_no, account_id, description, debit, "
    "credit, currency, amount, fx_rate, base_amount, date) "
    "VALUES (%s, %s, %s, %s, '', 10, 0, 'USD', 10, 1, 10, '2026-01-05')"
)


def test_a_line_of_another_company_cannot_join_a_draft(books, other_books):
    draft = _draft_with_lines(books, ("6100", "10.00"))
    with refused("entry_inconsistent"):
        sql(_INSERT_LINE, _line_values(books, draft.pk, other_books.pk, line_no=2))
    assert JournalLine.objects.filter(entry=draft).count() == 1


def test_a_drafts_line_cannot_move_to_another_company_or_to_another_companys_entry(books, other_books):
    draft = _draft_with_lines(books, ("6100", "10.00"))
    foreign = _draft_with_lines(other_books, ("6100", "10.00"))
    line = JournalLine.objects.get(entry=draft)
    with refused("entry_inconsistent"):
        sql("UPDATE ledger_journalline SET company_id = %s WHERE id = %s", [other_books.pk, line.pk])
    with refused("entry_inconsistent"), transaction.atomic():
        JournalLine.objects.filter(pk=line.pk).update(entry_id=foreign.pk, line_no=9)
    line.refresh_from_db()
    assert (line.company_id, line.entry_id) == (books.pk, draft.pk)
    # within its own entry and company a draft's line still changes
    sql("UPDATE ledger_journalline SET description = 'rent' WHERE id = %s", [line.pk])


def test_an_entry_never_moves_to_another_company(books, other_books):
    draft = _draft_with_lines(books, ("6100", "10.00"))
    with refused("entry_inconsistent"):
        sql("UPDATE ledger_journalentry SET company_id = %s WHERE id = %s", [other_books.pk, draft.pk])
    assert JournalEntry.objects.get(pk=draft.pk).company_id == books.pk


def test_an_entry_inserted_after_lines_of_another_company_is_refused_draft_or_posted(books, other_books):
    for status, number in (("draft", None), ("posted", "JE-2026-000099")):
        entry_id = 990_000 + (1 if status == "draft" else 2)
        with refused("entry_inconsistent"), transaction.atomic(), connection.cursor() as cursor:
            # lines first (their entry foreign key waits for the COMMIT), then the entry
            cursor.execute(_INSERT_LINE, _line_values(books, entry_id, other_books.pk))
            cursor.execute(
                _INSERT_LINE.replace("10, 0, 'USD', 10, 1, 10", "0, 10, 'USD', -10, 1, -10"),
                _line_values(books, entry_id, other_books.pk, line_no=2),
            )
            cursor.execute(
                "INSERT INTO ledger_journalentry (id, company_id, number, sequence, date, description, "
                "reference, source, status, created_at, updated_at, posted_at) VALUES "
                "(%s, %s, %s, %s, '2026-01-05', '', '', 'manual', %s, now(), now(), "
                "CASE WHEN %s THEN now() END)",
                [entry_id, books.pk, number, 99 if number else None, status, bool(number)],
            )
    assert not JournalLine.objects.filter(entry_id__gte=990_000).exists()


def test_the_line_company_foreign_key_is_gone_and_a_company_with_entries_still_cannot_be_deleted(
    books, posted
):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'ledger_journalline'::regclass "
            "AND confrelid = 'accounts_company'::regclass"
        )
        assert cursor.fetchone()[0] == 0
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DELETE FROM accounts_company WHERE id = %s", [books.pk])
    assert JournalLine.objects.filter(company_id=books.pk).count() == 2


# --------------------------------------------------------------------------- SQLite


SQLITE_SCRIPT = textwrap.dedent(
    """
    import datetime, django
    from decimal import Decimal
    django.setup()
    from django.core.management import call_command
    from django.db import DatabaseError, connection, transaction
    call_command("migrate", verbosity=0)
    from accounts.tests.factories import UserFactory
    from accounts.services import company_create
    from ledger.services import journal_entry_create
    from ledger.models import JournalEntry, JournalLine
    company = company_create(name="S", currency="USD", created_by=UserFactory(), chart_template="small_business")
    entry = journal_entry_create(company=company, date=datetime.date(2026, 1, 5), by=None, post=True,
        lines=[{"account": "6100", "debit": "10.00"}, {"account": "1000", "credit": "10.00"}])
    results = []
    for statement in [
        f"UPDATE ledger_journalentry SET description = 'x' WHERE id = {entry.pk}",
        f"DELETE FROM ledger_journalentry WHERE id = {entry.pk}",
        f"UPDATE ledger_journalline SET description = 'x' WHERE entry_id = {entry.pk}",
        f"DELETE FROM ledger_journalline WHERE entry_id = {entry.pk}",
    ]:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
            results.append("allowed")
        except DatabaseError as exc:
            results.append(str(exc).split(":")[0])
    draft = JournalEntry.objects.create(company=company, date=datetime.date(2026, 1, 6))
    JournalLine.objects.create(company=company, entry=draft, line_no=1, account_id=JournalLine.objects.first().account_id,
        debit=Decimal("5"), currency="USD", amount=Decimal("5"), base_amount=Decimal("5"), date=draft.date, entry_sequence=9)
    try:
        with transaction.atomic():
            JournalEntry.objects.filter(pk=draft.pk).update(status="posted", sequence=9, number="JE-9",
                posted_at=datetime.datetime.now(datetime.UTC))
        results.append("allowed")
    except DatabaseError as exc:
        results.append(str(exc).split(":")[0])
    # an entry inserted already posted: refused without its lines, accepted after balanced ones
    account_id = JournalLine.objects.first().account_id
    for lines in ([], [Decimal("7"), Decimal("-7")]):
        try:
            with transaction.atomic():
                for n, amount in enumerate(lines, start=1):
                    JournalLine.objects.create(id=9000 + n, company=company, entry_id=9000, line_no=n,
                        account_id=account_id, debit=max(amount, 0), credit=max(-amount, 0), currency="USD",
                        amount=amount, base_amount=amount, date=datetime.date(2026, 1, 7), entry_sequence=99)
                JournalEntry.objects.create(id=9000, company=company, date=datetime.date(2026, 1, 7),
                    status="posted", sequence=99, number="JE-99", posted_at=datetime.datetime.now(datetime.UTC))
            results.append("allowed")
        except DatabaseError as exc:
            results.append(str(exc).split(":")[0])
    print("RESULTS", ",".join(results))
    """
)


def test_sqlite_triggers_enforce_the_same_invariants(tmp_path: Path):
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'books.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "ERROR",
    }
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("RESULTS"))
    assert line == (
        "RESULTS entry_immutable,entry_immutable,entry_immutable,entry_immutable,unbalanced_entry,"
        "unbalanced_entry,allowed"
    )
