"""`make drill` restores a dump into a fresh database and checks the copy end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_drill_restores_the_books_and_every_check_passes():
    s = connection.settings_dict
    source = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/sofinance_drill_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k != "DRILL_KEEP"}
    env["DRILL_SOURCE_URL"] = source  # a fresh database: the drill fills it with the demo books
    try:
        result = subprocess.run(
            [sys.executable, "deploy/drill.py"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        import psycopg

        with psycopg.connect(
            host=s["HOST"] or "127.0.0.1", user=s["USER"], dbname="postgres", autocommit=True
        ) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{source.rsplit("/", 1)[1]}" WITH (FORCE)')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Drill PASSED" in result.stdout
    passed = [line for line in result.stdout.splitlines() if line.lstrip().startswith("ok")]
    for check in (
        "pg_restore into it",
        "stored balances equal a rebuild",
        "audit chains verify",
        "the application answers",
    ):
        assert any(check in line for line in passed), check
    assert "FAIL" not in result.stdout
