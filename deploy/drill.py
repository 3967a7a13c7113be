"""The backup-and-restore drill: `make drill` (or `python deploy/drill.py`).

1. Source: DRILL_SOURCE_URL (default: a local `sofinance_drill_source` database). A source that
   does not exist or holds no books yet is created and filled with the demo books first, so the
   drill runs on a fresh clone. In production, point it at a replica or a recent snapshot, never at
   the primary under load.
2. Dump it with `pg_dump --format=custom`, restore it with `pg_restore` into a fresh database.
3. Check the restored copy as an auditor would: no migration missing, the stored balances equal a
   rebuild from the journal lines, the audit chains verify, the books reconcile (when the
   reconciliation job is installed), and the application answers (health, the trial balance of
   every company through the API).
4. Print each step's result and time; exit 1 when any check fails. The restored database is dropped
   afterwards unless DRILL_KEEP=1.

Needs pg_dump / pg_restore of the server's major version on the PATH, and a role that may create
databases. See docs/operations.md for the quarterly drill and point-in-time recovery.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def with_database(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


def admin_sql(url: str, statement: str) -> None:
    import psycopg

    parts = urlparse(url)
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(statement)


def manage(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "SOFINANCE_ENV_FILE": "/dev/null",
        "LOG_LEVEL": "ERROR",
        "LOG_JSON": "0",
    }
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def libpq_args(url: str) -> list[str]:
    parts = urlparse(url)
    return [
        f"--host={parts.hostname or '127.0.0.1'}",
        f"--port={parts.port or 5432}",
        f"--username={parts.username or 'postgres'}",
    ]


def libpq_env(url: str) -> dict[str, str]:
    password = urlparse(url).password
    return {**os.environ, **({"PGPASSWORD": password} if password else {})}


class Drill:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool, float, str]] = []

    def step(self, name: str, call) -> object:
        started = time.perf_counter()
        try:
            detail = call()
            ok = True
        except Exception as exc:  # the drill reports every failed step and goes on where it can
            detail, ok = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else repr(exc), False
        seconds = time.perf_counter() - started
        self.results.append((name, ok, seconds, str(detail or "")))
        print(
            f"  {'ok  ' if ok else 'FAIL'} {seconds:7.2f} s  {name}{': ' + str(detail) if detail else ''}",
            flush=True,
        )
        return detail if ok else None


def source_has_books(url: str) -> bool:
    import psycopg

    parts = urlparse(url)
    try:
        with psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            dbname=parts.path.lstrip("/"),
        ) as conn:
            return conn.execute("SELECT to_regclass('ledger_journalentry') IS NOT NULL").fetchone()[0]
    except psycopg.OperationalError:
        return False


def ensure_source(url: str) -> str:
    """A source without books: created (when missing), migrated and filled with the demo books."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    try:
        admin_sql(url, f'CREATE DATABASE "{name}"')
    except psycopg.errors.DuplicateDatabase:
        pass
    manage(url, "migrate", "--noinput")
    manage(url, "demo_setup")
    return name


def api_checks(url: str) -> str:
    """The restored application answers: health, and each company's trial balance over the API."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "from accounts.models import Company, Membership\n"
        "from sofinance.api.jwt import issue_token_pair\n"
        "client = Client()\n"
        "assert client.get('/health/ready', HTTP_HOST='localhost').status_code == 200\n"
        "n = 0\n"
        "for company in Company.objects.order_by('pk'):\n"
        "    member = Membership.objects.filter(company=company).first()\n"
        "    if member is None: continue\n"
        "    token = issue_token_pair(user_id=member.user_id)['access']\n"
        "    r = client.get(f'/api/v1/companies/{company.pk}/reports/trial-balance', HTTP_HOST='localhost',\n"
        "                   HTTP_AUTHORIZATION=f'Bearer {token}')\n"
        "    assert r.status_code == 200, r.content[:300]\n"
        "    totals = r.json()['data']['totals']\n"
        "    assert totals['debit'] == totals['credit'], totals\n"
        "    n += 1\n"
        "print(f'health ready; {n} trial balances balanced')\n"
    )
    result = manage(url, "shell", "-c", script)
    return result.stdout.strip().splitlines()[-1]


def main() -> int:
    base = os.environ.get("DATABASE_URL", "")
    default_source = with_database(
        base if base.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/x",
        "sofinance_drill_source",
    )
    source = os.environ.get("DRILL_SOURCE_URL", default_source)
    restored_name = f"sofinance_drill_{time.strftime('%Y%m%d_%H%M%S')}"
    restored = with_database(source, restored_name)
    drill = Drill()
    print(f"Backup and restore drill: {urlparse(source).path.lstrip('/')} -> {restored_name}")
    began = time.perf_counter()
    if not source_has_books(source):
        drill.step("source: the demo books (it had none)", lambda: ensure_source(source))
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "sofinance.dump"
        drill.step(
            "pg_dump --format=custom",
            lambda: (
                subprocess.run(
                    [
                        "pg_dump",
                        "--format=custom",
                        "--no-owner",
                        f"--file={dump}",
                        *libpq_args(source),
                        urlparse(source).path.lstrip("/"),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=libpq_env(source),
                )
                and f"{dump.stat().st_size / 1e6:.1f} MB"
            ),
        )
        drill.step(
            "create the database to restore into",
            lambda: admin_sql(source, f'CREATE DATABASE "{restored_name}"'),
        )
        drill.step(
            "pg_restore into it",
            lambda: (
                subprocess.run(
                    [
                        "pg_restore",
                        "--no-owner",
                        "--exit-on-error",
                        f"--dbname={restored_name}",
                        *libpq_args(source),
                        str(dump),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=libpq_env(source),
                )
                and "restored"
            ),
        )
    try:
        drill.step(
            "no migration missing",
            lambda: manage(restored, "migrate", "--check").returncode == 0 and "schema current",
        )
        drill.step(
            "stored balances equal a rebuild from the lines",
            lambda: manage(restored, "rebuild_balances", "--check").stdout.strip().splitlines()[-1],
        )
        drill.step(
            "audit chains verify",
            lambda: manage(restored, "verify_audit_chain").stdout.strip().splitlines()[-1],
        )
        if "reconcile" in manage(restored, "help", "--commands").stdout.split():
            drill.step(
                "integrity reconciliation",
                lambda: manage(restored, "reconcile").stdout.strip().splitlines()[-1],
            )
        drill.step("the application answers", lambda: api_checks(restored))
    finally:
        if os.environ.get("DRILL_KEEP") != "1":
            drill.step(
                "drop the restored copy",
                lambda: admin_sql(source, f'DROP DATABASE IF EXISTS "{restored_name}"'),
            )
    failed = [name for name, ok, _, _ in drill.results if not ok]
    total = time.perf_counter() - began
    print(
        f"\nDrill {'PASSED' if not failed else 'FAILED'} in {total:.1f} s"
        + (f": {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
