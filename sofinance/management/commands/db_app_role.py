"""manage.py db_app_role --role sofinance_app [--password-env SOFINANCE_APP_DB_PASSWORD]

Run as the database OWNER (the role migrations run as), after `migrate`. Creates (or updates) the
role the application connects as, and gives it exactly what serving needs: reading and writing
rows (SELECT, INSERT, UPDATE, DELETE), using the sequences, calling the functions. It owns nothing,
so it cannot ALTER or DROP a table, DISABLE a TRIGGER, TRUNCATE, or change a function: the
invariants the triggers hold cannot be switched off by the application, or by anyone who steals
its credentials. Default privileges make the tables and sequences later migrations create
available to it as well. Idempotent. PostgreSQL only (SQLite has no roles).
"""

from __future__ import annotations

import os
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Command(BaseCommand):
    help = "Create the least-privilege role the application connects as (run as the owner, after migrate)."

    def add_arguments(self, parser):
        parser.add_argument("--role", default="sofinance_app", help="Role name (default sofinance_app).")
        parser.add_argument(
            "--password-env",
            default="SOFINANCE_APP_DB_PASSWORD",
            help="Environment variable holding the role's password (default SOFINANCE_APP_DB_PASSWORD); "
            "unset: the role gets no password (e.g. peer or certificate authentication).",
        )

    def handle(self, *args, role: str, password_env: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Roles exist on PostgreSQL only.")
        if not ROLE_NAME.fullmatch(role):
            raise CommandError(f"{role!r} is not a plain role name (lowercase letters, digits, _).")
        password = os.environ.get(password_env) or None
        name = sql.Identifier(role)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            owner, database = cursor.fetchone()
            if owner == role:
                raise CommandError("Run this as the owner (the role migrations run as), not as the app role.")
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            statements = [
                sql.SQL(
                    "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
                ).format(sql.SQL(verb), name),
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), name),
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
                    name
                ),
                sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
                sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {}").format(name),
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
                ).format(sql.Identifier(owner), name),
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}"
                ).format(sql.Identifier(owner), name),
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {}"
                ).format(sql.Identifier(owner), name),
            ]
            for statement in statements:
                cursor.execute(statement.as_string(cursor.connection))
            if password is not None:
                cursor.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}")
                    .format(name, sql.Literal(password))
                    .as_string(cursor.connection)
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Created' if verb == 'CREATE' else 'Updated'} role {role}: rows read and written, "
                f"sequences and functions used, nothing owned (owner: {owner})."
            )
        )
