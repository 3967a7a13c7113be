"""Posting rate: the service against a raw-psycopg floor in the same run, then over HTTP.

    .venv/bin/python bench/bench_posting.py   (BENCH_DATABASE_URL, default: local sofinance_bench)

1. Service vs floor, interleaved. The same entries (2-4 lines, seeded) are posted by
   `journal_entry_create(post=True)` (validation, triggers, gapless number, stored balances, audit
   event, one transaction per entry, one connection) and by the plain psycopg loop of bench/floor.py
   into tables of the same shape; rounds alternate so both see the same machine. Prints entries/s
   of each and the ratio (target: service >= 40% of the floor).
Environment: BENCH_ROUNDS (default 6), BENCH_ROUND_ENTRIES (default 500).
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bootstrap import setup

setup()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Account, User  # noqa: E402
from accounts.services import company_create, user_create  # noqa: E402
from bench.floor import FloorPoster, floor_tables_create  # noqa: E402
from ledger.models import JournalEntry  # noqa: E402
from ledger.services import journal_entry_create  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
ROUND_ENTRIES = int(os.environ.get("BENCH_ROUND_ENTRIES", "500"))
EXPENSES = ["6100", "6200", "6300", "6400", "6500", "6700"]
FLOOR_TARGET = 0.40


def entry_body(rng: random.Random) -> tuple[datetime.date, list[dict]]:
    """One entry of 2, 3 or 4 lines, as the API would receive it."""
    date = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 364))
    amount = Decimal(rng.randint(100, 500_000)) / 100
    shape = rng.randint(2, 4)
    if shape == 2:
        lines = [
            {"account": rng.choice(EXPENSES), "debit": str(amount)},
            {"account": "1010", "credit": str(amount)},
        ]
    elif shape == 3:
        tax = (amount * Decimal("0.1")).quantize(Decimal("0.01"))
        lines = [
            {"account": "1100", "debit": str(amount + tax)},
            {"account": "4000", "credit": str(amount)},
            {"account": "2200", "credit": str(tax)},
        ]
    else:
        half = (amount / 2).quantize(Decimal("0.01"))
        lines = [
            {"account": rng.choice(EXPENSES), "debit": str(half)},
            {"account": rng.choice(EXPENSES), "debit": str(amount - half)},
            {"account": "1400", "debit": "1.00"},
            {"account": "2000", "credit": str(amount + 1)},
        ]
    return date, lines


def floor_lines(lines: list[dict], ids: dict[str, int]) -> list[tuple[int, Decimal, Decimal]]:
    zero = Decimal(0)
    return [
        (ids[ln["account"]], Decimal(ln.get("debit") or 0) or zero, Decimal(ln.get("credit") or 0) or zero)
        for ln in lines
    ]


def raw_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
    )


def autovacuum_state() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


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
    ids = dict(Account.objects.filter(company=company).values_list("code", "id"))
    print(
        f"database: PostgreSQL {connection.pg_version // 10000} ({connection.settings_dict['NAME']}); "
        f"cores: {os.cpu_count()}; autovacuum: {autovacuum_state()}; "
        f"journal lines already stored: {JournalEntry.objects.count()} entries"
    )
    raw = raw_connection()
    floor_tables_create(raw)
    floor = FloorPoster(raw, company_id=company.pk, currency=company.currency)

    rng = random.Random(1)
    service_rates, floor_rates = [], []
    lines_posted = 0
    for round_no in range(ROUNDS):
        bodies = [entry_body(rng) for _ in range(ROUND_ENTRIES)]
        order = ("service", "floor") if round_no % 2 == 0 else ("floor", "service")
        for who in order:
            started = time.perf_counter()
            if who == "service":
                for date, lines in bodies:
                    journal_entry_create(company=company, date=date, lines=lines, by=user, post=True)
                service_rates.append(ROUND_ENTRIES / (time.perf_counter() - started))
            else:
                for date, lines in bodies:
                    floor.post(date, floor_lines(lines, ids))
                floor_rates.append(ROUND_ENTRIES / (time.perf_counter() - started))
        lines_posted += sum(len(lines) for _, lines in bodies)
        print(
            f"round {round_no + 1}: service {service_rates[-1]:7.0f} entries/s   floor {floor_rates[-1]:7.0f} entries/s",
            flush=True,
        )
    raw.close()
    service, floor_rate = statistics.median(service_rates), statistics.median(floor_rates)
    ratio = service / floor_rate
    print(
        f"\nservice vs floor ({ROUNDS} rounds x {ROUND_ENTRIES} entries, {lines_posted} lines each side; medians):\n"
        f"  raw-psycopg floor : {floor_rate:7.0f} entries/s\n"
        f"  posting service   : {service:7.0f} entries/s\n"
        f"  ratio             : {ratio:.2f} (target >= {FLOOR_TARGET:.2f})"
    )
    return 0 if ratio >= FLOOR_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
