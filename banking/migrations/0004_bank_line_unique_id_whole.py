"""A bank line's id from the bank is kept whole (up to 255 characters; OFX allows FITIDs that long).

On PostgreSQL the column is widened in place (a varchar's length grows without a rewrite). On
SQLite, which does not enforce a varchar's length, nothing changes in the database: an AlterField
would rebuild the table there, and the banking triggers that name it would break the rebuild.
"""

from django.db import migrations, models

from sofinance.migration_ops import postgresql_sql


class Migration(migrations.Migration):
    dependencies = [
        ("banking", "0003_reversal_guard_probes_by_key"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="bankstatementline",
                    name="unique_id",
                    field=models.CharField(blank=True, default="", max_length=255),
                ),
            ],
            database_operations=[
                postgresql_sql(
                    "ALTER TABLE banking_bankstatementline ALTER COLUMN unique_id TYPE varchar(255)",
                    "ALTER TABLE banking_bankstatementline ALTER COLUMN unique_id TYPE varchar(100) USING left(unique_id, 100)",
                ),
            ],
        ),
    ]
