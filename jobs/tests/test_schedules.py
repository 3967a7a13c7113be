"""The default beat schedules are rows of django-celery-beat created by a data migration (editable
in the admin), not settings: beat's database scheduler would write settings over the admin's edits."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from sofinance.celery import app

pytestmark = pytest.mark.django_db

migration = importlib.import_module("jobs.migrations.0002_default_schedules")


def _rows() -> dict[str, tuple]:
    rows = {}
    for task in PeriodicTask.objects.select_related("interval", "crontab"):
        when = (
            ("every", task.interval.every, task.interval.period)
            if task.interval_id
            else (
                "at",
                task.crontab.hour,
                task.crontab.minute,
                task.crontab.timezone.key
                if hasattr(task.crontab.timezone, "key")
                else str(task.crontab.timezone),
            )
        )
        rows[task.name] = (task.task, when, task.enabled)
    return rows


def test_the_migration_creates_every_default_schedule_and_reversing_removes_them(settings):
    # given: no schedules yet (a transactional test elsewhere may have flushed them), audit intervals set
    settings.AUDIT_SEAL_INTERVAL = 45
    PeriodicTask.objects.all().delete()

    # when
    migration.create_schedules(apps, None)

    # then
    assert _rows() == {
        "integrity-reconcile-nightly": ("jobs.tasks.integrity_reconcile_all", ("at", "1", "30", "UTC"), True),
        "audit-seal-chains": ("audit.tasks.audit_seal_chains", ("every", 45, "seconds"), True),
        "audit-verify-chains": ("audit.tasks.audit_verify_chains", ("every", 3600, "seconds"), True),
        "audit-anchor-heads": ("audit.tasks.audit_anchor_heads", ("every", 3600, "seconds"), True),
        "sales-summary-rebuild": ("sales.tasks.sales_summary_rebuild_task", ("at", "2", "15", "UTC"), True),
        "exports-purge-expired": ("jobs.tasks.exports_purge_expired", ("every", 3600, "seconds"), True),
        "idempotency-purge": ("sofinance.tasks.idempotency_purge_expired", ("every", 3600, "seconds"), True),
        "refresh-tokens-purge": (
            "accounts.tasks.refresh_tokens_purge_expired",
            ("every", 3600, "seconds"),
            True,
        ),
    }
    app.loader.import_default_modules()
    assert {task for task, _, _ in _rows().values()} <= set(app.tasks)
    migration.remove_schedules(apps, None)
    assert PeriodicTask.objects.count() == 0


def test_an_edited_schedule_survives_the_migration_running_again():
    PeriodicTask.objects.all().delete()
    migration.create_schedules(apps, None)
    PeriodicTask.objects.filter(name="integrity-reconcile-nightly").update(enabled=False)

    migration.create_schedules(apps, None)

    assert PeriodicTask.objects.get(name="integrity-reconcile-nightly").enabled is False
    assert PeriodicTask.objects.filter(name="integrity-reconcile-nightly").count() == 1


def test_no_schedule_is_declared_in_settings():
    assert settings.CELERY_BEAT_SCHEDULE == {}
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
