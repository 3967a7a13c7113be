"""Statements sent to the database together, in the caller's transaction.

On PostgreSQL a batch goes out in one round trip: psycopg's pipeline mode sends every statement
(and the BEGIN of a transaction that has not started yet) before waiting for any result, with
server-side binding and prepared statements. A write path of six statements then costs their
execution plus one network wait instead of six. Elsewhere (SQLite) the statements run one after
another through Django's cursor. Either way they run in order, in the current transaction, and
a failing statement raises Django's DatabaseError (a trigger's refusal included), as any query.

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
        commit = (
            last_in_transaction
            and conn.vendor == "postgresql"
            and conn.in_atomic_block
            and len(conn.atomic_blocks) == 1
            and not conn.savepoint_ids
            and not conn.needs_rollback
        )
        with conn.wrap_database_errors:
            if conn.vendor == "postgresql":
                self._run_pipelined(commit=commit)
            else:
                self._run_one_by_one()
        if conn.queries_logged:
            elapsed = f"{time.monotonic() - started:.3f}"
            for statement in self.statements:
                conn.queries_log.append({"sql": f"[batch] {statement.sql}", "time": elapsed})
        self.statements = []

    def _run_pipelined(self, *, commit: bool) -> None:
        import psycopg

        raw = self.connection.connection
        cursors = []
        with raw.pipeline():
            for statement in self.statements:
                # Server-side binding (Django's own cursors bind on the client), prepared once
                # per connection: the hot statements are parsed and planned once.
                cursor = psycopg.Cursor(raw)
                cursor.execute(statement.sql, statement.params, prepare=True)
                cursors.append(cursor)
            if commit:
                raw.execute("COMMIT")
        for statement, cursor in zip(self.statements, cursors, strict=True):
            result = cursor.pgresult  # (cursor.description would build column objects)
            statement.rows = cursor.fetchall() if result is not None and result.nfields else []
            cursor.close()

    def _run_one_by_one(self) -> None:
        with self.connection.cursor() as cursor:
            for statement in self.statements:
                cursor.execute(statement.sql, statement.params)
                statement.rows = cursor.fetchall() if cursor.description is not None else []
