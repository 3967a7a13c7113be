"""How long does verifying an audit chain of 100,000 events take?

Creates (once) a bench company whose chain holds BENCH_AUDIT_EVENTS events (default 100,000),
written in bulk exactly as `audit_record` writes them (signed, queued for sealing), seals them
with the real sealer, then times `verify_audit_chain(company_id=...)` a few times.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofinance_bench \
        .venv/bin/python bench/bench_audit_verify.py

Exit status 1 if the chain does not verify. Re-running reuses the events already there.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bootstrap import setup

setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Company, User  # noqa: E402
from accounts.services import company_create, user_create  # noqa: E402
from audit.models import AuditEvent, AuditPendingSeal, chain_key  # noqa: E402
from audit.services import audit_chain_seal, canonical_content, sign, verify_audit_chain  # noqa: E402

EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "100000"))
RUNS = int(os.environ.get("BENCH_AUDIT_RUNS", "3"))
BATCH = 5000
COMPANY_NAME = "Audit verification bench"


def bench_company() -> Company:
    company = Company.objects.filter(name=COMPANY_NAME).order_by("pk").first()
    if company is not None:
        return company
    user = User.objects.filter(username="audit-bench").first() or user_create(
        username="audit-bench", email="audit-bench@example.com", password=None
    )
    return company_create(name=COMPANY_NAME, currency="USD", created_by=user)


def bench_event(company_id: int, n: int) -> AuditEvent:
    event = AuditEvent(
        uid=uuid.uuid4(),
        created_at=timezone.now(),
        company_id=company_id,
        actor_type="user",
        actor_id=1,
        actor_repr="audit-bench",
        action="update",
        object_type="ledger.journalentry",
        object_id=str(n),
        object_repr=f"JE-2026-{n:06d}",
        changes={
            "status": {"before": "draft", "after": "posted"},
            "total_debit": {"before": "0.00", "after": f"{n % 9973}.{n % 100:02d}"},
        },
        metadata={"source": "bench", "lines": 2},
        request_id=uuid.uuid4().hex,
        ip="203.0.113.10",
        user_agent="bench/1.0",
    )
    event.signature = sign(canonical_content(event))
    return event


def fill(company_id: int) -> float:
    existing = AuditEvent.objects.filter(company_id=company_id).count()
    missing = EVENTS - existing
    if missing <= 0:
        return 0.0
    chain = chain_key(company_id)
    started = time.perf_counter()
    for offset in range(0, missing, BATCH):
        size = min(BATCH, missing - offset)
        with transaction.atomic():
            events = AuditEvent.objects.bulk_create(
                [bench_event(company_id, existing + offset + i) for i in range(size)]
            )
            AuditPendingSeal.objects.bulk_create([AuditPendingSeal(event=e, chain=chain) for e in events])
        print(f"  written {existing + offset + size:,} / {EVENTS:,}", end="\r", flush=True)
    print()
    return time.perf_counter() - started


def main() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"database: {connection.vendor}; cores available: {cores}; target: {EVENTS:,} events")
    company = bench_company()
    written = fill(company.pk)
    if written:
        print(f"wrote the missing events in {written:.1f} s")
    started = time.perf_counter()
    sealed = audit_chain_seal(chain=chain_key(company.pk))
    if sealed:
        print(f"sealed {sealed:,} events in {time.perf_counter() - started:.1f} s")
    timings, cpu_timings = [], []
    result = None
    for run in range(1, RUNS + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = verify_audit_chain(company_id=company.pk)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        timings.append(elapsed)
        cpu_timings.append(cpu)
        print(
            f"run {run}: verified {result.events_checked:,} events in {elapsed:.2f} s "
            f"({result.events_checked / elapsed:,.0f} events/s; this process's CPU {cpu:.2f} s), ok={result.ok}"
        )
    assert result is not None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"RESULT: verify_audit_chain over {result.events_checked:,} events: best {min(timings):.2f} s, "
        f"median {sorted(timings)[len(timings) // 2]:.2f} s wall clock (best CPU {min(cpu_timings):.2f} s) "
        f"on {cores} cores, load average {load:.1f} ({connection.vendor})"
    )
    if not result.ok:
        print(
            f"chain broken at event {result.broken_event_id}: {result.reason}: {result.detail}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
