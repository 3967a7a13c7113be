"""What posting on a day changes in the apps above the ledger, said before the accountant posts.

The ledger's Post and Reverse confirmations say what posting changes in the ledger itself (a
closed period after the day). Work of the apps above it that the entry reaches back into, such as a
bank statement already reconciled through that day, is theirs to name: each registers a check
here, with the notes' type of the close pages (`sofinance.close_notes.CloseNote`). A note warns;
it does not refuse the posting.

    posting_notes.register("banking", lambda company_id, day, account_ids: [CloseNote(...), ...])
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection

from sofinance.close_notes import CloseNote

PostingCheck = Callable[[int, datetime.date, Collection[int]], list[CloseNote]]
_checks: dict[str, PostingCheck] = {}


def register(key: str, check: PostingCheck) -> None:
    _checks[key] = check


def unregister(key: str) -> None:
    _checks.pop(key, None)


def posting_notes(*, company_id: int, day: datetime.date, account_ids: Collection[int]) -> list[CloseNote]:
    """Every registered check's notes on posting lines on `account_ids` dated `day`, in key order."""
    notes: list[CloseNote] = []
    for key in sorted(_checks):
        notes += _checks[key](company_id, day, account_ids)
    return notes
