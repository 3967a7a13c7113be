"""Banking: journal import rate (lines/s), a month's bank statement import with suggestions, and
the reconciliation report.

    .venv/bin/python bench/bench_banking.py   (BENCH_DATABASE_URL, default: local sofinance_bench)

1. A journal CSV of BENCH_JOURNAL_ENTRIES entries (default 10,000; 2, 3 or 4 lines each, seeded)
   posted by the import job's service (parse, every row and entry checked by the ledger's rules
   as `journal_entries_import` posts them, up to 10,000 entries a call, checked and sent 250 at a
   time, one transaction): lines/s until it has committed (target: >= 20,000), and the same file
   as a dry run. When the journal has grown by autovacuum's measure, the commit queues an ANALYZE
   (a task; without a broker it runs in this thread after the commit): printed apart. The
   benchmark database keeps what earlier runs stored, so its journal is large: an import of this
   size is due one run in five or six, and that ANALYZE samples 30,000 rows of 1.7 million.
2. A CAMT.053 statement of 300 lines into a bank account whose ledger account holds the matching
   entries: the import with its suggestions, then the reconciliation report as of the month end.
"""

from __future__ import annotations

import datetime
import io
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bootstrap import setup
from bench.calibration import cpu_probe_ms

setup()

from django.db import transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import company_create, user_create  # noqa: E402
from banking import services  # noqa: E402
from banking.models import BankStatementLine  # noqa: E402
from banking.reports import reconciliation_report  # noqa: E402
from ledger.services import EntryInput, journal_entries_import  # noqa: E402

ENTRIES = int(os.environ.get("BENCH_JOURNAL_ENTRIES", "10000"))
TARGET = 20_000
EXPENSES = ["6100", "6200", "6300", "6400", "6500", "6700"]


def journal_csv(rng: random.Random, entries: int) -> tuple[bytes, int]:
    out = io.StringIO()
    out.write("entry,date,account,debit,credit,description,reference\n")
    lines = 0
    for n in range(entries):
        date = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 364))
        amount = Decimal(rng.randint(100, 500_000)) / 100
        shape = rng.randint(2, 4)
        if shape == 2:
            rows = [(rng.choice(EXPENSES), amount, ""), ("1010", "", amount)]
        elif shape == 3:
            tax = (amount * Decimal("0.1")).quantize(Decimal("0.01"))
            rows = [("1100", amount + tax, ""), ("4000", "", amount), ("2200", "", tax)]
        else:
            half = (amount / 2).quantize(Decimal("0.01"))
            rows = [(rng.choice(EXPENSES), half, ""), (rng.choice(EXPENSES), amount - half, ""),
                    ("1010", "", half), ("1020", "", amount - half)]  # fmt: skip
        for account, debit, credit in rows:
            out.write(f"{n},{date.isoformat()},{account},{debit},{credit},Bench entry {n},B-{n}\n")
        lines += len(rows)
    return out.getvalue().encode(), lines


def camt(lines: list[tuple[datetime.date, Decimal, str]], opening: Decimal) -> bytes:
    closing = opening + sum(amount for _, amount, _ in lines)
    entries = "".join(
        f'<Ntry><Amt Ccy="USD">{abs(a)}</Amt><CdtDbtInd>{"CRDT" if a > 0 else "DBIT"}</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>{d.isoformat()}</Dt></BookgDt><AcctSvcrRef>BENCH-{i}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><RmtInf><Ustrd>{ref}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for i, (d, a, ref) in enumerate(lines)
    )
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
        "<Acct><Id><IBAN>GB82WEST12345698765432</IBAN></Id><Ccy>USD</Ccy></Acct>"
        f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>'
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-31</Dt></Dt></Bal>'
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def timed_analyze() -> list[float]:
    """The seconds of each ANALYZE the import queues on its commit (a task: a worker runs it with
    a broker; here, without one, the importing thread does, after the commit), as they happen.
    The job is done, and its entries visible, before it starts."""
    from sofinance import tasks

    seconds: list[float] = []
    real = tasks.tables_analyze_labels

    def timed(labels):
        started = time.perf_counter()
        real(labels)
        seconds.append(time.perf_counter() - started)

    tasks.tables_analyze_labels = timed
    return seconds


def main() -> int:
    rng = random.Random(12)
    suffix = f"{int(time.time())}"
    user = User.objects.filter(username="bench-banking").first() or user_create(
        username="bench-banking", email="bench-banking@example.com", password="x" * 20
    )
    company = company_create(
        name=f"Bench banking {suffix}", currency="USD", created_by=user, chart_template="small_business"
    )

    data, lines = journal_csv(rng, ENTRIES)
    print(
        f"Journal CSV: {ENTRIES} entries, {lines} lines, {len(data) / 1e6:.1f} MB; CPU probe {cpu_probe_ms():.1f} ms "
        "(bench/calibration.py: a fixed Python workload, lower is a faster CPU)"
    )
    started = time.perf_counter()
    dry = services.import_job_run(
        job_id=services.journal_import_job_create(company=company, file=data, by=user, dry_run=True).pk
    )
    dry_seconds = time.perf_counter() - started
    assert dry.status == "done", dry.errors[:3]
    analyze_seconds = timed_analyze()
    started = time.perf_counter()
    job = services.import_job_run(
        job_id=services.journal_import_job_create(company=company, file=data, by=user).pk
    )
    seconds = time.perf_counter() - started - sum(analyze_seconds)
    assert job.status == "done", job.errors[:3]
    rate = lines / seconds
    analyzed = (
        f"then ANALYZE, due, {sum(analyze_seconds):.2f} s after the commit"
        if analyze_seconds
        else "no ANALYZE due"
    )
    print(f"  dry run (parse + every check): {dry_seconds:.2f} s, {lines / dry_seconds:,.0f} lines/s")
    print(
        f"  import (parse, checks, post, committed):  {seconds:.2f} s, {rate:,.0f} lines/s "
        f"({ENTRIES / seconds:,.0f} entries/s; target >= {TARGET:,} lines/s: {'met' if rate >= TARGET else 'NOT met'}); "
        f"{analyzed}"
    )

    # The ceiling: the same entries posted straight through the ledger's bulk path (no file, no
    # parse), in one call and one transaction, as the import posts them.
    from banking.parsers.journal import parse_journal_file
    from banking.services.journal_import import journal_file_validate

    other = company_create(
        name=f"Bench banking floor {suffix}", currency="USD", created_by=user, chart_template="small_business"
    )
    journal = parse_journal_file(data, format="csv")
    prepared, _ = journal_file_validate(company=other, journal=journal)
    inputs = [
        EntryInput(date=e.date, lines=lines, description=e.description, reference=e.reference)
        for e, lines in zip(journal.entries, prepared, strict=True)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        journal_entries_import(
            company=other, entries=inputs, by=user, audit_per_entry=False, max_entries=None
        )
    bulk_seconds = time.perf_counter() - started
    print(
        f"  the ledger's bulk path alone:  {bulk_seconds:.2f} s, {lines / bulk_seconds:,.0f} lines/s (the ceiling of the import)"
    )

    bank = services.bank_account_create(
        company=company, by=user, name="Bench bank", account="1010", iban="GB82WEST12345698765432"
    )
    month = []
    entries = []
    for i in range(300):
        day = datetime.date(2026, 3, 1) + datetime.timedelta(days=i % 31)
        amount = Decimal(rng.randint(-50_000, 90_000) or 1) / 100
        month.append((day, amount, f"REF-{i}"))
        if i % 10:  # 270 of 300 are in the books, a day or two earlier
            booked = day - datetime.timedelta(days=i % 3)
            side = {"debit": abs(amount)} if amount > 0 else {"credit": abs(amount)}
            other = {"credit": abs(amount)} if amount > 0 else {"debit": abs(amount)}
            entries.append(
                EntryInput(
                    date=booked,
                    reference=f"REF-{i}",
                    lines=[{"account": "1010", **side}, {"account": "6990", **other}],
                )
            )
    journal_entries_import(company=company, entries=entries, by=user)
    statement = camt(month, Decimal("0.00"))
    started = time.perf_counter()
    with transaction.atomic():
        upload = services.statement_import_job_create(
            bank_account=bank, file=statement, by=user, format="camt053", accept_chain_break=True
        )
        services.import_job_execute_inline(job=upload, by=user)
    upload_seconds = time.perf_counter() - started
    suggested = BankStatementLine.objects.filter(bank_account=bank, status="suggested").count()
    print(
        f"Statement of 300 lines with suggestions: {upload_seconds * 1000:.0f} ms ({suggested} lines with suggestions)"
    )
    started = time.perf_counter()
    report = reconciliation_report(bank_account=bank, as_of=datetime.date(2026, 3, 31))
    print(
        f"Reconciliation report (300 bank lines, {len(report.unmatched_book)} unmatched book lines): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    print(f"CPU probe at the end: {cpu_probe_ms():.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
