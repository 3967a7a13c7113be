"""The journal's INSERT checks look their rows up by key, whatever the statistics said when planned.

Migration 0009 pinned the INSERT checks (`ledger_lines_inserted_guard`,
`ledger_entries_inserted_guard`) to a generic plan, built once per connection. A plan built while
the journal was small, or never analyzed (a new database, or autovacuum not yet run), joins the
statement's new lines to *every* journal entry: a sequential scan of `ledger_journalentry` and a
hash join, chosen because the table looked like a few pages. The connection then keeps that plan
while the journal grows, so each posting reads the whole journal twice: measured on a fresh
database, single posts fell from ~400 to ~185 per second after 4,000 entries, and auto_explain
showed `Seq Scan on ledger_journalentry` under the lines check.

Every query of these checks starts from the statement's own rows (the transition tables) and
looks each one up by key: an entry by id, an entry's lines by entry id, a company's periods by
start date. That is the right plan at any size, so the two functions are told so, scoped to
them as plan_cache_mode is: no sequential scan of a table, no hash or merge join (nested loops
over the new rows, each probing an index). The other functions' plans were already key look-ups
and inserts (checked with auto_explain on an empty and on a 2-million-line journal).

`CREATE OR REPLACE FUNCTION` resets a function's settings: a later migration replacing one of
these functions must restate them (ledger/tests/test_posting_engine.py checks it).
"""

from django.db import migrations

from sofinance.migration_ops import postgresql_sql

FUNCTIONS = ["ledger_lines_inserted_guard()", "ledger_entries_inserted_guard()"]
SETTINGS = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")

FORWARD = "\n".join(
    f"ALTER FUNCTION {function} SET {setting} = off;" for function in FUNCTIONS for setting in SETTINGS
)
REVERSE = "\n".join(f"ALTER FUNCTION {function} RESET {setting};" for function in FUNCTIONS for setting in SETTINGS)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_line_company_is_its_entrys")]

    operations = [postgresql_sql(FORWARD, REVERSE)]
