"""Real Celery workers on the Redis broker (each on a queue of its own) running the jobs end to end:
an export and an integrity run started through the API, a worker killed mid-export (the job is
redelivered, retried and completed with exactly one file), and two runs of one company at once
(the second waits for the first; nothing is written twice)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.core.files.storage import storages
from django.core.management import call_command

from audit.models import AuditEvent
from jobs.models import Discrepancy, ExportJob, IntegrityRun
from jobs.services import export_request, integrity_run_request
from jobs.tests.factories import books, entry_line_of, sql
from ledger.models import EntryStatus, JournalEntry, JournalLine
from ledger.tests.factories import account
from sofinance.celery import app
from sofinance.locks import named_lock
from sofinance.models import Quarantine
from sofinance.permissions import Role
from sofinance.tests.celery_workers import celery_worker

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


worker = celery_worker


def wait_for(condition, *, timeout: float, log: Path, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen:\n{log.read_text()[-4000:]}"
        time.sleep(every)


@contextmanager
def tasks_through(queue: str) -> Iterator[None]:
    """Tasks this process sends go through the broker to `queue` (not eagerly in-process).

    The project's app is made the current one: the jobs' tasks are shared tasks, sent through
    whichever app is current, and a Celery app made by an earlier test of this process (a
    producer) became current and sent them to its own default queue, where no worker listened."""
    app.set_current()
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved


def files_of(job: ExportJob) -> list[str]:
    folder = f"exports/{job.company_id}/{job.pk}"
    storage = storages["default"]
    return sorted(storage.listdir(folder)[1]) if storage.exists(folder) else []


def test_an_export_and_an_integrity_run_started_through_the_api_run_on_a_real_worker(tmp_path, make_member):
    # given: books with a damaged invoice entry, and a worker on its own queue
    b = books()
    line = entry_line_of(b.invoice.journal_entry, "4100")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(b.company, "4000").pk, line.pk],
    )
    _, client = make_member(b.company, Role.CONTROLLER)
    queue, log = f"test-{uuid.uuid4().hex}", tmp_path / "worker.log"
    company = f"/api/v1/companies/{b.company.pk}"

    with worker(queue, log), tasks_through(queue):
        # when
        export = client.post(
            f"{company}/exports", {"kind": "trial_balance", "as_of": "2026-01-31"}, format="json"
        )
        run = client.post(f"{company}/integrity-runs", format="json")
        assert (export.status_code, run.status_code) == (202, 202)

        # then: the worker makes the file and runs the checks
        done = wait_for(
            lambda: (
                (data := client.get(f"{company}/exports/{export.json()['data']['id']}").json()["data"])[
                    "status"
                ]
                == "done"
                and data
            ),
            timeout=60,
            log=log,
            what="the export",
        )
        checked = wait_for(
            lambda: (
                (data := client.get(f"{company}/integrity-runs/{run.json()['data']['id']}").json()["data"])[
                    "status"
                ]
                == "done"
                and data
            ),
            timeout=60,
            log=log,
            what="the integrity run",
        )
    download = client.get(done["download_url"])
    report = client.get(f"{company}/reports/trial-balance?as_of=2026-01-31&format=csv")
    assert b"".join(download.streaming_content) == report.content
    assert checked["discrepancy_count"] == 6 and checked["proposed_count"] == 1
    assert "task:jobs.export_run" in AuditEvent.objects.filter(action="export_done").get().actor_repr
    text = log.read_text()
    assert "jobs.tasks.export_run" in text and "jobs.tasks.integrity_run" in text


def test_a_worker_killed_mid_export_leaves_the_job_to_be_retried_and_completed_with_one_file(tmp_path):
    # given: enough journal lines that an XLSX export takes a few seconds
    b = books()
    call_command(
        "generate_ledger", company=b.company.pk, entries=5000, start="2025-01-01", months=12, verbosity=0
    )
    lines = JournalLine.objects.filter(company=b.company, entry_sequence__isnull=False).count()
    job = export_request(company=b.company, by=None, kind="journal_lines", fmt="xlsx", enqueue=False)
    queue, log = f"test-{uuid.uuid4().hex}", tmp_path / "worker.log"
    producer = Celery("test-producer", broker=settings.REDIS_URL, set_as_current=False)

    # when: the first worker takes the task and is killed (SIGKILL) while it writes
    with worker(queue, log) as first:
        producer.send_task("jobs.tasks.export_run", kwargs={"export_id": job.pk}, queue=queue)
        wait_for(
            lambda: ExportJob.objects.filter(pk=job.pk, status="running", row_count__gt=0).exists(),
            timeout=60,
            log=log,
            what="the export starting",
            every=0.02,
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    killed = ExportJob.objects.get(pk=job.pk)
    assert (killed.status, killed.attempts) == ("running", 1)
    assert 0 < killed.progress < 100 and killed.row_count < lines
    assert files_of(killed) == []
    time.sleep(2.5)  # past the second worker's visibility timeout: the unacknowledged task is due again

    # then: a new worker is handed the unacknowledged task and completes the job, with one file
    with worker(queue, log, CELERY_VISIBILITY_TIMEOUT="2"):
        done = wait_for(
            lambda: ExportJob.objects.filter(pk=job.pk, status="done").first(),
            timeout=120,
            log=log,
            what="the retried export",
        )
    assert (done.attempts, done.row_count, done.progress) == (2, lines, 100)
    assert files_of(done) == [done.file_name.rsplit("/", 1)[-1]]
    from openpyxl import load_workbook

    with storages["default"].open(done.file_name, "rb") as handle:
        sheet = load_workbook(handle, read_only=True).active
        assert sum(1 for _ in sheet.iter_rows()) == lines + 1
    assert AuditEvent.objects.filter(action="export_done", object_id=str(job.pk)).count() == 1
    producer.close()


def test_two_concurrent_runs_of_one_company_do_not_write_twice(tmp_path):
    # given: damaged books, two runs queued, two workers, and the company's lock held by this test
    b = books()
    line = entry_line_of(b.invoice.journal_entry, "4100")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(b.company, "4000").pk, line.pk],
    )
    runs = [integrity_run_request(company=b.company, by=None, enqueue=False) for _ in range(2)]
    queue = f"test-{uuid.uuid4().hex}"
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    producer = Celery("test-producer", broker=settings.REDIS_URL, set_as_current=False)

    with worker(queue, logs[0]), worker(queue, logs[1]):
        with named_lock(f"integrity:{b.company.pk}", wait=0):
            for run in runs:
                producer.send_task("jobs.tasks.integrity_run", kwargs={"run_id": run.pk}, queue=queue)
            # when: both workers have the company's runs in hand and wait for the lock
            for log in logs:
                wait_for(
                    lambda log=log: "integrity_run_waiting" in log.read_text(),
                    timeout=60,
                    log=log,
                    what="waiting",
                )
            assert IntegrityRun.objects.filter(status="queued").count() == 2
        # and are let go at once
        wait_for(
            lambda: IntegrityRun.objects.filter(pk__in=[r.pk for r in runs], status="done").count() == 2,
            timeout=120,
            log=logs[0],
            what="both runs",
        )

    # then: one discrepancy per finding, seen by both runs; one draft; one set of flags and events
    first, second = sorted(
        IntegrityRun.objects.filter(pk__in=[r.pk for r in runs]), key=lambda r: r.started_at
    )
    assert first.finished_at <= second.started_at  # never overlapped
    assert (first.new_discrepancy_count, second.new_discrepancy_count) == (6, 0)
    assert (first.proposed_count, second.proposed_count) == (1, 0)
    assert Discrepancy.objects.filter(company=b.company).count() == 6
    assert all(d.runs.count() == 2 for d in Discrepancy.objects.filter(company=b.company))
    assert JournalEntry.objects.filter(company=b.company, status=EntryStatus.DRAFT).count() == 1
    assert Quarantine.objects.filter(company_id=b.company.pk).count() == 7
    assert AuditEvent.objects.filter(company_id=b.company.pk, action="flag").count() == 6
    producer.close()
