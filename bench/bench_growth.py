"""Growth: the report targets and the posting rate at 10,000,000 journal lines in one company.

    .venv/bin/python bench/bench_growth.py   (BENCH_DATABASE_URL, default: local sofinance_bench)

1. Makes (once; later runs reuse it) a company of GROWTH_LINES generated lines (default
   10,000,000, three years) through `manage.py generate_ledger`, i.e. the bulk posting service:
   at about 8,000 lines/s on two cores the first run spends 20-30 minutes here.
2. Times every report of bench_reports.py on it: trial balance <= 50 ms, a 50-line
   general-ledger page (first, middle, last) <= 30 ms, through the selector and the API.
3. Posting rate against size: the same seeded entries are posted through `journal_entry_create`
   into the big company and into a new empty one, in alternating rounds (GROWTH_ROUNDS x
   GROWTH_ROUND_ENTRIES). Target: the big company's median rate is at least 90% of the empty
   one's (what an entry costs must not depend on how many came before it).
Exits 1 when a target is missed.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GROWTH_LINES = int(os.environ.get("GROWTH_LINES", "10000000"))

from bench import bench_reports  # noqa: E402  (sets Django up)
from bench.bench_posting import autovacuum_state, entry_body  # noqa: E402

# isort: split
from accounts.services import company_create  # noqa: E402
from ledger.models import JournalLine  # noqa: E402
from ledger.services import journal_entry_create  # noqa: E402

ROUNDS = int(os.environ.get("GROWTH_ROUNDS", "6"))
ROUND_ENTRIES = int(os.environ.get("GROWTH_ROUND_ENTRIES", "300"))
RATE_TARGET = 0.90


def posting_rates(big, user) -> tuple[float, float]:
    small = company_create(
        name=f"Growth bench, empty {time.time():.0f}",
        currency="USD",
        created_by=user,
        chart_template="small_business",
    )
    rng = random.Random(7)
    rates: dict[str, list[float]] = {"big": [], "empty": []}
    for round_no in range(ROUNDS):
        bodies = [entry_body(rng) for _ in range(ROUND_ENTRIES)]
        order = (("big", big), ("empty", small)) if round_no % 2 == 0 else (("empty", small), ("big", big))
        for label, company in order:
            started = time.perf_counter()
            for date, lines in bodies:
                journal_entry_create(company=company, date=date, lines=lines, by=user, post=True)
            rates[label].append(ROUND_ENTRIES / (time.perf_counter() - started))
        print(
            f"round {round_no + 1}: {GROWTH_LINES:,}-line company {rates['big'][-1]:6.0f} entries/s   "
            f"empty company {rates['empty'][-1]:6.0f} entries/s",
            flush=True,
        )
    return statistics.median(rates["big"]), statistics.median(rates["empty"])


def main() -> int:
    began = time.perf_counter()
    company, user = bench_reports.bench_company(
        target_lines=GROWTH_LINES, name=f"Growth bench ({GROWTH_LINES} lines)"
    )
    print(
        f"growth company ready in {time.perf_counter() - began:.0f} s: "
        f"{JournalLine.objects.filter(company=company).count():,} lines; autovacuum {autovacuum_state()}"
    )
    failures = bench_reports.report_suite(company, user)
    big, empty = posting_rates(company, user)
    ratio = big / empty
    print(
        f"\nposting ({ROUNDS} rounds x {ROUND_ENTRIES} entries, medians): {GROWTH_LINES:,}-line company "
        f"{big:.0f} entries/s, empty company {empty:.0f} entries/s; ratio {ratio:.2f} "
        f"(target >= {RATE_TARGET:.2f})"
    )
    if ratio < RATE_TARGET:
        failures.append("posting rate at size")
    if failures:
        print(f"MISSED targets: {', '.join(failures)}")
        return 1
    print("All growth targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
