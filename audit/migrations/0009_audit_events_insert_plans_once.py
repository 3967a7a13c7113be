"""`audit_events_insert_signed` plans its statement once per connection (generic plan).

Every posting calls it; left to PL/pgSQL's plan cache its INSERT ... SELECT from the events'
JSON was planned again on every call (see ledger migration 0009 for the measure). Scoped to the
function; a later `CREATE OR REPLACE` of it must restate the setting.
"""

from django.db import migrations

from sofinance.migration_ops import postgresql_sql

FUNCTION = "audit_events_insert_signed(jsonb)"


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_audit_events_inserted_from_signed_content")]

    operations = [
        postgresql_sql(
            f"ALTER FUNCTION {FUNCTION} SET plan_cache_mode = force_generic_plan;",
            f"ALTER FUNCTION {FUNCTION} RESET plan_cache_mode;",
        )
    ]
