"""`make faults`: nothing acknowledged is lost when a process or a server dies under load.

    .venv/bin/python bench/faults.py    (FAULTS_CLIENTS, default 4; FAULTS_SCENARIOS, default 1,2,3,4,5;
                                         FAULTS_KEEP=1 keeps the folder and its logs)

The harness, in five parts:
1. cluster: a PRIVATE PostgreSQL cluster (initdb in a temporary folder, a free port) and a private
   redis-server (bench/clusters.py); the machine's shared servers are never touched. The schema is
   migrated as the owner role `sofinance`; the app connects as `sofinance_app`, made by
   `manage.py db_app_role` (as docker-compose does).
2. server: gunicorn (gunicorn.conf.py, GunicornServer of bench/http_load.py, 3 sync workers,
   production settings) and a Celery worker (solo pool) against them.
3. load: FAULTS_CLIENTS client threads posting single journal entries, every fifth write an
   invoice created issued and every eighth a bulk post of 5, each write with its own
   Idempotency-Key and a unique reference per entry or invoice. A client retries
   a 503 (after its Retry-After, at most 1 s) or a lost connection with the same key until the
   write is acknowledged. Every attempt and its answer is recorded (bench/fault_checks.py).
4. faults, one scenario each, under that load:
   1. kill -9 a gunicorn worker (the master starts another);
   2. restart PostgreSQL (pg_ctl restart -m fast);
   3. stop Redis (SHUTDOWN) and start it again 3 s later;
   4. kill -9 the Celery worker while it writes an XLSX export of ~13,000 journal lines, then start
      a new one: the export is redelivered and completes once (one file, one `export_done`);
   5. kill -9 the Celery worker in the middle of an integrity run over books with a planted
      damage (a stored monthly balance off by 1.00), then start a new one: the run completes (or
      fails and a re-run completes) and each finding is one discrepancy. To land the kill in the
      middle deterministically, the harness holds the company's audit chain head (a row lock)
      while the run is in it: the run has read its checks and not yet recorded anything.
5. checks, after each scenario: every answer was a 2xx that said what was asked, a 503
   `service_unavailable` with Retry-After, or a lost connection (never a 500, a wrong success, or
   a 503 saying nothing was changed for a write that was done); every write was acknowledged in
   the end (the app recovered without a restart); every acknowledged entry or invoice is in the
   books exactly once under the id it was answered with, nothing unacknowledged is there twice, no
   bulk post in part; then bench/books.py: entries balance, Σdebit = Σcredit, stored balances
   equal a rebuild, numbering gapless, audit chains verify; and the Celery worker is still running
   and working (it seals what the load wrote).

Prints a line per scenario (requests, 2xx, 503, connection errors, other, recovery time: from the
end of the fault to the first acknowledged request sent after it) and every violated property;
exits 1 on any. Everything it started is stopped and its folder removed, even on failure.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("JWT_SECRET", "faults:" + "f" * 48)
os.environ.setdefault("SECRET_KEY", "faults-only-" + "k" * 48)

from bench.clusters import PostgresCluster, RedisServer, private_folder
from bench.fault_checks import (
    ENTRY,
    INVOICE,
    Attempt,
    Summary,
    Write,
    answer_check,
    answer_problems,
    stored_problems,
    stored_records,
)
from bench.http_load import GunicornServer, exchange

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("FAULTS_CLIENTS", "4"))
SCENARIOS = [int(n) for n in os.environ.get("FAULTS_SCENARIOS", "1,2,3,4,5").split(",") if n]
OWNER, APP_ROLE, DATABASE = "sofinance", "sofinance_app", "sofinance"
EXPENSES = ["6100", "6200", "6300", "6400", "6500", "6700"]
BULK_EVERY, BULK_SIZE, INVOICE_EVERY = 8, 5, 5
GIVE_UP_SECONDS = 90  # a write not acknowledged by then: the app did not recover
WARM_WRITES = 10
# A task a killed worker took stays unacknowledged in Redis; a worker hands it out again once it is
# older than the visibility timeout, when it starts or on its sweep (every ~100 s with kombu's
# defaults). The harness starts the new worker past the timeout, as jobs/tests/test_workers.py does.
VISIBILITY_TIMEOUT = 5
EXPORT_ENTRIES = 5000
# Settings that would reach servers outside the private ones (a replica, a bucket, telemetry).
OUTSIDE = (
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "SENTRY_DSN",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(every)


# --------------------------------------------------------------------------- 2. server and worker


class CeleryWorker:
    """The suite's worker (sofinance/tests/celery_workers.py: solo pool, a session of its own, so
    kill -9 takes it all) on the default queue, with the server's environment."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.running = ExitStack()
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        from sofinance.tests.celery_workers import celery_worker

        before = self.log.read_text().count("ready.") if self.log.exists() else 0
        self.process = self.running.enter_context(celery_worker("celery", self.log, **self.env))
        wait_until(
            lambda: self.log.read_text().count("ready.") > before or self.process.poll() is not None,
            timeout=90,
            what="the Celery worker's start",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited:\n{self.log.read_text()[-3000:]}")
        return self

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.running.close()

    def replace(self) -> CeleryWorker:
        """kill -9, then a new worker once the killed one's tasks are past the visibility timeout."""
        self.kill()
        time.sleep(VISIBILITY_TIMEOUT + 1)
        return CeleryWorker(self.env, self.log).start()

    def stop(self) -> None:
        self.running.close()  # SIGTERM, SIGKILL after 15 s


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


# --------------------------------------------------------------------------- 3. load


class PostingLoad:
    """Client threads writing until stopped (entries; every BULK_EVERY-th write a bulk post, every
    INVOICE_EVERY-th an invoice created issued); each write retried until acknowledged."""

    def __init__(self, port: int, company_id: int, customer_id: int, token: str, scenario: int) -> None:
        self.port, self.scenario, self.customer_id = port, scenario, customer_id
        self.base = f"/api/v1/companies/{company_id}"
        self.auth = {"Authorization": f"Bearer {token}"}
        self.writes: list[Write] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)]

    def __enter__(self) -> PostingLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=GIVE_UP_SECONDS + 30)

    def acknowledged_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for w in self.writes for a in w.attempts if a.ok and a.began >= moment)

    def _client(self, n: int) -> None:
        rng = random.Random(self.scenario * 1000 + n)
        count = 0
        while not self.stopping.is_set():
            count += 1
            if count % INVOICE_EVERY == 0:
                write = self._invoice(rng)
            else:
                write = self._entries(rng, size=BULK_SIZE if count % BULK_EVERY == 0 else 1)
            with self.lock:
                self.writes.append(write)
            self._send(write)

    def _start(self, rng: random.Random, *, kind: str, path: str, size: int) -> tuple[Write, str]:
        key = str(uuid.uuid4())
        references = tuple(f"{kind[0].upper()}{self.scenario}-{key[:23]}-{i}" for i in range(size))
        amounts = tuple(Decimal(rng.randint(100, 500_000)) / 100 for _ in range(size))
        date = f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"
        return Write(key=key, kind=kind, path=path, references=references, amounts=amounts), date

    def _entries(self, rng: random.Random, *, size: int) -> Write:
        path = f"{self.base}/journal-entries" + ("/bulk" if size > 1 else "")
        write, date = self._start(rng, kind=ENTRY, path=path, size=size)
        entries = [
            {
                "date": date,
                "description": "Fault test",
                "reference": reference,
                "post": True,
                "lines": [
                    {"account": rng.choice(EXPENSES), "debit": str(amount)},
                    {"account": "1010", "credit": str(amount)},
                ],
            }
            for reference, amount in zip(write.references, write.amounts, strict=True)
        ]
        write.body = {"entries": entries} if size > 1 else entries[0]
        return write

    def _invoice(self, rng: random.Random) -> Write:
        write, date = self._start(rng, kind=INVOICE, path=f"{self.base}/invoices", size=1)
        write.body = {
            "customer": self.customer_id,
            "date": date,
            "reference": write.references[0],
            "issue": True,
            "lines": [
                {
                    "description": "Fault test",
                    "quantity": "1",
                    "unit_price": str(write.amounts[0]),
                    "account": "4000",
                }
            ],
        }
        return write

    def _send(self, write: Write) -> None:
        headers = {**self.auth, "Idempotency-Key": write.key}
        while True:
            began = time.monotonic()
            try:
                status, answer_headers, body = exchange(
                    "POST", self.port, write.path, write.body, headers, timeout=60
                )
            except (OSError, http.client.HTTPException, ValueError) as exc:  # lost, or not an answer
                attempt = Attempt(began=began, seconds=time.monotonic() - began, status=None, error=repr(exc))
            else:
                attempt = Attempt(began=began, seconds=time.monotonic() - began, status=status)
                if 200 <= status < 300:
                    attempt.ids, attempt.wrong = answer_check(body, write)
                    attempt.replayed = answer_headers.get("Idempotent-Replayed") == "true"
                else:
                    error = body.get("error") if isinstance(body, dict) else None
                    attempt.code = error.get("code", "") if isinstance(error, dict) else ""
                    details = error.get("details") if isinstance(error, dict) else None
                    attempt.reason = details.get("reason", "") if isinstance(details, dict) else ""
                    attempt.retry_after = answer_headers.get("Retry-After")
            with self.lock:
                write.attempts.append(attempt)
            if attempt.ok or (attempt.status is not None and attempt.status != 503):
                return
            if time.monotonic() - write.attempts[0].began > GIVE_UP_SECONDS:
                return
            wait = attempt.retry_after or "0.2"
            time.sleep(min(float(wait) if wait.replace(".", "", 1).isdigit() else 1.0, 1.0))


# --------------------------------------------------------------------------- 1. cluster, then Django


def private_stack(folder: Path) -> tuple[PostgresCluster, RedisServer]:
    cluster = PostgresCluster(folder, "pg")
    cluster.init("fsync = off\nmax_connections = 100\n")
    cluster.start()
    cluster.sql(f"CREATE ROLE {OWNER} LOGIN CREATEROLE")  # it makes the app role
    cluster.sql(f"CREATE DATABASE {DATABASE} OWNER {OWNER}")
    redis = RedisServer(folder / "redis")
    redis.start()
    return cluster, redis


def django_setup(cluster: PostgresCluster, redis: RedisServer, media: Path) -> None:
    """Django in this process, as the owner: migrate, then the app role (bench/bootstrap.py).
    Nothing the environment names outside the private servers is used (gunicorn and the worker
    inherit this environment)."""
    for name in OUTSIDE:
        os.environ.pop(name, None)
    os.environ.update(
        BENCH_DATABASE_URL=cluster.url(OWNER, DATABASE),
        REDIS_URL=redis.url(0),
        CELERY_BROKER_URL=redis.url(1),
        MEDIA_ROOT=str(media),
        SOFINANCE_ENV_FILE="",
        LOG_LEVEL="ERROR",
    )
    from bench.bootstrap import setup

    setup()
    from django.core.management import call_command

    call_command("db_app_role", role=APP_ROLE, verbosity=0)


# --------------------------------------------------------------------------- 4. the scenarios


class Harness:
    def __init__(self, folder: Path, cluster: PostgresCluster, redis: RedisServer) -> None:
        self.folder, self.cluster, self.redis = folder, cluster, redis
        self.summaries: list[Summary] = []
        self.failures: list[str] = []

    def prepare(self) -> None:
        from django.core.management import call_command
        from django.db import connection

        from accounts.services import company_create, user_create
        from sales.services import customer_create
        from sofinance.api.jwt import issue_token_pair

        user = user_create(username="faults", email="faults@example.com", password=None)
        self.company = company_create(
            name="Posting under faults", currency="USD", created_by=user, chart_template="small_business"
        )
        self.books = company_create(name="Jobs under faults", currency="USD", created_by=user)
        call_command(
            "generate_ledger", company=self.books.pk, entries=EXPORT_ENTRIES, start="2025-01-01", months=12,
            verbosity=0,
        )  # fmt: skip
        self.customer = customer_create(company=self.company, name="Fault test customer", by=None)
        self.token = issue_token_pair(user_id=user.pk)["access"]
        connection.close()

    def start_servers(self, stack: ExitStack) -> None:
        private = {
            "REDIS_URL": self.redis.url(0),
            "CELERY_BROKER_URL": self.redis.url(1),
            "MEDIA_ROOT": os.environ["MEDIA_ROOT"],
            "SOFINANCE_ENV_FILE": "",
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "LOG_JSON": "0",
        }
        self.server = stack.enter_context(
            GunicornServer(
                database_url=self.cluster.url(APP_ROLE, DATABASE),
                workers=3,
                log_path=self.folder / "gunicorn.log",
                extra_env=private,
            )
        )
        # the worker runs with the server's settings (production, the app role)
        same = (
            "DJANGO_SETTINGS_MODULE",
            "DEBUG",
            "SECRET_KEY",
            "JWT_SECRET",
            "DATABASE_URL",
            "ALLOWED_HOSTS",
        )
        worker_env = {**{name: self.server.env[name] for name in same}, **private, "LOG_LEVEL": "INFO"}
        self.worker = CeleryWorker(worker_env, self.folder / "worker.log").start()
        stack.callback(lambda: self.worker.stop())

    # ------------------------------------------------------------------ one scenario

    def scenario(self, number: int, name: str, fault: Callable[[], list[str]]) -> None:
        print(f"\n{number}. {name}", flush=True)
        problems: list[str] = []
        master = self.server.process.pid
        with PostingLoad(self.server.port, self.company.pk, self.customer.pk, self.token, number) as load:
            try:
                began = time.monotonic()
                wait_until(lambda: load.acknowledged_since(began) >= WARM_WRITES, timeout=60, what="the load")
                problems += fault()
                ended = time.monotonic()
                wait_until(
                    lambda: load.acknowledged_since(ended) >= WARM_WRITES,
                    timeout=GIVE_UP_SECONDS,
                    what="recovery (acknowledged writes after the fault)",
                )
            except TimeoutError as exc:
                problems.append(str(exc))
                ended = time.monotonic()
        if self.server.process.poll() is not None or self.server.process.pid != master:
            problems.append("gunicorn's master is gone: the app needed a restart")
        summary = Summary.of(name, load.writes, ended)
        self.summaries.append(summary)
        problems += answer_problems(load.writes)
        problems += self.worker_problems()
        problems += self.books_problems(load.writes)
        print(
            f"   {summary.writes} writes, {summary.requests} requests: {summary.acknowledged} 2xx, "
            f"{summary.unavailable} 503, {summary.connection_errors} connection errors, {summary.other} other; "
            f"{summary.replayed} replayed; "
            f"recovered in {summary.recovery_seconds if summary.recovery_seconds is not None else '-'} s"
            + (
                f" (503: {', '.join(f'{r} {n}' for r, n in sorted(summary.reasons.items()))})"
                if summary.reasons
                else ""
            ),
            flush=True,
        )
        for problem in problems[:20]:
            print(f"   VIOLATED: {problem}", flush=True)
        self.failures += [f"{number}. {name}: {p}" for p in problems]

    def books_problems(self, writes: list[Write]) -> list[str]:
        from django.db import connection

        from bench.books import books_problems

        try:
            problems = stored_problems(writes, stored_records(self.company.pk, writes))
            for company in (self.company, self.books):
                problems += [f"company {company.pk}: {p}" for p in books_problems(company.pk)]
            return problems
        finally:
            connection.close()

    def worker_problems(self) -> list[str]:
        """The Celery worker is still there and still working: it seals the audit events the
        load wrote (each commit queues a seal of its chain)."""
        from django.db import connection

        from audit.models import AuditPendingSeal

        if self.worker.process.poll() is not None:
            return [f"the Celery worker exited ({self.worker.process.returncode}): it needed a restart"]
        try:
            wait_until(
                lambda: not AuditPendingSeal.objects.exists(),
                timeout=60,
                what="the worker sealing",
                every=0.5,
            )
        except TimeoutError:
            return ["the Celery worker did not seal the audit events within 60 s: it stopped working"]
        finally:
            connection.close()
        return []

    # ------------------------------------------------------------------ the faults

    def kill_gunicorn_worker(self) -> list[str]:
        master = self.server.process.pid
        workers = children(master)
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: len(children(master)) == len(workers) and victim not in children(master),
            timeout=60,
            what="gunicorn's replacement worker",
        )
        return []

    def restart_postgres(self) -> list[str]:
        self.cluster.restart("fast")
        return []

    def restart_redis(self) -> list[str]:
        self.redis.stop()
        time.sleep(3)
        self.redis.start()
        return []

    def kill_worker_mid_export(self) -> list[str]:
        from django.core.files.storage import storages
        from django.db import connection
        from openpyxl import load_workbook

        from audit.models import AuditEvent
        from jobs.models import ExportJob
        from jobs.services import export_request
        from ledger.models import JournalLine

        lines = JournalLine.objects.filter(company=self.books, entry_sequence__isnull=False).count()
        job = export_request(company=self.books, by=None, kind="journal_lines", fmt="xlsx")
        connection.close()
        wait_until(
            lambda: ExportJob.objects.filter(pk=job.pk, status="running", row_count__gt=0).exists(),
            timeout=90,
            what="the export starting",
            every=0.02,
        )
        self.worker.kill()
        killed = ExportJob.objects.get(pk=job.pk)
        problems = []
        if killed.status != "running" or killed.row_count >= lines:
            problems.append(f"the export was {killed.status} with {killed.row_count} rows when killed")
        self.worker = self.worker.replace()
        started = time.monotonic()
        done = wait_until(
            lambda: ExportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).first(),
            timeout=180,
            what="the redelivered export",
            every=0.5,
        )
        print(f"   export {job.pk} {done.status} {time.monotonic() - started:.1f} s after the new worker started,"
              f" attempt {done.attempts}, {done.row_count} rows")  # fmt: skip
        storage = storages["default"]
        folder = f"exports/{job.company_id}/{job.pk}"
        files = sorted(storage.listdir(folder)[1]) if storage.exists(folder) else []
        if done.status != "done" or done.attempts < 2:
            problems.append(
                f"the export ended {done.status} after {done.attempts} attempts: {done.error[:200]}"
            )
        elif files != [done.file_name.rsplit("/", 1)[-1]] or done.row_count != lines:
            problems.append(f"the export left files {files} with {done.row_count} of {lines} rows")
        else:
            with storage.open(done.file_name, "rb") as handle:
                rows = sum(1 for _ in load_workbook(handle, read_only=True).active.iter_rows())
            if rows != lines + 1:
                problems.append(f"the export's file has {rows - 1} rows, not {lines}")
        finished = AuditEvent.objects.filter(action="export_done", object_id=str(job.pk)).count()
        if finished != 1:
            problems.append(f"the export recorded export_done {finished} times")
        connection.close()
        return problems

    def kill_worker_mid_integrity_run(self) -> list[str]:
        import psycopg
        from django.db import connection

        from audit.models import AuditEvent, AuditPendingSeal, chain_key
        from jobs.models import Discrepancy, IntegrityRun
        from jobs.services import integrity_run_request
        from jobs.tasks import integrity_run

        chain = chain_key(self.books.pk)
        # The planted damage the run must find (and record once): a monthly bucket off by 1.00.
        self.cluster.sql(
            "SET session_replication_role = replica; UPDATE ledger_monthlybalance SET debit = debit + 1"
            f" WHERE id = (SELECT MIN(id) FROM ledger_monthlybalance WHERE company_id = {self.books.pk})",
            DATABASE,
        )
        run = integrity_run_request(company=self.books, by=None, enqueue=False)
        # the request's own audit event sealed first (by the worker), so no seal waits on the lock below
        wait_until(
            lambda: not AuditPendingSeal.objects.filter(chain=chain).exists(), timeout=60, what="sealing"
        )
        time.sleep(2)
        connection.close()
        with (
            psycopg.connect(self.cluster.url(OWNER, DATABASE)) as holder,
            psycopg.connect(self.cluster.url("postgres", DATABASE), autocommit=True) as observer,
        ):
            # the run's last step verifies the company's audit chain under its head lock: held here
            holder.execute("SELECT 1 FROM audit_auditchainhead WHERE chain = %s FOR UPDATE", [chain])
            integrity_run.delay(run_id=run.pk)
            wait_until(
                lambda: observer.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE usename = %s AND wait_event_type = 'Lock'"
                    " AND query LIKE %s",
                    [APP_ROLE, "%audit_auditchainhead%"],
                ).fetchone(),
                timeout=90,
                what="the integrity run reaching its audit step",
                every=0.05,
            )
            status = IntegrityRun.objects.get(pk=run.pk).status
            connection.close()
            self.worker.kill()
            holder.rollback()
        problems = [] if status == "running" else [f"the run was {status} when killed"]
        self.worker = self.worker.replace()
        finished = wait_until(
            lambda: IntegrityRun.objects.filter(pk=run.pk, status__in=["done", "failed"]).first(),
            timeout=180,
            what="the redelivered integrity run",
            every=0.5,
        )
        if finished.status == "failed":  # allowed: then a re-run must complete
            print(f"   run {run.pk} failed ({finished.error[:100]}); running it again")
            again = integrity_run_request(company=self.books, by=None)
            finished = wait_until(
                lambda: IntegrityRun.objects.filter(pk=again.pk, status__in=["done", "failed"]).first(),
                timeout=180,
                what="the re-run",
                every=0.5,
            )
        check = integrity_run_request(company=self.books, by=None)  # a second opinion, after the first
        second = wait_until(
            lambda: IntegrityRun.objects.filter(pk=check.pk, status__in=["done", "failed"]).first(),
            timeout=180,
            what="the checking run",
            every=0.5,
        )
        stored = Discrepancy.objects.filter(company=self.books).count()
        flags = AuditEvent.objects.filter(company_id=self.books.pk, action="flag").count()
        print(f"   run {finished.pk} {finished.status}, attempt {finished.attempts}: "
              f"{finished.discrepancy_count} discrepancies; a second run found {second.discrepancy_count}, "
              f"{second.new_discrepancy_count} new")  # fmt: skip
        if finished.status != "done" or finished.discrepancy_count == 0:
            problems.append(
                f"the run ended {finished.status} with {finished.discrepancy_count} discrepancies"
            )
        if (second.status, second.new_discrepancy_count, second.discrepancy_count) != (
            "done", 0, finished.discrepancy_count
        ):  # fmt: skip
            problems.append("a second run found other discrepancies than the killed run recorded")
        if stored != finished.discrepancy_count or flags != stored:
            problems.append(
                f"{stored} discrepancies stored, {flags} flagged, for {finished.discrepancy_count} found"
            )
        # the planted damage is repaired so the books check that follows holds for this company too
        from ledger.services import balances_rebuild

        balances_rebuild(company_id=self.books.pk, apply=True)
        connection.close()
        return problems


def main() -> int:
    began = time.perf_counter()
    folder = private_folder("sofinance-faults-")
    print(f"fault tests: private PostgreSQL and Redis in {folder}, {CLIENTS} posting clients", flush=True)
    with ExitStack() as stack:
        if os.environ.get("FAULTS_KEEP") != "1":
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
        cluster, redis = private_stack(folder)
        stack.callback(cluster.stop)
        stack.callback(redis.stop)
        django_setup(cluster, redis, folder / "media")
        harness = Harness(folder, cluster, redis)
        harness.prepare()
        harness.start_servers(stack)
        print(
            f"ready in {time.perf_counter() - began:.0f} s: {os.cpu_count()} cores, PostgreSQL "
            f"{cluster.sql('SHOW server_version')}, gunicorn 3 sync workers, a Celery worker"
        )
        scenarios = {
            1: ("kill -9 a gunicorn worker", harness.kill_gunicorn_worker),
            2: ("restart PostgreSQL (pg_ctl restart -m fast)", harness.restart_postgres),
            3: ("stop Redis, start it 3 s later", harness.restart_redis),
            4: ("kill -9 the Celery worker mid-export", harness.kill_worker_mid_export),
            5: ("kill -9 the Celery worker mid-reconciliation", harness.kill_worker_mid_integrity_run),
        }
        for number in SCENARIOS:
            harness.scenario(number, *scenarios[number])
    total = time.perf_counter() - began
    if harness.failures:
        print(f"\nFAILED in {total:.0f} s: {len(harness.failures)} violations")
        return 1
    print(f"\nall properties held in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
