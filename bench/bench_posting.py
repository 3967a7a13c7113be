"""Posting rate through the service: one transaction per entry, 2-4 lines, as the API posts.

    .venv/bin/python bench/bench_posting.py   (BENCH_DATABASE_URL, default: local sofinance_bench)

Posts BENCH_POSTINGS entries (default 2,000) into a fresh company with `journal_entry_create(post=True)`
(validation, balances upsert, gapless number, audit event, commit), first from one thread, then from
BENCH_THREADS threads (default 4) against the same accounts. Prints entries/s and lines/s.
"""

from __future__ import annotations

import datetime
import os
import random
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bootstrap import setup

setup()

from django.db import connection, connections  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import company_create, user_create  # noqa: E402
from ledger.models import JournalEntry, JournalLine  # noqa: E402
from ledger.services import journal_entry_create  # noqa: E402

POSTINGS = int(os.environ.get("BENCH_POSTINGS", "2000"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
EXPENSES = ["6100", "6200", "6300", "6400", "6500", "6700"]


def entry_lines(rng: random.Random) -> list[dict]:
    amount = Decimal(rng.randint(100, 500_000)) / 100
    shape = rng.randint(2, 4)
    if shape == 2:
        return [
            {"account": rng.choice(EXPENSES), "debit": str(amount)},
            {"account": "1010", "credit": str(amount)},
        ]
    if shape == 3:
        tax = (amount * Decimal("0.1")).quantize(Decimal("0.01"))
        return [
            {"account": "1100", "debit": str(amount + tax)},
            {"account": "4000", "credit": str(amount)},
            {"account": "2200", "credit": str(tax)},
        ]
    half = (amount / 2).quantize(Decimal("0.01"))
    return [
        {"account": rng.choice(EXPENSES), "debit": str(half)},
        {"account": rng.choice(EXPENSES), "debit": str(amount - half)},
        {"account": "1400", "debit": "1.00"},
        {"account": "2000", "credit": str(amount + 1)},
    ]


def post_batch(company, count: int, seed: int) -> int:
    rng = random.Random(seed)
    lines = 0
    start = datetime.date(2026, 1, 1)
    for _ in range(count):
        body = entry_lines(rng)
        journal_entry_create(
            company=company,
            date=start + datetime.timedelta(days=rng.randint(0, 364)),
            lines=body,
            by=None,
            post=True,
        )
        lines += len(body)
    return lines


def main() -> int:
    user = User.objects.filter(username="posting-bench").first() or user_create(
        username="posting-bench", email="posting-bench@example.com", password=None
    )
    company = company_create(
        name=f"Posting bench {time.time():.0f}",
        currency="USD",
        created_by=user,
        chart_template="small_business",
    )
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; cores: {os.cpu_count()}")

    started = time.perf_counter()
    lines = post_batch(company, POSTINGS, seed=1)
    elapsed = time.perf_counter() - started
    print(
        f"1 thread : {POSTINGS} entries, {lines} lines in {elapsed:.2f} s -> "
        f"{POSTINGS / elapsed:.0f} entries/s, {lines / elapsed:.0f} lines/s"
    )

    per_thread = POSTINGS // THREADS
    counts: list[int] = []

    def worker(index: int) -> None:
        try:
            counts.append(post_batch(company, per_thread, seed=100 + index))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = per_thread * THREADS
    print(
        f"{THREADS} threads: {total} entries, {sum(counts)} lines in {elapsed:.2f} s -> "
        f"{total / elapsed:.0f} entries/s, {sum(counts) / elapsed:.0f} lines/s"
    )
    posted = JournalEntry.objects.filter(company=company).count()
    sequences = sorted(JournalEntry.objects.filter(company=company).values_list("sequence", flat=True))
    ok = posted == POSTINGS + total and sequences == list(range(1, posted + 1))
    print(f"entries: {posted}, lines: {JournalLine.objects.filter(company=company).count()}, gapless: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
