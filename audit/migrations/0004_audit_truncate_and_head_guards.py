"""Close what the row triggers of 0003 leave open.

- TRUNCATE of audit events, seals and chain heads is refused (PostgreSQL statement-level BEFORE
  TRUNCATE triggers: TRUNCATE fires no row trigger). SQLite has no TRUNCATE (its `DELETE FROM t`
  fires the row triggers of 0003).
- A chain head's hash changes only with the sealer's forward move: a head is created at the
  genesis (seq 0, hash of zeros, no event); an update that keeps `last_seq` keeps `last_hash` and
  `last_event_id`; an update that moves `last_seq` forward must land on an existing seal of the
  chain at that seq, with that hash and event (the sealer inserts the seals first, in the same
  transaction). So a head cannot be pointed at a hash no seal carries.

What these cannot stop: a database superuser or the tables' owner can disable triggers
(ALTER TABLE … DISABLE TRIGGER, session_replication_role = replica). That is what the external
anchors catch (audit/anchoring.py, docs/audit.md). Errors start with `audit_immutable:`.
"""

from django.db import migrations

AUDIT_TABLES = ("audit_auditevent", "audit_auditseal", "audit_auditchainhead")

POSTGRES_FORWARD = r"""
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_immutable: TRUNCATE of % refused: the audit trail is append-only',
        TG_TABLE_NAME USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_auditseal
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();

CREATE OR REPLACE FUNCTION audit_chain_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_immutable: the head of audit chain % cannot be deleted', OLD.chain
            USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.last_seq <> 0 OR NEW.last_hash <> repeat('0', 64) OR NEW.last_event_id IS NOT NULL THEN
            RAISE EXCEPTION 'audit_immutable: the head of audit chain % must start at the genesis',
                NEW.chain USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.chain <> OLD.chain OR NEW.company_id IS DISTINCT FROM OLD.company_id
       OR NEW.last_seq < OLD.last_seq THEN
        RAISE EXCEPTION 'audit_immutable: the head of audit chain % only moves forward', OLD.chain
            USING ERRCODE = 'P0001';
    END IF;
    IF NEW.last_seq = OLD.last_seq THEN
        IF NEW.last_hash <> OLD.last_hash OR NEW.last_event_id IS DISTINCT FROM OLD.last_event_id THEN
            RAISE EXCEPTION 'audit_immutable: the hash of the head of audit chain % cannot change',
                OLD.chain USING ERRCODE = 'P0001';
        END IF;
    ELSIF NOT EXISTS (
        SELECT 1 FROM audit_auditseal
        WHERE chain = NEW.chain AND seq = NEW.last_seq AND hash = NEW.last_hash
          AND event_id = NEW.last_event_id
    ) THEN
        RAISE EXCEPTION 'audit_immutable: the head of audit chain % can only move to one of its seals',
            OLD.chain USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER audit_chain_head_guard ON audit_auditchainhead;
CREATE TRIGGER audit_chain_head_guard
    BEFORE INSERT OR UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
"""

# Back to 0003's guard (no INSERT check, no hash check) and no TRUNCATE triggers.
POSTGRES_REVERSE = r"""
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_seal_no_truncate ON audit_auditseal;
DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_auditchainhead;
DROP FUNCTION IF EXISTS audit_refuse_truncate();

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

DROP TRIGGER audit_chain_head_guard ON audit_auditchainhead;
CREATE TRIGGER audit_chain_head_guard
    BEFORE UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
"""

SQLITE_FORWARD = [
    """
    CREATE TRIGGER audit_chain_head_genesis BEFORE INSERT ON audit_auditchainhead
    WHEN NEW.last_seq <> 0 OR NEW.last_hash <> '0000000000000000000000000000000000000000000000000000000000000000'
      OR NEW.last_event_id IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'audit_immutable: the head of an audit chain must start at the genesis'); END;
    """,
    """
    CREATE TRIGGER audit_chain_head_hash_guard BEFORE UPDATE ON audit_auditchainhead
    WHEN (NEW.last_seq = OLD.last_seq
          AND (NEW.last_hash IS NOT OLD.last_hash OR NEW.last_event_id IS NOT OLD.last_event_id))
      OR (NEW.last_seq > OLD.last_seq AND NOT EXISTS (
          SELECT 1 FROM audit_auditseal
          WHERE chain = NEW.chain AND seq = NEW.last_seq AND hash = NEW.last_hash
            AND event_id = NEW.last_event_id))
    BEGIN SELECT RAISE(ABORT, 'audit_immutable: the hash of an audit chain head only moves to one of its seals'); END;
    """,
]

SQLITE_TRIGGERS = ["audit_chain_head_genesis", "audit_chain_head_hash_guard"]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
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
    dependencies = [("audit", "0003_audit_append_only_triggers")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
