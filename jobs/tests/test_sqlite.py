"""On SQLite (the embedded default of `make run`): the demo books reconcile with no discrepancy, and
exports (a Beancount ledger bean-check accepts, journal lines as XLSX) are written, by the real
commands in a subprocess against a fresh SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.tests.test_sqlite_exact import manage, sqlite_env

pytestmark = pytest.mark.slow


def test_the_demo_books_reconcile_and_export_on_sqlite(tmp_path: Path):
    assert manage(tmp_path, "migrate", "--noinput").returncode == 0
    # One process for the rest: each start of Django costs seconds.
    script = (
        "import django; django.setup(); from django.core.management import call_command as c; "
        "c('demo_setup'); c('reconcile', no_progress=True); "
        f"c('export', company=1, kind='beancount', output={str(tmp_path / 'books.beancount')!r}, no_progress=True); "
        "c('export', company=1, kind='journal_lines', format='xlsx', no_progress=True)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=sqlite_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Run #1, company 1 (Demo Trading Ltd): no discrepancy" in result.stdout
    check = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(tmp_path / "books.beancount")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (check.returncode, check.stdout, check.stderr) == (0, "", "")
    assert (tmp_path / "media" / "exports" / "1" / "2" / "journal-lines.xlsx").stat().st_size > 0
