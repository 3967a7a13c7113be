"""A second session on the test database, beside Django's: to see what is committed (and only
that), or to act on Django's session from outside."""

from __future__ import annotations

import psycopg
from django.db import connection


def second_session(*, autocommit: bool = True) -> psycopg.Connection:
    """A new connection (autocommit unless told otherwise) to the database Django's default
    connection uses. The benchmarks' raw-psycopg floor uses it too."""
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        autocommit=autocommit,
    )
