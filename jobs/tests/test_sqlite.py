"""On SQLite (the embedded default of `make run`): the demo books reconcile with no discrepancy, and
exports (a Beancount ledger bean-check accepts, journal lines as XLSX) are written, by the real
commands in a subprocess against a fresh SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.tests.test_sqlite_exact import manage

pytestmark = pytest.mark.slow


def test_the_demo_books_reconcile_and_export_on_sqlite(tmp_path: Path):
    assert manage(tmp_path, "migrate", "--noinput").returncode == 0
    assert manage(tmp_path, "demo_setup").returncode == 0

    reconcile = manage(tmp_path, "reconcile", "--no-progress")
    beancount = manage(
        tmp_path,
        "export",
        "--company",
        "1",
        "--kind",
        "beancount",
        "--output",
        str(tmp_path / "books.beancount"),
    )
    lines = manage(tmp_path, "export", "--company", "1", "--kind", "journal_lines", "--format", "xlsx")

    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    assert "Run #1, company 1 (Demo Trading Ltd): no discrepancy" in reconcile.stdout
    assert beancount.returncode == 0 and lines.returncode == 0, beancount.stderr + lines.stderr
    check = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(tmp_path / "books.beancount")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (check.returncode, check.stdout, check.stderr) == (0, "", "")
    assert (tmp_path / "media" / "exports" / "1" / "2" / "journal-lines.xlsx").stat().st_size > 0
