"""`audit_events_insert_signed(events jsonb)`: the same rows as `audit_events_insert` (migration
0005), each given as the content the application signed and its signature.

The application serialises an event's content once, to sign it (audit.signing.canonical_content);
the rows it sends are those very bytes, `[<content>, "<signature>"]`, instead of a second
encoding of the same fields (a bulk post records a thousand events with their lines). The
function reads each column from the content by name, so what is stored is what was signed.
0005's function stays for callers deployed before this one.
"""

from django.db import migrations

from sofinance.migration_ops import postgresql_sql

FORWARD = r"""
CREATE OR REPLACE FUNCTION audit_events_insert_signed(p_events jsonb) RETURNS void AS $$
BEGIN
    WITH inserted AS (
        INSERT INTO audit_auditevent (uid, created_at, company_id, actor_type, actor_id, actor_repr, action,
                                      object_type, object_id, object_repr, changes, metadata, request_id, ip,
                                      user_agent, signature)
        SELECT (c->>'uid')::uuid, (c->>'created_at')::timestamptz, (c->>'company_id')::bigint, c->>'actor_type',
               (c->>'actor_id')::bigint, c->>'actor_repr', c->>'action', c->>'object_type', c->>'object_id',
               c->>'object_repr', c->'changes', c->'metadata', c->>'request_id', (c->>'ip')::inet,
               c->>'user_agent', r->>1
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(r, n)
          CROSS JOIN LATERAL (SELECT r->0 AS c) AS content
         ORDER BY n
        RETURNING id, company_id
    )
    INSERT INTO audit_auditpendingseal (event_id, chain)
    SELECT id, CASE WHEN company_id IS NULL THEN 'global' ELSE 'company:' || company_id END FROM inserted;
END;
$$ LANGUAGE plpgsql;
"""

REVERSE = "DROP FUNCTION IF EXISTS audit_events_insert_signed(jsonb);"


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_audit_event_uids_time_ordered")]

    operations = [postgresql_sql(FORWARD, REVERSE)]
