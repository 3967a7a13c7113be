"""The reversal links are unique where they are set, and no index lists the entries without one.

`reversal_of` and `reversed_by` are one-to-one links, empty on nearly every entry. Their UNIQUE
constraints were full indexes, so each holds an entry for every row of the journal, NULLs
included, and an index on `reversed_by_id` answers "every entry not reversed yet": the
reversal's link (`UPDATE ... WHERE e.id = ... AND e.reversed_by_id IS NULL` in the write
function), planned on a small journal, read every unreversed entry through it. On PostgreSQL each
constraint becomes a unique index of the rows where the link is set: the same uniqueness (NULLs
never conflicted), two index entries fewer per posted entry, and a look-up by a link (`= id`, as
Django's reverse accessor and the foreign keys' checks do) still uses it. SQLite keeps the
constraints (the model is unchanged).
"""

from django.db import migrations

from sofinance.migration_ops import single_column_uniques

COLUMNS = ("reversal_of_id", "reversed_by_id")
TABLE = "ledger_journalentry"


def _name(column: str) -> str:
    return f"{TABLE}_{column}_key"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        for name in single_column_uniques(schema_editor, TABLE, column):
            schema_editor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS "{name}"')
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        schema_editor.execute(
            f'CREATE UNIQUE INDEX "{_name(column)}" ON {TABLE} ({column}) WHERE {column} IS NOT NULL'
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_name(column)}"')
        schema_editor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{_name(column)}" UNIQUE ({column})')


class Migration(migrations.Migration):
    dependencies = [("ledger", "0011_posting_functions_probe_by_key")]

    operations = [migrations.RunPython(forwards, backwards)]
