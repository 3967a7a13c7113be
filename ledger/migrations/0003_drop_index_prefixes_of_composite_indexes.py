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

PREFIX_INDEXES = [("ledger_journalentry", "company_id"), ("ledger_journalline", "company_id"), ("ledger_journalline", "entry_id")]


def _single_column_indexes(schema_editor, table: str, column: str) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]
    ]


def drop_prefix_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for table, column in PREFIX_INDEXES:
        for name in _single_column_indexes(schema_editor, table, column):
            schema_editor.execute(f"DROP INDEX {quote(name)}")


def create_prefix_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for table, column in PREFIX_INDEXES:
        if not _single_column_indexes(schema_editor, table, column):
            name = schema_editor._create_index_name(table, [column])
            schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")


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
