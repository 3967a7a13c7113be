"""Posting: entries enter the books with a gapless number, their balances and an audit event.

`entries_post` is the one way new posted entries are written, whoever posts them: a journal
entry created and posted at once, a bulk request or an import, a reversal, a year-end close,
an invoice. For N entries (1 or 1,000) it takes two round trips inside one transaction:

1. the company's journal counter advanced by N (its row lock is the posting lock: see the lock
   order in ledger.numbering), N entry ids, the closed or locked periods of the dates, and,
   when the caller has not validated yet, the accounts the lines refer to;
2. the lines, then the entries inserted already posted (the triggers check each entry's lines:
   balance, company, date and sequence, period), the daily and monthly balance upserts, the
   audit events, and for a reversal the link on the original.

On PostgreSQL each step is one batch (sofinance.db_batch), so posting an entry costs its
statements plus two network waits (when the posting owns its transaction, its BEGIN travels with
step 1 and its COMMIT with step 2). Many entries go through step 2 in parts of PART_SIZE, each sent
as soon as it is checked, without waiting (psycopg's pipeline mode): the database writes one
while Python checks the next. On SQLite the
same statements run one by one. `journal_entry_post` posts an existing draft the same way,
updating its rows instead of inserting them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DataError, transaction
from django.utils import timezone

from accounts.models import Account, Company, User
from audit.changes import json_value
from audit.services import EventItem, PreparedEvent, audit_event_build, audit_events_build, audit_events_write
from ledger import errors
from ledger.balances import BucketIncrements
from ledger.models import EntrySource, EntryStatus, JournalEntry, JournalLine
from ledger.numbering import journal_number
from ledger.posting_store import Reservation, write_posted
from ledger.services.lines import (
    ChartLookup,
    EntryInput,
    LineInput,
    PostingLine,
    build_lines,
    chart_accounts_by_id,
    check_balanced,
    check_date,
    period_closed_error,
)
from sofinance.db_batch import StatementBatch, StatementPipeline
from sofinance.errors import APIError, ValidationFailed
from sofinance.money import format_amount

ENTRY_LABEL = JournalEntry._meta.label_lower
_ENTRY_ATTNAMES = [f.attname for f in JournalEntry._meta.concrete_fields]
SOURCES = frozenset(EntrySource.values)
ZERO = Decimal(0)
# Entries validated and sent to the database at a time, in a batch: it writes one part while
# the next is checked.
PART_SIZE = 250
_NO_INCREMENTS = BucketIncrements()


@dataclass(slots=True)
class EntryToPost:
    """A validated entry, ready to be written posted."""

    date: datetime.date
    lines: list[PostingLine]
    description: str = ""
    reference: str = ""
    reversal_of: JournalEntry | None = None
    source: str = ""  # "" = the source the whole call posts with

    @property
    def reversal_of_id(self) -> int | None:
        return self.reversal_of.pk if self.reversal_of is not None else None

    # Filled in when it is written.
    id: int | None = None
    sequence: int | None = None
    number: str | None = None
    extra_changes: dict[str, Any] = field(default_factory=dict)


def text(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def acting_user(by: User | None) -> User | None:
    return by if by is not None and by.is_authenticated else None


def lines_snapshot(lines: Sequence[PostingLine], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "account": ln.account_id,
            "debit": format_amount(ln.debit, ln.currency),
            "credit": format_amount(ln.credit, ln.currency),
            "currency": ln.currency,
            "fx_rate": str(ln.fx_rate.normalize()),
            "base_amount": format_amount(ln.base_amount, currency),
            "description": ln.description,
        }
        for ln in lines
    ]


def entry_snapshot(
    *, date, description: str, reference: str, source: str, status: str, lines, currency: str
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "date": json_value(date),
        "description": description,
        "reference": reference,
        "source": source,
        "status": status,
    }
    if lines is not None:
        data["lines"] = lines_snapshot(lines, currency)
    return data


def _audit_events(*, company, entries, by, per_entry: bool) -> list[PreparedEvent]:
    if not per_entry:
        first, last = entries[0], entries[-1]
        sources = sorted({e.source for e in entries})
        return [
            audit_event_build(
                action="import",
                company=company,
                object_type=ENTRY_LABEL,
                object_id=f"{first.id}-{last.id}",
                object_repr=f"{first.number} – {last.number}",
                actor=by,
                metadata={
                    "entries": len(entries),
                    "lines": sum(len(e.lines) for e in entries),
                    "first_number": first.number,
                    "last_number": last.number,
                    "source": sources[0] if len(sources) == 1 else sources,
                },
            )
        ]
    items = []
    for entry in entries:
        snapshot = entry_snapshot(
            date=entry.date,
            description=entry.description,
            reference=entry.reference,
            source=entry.source,
            status=EntryStatus.POSTED,
            lines=entry.lines,
            currency=company.currency,
        )
        changes = {
            **{key: {"before": None, "after": value} for key, value in snapshot.items()},
            **entry.extra_changes,
            "status": {"before": None, "after": EntryStatus.POSTED},
            "number": {"before": None, "after": entry.number},
        }
        items.append(
            EventItem(
                action="post",
                object_type=ENTRY_LABEL,
                object_id=entry.id,
                object_repr=entry.number,
                changes=changes,
            )
        )
    return audit_events_build(items, company=company, actor=by)


class _DeferredBuckets:
    """The balance increments of one company's postings in a `balances_deferred` block."""

    def __init__(self, company_id: int, depth: int) -> None:
        self.company_id = company_id
        self.depth = depth  # the block's own atomic level: postings directly inside it are deferred
        self.increments = BucketIncrements()

    def merge(self, increments: BucketIncrements) -> None:
        for mine, theirs in (
            (self.increments.daily, increments.daily),
            (self.increments.monthly, increments.monthly),
        ):
            for key, totals in theirs.items():
                into = mine[key]
                into.debit += totals.debit
                into.credit += totals.credit
                into.amount += totals.amount
                into.line_count += totals.line_count


_deferred: ContextVar[dict[int, _DeferredBuckets] | None] = ContextVar(
    "ledger_deferred_buckets", default=None
)


NUMERIC_OUT_OF_RANGE = "22003"  # PostgreSQL's numeric_value_out_of_range


@contextmanager
def balances_in_range() -> Iterator[None]:
    """A balance bucket pushed past its column's range (numeric overflow in the bucket upserts:
    the lines themselves are checked before they are sent) is refused as `BalanceOutOfRange`."""
    try:
        yield
    except DataError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != NUMERIC_OUT_OF_RANGE:
            raise
        raise errors.BalanceOutOfRange(details={"reason": "balance_out_of_range"}) from exc


def _deferred_buckets(company: Company) -> _DeferredBuckets | None:
    """The block deferring this company's buckets, when `entries_post` runs directly inside it.

    Only directly: entries_post's own atomic block is then the one level below the block's, so
    once a posting has returned nothing but the block's own rollback can undo it (and that undoes
    the increments too). A posting wrapped in another atomic block inside the block (whose
    rollback could drop the entries but not their increments) writes its buckets at once.
    """
    blocks = _deferred.get()
    block = blocks.get(company.pk) if blocks else None
    if block is None:
        return None
    connection = transaction.get_connection()
    return block if len(connection.atomic_blocks) == block.depth + 1 else None


@contextmanager
def balances_deferred(company: Company) -> Iterator[None]:
    """Post many batches of one company's entries in one transaction (an import) and write their
    balance buckets once, at the end of the block, instead of once per batch.

    An import of 10,000 entries in ten batches otherwise upserts each daily bucket up to ten
    times in one transaction, whose earlier versions no one can prune before it commits: an
    eighth of such an import's time, and dead rows in the bucket tables. The block is an atomic
    block of its own; the buckets are written, in the lock order (after the journal counter the
    postings took), when it ends without an error. Do not read balances inside it: the buckets
    are behind the lines until the block ends. Nested blocks for the same company are one block.
    """
    blocks = _deferred.get() or {}
    if company.pk in blocks:
        yield
        return
    with transaction.atomic():
        block = _DeferredBuckets(company.pk, len(transaction.get_connection().atomic_blocks))
        token = _deferred.set({**blocks, company.pk: block})
        try:
            yield
        finally:
            _deferred.reset(token)
        batch = StatementBatch()
        block.increments.add_to(batch, company_id=company.pk)
        with balances_in_range():
            batch.run()


def entries_post(
    *,
    company: Company,
    entries: Sequence[EntryToPost] | Callable[[Reservation], Iterable[Sequence[EntryToPost]]],
    by: User | None,
    source: str,
    dates: Sequence[datetime.date] | None = None,
    line_count: int | None = None,
    lookup: ChartLookup | None = None,
    audit_per_entry: bool = True,
    with_lines: bool = False,
) -> PostedEntries:
    """Write validated entries as posted, all or nothing; returns them, in order.

    `entries` may be a callable that validates after step 1 (given the reservation), with
    `dates` and `line_count` saying up front how many entries and lines it will return and
    `lookup` the accounts validation needs, read in step 1 too, so validation costs no round
    trip of its own. The callable returns the validated entries in parts, in order: a part is
    sent to the database once the next one is validated, without waiting for it, so on
    PostgreSQL the server writes one part while Python checks the next (sofinance.db_batch's
    StatementPipeline); the balance increments and a batch's audit event go with the last part.
    A period that refuses an entry's date is a `period_closed` error. One audit event per entry
    ("post"), or with `audit_per_entry` off one for the whole batch ("import").
    `with_lines`: each returned entry carries its stored lines as `posted_lines` (with their
    accounts' code and name), so a caller can show what was posted without reading it back.
    Every returned entry carries `posted_total`, its debits (= its credits) in the functional
    currency.
    """
    if dates is None or line_count is None:
        assert not callable(entries)
        dates = [entry.date for entry in entries]
        line_count = sum(len(entry.lines) for entry in entries)
    if not dates:
        return PostedEntries.none(company)
    # Every entry of every door (a reversal's date, a sales document's) within the books' dates:
    # the reports select nothing outside them.
    check_date(min(dates))
    check_date(max(dates))
    user = acting_user(by)
    user_id = user.pk if user is not None else None
    todo: list[EntryToPost] = []
    increments = BucketIncrements()
    with balances_in_range(), transaction.atomic():
        first_step = StatementBatch()
        reservation = Reservation(
            first_step, company_id=company.pk, dates=dates, line_count=line_count, lookup=lookup
        )
        first_step.run()
        entry_ids = iter(reservation.entry_ids())
        line_ids = iter(reservation.line_ids())
        sequence = reservation.first_sequence()
        now = timezone.now()
        # In a balances_deferred block (and directly in it) the buckets are written at its end.
        deferred = _deferred_buckets(company)

        def write(part: list[EntryToPost], *, last: bool) -> StatementBatch:
            batch = StatementBatch()
            write_posted(
                batch,
                company_id=company.pk,
                entries=part,
                increments=increments if last and deferred is None else _NO_INCREMENTS,
                user_id=user_id,
                now=now,
            )
            if audit_per_entry:
                audit_events_write(
                    _audit_events(company=company, entries=part, by=by, per_entry=True), batch=batch
                )
            elif last:
                audit_events_write(
                    _audit_events(company=company, entries=todo, by=by, per_entry=False), batch=batch
                )
            return batch

        with StatementPipeline() as pipeline:
            waiting: list[EntryToPost] | None = None
            for part in entries(reservation) if callable(entries) else [entries]:
                part = list(part)
                for entry in part:
                    entry.source = entry.source or source
                    if entry.source not in SOURCES:
                        raise ValidationFailed(details={"source": [f"{entry.source!r} is not a source."]})
                    period = reservation.blocking_period(
                        entry.date, closing=entry.source == EntrySource.CLOSING
                    )
                    if period is not None:
                        raise period_closed_error(period, entry.date)
                    entry.id, entry.sequence = next(entry_ids, None), sequence
                    entry.number = journal_number(year=entry.date.year, sequence=sequence)
                    sequence += 1
                    for line in entry.lines:
                        line.id = next(line_ids, None)
                    if entry.id is None or any(line.id is None for line in entry.lines):
                        raise RuntimeError("more entries or lines to post than were reserved")
                    increments.add(
                        entry.lines, date=entry.date, is_closing=entry.source == EntrySource.CLOSING
                    )
                todo += part
                if waiting is not None:
                    pipeline.send(write(waiting, last=False))
                waiting = part
            # Every number reserved is used (the journal stays gapless), every id once.
            if waiting is None or next(entry_ids, None) is not None or next(line_ids, None) is not None:
                raise RuntimeError("the entries to post are not the entries reserved")
            pipeline.finish(write(waiting, last=True), last_in_transaction=True)
    if deferred is not None:
        deferred.merge(increments)  # only once written: a refused batch adds nothing
    return PostedEntries(company=company, entries=todo, user=user, now=now, with_lines=with_lines)


class PostedEntries(Sequence[JournalEntry]):
    """The entries a posting wrote, in order, each built as stored when it is first read.

    An import of 10,000 entries reads only its first and last numbers and its total (kept here
    without building a record); a bulk request reads every entry.
    """

    def __init__(
        self,
        *,
        company: Company,
        entries: list[EntryToPost],
        user: User | None,
        now: datetime.datetime | None,
        with_lines: bool = False,
    ) -> None:
        self._company = company
        self._entries = entries
        self._user = user
        self._now = now
        self._with_lines = with_lines
        self._records: dict[int, JournalEntry] = {}

    @classmethod
    def none(cls, company: Company) -> PostedEntries:
        return cls(company=company, entries=[], user=None, now=None)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        for index in range(len(self._entries)):
            yield self[index]

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        record = self._records.get(index)
        if record is None:
            entry = self._entries[index]  # IndexError past the end, as a list
            record = _posted_record(company=self._company, entry=entry, user=self._user, now=self._now)
            if self._with_lines:
                record.posted_lines = _stored_lines(self._company, record, entry.lines)
            self._records[index] = record
        return record

    @property
    def first_number(self) -> str | None:
        return self._entries[0].number if self._entries else None

    @property
    def last_number(self) -> str | None:
        return self._entries[-1].number if self._entries else None

    @property
    def total(self) -> Decimal:
        """The entries' debits, equal to their credits, in the functional currency."""
        return sum((ln.base_amount for e in self._entries for ln in e.lines if ln.base_amount > 0), ZERO)


def _posted_record(*, company: Company, entry: EntryToPost, user: User | None, now) -> JournalEntry:
    """The entry as stored, built as if read back (a thousand per bulk request: the positional
    constructor, with the company, users and original already known put in its cache)."""
    user_id = user.pk if user is not None else None
    values = {
        "id": entry.id,
        "company_id": company.pk,
        "number": entry.number,
        "sequence": entry.sequence,
        "date": entry.date,
        "description": entry.description,
        "reference": entry.reference,
        "source": entry.source,
        "status": EntryStatus.POSTED,
        "created_by_id": user_id,
        "created_at": now,
        "updated_at": now,
        "posted_by_id": user_id,
        "posted_at": now,
        "reversal_of_id": entry.reversal_of_id,
        "reversed_by_id": None,
    }
    record = JournalEntry.from_db(
        transaction.get_connection().alias, None, [values[name] for name in _ENTRY_ATTNAMES]
    )
    record._state.fields_cache.update(
        company=company, created_by=user, posted_by=user, reversal_of=entry.reversal_of
    )
    record.quarantined = False  # just written: no integrity run has flagged it (sofinance.quarantine)
    # Its debits (equal to its credits) in the functional currency: a bulk caller's totals.
    record.posted_total = sum((ln.base_amount for ln in entry.lines if ln.base_amount > 0), ZERO)
    return record


def _stored_lines(company: Company, entry: JournalEntry, lines: Sequence[PostingLine]) -> list[JournalLine]:
    accounts: dict[int, Account] = {}
    stored = []
    for line in lines:
        model = line.as_model(company_id=company.pk, entry=entry, date=entry.date)
        model.id = line.id
        model.entry_sequence = entry.sequence
        account = accounts.get(line.account_id)
        if account is None:
            account = accounts[line.account_id] = Account(
                id=line.account_id,
                company=company,
                code=line.account_code,
                name=line.account_name,
                currency=line.account_currency,
            )
        model.account = account
        stored.append(model)
    return stored


# --------------------------------------------------------------------------- from caller input


@dataclass(frozen=True, slots=True)
class RefusedInput:
    """An entry of a batch that its caller could not read (not an object, no date, lines of the
    wrong shape), with the error it gets. It takes its place in the batch so that the batch's one
    `invalid_batch` error lists it among the entries the ledger refuses, by its index."""

    error: APIError


def _refusal(index: int, error: APIError) -> dict[str, Any]:
    return {"index": index, "code": str(error.code), "message": error.message, "details": error.details}


def _batch_refused(refused: list[dict[str, Any]], count: int) -> errors.InvalidBatch:
    first = refused[0]
    return errors.InvalidBatch(
        f"Entry {first['index'] + 1}: {first['message']} ({len(refused)} of {count} "
        "entries refused; nothing was posted.)",
        details={"entries": refused},
    )


def entries_post_inputs(
    *,
    company: Company,
    inputs: Sequence[EntryInput | RefusedInput],
    by: User | None,
    source: str,
    as_batch: bool = False,
    audit_per_entry: bool = True,
    with_lines: bool = False,
    progress: Callable[[int], None] | None = None,
) -> PostedEntries:
    """Validate and post entries given as caller input, all or nothing. `progress` hears how
    many entries have been checked and sent, after each part.

    Not `as_batch` (one entry created and posted): its problem is raised as is. As a batch:
    every refused entry (its shape, as a `RefusedInput` the caller could not read; lines,
    balance, closed period) is listed in one `invalid_batch` error (`details.entries`: index,
    code, message, details, in index order) and nothing is written.
    """
    readable = [item for item in inputs if not isinstance(item, RefusedInput)]
    if inputs and not readable:  # every entry refused by its caller: nothing for the ledger to check
        unread = [item for item in inputs if isinstance(item, RefusedInput)]
        if not as_batch:
            raise unread[0].error
        raise _batch_refused([_refusal(index, item.error) for index, item in enumerate(unread)], len(inputs))
    line_inputs = [
        [LineInput.coerce(line) for line in item.lines] if not isinstance(item, RefusedInput) else []
        for item in inputs
    ]
    lookup = ChartLookup(company.pk, (line.account for lines in line_inputs for line in lines))

    def validate(reservation: Reservation) -> Iterator[list[EntryToPost]]:
        accounts = reservation.accounts()
        refused: list[dict[str, Any]] = []
        for start in range(0, len(inputs), PART_SIZE):
            validated = []
            for index in range(start, min(start + PART_SIZE, len(inputs))):
                item, lines = inputs[index], line_inputs[index]
                if isinstance(item, RefusedInput):
                    if not as_batch:
                        raise item.error
                    refused.append(_refusal(index, item.error))
                    continue
                entry_source = item.source or source
                try:
                    built = build_lines(company=company, date=item.date, lines=lines, accounts=accounts)
                    check_balanced(company=company, lines=built)
                    period = reservation.blocking_period(
                        item.date, closing=entry_source == EntrySource.CLOSING
                    )
                    if period is not None:
                        raise period_closed_error(period, item.date)
                except APIError as exc:
                    if not as_batch:
                        raise
                    refused.append(_refusal(index, exc))
                    continue
                validated.append(
                    EntryToPost(
                        date=item.date,
                        lines=built,
                        description=text(item.description, 500),
                        reference=text(item.reference, 100),
                        source=entry_source,
                    )
                )
            if not refused:  # once an entry is refused nothing more is sent: the rest is only checked
                yield validated
            if progress is not None:
                progress(min(start + PART_SIZE, len(inputs)))
        if refused:
            raise _batch_refused(refused, len(inputs))

    return entries_post(
        company=company,
        entries=validate,
        dates=[item.date for item in readable],
        line_count=sum(len(lines) for lines in line_inputs),
        lookup=lookup,
        with_lines=with_lines,
        by=by,
        source=source,
        audit_per_entry=audit_per_entry,
    )


# --------------------------------------------------------------------------- drafts


def journal_entry_post(*, entry: JournalEntry, posted_by: User | None) -> JournalEntry:
    """Post a draft: re-check it (its accounts may have been deactivated or given sub-accounts
    since it was saved), give it the next gapless number, add it to the balances. One transaction."""
    with transaction.atomic():
        draft = (
            JournalEntry.objects.select_for_update(of=("self",))
            .select_related("company")
            .filter(pk=entry.pk)
            .first()
        )
        if draft is None:
            raise errors.EntryNotFound()
        if draft.status != EntryStatus.DRAFT:
            raise errors.EntryImmutable("The entry is already posted.")
        company = draft.company
        stored = list(draft.lines.order_by("line_no"))
        accounts = chart_accounts_by_id(company_id=company.pk, ids={ln.account_id for ln in stored})
        for index, line in enumerate(stored):
            account = accounts[line.account_id]
            if not account.is_active or not account.is_leaf:
                raise errors.InvalidAccount(
                    f"Line {index + 1}: account {account.code} is "
                    f"{'inactive' if not account.is_active else 'a parent account'}.",
                    details={"lines": {str(index): {"account": [account.code]}}},
                )
        lines = [PostingLine.from_model(line, accounts[line.account_id]) for line in stored]
        check_balanced(company=company, lines=lines)
        first_step = StatementBatch()
        reservation = Reservation(first_step, company_id=company.pk, dates=[draft.date], line_count=0)
        first_step.run()
        period = reservation.blocking_period(draft.date, closing=draft.source == EntrySource.CLOSING)
        if period is not None:
            raise period_closed_error(period, draft.date)
        sequence = reservation.first_sequence()
        user = acting_user(posted_by)
        draft.status = EntryStatus.POSTED
        draft.sequence = sequence
        draft.number = journal_number(year=draft.date.year, sequence=sequence)
        draft.posted_at = timezone.now()
        draft.posted_by = user
        JournalLine.objects.filter(entry=draft).update(entry_sequence=sequence)
        draft.save(update_fields=["status", "sequence", "number", "posted_at", "posted_by", "updated_at"])
        increments = BucketIncrements()
        increments.add(lines, date=draft.date, is_closing=draft.source == EntrySource.CLOSING)
        second_step = StatementBatch()
        increments.add_to(second_step, company_id=company.pk)
        audit_events_write(
            [
                audit_event_build(
                    action="post",
                    company=company,
                    obj=draft,
                    actor=posted_by,
                    changes={
                        "status": {"before": EntryStatus.DRAFT, "after": EntryStatus.POSTED},
                        "number": {"before": None, "after": draft.number},
                    },
                )
            ],
            batch=second_step,
        )
        with balances_in_range():
            second_step.run()
    return draft
