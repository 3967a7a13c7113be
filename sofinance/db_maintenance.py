"""Keeping the planner informed after bulk writes.

Where autovacuum is off or slow (a fresh bulk load, a benchmark machine), a table filled in bulk
keeps the statistics it had when empty, and the planner picks plans for an empty table: a
parallel sequential scan of a million lines where an index would read fifty. Bulk paths (the
synthetic ledger, imports) ANALYZE what they filled.
"""

from __future__ import annotations

from django.db import DatabaseError, connection, models


def tables_analyze(*models_: type[models.Model]) -> None:
    """ANALYZE the models' tables on PostgreSQL (nothing elsewhere; skipped inside a transaction
    it cannot see the end of, and where the role may not analyze them)."""
    if connection.vendor != "postgresql" or not models_:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models_)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")
    except DatabaseError:  # not the tables' owner (a least-privilege role): autovacuum's job then
        pass
