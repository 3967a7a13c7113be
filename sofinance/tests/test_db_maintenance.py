"""tables_analyze_grown: a bulk write analyzes a table only when the rows changed since its last
ANALYZE (committed ones, plus those it added) exceed autovacuum's threshold, or when the table was
never analyzed.

The tests that run in the test's transaction start by emptying their tables with TRUNCATE: a
table so emptied has reltuples = -1 (never analyzed), and since the ANALYZEs that follow update
that transaction's own version of the table's pg_class row, the rollback at the test's end leaves
the table's statistics as they were (an ANALYZE inside a transaction otherwise writes reltuples in
place, kept even by a rollback). The test that commits ends with Django's flush, a TRUNCATE of
every table, which resets them the same way."""

import math

import pytest
from django.db import connection

from sofinance.db_maintenance import tables_analyze_grown
from sofinance.models import IdempotencyRecord, Quarantine

QUARANTINE = Quarantine._meta.db_table
IDEMPOTENCY = IdempotencyRecord._meta.db_table
ROWS = 2000


def sql(statement: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def quarantine_flags(first: int, count: int) -> None:
    sql(
        f"INSERT INTO {QUARANTINE} (object_type, object_id, discrepancy_id, opened_at) "
        "SELECT 'ledger.journalentry', g, g, now() FROM generate_series(%s, %s) g",
        [first, first + count - 1],
    )


def idempotency_records(first: int, count: int) -> None:
    sql(
        f"INSERT INTO {IDEMPOTENCY} (user_id, key, request_hash, method, path, created_at, expires_at) "
        "SELECT g, 'key-' || g, md5(g::text), 'POST', '/api/v1/', now(), now() + interval '1 day' "
        "FROM generate_series(%s, %s) g",
        [first, first + count - 1],
    )


def reltuples(table: str) -> float:
    return sql("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])[0][0]


def rows_that_may_change_unanalyzed(table: str) -> int:
    """How many more rows may change before the table is due: autovacuum's analyze threshold
    (threshold + scale factor × reltuples), less the rows changed since its last ANALYZE."""
    ((threshold, scale, changed),) = sql(
        "SELECT current_setting('autovacuum_analyze_threshold')::float8, "
        "current_setting('autovacuum_analyze_scale_factor')::float8, "
        "coalesce((SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = %s::regclass), 0)",
        [table],
    )
    return math.floor(threshold + scale * reltuples(table) - changed)


def flush_statistics() -> None:
    """This session's counts of committed changes reach the shared statistics now (else within a
    second or more)."""
    sql("SELECT pg_stat_force_next_flush()")  # done as the session goes idle, before it answers


@pytest.fixture(autouse=True)
def analyze_in_this_thread(monkeypatch):
    """The ANALYZE task runs where it is queued, whatever mode Celery was left in by other tests."""
    from sofinance import tasks

    monkeypatch.setattr(tasks.tables_analyze_task, "delay", tasks.tables_analyze_task.run)


@pytest.fixture
def quarantine_analyzed(db):
    """The quarantine table with ROWS rows, just analyzed."""
    sql(f"TRUNCATE {QUARANTINE}")
    quarantine_flags(1, ROWS)
    sql(f"ANALYZE {QUARANTINE}")
    assert reltuples(QUARANTINE) == ROWS
    return QUARANTINE


@pytest.mark.parametrize("added", ["one", "as_many_as_the_threshold_allows"])
def test_a_table_grown_by_too_few_rows_since_its_last_analyze_is_left_alone(
    quarantine_analyzed, added, django_capture_on_commit_callbacks
):
    # given: rows added, as many as allowed at most
    count = 1 if added == "one" else rows_that_may_change_unanalyzed(QUARANTINE)
    assert 0 < count < ROWS * 0.2  # a small part of the table (50 + 10% of it by default)
    quarantine_flags(ROWS + 1, count)
    # when
    with django_capture_on_commit_callbacks(execute=True) as on_commit:
        analyzed = tables_analyze_grown({Quarantine: count})
    # then: no ANALYZE (it would have counted the added rows)
    assert (analyzed, reltuples(QUARANTINE), on_commit) == ([], ROWS, [])


@pytest.mark.parametrize("added", ["one_more_than_the_threshold_allows", "as_many_again"])
def test_a_table_grown_past_the_threshold_since_its_last_analyze_is_analyzed(
    quarantine_analyzed, added, django_capture_on_commit_callbacks
):
    # given: rows added in this transaction, past the threshold
    count = rows_that_may_change_unanalyzed(QUARANTINE) + 1 if added.startswith("one_more") else ROWS
    quarantine_flags(ROWS + 1, count)
    # when: the write's transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        analyzed = tables_analyze_grown({Quarantine: count})
    # then: analyzed, its statistics counting the rows just added
    assert (analyzed, reltuples(QUARANTINE)) == ([QUARANTINE], ROWS + count)


def test_a_table_never_analyzed_is_analyzed_for_a_single_added_row_and_alone(
    quarantine_analyzed, django_capture_on_commit_callbacks
):
    # given: a table never analyzed (emptied: the planner knows nothing of it) beside an analyzed one
    sql(f"TRUNCATE {IDEMPOTENCY}")
    assert reltuples(IDEMPOTENCY) == -1
    idempotency_records(1, 1)
    quarantine_flags(ROWS + 1, 1)
    # when: each grew by one row
    with django_capture_on_commit_callbacks(execute=True):
        analyzed = tables_analyze_grown({Quarantine: 1, IdempotencyRecord: 1})
    # then: only the never analyzed table is, and knows its row
    assert (analyzed, reltuples(IDEMPOTENCY), reltuples(QUARANTINE)) == ([IDEMPOTENCY], 1, ROWS)


def test_inside_a_transaction_the_analyze_waits_for_its_commit(
    quarantine_analyzed, django_capture_on_commit_callbacks
):
    # given: a table doubled in the current transaction (an import's)
    quarantine_flags(ROWS + 1, ROWS)
    # when
    with django_capture_on_commit_callbacks() as on_commit:
        analyzed = tables_analyze_grown({Quarantine: ROWS})
    # then: due, not analyzed yet (an ANALYZE would hold its lock until the import commits)
    assert (analyzed, reltuples(QUARANTINE), len(on_commit)) == ([QUARANTINE], ROWS, 1)
    # and once the transaction commits, analyzed (a rollback would have dropped it)
    on_commit[0]()
    assert reltuples(QUARANTINE) == 2 * ROWS


def test_a_tables_own_autovacuum_setting_wins(quarantine_analyzed, django_capture_on_commit_callbacks):
    # given: the table asks to be analyzed only after 5,000 changes
    sql(f"ALTER TABLE {QUARANTINE} SET (autovacuum_analyze_threshold = 5000)")
    quarantine_flags(ROWS + 1, ROWS)
    # when: it doubled (past the server's 50 + 10%, not the table's 5,000 + 10%)
    with django_capture_on_commit_callbacks(execute=True):
        analyzed = tables_analyze_grown({Quarantine: ROWS})
    # then
    assert (analyzed, reltuples(QUARANTINE)) == ([], ROWS)


@pytest.mark.django_db(transaction=True)
def test_rows_committed_since_the_last_analyze_count_toward_the_threshold():
    # given: the table analyzed with ROWS rows, then as many rows committed as the threshold allows
    # (the flush of every table at the test's end empties it again)
    quarantine_flags(1, ROWS)
    flush_statistics()
    sql(f"ANALYZE {QUARANTINE}")
    committed = rows_that_may_change_unanalyzed(QUARANTINE)
    quarantine_flags(ROWS + 1, committed)
    flush_statistics()
    assert sql(
        f"SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = '{QUARANTINE}'::regclass"
    ) == [(committed,)]
    # when: one row more
    quarantine_flags(ROWS + committed + 1, 1)
    analyzed = tables_analyze_grown({Quarantine: 1})
    # then
    assert (analyzed, reltuples(QUARANTINE)) == ([QUARANTINE], ROWS + committed + 1)


def test_the_analyze_is_a_task_queued_on_commit(
    quarantine_analyzed, django_capture_on_commit_callbacks, monkeypatch
):
    # given: a broker (the task is queued, not run: the importing worker or request goes on)
    from sofinance import tasks

    queued = []
    monkeypatch.setattr(tasks.tables_analyze_task, "delay", queued.append)
    quarantine_flags(ROWS + 1, ROWS)
    # when: the write's transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        tables_analyze_grown({Quarantine: ROWS})
    # then: the task names the model; the table is analyzed when a worker runs it
    assert (queued, reltuples(QUARANTINE)) == ([[Quarantine._meta.label]], ROWS)
    tasks.tables_analyze_task.run(queued[0])
    assert reltuples(QUARANTINE) == 2 * ROWS
