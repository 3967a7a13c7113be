"""Drop three indexes that are strict prefixes of others (every posting paid to maintain them):

- ledger_journalentry(company_id): the composite indexes (company, date, id), (company, status,
  date), ... lead with it;
- ledger_journalline(company_id): (company, date) and (company, account, date, ...) lead with it;
- ledger_journalline(entry_id): the unique (entry_id, line_no) key leads with it.

The indexes are dropped by name (found by introspection) rather than by AlterField, which on
SQLite would rebuild the tables and, with them, lose the ledger's triggers.
"""

import django.db.models.deletion
from django.db import migrations, models

from sofinance.migration_ops import create_single_column_index, drop_single_column_index

PREFIX_INDEXES = [("ledger_journalentry", "company_id"), ("ledger_journalline", "company_id"), ("ledger_journalline", "entry_id")]


def drop_prefix_indexes(apps, schema_editor):
    for table, column in PREFIX_INDEXES:
        drop_single_column_index(schema_editor, table, column)


def create_prefix_indexes(apps, schema_editor):
    for table, column in PREFIX_INDEXES:
        create_single_column_index(schema_editor, table, column)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_users_companies_memberships_accounts"),
        ("ledger", "0002_ledger_invariant_triggers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_prefix_indexes, create_prefix_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="journalentry",
                    name="company",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="journal_entries", to="accounts.company"),
                ),
                migrations.AlterField(
                    model_name="journalline",
                    name="company",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.company"),
                ),
                migrations.AlterField(
                    model_name="journalline",
                    name="entry",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="ledger.journalentry"),
                ),
            ],
        ),
    ]
