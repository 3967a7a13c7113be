"""Jobs whose task never reached a worker (the broker down right after their commit) are sent
again by the `jobs-requeue-stalled` schedule: once they have waited REQUEUE_AFTER, once per
REQUEUE_AFTER each, and never a job that is running or finished."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from jobs import requeue
from jobs import tasks as jobs_tasks
from jobs.models import ExportJob, IntegrityRun, JobStatus
from jobs.services import export_request, integrity_run_request
from jobs.tests.factories import books
from sofinance.celery import app
from sofinance.tests.caches import clear_own_cache

pytestmark = pytest.mark.django_db

migration = importlib.import_module("jobs.migrations.0003_schedule_stalled_jobs_requeue")


@pytest.fixture
def sent(monkeypatch):
    """The tasks the sweep sends, recorded instead of queued: [(kind, id)]."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(jobs_tasks.export_run, "delay", lambda export_id: calls.append(("export", export_id)))
    monkeypatch.setattr(jobs_tasks.integrity_run, "delay", lambda run_id: calls.append(("run", run_id)))
    clear_own_cache()
    return calls


def _age(model, pk: int, minutes: int) -> None:
    model.objects.filter(pk=pk).update(created_at=timezone.now() - datetime.timedelta(minutes=minutes))


def test_jobs_left_queued_are_sent_again_and_others_are_not(sent):
    # given: jobs accepted while the broker was down (their tasks never sent), of every kind
    company = books().company
    stalled_export = export_request(
        company=company, by=None, kind="trial_balance", parameters={"as_of": "2026-01-31"}, enqueue=False
    )
    stalled_run = integrity_run_request(company=company, by=None, enqueue=False)
    export_request(  # a fresh one, not stalled yet
        company=company, by=None, kind="trial_balance", parameters={"as_of": "2026-01-31"}, enqueue=False
    )
    running_export = export_request(
        company=company, by=None, kind="trial_balance", parameters={"as_of": "2026-01-31"}, enqueue=False
    )
    for model, job in (
        (ExportJob, stalled_export),
        (IntegrityRun, stalled_run),
        (ExportJob, running_export),
    ):
        _age(model, job.pk, minutes=20)
    ExportJob.objects.filter(pk=running_export.pk).update(status=JobStatus.RUNNING)
    sent.clear()

    # when
    result = requeue.stalled_jobs_requeue()

    # then: the stalled ones, and only they, are sent again
    assert sorted(sent) == sorted([("export", stalled_export.pk), ("run", stalled_run.pk)])
    assert (result["exports"], result["integrity_runs"]) == (1, 1)

    # and a second sweep soon after does not send them again (their message may be waiting)
    sent.clear()
    again = requeue.stalled_jobs_requeue()
    assert (again["exports"], again["integrity_runs"]) == (0, 0)
    assert sent == []


def test_a_broker_still_down_is_raised_and_the_next_sweep_tries_again(sent, monkeypatch):
    company = books().company
    job = export_request(
        company=company, by=None, kind="trial_balance", parameters={"as_of": "2026-01-31"}, enqueue=False
    )
    _age(ExportJob, job.pk, minutes=20)

    def broker_down(export_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(jobs_tasks.export_run, "delay", broker_down)
    with pytest.raises(ConnectionError):
        requeue.stalled_jobs_requeue()

    monkeypatch.setattr(jobs_tasks.export_run, "delay", lambda export_id: sent.append(("export", export_id)))
    requeue.stalled_jobs_requeue()
    assert sent == [("export", job.pk)]


def test_the_schedule_exists_once_and_names_a_real_task():
    PeriodicTask.objects.filter(name=migration.NAME).delete()
    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)
    task = PeriodicTask.objects.get(name=migration.NAME)
    assert (task.task, task.interval.every, task.interval.period, task.enabled) == (
        "jobs.tasks.stalled_jobs_requeue",
        300,
        "seconds",
        True,
    )
    app.loader.import_default_modules()
    assert task.task in app.tasks
    migration.remove_schedule(apps, None)
    assert not PeriodicTask.objects.filter(name=migration.NAME).exists()
