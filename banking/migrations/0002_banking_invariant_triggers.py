"""Database triggers that hold the banking invariants whatever writes the rows (ORM, admin, raw SQL).

- A match links a bank line to a posted journal line of the same company on the ledger account
  of the bank line's bank account (`match_wrong_account`); matches are inserted or deleted, never
  updated (`match_immutable`).
- A reconciled statement is frozen: its lines are not inserted, updated or deleted, their matches
  are not inserted or deleted, and the statement itself is not deleted; its one change is being
  reopened (status back to `open`, every other column unchanged) (`statement_reconciled`).
- A journal entry with a line matched to a reconciled statement is not reversed into that
  statement's dates (the reversal would change the reconciled book balance); a reversal dated
  after the statement's end is allowed (a bounced payment) (`statement_reconciled`).
- A bank account with statements keeps its ledger account, currency and company
  (`bank_account_in_use`).

Errors start with the domain code so sofinance.db_errors maps a refusal by the database to the
same API error as the service's (banking.apps registers them).
"""

from django.db import migrations

POSTGRES_FORWARD = r"""
CREATE OR REPLACE FUNCTION banking_match_guard() RETURNS trigger AS $$
DECLARE
    bank_ledger_account bigint;
    bank_company bigint;
    statement_status text;
    line_account bigint;
    line_company bigint;
    line_sequence bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'match_immutable: bank match % is created or removed, never changed', OLD.id
            USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT s.status INTO statement_status
          FROM banking_bankstatementline bl JOIN banking_bankstatement s ON s.id = bl.statement_id
         WHERE bl.id = OLD.bank_line_id;
        IF statement_status = 'reconciled' THEN
            RAISE EXCEPTION 'statement_reconciled: bank line % belongs to a reconciled statement; reopen it first',
                OLD.bank_line_id USING ERRCODE = 'P0001';
        END IF;
        RETURN OLD;
    END IF;
    SELECT ba.account_id, ba.company_id, s.status INTO bank_ledger_account, bank_company, statement_status
      FROM banking_bankstatementline bl
      JOIN banking_bankaccount ba ON ba.id = bl.bank_account_id
      JOIN banking_bankstatement s ON s.id = bl.statement_id
     WHERE bl.id = NEW.bank_line_id FOR SHARE OF s;
    SELECT account_id, company_id, entry_sequence INTO line_account, line_company, line_sequence
      FROM ledger_journalline WHERE id = NEW.journal_line_id;
    IF line_account IS DISTINCT FROM bank_ledger_account OR line_company IS DISTINCT FROM bank_company
       OR NEW.company_id IS DISTINCT FROM bank_company OR line_sequence IS NULL THEN
        RAISE EXCEPTION 'match_wrong_account: journal line % is not a posted line of the bank account''s ledger account',
            NEW.journal_line_id USING ERRCODE = 'P0001';
    END IF;
    IF statement_status = 'reconciled' THEN
        RAISE EXCEPTION 'statement_reconciled: bank line % belongs to a reconciled statement; reopen it first',
            NEW.bank_line_id USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER banking_match_guard
    BEFORE INSERT OR UPDATE OR DELETE ON banking_bankmatch
    FOR EACH ROW EXECUTE FUNCTION banking_match_guard();

CREATE OR REPLACE FUNCTION banking_line_guard() RETURNS trigger AS $$
DECLARE
    statement_status text;
BEGIN
    SELECT status INTO statement_status FROM banking_bankstatement
     WHERE id = (CASE WHEN TG_OP = 'INSERT' THEN NEW.statement_id ELSE OLD.statement_id END) FOR SHARE;
    IF statement_status = 'reconciled' THEN
        RAISE EXCEPTION 'statement_reconciled: lines of a reconciled statement do not change; reopen it first'
            USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER banking_line_guard
    BEFORE INSERT OR UPDATE OR DELETE ON banking_bankstatementline
    FOR EACH ROW EXECUTE FUNCTION banking_line_guard();

CREATE OR REPLACE FUNCTION banking_statement_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'reconciled' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status = 'open'
       AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'statement_reconciled: reconciled statement % does not change; reopen it first', OLD.id
        USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER banking_statement_guard
    BEFORE UPDATE OR DELETE ON banking_bankstatement
    FOR EACH ROW EXECUTE FUNCTION banking_statement_guard();

CREATE OR REPLACE FUNCTION banking_bankaccount_guard() RETURNS trigger AS $$
BEGIN
    IF (NEW.account_id IS DISTINCT FROM OLD.account_id OR NEW.currency IS DISTINCT FROM OLD.currency
        OR NEW.company_id IS DISTINCT FROM OLD.company_id)
       AND EXISTS (SELECT 1 FROM banking_bankstatement WHERE bank_account_id = OLD.id) THEN
        RAISE EXCEPTION 'bank_account_in_use: bank account % has statements; its ledger account and currency stay',
            OLD.id USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER banking_bankaccount_guard
    BEFORE UPDATE ON banking_bankaccount
    FOR EACH ROW EXECUTE FUNCTION banking_bankaccount_guard();

CREATE OR REPLACE FUNCTION banking_reversal_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.reversed_by_id IS NULL AND NEW.reversed_by_id IS NOT NULL AND EXISTS (
        SELECT 1
          FROM ledger_journalline jl
          JOIN banking_bankmatch m ON m.journal_line_id = jl.id
          JOIN banking_bankstatementline bl ON bl.id = m.bank_line_id
          JOIN banking_bankstatement s ON s.id = bl.statement_id
         WHERE jl.entry_id = NEW.id AND s.status = 'reconciled'
           AND s.end_date >= (SELECT date FROM ledger_journalentry WHERE id = NEW.reversed_by_id)
    ) THEN
        RAISE EXCEPTION 'statement_reconciled: journal entry % is matched to a reconciled bank statement; date the reversal after the statement or reopen it',
            OLD.number USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER banking_reversal_guard
    BEFORE UPDATE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION banking_reversal_guard();
"""

POSTGRES_REVERSE = r"""
DROP TRIGGER IF EXISTS banking_reversal_guard ON ledger_journalentry;
DROP FUNCTION IF EXISTS banking_reversal_guard();
DROP TRIGGER IF EXISTS banking_bankaccount_guard ON banking_bankaccount;
DROP FUNCTION IF EXISTS banking_bankaccount_guard();
DROP TRIGGER IF EXISTS banking_statement_guard ON banking_bankstatement;
DROP FUNCTION IF EXISTS banking_statement_guard();
DROP TRIGGER IF EXISTS banking_line_guard ON banking_bankstatementline;
DROP FUNCTION IF EXISTS banking_line_guard();
DROP TRIGGER IF EXISTS banking_match_guard ON banking_bankmatch;
DROP FUNCTION IF EXISTS banking_match_guard();
"""

# SQLite has no row images to compare: the statement's columns are listed (every column of the
# table at this migration; a later migration adding a column extends the list).
STATEMENT_COLUMNS = [
    "id", "company_id", "bank_account_id", "start_date", "end_date", "opening_balance", "closing_balance",
    "line_count", "duplicates_skipped", "format", "source_file", "file_name", "file_hash", "chain_break",
    "imported_by_id", "created_at",
]  # fmt: skip

_STATEMENT_OF = "(SELECT status FROM banking_bankstatement WHERE id = {line}.statement_id)"
_STATEMENT_OF_MATCH = (
    "(SELECT s.status FROM banking_bankstatementline bl JOIN banking_bankstatement s ON s.id = bl.statement_id "
    "WHERE bl.id = {match}.bank_line_id)"
)

SQLITE_FORWARD = [
    """
    CREATE TRIGGER banking_match_no_update BEFORE UPDATE ON banking_bankmatch
    BEGIN SELECT RAISE(ABORT, 'match_immutable: a bank match is created or removed, never changed'); END;
    """,
    """
    CREATE TRIGGER banking_match_account BEFORE INSERT ON banking_bankmatch
    WHEN NOT EXISTS (
        SELECT 1 FROM banking_bankstatementline bl
          JOIN banking_bankaccount ba ON ba.id = bl.bank_account_id
          JOIN ledger_journalline jl ON jl.id = NEW.journal_line_id
         WHERE bl.id = NEW.bank_line_id AND jl.account_id = ba.account_id AND jl.company_id = ba.company_id
           AND NEW.company_id = ba.company_id AND jl.entry_sequence IS NOT NULL
    )
    BEGIN SELECT RAISE(ABORT, 'match_wrong_account: the journal line is not a posted line of the bank account''s ledger account'); END;
    """,
    f"""
    CREATE TRIGGER banking_match_reconciled_insert BEFORE INSERT ON banking_bankmatch
    WHEN {_STATEMENT_OF_MATCH.format(match="NEW")} = 'reconciled'
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: the bank line belongs to a reconciled statement; reopen it first'); END;
    """,
    f"""
    CREATE TRIGGER banking_match_reconciled_delete BEFORE DELETE ON banking_bankmatch
    WHEN {_STATEMENT_OF_MATCH.format(match="OLD")} = 'reconciled'
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: the bank line belongs to a reconciled statement; reopen it first'); END;
    """,
    f"""
    CREATE TRIGGER banking_line_reconciled_insert BEFORE INSERT ON banking_bankstatementline
    WHEN {_STATEMENT_OF.format(line="NEW")} = 'reconciled'
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: lines of a reconciled statement do not change; reopen it first'); END;
    """,
    f"""
    CREATE TRIGGER banking_line_reconciled_update BEFORE UPDATE ON banking_bankstatementline
    WHEN {_STATEMENT_OF.format(line="OLD")} = 'reconciled'
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: lines of a reconciled statement do not change; reopen it first'); END;
    """,
    f"""
    CREATE TRIGGER banking_line_reconciled_delete BEFORE DELETE ON banking_bankstatementline
    WHEN {_STATEMENT_OF.format(line="OLD")} = 'reconciled'
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: lines of a reconciled statement do not change; reopen it first'); END;
    """,
    f"""
    CREATE TRIGGER banking_statement_reconciled_update BEFORE UPDATE ON banking_bankstatement
    WHEN OLD.status = 'reconciled' AND NOT (
        NEW.status = 'open' AND {" AND ".join(f"NEW.{c} IS OLD.{c}" for c in STATEMENT_COLUMNS)}
    )
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: a reconciled statement does not change; reopen it first'); END;
    """,
    """
    CREATE TRIGGER banking_statement_reconciled_delete BEFORE DELETE ON banking_bankstatement
    WHEN OLD.status = 'reconciled'
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: a reconciled statement is not deleted; reopen it first'); END;
    """,
    """
    CREATE TRIGGER banking_bankaccount_in_use BEFORE UPDATE ON banking_bankaccount
    WHEN (NEW.account_id IS NOT OLD.account_id OR NEW.currency IS NOT OLD.currency
          OR NEW.company_id IS NOT OLD.company_id)
     AND EXISTS (SELECT 1 FROM banking_bankstatement WHERE bank_account_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'bank_account_in_use: the bank account has statements; its ledger account and currency stay'); END;
    """,
    """
    CREATE TRIGGER banking_reversal_guard BEFORE UPDATE ON ledger_journalentry
    WHEN OLD.reversed_by_id IS NULL AND NEW.reversed_by_id IS NOT NULL AND EXISTS (
        SELECT 1
          FROM ledger_journalline jl
          JOIN banking_bankmatch m ON m.journal_line_id = jl.id
          JOIN banking_bankstatementline bl ON bl.id = m.bank_line_id
          JOIN banking_bankstatement s ON s.id = bl.statement_id
         WHERE jl.entry_id = NEW.id AND s.status = 'reconciled'
           AND s.end_date >= (SELECT date FROM ledger_journalentry WHERE id = NEW.reversed_by_id)
    )
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: the entry is matched to a reconciled bank statement; date the reversal after the statement or reopen it'); END;
    """,
]

SQLITE_TRIGGERS = [
    "banking_match_no_update", "banking_match_account", "banking_match_reconciled_insert",
    "banking_match_reconciled_delete", "banking_line_reconciled_insert", "banking_line_reconciled_update",
    "banking_line_reconciled_delete", "banking_statement_reconciled_update",
    "banking_statement_reconciled_delete", "banking_bankaccount_in_use", "banking_reversal_guard",
]  # fmt: skip


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"No banking triggers for database vendor {vendor!r}.")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)
    elif vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("banking", "0001_bank_accounts_statements_matches_imports")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
