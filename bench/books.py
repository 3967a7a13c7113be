"""After a load or a fault run: are the company's books whole? (bench/load.py, bench/faults.py)

`books_problems(company_id)` returns what is wrong, empty when nothing is:
- every posted entry balances (Σ base_amount of its lines = 0) and has at least two lines, and the
  company's posted lines sum to zero (Σdebit = Σcredit);
- the stored daily and monthly balances equal a rebuild from the lines;
- journal numbers are gapless (posted sequences are exactly 1..n), and so are invoice numbers;
- the audit trail's chains verify.
Needs Django set up (bench.bootstrap.setup).
"""

from __future__ import annotations

from django.db import connection

from audit.context import system_actor
from audit.services import verify_audit_chain
from ledger.services import balances_rebuild


def _one(sql: str, params: list) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def books_problems(company_id: int) -> list[str]:
    problems: list[str] = []
    debit, credit = _one(
        "SELECT COALESCE(SUM(l.base_amount) FILTER (WHERE l.base_amount > 0), 0),"
        " COALESCE(-SUM(l.base_amount) FILTER (WHERE l.base_amount < 0), 0)"
        " FROM ledger_journalline l WHERE l.company_id = %s AND l.entry_sequence IS NOT NULL",
        [company_id],
    )
    if debit != credit:
        problems.append(f"posted debits {debit} != credits {credit}")
    (unbalanced,) = _one(
        "SELECT COUNT(*) FROM ledger_journalentry e WHERE e.company_id = %s AND e.status <> 'draft'"
        " AND (SELECT COALESCE(SUM(l.base_amount), 1) FROM ledger_journalline l"
        "      WHERE l.entry_id = e.id) <> 0",
        [company_id],
    )
    if unbalanced:
        problems.append(f"{unbalanced} posted entries do not balance (or have no lines)")
    (thin,) = _one(
        "SELECT COUNT(*) FROM ledger_journalentry e WHERE e.company_id = %s AND e.status <> 'draft'"
        " AND (SELECT COUNT(*) FROM ledger_journalline l WHERE l.entry_id = e.id) < 2",
        [company_id],
    )
    if thin:
        problems.append(f"{thin} posted entries have fewer than two lines")
    for table, label in (("ledger_journalentry", "journal"), ("sales_invoice", "invoice")):
        count, low, high = _one(
            f"SELECT COUNT(*), MIN(sequence), MAX(sequence) FROM {table}"
            " WHERE company_id = %s AND sequence IS NOT NULL",
            [company_id],
        )
        if count and (low != 1 or high != count):
            problems.append(f"{label} numbers have gaps: {count} numbered, sequences {low}..{high}")
    rebuilt = balances_rebuild(company_id=company_id, apply=False)
    if rebuilt.differed:
        problems.append(
            f"stored balances differ from a rebuild in {len(rebuilt.differences)} buckets: "
            + "; ".join(str(difference) for difference in rebuilt.differences[:3])
        )
    with system_actor("bench:books"):
        audit = verify_audit_chain(company_id=company_id)
    for chain in audit.chains:
        if not chain.ok:
            problems.append(
                f"audit chain {chain.chain} broken at event {chain.broken_event_id} ({chain.reason})"
            )
    return problems


def books_summary(company_id: int) -> str:
    entries, lines = _one(
        "SELECT (SELECT COUNT(*) FROM ledger_journalentry WHERE company_id = %s AND sequence IS NOT NULL),"
        " (SELECT COUNT(*) FROM ledger_journalline WHERE company_id = %s)",
        [company_id, company_id],
    )
    return f"{entries:,} posted entries, {lines:,} lines"
