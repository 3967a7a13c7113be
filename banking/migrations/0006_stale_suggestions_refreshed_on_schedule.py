"""Suggestions follow the books: a bank account remembers the newest ledger line on its ledger
account when its suggestions were last worked out on schedule (`suggestions_mark`), and the
`banking-refresh-stale-suggestions` schedule (every 5 minutes; created once, then the admin's to
edit, left as it is when one of that name exists; reversing removes it) works them out again
where a later line was posted (banking.services.matching.stale_suggestions_refresh).

The column is nullable without a default, so SQLite adds it in place (no table rebuild, which
would drop the bank account's trigger).
"""

from django.db import migrations, models

from sofinance.migration_ops import interval_schedule

NAME = "banking-refresh-stale-suggestions"


SCHEDULE = interval_schedule(
    name=NAME,
    task="banking.tasks.stale_suggestions_refresh_task",
    seconds=300,
    description=(
        "Work bank lines' match suggestions out again where entries were posted on the bank's "
        "ledger account since (and confirm those the company's confidence allows)."
    ),
)
create_schedule, remove_schedule = SCHEDULE.code, SCHEDULE.reverse_code


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
        SCHEDULE,
    ]
