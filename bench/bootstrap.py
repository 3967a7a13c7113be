"""Shared start of every benchmark: environment defaults, the database, Django.

Benchmarks run against PostgreSQL (BENCH_DATABASE_URL, else DATABASE_URL, else the local
`sofinance_bench` database, created when missing) so their figures mean what production sees, and
in production settings: DEBUG off (with DEBUG on, Django records every query the process sends),
the benchmarks' own fixed secrets unless the environment gives some (fixed: the benchmark database
keeps what earlier runs signed), plain HTTP on loopback. `BENCH_DEBUG=1` measures the development
settings instead (and signs with the development key: audit chains written by one setting do
not verify under the other).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sofinance_bench"
# The benchmarks' own secrets (local databases only; never a deployment's).
BENCH_SECRET_KEY = "bench-only-secret-key-for-local-benchmark-databases-0123456789"
BENCH_JWT_SECRET = "bench:bench-only-jwt-secret-for-local-benchmark-databases-0123"


def _ensure_postgres_database(url: str, *, fresh: bool = False) -> None:
    """Create the URL's database when missing; `fresh`: drop it first (its name must be one the
    benchmarks own, see `setup`)."""
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        if fresh:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def fresh_database_url(url: str, suffix: str) -> str:
    """The URL of the benchmark's own database: the given database's name plus `_suffix`."""
    parts = urlparse(url)
    return parts._replace(path=f"{parts.path.rstrip('/')}_{suffix}").geturl()


def setup(*, fresh_database: str | None = None) -> None:
    """Call before importing anything from Django or the project.

    `fresh_database`: run in a database of the benchmark's own, dropped and created anew (and
    migrated) on every run, so what earlier runs stored cannot slow this one down: the benchmark
    database's name (or BENCH_DATABASE_URL's) plus `_<fresh_database>`, e.g.
    `sofinance_bench_posting`. Only that derived database is ever dropped.
    """
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    if fresh_database:
        if not url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("a fresh benchmark database needs PostgreSQL (BENCH_DATABASE_URL)")
        url = fresh_database_url(url, fresh_database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofinance.settings")
    if os.environ.get("BENCH_DEBUG") == "1":
        os.environ["DEBUG"] = "1"
    else:
        os.environ["DEBUG"] = "0"
        # Fixed, not random: the benchmark database keeps what earlier runs signed (the audit
        # chains bench_audit_verify checks), and the audit key defaults to SECRET_KEY.
        os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
        os.environ.setdefault("JWT_SECRET", BENCH_JWT_SECRET)
        for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
            os.environ.setdefault(name, "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "0")
    # API timings go through Django's test client, whose host is "testserver".
    os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
    if url.startswith(("postgres://", "postgresql://")):
        _ensure_postgres_database(url, fresh=bool(fresh_database))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
