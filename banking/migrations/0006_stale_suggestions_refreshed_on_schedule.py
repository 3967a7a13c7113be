"""Suggestions follow the books: a bank account remembers the newest ledger line on its ledger
account when its suggestions were last worked out on schedule (`suggestions_mark`), and the
`banking-refresh-stale-suggestions` schedule (every 5 minutes; created once, then the admin's to
edit, left as it is when one of that name exists; reversing removes it) works them out again
where a later line was posted (banking.services.matching.stale_suggestions_refresh).

The column is nullable without a default, so SQLite adds it in place (no table rebuild, which
would drop the bank account's trigger).
"""

from django.db import migrations, models

NAME = "banking-refresh-stale-suggestions"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=NAME).exists():
        return
    interval, _ = IntervalSchedule.objects.get_or_create(every=300, period="seconds")
    PeriodicTask.objects.create(
        name=NAME,
        task="banking.tasks.stale_suggestions_refresh_task",
        interval=interval,
        enabled=True,
        description=(
            "Work bank lines' match suggestions out again where entries were posted on the bank's "
            "ledger account since (and confirm those the company's confidence allows)."
        ),
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("banking", "0005_carried_bank_lines_match_after_reconciled_dates"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="bankaccount",
            name="suggestions_mark",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
