"""Two PostgreSQL functions that run a posting's statements next to the data (ledger.posting_store).

Posting N entries is two steps (ledger/services/posting.py); on PostgreSQL each step is one call
of a function below instead of four or five statements, so a posting pays one statement's
client-side cost per step. The functions hold no rules: validation, numbering and balances are
computed by the services, and the triggers of migration 0002 check every entry as it is
inserted, exactly as for any other insert.

- `ledger_posting_reserve(company, count, line_count, first_date, last_date, account_ids, account_codes)`:
  1. advances the company's journal counter by `count` (its row lock is the posting lock: the
     lock order of ledger.numbering), 2. takes `count` entry ids and `line_count` line ids,
     3. reads the closed and locked periods over the dates (after the lock, so a period closed
     by the lock's previous holder is seen), 4. reads the accounts the lines name. Returns the
     counter's new value, the ids, and the periods and accounts as JSON arrays.
- `ledger_posting_write(company, user, now, lines, entries, daily, monthly, reversals)`: inserts
  the lines, then the entries already posted (the entry trigger checks each one's lines), adds
  the balance increments to the daily and monthly buckets (rows given in lock order), and links
  reversed entries to their reversals. Rows come as JSON arrays of arrays.

SQLite has no functions: there the services run the same statements one by one.
"""

from django.db import migrations

FORWARD = r"""
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
    entry_ids := ARRAY(
        SELECT nextval(pg_get_serial_sequence('ledger_journalentry', 'id')) FROM generate_series(1, p_count)
    );
    line_ids := ARRAY(
        SELECT nextval(pg_get_serial_sequence('ledger_journalline', 'id')) FROM generate_series(1, p_line_count)
    );
    SELECT coalesce(jsonb_agg(jsonb_build_array(p.id, p.status, p.start_date, p.end_date) ORDER BY p.start_date),
                    '[]'::jsonb)
      INTO periods
      FROM ledger_accountingperiod p
     WHERE p.company_id = p_company AND p.status IN ('closed', 'locked')
       AND p.start_date <= p_last AND p.end_date >= p_first;
    SELECT coalesce(jsonb_agg(jsonb_build_array(
               a.id, a.code, a.name, a.currency, a.is_active,
               NOT EXISTS (SELECT 1 FROM accounts_account c WHERE c.parent_id = a.id))), '[]'::jsonb)
      INTO accounts
      FROM accounts_account a
     WHERE a.company_id = p_company AND (a.id = ANY(p_account_ids) OR a.code = ANY(p_account_codes));
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION ledger_posting_write(
    p_company bigint, p_user bigint, p_now timestamptz,
    p_lines jsonb, p_entries jsonb, p_daily jsonb, p_monthly jsonb, p_reversals jsonb
) RETURNS void AS $$
BEGIN
    INSERT INTO ledger_journalline (id, company_id, entry_id, line_no, account_id, description, debit, credit,
                                    currency, amount, fx_rate, base_amount, date, entry_sequence)
    SELECT (r->>12)::bigint, p_company, (r->>0)::bigint, (r->>1)::smallint, (r->>2)::bigint, r->>3,
           (r->>4)::numeric, (r->>5)::numeric, r->>6, (r->>7)::numeric, (r->>8)::numeric, (r->>9)::numeric,
           (r->>10)::date, (r->>11)::bigint
      FROM jsonb_array_elements(p_lines) AS r;

    INSERT INTO ledger_journalentry (id, company_id, number, sequence, date, description, reference, source,
                                     status, created_by_id, created_at, updated_at, posted_by_id, posted_at,
                                     reversal_of_id)
    SELECT (r->>0)::bigint, p_company, r->>1, (r->>2)::bigint, (r->>3)::date, r->>4, r->>5, r->>6,
           'posted', p_user, p_now, p_now, p_user, p_now, (r->>7)::bigint
      FROM jsonb_array_elements(p_entries) WITH ORDINALITY AS t(r, n) ORDER BY n;

    INSERT INTO ledger_dailybalance (company_id, account_id, date, is_closing, debit, credit, amount, line_count)
    SELECT p_company, (r->>0)::bigint, (r->>1)::date, (r->>2)::boolean, (r->>3)::numeric, (r->>4)::numeric,
           (r->>5)::numeric, (r->>6)::integer
      FROM jsonb_array_elements(p_daily) WITH ORDINALITY AS t(r, n) ORDER BY n
    ON CONFLICT (company_id, account_id, date, is_closing) DO UPDATE SET
           debit = ledger_dailybalance.debit + excluded.debit,
           credit = ledger_dailybalance.credit + excluded.credit,
           amount = ledger_dailybalance.amount + excluded.amount,
           line_count = ledger_dailybalance.line_count + excluded.line_count;

    INSERT INTO ledger_monthlybalance (company_id, account_id, date, is_closing, debit, credit, amount, line_count)
    SELECT p_company, (r->>0)::bigint, (r->>1)::date, (r->>2)::boolean, (r->>3)::numeric, (r->>4)::numeric,
           (r->>5)::numeric, (r->>6)::integer
      FROM jsonb_array_elements(p_monthly) WITH ORDINALITY AS t(r, n) ORDER BY n
    ON CONFLICT (company_id, account_id, date, is_closing) DO UPDATE SET
           debit = ledger_monthlybalance.debit + excluded.debit,
           credit = ledger_monthlybalance.credit + excluded.credit,
           amount = ledger_monthlybalance.amount + excluded.amount,
           line_count = ledger_monthlybalance.line_count + excluded.line_count;

    UPDATE ledger_journalentry e SET reversed_by_id = (r->>0)::bigint
      FROM jsonb_array_elements(p_reversals) AS r
     WHERE e.id = (r->>1)::bigint AND e.reversed_by_id IS NULL;
END;
$$ LANGUAGE plpgsql;
"""

REVERSE = """
DROP FUNCTION IF EXISTS ledger_posting_write(bigint, bigint, timestamptz, jsonb, jsonb, jsonb, jsonb, jsonb);
DROP FUNCTION IF EXISTS ledger_posting_reserve(bigint, integer, integer, date, date, bigint[], text[]);
"""


def create_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def drop_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_posted_entries_may_be_inserted_after_their_lines")]

    operations = [migrations.RunPython(create_functions, drop_functions)]
