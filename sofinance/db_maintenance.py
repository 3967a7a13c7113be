"""Keeping the planner informed after bulk writes.

Where autovacuum is off or slow (a fresh bulk load, a benchmark machine), a table filled in bulk
keeps the statistics it had when empty, and the planner picks plans for an empty table: a
parallel sequential scan of a million lines where an index would read fifty. Bulk paths (the
synthetic ledger, imports) ANALYZE what they filled.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.apps import apps
from django.db import DatabaseError, connection, models, transaction


def tables_analyze(*models_: type[models.Model]) -> None:
    """ANALYZE the models' tables on PostgreSQL (nothing elsewhere). A role that does not own them
    is skipped by PostgreSQL with a warning; another refusal is ignored (autovacuum's job then),
    which inside a transaction leaves it to roll back: call it outside one, or on commit."""
    if connection.vendor != "postgresql" or not models_:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models_)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")
    except DatabaseError:  # refused: autovacuum's job then
        pass


def tables_analyze_grown(added: Mapping[type[models.Model], int]) -> list[str]:
    """ANALYZE the tables a bulk write grew by enough to matter, by autovacuum's own rule: the
    rows changed since the table's last ANALYZE (committed ones, plus `added` in this
    transaction) exceed its autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × its
    rows (50 + 10% by default; a table's own settings win). An import of 30,000 lines into a
    journal of 1,700,000 leaves the statistics as they are (ANALYZE would sample 30,000 rows of it,
    ~0.3 s, for nothing); the first import into a young book, or the tenth of ten such, analyzes.

    Decided now, done once the current transaction commits, by a task (`tables_analyze_task`: on
    a worker with a broker, in this thread without one): an ANALYZE holds its lock until its
    transaction ends (two imports analyzing one table inside their transactions would queue
    behind each other), and a write that rolls back analyzes nothing. Outside a transaction, at
    once. Returns the tables due. Nothing off PostgreSQL.
    """
    if connection.vendor != "postgresql" or not added:
        return []
    rows_by_table: dict[str, int] = {}
    models_by_table: dict[str, type[models.Model]] = {}
    for model, rows in added.items():
        table = model._meta.db_table
        rows_by_table[table] = rows_by_table.get(table, 0) + rows
        models_by_table[table] = model
    tables = list(rows_by_table)
    with connection.cursor() as cursor:
        cursor.execute(_GROWN, [[connection.ops.quote_name(table) for table in tables]])
        rows = cursor.fetchall()
    due = [
        tables[i - 1]
        for i, reltuples, changed, threshold, scale in rows
        # reltuples < 0: never analyzed (nor vacuumed): the planner knows nothing of the table.
        if reltuples < 0 or changed + rows_by_table[tables[i - 1]] > threshold + scale * reltuples
    ]
    if due:
        labels = [models_by_table[table]._meta.label for table in due]
        if connection.in_atomic_block:
            transaction.on_commit(lambda: _analyze_later(labels), robust=True)
        else:
            _analyze_later(labels)
    return sorted(due)


def _analyze_later(labels: list[str]) -> None:
    """A task with a broker (the worker or request that imported is not held up by it; should
    the broker be down, autovacuum's own pass analyzes), in the calling thread without one."""
    from sofinance.tasks import tables_analyze_task

    tables_analyze_task.delay(labels)


def tables_analyze_labels(labels: list[str]) -> None:
    """ANALYZE the tables of the models named "app_label.ModelName" (the task's body)."""
    tables_analyze(*(apps.get_model(label) for label in labels))


# Each table's reltuples, changes since its last ANALYZE, and analyze threshold and scale factor:
# the table's own autovacuum settings (ALTER TABLE ... SET (...)), else the server's.
_GROWN = """
SELECT t.i, c.reltuples, coalesce(s.n_mod_since_analyze, 0),
       coalesce((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                  WHERE option_name = 'autovacuum_analyze_threshold'),
                current_setting('autovacuum_analyze_threshold')::float8),
       coalesce((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                  WHERE option_name = 'autovacuum_analyze_scale_factor'),
                current_setting('autovacuum_analyze_scale_factor')::float8)
  FROM unnest(%s::text[]) WITH ORDINALITY AS t(name, i)
  JOIN pg_class c ON c.oid = to_regclass(t.name)
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
"""
