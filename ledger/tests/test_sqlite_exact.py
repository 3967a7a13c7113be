"""On SQLite (the embedded default of `make run`) every sum read from the database is exact.

SQLite keeps decimals as floating point; summed as floats, -395.22 comes back as
-395.219999999999 and `rebuild_balances --check` used to report differences that are not there.
These tests run the real commands against a fresh SQLite file in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'books.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "ERROR",
    }


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=sqlite_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_make_run_demo_rebuild_check_finds_no_difference(tmp_path):
    assert manage(tmp_path, "migrate", "--noinput").returncode == 0
    demo = manage(tmp_path, "demo_setup")
    assert demo.returncode == 0, demo.stderr[-2000:]
    check = manage(tmp_path, "rebuild_balances", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "balances match" in check.stdout


SUMS_SCRIPT = textwrap.dedent(
    """
    import datetime, django
    from decimal import Decimal
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from accounts.models import Account
    from accounts.tests.factories import UserFactory
    from accounts.services import company_create
    from ledger.models import JournalLine
    from ledger.reports import general_ledger, trial_balance
    from ledger.services import balances_rebuild, journal_entry_create, journal_entry_reverse
    from sofinance.money import MoneySum
    company = company_create(name="S", currency="USD", created_by=UserFactory(), chart_template="small_business")
    amounts = ["0.10", "0.20", "0.30", "395.22", "0.07", "1234567.89", "0.01", "33.33"] * 40
    posted = []
    for n, amount in enumerate(amounts):
        posted.append(journal_entry_create(company=company, date=datetime.date(2026, 1, 1 + n % 28), by=None,
            post=True, lines=[{"account": "6100", "debit": amount}, {"account": "1000", "credit": amount}]))
    for entry in posted[::7]:
        journal_entry_reverse(entry=entry, by=None)
    expected = sum(Decimal(a) for a in amounts) - sum(Decimal(amounts[i]) for i in range(0, len(amounts), 7))
    cash = Account.objects.get(company=company, code="1000")
    rows = {r.account.code: r for r in trial_balance(company=company, as_of=datetime.date(2026, 12, 31)).rows}
    ledger = general_ledger(company=company, account=cash, date_from=datetime.date(2026, 1, 15),
        date_to=datetime.date(2026, 12, 31))
    summed = JournalLine.objects.filter(company=company, account=cash).aggregate(s=MoneySum("base_amount"))["s"]
    print("EXPECTED", expected)
    print("TB", rows["6100"].debit, rows["1000"].credit, rows["1000"].balance)
    print("GL", ledger.opening_balance + ledger.closing_balance - ledger.opening_balance)
    print("SUM", summed)
    print("DIFFERENCES", len(balances_rebuild(company_id=company.pk, apply=False).differences))
    """
)


def test_trial_balance_ledger_and_sums_are_exact_to_the_cent_on_sqlite(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SUMS_SCRIPT],
        cwd=ROOT,
        env=sqlite_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    expected = out["EXPECTED"]
    assert expected == "41989902.58"  # 320 entries less the 46 reversed, in exact decimal arithmetic
    exact = Decimal(expected)
    # every figure is the exact decimal (a float sum would end in ...579999 or ...580001)
    assert [Decimal(v) for v in out["TB"].split()] == [exact, exact, -exact]
    assert Decimal(out["GL"]) == -exact
    assert Decimal(out["SUM"]) == -exact
    assert all(len(v.split(".")[-1]) <= 4 for v in (*out["TB"].split(), out["GL"], out["SUM"]))
    assert out["DIFFERENCES"] == "0"
