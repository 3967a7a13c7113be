"""The database itself refuses to change or delete audit rows (PostgreSQL here, SQLite below)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from audit.models import AuditChainHead, AuditEvent, AuditSeal
from audit.tests.helpers import record_and_seal

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed_event() -> AuditEvent:
    (event,) = record_and_seal(company_id=41, count=1)
    return event


def refused():
    return pytest.raises(DatabaseError, match="audit_immutable")


def test_orm_update_of_an_event_is_refused(sealed_event):
    with refused(), transaction.atomic():
        AuditEvent.objects.filter(pk=sealed_event.pk).update(action="delete", object_repr="Rewritten")
    assert AuditEvent.objects.get(pk=sealed_event.pk).action == "update"


def test_orm_delete_of_an_event_is_refused(sealed_event):
    with refused(), transaction.atomic():
        AuditEvent.objects.filter(pk=sealed_event.pk).delete()
    with refused(), transaction.atomic():
        sealed_event.delete()
    assert AuditEvent.objects.filter(pk=sealed_event.pk).exists()


def test_orm_save_of_a_loaded_event_is_refused(sealed_event):
    event = AuditEvent.objects.get(pk=sealed_event.pk)
    event.actor_repr = "someone else"
    with refused(), transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(pk=sealed_event.pk).actor_repr == "system"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET changes = '{}' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
        "UPDATE audit_auditseal SET hash = repeat('f', 64) WHERE event_id = %s",
        "DELETE FROM audit_auditseal WHERE event_id = %s",
    ],
)
def test_raw_sql_update_and_delete_of_events_and_seals_are_refused(sealed_event, statement):
    with refused(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [sealed_event.pk])
    stored = AuditEvent.objects.get(pk=sealed_event.pk)
    assert stored.changes == {"quantity": {"before": 1, "after": 2}}
    assert AuditSeal.objects.get(event=stored).seq == 1


def test_orm_update_and_delete_of_seals_are_refused(sealed_event):
    with refused(), transaction.atomic():
        AuditSeal.objects.filter(event=sealed_event).update(seq=7)
    with refused(), transaction.atomic():
        AuditSeal.objects.filter(event=sealed_event).delete()
    assert AuditSeal.objects.get(event=sealed_event).seq == 1


def test_a_chain_head_cannot_be_rewound_or_deleted_but_moves_forward(sealed_event):
    head = AuditChainHead.objects.get(chain="company:41")
    with refused(), transaction.atomic():
        AuditChainHead.objects.filter(pk=head.pk).update(last_seq=0)
    with refused(), transaction.atomic():
        AuditChainHead.objects.filter(pk=head.pk).delete()
    assert AuditChainHead.objects.get(pk=head.pk).last_seq == 1
    # the sealer's own move: forward
    record_and_seal(company_id=41, count=2)
    assert AuditChainHead.objects.get(pk=head.pk).last_seq == 3


def _sqlite_env(db_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        DATABASE_URL=f"sqlite:///{db_path}",
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        LOG_LEVEL="WARNING",
    )
    return env


def test_sqlite_triggers_refuse_update_delete_and_head_rewrites(tmp_path):
    # given: a fresh SQLite database, migrated, holding one event recorded and sealed by the app
    db_path = tmp_path / "audit.sqlite3"
    env = _sqlite_env(db_path)
    base = Path(settings.BASE_DIR)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=base,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    script = (
        "from django.db import transaction\n"
        "from audit.sealing import in_process_sealer\n"
        "from audit.services import audit_record, verify_audit_chain\n"
        "with transaction.atomic():\n"
        "    audit_record(action='create', company=3, object_type='tests.widget', object_id=1)\n"
        "in_process_sealer.flush()  # the sealer thread's round, now\n"
        "result = verify_audit_chain(company_id=3)\n"
        "print(result.ok, result.chains[0].sealed_events)\n"
    )
    shell = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=base,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.stdout.strip().splitlines()[-1] == "True 1"
    # when / then
    db = sqlite3.connect(db_path)
    try:
        for statement in (
            "UPDATE audit_auditevent SET action = 'delete'",
            "DELETE FROM audit_auditevent",
            "UPDATE audit_auditseal SET hash = 'x'",
            "DELETE FROM audit_auditseal",
            "UPDATE audit_auditchainhead SET last_seq = 0",
            "DELETE FROM audit_auditchainhead",
            # a head's hash moves only with the sealer, onto one of its seals
            "UPDATE audit_auditchainhead SET last_hash = '" + "f" * 64 + "'",
            "UPDATE audit_auditchainhead SET last_seq = 2, last_hash = '" + "f" * 64 + "'",
            "INSERT INTO audit_auditchainhead (chain, company_id, last_seq, last_hash, last_event_id,"
            " signature, updated_at) VALUES ('company:9', 9, 4, '" + "a" * 64 + "', NULL, '', '2026-01-01')",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="audit_immutable"):
                db.execute(statement)
        assert db.execute("SELECT action FROM audit_auditevent").fetchall() == [("create",)]
        assert db.execute("SELECT seq FROM audit_auditseal").fetchall() == [(1,)]
        assert db.execute("SELECT last_seq FROM audit_auditchainhead").fetchall() == [(1,)]
    finally:
        db.close()
