"""Correcting a posted entry: a reversal with every line's side swapped, linked both ways."""

from __future__ import annotations

import datetime

from django.db import transaction

from accounts.models import User
from audit.services import audit_record
from ledger import errors
from ledger.models import FIRST_BOOK_DATE, EntrySource, EntryStatus, JournalEntry
from ledger.services.lines import PostingLine, chart_accounts_by_id
from ledger.services.posting import EntryToPost, entries_post, text
from sofinance.errors import ValidationFailed


def journal_entry_reverse(
    *,
    entry: JournalEntry,
    by: User | None,
    date: datetime.date | None = None,
    description: str | None = None,
    allow_closing: bool = False,
) -> JournalEntry:
    """Post a new entry with every line's side swapped (the exact negation of the stored
    amounts, never a re-conversion, so the pair nets to zero), linked both ways.

    An entry is reversed at most once. The reversal is dated like the original unless `date` is
    given, never before it (400); a date in a closed period is refused (the caller may choose
    another date).
    Closing entries are reversed only by reopening their fiscal year (`allow_closing`).
    """
    with transaction.atomic():
        original = (
            JournalEntry.objects.select_for_update(of=("self",))
            .select_related("company")
            .filter(pk=entry.pk)
            .first()
        )
        if original is None:
            raise errors.EntryNotFound()
        if original.status != EntryStatus.POSTED:
            raise errors.NotPosted()
        if original.reversed_by_id is not None:
            raise errors.AlreadyReversed(
                f"{original.number} was already reversed.", details={"reversed_by": original.reversed_by_id}
            )
        if original.source == EntrySource.CLOSING and not allow_closing:
            raise errors.EntryImmutable("A year-end closing entry is reversed by reopening its fiscal year.")
        if (
            date is not None and FIRST_BOOK_DATE <= date < original.date
        ):  # (outside the books: refused as such)
            # undoing what had not happened yet: the months between would show neither
            message = (
                f"A reversal is dated on or after the entry it reverses: {original.number} is dated "
                f"{original.date}, the reversal {date}."
            )
            raise ValidationFailed(message, details={"date": [message]})
        stored = list(original.lines.order_by("line_no"))
        accounts = chart_accounts_by_id(company_id=original.company_id, ids={ln.account_id for ln in stored})
        reversal_entry = EntryToPost(
            date=date or original.date,
            lines=[PostingLine.from_model(line, accounts[line.account_id]).reversed() for line in stored],
            description=text(description, 500) or f"Reversal of {original.number}",
            reference=original.reference,
            reversal_of=original,
            extra_changes={"reversal_of": {"before": None, "after": original.pk}},
        )
        source = EntrySource.CLOSING if original.source == EntrySource.CLOSING else EntrySource.REVERSAL
        (reversal,) = entries_post(company=original.company, entries=[reversal_entry], by=by, source=source)
        original.reversed_by = reversal
        audit_record(
            action="reverse",
            company=original.company,
            obj=original,
            actor=by,
            changes={"reversed_by": {"before": None, "after": reversal.pk}},
            metadata={"reversal_number": reversal.number},
        )
    return reversal
