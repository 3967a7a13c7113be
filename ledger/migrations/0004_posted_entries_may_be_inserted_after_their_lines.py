"""A journal entry may be inserted already posted, after its lines, on SQLite as on PostgreSQL.

Posting writes an entry's lines first and then the entry with status `posted` (one insert, no
draft-then-update). The checks are the ones a draft's transition to `posted` gets: at least two
lines, lines summing to zero, every line carrying the entry's company, date and sequence, no
closed or locked period on the date (a closing entry may use a closed one). PostgreSQL's
`ledger_entry_guard` already runs them on INSERT as on UPDATE (migration 0002); on SQLite the
trigger that refused every posted insert is replaced by one that runs the same checks. An entry
inserted as posted without its lines is still refused (`unbalanced_entry`).
"""

from django.db import migrations

# SQLite keeps decimals as floating point: a sum is "zero" when below half the smallest unit.
INSERT_CHECK = """
CREATE TRIGGER ledger_entry_insert_posted BEFORE INSERT ON ledger_journalentry
WHEN NEW.status = 'posted'
BEGIN
    SELECT RAISE(ABORT, 'unbalanced_entry: a journal entry needs at least two lines to be posted')
     WHERE (SELECT count(*) FROM ledger_journalline WHERE entry_id = NEW.id) < 2;
    SELECT RAISE(ABORT, 'unbalanced_entry: the journal entry does not balance')
     WHERE abs((SELECT coalesce(sum(base_amount), 0) FROM ledger_journalline WHERE entry_id = NEW.id)) >= 0.00005;
    SELECT RAISE(ABORT, 'entry_inconsistent: lines disagree with the entry''s company, date or sequence')
     WHERE EXISTS (SELECT 1 FROM ledger_journalline l WHERE l.entry_id = NEW.id
                    AND (l.company_id IS NOT NEW.company_id OR l.date IS NOT NEW.date
                         OR l.entry_sequence IS NOT NEW.sequence));
    SELECT RAISE(ABORT, 'period_closed: the date falls in a closed or locked period')
     WHERE EXISTS (SELECT 1 FROM ledger_accountingperiod p
                    WHERE p.company_id = NEW.company_id
                      AND (p.status = 'locked' OR (p.status = 'closed' AND NEW.source <> 'closing'))
                      AND NEW.date BETWEEN p.start_date AND p.end_date);
END;
"""

REFUSE_ALL = """
CREATE TRIGGER ledger_entry_insert_posted BEFORE INSERT ON ledger_journalentry
WHEN NEW.status = 'posted'
BEGIN SELECT RAISE(ABORT, 'unbalanced_entry: a journal entry needs at least two lines to be posted'); END;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS ledger_entry_insert_posted")
        schema_editor.execute(INSERT_CHECK)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS ledger_entry_insert_posted")
        schema_editor.execute(REFUSE_ALL)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_drop_index_prefixes_of_composite_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
