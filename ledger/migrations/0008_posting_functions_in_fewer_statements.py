"""The posting functions of migration 0005 run fewer statements for the same work.

- `ledger_posting_reserve`: the journal counter is advanced first, in a statement of its own (its
  row lock is the posting lock), then ONE statement takes the entry and line ids and reads the
  blocking periods and the accounts, instead of four. That statement starts after the lock is
  held, so a period closed by the lock's previous holder is still seen. The id sequences are
  looked up once, here, instead of by `pg_get_serial_sequence` for every id taken.
- `ledger_posting_write`: the reversal links are updated only when the posting has reversals.

Same signatures, results and order of writes; posting pays a few statement startups less.
"""

import importlib

from django.db import migrations

RESERVE = r"""
CREATE OR REPLACE FUNCTION ledger_posting_reserve(
    p_company bigint, p_count integer, p_line_count integer, p_first date, p_last date,
    p_account_ids bigint[], p_account_codes text[],
    OUT last_sequence bigint, OUT entry_ids bigint[], OUT line_ids bigint[], OUT periods jsonb, OUT accounts jsonb
) AS $$
BEGIN
    INSERT INTO ledger_numbersequence (company_id, series, last_value) VALUES (p_company, 'journal', p_count)
        ON CONFLICT (company_id, series)
        DO UPDATE SET last_value = ledger_numbersequence.last_value + excluded.last_value
        RETURNING last_value INTO last_sequence;
    SELECT ARRAY(SELECT nextval('{entry_sequence}'::regclass) FROM generate_series(1, p_count)),
           ARRAY(SELECT nextval('{line_sequence}'::regclass) FROM generate_series(1, p_line_count)),
           (SELECT coalesce(jsonb_agg(jsonb_build_array(p.id, p.status, p.start_date, p.end_date)
                                      ORDER BY p.start_date), '[]'::jsonb)
              FROM ledger_accountingperiod p
             WHERE p.company_id = p_company AND p.status IN ('closed', 'locked')
               AND p.start_date <= p_last AND p.end_date >= p_first),
           (SELECT coalesce(jsonb_agg(jsonb_build_array(
                       a.id, a.code, a.name, a.currency, a.is_active,
                       NOT EXISTS (SELECT 1 FROM accounts_account c WHERE c.parent_id = a.id))), '[]'::jsonb)
              FROM accounts_account a
             WHERE a.company_id = p_company AND (a.id = ANY(p_account_ids) OR a.code = ANY(p_account_codes)))
      INTO entry_ids, line_ids, periods, accounts;
END;
$$ LANGUAGE plpgsql;
"""

# The write function is 0005's, with the reversal links updated only when there are reversals.
_REVERSALS_ALWAYS = """
    UPDATE ledger_journalentry e SET reversed_by_id = (r->>0)::bigint
      FROM jsonb_array_elements(p_reversals) AS r
     WHERE e.id = (r->>1)::bigint AND e.reversed_by_id IS NULL;"""
_REVERSALS_WHEN_ANY = """
    IF jsonb_array_length(p_reversals) > 0 THEN
        UPDATE ledger_journalentry e SET reversed_by_id = (r->>0)::bigint
          FROM jsonb_array_elements(p_reversals) AS r
         WHERE e.id = (r->>1)::bigint AND e.reversed_by_id IS NULL;
    END IF;"""


def _write_function() -> str:
    original = importlib.import_module("ledger.migrations.0005_posting_functions").FORWARD
    write = original[original.index("CREATE OR REPLACE FUNCTION ledger_posting_write(") :]
    if write.count(_REVERSALS_ALWAYS) != 1:
        raise RuntimeError("migration 0005's write function is not the one this migration changes")
    return write.replace(_REVERSALS_ALWAYS, _REVERSALS_WHEN_ANY)



def _sequence(cursor, table: str) -> str:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return cursor.fetchone()[0]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        sequences = {
            "{entry_sequence}": _sequence(cursor, "ledger_journalentry"),
            "{line_sequence}": _sequence(cursor, "ledger_journalline"),
        }
        reserve = RESERVE
        for placeholder, name in sequences.items():
            reserve = reserve.replace(placeholder, name)
        cursor.execute(reserve)
        cursor.execute(_write_function())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    original = importlib.import_module("ledger.migrations.0005_posting_functions")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(original.FORWARD)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_insert_checks_once_per_statement")]

    operations = [migrations.RunPython(forwards, backwards)]
