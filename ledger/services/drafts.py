"""Journal entries as callers create them: a draft (changed and deleted freely), or an entry
created and posted in one call. Posted entries never change: they are corrected by reversal."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from accounts.models import Company, User
from audit.changes import diff
from audit.services import audit_record
from ledger import errors
from ledger.models import EntrySource, EntryStatus, JournalEntry, JournalLine
from ledger.services.lines import (
    EntryInput,
    LineInput,
    PostingLine,
    build_lines,
    chart_accounts_by_id,
    check_balanced,
    check_period_open,
)
from ledger.services.posting import SOURCES, acting_user, entries_post_inputs, entry_snapshot, text
from sofinance.errors import ValidationFailed


def _snapshot(entry: JournalEntry, lines: Sequence[PostingLine] | None) -> dict[str, Any]:
    return entry_snapshot(
        date=entry.date,
        description=entry.description,
        reference=entry.reference,
        source=entry.source,
        status=entry.status,
        lines=lines,
        currency=entry.company.currency,
    )


def _stored_lines(entry: JournalEntry) -> list[PostingLine]:
    stored = list(entry.lines.order_by("line_no"))
    accounts = chart_accounts_by_id(company_id=entry.company_id, ids={ln.account_id for ln in stored})
    return [PostingLine.from_model(line, accounts[line.account_id]) for line in stored]


def _locked_draft(entry: JournalEntry) -> JournalEntry:
    """The entry's row, locked for this transaction; 404 when another request deleted it."""
    locked = (
        JournalEntry.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(pk=entry.pk)
        .first()
    )
    if locked is None:
        raise errors.EntryNotFound()
    if locked.status != EntryStatus.DRAFT:
        raise errors.EntryImmutable()
    return locked


def journal_entry_create(
    *,
    company: Company,
    date: datetime.date,
    lines: Sequence[Any],
    by: User | None,
    description: str = "",
    reference: str = "",
    source: str = EntrySource.MANUAL,
    post: bool = False,
    with_lines: bool = False,
) -> JournalEntry:
    """Create a draft entry (balanced, valid lines, open period); with `post`, post it at once.

    This is the ledger's public posting function for other apps: with `post=True` the entry is
    validated and posted in one transaction (the caller's, when there is one), with one audit
    event holding its content and number. `with_lines`: the returned entry carries its stored
    lines as `posted_lines`, so the caller can show them without reading them back.
    """
    if source not in SOURCES:
        raise ValidationFailed(details={"source": [f"{source!r} is not a source."]})
    if post:
        (entry,) = entries_post_inputs(
            company=company,
            inputs=[EntryInput(date=date, lines=lines, description=description, reference=reference)],
            by=by,
            source=source,
            with_lines=with_lines,
        )
        return entry
    built = build_lines(company=company, date=date, lines=lines)
    check_balanced(company=company, lines=built)
    check_period_open(company=company, date=date)
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            company=company,
            date=date,
            description=text(description, 500),
            reference=text(reference, 100),
            source=source,
            status=EntryStatus.DRAFT,
            created_by=acting_user(by),
        )
        JournalLine.objects.bulk_create(
            line.as_model(company_id=company.pk, entry=entry, date=date) for line in built
        )
        audit_record(
            action="create", company=company, obj=entry, actor=by, changes=diff(None, _snapshot(entry, built))
        )
    return entry


def journal_entry_update(
    *,
    entry: JournalEntry,
    by: User | None,
    date: datetime.date | None = None,
    description: str | None = None,
    reference: str | None = None,
    lines: Sequence[Any] | None = None,
) -> JournalEntry:
    """Change a draft. Posted entries never change: they are corrected by reversal."""
    with transaction.atomic():
        entry = _locked_draft(entry)
        company = entry.company
        old_lines = _stored_lines(entry)
        before = _snapshot(entry, old_lines)
        new_date = date or entry.date
        if lines is None:
            # Same lines; a new date may change stored-rate conversions, so rebuild them as given.
            lines = [
                LineInput(
                    account=ln.account_id,
                    debit=ln.debit or None,
                    credit=ln.credit or None,
                    description=ln.description,
                    currency=ln.currency,
                    fx_rate=ln.fx_rate,
                )
                for ln in old_lines
            ]
        built = build_lines(company=company, date=new_date, lines=lines)
        check_balanced(company=company, lines=built)
        check_period_open(company=company, date=new_date)
        if entry.date != new_date:
            check_period_open(company=company, date=entry.date)
        entry.date = new_date
        if description is not None:
            entry.description = text(description, 500)
        if reference is not None:
            entry.reference = text(reference, 100)
        entry.save()
        entry.lines.all().delete()
        JournalLine.objects.bulk_create(
            line.as_model(company_id=company.pk, entry=entry, date=new_date) for line in built
        )
        changes = diff(before, _snapshot(entry, built))
        if changes:
            audit_record(action="update", company=company, obj=entry, actor=by, changes=changes)
    return entry


def journal_entry_delete(*, entry: JournalEntry, by: User | None) -> None:
    """Delete a draft. A posted entry is never deleted."""
    with transaction.atomic():
        try:
            entry = _locked_draft(entry)
        except errors.EntryImmutable:
            raise errors.EntryImmutable("A posted entry cannot be deleted; reverse it instead.") from None
        audit_record(
            action="delete",
            company=entry.company_id,
            obj=entry,
            actor=by,
            changes=diff(_snapshot(entry, _stored_lines(entry)), None),
        )
        entry.delete()
