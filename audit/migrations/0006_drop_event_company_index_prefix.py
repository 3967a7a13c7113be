"""Drop the plain index on audit events' company_id: the (company_id, created_at) and
(company_id, object_type, object_id) indexes lead with it, and every recorded event paid for it.
Dropped by name, not by AlterField, which on SQLite would rebuild the table without its triggers."""

from django.db import migrations, models

from sofinance.migration_ops import create_single_column_index, drop_single_column_index


def forwards(apps, schema_editor):
    drop_single_column_index(schema_editor, "audit_auditevent", "company_id")


def backwards(apps, schema_editor):
    create_single_column_index(schema_editor, "audit_auditevent", "company_id")


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_audit_events_insert_function")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent", name="company_id", field=models.BigIntegerField(blank=True, null=True)
                )
            ],
        )
    ]
