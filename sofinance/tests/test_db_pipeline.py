"""StatementPipeline on PostgreSQL: parts sent as they are ready run on the server at once, in
order, in the caller's transaction; their rows are read at the end; a failing statement raises
Django's error and stops what follows; the COMMIT may travel with the last part."""

import contextlib
import select
import time
import uuid

import psycopg
import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from sofinance.db_batch import StatementBatch, StatementPipeline
from sofinance.tests.sessions import second_session
from sofinance.tests.wire import wire_trace

# The advisory locks these tests take are keyed (LOCK_CLASS, the locking session's backend pid):
# pg_locks shows them as classid = LOCK_CLASS, objid = pid, objsubid = 1.
LOCK_CLASS = 0x5049_5045


def batch(*statements: str | tuple[str, list]) -> StatementBatch:
    part = StatementBatch()
    for statement in statements:
        sql, params = (statement, []) if isinstance(statement, str) else statement
        part.add(sql, params)
    return part


def backend_pid() -> int:
    """Our session's backend, read by a query (so reading it proves the connection works)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def lock(pid: int) -> tuple[str, list]:
    return "SELECT pg_advisory_xact_lock(%s)", [(LOCK_CLASS << 32) | pid]


def lock_held(other: psycopg.Connection, pid: int) -> bool:
    (count,) = other.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::oid "
        "AND objid = %s::oid AND objsubid = 1 AND pid = %s AND granted",
        [LOCK_CLASS, pid, pid],
    ).fetchone()
    return count == 1


def wait_until_held(other: psycopg.Connection, pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not lock_held(other, pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def wait_for_the_servers_answer(timeout: float = 5.0) -> None:
    """Wait until the server's answer lies unread on our connection's socket (during a pipeline
    the server sends a part's results only with an error, or once the pipeline is synced)."""
    readable, _, _ = select.select([connection.connection.fileno()], [], [], timeout)
    assert readable, "the server sent nothing"
    time.sleep(0.05)  # the rest of the message, should it come in two packets


def rows_in(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT n FROM {table} ORDER BY n")
        return cursor.fetchall()


def sequence_state(table: str) -> tuple[int, bool]:
    """(last_value, is_called) of the table's sequence: nextval() is not undone by a rollback."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_value, is_called FROM {table}_seq")
        return cursor.fetchone()


@pytest.fixture
def other():
    """A second session on the test database, in autocommit: it sees only what is committed."""
    with second_session() as session:
        yield session


@pytest.fixture
def scratch(transactional_db):
    """A committed table of positive, unique (checked at COMMIT) numbers, with a sequence."""
    name = f"pipeline_scratch_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {name} (n integer NOT NULL CHECK (n > 0), "
            f"CONSTRAINT {name}_once UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)"
        )
        cursor.execute(f"CREATE SEQUENCE {name}_seq")
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {name}")
        cursor.execute(f"DROP SEQUENCE {name}_seq")


@pytest.mark.django_db
def test_parts_sent_one_after_another_run_in_order_in_the_callers_transaction_and_finish_gives_their_rows():
    with transaction.atomic():
        # given: the caller's transaction, with a temporary table
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE pipeline_parts (n integer) ON COMMIT DROP")
            cursor.execute("SELECT txid_current()")
            (callers_transaction,) = cursor.fetchone()
        # when: a second part reads what the first wrote
        with StatementPipeline() as pipeline:
            first = StatementBatch()
            inserted = first.add("INSERT INTO pipeline_parts SELECT generate_series(1, %s) RETURNING n", [3])
            pipeline.send(first)
            second = StatementBatch()
            added = second.add("INSERT INTO pipeline_parts VALUES (%s)", [4])
            read = second.add("SELECT array_agg(n ORDER BY n), txid_current() FROM pipeline_parts")
            pipeline.send(second)
            pipeline.finish()
        # and the caller's own queries go on in the same transaction
        after = rows_in("pipeline_parts")
    # then: each statement holds its rows, read in the caller's transaction after the first part
    assert (inserted.rows, added.rows, read.rows, after) == (
        [(1,), (2,), (3,)],
        [],
        [([1, 2, 3, 4], callers_transaction)],
        [(1,), (2,), (3,), (4,)],
    )


@pytest.mark.django_db(transaction=True)
def test_a_sent_part_runs_on_the_server_while_python_goes_on_before_finish_is_called(other):
    # given: a part that keeps the server busy for a second, then takes a lock another session sees
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    part = batch("SELECT pg_sleep(1)", lock(pid))
    with transaction.atomic(), StatementPipeline() as pipeline:
        # when: the part is sent and Python goes on, without finish
        pipeline.send(part)
        held_when_send_returned = lock_held(other, pid)
        held_before_finish = wait_until_held(other, pid)
        pipeline.finish()
    # then: send did not wait for the part, which ran meanwhile; the block's end released the lock
    assert (held_when_send_returned, held_before_finish, lock_held(other, pid)) == (False, True, False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "read_by",
    [
        "a_later_send",
        "finish",
        "finish_sending_the_commit",
        # the COMMIT's own execute reads the error: finish must still leave pipeline mode, or the
        # block's rollback fails and Django drops the connection
        "finish_sending_the_commit_once_the_error_is_in",
    ],
)
def test_a_failing_statement_raises_djangos_error_runs_nothing_after_it_and_the_block_keeps_nothing(
    scratch, read_by
):
    # given: parts whose second one fails (after half a second on the server, unless the error is to
    # be read by a later send)
    pid = backend_pid()
    slowly = [] if read_by == "a_later_send" else ["SELECT pg_sleep(0.5)"]
    reached: list[str] = []
    # when
    with pytest.raises(IntegrityError) as raised, transaction.atomic(), StatementPipeline() as pipeline:
        pipeline.send(batch(f"INSERT INTO {scratch} (n) VALUES (1)", f"SELECT nextval('{scratch}_seq')"))
        reached.append("first part sent")
        # (the failing statement last in its part: the part's own send has nothing after it to read
        # the error with)
        pipeline.send(batch(*slowly, f"INSERT INTO {scratch} (n) VALUES (-2)"))
        reached.append("failing part sent")
        if read_by == "a_later_send":
            wait_for_the_servers_answer()
        pipeline.send(batch(f"SELECT nextval('{scratch}_seq')", f"INSERT INTO {scratch} (n) VALUES (3)"))
        reached.append("last part sent")
        if read_by.endswith("_once_the_error_is_in"):
            wait_for_the_servers_answer()
        pipeline.finish(last_in_transaction=read_by.startswith("finish_sending_the_commit"))
        reached.append("finished")
    # then: Django's error (psycopg's is its cause), raised by the call that read it: the one the
    # case arranges, or (on a machine slow enough that the answer came sooner) an earlier one,
    # never before the failing part was sent nor after finish
    sent = ["first part sent", "failing part sent", "last part sent"]
    arranged = sent[:2] if read_by == "a_later_send" else sent
    assert type(raised.value.__cause__) is psycopg.errors.CheckViolation
    assert reached in (sent[:1], sent[:2], sent[:3]) and len(reached) <= len(arranged), reached
    # and the first part's nextval ran, none after the failure did; the block kept no row
    assert (sequence_state(scratch), rows_in(scratch)) == ((1, True), [])
    # and the connection goes on: the same session, out of the block
    assert (backend_pid(), connection.in_atomic_block, connection.needs_rollback) == (pid, False, False)


@pytest.mark.django_db(transaction=True)
def test_finish_as_the_last_of_the_outermost_block_commits_at_once_and_on_commit_callbacks_run_at_its_end(
    scratch, other
):
    ran: list[str] = []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("callback"))
        with StatementPipeline() as pipeline:
            pipeline.send(batch((f"INSERT INTO {scratch} (n) VALUES (%s)", [1])))
            # when
            pipeline.finish(last_in_transaction=True)
        # then: another session sees the row while the block is still open
        seen_in_the_block = other.execute(f"SELECT n FROM {scratch}").fetchall()
        callbacks_in_the_block = list(ran)
    assert (seen_in_the_block, callbacks_in_the_block, ran, rows_in(scratch)) == (
        [(1,)],
        [],
        ["callback"],
        [(1,)],
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("inner_block", "last_in_transaction"),
    [
        (lambda: transaction.atomic(), True),
        (lambda: transaction.atomic(savepoint=False), True),
        (contextlib.nullcontext, False),
    ],
    ids=[
        "last_in_a_savepoint",
        "last_in_an_inner_block_without_savepoint",
        "the_outermost_not_told_it_is_the_last",
    ],
)
def test_finish_leaves_the_commit_to_the_outermost_block_when_inside_another_or_not_told_it_is_the_last(
    scratch, other, inner_block, last_in_transaction
):
    seen = {}
    with transaction.atomic():
        with inner_block():
            with StatementPipeline() as pipeline:
                pipeline.send(batch((f"INSERT INTO {scratch} (n) VALUES (%s)", [1])))
                # when
                pipeline.finish(last_in_transaction=last_in_transaction)
            seen["after finish"] = other.execute(f"SELECT n FROM {scratch}").fetchall()
        seen["after the inner block"] = other.execute(f"SELECT n FROM {scratch}").fetchall()
    seen["after the outermost block"] = other.execute(f"SELECT n FROM {scratch}").fetchall()
    # then: only the outermost block's end commits
    assert seen == {"after finish": [], "after the inner block": [], "after the outermost block": [(1,)]}


@pytest.mark.django_db(transaction=True)
def test_a_commit_sent_with_the_last_part_and_refused_raises_from_finish_and_keeps_nothing(scratch, other):
    # given: two equal numbers, which the deferred unique constraint refuses at COMMIT
    pid = backend_pid()
    ran: list[str] = []
    reached: list[str] = []
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        transaction.on_commit(lambda: ran.append("callback"))
        with StatementPipeline() as pipeline:
            pipeline.send(
                batch(f"INSERT INTO {scratch} (n) VALUES (1)", f"INSERT INTO {scratch} (n) VALUES (1)")
            )
            # when
            pipeline.finish(last_in_transaction=True)
        reached.append("after finish")
    # then: finish raised it, inside the block, which kept nothing and ran no callback
    assert (reached, type(raised.value.__cause__), ran) == ([], psycopg.errors.UniqueViolation, [])
    assert (other.execute(f"SELECT n FROM {scratch}").fetchall(), rows_in(scratch), backend_pid()) == (
        [],
        [],
        pid,
    )


class PreparingTheNextPartFailed(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_python_exception_after_parts_were_sent_propagates_and_the_block_rolls_back_what_they_wrote(
    scratch, other
):
    pid = backend_pid()
    failure = PreparingTheNextPartFailed("the next part does not validate")
    with (
        pytest.raises(PreparingTheNextPartFailed) as raised,
        transaction.atomic(),
        StatementPipeline() as pipeline,
    ):
        # given: a part sent, which the server has run (its lock is taken)
        pipeline.send(batch(f"INSERT INTO {scratch} (n) VALUES (1)", lock(pid)))
        assert wait_until_held(other, pid)
        # when: Python fails before finish
        raise failure
    # then: the same exception, nothing kept, the lock released, the same session goes on
    assert (raised.value, rows_in(scratch), lock_held(other, pid), backend_pid()) == (failure, [], False, pid)


@pytest.mark.django_db
def test_nothing_can_be_sent_once_the_pipeline_has_finished():
    with transaction.atomic(), StatementPipeline() as pipeline:
        pipeline.send(batch("SELECT 1"))
        pipeline.finish()
        with pytest.raises(RuntimeError, match="has finished"):
            pipeline.send(batch("SELECT 2"))


# --------------------------------------------------------------------------- batches without pipeline mode


@pytest.fixture
def pipeline_mode_entered(monkeypatch):
    """Records every entry into psycopg's pipeline mode."""
    entered: list[str] = []
    original = psycopg.Connection.pipeline

    def recording(self):
        entered.append("pipeline")
        return original(self)

    monkeypatch.setattr(psycopg.Connection, "pipeline", recording)
    return entered


@pytest.mark.django_db(transaction=True)
def test_a_batch_with_its_commit_runs_as_one_query_without_pipeline_mode_and_gives_each_statements_rows(
    scratch, other, pipeline_mode_entered
):
    with transaction.atomic():
        # when: statements returning rows and not, with the COMMIT
        part = StatementBatch()
        inserted = part.add(f"INSERT INTO {scratch} (n) VALUES (%s), (%s) RETURNING n", [1, 2])
        counted = part.add(f"SELECT count(*), %s::text FROM {scratch}", ["two"])
        nothing = part.add(f"INSERT INTO {scratch} (n) VALUES (%s)", [3])
        part.run(last_in_transaction=True)
        # then: another session sees the rows while the block is still open
        seen_in_the_block = other.execute(f"SELECT n FROM {scratch} ORDER BY n").fetchall()
    assert (inserted.rows, counted.rows, nothing.rows) == ([(1,), (2,)], [(2, "two")], [])
    assert seen_in_the_block == [(1,), (2,), (3,)]
    assert pipeline_mode_entered == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_statement_of_a_batch_run_as_one_query_stops_it_and_the_block_keeps_nothing(
    scratch, other, pipeline_mode_entered
):
    pid = backend_pid()
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        batch(
            f"INSERT INTO {scratch} (n) VALUES (1)",
            f"INSERT INTO {scratch} (n) VALUES (-2)",
            f"SELECT nextval('{scratch}_seq')",
        ).run(last_in_transaction=True)
    # then: Django's error; nothing after the failure ran, nothing kept; the session goes on
    assert type(raised.value.__cause__) is psycopg.errors.CheckViolation
    assert sequence_state(scratch) == (1, False)
    assert (other.execute(f"SELECT n FROM {scratch}").fetchall(), backend_pid()) == ([], pid)
    assert (connection.in_atomic_block, connection.needs_rollback) == (False, False)


@pytest.mark.django_db
def test_values_bound_on_the_client_reach_the_server_exactly(pipeline_mode_entered):
    # given: values a careless quoting would break, or turn into statements of their own
    hostile = "O'Brien \\ ' ; COMMIT; DROP TABLE accounts_company; -- é 日本 %s %(x)s $1"
    document = '{"note": "it\'s \\"quoted\\"", "n": 1.10}'
    with transaction.atomic():
        part = StatementBatch()
        text = part.add("SELECT %s::text, length(%s::text)", [hostile, hostile])
        json_value = part.add("SELECT (%s::jsonb)->>'note', %s::jsonb->'n'", [document, document])
        arrays = part.add("SELECT %s::bigint[], %s::text[]", [[1, 2], ["a'b", "c,d"]])
        part.run()
    assert text.rows == [(hostile, len(hostile))]
    assert json_value.rows == [('it\'s "quoted"', "1.10")]
    assert arrays.rows == [([1, 2], ["a'b", "c,d"])]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_company")  # still there
    assert pipeline_mode_entered == []


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_given_only_its_last_part_runs_it_as_a_batch_without_pipeline_mode(
    scratch, other, pipeline_mode_entered
):
    with transaction.atomic():
        with StatementPipeline() as pipeline:
            last = batch((f"INSERT INTO {scratch} (n) VALUES (%s) RETURNING n", [7]))
            # when
            pipeline.finish(last, last_in_transaction=True)
        seen_in_the_block = other.execute(f"SELECT n FROM {scratch}").fetchall()
    # then: committed with it, in one query, and the rows are read
    assert (seen_in_the_block, last.statements, pipeline_mode_entered) == ([(7,)], [], [])
    with pytest.raises(RuntimeError, match="has finished"):
        pipeline.send(batch("SELECT 1"))


@pytest.mark.django_db
def test_a_pipeline_enters_pipeline_mode_with_its_first_send_and_finish_sends_the_last_part(
    pipeline_mode_entered,
):
    with transaction.atomic(), StatementPipeline() as pipeline:
        first = batch(("SELECT %s::int", [1]))
        pipeline.send(first)
        last = StatementBatch()
        read = last.add("SELECT %s::int + 1", [1])
        pipeline.finish(last)
    assert (read.rows, pipeline_mode_entered) == ([(2,)], ["pipeline"])


# --------------------------------------------------------------------------- the BEGIN with the batch


class Boom(Exception):
    """Raised by a test to roll its block back."""


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_opens_the_transaction_carries_its_begin_and_commit_in_one_round_trip(scratch, other):
    with wire_trace() as wire, transaction.atomic():
        batch((f"INSERT INTO {scratch} (n) VALUES (%s)", [1])).run(last_in_transaction=True)
    # then: one query, BEGIN ... COMMIT, and nothing sent alone before it
    assert wire.round_trips == 1
    assert len(wire.queries) == 1
    assert wire.queries[0].startswith("BEGIN; INSERT INTO") and wire.queries[0].endswith("; COMMIT")
    assert other.execute(f"SELECT n FROM {scratch}").fetchall() == [(1,)]


@pytest.mark.django_db(transaction=True)
def test_what_follows_a_batch_that_opened_the_transaction_runs_in_that_transaction(scratch, other):
    with pytest.raises(Boom), transaction.atomic():
        batch((f"INSERT INTO {scratch} (n) VALUES (%s)", [1])).run()
        with connection.cursor() as cursor:  # an ORM statement after it, in the same block
            cursor.execute(f"INSERT INTO {scratch} (n) VALUES (2)")
        seen_in_the_block = other.execute(f"SELECT n FROM {scratch}").fetchall()
        raise Boom
    # then: neither row was committed on its own; the block's rollback undid both
    assert seen_in_the_block == []
    assert rows_in(scratch) == []
    assert connection.connection.autocommit is True  # outside any block, as Django left it


@pytest.mark.django_db(transaction=True)
def test_after_a_batch_committed_the_block_a_later_statement_opens_a_new_transaction_as_always(
    scratch, other
):
    with pytest.raises(Boom), transaction.atomic():
        batch((f"INSERT INTO {scratch} (n) VALUES (%s)", [1])).run(last_in_transaction=True)
        # psycopg is back in transaction mode: the next statement begins a transaction of its own
        assert connection.connection.autocommit is False
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {scratch} (n) VALUES (2)")
        raise Boom
    # then: the first row was committed with the batch; the second went with the rollback
    assert other.execute(f"SELECT n FROM {scratch} ORDER BY n").fetchall() == [(1,)]


@pytest.mark.django_db(transaction=True)
def test_a_batch_refused_by_the_server_after_its_begin_leaves_the_session_as_any_error_does(scratch, other):
    with pytest.raises(IntegrityError), transaction.atomic():
        batch(f"INSERT INTO {scratch} (n) VALUES (1)", f"INSERT INTO {scratch} (n) VALUES (-1)").run()
    assert connection.connection.autocommit is True
    # the next block begins and commits as usual
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {scratch} (n) VALUES (3)")
    assert other.execute(f"SELECT n FROM {scratch}").fetchall() == [(3,)]


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_fails_before_it_is_sent_leaves_psycopg_in_transaction_mode(scratch, other):
    with pytest.raises(Boom), transaction.atomic():
        with pytest.raises(ProgrammingError):  # psycopg cannot send this value
            batch(("SELECT %s", [object()])).run()
        assert connection.connection.autocommit is False
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {scratch} (n) VALUES (1)")
        raise Boom
    assert other.execute(f"SELECT n FROM {scratch}").fetchall() == []


@pytest.mark.django_db(transaction=True)
def test_the_begin_sent_with_a_batch_keeps_the_sessions_isolation_level_and_access_mode(scratch):
    connection.ensure_connection()
    raw = connection.connection
    try:
        raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with transaction.atomic():
            part = StatementBatch()
            shown = part.add("SHOW transaction_isolation")
            part.run()
        assert shown.rows == [("repeatable read",)]
        raw.read_only = True
        with pytest.raises(InternalError) as raised, transaction.atomic():
            batch(f"INSERT INTO {scratch} (n) VALUES (1)").run(last_in_transaction=True)
        assert type(raised.value.__cause__) is psycopg.errors.ReadOnlySqlTransaction
    finally:
        raw.isolation_level = None
        raw.read_only = None
    assert rows_in(scratch) == []
