"""Gapless per-company numbering.

The counter row is incremented with UPDATE ... RETURNING inside the caller's transaction: the row
lock serialises concurrent posters on this one row (held until commit) and a rollback gives the
number back, so numbers are never duplicated or skipped. Callers take it as their last lock.
"""

from __future__ import annotations

from django.db import connection

from ledger.models import NumberSequence

JOURNAL_SERIES = "journal"


def sequence_reserve(*, company_id: int, series: str, count: int) -> int:
    """Advance the series by `count` and return its new last value (the block ends there)."""
    table = NumberSequence._meta.db_table
    sql = (
        f"UPDATE {table} SET last_value = last_value + %s "  # noqa: S608 - table name is ours
        "WHERE company_id = %s AND series = %s RETURNING last_value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, company_id, series])
        row = cursor.fetchone()
        if row is None:
            # First number of the series: create the counter (a concurrent creator is fine), retry.
            NumberSequence.objects.bulk_create(
                [NumberSequence(company_id=company_id, series=series, last_value=0)],
                ignore_conflicts=True,
            )
            cursor.execute(sql, [count, company_id, series])
            row = cursor.fetchone()
    return int(row[0])


def sequence_next(*, company_id: int, series: str) -> int:
    return sequence_reserve(company_id=company_id, series=series, count=1)


def journal_number(*, year: int, sequence: int) -> str:
    """`JE-2026-000042`: the trailing digits are the company's gapless sequence."""
    return f"JE-{year}-{sequence:06d}"
