"""Bank and journal imports take part in the stalled-jobs sweep (jobs/requeue.py): an import
accepted while the broker was down is sent again, and a second message for one import never
imports twice."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from banking import tasks
from banking.models import BankStatementLine, ImportJob, JobStatus
from banking.services import statement_import_job_create
from banking.tests.factories import bank_books, fixture
from jobs import requeue
from sofinance.tests.caches import clear_own_cache

pytestmark = pytest.mark.django_db


def test_an_import_left_queued_is_sent_again_once(monkeypatch):
    # given: an import whose task never reached the broker, queued 20 minutes ago, and a fresh one
    sent: list[int] = []
    monkeypatch.setattr(tasks.import_job_run_task, "delay", lambda job_id: sent.append(job_id))
    clear_own_cache()
    bank = bank_books()
    stalled = statement_import_job_create(bank_account=bank, file=fixture("camt053_march.xml"), by=None)
    statement_import_job_create(bank_account=bank, file=fixture("ofx_march_1.ofx"), by=None)
    ImportJob.objects.filter(pk=stalled.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=20))
    sent.clear()

    # when / then
    assert requeue.stalled_jobs_requeue()["imports"] == 1
    assert sent == [stalled.pk]
    assert requeue.stalled_jobs_requeue()["imports"] == 0


def test_a_second_message_for_a_finished_import_imports_nothing_twice():
    # given: an import the first message already ran
    bank = bank_books()
    job = statement_import_job_create(bank_account=bank, file=fixture("camt053_march.xml"), by=None)
    assert tasks.import_job_run_task(job.pk)["status"] == JobStatus.DONE
    lines = BankStatementLine.objects.filter(bank_account=bank).count()

    # when: a second message for it arrives (redelivered, or sent again by the sweep)
    result = tasks.import_job_run_task(job.pk)

    # then
    assert result["status"] == JobStatus.DONE
    assert BankStatementLine.objects.filter(bank_account=bank).count() == lines > 0
