"""manage.py verify_audit_chain: what it prints, and its exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from audit.tests.helpers import forge_event, record_and_seal, triggers_disabled


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit_chain", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_an_intact_trail_is_reported_chain_by_chain():
    record_and_seal(company_id=None, count=1)
    record_and_seal(company_id=601, count=2)
    output = run_command()
    assert output.splitlines()[:2] == [
        "global: ok; 1 events checked (1 sealed, 0 awaiting seal), head seq 1",
        "company:601: ok; 2 events checked (2 sealed, 0 awaiting seal), head seq 2",
    ]
    assert "Audit trail intact: 3 events in 2 chains verified in" in output


@pytest.mark.django_db
def test_company_option_verifies_one_chain():
    record_and_seal(company_id=601, count=2)
    forge_event(company_id=602)  # broken, but not the chain asked for
    output = run_command("--company", "601")
    assert (
        output.splitlines()[0] == "company:601: ok; 2 events checked (2 sealed, 0 awaiting seal), head seq 2"
    )
    assert "602" not in output


@pytest.mark.django_db
def test_a_broken_chain_raises_naming_the_first_broken_event():
    # given
    first, _second = record_and_seal(company_id=603, count=2)
    with triggers_disabled("audit_auditevent"), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET object_repr = 'Other' WHERE id = %s", [first.pk])
    # when
    with pytest.raises(CommandError) as raised:
        run_command("--company", "603")
    # then
    assert str(raised.value).startswith(
        f"Audit chain company:603 is broken at event {first.pk}: signature_mismatch:"
    )
    assert raised.value.returncode == 1


def _manage(*args: str) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        LOG_LEVEL="WARNING",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "verify_audit_chain", *args],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_the_exit_status_is_zero_when_intact_and_one_naming_the_event_when_broken():
    # given: committed events (the command runs in its own process)
    record_and_seal(company_id=604, count=2)
    intact = _manage("--company", "604")
    forged_id = forge_event(company_id=604)
    # when
    broken = _manage()
    # then
    assert intact.returncode == 0, intact.stderr
    assert "Audit trail intact: 2 events in 1 chains" in intact.stdout
    assert broken.returncode == 1
    assert f"BROKEN at event {forged_id} (signature_mismatch)" in broken.stdout
    assert f"Audit chain company:604 is broken at event {forged_id}: signature_mismatch" in broken.stderr
