"""Database triggers that keep the audit trail append-only, whatever writes (ORM, admin, raw SQL).

- Audit events and seals are never updated or deleted.
- A chain head is never deleted, never renamed, and its `last_seq` never goes backwards (so the
  head cannot be rewound to hide sealed events removed from the tail).

Errors start with `audit_immutable:` (mapped to a 409 by sofinance.db_errors).

TRUNCATE fires no row trigger: the test suite's flush between transactional tests truncates on
PostgreSQL. On SQLite Django's flush deletes rows and is refused once audit rows exist; reset an
embedded database by deleting its file and migrating again (see docs/audit.md).
"""

from django.db import migrations

POSTGRES_FORWARD = r"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_immutable: % of % row % refused: the audit trail is append-only',
        TG_OP, TG_TABLE_NAME, OLD.event_id USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_refuse_event_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_immutable: % of audit event % refused: the audit trail is append-only',
        TG_OP, OLD.id USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_event_change();

CREATE TRIGGER audit_seal_append_only
    BEFORE UPDATE OR DELETE ON audit_auditseal
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

CREATE OR REPLACE FUNCTION audit_chain_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_immutable: the head of audit chain % cannot be deleted', OLD.chain
            USING ERRCODE = 'P0001';
    END IF;
    IF NEW.chain <> OLD.chain OR NEW.company_id IS DISTINCT FROM OLD.company_id
       OR NEW.last_seq < OLD.last_seq THEN
        RAISE EXCEPTION 'audit_immutable: the head of audit chain % only moves forward', OLD.chain
            USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_chain_head_guard
    BEFORE UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS audit_chain_head_guard ON audit_auditchainhead;
DROP FUNCTION IF EXISTS audit_chain_head_guard();
DROP TRIGGER IF EXISTS audit_seal_append_only ON audit_auditseal;
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_refuse_event_change();
DROP FUNCTION IF EXISTS audit_refuse_change();
"""

SQLITE_FORWARD = [
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit_immutable: audit events cannot be changed'); END;
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit_immutable: audit events cannot be deleted'); END;
    """,
    """
    CREATE TRIGGER audit_seal_no_update BEFORE UPDATE ON audit_auditseal
    BEGIN SELECT RAISE(ABORT, 'audit_immutable: audit seals cannot be changed'); END;
    """,
    """
    CREATE TRIGGER audit_seal_no_delete BEFORE DELETE ON audit_auditseal
    BEGIN SELECT RAISE(ABORT, 'audit_immutable: audit seals cannot be deleted'); END;
    """,
    """
    CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_auditchainhead
    BEGIN SELECT RAISE(ABORT, 'audit_immutable: the head of an audit chain cannot be deleted'); END;
    """,
    """
    CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_auditchainhead
    WHEN NEW.chain IS NOT OLD.chain OR NEW.company_id IS NOT OLD.company_id
      OR NEW.last_seq < OLD.last_seq
    BEGIN SELECT RAISE(ABORT, 'audit_immutable: the head of an audit chain only moves forward'); END;
    """,
]

SQLITE_TRIGGERS = [
    "audit_event_no_update",
    "audit_event_no_delete",
    "audit_seal_no_update",
    "audit_seal_no_delete",
    "audit_chain_head_no_delete",
    "audit_chain_head_forward_only",
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No parameters: the plpgsql bodies use % placeholders of their own.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"No audit triggers for database vendor {vendor!r}.")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES_REVERSE)
    elif vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_audit_seals_chain_heads")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
