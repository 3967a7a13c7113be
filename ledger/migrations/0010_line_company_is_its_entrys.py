"""A journal line's company is its entry's, always: the database checks it, and the line's own
foreign key to the company goes.

Until now a line's `company_id` (denormalised, DESIGN.md "Scale") was only held to its entry's by
the posting checks: a draft's line could name another company, which the company foreign key
did not mind. Now, on PostgreSQL:
- lines inserted for an entry already there must carry its company (`ledger_lines_inserted_guard`);
- an entry inserted after its lines (a posting writes lines first) must carry theirs, drafts too
  (`ledger_entries_inserted_guard`; posted entries were checked already);
- a line cannot be moved to another company or to an entry of another company, and an entry
  never changes company (the row guards).
So every line's company is an existing company (its entry's, whose own foreign key stays) and
the line's foreign key to `accounts_company` checked nothing more, at a cost: one deferred check
per line at COMMIT, a quarter of a 10,000-entry import's 120,000 (a quarter of its time went on
them). It is dropped on PostgreSQL (the model says `db_constraint=False`); deleting a company
is still refused while it has entries, by the entries' foreign key. SQLite keeps its foreign key.
"""

import importlib

from django.db import migrations, models

LINES_INSERTED = r"""
CREATE OR REPLACE FUNCTION ledger_lines_inserted_guard() RETURNS trigger AS $$
DECLARE
    entry record;
    other bigint;
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
    -- A line carries its entry's company (an entry inserted later checks its lines itself).
    SELECT n.entry_id INTO other
      FROM new_lines n JOIN ledger_journalentry e ON e.id = n.entry_id
     WHERE n.company_id <> e.company_id
     LIMIT 1;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'entry_inconsistent: lines of journal entry % disagree with its company, date or sequence',
            other USING ERRCODE = 'P0001';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;
"""

ENTRIES_INSERTED = r"""
CREATE OR REPLACE FUNCTION ledger_entries_inserted_guard() RETURNS trigger AS $$
DECLARE
    bad record;
    other bigint;
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
        -- A draft inserted after lines of its own carries their company too.
        SELECT e.id INTO other
          FROM new_entries e JOIN ledger_journalline l ON l.entry_id = e.id
         WHERE e.status <> 'posted' AND l.company_id <> e.company_id
         LIMIT 1;
        IF other IS NOT NULL THEN
            RAISE EXCEPTION 'entry_inconsistent: lines of journal entry % disagree with its company, date or sequence',
                other USING ERRCODE = 'P0001';
        END IF;
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
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;
"""

LINE_GUARD = r"""
CREATE OR REPLACE FUNCTION ledger_line_guard() RETURNS trigger AS $$
DECLARE
    entry_status text;
    entry_company bigint;
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
        IF TG_OP = 'INSERT' OR NEW.entry_id <> OLD.entry_id OR NEW.company_id <> OLD.company_id THEN
            SELECT status, company_id INTO entry_status, entry_company
              FROM ledger_journalentry WHERE id = NEW.entry_id FOR SHARE;
            IF entry_status = 'posted' THEN
                RAISE EXCEPTION 'entry_immutable: lines cannot be added to posted journal entry %', NEW.entry_id
                    USING ERRCODE = 'P0001';
            END IF;
            IF entry_company <> NEW.company_id THEN
                RAISE EXCEPTION 'entry_inconsistent: lines of journal entry % disagree with its company, date or sequence',
                    NEW.entry_id USING ERRCODE = 'P0001';
            END IF;
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
"""

# An entry never changes company (a BEFORE UPDATE row trigger of its own, beside the entry guard).
ENTRY_COMPANY = r"""
CREATE OR REPLACE FUNCTION ledger_entry_company_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'entry_inconsistent: journal entry % cannot move to another company', OLD.id
        USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_company_guard
    BEFORE UPDATE OF company_id ON ledger_journalentry
    FOR EACH ROW WHEN (NEW.company_id IS DISTINCT FROM OLD.company_id)
    EXECUTE FUNCTION ledger_entry_company_guard();
"""


def _function(sql: str, name: str) -> str:
    """The CREATE OR REPLACE FUNCTION statement of `name` in an earlier migration's SQL."""
    start = sql.index(f"CREATE OR REPLACE FUNCTION {name}(")
    end = sql.index("$$ LANGUAGE plpgsql;", start) + len("$$ LANGUAGE plpgsql;")
    return sql[start:end]


def _reverse_sql() -> str:
    """The functions as migrations 0002 (the line guard), 0007 (the INSERT checks) and 0009 (their
    plans) left them, without the entry company guard."""
    triggers = importlib.import_module("ledger.migrations.0002_ledger_invariant_triggers").POSTGRES_FORWARD
    per_statement = importlib.import_module("ledger.migrations.0007_insert_checks_once_per_statement").FORWARD
    return "\n".join(
        [
            "DROP TRIGGER IF EXISTS ledger_entry_company_guard ON ledger_journalentry;",
            "DROP FUNCTION IF EXISTS ledger_entry_company_guard();",
            _function(triggers, "ledger_line_guard"),
            _function(per_statement, "ledger_lines_inserted_guard"),
            _function(per_statement, "ledger_entries_inserted_guard"),
            "ALTER FUNCTION ledger_lines_inserted_guard() SET plan_cache_mode = force_generic_plan;",
            "ALTER FUNCTION ledger_entries_inserted_guard() SET plan_cache_mode = force_generic_plan;",
        ]
    )


def _line_company_foreign_keys(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.conrelid = 'ledger_journalline'::regclass "
            "AND c.confrelid = 'accounts_company'::regclass AND a.attname = 'company_id'"
        )
        return [name for (name,) in cursor.fetchall()]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(LINES_INSERTED)
        cursor.execute(ENTRIES_INSERTED)
        cursor.execute(LINE_GUARD)
        cursor.execute(ENTRY_COMPANY)
    for name in _line_company_foreign_keys(schema_editor):
        schema_editor.execute(f"ALTER TABLE ledger_journalline DROP CONSTRAINT {schema_editor.quote_name(name)}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_reverse_sql())
    if not _line_company_foreign_keys(schema_editor):
        line = apps.get_model("ledger", "JournalLine")
        field = line._meta.get_field("company")
        schema_editor.execute(schema_editor._create_fk_sql(line, field, "_fk_%(to_table)s_%(to_column)s"))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_posting_functions_plan_once")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="journalline",
                    name="company",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.PROTECT,
                        related_name="+",
                        to="accounts.company",
                    ),
                )
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        )
    ]
