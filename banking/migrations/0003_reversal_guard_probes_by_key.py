"""The reversal guard looks up the reversed entry's own matches by key, whatever the statistics.

`banking_reversal_guard` (migration 0002) refuses to link a reversal dated into a reconciled
statement to an entry matched to that statement. It asked one query joining the entry's lines,
their matches, the bank lines and the statements. Planned while the banking tables were empty or
never analyzed (a new database; autovacuum off or not yet run), that join started from the other
end: every reconciled statement of every company whose end date falls after the reversal's, a
bitmap scan of `statement_account_end_idx`, and only then their lines and matches. Its cost grew
with the company's reconciled history, on every reversal and on every update of an entry that
links one.

The guard now walks from the entry: its lines (by entry id), each line's match (one at most, by
its unique journal line), that bank line's statement (by primary key). Each is a single-table
look-up by key, the right plan at any size (banking/tests/test_db_invariants.py biases the
planner against index reads inside the guard: 0002's guard then read all 201 statements of the
test's history, this one reads the entry's match, bank line and statement and nothing else). The function also forbids
sequential scans, as the posting functions do (ledger migration 0011): a guard, not a need, in
every plan measured. Same rule, same
message, same error code; SQLite's trigger (migration 0002) is unchanged.
"""

import importlib

from django.db import migrations

from sofinance.migration_ops import postgresql_sql

FORWARD = r"""
CREATE OR REPLACE FUNCTION banking_reversal_guard() RETURNS trigger AS $$
DECLARE
    reversal_date date;
    line_id bigint;
    matched_bank_line bigint;
    statement bigint;
    statement_status text;
    statement_end date;
BEGIN
    IF NOT (OLD.reversed_by_id IS NULL AND NEW.reversed_by_id IS NOT NULL) THEN
        RETURN NEW;
    END IF;
    SELECT date INTO reversal_date FROM ledger_journalentry WHERE id = NEW.reversed_by_id;
    FOR line_id IN SELECT id FROM ledger_journalline WHERE entry_id = NEW.id LOOP
        SELECT bank_line_id INTO matched_bank_line FROM banking_bankmatch WHERE journal_line_id = line_id;
        CONTINUE WHEN NOT FOUND;
        SELECT statement_id INTO statement FROM banking_bankstatementline WHERE id = matched_bank_line;
        SELECT status, end_date INTO statement_status, statement_end FROM banking_bankstatement WHERE id = statement;
        IF statement_status = 'reconciled' AND statement_end >= reversal_date THEN
            RAISE EXCEPTION 'statement_reconciled: journal entry % is matched to a reconciled bank statement; date the reversal after the statement or reopen it',
                OLD.number USING ERRCODE = 'P0001';
        END IF;
    END LOOP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

ALTER FUNCTION banking_reversal_guard() SET enable_seqscan = off;
"""

# Migration 0002's function, as it was (CREATE OR REPLACE resets the function's settings too).
_V2 = importlib.import_module("banking.migrations.0002_banking_invariant_triggers").POSTGRES_FORWARD
REVERSE = _V2[
    _V2.index("CREATE OR REPLACE FUNCTION banking_reversal_guard()") : _V2.index("CREATE TRIGGER banking_reversal_guard")
]


class Migration(migrations.Migration):
    dependencies = [("banking", "0002_banking_invariant_triggers")]

    operations = [postgresql_sql(FORWARD, REVERSE)]
