"""Balance buckets are updated by every posting; let those updates stay on their page.

- The plain index on company_id of both bucket tables goes: the bucket key (company, account,
  date, closing) and (company, date) lead with it.
- On PostgreSQL the tables keep 30% of each page free (fillfactor 70), so adding a posting to an
  existing bucket is a heap-only update: no new entry in any of the table's indexes, a fraction
  of the WAL, and no index bloat however often a bucket changes.
"""

import django.db.models.deletion
from django.db import migrations, models

from sofinance.migration_ops import create_single_column_index, drop_single_column_index

TABLES = ["ledger_dailybalance", "ledger_monthlybalance"]


def forwards(apps, schema_editor):
    for table in TABLES:
        drop_single_column_index(schema_editor, table, "company_id")
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = 70)")


def backwards(apps, schema_editor):
    for table in TABLES:
        create_single_column_index(schema_editor, table, "company_id")
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


def _company(related_name="+"):
    return models.ForeignKey(
        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name=related_name, to="accounts.company"
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_posting_functions")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(model_name="dailybalance", name="company", field=_company()),
                migrations.AlterField(model_name="monthlybalance", name="company", field=_company()),
            ],
        )
    ]
