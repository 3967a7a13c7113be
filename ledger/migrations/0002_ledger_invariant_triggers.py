"""Database triggers that hold the ledger's invariants whatever writes the rows (ORM, admin, raw SQL).

- A journal entry becomes `posted` only if it has at least two lines, its lines' base amounts sum
  to zero, every line carries the entry's company, date and sequence, and no closed or locked
  period covers its date (a year-end closing entry may go into a closed, never a locked, period).
  An entry cannot be inserted as posted: its lines do not exist yet.
- A posted entry is never updated or deleted; the one change allowed is setting `reversed_by`
  once, from null, with every other column unchanged.
- Lines of a posted entry are never inserted, updated or deleted.
- A locked period never changes.

Errors start with the domain code (`unbalanced_entry:`, `entry_immutable:`, `period_closed:`) so
the application can map a refusal by the database to the same API error as the service's.
"""

from django.db import migrations

POSTGRES_FORWARD = r"""
CREATE OR REPLACE FUNCTION ledger_entry_guard() RETURNS trigger AS $$
DECLARE
    line_count integer;
    base_total numeric;
    consistent boolean;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'posted' THEN
            RAISE EXCEPTION 'entry_immutable: posted journal entry % cannot be deleted', OLD.id
                USING ERRCODE = 'P0001';
        END IF;
        RETURN OLD;
    END IF;

    IF TG_OP = 'UPDATE' AND OLD.status = 'posted' THEN
        IF OLD.reversed_by_id IS NULL AND NEW.reversed_by_id IS NOT NULL
           AND (to_jsonb(NEW) - 'reversed_by_id') = (to_jsonb(OLD) - 'reversed_by_id') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'entry_immutable: posted journal entry % cannot be changed', OLD.id
            USING ERRCODE = 'P0001';
    END IF;

    IF NEW.status = 'posted' THEN
        SELECT count(*), coalesce(sum(base_amount), 0),
               coalesce(bool_and(l.company_id = NEW.company_id AND l.date = NEW.date
                                 AND l.entry_sequence IS NOT DISTINCT FROM NEW.sequence), true)
          INTO line_count, base_total, consistent
          FROM ledger_journalline l WHERE l.entry_id = NEW.id;
        IF line_count < 2 THEN
            RAISE EXCEPTION 'unbalanced_entry: journal entry % needs at least two lines to be posted (has %)',
                NEW.id, line_count USING ERRCODE = 'P0001';
        END IF;
        IF base_total <> 0 THEN
            RAISE EXCEPTION 'unbalanced_entry: journal entry % does not balance (lines sum to %)',
                NEW.id, base_total USING ERRCODE = 'P0001';
        END IF;
        IF NOT consistent THEN
            RAISE EXCEPTION 'entry_inconsistent: lines of journal entry % disagree with its company, date or sequence',
                NEW.id USING ERRCODE = 'P0001';
        END IF;
        -- Year-end closing entries may post into a closed (never a locked) period.
        IF EXISTS (
            SELECT 1 FROM ledger_accountingperiod p
             WHERE p.company_id = NEW.company_id
               AND (p.status = 'locked' OR (p.status = 'closed' AND NEW.source <> 'closing'))
               AND NEW.date BETWEEN p.start_date AND p.end_date
        ) THEN
            RAISE EXCEPTION 'period_closed: % falls in a closed or locked period', NEW.date
                USING ERRCODE = 'P0001';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_entry_guard
    BEFORE INSERT OR UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_guard();

CREATE OR REPLACE FUNCTION ledger_line_guard() RETURNS trigger AS $$
DECLARE
    entry_status text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        -- FOR SHARE waits for a concurrent posting of the entry to finish, then sees it posted.
        SELECT status INTO entry_status FROM ledger_journalentry WHERE id = OLD.entry_id FOR SHARE;
        IF entry_status = 'posted' THEN
            RAISE EXCEPTION 'entry_immutable: lines of posted journal entry % cannot change', OLD.entry_id
                USING ERRCODE = 'P0001';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF TG_OP = 'INSERT' OR NEW.entry_id <> OLD.entry_id THEN
            SELECT status INTO entry_status FROM ledger_journalentry WHERE id = NEW.entry_id FOR SHARE;
            IF entry_status = 'posted' THEN
                RAISE EXCEPTION 'entry_immutable: lines cannot be added to posted journal entry %', NEW.entry_id
                    USING ERRCODE = 'P0001';
            END IF;
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_line_guard
    BEFORE INSERT OR UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_line_guard();

CREATE OR REPLACE FUNCTION ledger_period_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'locked' THEN
        RAISE EXCEPTION 'period_locked: accounting period % is locked', OLD.id USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_period_guard
    BEFORE UPDATE OR DELETE ON ledger_accountingperiod
    FOR EACH ROW EXECUTE FUNCTION ledger_period_guard();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS ledger_period_guard ON ledger_accountingperiod;
DROP FUNCTION IF EXISTS ledger_period_guard();
DROP TRIGGER IF EXISTS ledger_line_guard ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_line_guard();
DROP TRIGGER IF EXISTS ledger_entry_guard ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_entry_guard();
"""

# Every column but reversed_by_id: a posted entry may change nothing else.
_ENTRY_COLUMNS = [
    "id", "company_id", "number", "sequence", "date", "description", "reference", "source",
    "status", "created_by_id", "created_at", "updated_at", "posted_by_id", "posted_at",
    "reversal_of_id",
]
_SAME_EXCEPT_REVERSAL = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _ENTRY_COLUMNS)

# SQLite keeps decimals as floating point: a sum is "zero" when below half the smallest unit.
SQLITE_FORWARD = [
    """
    CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_journalentry
    WHEN OLD.status = 'posted'
    BEGIN SELECT RAISE(ABORT, 'entry_immutable: posted journal entries cannot be deleted'); END;
    """,
    f"""
    CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE ON ledger_journalentry
    WHEN OLD.status = 'posted' AND NOT (
        OLD.reversed_by_id IS NULL AND NEW.reversed_by_id IS NOT NULL AND {_SAME_EXCEPT_REVERSAL}
    )
    BEGIN SELECT RAISE(ABORT, 'entry_immutable: posted journal entries cannot be changed'); END;
    """,
    """
    CREATE TRIGGER ledger_entry_insert_posted BEFORE INSERT ON ledger_journalentry
    WHEN NEW.status = 'posted'
    BEGIN SELECT RAISE(ABORT, 'unbalanced_entry: a journal entry needs at least two lines to be posted'); END;
    """,
    """
    CREATE TRIGGER ledger_entry_post_check BEFORE UPDATE ON ledger_journalentry
    WHEN OLD.status = 'draft' AND NEW.status = 'posted'
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
    """,
    """
    CREATE TRIGGER ledger_line_no_insert BEFORE INSERT ON ledger_journalline
    WHEN (SELECT status FROM ledger_journalentry WHERE id = NEW.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'entry_immutable: lines cannot be added to a posted journal entry'); END;
    """,
    """
    CREATE TRIGGER ledger_line_no_update BEFORE UPDATE ON ledger_journalline
    WHEN (SELECT status FROM ledger_journalentry WHERE id = OLD.entry_id) = 'posted'
      OR (SELECT status FROM ledger_journalentry WHERE id = NEW.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'entry_immutable: lines of a posted journal entry cannot change'); END;
    """,
    """
    CREATE TRIGGER ledger_line_no_delete BEFORE DELETE ON ledger_journalline
    WHEN (SELECT status FROM ledger_journalentry WHERE id = OLD.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'entry_immutable: lines of a posted journal entry cannot be deleted'); END;
    """,
    """
    CREATE TRIGGER ledger_period_locked_update BEFORE UPDATE ON ledger_accountingperiod
    WHEN OLD.status = 'locked'
    BEGIN SELECT RAISE(ABORT, 'period_locked: a locked accounting period cannot change'); END;
    """,
    """
    CREATE TRIGGER ledger_period_locked_delete BEFORE DELETE ON ledger_accountingperiod
    WHEN OLD.status = 'locked'
    BEGIN SELECT RAISE(ABORT, 'period_locked: a locked accounting period cannot be deleted'); END;
    """,
]

SQLITE_TRIGGERS = [
    "ledger_entry_no_delete", "ledger_entry_immutable", "ledger_entry_insert_posted",
    "ledger_entry_post_check", "ledger_line_no_insert", "ledger_line_no_update",
    "ledger_line_no_delete", "ledger_period_locked_update", "ledger_period_locked_delete",
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No parameters: the plpgsql bodies use % placeholders of their own.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"No ledger triggers for database vendor {vendor!r}.")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)
    elif vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_journal_entries_periods_rates_balances")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
