"""A bank line a reconciled statement left unmatched (a carried item) may be matched later, to
ledger lines dated after every reconciled statement of its bank account.

Until now a reconciled statement froze its unmatched lines too: a bank fee missing from the books
at the month's end, booked the next month, could never be matched to its bank line without
reopening the reconciled month. The reconciliation report already dates a match by both of its
sides (it counts as of a date only when the bank line and every ledger line it holds are dated
by then), so a match to ledger lines dated after the bank account's last reconciled statement
changes no stored position: as of every reconciled date the bank line is still outstanding, as
stored.

- A match of a line of a reconciled statement is inserted or deleted only when its ledger line
  is dated after the latest end date of the bank account's reconciled statements (the bank
  account's row is locked in share mode meanwhile, so a statement being reconciled is waited
  for); otherwise `statement_reconciled` as before.
- The lines of a reconciled statement keep every column except their match state (`status`,
  `matched_at`, `matched_by_id`, `match_confidence`).

Everything else migration 0002 holds is unchanged.
"""

import importlib

from django.db import migrations

from sofinance.migration_ops import vendor_sql

_V2 = importlib.import_module("banking.migrations.0002_banking_invariant_triggers")

POSTGRES_FORWARD = r"""
CREATE OR REPLACE FUNCTION banking_dated_after_reconciled(bank_account bigint, journal_line bigint)
RETURNS boolean AS $$
DECLARE
    through date;
    line_date date;
BEGIN
    PERFORM 1 FROM banking_bankaccount WHERE id = bank_account FOR SHARE;
    SELECT max(end_date) INTO through FROM banking_bankstatement
     WHERE bank_account_id = bank_account AND status = 'reconciled';
    SELECT date INTO line_date FROM ledger_journalline WHERE id = journal_line;
    RETURN through IS NULL OR line_date > through;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION banking_match_guard() RETURNS trigger AS $$
DECLARE
    bank_ledger_account bigint;
    bank_company bigint;
    bank_account bigint;
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
        SELECT s.status, bl.bank_account_id INTO statement_status, bank_account
          FROM banking_bankstatementline bl JOIN banking_bankstatement s ON s.id = bl.statement_id
         WHERE bl.id = OLD.bank_line_id;
        IF statement_status = 'reconciled'
           AND NOT banking_dated_after_reconciled(bank_account, OLD.journal_line_id) THEN
            RAISE EXCEPTION 'statement_reconciled: bank line % belongs to a reconciled statement; reopen it first',
                OLD.bank_line_id USING ERRCODE = 'P0001';
        END IF;
        RETURN OLD;
    END IF;
    SELECT ba.account_id, ba.company_id, ba.id, s.status
      INTO bank_ledger_account, bank_company, bank_account, statement_status
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
    IF statement_status = 'reconciled'
       AND NOT banking_dated_after_reconciled(bank_account, NEW.journal_line_id) THEN
        RAISE EXCEPTION 'statement_reconciled: bank line % belongs to a reconciled statement; match it only to ledger lines dated after the reconciled statements, or reopen it',
            NEW.bank_line_id USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION banking_line_guard() RETURNS trigger AS $$
DECLARE
    statement_status text;
    match_state text[] := ARRAY['status', 'matched_at', 'matched_by_id', 'match_confidence'];
BEGIN
    SELECT status INTO statement_status FROM banking_bankstatement
     WHERE id = (CASE WHEN TG_OP = 'INSERT' THEN NEW.statement_id ELSE OLD.statement_id END) FOR SHARE;
    IF statement_status = 'reconciled'
       AND NOT (TG_OP = 'UPDATE' AND (to_jsonb(NEW) - match_state) = (to_jsonb(OLD) - match_state)) THEN
        RAISE EXCEPTION 'statement_reconciled: lines of a reconciled statement do not change; reopen it first'
            USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _function(source: str, name: str) -> str:
    start = source.index(f"CREATE OR REPLACE FUNCTION {name}()")
    return source[start : source.index("$$ LANGUAGE plpgsql;", start) + len("$$ LANGUAGE plpgsql;")]


POSTGRES_REVERSE = "\n".join(
    [
        _function(_V2.POSTGRES_FORWARD, "banking_match_guard"),
        _function(_V2.POSTGRES_FORWARD, "banking_line_guard"),
        "DROP FUNCTION IF EXISTS banking_dated_after_reconciled(bigint, bigint);",
    ]
)

# Every column of banking_bankstatementline but its match state.
LINE_COLUMNS = [
    "id", "company_id", "bank_account_id", "statement_id", "line_no", "date", "value_date", "amount",
    "counterparty", "reference", "description", "unique_id", "dedupe_key",
]  # fmt: skip

_DATED_NOT_AFTER = (
    "(SELECT date FROM ledger_journalline WHERE id = {match}.journal_line_id) <= ("
    "SELECT max(s.end_date) FROM banking_bankstatement s WHERE s.status = 'reconciled' AND s.bank_account_id = "
    "(SELECT bank_account_id FROM banking_bankstatementline WHERE id = {match}.bank_line_id))"
)
_STATEMENT_OF_MATCH = _V2._STATEMENT_OF_MATCH
_STATEMENT_OF = _V2._STATEMENT_OF

SQLITE_REPLACED = [
    "banking_match_reconciled_insert",
    "banking_match_reconciled_delete",
    "banking_line_reconciled_update",
]

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER banking_match_reconciled_insert BEFORE INSERT ON banking_bankmatch
    WHEN {_STATEMENT_OF_MATCH.format(match="NEW")} = 'reconciled' AND {_DATED_NOT_AFTER.format(match="NEW")}
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: the bank line belongs to a reconciled statement; match it only to ledger lines dated after the reconciled statements, or reopen it'); END;
    """,
    f"""
    CREATE TRIGGER banking_match_reconciled_delete BEFORE DELETE ON banking_bankmatch
    WHEN {_STATEMENT_OF_MATCH.format(match="OLD")} = 'reconciled' AND {_DATED_NOT_AFTER.format(match="OLD")}
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: the bank line belongs to a reconciled statement; reopen it first'); END;
    """,
    f"""
    CREATE TRIGGER banking_line_reconciled_update BEFORE UPDATE ON banking_bankstatementline
    WHEN {_STATEMENT_OF.format(line="OLD")} = 'reconciled'
     AND NOT ({" AND ".join(f"NEW.{c} IS OLD.{c}" for c in LINE_COLUMNS)})
    BEGIN SELECT RAISE(ABORT, 'statement_reconciled: lines of a reconciled statement do not change; reopen it first'); END;
    """,
]


def _sqlite_v2() -> list[str]:
    return [
        statement
        for statement in _V2.SQLITE_FORWARD
        if any(f"CREATE TRIGGER {name} " in statement for name in SQLITE_REPLACED)
    ]


class Migration(migrations.Migration):
    dependencies = [("banking", "0004_bank_line_unique_id_whole")]

    operations = [
        vendor_sql(
            postgresql=(POSTGRES_FORWARD, POSTGRES_REVERSE),
            sqlite=(
                [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_REPLACED] + SQLITE_FORWARD,
                [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_REPLACED] + _sqlite_v2(),
            ),
        )
    ]
