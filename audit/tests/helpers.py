"""Helpers for the audit tests: recording events directly, and tampering around the application."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from django.db import connection, transaction

from audit.models import AuditEvent, AuditSeal
from audit.services import audit_chains_seal, audit_record


def record_events(company_id: int | None, count: int, *, action: str = "update") -> list[AuditEvent]:
    """`count` events for one company in one transaction (not sealed: no commit in a test)."""
    with transaction.atomic():
        return [
            audit_record(
                action=action,
                company=company_id,
                object_type="tests.widget",
                object_id=n,
                object_repr=f"Widget {n}",
                changes={"quantity": {"before": n, "after": n + 1}},
            )
            for n in range(1, count + 1)
        ]


def record_and_seal(company_id: int | None, count: int) -> list[AuditEvent]:
    events = record_events(company_id, count)
    audit_chains_seal()
    return events


def seq_of(event: AuditEvent) -> int:
    return AuditSeal.objects.get(event=event).seq


@contextmanager
def triggers_disabled(*tables: str):
    """What someone with table-owner rights can do: switch the append-only triggers off."""
    with connection.cursor() as cursor:
        # ALTER TABLE refuses while the test's transaction has deferred foreign-key checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def forge_event(*, company_id: int | None, signature: str = "0" * 64, action: str = "delete") -> int:
    """Insert an event by raw SQL, as someone without the HMAC key would; returns its id."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_auditevent
                (uid, created_at, company_id, actor_type, actor_id, actor_repr, action, object_type,
                 object_id, object_repr, changes, metadata, request_id, ip, user_agent, signature)
            VALUES (%s, now(), %s, 'user', 1, 'mallory', %s, 'accounts.company', '1', 'Forged', '{}', '{}',
                    '', NULL, '', %s)
            RETURNING id
            """,
            [str(uuid.uuid4()), company_id, action, signature],
        )
        return cursor.fetchone()[0]
