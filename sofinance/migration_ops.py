"""Operations for migrations: index changes that must not rebuild a table, SQL for PostgreSQL only.

Django's AlterField(db_index=...) rebuilds the whole table on SQLite, and with it drops the
table's triggers (the ledger's and the audit trail's invariants live in triggers). These drop
and create a plain one-column index by itself, on PostgreSQL and SQLite alike; the migration
pairs them with a state-only AlterField.
"""

from __future__ import annotations


def _single_column(schema_editor, table: str, column: str) -> dict[str, dict]:
    """The indexes and constraints on exactly `column` of `table` (not the primary key), by name."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: info
        for name, info in constraints.items()
        if not info["primary_key"] and info["columns"] == [column]
    }


def single_column_indexes(schema_editor, table: str, column: str) -> list[str]:
    """Names of the plain (non-unique, non-primary) indexes on exactly `column` of `table`."""
    return [
        name
        for name, info in _single_column(schema_editor, table, column).items()
        if info["index"] and not info["unique"]
    ]


def single_column_uniques(schema_editor, table: str, column: str) -> list[str]:
    """Names of the unique constraints and unique indexes on exactly `column` of `table`."""
    return [name for name, info in _single_column(schema_editor, table, column).items() if info["unique"]]


def drop_single_column_index(schema_editor, table: str, column: str) -> None:
    for name in single_column_indexes(schema_editor, table, column):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_single_column_index(schema_editor, table: str, column: str) -> None:
    if single_column_indexes(schema_editor, table, column):
        return
    quote = schema_editor.quote_name
    name = schema_editor._create_index_name(table, [column])
    schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")


def postgresql_sql(forward: str, reverse: str):
    """A migration operation running `forward` (and `reverse` when unapplied) on PostgreSQL only:
    the functions and triggers SQLite has no equivalent of (there the ORM does the same work)."""
    from django.db import migrations

    def run(sql: str):
        def operation(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                with schema_editor.connection.cursor() as cursor:
                    cursor.execute(sql)

        return operation

    return migrations.RunPython(run(forward), run(reverse))


def vendor_sql(
    *,
    postgresql: tuple[str, str],
    sqlite: tuple[list[str], list[str]],
):
    """A migration operation running SQL written for each database: `postgresql` is (forward,
    reverse), one script each; `sqlite` is (forward, reverse), lists of statements (SQLite runs one
    statement at a time). Another database is refused: the invariants would be missing."""
    from django.db import migrations

    def run(direction: int):
        def operation(apps, schema_editor):
            vendor = schema_editor.connection.vendor
            if vendor == "postgresql":
                with schema_editor.connection.cursor() as cursor:
                    cursor.execute(postgresql[direction])
            elif vendor == "sqlite":
                for statement in sqlite[direction]:
                    schema_editor.execute(statement)
            else:
                raise RuntimeError(f"No SQL for database vendor {vendor!r}.")

        return operation

    return migrations.RunPython(run(0), run(1))


def interval_schedule(*, name: str, task: str, seconds: int, description: str):
    """A migration operation creating a django-celery-beat schedule running `task` every
    `seconds`: created once, then the admin's to edit (one already there under `name` is left as
    it is); reversing removes it. The migration depends on django_celery_beat's."""
    from django.db import migrations

    def create(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        if PeriodicTask.objects.filter(name=name).exists():
            return
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.create(
            name=name, task=task, interval=interval, enabled=True, description=description
        )

    def remove(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(create, remove)
