"""Statements sent to the database together, in the caller's transaction.

On PostgreSQL a batch costs one network wait: a single statement is executed as a prepared
statement (server-side binding); several statements, or any with the transaction's COMMIT,
travel as one query of several statements (client-side binding, psycopg's ClientCursor), the
COMMIT included. (psycopg's pipeline mode would send them in one round trip too, but costs more
Python per batch than a round trip on loopback costs waiting: measured on 2 cores, a two-step
posting's client CPU fell from ~670 to ~400 microseconds without it. It is kept for what it is
good at, `StatementPipeline`: parts sent while the next is being prepared.) A batch that opens
the transaction carries its BEGIN (psycopg would send it alone first, a round trip of its own),
and then travels as one query of several statements too. Elsewhere (SQLite) the statements
run one after another through Django's cursor. Either way they run in order, in the current
transaction, and a failing statement raises Django's DatabaseError (a trigger's refusal
included), as any query, and runs nothing after it.

    batch = StatementBatch()
    numbers = batch.add("UPDATE ... RETURNING last_value", [company_id])
    batch.add("INSERT ...", [...])
    batch.run()
    numbers.rows  # [(42,)]

A batch is meant for the hot write paths (posting); everything else uses the ORM.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from psycopg.pq import TransactionStatus

_IDLE = TransactionStatus.IDLE


def _may_commit(conn) -> bool:
    """The current transaction is the outermost atomic block's alone: its COMMIT may be sent
    with the last statements (the block's own commit then finds nothing to do)."""
    return (
        conn.in_atomic_block
        and len(conn.atomic_blocks) == 1
        and not conn.savepoint_ids
        and not conn.needs_rollback
    )


def _begin_with_batch(raw) -> bytes:
    """The BEGIN to send in front of a batch that opens the current transaction, else b"".

    Inside a transaction block (Django's autocommit off) psycopg starts the transaction with a
    BEGIN of its own, sent alone before the first statement and waited for: a round trip, a
    posting's third. When the batch opens the transaction, its statements carry the BEGIN
    instead, with psycopg told not to (its autocommit on while the server's transaction is open,
    which only stops psycopg's BEGIN; `_transaction_mode_restore` turns it off again once the
    transaction has ended, which Django's block also does when it ends).
    """
    if raw.autocommit or raw.pgconn.transaction_status != _IDLE:
        return b""
    parts = ["BEGIN"]
    if raw.isolation_level is not None:
        parts.append(f"ISOLATION LEVEL {raw.isolation_level.name.replace('_', ' ')}")
    if raw.read_only is not None:
        parts.append("READ ONLY" if raw.read_only else "READ WRITE")
    if raw.deferrable is not None:
        parts.append("DEFERRABLE" if raw.deferrable else "NOT DEFERRABLE")
    return " ".join(parts).encode()


def _transaction_mode_restore(conn) -> None:
    """psycopg's autocommit back off once the transaction a merged BEGIN opened has ended, so
    the next statement of a still-open Django block starts a new transaction as usual."""
    raw = conn.connection
    if (
        raw is not None
        and not raw.closed
        and raw.autocommit
        and not conn.autocommit
        and raw.pgconn.transaction_status == _IDLE
    ):
        raw.autocommit = False


class Statement:
    """One statement of a batch; `rows` holds what it returned once the batch has run."""

    __slots__ = ("is_call", "params", "rows", "sql")

    def __init__(self, sql: str, params: Sequence[Any]) -> None:
        self.sql = sql
        self.params = params
        self.rows: list[tuple[Any, ...]] | None = None
        self.is_call = False

    def one(self) -> tuple[Any, ...] | None:
        assert self.rows is not None, "the batch has not run"
        return self.rows[0] if self.rows else None


def _rows(cursor) -> list[tuple[Any, ...]]:
    result = cursor.pgresult  # (cursor.description would build column objects)
    return cursor.fetchall() if result is not None and result.nfields else []


class StatementBatch:
    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.connection = connections[using]
        self.statements: list[Statement] = []

    @property
    def vendor(self) -> str:
        return self.connection.vendor

    def add(self, sql: str, params: Sequence[Any] = ()) -> Statement:
        statement = Statement(sql, params)
        self.statements.append(statement)
        return statement

    def add_call(self, call: str, params: Sequence[Any] = ()) -> None:
        """Add a call of a function returning nothing, e.g. "ledger_posting_write(%s, %s)".

        Calls added one after another travel as one statement, `SELECT f(...), g(...)`,
        evaluated left to right: one statement's cost for several writers' work. Use it for
        calls that do not read each other's rows.
        """
        last = self.statements[-1] if self.statements else None
        if last is not None and last.rows is None and last.is_call:
            last.sql = f"{last.sql}, {call}"
            last.params = [*last.params, *params]
            return
        statement = self.add(f"SELECT {call}", list(params))
        statement.is_call = True

    def run(self, *, last_in_transaction: bool = False) -> None:
        """Execute the statements in order (one round trip on PostgreSQL) and keep their rows.

        `last_in_transaction`: nothing follows these statements in the current transaction. When
        that transaction is the outermost atomic block (nobody else's work rides in it), its
        COMMIT is sent in the same round trip; the block's own commit then finds nothing to do
        (its on_commit callbacks run as usual). A failing statement or COMMIT raises here, inside
        the block, which then rolls back as always.
        """
        if not self.statements:
            return
        conn = self.connection
        conn.ensure_connection()
        conn.validate_no_broken_transaction()
        started = time.monotonic()
        commit = last_in_transaction and conn.vendor == "postgresql" and _may_commit(conn)
        with conn.wrap_database_errors:
            if conn.vendor == "postgresql":
                self._run_postgresql(commit=commit)
            else:
                self._run_one_by_one()
        if conn.queries_logged:
            elapsed = f"{time.monotonic() - started:.3f}"
            for statement in self.statements:
                conn.queries_log.append({"sql": f"[batch] {statement.sql}", "time": elapsed})
        self.statements = []

    def _run_postgresql(self, *, commit: bool) -> None:
        import psycopg

        raw = self.connection.connection
        begin = _begin_with_batch(raw)
        if begin:
            raw.autocommit = True  # psycopg would send its BEGIN alone first: it travels with the batch
            try:
                self._run_client_side(raw, commit=commit, begin=begin)
            finally:
                _transaction_mode_restore(self.connection)
            return
        if len(self.statements) == 1 and not commit:
            # Server-side binding (Django's own cursors bind on the client), prepared once per
            # connection: a hot statement is parsed and planned once.
            (statement,) = self.statements
            with psycopg.Cursor(raw) as cursor:
                cursor.execute(statement.sql, statement.params, prepare=True)
                statement.rows = _rows(cursor)
            return
        self._run_client_side(raw, commit=commit)
        if commit:
            _transaction_mode_restore(self.connection)

    def _run_client_side(self, raw, *, commit: bool, begin: bytes = b"") -> None:
        """One query of several statements (the simple protocol, so client-side binding): the
        server runs them in order and stops at the first error, which raises here."""
        import psycopg

        sql = "; ".join(
            [
                *([begin.decode()] if begin else []),
                *(statement.sql for statement in self.statements),
                *(["COMMIT"] if commit else []),
            ]
        )
        params = [param for statement in self.statements for param in statement.params]
        with psycopg.ClientCursor(raw) as cursor:
            cursor.execute(sql, params)
            if begin:
                cursor.nextset()
            for statement in self.statements:
                statement.rows = _rows(cursor)
                cursor.nextset()

    def _run_one_by_one(self) -> None:
        with self.connection.cursor() as cursor:
            for statement in self.statements:
                cursor.execute(statement.sql, statement.params)
                statement.rows = cursor.fetchall() if cursor.description is not None else []


class StatementPipeline:
    """Batches sent as they are ready, their results read once at the end (PostgreSQL).

    A writer that prepares its statements in parts (a bulk post validates and encodes entries
    chunk by chunk) sends each part without waiting for the database: while the server runs
    part k, Python prepares part k+1, so on two cores the two overlap. `finish(last)` sends the
    last part and waits for every part (and, with `last_in_transaction`, sends the COMMIT in the
    same round trip, as `StatementBatch.run` does). A writer with a single part sends nothing
    before `finish(last)`: that part then runs as a plain batch (`StatementBatch.run`), without
    psycopg's pipeline mode, which is only entered by the first `send`. A statement that fails
    raises Django's DatabaseError, from the `send` or the `finish` that reads its result;
    nothing sent after it runs. Elsewhere (SQLite) each part runs when it is sent.

        with StatementPipeline() as pipeline:
            for part in parts[:-1]:
                batch = StatementBatch()
                ...
                pipeline.send(batch)
            pipeline.finish(last_batch, last_in_transaction=True)
    """

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.connection = connections[using]
        self._pipeline = None
        self._sent: list[tuple[Statement, Any]] = []
        self._finished = False

    def __enter__(self) -> StatementPipeline:
        conn = self.connection
        conn.ensure_connection()
        conn.validate_no_broken_transaction()
        self._started = time.monotonic()
        return self

    def send(self, batch: StatementBatch) -> None:
        if self._finished:
            raise RuntimeError("this pipeline has finished: nothing more can be sent")
        self._send(batch)

    def _send(self, batch: StatementBatch) -> None:
        conn = self.connection
        if conn.vendor != "postgresql":
            batch.run()
            return
        import psycopg

        raw = conn.connection
        with conn.wrap_database_errors:
            if self._pipeline is None:
                self._pipeline = raw.pipeline()
                self._pipeline.__enter__()
            for statement in batch.statements:
                cursor = psycopg.Cursor(raw)
                cursor.execute(statement.sql, statement.params, prepare=True)
                self._sent.append((statement, cursor))
        batch.statements = []

    def finish(self, last: StatementBatch | None = None, *, last_in_transaction: bool = False) -> None:
        """Send `last` (if given) and wait for everything sent; then each statement's `rows`
        holds its result."""
        if self._finished:
            raise RuntimeError("this pipeline has finished: nothing more can be sent")
        if self._pipeline is None:  # nothing sent yet (or not PostgreSQL): `last` runs alone
            self._finished = True
            if last is not None:
                last.run(last_in_transaction=last_in_transaction)
            return
        if last is not None:
            self._send(last)
        self._finished = True
        conn = self.connection
        pipeline, self._pipeline = self._pipeline, None
        with conn.wrap_database_errors:
            try:
                if last_in_transaction and _may_commit(conn):
                    conn.connection.execute("COMMIT")  # raises at once an error already read
            except BaseException as exc:
                # Leave pipeline mode before the error goes on: the block's rollback needs it.
                self._close_cursors()
                pipeline.__exit__(type(exc), exc, exc.__traceback__)
                raise
            try:
                pipeline.__exit__(None, None, None)
            except BaseException:
                self._close_cursors()
                raise
            _transaction_mode_restore(conn)
        for statement, cursor in self._sent:
            statement.rows = _rows(cursor)
            cursor.close()
        if conn.queries_logged:
            elapsed = f"{time.monotonic() - self._started:.3f}"
            for statement, _cursor in self._sent:
                conn.queries_log.append({"sql": f"[pipeline] {statement.sql}", "time": elapsed})
        self._sent = []

    def _close_cursors(self) -> None:
        for _statement, cursor in self._sent:
            cursor.close()
        self._sent = []

    def __exit__(self, exc_type, exc, tb) -> None:
        self._finished = True
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            self._close_cursors()
            with self.connection.wrap_database_errors:
                pipeline.__exit__(exc_type, exc, tb)
