"""The journal lines' INSERT check looks each new line's entry up by key, whatever the statistics.

Migration 0011 told the check no sequential scan, no hash or merge join. Its two queries were
still joins of the statement's new lines to `ledger_journalentry`, and which side a nested loop
starts from is the planner's choice: with the journal's statistics saying it holds a row or two
(a young book analyzed early, or a table analyzed almost empty), the generic plan the connection
keeps walked the entries' primary key from end to end once per statement, reading every entry
of the database for each post (seen in the test suite: 3,768 entries read for 3 posts, 2
reversals and an import of 50). Each query now starts from the new lines and reaches each entry
through a LATERAL subquery that cannot be flattened into the join (its lock clause, or OFFSET 0):
one primary-key probe per entry, at any size. The entries are still locked FOR SHARE in id order.
`CREATE OR REPLACE FUNCTION` resets the function's settings: 0009's and 0011's are restated.
"""

import importlib

from django.db import migrations

from sofinance.migration_ops import postgresql_sql

SETTINGS = "SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off"

LINES_INSERTED = (
    r"""
CREATE OR REPLACE FUNCTION ledger_lines_inserted_guard() RETURNS trigger AS $$
DECLARE
    entry record;
    other bigint;
BEGIN
    -- Every entry the new lines belong to is locked FOR SHARE, drafts too (in id order): a
    -- concurrent posting of one waits for these lines and then counts them, or, posting first,
    -- is waited for and seen posted here. Each looked up by its id, from the new lines.
    FOR entry IN
        SELECT x.id, x.status
          FROM (SELECT DISTINCT n.entry_id FROM new_lines n ORDER BY n.entry_id) k
         CROSS JOIN LATERAL (
               SELECT e.id, e.status FROM ledger_journalentry e WHERE e.id = k.entry_id FOR SHARE OF e
         ) x
         ORDER BY x.id
    LOOP
        IF entry.status = 'posted' THEN
            RAISE EXCEPTION 'entry_immutable: lines cannot be added to posted journal entry %', entry.id
                USING ERRCODE = 'P0001';
        END IF;
    END LOOP;
    -- A line carries its entry's company (an entry inserted later checks its lines itself).
    SELECT n.entry_id INTO other
      FROM new_lines n
     CROSS JOIN LATERAL (
           SELECT e.company_id FROM ledger_journalentry e WHERE e.id = n.entry_id OFFSET 0
     ) e
     WHERE n.company_id <> e.company_id
     LIMIT 1;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'entry_inconsistent: lines of journal entry % disagree with its company, date or sequence',
            other USING ERRCODE = 'P0001';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql """
    + SETTINGS
    + ";\n"
)


def _previous() -> str:
    """0010's function with 0011's settings (what this migration replaces)."""
    before = importlib.import_module("ledger.migrations.0010_line_company_is_its_entrys").LINES_INSERTED
    settings = "\n".join(
        f"ALTER FUNCTION ledger_lines_inserted_guard() SET {name} = off;"
        for name in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")
    )
    return before + "\n" + settings


class Migration(migrations.Migration):
    dependencies = [("ledger", "0014_fiscal_year_closes_reachable_from_the_company")]

    operations = [postgresql_sql(LINES_INSERTED, _previous())]
