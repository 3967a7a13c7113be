"""Integrity run and export at a million journal lines (issue 11's targets).

    .venv/bin/python bench/bench_jobs.py   (BENCH_DATABASE_URL, default: local sofinance_bench)

Creates (once) a company holding BENCH_LINES journal lines (default 1,000,000) with
`manage.py generate_ledger`, ANALYZEs it, then measures on this machine:
- an integrity run of the company (target: <= 30 s), which must find nothing but the receivables
  control difference the synthetic ledger makes (it posts to receivables without invoices);
- exporting every journal line as CSV and the books as Beancount, each in a fresh child process
  set up like a worker, with that process's peak resident memory (VmHWM: ru_maxrss would count the
  parent's memory at fork; target: < 200 MB) and its time.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bootstrap import setup

TARGET_LINES = int(os.environ.get("BENCH_LINES", "1000000"))
RUN_TARGET_S = 30.0
RSS_TARGET_MB = 200.0

# A process like a worker's: Django set up (no migrations loaded), then one export.
CHILD = """
import json, os, sys, time
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofinance.settings")
import django
django.setup()
from audit.context import system_actor
from jobs.services import export_execute, export_request
from accounts.models import Company
company = Company.objects.get(pk={company})
def peak_kb():
    # VmHWM: this process's own peak resident set (ru_maxrss would include the parent's at fork)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
before = peak_kb()
with system_actor("bench:export"):
    job = export_request(company=company, by=None, kind={kind!r}, fmt={fmt!r}, enqueue=False)
    started = time.perf_counter()
    job = export_execute(export_id=job.pk)
    seconds = time.perf_counter() - started
print(json.dumps({{"status": job.status, "rows": job.row_count, "bytes": job.file_size, "seconds": seconds,
                  "maxrss_kb": peak_kb(), "rss_before_kb": before,
                  "error": job.error}}))
"""


def main() -> int:
    setup()
    from django.db.models import Count  # noqa: F401

    from audit.context import system_actor
    from bench.bench_reports import bench_company
    from jobs.services import integrity_run_execute, integrity_run_request
    from ledger.models import JournalLine
    from sofinance.db_maintenance import tables_analyze

    company, _ = bench_company()
    lines = JournalLine.objects.filter(company=company).count()
    tables_analyze(JournalLine)
    print(f"company {company.pk}: {lines:,} journal lines; cores: {os.cpu_count()}")
    failures: list[str] = []

    with system_actor("bench:reconcile"):
        run = integrity_run_request(company=company, by=None, enqueue=False)
        started = time.perf_counter()
        run = integrity_run_execute(run_id=run.pk)
        seconds = time.perf_counter() - started
    kinds = sorted(run.discrepancies.values_list("kind", flat=True))
    # The synthetic ledger posts to the receivables account without invoices: the control check
    # rightly reports that, and nothing else may be found.
    ok = seconds <= RUN_TARGET_S and run.status == "done" and kinds in ([], ["receivables_control_mismatch"])
    print(
        f"integrity run: {seconds:6.1f} s, discrepancies {kinds}, checks {run.counts}"
        f"  target <= {RUN_TARGET_S:.0f} s: {'ok' if ok else 'MISSED'}"
    )
    if not ok:
        failures.append("integrity run")

    media = Path(os.environ.get("MEDIA_ROOT", "/tmp/sofinance-bench-media"))
    for kind, fmt in (("journal_lines", "csv"), ("beancount", "beancount")):
        script = CHILD.format(
            root=str(Path(__file__).resolve().parent.parent), company=company.pk, kind=kind, fmt=fmt
        )
        child = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env={**os.environ, "MEDIA_ROOT": str(media), "DEBUG": "1", "LOG_LEVEL": "WARNING"},
            timeout=3600,
            check=False,
        )
        if child.returncode != 0:
            print(child.stderr[-3000:])
            failures.append(f"{kind} export")
            continue
        result = json.loads(child.stdout.strip().splitlines()[-1])
        peak_mb = result["maxrss_kb"] / 1024
        ok = result["status"] == "done" and peak_mb < RSS_TARGET_MB
        print(
            f"export {kind} ({fmt}): {result['rows']:,} rows, {result['bytes'] / 1e6:,.0f} MB in "
            f"{result['seconds']:.1f} s ({result['rows'] / result['seconds']:,.0f} rows/s); peak RSS "
            f"{peak_mb:.0f} MB (at start {result['rss_before_kb'] / 1024:.0f} MB)  target < {RSS_TARGET_MB:.0f} MB: "
            f"{'ok' if ok else 'MISSED'}"
        )
        if not ok:
            failures.append(f"{kind} export")

    if failures:
        print(f"MISSED targets: {', '.join(failures)}")
        return 1
    print("All jobs targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
