"""The posting functions and the journal's INSERT checks look rows up by key, whatever the
statistics said when their plans were made.

Migration 0009 pinned the posting functions (`ledger_posting_reserve`, `ledger_posting_write`)
and the journal's INSERT checks (`ledger_lines_inserted_guard`, `ledger_entries_inserted_guard`)
to a generic plan, built once per connection. A plan built while the journal was small, or never
analyzed (a new database, or autovacuum not yet run), reads the whole journal and the connection
keeps it while the journal grows:

- the lines check joined the statement's new lines to *every* journal entry (a sequential scan of
  `ledger_journalentry` and a hash join): measured on a fresh database, single posts fell from
  ~400 to ~185 per second after 4,000 entries, auto_explain showing `Seq Scan on
  ledger_journalentry` under the check;
- the write function's reversal link (`UPDATE ... WHERE e.id = ... AND e.reversed_by_id IS NULL`)
  read every unreversed entry and hash-joined them to the reversals (migration 0012 removes the
  index that served it).

Every query of these functions starts from the call's own rows (its arguments, or the
statement's transition tables) and looks each one up by key: an entry by id, an entry's lines by
entry id, a company's accounts, periods and counter. That is the right plan at any size, so the
four functions are told so, scoped to them as plan_cache_mode is: no sequential scan of a table,
no hash or merge join (nested loops over the call's rows, each probing an index).

`CREATE OR REPLACE FUNCTION` resets a function's settings: a later migration replacing one of
these functions must restate them (ledger/tests/test_posting_engine.py checks it).
"""

from django.db import migrations

from sofinance.migration_ops import postgresql_sql

FUNCTIONS = [
    "ledger_posting_reserve(bigint, integer, integer, date, date, bigint[], text[])",
    "ledger_posting_write(bigint, bigint, timestamptz, jsonb, jsonb, jsonb, jsonb, jsonb)",
    "ledger_lines_inserted_guard()",
    "ledger_entries_inserted_guard()",
]
SETTINGS = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")

FORWARD = "\n".join(
    f"ALTER FUNCTION {function} SET {setting} = off;" for function in FUNCTIONS for setting in SETTINGS
)
REVERSE = "\n".join(f"ALTER FUNCTION {function} RESET {setting};" for function in FUNCTIONS for setting in SETTINGS)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_line_company_is_its_entrys")]

    operations = [postgresql_sql(FORWARD, REVERSE)]
