"""How posting reaches the database: what a posted entry returns, races with deletion, the lock
order against a balance rebuild, the commit sent with the last statements."""

import datetime
import importlib
import threading
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction

from ledger import errors
from ledger.models import DailyBalance, JournalEntry, JournalLine, MonthlyBalance
from ledger.services import (
    EntryInput,
    balances_rebuild,
    journal_entries_import,
    journal_entry_create,
    journal_entry_delete,
    journal_entry_post,
    journal_entry_reverse,
    journal_entry_update,
)
from ledger.tests.factories import account, company_with_chart, post_entry
from sofinance.db_batch import StatementBatch
from sofinance.permissions import Role
from sofinance.tests.db_reads import table_reads
from sofinance.tests.wire import wire_trace

D = Decimal
JAN5 = datetime.date(2026, 1, 5)


@pytest.mark.django_db
def test_a_posted_entry_comes_back_with_its_stored_lines():
    books = company_with_chart()
    entry = journal_entry_create(
        company=books,
        date=JAN5,
        lines=[
            {"account": "6100", "debit": "80.00", "description": "Rent"},
            {"account": "2200", "debit": "20.00"},
            {"account": "1000", "credit": "100.00"},
        ],
        by=None,
        post=True,
        with_lines=True,
    )
    stored = list(JournalLine.objects.filter(entry_id=entry.pk).order_by("line_no"))
    assert [
        (ln.id, ln.line_no, ln.account_id, ln.debit, ln.credit, ln.entry_sequence)
        for ln in entry.posted_lines
    ] == [(ln.id, ln.line_no, ln.account_id, ln.debit, ln.credit, ln.entry_sequence) for ln in stored]
    assert [(ln.account.code, ln.account.name) for ln in entry.posted_lines] == [
        (a.code, a.name) for a in (ln.account for ln in stored)
    ]
    assert JournalEntry.objects.get(pk=entry.pk).number == entry.number == "JE-2026-000001"


@pytest.mark.django_db
def test_posted_entries_come_back_as_their_stored_rows(django_assert_num_queries):
    # given: a user posting a batch of two entries
    from accounts.tests.factories import UserFactory
    from ledger.services import EntryInput, journal_entries_import

    books = company_with_chart()
    user = UserFactory()
    lines = [{"account": "6100", "debit": "12.50"}, {"account": "1000", "credit": "12.50"}]
    result = journal_entries_import(
        company=books,
        entries=[EntryInput(date=JAN5, lines=lines, description="A"), EntryInput(date=JAN5, lines=lines)],
        by=user,
        source="manual",
    )
    # then: every field equals the row read back, and the records behave as read (not "adding")
    for record in result.entries:
        stored = JournalEntry.objects.get(pk=record.pk)
        fields = [f.attname for f in JournalEntry._meta.concrete_fields]
        assert [getattr(record, name) for name in fields] == [getattr(stored, name) for name in fields]
        assert record._state.adding is False and record._state.db == "default"
        with django_assert_num_queries(0):
            assert (record.company, record.created_by, record.posted_by, record.reversal_of) == (
                books,
                user,
                user,
                None,
            )


@pytest.mark.django_db
@pytest.mark.parametrize("service", ["post", "update", "delete"])
def test_a_draft_deleted_by_another_request_is_not_found(service):
    # given: a request holds a draft that another request deletes
    books = company_with_chart()
    draft = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    stale = JournalEntry.objects.get(pk=draft.pk)
    journal_entry_delete(entry=draft, by=None)
    # when / then
    with pytest.raises(errors.EntryNotFound):
        if service == "post":
            journal_entry_post(entry=stale, posted_by=None)
        elif service == "update":
            journal_entry_update(entry=stale, by=None, description="late")
        else:
            journal_entry_delete(entry=stale, by=None)
    assert not JournalEntry.objects.filter(pk=draft.pk).exists()
    assert DailyBalance.objects.filter(company=books).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["patch", "delete", "post"])
def test_the_api_answers_404_for_a_draft_deleted_while_the_request_waited(method, make_member, monkeypatch):
    books = company_with_chart()
    client = make_member(books, Role.ACCOUNTANT)[1]
    draft = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    from ledger.api import views

    original = views._EntryMixin.entry

    def entry_then_deleted(self, pk):
        found = original(self, pk)
        JournalEntry.objects.filter(pk=found.pk).delete()  # another request wins the race
        return found

    monkeypatch.setattr(views._EntryMixin, "entry", entry_then_deleted)
    path = f"/api/v1/companies/{books.pk}/journal-entries/{draft.pk}" + ("/post" if method == "post" else "")
    response = getattr(client, method)(
        path, {"description": "late"} if method == "patch" else None, format="json"
    )
    assert response.status_code == 404, response.json()
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_that_repairs_buckets_while_postings_run_neither_deadlocks_nor_loses_a_posting():
    # given: stored balances damaged, so every rebuild rewrites them
    books = company_with_chart(name="Rebuild Ltd")
    post_entry(books, JAN5, ("6100", "1.00", "D"), ("1000", "1.00", "C"))
    stop = threading.Event()
    failures: list[BaseException] = []
    rebuilds: list[int] = []

    def damage_and_rebuild() -> None:
        try:
            while not stop.is_set():
                DailyBalance.objects.filter(company=books).update(debit=D("999"))
                result = balances_rebuild(company_id=books.pk, apply=True)
                rebuilds.append(len(result.differences))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    def post_many(n: int) -> None:
        try:
            for i in range(40):
                journal_entry_create(
                    company=books,
                    date=JAN5 + datetime.timedelta(days=(n + i) % 20),
                    lines=[{"account": "6100", "debit": "2.50"}, {"account": "1000", "credit": "2.50"}],
                    by=None,
                    post=True,
                )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    # when
    rebuilder = threading.Thread(target=damage_and_rebuild)
    posters = [threading.Thread(target=post_many, args=(n,)) for n in range(4)]
    rebuilder.start()
    for thread in posters:
        thread.start()
    for thread in posters:
        thread.join(timeout=120)
    stop.set()
    rebuilder.join(timeout=60)
    # then
    assert failures == []
    assert not rebuilder.is_alive() and not any(t.is_alive() for t in posters), "deadlock"
    assert rebuilds and all(count > 0 for count in rebuilds)
    assert balances_rebuild(company_id=books.pk, apply=False).differences == []
    rent = account(books, "6100")
    assert sum(b.debit for b in MonthlyBalance.objects.filter(company=books, account=rent)) == D("401.00")
    assert sorted(JournalEntry.objects.filter(company=books).values_list("sequence", flat=True)) == list(
        range(1, 162)
    )


@pytest.mark.django_db(transaction=True)
def test_a_posting_waits_for_a_rebuild_holding_the_journal_counter():
    books = company_with_chart(name="Waiting Ltd")
    post_entry(books, JAN5, ("6100", "1.00", "D"), ("1000", "1.00", "C"))
    held = threading.Event()
    posted_at: list[float] = []

    def hold_counter() -> None:
        from ledger.numbering import sequence_lock

        try:
            with transaction.atomic():
                sequence_lock(company_id=books.pk)
                held.set()
                time.sleep(0.5)
                released_at.append(time.monotonic())
        finally:
            connections.close_all()

    released_at: list[float] = []
    holder = threading.Thread(target=hold_counter)
    holder.start()
    assert held.wait(10)
    post_entry(books, JAN5, ("6100", "2.00", "D"), ("1000", "2.00", "C"))
    posted_at.append(time.monotonic())
    holder.join(10)
    assert posted_at[0] >= released_at[0]


@pytest.mark.django_db(transaction=True)
def test_the_commit_sent_with_the_last_statements_commits_and_runs_on_commit_callbacks():
    books = company_with_chart(name="Commit Ltd")
    ran: list[str] = []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("callback"))
        entry = post_entry(books, JAN5, ("6100", "3.00", "D"), ("1000", "3.00", "C"))
    assert ran == ["callback"]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT status FROM ledger_journalentry WHERE id = %s", [entry.pk])
            assert cursor.fetchone() == ("posted",)
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_an_entry_posted_in_its_own_transaction_costs_two_round_trips():
    books = company_with_chart(name="Round Trips Ltd")
    with wire_trace() as wire:
        entry = post_entry(books, JAN5, ("6100", "5.00", "D"), ("1000", "5.00", "C"))
    # then: the BEGIN travels with the reservation, the COMMIT with the write; nothing else
    assert wire.round_trips == 2
    reserve, write = wire.queries
    assert reserve.startswith("BEGIN; SELECT last_sequence, entry_ids")
    assert "ledger_posting_write" in write and write.endswith("; COMMIT")
    assert JournalEntry.objects.get(pk=entry.pk).status == "posted"
    assert connection.connection.autocommit is True


@pytest.mark.django_db(transaction=True)
def test_a_bulk_posting_in_parts_opens_its_transaction_with_its_first_step_and_commits_whole():
    books = company_with_chart(name="Parts Ltd")
    inputs = [
        EntryInput(
            date=JAN5, lines=[{"account": "6100", "debit": "1.00"}, {"account": "1000", "credit": "1.00"}]
        )
        for _ in range(600)
    ]
    with wire_trace() as wire:
        posted = journal_entries_import(company=books, entries=inputs, by=None)
    assert wire.queries[0].startswith("BEGIN; SELECT last_sequence")
    sent_with_a_begin = [rest for side, _kind, rest in wire.messages if side == "F" and "BEGIN" in rest]
    assert len(sent_with_a_begin) == 1  # no BEGIN of its own, in pipeline mode or not
    assert JournalEntry.objects.filter(company=books, status="posted").count() == len(posted.entries) == 600
    assert connection.connection.autocommit is True


@pytest.mark.django_db(transaction=True)
def test_a_commit_refused_by_a_deferred_constraint_raises_inside_the_block_and_keeps_nothing():
    assert connection.vendor == "postgresql"
    books = company_with_chart(name="Deferred Ltd")
    line_count = JournalLine.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        batch = StatementBatch()
        # a line of an entry that does not exist: the foreign key is checked at COMMIT
        batch.add(
            "INSERT INTO ledger_journalline (company_id, entry_id, line_no, account_id, description, debit, "
            "credit, currency, amount, fx_rate, base_amount, date) "
            "VALUES (%s, 987654321, 1, %s, '', 1, 0, 'USD', 1, 1, 1, '2026-01-05')",
            [books.pk, account(books, "6100").pk],
        )
        batch.run(last_in_transaction=True)
    assert JournalLine.objects.count() == line_count


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_the_posting_leaves_the_commit_to_the_caller():
    # given: a caller (an invoice being issued, say) posts inside its own transaction, then fails
    books = company_with_chart(name="Caller Ltd")
    with pytest.raises(RuntimeError), transaction.atomic():
        entry = post_entry(books, JAN5, ("6100", "4.00", "D"), ("1000", "4.00", "C"))
        raise RuntimeError("the caller's next step fails")
    # then: the posting went with the caller's transaction
    assert not JournalEntry.objects.filter(pk=entry.pk).exists()
    assert not DailyBalance.objects.filter(company=books).exists()


@pytest.mark.django_db
def test_the_audit_events_of_every_kind_of_posting_verify_in_the_chain():
    from audit.models import AuditEvent
    from audit.sealing import in_process_sealer
    from audit.services import audit_chains_seal, verify_audit_chain
    from ledger.services import EntryInput, journal_entries_import, journal_entry_reverse

    books = company_with_chart()
    single = post_entry(
        books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"), description="Ünïcode “quotes”"
    )
    journal_entries_import(
        company=books,
        entries=[
            EntryInput(
                date=JAN5, lines=[{"account": "6200", "debit": "1.10"}, {"account": "1000", "credit": "1.10"}]
            )
        ]
        * 3,
        by=None,
    )
    journal_entry_reverse(entry=single, by=None)
    draft = post_entry(books, JAN5, ("6100", "2.00", "D"), ("1000", "2.00", "C"), post=False)
    journal_entry_post(entry=draft, posted_by=None)
    in_process_sealer.flush()
    audit_chains_seal()
    result = verify_audit_chain(company_id=books.pk)
    assert result.ok, (result.reason, result.detail)
    posts = AuditEvent.objects.filter(company_id=books.pk, action="post")
    assert posts.count() == 6  # one, three in a batch, the reversal, the draft
    first = posts.order_by("id").first()
    assert first.changes["description"] == {"before": None, "after": "Ünïcode “quotes”"}
    assert first.changes["lines"]["after"][0]["debit"] == "10.00"


@pytest.mark.django_db
def test_the_posting_functions_plan_their_statements_once():
    # PL/pgSQL re-plans a statement on every call while it prefers custom plans; the posting
    # functions are pinned to the generic plan (ledger 0009, audit 0009). A later
    # CREATE OR REPLACE FUNCTION that forgets to restate the setting fails here.
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, proconfig FROM pg_proc WHERE proname = ANY(%s)",
            [
                [
                    "ledger_posting_reserve",
                    "ledger_posting_write",
                    "ledger_lines_inserted_guard",
                    "ledger_entries_inserted_guard",
                    "audit_events_insert_signed",
                ]
            ],
        )
        settings = dict(cursor.fetchall())
    assert len(settings) == 5
    assert all(config[0] == "plan_cache_mode=force_generic_plan" for config in settings.values()), settings
    # The ledger's functions also plan key look-ups only (ledger 0011; see the next test).
    probe = ["enable_seqscan=off", "enable_hashjoin=off", "enable_mergejoin=off"]
    assert {name: config[1:] for name, config in settings.items()} == {
        **{name: probe for name in settings if name.startswith("ledger_")},
        "audit_events_insert_signed": [],
    }
    # (the trigger tests, test_insert_checks.py and test_db_invariants.py, run through them)
    books = company_with_chart()
    entry = post_entry(books, JAN5, ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    assert entry.number == "JE-2026-000001"


def _journal_reads() -> tuple[int, int]:
    """In this transaction so far: sequential scans of the journal tables, and journal entries
    read by any scan."""
    return table_reads("ledger_journalentry", "ledger_journalline")[0], table_reads("ledger_journalentry")[1]


def _journal_seq_scans() -> int:
    return _journal_reads()[0]


PROBE_FUNCTIONS = [
    "ledger_posting_reserve(bigint, integer, integer, date, date, bigint[], text[])",
    "ledger_posting_write(bigint, bigint, timestamptz, jsonb, jsonb, jsonb, jsonb, jsonb)",
    "ledger_lines_inserted_guard()",
    "ledger_entries_inserted_guard()",
]


def _post_three(books, start: int) -> list[JournalEntry]:
    return [
        post_entry(books, datetime.date(2026, 1, day), ("6100", "10.00", "D"), ("1000", "10.00", "C"))
        for day in range(start, start + 3)
    ]


def _import_twos(books, date: datetime.date, count: int) -> None:
    line_pair = [{"account": "6100", "debit": "5.00"}, {"account": "1000", "credit": "5.00"}]
    journal_entries_import(
        company=books, entries=[EntryInput(date=date, lines=line_pair) for _ in range(count)], by=None
    )


@pytest.mark.django_db
def test_the_posting_functions_never_read_the_whole_journal_whatever_their_plan_was_built_on():
    # The functions' generic plans are built once per connection. Built while the journal looks
    # like a few pages (a new database, or one autovacuum has not analyzed), the planner finds
    # reading every entry cheaper than probing an index for each row of the call, and the
    # connection keeps that plan while the journal grows. Here the planner is made to believe so
    # inside the functions whatever this test database's statistics say: an index page read is
    # priced at 10,000 sequential ones (the rest of the session, the services' own queries, keeps
    # its costs).
    assert connection.vendor == "postgresql"
    books = company_with_chart()
    with connection.cursor() as cursor:
        # given: the functions without their planner settings, biased (rolled back with the test)
        for function in PROBE_FUNCTIONS:
            for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
                cursor.execute(f"ALTER FUNCTION {function} RESET {setting}")
            cursor.execute(f"ALTER FUNCTION {function} SET random_page_cost = 10000")
        cursor.execute("DISCARD PLANS")
    posted = _post_three(books, 5)
    before = _journal_seq_scans()
    _post_three(books, 8)
    journal_entry_reverse(entry=posted[0], by=None)
    # then: each posting scans the journal (what the settings prevent)
    assert _journal_seq_scans() - before >= 4

    # given: the settings of migration 0011, plans afresh, the planner as biased as before
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, proconfig FROM pg_proc WHERE proname LIKE 'ledger_%%'")
        assert all(len(config) == 2 for _name, config in cursor.fetchall() if config)
    probe_by_key = importlib.import_module("ledger.migrations.0011_posting_functions_probe_by_key")
    with connection.cursor() as cursor:
        cursor.execute(probe_by_key.FORWARD)
        # the lines check as migration 0015 made it (0011's settings alone left a nested loop free
        # to start from the entries)
        cursor.execute(
            importlib.import_module(
                "ledger.migrations.0015_lines_check_looks_entries_up_by_key"
            ).LINES_INSERTED
        )
        # and the journal's statistics saying it holds a row (a young book analyzed early: the
        # suite once met them so, left by earlier tests), while the plans are made
        cursor.execute(
            "UPDATE pg_class SET reltuples = 1, relpages = 1000 "
            "WHERE relname IN ('ledger_journalentry', 'ledger_journalline')"
        )
        cursor.execute("DISCARD PLANS")
    posted = _post_three(books, 11)
    journal_entry_reverse(entry=posted[0], by=None)
    _import_twos(books, datetime.date(2026, 1, 20), 300)
    with connection.cursor() as cursor:
        # the statistics made right, as autovacuum would: the services' own queries are planned
        # anew on them, the functions keep the plans they made
        cursor.execute("ANALYZE ledger_journalentry, ledger_journalline")
    scans, read = _journal_reads()
    # when: more entries are posted, one by one and as a batch, and two are reversed
    _post_three(books, 14)
    journal_entry_reverse(entry=posted[1], by=None)
    journal_entry_reverse(entry=posted[2], by=None)
    _import_twos(books, datetime.date(2026, 1, 21), 50)
    # then: not one sequential scan of either journal table, and of the 300-odd entries only the
    # few these postings touch are read (the reversed originals, locked and linked)
    scans_after, read_after = _journal_reads()
    assert scans_after - scans == 0
    assert read_after - read < 20


@pytest.mark.django_db
def test_a_reversal_link_is_unique_where_set_and_no_index_lists_the_unlinked_entries():
    assert connection.vendor == "postgresql"
    books = company_with_chart()
    original, other = _post_three(books, 5)[:2]
    # given: no index may serve "every entry without a reversal" (ledger 0012)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for column in ("reversed_by_id", "reversal_of_id"):
            cursor.execute(f"EXPLAIN SELECT id FROM ledger_journalentry WHERE {column} IS NULL")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Index" not in plan, plan
            # while a look-up by a link still probes its unique index
            cursor.execute(f"EXPLAIN SELECT id FROM ledger_journalentry WHERE {column} = %s", [original.pk])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert f"ledger_journalentry_{column}_key" in plan, plan
    # when/then: an entry is reversed at most once, and reverses at most one entry, in the database
    draft = JournalEntry.objects.create(company=books, date=JAN5, status="draft", reversal_of=original)
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(company=books, date=JAN5, status="draft", reversal_of=original)
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.filter(pk=draft.pk).update(reversed_by=other)
        JournalEntry.objects.create(company=books, date=JAN5, status="draft", reversed_by=other)
