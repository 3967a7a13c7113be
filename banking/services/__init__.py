"""Every write of the banking app (one transaction each, with its audit event).

- bank accounts, their CSV mappings, the matching settings (`bank_accounts`)
- statements stored from parsed files: chaining, de-duplication (`statements`)
- suggestions, match, unmatch, auto-confirm (`matching`)
- an entry or a customer payment posted from a bank line (`postings`)
- reconcile and reopen a statement (`reconciliation`)
- imports as jobs: bank statements and journal files (`jobs`, `journal_import`)

Lock order: the bank account row, the statement, the bank line, then the sales documents and the
ledger (which take theirs last).
"""

from banking.services.bank_accounts import bank_account_create, bank_account_update, banking_settings_update
from banking.services.jobs import (
    import_job_execute_inline,
    import_job_run,
    journal_import_job_create,
    journal_import_job_from_dry_run,
    statement_import_job_create,
    statement_upload,
)
from banking.services.matching import (
    bank_line_match,
    bank_line_unmatch,
    stale_suggestions_refresh,
    suggestions_refresh,
)
from banking.services.postings import bank_line_entry_create, bank_line_payment_record, open_invoice_for_line
from banking.services.reconciliation import statement_reconcile, statement_reopen
from banking.services.statements import statement_delete

__all__ = [
    "bank_account_create",
    "bank_account_update",
    "bank_line_entry_create",
    "bank_line_match",
    "bank_line_payment_record",
    "bank_line_unmatch",
    "banking_settings_update",
    "import_job_execute_inline",
    "import_job_run",
    "journal_import_job_create",
    "journal_import_job_from_dry_run",
    "open_invoice_for_line",
    "stale_suggestions_refresh",
    "statement_delete",
    "statement_import_job_create",
    "statement_reconcile",
    "statement_reopen",
    "statement_upload",
    "suggestions_refresh",
]
