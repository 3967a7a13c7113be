"""`audit_events_insert(events jsonb)`: record signed events and queue them for sealing, in the
caller's transaction, as one function call (audit.services.audit_events_write on PostgreSQL).

The hot write paths (posting) send it in the same statement as their own writes, so recording
their audit events costs no statement of its own. `events` is a JSON array of rows in the order
of audit.services.PreparedEvent's fields; the events are signed by the application (the key never
reaches the database). Each event's pending row names its chain: 'global' or 'company:<id>'
(audit.models.chain_key). SQLite has no functions: there the ORM writes the same rows.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION audit_events_insert(p_events jsonb) RETURNS void AS $$
BEGIN
    WITH inserted AS (
        INSERT INTO audit_auditevent (uid, created_at, company_id, actor_type, actor_id, actor_repr, action,
                                      object_type, object_id, object_repr, changes, metadata, request_id, ip,
                                      user_agent, signature)
        SELECT (r->>0)::uuid, (r->>1)::timestamptz, (r->>2)::bigint, r->>3, (r->>4)::bigint, r->>5, r->>6,
               r->>7, r->>8, r->>9, r->10, r->11, r->>12, (r->>13)::inet, r->>14, r->>15
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(r, n) ORDER BY n
        RETURNING id, company_id
    )
    INSERT INTO audit_auditpendingseal (event_id, chain)
    SELECT id, CASE WHEN company_id IS NULL THEN 'global' ELSE 'company:' || company_id END FROM inserted;
END;
$$ LANGUAGE plpgsql;
"""

REVERSE = "DROP FUNCTION IF EXISTS audit_events_insert(jsonb);"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_audit_truncate_and_head_guards")]

    operations = [migrations.RunPython(create_function, drop_function)]
