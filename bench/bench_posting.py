"""Posting rate: the service against a raw-psycopg floor in the same run, then over HTTP.

    .venv/bin/python bench/bench_posting.py   (BENCH_DATABASE_URL, default: local sofinance_bench)

Runs in a fresh database of its own, as the issue measured: `<benchmark database>_posting`
(sofinance_bench_posting by default), dropped, created and migrated at every run, so the journal
both sides write into starts empty whatever earlier runs of any benchmark stored.

1. Service vs floor, interleaved. The same entries (2-4 lines, seeded) are posted by
   `journal_entry_create(post=True)` (validation, triggers, gapless number, stored balances, audit
   event, one transaction per entry, one connection) and by the plain psycopg loop of bench/floor.py
   into tables of the same shape; rounds alternate so both see the same machine. Prints entries/s
   of each and the ratio (target: service >= 40% of the floor), and each side's time and CPU per
   entry (what is not CPU is waiting on PostgreSQL), with a CPU probe (bench/calibration.py) per round.
2. HTTP, single entries: gunicorn (3 sync workers, DEBUG off, Redis for cache, rate limits and
   broker) and a Celery worker (solo pool: it runs the audit seals the commits schedule, as in a
   deployment) on loopback, 8 client threads on the same machine posting one entry per request
   (target: >= 400 entries/s).
3. HTTP, bulk: POST .../journal-entries/bulk with 1,000 entries per request (target: >= 5,000
   entries/s).
Environment: BENCH_ROUNDS (default 10: 5,000 entries a side, the issue's workload),
BENCH_ROUND_ENTRIES (default 500), BENCH_HTTP_ENTRIES
(default 4000), BENCH_BULK_REQUESTS (default 6), BENCH_SKIP_HTTP=1 to run part 1 only.
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

# The benchmark and the server it starts sign and check the same tokens.
os.environ.setdefault("JWT_SECRET", "bench:" + "b" * 48)

from bench.bootstrap import setup

_started = time.perf_counter()
setup(fresh_database="posting")
_SETUP_SECONDS = time.perf_counter() - _started

from django.db import connection  # noqa: E402

from accounts.models import Account, User  # noqa: E402
from accounts.services import company_create, user_create  # noqa: E402
from bench.calibration import cpu_probe_ms  # noqa: E402
from bench.floor import FloorPoster, floor_tables_create  # noqa: E402
from bench.http_load import GunicornServer, run_clients, timed  # noqa: E402
from bench.http_load import request as http_request  # noqa: E402
from ledger.models import JournalEntry  # noqa: E402
from ledger.services import journal_entry_create  # noqa: E402
from sofinance.api.jwt import issue_token_pair  # noqa: E402
from sofinance.tests.sessions import second_session  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
ROUND_ENTRIES = int(os.environ.get("BENCH_ROUND_ENTRIES", "500"))
HTTP_ENTRIES = int(os.environ.get("BENCH_HTTP_ENTRIES", "4000"))
BULK_REQUESTS = int(os.environ.get("BENCH_BULK_REQUESTS", "6"))
HTTP_CLIENTS = 8
HTTP_TARGET = 400
BULK_TARGET = 5000
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
EXPENSES = ["6100", "6200", "6300", "6400", "6500", "6700"]
FLOOR_TARGET = 0.40
# The floor when the issue set the absolute HTTP targets (1,900-2,150 entries/s, midpoint).
ISSUE_FLOOR = 2025


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
        f"database: PostgreSQL {connection.pg_version // 10000}, {connection.settings_dict['NAME']} "
        f"(fresh: created and migrated in {_SETUP_SECONDS:.0f} s; {JournalEntry.objects.count()} entries); "
        f"cores: {os.cpu_count()}; autovacuum: {autovacuum_state()}; CPU probe {cpu_probe_ms():.1f} ms "
        "(bench/calibration.py: a fixed Python workload, lower is a faster CPU)"
    )
    raw = second_session(autocommit=False)
    floor_tables_create(raw)
    floor = FloorPoster(raw, company_id=company.pk, currency=company.currency)

    rng = random.Random(1)
    service_rates, floor_rates, service_cpu, floor_cpu, probes = [], [], [], [], []
    lines_posted = 0
    for round_no in range(ROUNDS):
        bodies = [entry_body(rng) for _ in range(ROUND_ENTRIES)]
        order = ("service", "floor") if round_no % 2 == 0 else ("floor", "service")
        for who in order:
            started, cpu_started = time.perf_counter(), time.process_time()
            if who == "service":
                for date, lines in bodies:
                    journal_entry_create(company=company, date=date, lines=lines, by=user, post=True)
                service_rates.append(ROUND_ENTRIES / (time.perf_counter() - started))
                service_cpu.append((time.process_time() - cpu_started) / ROUND_ENTRIES * 1000)
            else:
                for date, lines in bodies:
                    floor.post(date, floor_lines(lines, ids))
                floor_rates.append(ROUND_ENTRIES / (time.perf_counter() - started))
                floor_cpu.append((time.process_time() - cpu_started) / ROUND_ENTRIES * 1000)
        lines_posted += sum(len(lines) for _, lines in bodies)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # autovacuum may be off: what a round fills, it analyzes
        probes.append(cpu_probe_ms(repeats=3))
        print(
            f"round {round_no + 1}: service {service_rates[-1]:7.0f} entries/s   floor {floor_rates[-1]:7.0f} entries/s"
            f"   CPU probe {probes[-1]:5.1f} ms",
            flush=True,
        )
    raw.close()
    service, floor_rate = statistics.median(service_rates), statistics.median(floor_rates)
    ratio = service / floor_rate
    print(
        f"\nservice vs floor ({ROUNDS} rounds x {ROUND_ENTRIES} entries, {lines_posted} lines each side; medians):\n"
        f"  raw-psycopg floor : {floor_rate:7.0f} entries/s\n"
        f"  posting service   : {service:7.0f} entries/s\n"
        f"  ratio             : {ratio:.2f} (target >= {FLOOR_TARGET:.2f})\n"
        f"  per entry (medians): service {1000 / service:.2f} ms, of which {statistics.median(service_cpu):.2f} ms "
        f"of this process's CPU; floor {1000 / floor_rate:.2f} ms, {statistics.median(floor_cpu):.2f} ms of CPU\n"
        "  (the rest of each is waiting on PostgreSQL: its statements, triggers and key checks, and the "
        "COMMIT's WAL flush)\n"
        f"  CPU probe over the rounds: {min(probes):.1f}-{max(probes):.1f} ms"
    )
    failed = ratio < FLOOR_TARGET
    if os.environ.get("BENCH_SKIP_HTTP") != "1":
        failed |= http_benchmarks(company, user, rng, floor_rate)
    return 1 if failed else 0


def http_benchmarks(company, user, rng: random.Random, floor_rate: float) -> bool:
    """Parts 2 and 3; True when a target is missed or a request failed.

    Each rate is also printed as a multiple of this run's floor: this shared machine's speed
    drifts from day to day (the floor has measured 700 to 2,150 entries/s), and the issue set its
    absolute targets when the floor was 1,900-2,150/s.
    """
    token = issue_token_pair(user_id=user.pk)["access"]
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/companies/{company.pk}/journal-entries"
    singles = [("POST", path, {**_body(*entry_body(rng)), "post": True}) for _ in range(HTTP_ENTRIES)]
    batches = [
        ("POST", f"{path}/bulk", {"entries": [_body(*entry_body(rng)) for _ in range(1000)]})
        for _ in range(BULK_REQUESTS)
    ]
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with GunicornServer(
        database_url=database_url, extra_env={"REDIS_URL": BENCH_REDIS_URL}, celery_worker=True
    ) as server:
        run_clients(server.port, singles[:200], clients=HTTP_CLIENTS, headers=headers)  # warm the workers
        single = run_clients(server.port, singles[200:], clients=HTTP_CLIENTS, headers=headers)
        http_request("POST", server.port, f"{path}/bulk", batches[0][2], headers)  # warm up
        seconds, statuses = timed(
            lambda: [
                http_request(method, server.port, url, body, headers)[0] for method, url, body in batches[1:]
            ]
        )
    single_rate = single.count / single.seconds
    bulk_rate = 1000 * (len(batches) - 1) / seconds
    bulk_errors = sum(1 for status in statuses if status != 201)
    print(
        f"\nHTTP (gunicorn, 3 sync workers and a Celery worker, {HTTP_CLIENTS} client threads on the same {os.cpu_count()} cores):\n"
        f"  single entries    : {single_rate:7.0f} entries/s  (p50 {single.p50_ms:.1f} ms, "
        f"p95 {single.percentile(0.95) * 1000:.1f} ms, {single.count} requests, {single.errors} errors; "
        f"target >= {HTTP_TARGET})\n"
        f"  bulk, 1,000/request: {bulk_rate:7.0f} entries/s  ({len(batches) - 1} requests, {bulk_errors} errors; "
        f"target >= {BULK_TARGET})\n"
        f"  as multiples of this run's floor ({floor_rate:.0f}/s): single {single_rate / floor_rate:.2f}x "
        f"(the issue's {HTTP_TARGET}/s was {HTTP_TARGET / ISSUE_FLOOR:.2f}x its floor), bulk "
        f"{bulk_rate / floor_rate:.2f}x ({BULK_TARGET}/s was {BULK_TARGET / ISSUE_FLOOR:.2f}x)"
    )
    return single_rate < HTTP_TARGET or bulk_rate < BULK_TARGET or single.errors > 0 or bulk_errors > 0


def _body(date: datetime.date, lines: list[dict]) -> dict:
    return {"date": date.isoformat(), "description": "Benchmark entry", "lines": lines}


if __name__ == "__main__":
    sys.exit(main())
