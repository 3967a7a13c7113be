"""The ledger's writes. Every rule about what may enter the books lives here once; the API, the
admin, tasks, commands and other apps (sales, banking) call these functions, never the models.

For other apps, the public posting functions are:
- `journal_entry_create(..., post=True)`: validate and post one entry (in the caller's
  transaction when there is one), returning the posted JournalEntry;
- `journal_entries_import(...)`: post a batch of entries, all or nothing, errors by index
  (many batches in one transaction: inside `balances_deferred(company)`, which writes their
  balance buckets once, at its end);
- `journal_entry_reverse(...)`: correct a posted entry by its reversal.

Modules by job: `lines` (what a line must be), `posting` (how entries enter the books),
`drafts`, `reversal`, `imports`, `periods` (and the year-end close), `rates`, `balances`
(rebuilding stored balances).
"""

from ledger.services.balances import BucketDifference, RebuildResult, balances_rebuild, bucket_differences
from ledger.services.drafts import journal_entry_create, journal_entry_delete, journal_entry_update
from ledger.services.imports import MAX_BATCH_ENTRIES, ImportResult, journal_entries_import
from ledger.services.lines import (
    EntryInput,
    LineInput,
    PostingLine,
    build_lines,
    check_balanced,
    check_period_open,
)
from ledger.services.periods import (
    YearClose,
    fiscal_year_close,
    fiscal_year_closing_lines,
    fiscal_year_reopen,
    period_close,
    period_create,
    period_delete,
    period_lock,
    period_open_held,
    period_reopen,
    periods_generate,
)
from ledger.services.posting import RefusedInput, balances_deferred, journal_entry_post
from ledger.services.rates import exchange_rate_delete, exchange_rate_set
from ledger.services.reversal import journal_entry_reverse

__all__ = [
    "MAX_BATCH_ENTRIES",
    "BucketDifference",
    "EntryInput",
    "ImportResult",
    "LineInput",
    "PostingLine",
    "RebuildResult",
    "RefusedInput",
    "YearClose",
    "balances_deferred",
    "balances_rebuild",
    "bucket_differences",
    "build_lines",
    "check_balanced",
    "check_period_open",
    "exchange_rate_delete",
    "exchange_rate_set",
    "fiscal_year_close",
    "fiscal_year_closing_lines",
    "fiscal_year_reopen",
    "journal_entries_import",
    "journal_entry_create",
    "journal_entry_delete",
    "journal_entry_post",
    "journal_entry_reverse",
    "journal_entry_update",
    "period_close",
    "period_create",
    "period_delete",
    "period_lock",
    "period_open_held",
    "period_reopen",
    "periods_generate",
]
