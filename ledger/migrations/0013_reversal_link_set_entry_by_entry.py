"""The write function links a reversed entry to its reversal one entry at a time, by id.

Migration 0008's write function linked them in one statement, `UPDATE ledger_journalentry e ...
FROM jsonb_array_elements(p_reversals) r WHERE e.id = (r->>1)::bigint AND e.reversed_by_id IS
NULL`: a join between the call's reversals and the journal, whose plan the function keeps for the
connection (migration 0009). Planned on a journal that looked small, it read every unreversed
entry, first through the index of `reversed_by_id` (gone since migration 0012), then, with
sequential scans and hash joins off (migration 0011), through the whole primary key, materialized
(auto_explain on a fresh database of 3,000 entries). One single-row UPDATE per reversal, `WHERE
id = ...`, has no such plan: the primary key's equality is one row at any size. A posting has
one reversal or none, so the loop costs nothing. Same effect: an entry already reversed is left
as it is (the services refuse to reverse it twice, the unique link refuses a second reversal).

`CREATE OR REPLACE FUNCTION` resets a function's settings, so the function restates those of
migrations 0009 and 0011.
"""

import importlib

from django.db import migrations

from sofinance.migration_ops import postgresql_sql

_earlier = importlib.import_module("ledger.migrations.0008_posting_functions_in_fewer_statements")
_probe = importlib.import_module("ledger.migrations.0011_posting_functions_probe_by_key")

_REVERSALS_BY_ID = """
    IF jsonb_array_length(p_reversals) > 0 THEN
        FOR reversal IN
            SELECT (r->>0)::bigint AS by_id, (r->>1)::bigint AS of_id FROM jsonb_array_elements(p_reversals) AS r
        LOOP
            UPDATE ledger_journalentry SET reversed_by_id = reversal.by_id
             WHERE id = reversal.of_id AND reversed_by_id IS NULL;
        END LOOP;
    END IF;"""
_SETTINGS = (
    " SET plan_cache_mode = force_generic_plan"
    " SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off"
)
_SIGNATURE = "ledger_posting_write(bigint, bigint, timestamptz, jsonb, jsonb, jsonb, jsonb, jsonb)"


def _write_function() -> str:
    earlier = _earlier._write_function()
    for text, count in ((_earlier._REVERSALS_WHEN_ANY, 1), ("BEGIN\n", 1), ("$$ LANGUAGE plpgsql;", 1)):
        if earlier.count(text) != count:
            raise RuntimeError("migration 0008's write function is not the one this migration changes")
    return (
        earlier.replace(_earlier._REVERSALS_WHEN_ANY, _REVERSALS_BY_ID)
        .replace("BEGIN\n", "DECLARE\n    reversal record;\nBEGIN\n")
        .replace("$$ LANGUAGE plpgsql;", f"$$ LANGUAGE plpgsql{_SETTINGS};")
    )


FORWARD = _write_function()
# Back to 0008's function, with the settings 0009 and 0011 had given it.
REVERSE = "\n".join(
    [
        _earlier._write_function(),
        f"ALTER FUNCTION {_SIGNATURE} SET plan_cache_mode = force_generic_plan;",
        *(line for line in _probe.FORWARD.splitlines() if "ledger_posting_write(" in line),
    ]
)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0012_reversal_links_unique_when_set")]

    operations = [postgresql_sql(FORWARD, REVERSE)]
