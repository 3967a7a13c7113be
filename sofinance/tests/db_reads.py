"""What this test's transaction has read so far, from PostgreSQL's per-transaction statistics."""

from __future__ import annotations

from django.db import connection


def table_reads(*tables: str) -> tuple[int, int]:
    """Over the named tables, in this transaction so far: (sequential scans, rows read by any scan)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(seq_scan), 0), coalesce(sum(seq_tup_read + idx_tup_fetch), 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(tables)],
        )
        scans, rows = cursor.fetchone()
        return int(scans), int(rows)
