"""Sales speed: issuing 5-line invoices (service and HTTP) and AR aging at 100,000 invoices.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofinance_bench_sales .venv/bin/python bench/bench_sales.py

1. Issuing: BENCH_ISSUES invoices (default 300) of 5 lines (two tax rates, a discount) into a fresh
   company, each created and issued in one transaction (validation, gapless invoice number, the
   posting with its balances and journal number, the daily summary, audit events) - through
   `invoice_create(issue=True)`, then through `POST …/invoices` with `"issue": true` (auth,
   tenancy, idempotency key, envelope, JSON). Prints invoices/s and per-invoice latencies.
2. AR aging: a company holding BENCH_INVOICES issued invoices (default 100,000) over three years
   for 500 customers, most paid (one payment each, allocated), some partly paid, some open, plus
   the journal entries behind all of them. Loaded once, set-based (the ledger's bulk import for the
   entries, bulk inserts for the documents, then one UPDATE through the invariant triggers), then
   VACUUM ANALYZEd (autovacuum may be off). Times `ar_aging` as of three dates, through the selector and
   the API, and checks the aging total equals the receivables account's balance.
Medians and 95th percentiles; exits 1 when a check fails.
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import sys
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bootstrap import setup

setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import Account, Company, User  # noqa: E402
from accounts.services import company_create, membership_add, user_create  # noqa: E402
from ledger.balance_queries import account_totals  # noqa: E402
from ledger.models import EntrySource, JournalEntry, JournalLine  # noqa: E402
from ledger.numbering import sequence_reserve  # noqa: E402
from ledger.services import MAX_BATCH_ENTRIES, EntryInput, journal_entries_import  # noqa: E402
from sales import services  # noqa: E402
from sales.models import Allocation, Customer, Invoice, InvoiceLine, InvoiceStatus, Payment  # noqa: E402
from sales.numbering import INVOICE_SERIES, PAYMENT_SERIES, document_number  # noqa: E402
from sales.reports import ar_aging, invoices_open_on  # noqa: E402
from sofinance.api.jwt import issue_token_pair  # noqa: E402
from sofinance.permissions import Role  # noqa: E402

ISSUES = int(os.environ.get("BENCH_ISSUES", "300"))
TARGET_INVOICES = int(os.environ.get("BENCH_INVOICES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
CUSTOMERS = 500
BATCH = MAX_BATCH_ENTRIES  # the ledger posts at most this many entries per call
START = datetime.date(2023, 1, 1)
END = datetime.date(2025, 12, 31)
CENT = Decimal("0.01")


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


def bench_user(name: str) -> User:
    return User.objects.filter(username=name).first() or user_create(
        username=name, email=f"{name}@example.com", password=None
    )


# --------------------------------------------------------------------------- 1. issuing


def five_lines(books: dict, n: int) -> list[dict]:
    return [
        {"item": books["consulting"], "quantity": str(1 + n % 7), "discount": "10"},
        {"item": books["widget"], "quantity": str(3 + n % 11)},
        {
            "description": "Delivery",
            "quantity": "1",
            "unit_price": "25.00",
            "tax_rate": books["standard"],
            "account": "4000",
        },
        {"item": books["widget"], "description": "Spare parts", "quantity": "2.5", "unit_price": "8.40"},
        {
            "description": "Handbook",
            "quantity": "1",
            "unit_price": "19.99",
            "tax_rate": None,
            "account": "4000",
        },
    ]


def issue_bench() -> bool:
    user = bench_user("sales-bench")
    company = company_create(
        name=f"Sales issue bench {time.time():.0f}",
        currency="USD",
        created_by=user,
        chart_template="small_business",
    )
    standard = services.tax_rate_create(company=company, name="VAT 20%", rate="20", by=None)
    reduced = services.tax_rate_create(company=company, name="VAT 5%", rate="5", by=None)
    books = {
        "standard": standard.pk,
        "consulting": services.item_create(
            company=company,
            name="Consulting",
            unit_price="150.00",
            revenue_account="4100",
            tax_rate=standard,
            by=None,
        ).pk,
        "widget": services.item_create(
            company=company,
            name="Widget",
            unit_price="12.35",
            revenue_account="4000",
            tax_rate=reduced,
            by=None,
        ).pk,
    }
    customers = [services.customer_create(company=company, name=f"Customer {n}", by=None) for n in range(20)]
    date = datetime.date(2026, 3, 2)

    samples = []
    started = time.perf_counter()
    for n in range(ISSUES):
        one = time.perf_counter()
        services.invoice_create(
            company=company,
            customer=customers[n % 20],
            date=date,
            lines=five_lines(books, n),
            by=user,
            issue=True,
        )
        samples.append((time.perf_counter() - one) * 1000)
    elapsed = time.perf_counter() - started
    samples.sort()
    print(
        f"issue 5-line invoice (service): {ISSUES} in {elapsed:.2f} s -> {ISSUES / elapsed:.0f} invoices/s; "
        f"median {statistics.median(samples):.2f} ms, p95 {samples[int(len(samples) * 0.95) - 1]:.2f} ms"
    )

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token_pair(user_id=user.pk)['access']}")
    url = f"/api/v1/companies/{company.pk}/invoices"
    samples = []
    started = time.perf_counter()
    for n in range(ISSUES):
        body = {
            "customer": customers[n % 20].pk,
            "date": date.isoformat(),
            "issue": True,
            "lines": five_lines(books, n),
        }
        one = time.perf_counter()
        response = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        samples.append((time.perf_counter() - one) * 1000)
        if response.status_code != 201:
            print(f"POST failed: {response.status_code} {response.content[:300]!r}")
            return False
    elapsed = time.perf_counter() - started
    samples.sort()
    print(
        f"issue 5-line invoice (HTTP POST, in-process client): {ISSUES} in {elapsed:.2f} s -> "
        f"{ISSUES / elapsed:.0f} invoices/s; median {statistics.median(samples):.2f} ms, "
        f"p95 {samples[int(len(samples) * 0.95) - 1]:.2f} ms"
    )
    issued = Invoice.objects.filter(company=company, status=InvoiceStatus.ISSUED)
    sequences = sorted(issued.values_list("sequence", flat=True))
    ok = sequences == list(range(1, 2 * ISSUES + 1))
    print(f"issued {issued.count()} invoices, numbers gapless: {ok}")
    return ok


# --------------------------------------------------------------------------- 2. 100,000 invoices


def _entry_ids(company: Company, first_number: str, count: int) -> list[int]:
    first = int(first_number.rsplit("-", 1)[1])
    return list(
        JournalEntry.objects.filter(company=company, sequence__gte=first, sequence__lt=first + count)
        .order_by("sequence")
        .values_list("pk", flat=True)
    )


def _issue_drafts(
    ids: list[int], numbers: list[str], sequences: list[int], entries: list[int], receivables: int
) -> None:
    """Drafts -> issued in one UPDATE (the invariant trigger checks each against its lines)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sales_invoice AS i SET status = 'issued', number = v.num, sequence = v.seq, "
            "journal_entry_id = v.je, receivables_account_id = %s, fx_rate = 1, subtotal_base = i.subtotal, "
            "tax_total_base = i.tax_total, total_base = i.total, balance_base = i.total, last_event_on = i.date, "
            "issued_at = now(), updated_at = now() "
            "FROM unnest(%s::bigint[], %s::varchar[], %s::bigint[], %s::bigint[]) AS v(id, num, seq, je) "
            "WHERE i.id = v.id",
            [receivables, ids, numbers, sequences, entries],
        )


def _settle(rows: list[tuple[int, Decimal, str, datetime.date | None, datetime.date]]) -> None:
    """Set amount_paid / status / settled_on of paid invoices in one UPDATE."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sales_invoice AS i SET amount_paid = v.paid, status = v.status, settled_on = v.settled, "
            "balance_base = i.total_base - v.paid, last_event_on = v.paid_on, updated_at = now() "
            "FROM unnest(%s::bigint[], %s::numeric[], %s::varchar[], %s::date[], %s::date[]) "
            "AS v(id, paid, status, settled, paid_on) WHERE i.id = v.id",
            [
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[3] for r in rows],
                [r[4] for r in rows],
            ],
        )


def load_batch(
    company: Company,
    customers: list[int],
    accounts: dict[str, Account],
    start: int,
    count: int,
    rng: random.Random,
) -> None:
    days = (END - START).days + 1
    specs = []
    for k in range(count):
        index = start + k
        date = START + datetime.timedelta(days=index * days // TARGET_INVOICES)
        net = Decimal(rng.randint(5_000, 800_000)) / 100
        tax = (net * Decimal("0.20")).quantize(CENT, ROUND_HALF_UP)
        fate = rng.random()
        paid = net + tax if fate < 0.82 else ((net + tax) / 2).quantize(CENT) if fate < 0.90 else None
        specs.append((date, customers[rng.randrange(len(customers))], net, tax, paid, rng.randint(3, 60)))
    with transaction.atomic():
        last = sequence_reserve(company_id=company.pk, series=INVOICE_SERIES, count=count)
        sequences = list(range(last - count + 1, last + 1))
        numbers = [
            document_number(series=INVOICE_SERIES, year=s[0].year, sequence=q)
            for s, q in zip(specs, sequences, strict=True)
        ]
        result = journal_entries_import(
            company=company,
            entries=[
                EntryInput(
                    date=s[0],
                    description="Invoice",
                    reference=number,
                    lines=[
                        {"account": "1100", "debit": s[2] + s[3]},
                        {"account": "4000", "credit": s[2]},
                        {"account": "2200", "credit": s[3]},
                    ],
                )
                for s, number in zip(specs, numbers, strict=True)
            ],
            by=None,
            source=EntrySource.SALES,
        )
        entries = _entry_ids(company, result.first_number, count)
        drafts = Invoice.objects.bulk_create(
            [
                Invoice(
                    company=company,
                    customer_id=s[1],
                    date=s[0],
                    due_date=s[0] + datetime.timedelta(days=30),
                    currency="USD",
                    subtotal=s[2],
                    tax_total=s[3],
                    total=s[2] + s[3],
                )
                for s in specs
            ],
            batch_size=BATCH,
        )
        InvoiceLine.objects.bulk_create(
            [
                InvoiceLine(
                    company=company,
                    invoice=invoice,
                    line_no=1,
                    description="Goods",
                    quantity=1,
                    unit_price=s[2],
                    tax_rate_id=accounts["rate"],
                    tax_percent=20,
                    account=accounts["4000"],
                    net=s[2],
                    tax=s[3],
                    total=s[2] + s[3],
                )
                for invoice, s in zip(drafts, specs, strict=True)
            ],
            batch_size=BATCH,
        )
        ids = [d.pk for d in drafts]
        _issue_drafts(ids, numbers, sequences, entries, accounts["1100"].pk)

        paid = [(invoice_id, s) for invoice_id, s in zip(ids, specs, strict=True) if s[4] is not None]
        if not paid:
            return
        pay_last = sequence_reserve(company_id=company.pk, series=PAYMENT_SERIES, count=len(paid))
        pay_sequences = list(range(pay_last - len(paid) + 1, pay_last + 1))
        pay_dates = [s[0] + datetime.timedelta(days=s[5]) for _, s in paid]
        pay_numbers = [
            document_number(series=PAYMENT_SERIES, year=d.year, sequence=q)
            for d, q in zip(pay_dates, pay_sequences, strict=True)
        ]
        result = journal_entries_import(
            company=company,
            entries=[
                EntryInput(
                    date=date,
                    description="Payment",
                    reference=number,
                    lines=[{"account": "1010", "debit": s[4]}, {"account": "1100", "credit": s[4]}],
                )
                for (_, s), date, number in zip(paid, pay_dates, pay_numbers, strict=True)
            ],
            by=None,
            source=EntrySource.PAYMENT,
        )
        pay_entries = _entry_ids(company, result.first_number, len(paid))
        payments = Payment.objects.bulk_create(
            [
                Payment(
                    company=company,
                    customer_id=s[1],
                    number=number,
                    sequence=sequence,
                    date=date,
                    amount=s[4],
                    currency="USD",
                    fx_rate=1,
                    amount_base=s[4],
                    account=accounts["1010"],
                    receivables_account=accounts["1100"],
                    amount_allocated=s[4],
                    exhausted_on=date,
                    unallocated_base=0,
                    last_event_on=date,
                    journal_entry_id=entry,
                )
                for (_, s), date, number, sequence, entry in zip(
                    paid, pay_dates, pay_numbers, pay_sequences, pay_entries, strict=True
                )
            ],
            batch_size=BATCH,
        )
        Allocation.objects.bulk_create(
            [
                Allocation(
                    company=company,
                    payment=payment,
                    invoice_id=invoice_id,
                    date=payment.date,
                    amount=s[4],
                    invoice_base=s[4],
                    payment_base=s[4],
                )
                for payment, (invoice_id, s) in zip(payments, paid, strict=True)
            ],
            batch_size=BATCH,
        )
        _settle(
            [
                (
                    invoice_id,
                    s[4],
                    InvoiceStatus.PAID if s[4] == s[2] + s[3] else InvoiceStatus.PARTIALLY_PAID,
                    payment.date if s[4] == s[2] + s[3] else None,
                    payment.date,
                )
                for payment, (invoice_id, s) in zip(payments, paid, strict=True)
            ]
        )


LOADED_TABLES = [
    "sales_invoice", "sales_invoiceline", "sales_payment", "sales_allocation", "sales_creditnote",
    "sales_dailysalessummary", "ledger_journalentry", "ledger_journalline", "ledger_dailybalance",
    "ledger_monthlybalance",
]  # fmt: skip
# Batches between two ANALYZEs of what the load fills, as autovacuum would run them (it is off
# here): without them the planner sees the tables as they were when last analyzed, possibly
# empty, and the plans this connection caches then (the foreign-key checks' among them, one per
# inserted row at COMMIT) read whole tables: measured, 10,000 invoices loaded in 47 s, the fourth
# 10,000 in 215 s.
ANALYZE_EVERY = 5


def vacuum_analyze(*, vacuum: bool = True) -> None:
    """Autovacuum may be off: drop the dead row versions the bulk updates left and refresh the
    planner's statistics of what the load filled (outside any transaction)."""
    with connection.cursor() as cursor:
        for table in LOADED_TABLES:
            cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {table}")


def aging_company() -> tuple[Company, User]:
    user = bench_user("sales-aging-bench")
    name = f"Sales aging bench ({TARGET_INVOICES} invoices)"
    company = Company.objects.filter(name=name).order_by("pk").first()
    if company is None:
        company = company_create(name=name, currency="USD", created_by=user, chart_template="small_business")
        rate = services.tax_rate_create(company=company, name="VAT 20%", rate="20", by=None)
        for n in range(CUSTOMERS):
            services.customer_create(company=company, name=f"Customer {n:03d}", by=None)
    else:
        rate = company.tax_rates.get(name="VAT 20%")
    customers = list(Customer.objects.filter(company=company).order_by("pk").values_list("pk", flat=True))
    accounts = {code: Account.objects.get(company=company, code=code) for code in ("1010", "1100", "4000")}
    accounts["rate"] = rate.pk
    have = Invoice.objects.filter(company=company).count()
    if have < TARGET_INVOICES:
        rng = random.Random(have + 1)
        started = time.perf_counter()
        for start in range(have, TARGET_INVOICES, BATCH):
            load_batch(company, customers, accounts, start, min(BATCH, TARGET_INVOICES - start), rng)
            if (start // BATCH) % ANALYZE_EVERY == 0:
                vacuum_analyze(vacuum=False)
            if (start // BATCH) % 10 == 0:
                print(
                    f"  loaded {start + BATCH} invoices ({time.perf_counter() - started:.0f} s)", flush=True
                )
        services.sales_summary_rebuild(
            company=company, date_from=START, date_to=END + datetime.timedelta(days=90)
        )
        vacuum_analyze()
        print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
    return company, user


def aging_bench() -> bool:
    company, user = aging_company()
    ok = True
    print(
        f"aging company: {Invoice.objects.filter(company=company).count()} invoices, "
        f"{Payment.objects.filter(company=company).count()} payments, "
        f"{Allocation.objects.filter(company=company).count()} allocations, "
        f"{Customer.objects.filter(company=company).count()} customers, "
        f"{JournalEntry.objects.filter(company=company).count()} journal entries, "
        f"{JournalLine.objects.filter(company=company).count()} lines"
    )
    if not company.memberships.filter(user=user).exists():
        membership_add(company=company, user=user, role=Role.VIEWER, by=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token_pair(user_id=user.pk)['access']}")
    receivables = Account.objects.get(company=company, code="1100")
    for as_of in (END, datetime.date(2024, 6, 30), datetime.date(2023, 3, 31)):
        open_count = invoices_open_on(company=company, as_of=as_of).count()
        report = ar_aging(company=company, as_of=as_of)
        balance = account_totals(company_id=company.pk, end=as_of)[receivables.pk].balance
        agrees = report.totals.total == balance
        ok &= agrees
        median, p95 = timed(lambda as_of=as_of: ar_aging(company=company, as_of=as_of))
        print(
            f"AR aging as of {as_of} (selector): median {median:7.2f} ms, p95 {p95:7.2f} ms "
            f"[{open_count} invoices open then, {len(report.rows)} customers; total {report.totals.total} "
            f"{'=' if agrees else '!='} receivables {balance}]"
        )
        url = f"/api/v1/companies/{company.pk}/reports/ar-aging?as_of={as_of}"
        median, p95 = timed(lambda url=url: client.get(url))
        print(f"AR aging as of {as_of} (API):      median {median:7.2f} ms, p95 {p95:7.2f} ms")
    return ok


def main() -> int:
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; cores: {os.cpu_count()}; "
        f"now {timezone.now():%Y-%m-%d %H:%M}"
    )
    ok = issue_bench()
    ok &= aging_bench()
    print("All sales checks passed." if ok else "A sales check FAILED.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
