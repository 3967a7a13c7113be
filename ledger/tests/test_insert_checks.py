"""PostgreSQL checks inserted journal rows once per statement (migration 0007): a statement of
many rows is refused whole when one row breaks a rule, with the row triggers' codes; lines added
to a draft hold it against a concurrent posting until they commit."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, connections, transaction

from ledger.models import AccountingPeriod, EntryStatus, JournalEntry, JournalLine, PeriodStatus
from ledger.services import journal_entry_post
from ledger.tests.factories import account, company_with_chart, post_entry

JAN5 = datetime.date(2026, 1, 5)

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL statement triggers")


def _ids(table: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [row[0] for row in cursor.fetchall()]


def _insert_posted(books, entries: list[dict]) -> None:
    """Lines, then entries inserted as posted, each in one multi-row statement (as posting does).
    `entries`: [{"id", "sequence", "date", "source", "lines": [(code, base, date, sequence)]}]."""
    line_ids = iter(_ids("ledger_journalline", sum(len(e["lines"]) for e in entries)))
    line_rows, entry_rows = [], []
    for e in entries:
        for number, (code, base, day, sequence) in enumerate(e["lines"], start=1):
            base = Decimal(base)
            line_rows.append(
                [next(line_ids), books.pk, e["id"], number, account(books, code).pk,
                 max(base, 0), max(-base, 0), base, base, day, sequence]
            )  # fmt: skip
        entry_rows.append(
            [
                e["id"],
                books.pk,
                f"JE-2026-{e['sequence']:06d}",
                e["sequence"],
                e["date"],
                e.get("source", "manual"),
            ]
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalline (id, company_id, entry_id, line_no, account_id, description, debit, "
            "credit, currency, amount, fx_rate, base_amount, date, entry_sequence) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, '', %s, %s, 'USD', %s, 1, %s, %s, %s)"] * len(line_rows)),
            [value for row in line_rows for value in row],
        )
        cursor.execute(
            "INSERT INTO ledger_journalentry (id, company_id, number, sequence, date, description, reference, "
            "source, status, created_at, updated_at, posted_at) VALUES "
            + ", ".join(
                ["(%s, %s, %s, %s, %s, '', '', %s, 'posted', now(), now(), now())"] * len(entry_rows)
            ),
            [value for row in entry_rows for value in row],
        )


def _three(books, bad: dict) -> list[dict]:
    """Three balanced entries; the second one's fields replaced by `bad`."""
    ids = _ids("ledger_journalentry", 3)
    entries = []
    for n, entry_id in enumerate(ids, start=1):
        entry = {
            "id": entry_id,
            "sequence": 900 + n,
            "date": JAN5,
            "lines": [("6100", "10.00", JAN5, 900 + n), ("1000", "-10.00", JAN5, 900 + n)],
        }
        if n == 2:
            entry.update(bad(entry) if callable(bad) else bad)
        entries.append(entry)
    return entries


@pytest.mark.django_db
def test_three_balanced_entries_insert_posted_in_two_statements():
    books = company_with_chart()
    _insert_posted(books, _three(books, {}))
    assert JournalEntry.objects.filter(company=books, status=EntryStatus.POSTED).count() == 3
    assert JournalLine.objects.filter(company=books).count() == 6


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (
            lambda e: {"lines": e["lines"][:1]},
            "unbalanced_entry: journal entry \\d+ needs at least two lines",
        ),
        (lambda e: {"lines": [e["lines"][0], ("1000", "-9.99", JAN5, e["sequence"])]}, "does not balance"),
        (
            lambda e: {"lines": [e["lines"][0], ("1000", "-10.00", JAN5, e["sequence"] + 1)]},
            "entry_inconsistent",
        ),
        (
            lambda e: {
                "lines": [e["lines"][0], ("1000", "-10.00", datetime.date(2026, 1, 6), e["sequence"])]
            },
            "entry_inconsistent",
        ),
        (lambda e: {"lines": []}, "unbalanced_entry"),
    ],
    ids=["one line", "unbalanced", "sequence", "date", "no lines"],
)
def test_one_bad_entry_among_three_refuses_the_statement(bad, code):
    books = company_with_chart()
    entries = _three(books, bad)
    with pytest.raises(DatabaseError, match=code) as refused:
        _insert_posted(books, entries)
    assert str(entries[1]["id"]) in str(refused.value)  # the refused entry is named
    assert not JournalEntry.objects.filter(company=books).exists()
    assert not JournalLine.objects.filter(company=books).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "source", "refused"),
    [
        (PeriodStatus.CLOSED, "manual", True),
        (PeriodStatus.CLOSED, "closing", False),
        (PeriodStatus.LOCKED, "closing", True),
        (PeriodStatus.OPEN, "manual", False),
    ],
)
def test_periods_refuse_the_inserted_entries_their_status_forbids(status, source, refused):
    books = company_with_chart()
    AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 1, 31),
        status=status,
    )
    entries = _three(books, {"source": source})
    for entry in entries:
        entry["source"] = source
    if refused:
        with pytest.raises(
            DatabaseError, match="period_closed: 2026-01-05 falls in a closed or locked period"
        ):
            _insert_posted(books, entries)
        assert not JournalEntry.objects.filter(company=books).exists()
    else:
        _insert_posted(books, entries)
        assert JournalEntry.objects.filter(company=books).count() == 3


@pytest.mark.django_db
def test_one_line_for_a_posted_entry_refuses_the_whole_line_statement():
    books = company_with_chart()
    posted = post_entry(books, JAN5, ("6100", "100.00", "D"), ("1000", "100.00", "C"))
    draft = JournalEntry.objects.create(company=books, date=JAN5, status=EntryStatus.DRAFT)
    rows = [(draft.pk, 1), (posted.pk, 3), (draft.pk, 2)]
    immutable = f"entry_immutable: lines cannot be added to posted journal entry {posted.pk}"
    with pytest.raises(DatabaseError, match=immutable), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalline (company_id, entry_id, line_no, account_id, description, debit, "
            "credit, currency, amount, fx_rate, base_amount, date) VALUES "
            + ", ".join(["(%s, %s, %s, %s, '', 1, 0, 'USD', 1, 1, 1, %s)"] * len(rows)),
            [v for entry_id, no in rows for v in (books.pk, entry_id, no, account(books, "6200").pk, JAN5)],
        )
    assert JournalLine.objects.filter(entry=draft).count() == 0
    assert JournalLine.objects.filter(entry=posted).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_posting_waits_for_lines_being_added_to_its_draft_and_then_counts_them():
    # given: a balanced draft, and a transaction adding a third line to it, not yet committed
    books = company_with_chart()
    draft = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    adding = connections.create_connection("default")
    adding.set_autocommit(False)
    with adding.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalline (company_id, entry_id, line_no, account_id, description, debit, "
            "credit, currency, amount, fx_rate, base_amount, date) "
            "VALUES (%s, %s, 3, %s, '', 5, 0, 'USD', 5, 1, 5, %s)",
            [books.pk, draft.pk, account(books, "6200").pk, JAN5],
        )
    # when: another request posts the draft meanwhile
    outcome: list[str] = []

    def post() -> None:
        try:
            journal_entry_post(entry=JournalEntry.objects.get(pk=draft.pk), posted_by=None)
            outcome.append("posted")
        except Exception as exc:
            outcome.append(str(getattr(exc, "code", type(exc).__name__)))
        finally:
            connections.close_all()

    poster = threading.Thread(target=post)
    poster.start()
    poster.join(timeout=1.0)
    # then: the posting waits for the adding transaction (the draft is held FOR SHARE) ...
    assert poster.is_alive() and outcome == []
    adding.commit()
    adding.close()
    poster.join(timeout=30)
    # ... and then sees its line: 15.00 of debits against 10.00 of credits is refused
    assert outcome == ["unbalanced_entry"]
    assert JournalEntry.objects.get(pk=draft.pk).status == EntryStatus.DRAFT
