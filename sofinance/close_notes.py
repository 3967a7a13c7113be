"""What closing a range of dates leaves unfinished in the apps above the ledger.

The ledger's close pages (a period's close and lock, the fiscal year's close) say what closing
strands in the ledger itself (its drafts). Work of the apps above it that belongs to the same
dates, such as a bank statement not yet reconciled, is theirs to name: each registers a check
here, and the pages list every note the checks return, with a link to finish the work. A note
warns; it does not refuse the close (an accountant may close with an item left for later, and
reopening a closed period is a reasoned, audited step).

    close_notes.register("banking", lambda company_id, start, end: [CloseNote(...), ...])
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CloseNote:
    text: str  # "Statement Operating account 2026-03-01 – 2026-03-31 is not reconciled ..."
    url: str | None = None  # where to finish it
    link_text: str = ""


CloseCheck = Callable[[int, datetime.date, datetime.date], list[CloseNote]]
_checks: dict[str, CloseCheck] = {}


def register(key: str, check: CloseCheck) -> None:
    _checks[key] = check


def unregister(key: str) -> None:
    _checks.pop(key, None)


def close_notes(*, company_id: int, start: datetime.date, end: datetime.date) -> list[CloseNote]:
    """Every registered check's notes on the dates `start`–`end` of a company, in key order."""
    notes: list[CloseNote] = []
    for key in sorted(_checks):
        notes += _checks[key](company_id, start, end)
    return notes
