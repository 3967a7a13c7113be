"""The posting functions and the journal's INSERT checks plan their statements once per connection.

PL/pgSQL caches each statement's plan, but for a statement with parameters it first builds five
custom plans and keeps re-planning on every call for as long as the generic plan looks dearer
than a custom one. The posting functions' statements (the journal counter upsert, the account
and period look-ups with `= ANY(...)`, the inserts from `jsonb_array_elements`) stay on custom
plans forever: every posting paid their planning again, about a quarter of the reserve call.
Their plans do not depend on the values (key look-ups, one row per input row), so the functions
are set to the generic plan (`plan_cache_mode = force_generic_plan`, scoped to each function:
nothing else on the connection changes). Measured in one process, blocks of 200 single posts
alternated: 12-18% less time per entry (BENCHMARKS.md, fourth session).

`CREATE OR REPLACE FUNCTION` resets a function's settings: a later migration replacing one of
these functions must restate the setting (ledger/tests/test_posting_engine.py checks it).
"""

from django.db import migrations

from sofinance.migration_ops import postgresql_sql

FUNCTIONS = [
    "ledger_posting_reserve(bigint, integer, integer, date, date, bigint[], text[])",
    "ledger_posting_write(bigint, bigint, timestamptz, jsonb, jsonb, jsonb, jsonb, jsonb)",
    "ledger_lines_inserted_guard()",
    "ledger_entries_inserted_guard()",
]

FORWARD = "\n".join(f"ALTER FUNCTION {f} SET plan_cache_mode = force_generic_plan;" for f in FUNCTIONS)
REVERSE = "\n".join(f"ALTER FUNCTION {f} RESET plan_cache_mode;" for f in FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_posting_functions_in_fewer_statements")]

    operations = [postgresql_sql(FORWARD, REVERSE)]
