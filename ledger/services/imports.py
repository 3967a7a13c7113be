"""Many entries posted at once, all or nothing: the bulk API, imports, synthetic books.

The same validation and invariants as posting one entry (the same code: `entries_post_inputs`),
with set-based writes: the entries of a batch share their two round trips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Company, User
from ledger import errors
from ledger.models import EntrySource
from ledger.services.lines import EntryInput
from ledger.services.posting import PostedEntries, RefusedInput, entries_post_inputs

MAX_BATCH_ENTRIES = 1000


@dataclass(frozen=True)
class ImportResult:
    entries: PostedEntries  # each built as stored when read

    @property
    def posted(self) -> int:
        return len(self.entries)

    @property
    def first_number(self) -> str | None:
        return self.entries.first_number

    @property
    def last_number(self) -> str | None:
        return self.entries.last_number

    @property
    def total(self) -> Decimal:
        """The batch's debits, equal to its credits, in the functional currency."""
        return self.entries.total


def journal_entries_import(
    *,
    company: Company,
    entries: Sequence[EntryInput | RefusedInput],
    by: User | None,
    source: str = EntrySource.IMPORT,
    audit_per_entry: bool = True,
    max_entries: int | None = MAX_BATCH_ENTRIES,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate and post a batch of entries in one transaction, all or nothing.

    Numbers follow the batch's order. A refused batch raises `invalid_batch` listing every
    refused entry by index (a closed period names its entry too, and so does an entry the caller
    could not read, given as a `RefusedInput` in its place) and writes nothing.
    One audit event per entry; with `audit_per_entry` off (synthetic books) one for the batch,
    naming its number range. `max_entries` bounds a batch (None: the caller batches itself).
    A large batch is checked and sent in parts, the database writing one while the next is
    checked; `progress` hears how many entries have been checked and sent, after each part.
    """
    if not entries:
        return ImportResult(entries=PostedEntries.none(company))
    if max_entries is not None and len(entries) > max_entries:
        raise errors.InvalidBatch(
            f"A batch holds at most {max_entries} entries (this one has {len(entries)}).",
            details={"entries": [], "max_entries": max_entries},
        )
    posted = entries_post_inputs(
        company=company,
        inputs=entries,
        by=by,
        source=source,
        as_batch=True,
        audit_per_entry=audit_per_entry,
        progress=progress,
    )
    return ImportResult(entries=posted)
