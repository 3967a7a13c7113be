"""Report speed at a million journal lines (issue 5's targets).

    .venv/bin/python bench/bench_reports.py   (BENCH_DATABASE_URL, default: local sofinance_bench)

Creates (once) a company holding BENCH_LINES journal lines (default 1,000,000) with
`manage.py generate_ledger`, then times, on this machine:
- the trial balance as of several dates (target: <= 50 ms),
- a 50-line page of the busiest account's general ledger, first, middle and last page (target: <= 30 ms),
- the balance sheet and an income statement for a year,
each through the selector and through the whole API request (auth, tenancy, envelope, JSON).
Prints medians and 95th percentiles; exits 1 when a target is missed.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bootstrap import setup

setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import Account, Company, User  # noqa: E402
from accounts.services import company_create, user_create  # noqa: E402
from ledger.models import JournalLine  # noqa: E402
from ledger.reports import (  # noqa: E402
    LedgerCursor,
    balance_sheet,
    general_ledger,
    income_statement,
    trial_balance,
)
from sofinance.api.jwt import issue_token_pair  # noqa: E402

TARGET_LINES = int(os.environ.get("BENCH_LINES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
COMPANY_NAME = f"Reports bench ({TARGET_LINES} lines)"
START = datetime.date(2023, 1, 1)
MONTHS = 36
TB_TARGET_MS = 50.0
GL_TARGET_MS = 30.0


def bench_company(target_lines: int = TARGET_LINES, name: str = COMPANY_NAME) -> tuple[Company, User]:
    """The company holding `target_lines` generated lines (made once, completed when short)."""
    user = User.objects.filter(username="reports-bench").first() or user_create(
        username="reports-bench", email="reports-bench@example.com", password=None
    )
    company = Company.objects.filter(name=name).order_by("pk").first()
    if company is None:
        company = company_create(name=name, currency="USD", created_by=user, chart_template="small_business")
    lines = JournalLine.objects.filter(company=company).count()
    seed = 1
    while lines < target_lines:
        missing_entries = max(1000, (target_lines - lines) // 3 + 1)
        chunk = min(missing_entries, 100_000)
        print(f"generating {chunk} entries ({lines} lines so far)...", flush=True)
        started = time.perf_counter()
        call_command(
            "generate_ledger",
            company=company.pk,
            entries=chunk,
            start=START.isoformat(),
            months=MONTHS,
            seed=seed + lines,
            verbosity=0,
        )
        now = JournalLine.objects.filter(company=company).count()
        print(f"  +{now - lines} lines in {time.perf_counter() - started:.1f} s", flush=True)
        lines, seed = now, seed + 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return company, user


def timed(fn, runs: int = RUNS) -> tuple[float, float]:
    result = fn()  # warm up, and make sure an API call succeeded (a fast error is no figure)
    status = getattr(result, "status_code", 200)
    if status != 200:
        raise SystemExit(f"request failed with {status}: {getattr(result, 'content', b'')[:300]!r}")
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def report(name: str, median: float, p95: float, target: float | None, failures: list[str]) -> None:
    verdict = ""
    if target is not None:
        ok = median <= target
        verdict = f"  target <= {target:.0f} ms: {'ok' if ok else 'MISSED'}"
        if not ok:
            failures.append(name)
    print(f"{name:<58} median {median:7.2f} ms   p95 {p95:7.2f} ms{verdict}")


def main() -> int:
    company, user = bench_company()
    failures = report_suite(company, user)
    if failures:
        print(f"MISSED targets: {', '.join(failures)}")
        return 1
    print("All report targets met.")
    return 0


def report_suite(company: Company, user: User) -> list[str]:
    """Time every report on `company`; return the names of the timings that missed their target."""
    lines = JournalLine.objects.filter(company=company).count()
    first_day = START
    last_day = START.replace(year=START.year + MONTHS // 12) - datetime.timedelta(days=1)
    busiest = (
        JournalLine.objects.filter(company=company)
        .values("account_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    account = Account.objects.get(pk=busiest["account_id"])
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; cores: {os.cpu_count()}; "
        f"company lines: {lines}; all lines: {JournalLine.objects.count()}; "
        f"busiest account {account.code} with {busiest['n']} lines"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token_pair(user_id=user.pk)['access']}")
    base = f"/api/v1/companies/{company.pk}/reports"
    failures: list[str] = []

    for as_of in (last_day, datetime.date(2024, 6, 15), datetime.date(2025, 3, 1)):
        report(
            f"trial balance as of {as_of} (selector)",
            *timed(lambda as_of=as_of: trial_balance(company=company, as_of=as_of)),
            TB_TARGET_MS,
            failures,
        )
        report(
            f"trial balance as of {as_of} (API)",
            *timed(lambda as_of=as_of: client.get(f"{base}/trial-balance?as_of={as_of}")),
            TB_TARGET_MS,
            failures,
        )

    gl_lines = JournalLine.objects.filter(
        company=company,
        account=account,
        entry_sequence__isnull=False,
        date__gte=first_day,
        date__lte=last_day,
    ).order_by("date", "entry_sequence", "id")
    middle = gl_lines[busiest["n"] // 2]
    near_end = gl_lines[max(0, busiest["n"] - 60)]
    cursors = {
        "first page": None,
        "middle page": LedgerCursor(middle.date, middle.entry_sequence, middle.pk),
        "last page": LedgerCursor(near_end.date, near_end.entry_sequence, near_end.pk),
    }
    for label, cursor in cursors.items():

        def selector(cursor=cursor):
            return general_ledger(
                company=company,
                account=account,
                date_from=first_day,
                date_to=last_day,
                page_size=50,
                cursor=cursor,
            )

        page = selector()
        assert len(page.lines) > 0
        report(
            f"general ledger {account.code}, 50 lines, {label} (selector)",
            *timed(selector),
            GL_TARGET_MS,
            failures,
        )
        query = f"account_id={account.pk}&from={first_day}&to={last_day}&page_size=50"
        if cursor is not None:
            query += f"&cursor={cursor.encode()}"
        report(
            f"general ledger {account.code}, 50 lines, {label} (API)",
            *timed(lambda query=query: client.get(f"{base}/general-ledger?{query}")),
            GL_TARGET_MS,
            failures,
        )

    report(
        "balance sheet as of the last day (selector)",
        *timed(lambda: balance_sheet(company=company, as_of=last_day)),
        None,
        failures,
    )
    report(
        "income statement for 2024 (selector)",
        *timed(
            lambda: income_statement(
                company=company, date_from=datetime.date(2024, 1, 1), date_to=datetime.date(2024, 12, 31)
            )
        ),
        None,
        failures,
    )
    report(
        "income statement 2024-02-10..2025-07-20 (API)",
        *timed(lambda: client.get(f"{base}/income-statement?from=2024-02-10&to=2025-07-20")),
        None,
        failures,
    )
    return failures


if __name__ == "__main__":
    sys.exit(main())
