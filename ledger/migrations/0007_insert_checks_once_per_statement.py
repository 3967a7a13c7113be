"""The invariant checks on inserted journal rows run once per statement, not once per row.

Posting inserts a batch's lines in one statement and its entries in another (a bulk request:
3,000 lines and 1,000 entries). Migration 0002's row triggers ran for each of those rows: about
a tenth of a bulk post's time went to calling PL/pgSQL 4,000 times. On PostgreSQL the INSERT
checks now run once per statement, after it, over the statement's new rows (a transition
table), with exactly the rules and messages of the row triggers:

- lines may not be added to a posted entry (`entry_immutable`; FOR SHARE waits for a concurrent
  posting of that entry, then sees it posted);
- an entry inserted as posted needs at least two lines summing to zero, each carrying its
  company, date and sequence, and no closed or locked period on its date, a year-end closing
  entry excepted from closed ones (`unbalanced_entry`, `entry_inconsistent`, `period_closed`).

An AFTER ... FOR EACH STATEMENT trigger fires when its statement ends, also inside a function,
so a refused row still fails its statement and nothing of it is written. UPDATE and DELETE keep
the row triggers of migration 0002 (they compare each row's old and new values). SQLite keeps
its row triggers (migrations 0002 and 0004).
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION ledger_lines_inserted_guard() RETURNS trigger AS $$
DECLARE
    entry record;
BEGIN
    -- Every entry the new lines belong to is locked FOR SHARE, drafts too (in id order): a
    -- concurrent posting of one waits for these lines and then counts them, or, posting first,
    -- is waited for and seen posted here.
    FOR entry IN
        SELECT e.id, e.status FROM ledger_journalentry e
         WHERE e.id IN (SELECT n.entry_id FROM new_lines n)
         ORDER BY e.id
           FOR SHARE OF e
    LOOP
        IF entry.status = 'posted' THEN
            RAISE EXCEPTION 'entry_immutable: lines cannot be added to posted journal entry %', entry.id
                USING ERRCODE = 'P0001';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION ledger_entries_inserted_guard() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    SELECT e.id, e.date, c.line_count, c.base_total, c.consistent
      INTO bad
      FROM new_entries e
     CROSS JOIN LATERAL (
           SELECT count(*) AS line_count, coalesce(sum(l.base_amount), 0) AS base_total,
                  coalesce(bool_and(l.company_id = e.company_id AND l.date = e.date
                                    AND l.entry_sequence IS NOT DISTINCT FROM e.sequence), true) AS consistent
             FROM ledger_journalline l WHERE l.entry_id = e.id
     ) c
     WHERE e.status = 'posted'
       AND (c.line_count < 2 OR c.base_total <> 0 OR NOT c.consistent
            OR EXISTS (
                SELECT 1 FROM ledger_accountingperiod p
                 WHERE p.company_id = e.company_id
                   AND (p.status = 'locked' OR (p.status = 'closed' AND e.source <> 'closing'))
                   AND e.date BETWEEN p.start_date AND p.end_date))
     ORDER BY e.id
     LIMIT 1;
    IF bad.id IS NULL THEN
        RETURN NULL;
    END IF;
    IF bad.line_count < 2 THEN
        RAISE EXCEPTION 'unbalanced_entry: journal entry % needs at least two lines to be posted (has %)',
            bad.id, bad.line_count USING ERRCODE = 'P0001';
    END IF;
    IF bad.base_total <> 0 THEN
        RAISE EXCEPTION 'unbalanced_entry: journal entry % does not balance (lines sum to %)',
            bad.id, bad.base_total USING ERRCODE = 'P0001';
    END IF;
    IF NOT bad.consistent THEN
        RAISE EXCEPTION 'entry_inconsistent: lines of journal entry % disagree with its company, date or sequence',
            bad.id USING ERRCODE = 'P0001';
    END IF;
    -- Otherwise its date is in a closed or locked period.
    RAISE EXCEPTION 'period_closed: % falls in a closed or locked period', bad.date USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER ledger_line_guard ON ledger_journalline;
CREATE TRIGGER ledger_line_guard
    BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_line_guard();
CREATE TRIGGER ledger_lines_inserted_guard
    AFTER INSERT ON ledger_journalline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_lines_inserted_guard();

DROP TRIGGER ledger_entry_guard ON ledger_journalentry;
CREATE TRIGGER ledger_entry_guard
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_guard();
CREATE TRIGGER ledger_entries_inserted_guard
    AFTER INSERT ON ledger_journalentry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_inserted_guard();
"""

REVERSE = r"""
DROP TRIGGER ledger_entries_inserted_guard ON ledger_journalentry;
DROP TRIGGER ledger_entry_guard ON ledger_journalentry;
CREATE TRIGGER ledger_entry_guard
    BEFORE INSERT OR UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_guard();
DROP FUNCTION ledger_entries_inserted_guard();

DROP TRIGGER ledger_lines_inserted_guard ON ledger_journalline;
DROP TRIGGER ledger_line_guard ON ledger_journalline;
CREATE TRIGGER ledger_line_guard
    BEFORE INSERT OR UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_line_guard();
DROP FUNCTION ledger_lines_inserted_guard();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(REVERSE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_balance_buckets_updated_in_place")]

    operations = [migrations.RunPython(forwards, backwards)]
