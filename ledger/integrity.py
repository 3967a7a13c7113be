"""Integrity checks of the ledger's own data, returning plain findings (sofinance.integrity).

- Stored balance buckets against a recomputation from the posted lines (the computation of
  `balances_rebuild`): one finding per daily or monthly bucket that differs, about its account.
- Every posted entry balances (its lines' base amounts sum to zero) and has at least two lines.
- Lines agree with their entry: same company, and for a posted entry the same date and sequence;
  no posted sequence on a draft's lines; `amount` = debit - credit; one side positive, the base
  amount on the same side.

The database refuses all of these on the way in (constraints and triggers); the checks find what
came in around them (raw SQL with triggers off, a restore, a bug). None of these findings carries
a compensating entry: a bucket is derived data (`rebuild_balances` recomputes it from the lines),
and an unbalanced or inconsistent posted entry cannot be compensated by a balanced one.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection

from accounts.models import Account, Company
from ledger.models import JournalEntry
from ledger.services.balances import BucketDifference, BucketTotals, bucket_differences
from sofinance.integrity import Finding
from sofinance.money import format_amount, money_from_sum, money_sum_sql

ZERO = Decimal(0)
ACCOUNT = Account._meta.label_lower
ENTRY = JournalEntry._meta.label_lower


class LedgerFinding:
    """The kinds of finding this module reports (stable names)."""

    BALANCE_BUCKET_MISMATCH = "balance_bucket_mismatch"
    UNBALANCED_ENTRY = "unbalanced_entry"
    ENTRY_LINE_MISMATCH = "entry_line_mismatch"


def _net(totals: BucketTotals | None) -> Decimal:
    return ZERO if totals is None else totals.debit - totals.credit


def _bucket_json(totals: BucketTotals | None, currency: str) -> dict | None:
    if totals is None:
        return None
    return {
        "debit": format_amount(totals.debit, currency),
        "credit": format_amount(totals.credit, currency),
        "amount": str(totals.amount),
        "line_count": totals.line_count,
    }


def bucket_findings(*, company: Company, limit: int) -> tuple[list[Finding], int]:
    """(findings, buckets checked): every stored bucket that differs from its posted lines."""
    differences, daily, monthly = bucket_differences(company_id=company.pk)
    codes = dict(
        Account.objects.filter(pk__in={d.account_id for d in differences[:limit]}).values_list("pk", "code")
    )
    return [_bucket_finding(company, d, codes) for d in differences[:limit]], daily + monthly


def _bucket_finding(company: Company, difference: BucketDifference, codes: dict[int, str]) -> Finding:
    currency = company.currency
    expected, found = _net(difference.computed), _net(difference.stored)
    code = codes.get(difference.account_id, str(difference.account_id))
    what = f"{difference.table} balance of account {code} on {difference.date}"
    if difference.is_closing:
        what += " (closing entries)"
    return Finding(
        kind=LedgerFinding.BALANCE_BUCKET_MISMATCH,
        object_type=ACCOUNT,
        object_id=difference.account_id,
        object_repr=code,
        company_id=company.pk,
        key=f"{difference.table}:{difference.date.isoformat()}:{int(difference.is_closing)}",
        expected=format_amount(expected, currency),
        found=format_amount(found, currency),
        difference=expected - found,
        message=(
            f"The stored {what} is {format_amount(found, currency)} (debit minus credit) but its posted "
            f"lines give {format_amount(expected, currency)}. Stored balances are derived from the "
            "lines: rebuild them (manage.py rebuild_balances) once the lines are confirmed right."
        ),
        details={
            "bucket": difference.table,
            "date": difference.date.isoformat(),
            "is_closing": difference.is_closing,
            "stored": _bucket_json(difference.stored, currency),
            "computed": _bucket_json(difference.computed, currency),
        },
    )


_UNBALANCED_SQL = """
SELECT e.id, e.number, {base_sum}, COUNT(l.id)
  FROM ledger_journalentry e LEFT JOIN ledger_journalline l ON l.entry_id = e.id
 WHERE e.company_id = %s AND e.status = 'posted'
 GROUP BY e.id, e.number
HAVING {base_sum} <> 0 OR COUNT(l.id) < 2
 ORDER BY e.id
 LIMIT %s
"""


def unbalanced_entry_findings(*, company: Company, limit: int) -> list[Finding]:
    """Posted entries whose lines do not sum to zero in the functional currency, or that have
    fewer than two lines."""
    sql = _UNBALANCED_SQL.format(base_sum=money_sum_sql("l.base_amount", connection.vendor))
    with connection.cursor() as cursor:
        cursor.execute(sql, [company.pk, limit])
        rows = cursor.fetchall()
    currency = company.currency
    findings = []
    for entry_id, number, total, count in rows:
        total = money_from_sum(total)
        problem = (
            f"has {count} line{'s' if count != 1 else ''} (at least two are needed)"
            if count < 2
            else f"does not balance: its lines sum to {format_amount(total, currency)}"
        )
        findings.append(
            Finding(
                kind=LedgerFinding.UNBALANCED_ENTRY,
                object_type=ENTRY,
                object_id=entry_id,
                object_repr=number or "",
                company_id=company.pk,
                expected=format_amount(ZERO, currency),
                found=format_amount(total, currency),
                difference=-total,
                message=f"Posted entry {number} {problem}.",
                details={"line_count": count},
            )
        )
    return findings


# Lines of the company's entries (or lines claiming the company) that disagree with their entry.
_LINE_PROBLEMS = """
SELECT e.id, e.number, e.status, e.company_id, e.date, e.sequence,
       l.id, l.line_no, l.company_id, l.date, l.entry_sequence, l.debit, l.credit, l.amount, l.base_amount
  FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
 WHERE {scope}
   AND (l.company_id <> e.company_id
        OR (e.status = 'posted' AND (l.date <> e.date OR l.entry_sequence IS NULL
                                     OR l.entry_sequence <> e.sequence))
        OR (e.status <> 'posted' AND l.entry_sequence IS NOT NULL)
        OR l.amount <> l.debit - l.credit
        OR NOT ((l.debit > 0 AND l.credit = 0 AND l.base_amount >= 0)
                OR (l.credit > 0 AND l.debit = 0 AND l.base_amount <= 0)))
 ORDER BY e.id, l.line_no
 LIMIT %s
"""


def _line_problem(row: tuple, currency: str) -> tuple[str, str, str]:
    """(what is wrong, expected, found) of one line."""
    (
        _,
        _,
        status,
        entry_company,
        entry_date,
        entry_sequence,
        _,
        line_no,
        line_company,
        line_date,
        line_sequence,
        debit,
        credit,
        amount,
        base,
    ) = row
    if line_company != entry_company:
        return f"line {line_no} belongs to company {line_company}", str(entry_company), str(line_company)
    if status == "posted" and str(line_date) != str(entry_date):
        return f"line {line_no} is dated {line_date}", str(entry_date), str(line_date)
    if status == "posted" and line_sequence != entry_sequence:
        return f"line {line_no} carries sequence {line_sequence}", str(entry_sequence), str(line_sequence)
    if status != "posted" and line_sequence is not None:
        return (
            f"line {line_no} of a draft carries posted sequence {line_sequence}",
            "None",
            str(line_sequence),
        )
    debit, credit, amount, base = (money_from_sum(v) for v in (debit, credit, amount, base))
    if amount != debit - credit:
        return (
            f"line {line_no} has amount {amount} for debit {debit} and credit {credit}",
            str(debit - credit),
            str(amount),
        )
    return (
        f"line {line_no} has debit {debit}, credit {credit} and base amount {base}",
        "one positive side, the base amount on the same side",
        f"debit {debit}, credit {credit}, base {base}",
    )


def entry_line_findings(*, company: Company, limit: int) -> list[Finding]:
    """One finding per entry whose lines disagree with it (the first problem named, up to 20 listed)."""
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for scope in ("l.company_id = %s", "e.company_id = %s AND l.company_id <> e.company_id"):
            cursor.execute(_LINE_PROBLEMS.format(scope=scope), [company.pk, limit * 20])
            rows += cursor.fetchall()
    by_entry: dict[int, list[tuple]] = defaultdict(list)
    seen: set[int] = set()
    for row in rows:
        if row[6] not in seen:
            seen.add(row[6])
            by_entry[row[0]].append(row)
    findings = []
    for entry_id in sorted(by_entry)[:limit]:
        entry_rows = by_entry[entry_id]
        problems = [_line_problem(row, company.currency) for row in entry_rows]
        first, expected, found = problems[0]
        number = entry_rows[0][1] or f"draft #{entry_id}"
        findings.append(
            Finding(
                kind=LedgerFinding.ENTRY_LINE_MISMATCH,
                object_type=ENTRY,
                object_id=entry_id,
                object_repr=number,
                company_id=company.pk,
                expected=expected,
                found=found,
                message=f"Entry {number}: {first}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
                + ".",
                details={"problems": [p[0] for p in problems[:20]], "lines": len(problems)},
            )
        )
    return findings
