"""The raw-psycopg floor for posting: the same rows a posting stores, inserted by a plain loop.

Tables shaped exactly like the journal tables (`CREATE TABLE ... (LIKE ... INCLUDING ALL)`: the
same columns, defaults, CHECK constraints and indexes, no triggers, no foreign keys), one
transaction per entry: INSERT the entry, INSERT its lines in one multi-row statement, COMMIT.
No validation, no numbering lock, no stored balances, no audit: what storing an entry costs at
the least on this machine, so the posting service's rate can be read as a fraction of it.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from decimal import Decimal

import psycopg

ENTRY_TABLE = "bench_floor_entry"
LINE_TABLE = "bench_floor_line"


def floor_tables_create(conn: psycopg.Connection) -> None:
    """(Re)create the floor tables from the live journal tables' shape."""
    with conn.transaction():
        conn.execute(f"DROP TABLE IF EXISTS {LINE_TABLE}, {ENTRY_TABLE}")
        conn.execute(f"CREATE TABLE {ENTRY_TABLE} (LIKE ledger_journalentry INCLUDING ALL)")
        conn.execute(f"CREATE TABLE {LINE_TABLE} (LIKE ledger_journalline INCLUDING ALL)")


class FloorPoster:
    """Posts entries given as (date, [(account_id, debit, credit), ...]) with a plain psycopg loop."""

    def __init__(self, conn: psycopg.Connection, *, company_id: int, currency: str) -> None:
        self.conn = conn
        self.company_id = company_id
        self.currency = currency
        self.sequence = itertools.count(1)

    def post(self, date: datetime.date, lines: Sequence[tuple[int, Decimal, Decimal]]) -> None:
        sequence = next(self.sequence)
        with self.conn.transaction():
            cur = self.conn.cursor()
            entry_id = cur.execute(
                f"INSERT INTO {ENTRY_TABLE} (company_id, number, sequence, date, description, reference, "
                "source, status, created_at, updated_at, posted_at) "
                "VALUES (%s, %s, %s, %s, '', '', 'manual', 'posted', now(), now(), now()) RETURNING id",
                [self.company_id, f"JE-{date.year}-{sequence:06d}", sequence, date],
            ).fetchone()[0]
            values, params = [], []
            for line_no, (account_id, debit, credit) in enumerate(lines, start=1):
                amount = debit - credit
                values.append("(%s, %s, %s, %s, '', %s, %s, %s, %s, 1, %s, %s, %s)")
                params += [
                    self.company_id,
                    entry_id,
                    line_no,
                    account_id,
                    debit,
                    credit,
                    self.currency,
                    amount,
                    amount,
                    date,
                    sequence,
                ]
            cur.execute(
                f"INSERT INTO {LINE_TABLE} (company_id, entry_id, line_no, account_id, description, "
                "debit, credit, currency, amount, fx_rate, base_amount, date, entry_sequence) "
                f"VALUES {', '.join(values)}",
                params,
            )
