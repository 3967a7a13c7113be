"""The `jobs-requeue-stalled` schedule: every 5 minutes, send again the task of every job still
queued long after it was accepted (jobs/requeue.py). Created once, then the admin's to edit; a
schedule already there under that name is left as it is. Reversing removes it."""

from django.db import migrations

NAME = "jobs-requeue-stalled"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=NAME).exists():
        return
    interval, _ = IntervalSchedule.objects.get_or_create(every=300, period="seconds")
    PeriodicTask.objects.create(
        name=NAME,
        task="jobs.tasks.stalled_jobs_requeue",
        interval=interval,
        enabled=True,
        description=(
            "Send again the task of exports, integrity runs and imports still queued 15 minutes after "
            "they were accepted (their task never reached the broker)."
        ),
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_default_schedules")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
