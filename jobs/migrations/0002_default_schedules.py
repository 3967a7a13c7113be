"""The default schedules of Celery beat, as rows of django-celery-beat (editable in the admin:
Periodic tasks). They used to be declared in settings.CELERY_BEAT_SCHEDULE, which the database
scheduler writes over the admin's edits every time beat starts; as rows they are created once
and then belong to the admin. A schedule that already exists under the same name is left as it
is (an operator's edit survives re-running the migration). Reversing removes these tasks.

AUDIT_SEAL_INTERVAL and AUDIT_ANCHOR_INTERVAL give the audit intervals the rows start with.
"""

from django.conf import settings
from django.db import migrations

EVERY = "every"
AT = "at"


def _schedules():
    seal = int(getattr(settings, "AUDIT_SEAL_INTERVAL", 30))
    anchor = int(getattr(settings, "AUDIT_ANCHOR_INTERVAL", 3600))
    return [
        (
            "integrity-reconcile-nightly",
            "jobs.tasks.integrity_reconcile_all",
            AT,
            ("30", "1"),
            "Nightly integrity reconciliation of every company's books (stored balances, entries, sales "
            "documents, receivables, sales summary, audit chain); discrepancies are quarantined and alerted.",
        ),
        (
            "audit-seal-chains",
            "audit.tasks.audit_seal_chains",
            EVERY,
            seal,
            "Seal pending audit events into their hash chains.",
        ),
        (
            "audit-verify-chains",
            "audit.tasks.audit_verify_chains",
            EVERY,
            3600,
            "Verify every audit chain against its newest anchor (a broken chain is logged at error level).",
        ),
        (
            "audit-anchor-heads",
            "audit.tasks.audit_anchor_heads",
            EVERY,
            anchor,
            "Write the audit chain heads to a signed anchor file on the default storage.",
        ),
        (
            "sales-summary-rebuild",
            "sales.tasks.sales_summary_rebuild_task",
            AT,
            ("15", "2"),
            "Recompute the last 7 days of the stored daily sales summary from the documents.",
        ),
        (
            "exports-purge-expired",
            "jobs.tasks.exports_purge_expired",
            EVERY,
            3600,
            "Delete the files of exports past EXPORT_TTL_HOURS.",
        ),
        (
            "idempotency-purge",
            "sofinance.tasks.idempotency_purge_expired",
            EVERY,
            3600,
            "Delete Idempotency-Key records past their time to live.",
        ),
        (
            "refresh-tokens-purge",
            "accounts.tasks.refresh_tokens_purge_expired",
            EVERY,
            3600,
            "Delete expired refresh-token records.",
        ),
    ]


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, how, when, description in _schedules():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        fields = {"name": name, "task": task, "description": description, "enabled": True}
        if how == EVERY:
            fields["interval"], _ = IntervalSchedule.objects.get_or_create(every=when, period="seconds")
        else:
            minute, hour = when
            fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=settings.TIME_ZONE,
            )
        PeriodicTask.objects.create(**fields)


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[item[0] for item in _schedules()]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_integrity_runs_discrepancies_exports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
