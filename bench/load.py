"""`make load`: mixed reads and writes against gunicorn on loopback, then a check of the books.

    .venv/bin/python bench/load.py     (LOAD_DATABASE_URL, default: local sofinance_load)

1. Data: a company with LOAD_ENTRIES generated journal entries (default 20,000, about 52,000
   lines; made once and kept), a tax rate, an item and 20 customers. ANALYZEd.
2. Server: gunicorn with LOAD_WORKERS sync workers (default 3, as the Docker image runs it),
   production settings (DEBUG off, Redis cache), on this machine's loopback.
3. Clients: locust (bench/locustfile.py), headless, LOAD_USERS clients (default 32) in two phases
   of LOAD_SECONDS each (default 60):
   - "interactive": each client waits LOAD_WAIT seconds between requests (default 0.5-1.5, a
     person or an integration working through its queue); the targets apply to this phase:
     read p95 < 100 ms and no errors;
   - "saturation": no wait at all (every client fires its next request as soon as the last
     answers), which shows the throughput ceiling and the latency at it. Errors must still be 0.
   Skip a phase with LOAD_PHASES=interactive or LOAD_PHASES=saturation.
4. Books: every posted entry balances, Σdebit = Σcredit, stored balances equal a rebuild, journal
   and invoice numbers are gapless, the audit chain verifies (bench/books.py).

Prints p50/p95/p99 and requests/s per operation and phase, the error count and the books'
state; exits 1 when an error occurred, a target was missed or the books are not whole.
The load client runs on the same cores as the server and the database (say so when quoting).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The harness issues the token the server checks and verifies the audit seals the server made.
os.environ.setdefault("JWT_SECRET", "load:" + "l" * 48)
os.environ.setdefault("SECRET_KEY", "load-test-only-" + "k" * 48)
os.environ.setdefault(
    "BENCH_DATABASE_URL",
    os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sofinance_load"),
)

from bench.bootstrap import setup

setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Company, User  # noqa: E402
from accounts.services import company_create, user_create  # noqa: E402
from bench.books import books_problems, books_summary  # noqa: E402
from bench.http_load import GunicornServer  # noqa: E402
from ledger.models import JournalEntry, JournalLine  # noqa: E402
from sales import services as sales  # noqa: E402
from sales.models import Customer, Item  # noqa: E402
from sofinance.api.jwt import issue_token_pair  # noqa: E402
from sofinance.db_maintenance import tables_analyze  # noqa: E402

ENTRIES = int(os.environ.get("LOAD_ENTRIES", "20000"))
USERS = int(os.environ.get("LOAD_USERS", "32"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
WORKERS = int(os.environ.get("LOAD_WORKERS", "3"))
WAIT = os.environ.get("LOAD_WAIT", "0.5-1.5")
PHASES = [p for p in os.environ.get("LOAD_PHASES", "interactive,saturation").split(",") if p]
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/8")
READ_P95_TARGET_MS = 100.0
ROOT = Path(__file__).resolve().parent.parent


def load_company() -> tuple[Company, User]:
    user = User.objects.filter(username="load-test").first() or user_create(
        username="load-test", email="load-test@example.com", password=None
    )
    name = f"Load test ({ENTRIES} entries)"
    company = Company.objects.filter(name=name).order_by("pk").first()
    if company is None:
        company = company_create(name=name, currency="USD", created_by=user, chart_template="small_business")
        print(f"generating {ENTRIES:,} entries (once) ...", flush=True)
        call_command(
            "generate_ledger", company=company.pk, entries=ENTRIES, start="2023-01-01", months=36, verbosity=0
        )
        standard = sales.tax_rate_create(company=company, name="VAT 20%", rate="20", by=None)
        sales.item_create(
            company=company, name="Consulting hour", unit_price="120.00", tax_rate=standard, by=None
        )
        for n in range(20):
            sales.customer_create(company=company, name=f"Customer {n + 1:02d}", by=None)
    tables_analyze(JournalEntry, JournalLine)
    return company, user


def client_config(company: Company, user: User) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.code FROM ledger_journalline l JOIN accounts_account a ON a.id = l.account_id"
            " WHERE l.company_id = %s GROUP BY a.code ORDER BY COUNT(*) DESC LIMIT 5",
            [company.pk],
        )
        busiest = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT MIN(id), MAX(id) FROM ledger_journalentry WHERE company_id = %s", [company.pk])
        low, high = cursor.fetchone()
    return {
        "company": company.pk,
        "token": issue_token_pair(user_id=user.pk)["access"],
        "ledger_accounts": busiest,
        "entry_ids": [low, high],
        "customers": list(Customer.objects.filter(company=company).values_list("pk", flat=True)),
        "item": Item.objects.filter(company=company).values_list("pk", flat=True).first(),
        "write_start": "2026-01-01",
    }


def run_locust(port: int, config: dict, phase: str, folder: Path) -> list[dict]:
    prefix = folder / phase
    env = {
        **os.environ,
        "LOAD_CONFIG": json.dumps(config),
        "LOAD_WAIT": WAIT if phase == "interactive" else "0",
    }
    locust = Path(sys.executable).with_name("locust")
    completed = subprocess.run(
        [
            str(locust),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(USERS),
            "--spawn-rate",
            str(USERS),
            "--run-time",
            f"{SECONDS}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "30",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        raise SystemExit(f"locust failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open() as handle:
            for row in list(csv.DictReader(handle))[:10]:
                print(f"  failure: {row['Method']} {row['Name']}: {row['Error'][:300]} x{row['Occurrences']}")
    with stats_file.open() as handle:
        return list(csv.DictReader(handle))


def print_phase(phase: str, rows: list[dict]) -> tuple[int, float | None]:
    """Print the phase's table; return (errors, the worst read p95 in ms)."""
    print(f"\n{phase}: {USERS} clients, {SECONDS} s, wait {WAIT if phase == 'interactive' else '0'} s")
    print(
        f"  {'operation':32} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} ms"
    )
    errors = 0
    worst_read = None
    for row in rows:
        name = row["Name"] if row["Type"] else "all"
        count, failed = int(row["Request Count"]), int(row["Failure Count"])
        if row["Name"] == "Aggregated":
            name = "all operations"
        else:
            errors += failed
        print(
            f"  {name:32} {count:8d} {failed:6d} {float(row['Requests/s']):7.1f}"
            f" {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )
        if row["Type"] == "GET" and count:
            p95 = float(row["95%"])
            worst_read = p95 if worst_read is None else max(worst_read, p95)
    return errors, worst_read


def main() -> int:
    company, user = load_company()
    config = client_config(company, user)
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    print(
        f"load test: company {company.pk} ({books_summary(company.pk)}), {os.cpu_count()} cores, "
        f"gunicorn {WORKERS} sync workers, autovacuum {autovacuum}; the load client shares the cores"
    )
    failures: list[str] = []
    connection.close()  # the server's workers and locust get the cores while it runs
    with (
        tempfile.TemporaryDirectory() as folder,
        GunicornServer(
            database_url=os.environ["DATABASE_URL"], workers=WORKERS, extra_env={"REDIS_URL": REDIS_URL}
        ) as server,
    ):
        for phase in PHASES:
            began = time.perf_counter()
            rows = run_locust(server.port, config, phase, Path(folder))
            errors, worst_read = print_phase(phase, rows)
            print(f"  ({time.perf_counter() - began:.0f} s)")
            if errors:
                failures.append(f"{phase}: {errors} requests failed")
            if phase == "interactive" and worst_read is not None and worst_read >= READ_P95_TARGET_MS:
                failures.append(
                    f"interactive: a read's p95 is {worst_read:.0f} ms (target < {READ_P95_TARGET_MS:.0f})"
                )
    tables_analyze(JournalEntry, JournalLine)
    problems = books_problems(company.pk)
    print(f"\nbooks after the load: {books_summary(company.pk)}")
    for problem in problems or [
        "whole: entries balance, balances equal a rebuild, numbers gapless, audit verifies"
    ]:
        print(f"  {problem}")
    failures += problems
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    print("\nall targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
