"""The `jobs-requeue-stalled` schedule: every 5 minutes, send again the task of every job still
queued long after it was accepted (jobs/requeue.py). Created once, then the admin's to edit; a
schedule already there under that name is left as it is. Reversing removes it."""

from django.db import migrations

from sofinance.migration_ops import interval_schedule

NAME = "jobs-requeue-stalled"


SCHEDULE = interval_schedule(
    name=NAME,
    task="jobs.tasks.stalled_jobs_requeue",
    seconds=300,
    description=(
        "Send again the task of exports, integrity runs and imports still queued 15 minutes after "
        "they were accepted (their task never reached the broker)."
    ),
)
create_schedule, remove_schedule = SCHEDULE.code, SCHEDULE.reverse_code


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_default_schedules")]

    operations = [SCHEDULE]
