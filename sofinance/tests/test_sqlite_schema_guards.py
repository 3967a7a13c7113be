"""On SQLite a migration that alters a table's field rebuilds the table, and the table's triggers
(the ledger's, the audit trail's, the sales documents' and the bank statements' invariants) vanish with it, silently.
This keeps the full set after every migration of a fresh database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_TRIGGERS = {
    "audit_chain_head_forward_only", "audit_chain_head_genesis", "audit_chain_head_hash_guard",
    "audit_chain_head_no_delete", "audit_event_no_delete", "audit_event_no_update",
    "audit_seal_no_delete", "audit_seal_no_update",
    "ledger_entry_immutable", "ledger_entry_insert_posted", "ledger_entry_no_delete",
    "ledger_entry_post_check", "ledger_line_no_delete", "ledger_line_no_insert", "ledger_line_no_update",
    "ledger_period_locked_delete", "ledger_period_locked_update",
    "sales_allocation_immutable", "sales_allocation_no_delete", "sales_creditnote_immutable",
    "sales_creditnote_lines_check", "sales_creditnote_no_delete", "sales_creditnoteline_no_delete",
    "sales_creditnoteline_no_insert", "sales_creditnoteline_no_update", "sales_invoice_immutable",
    "sales_invoice_insert_draft", "sales_invoice_issue_check", "sales_invoice_no_delete",
    "sales_invoiceline_no_delete", "sales_invoiceline_no_insert", "sales_invoiceline_no_update",
    "sales_payment_immutable", "sales_payment_no_delete", "sales_taxrate_in_use_delete",
    "sales_taxrate_in_use_update", "sales_customer_stamp", "sales_item_stamp", "sales_taxrate_stamp",
    "sales_invoice_stamp", "sales_payment_stamp",
    "banking_match_no_update", "banking_match_account", "banking_match_reconciled_insert",
    "banking_match_reconciled_delete", "banking_line_reconciled_insert", "banking_line_reconciled_update",
    "banking_line_reconciled_delete", "banking_statement_reconciled_update",
    "banking_statement_reconciled_delete", "banking_bankaccount_in_use", "banking_reversal_guard",
}  # fmt: skip


def test_every_invariant_trigger_survives_the_migrations_on_sqlite(tmp_path):
    db = tmp_path / "schema.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{db}",
        "SOFINANCE_ENV_FILE": "/dev/null",
        "LOG_LEVEL": "ERROR",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    with sqlite3.connect(db) as connection:
        found = {
            name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    assert EXPECTED_TRIGGERS - found == set()
