"""Journal entries: create, change and delete drafts; post; reverse. Exchange rates.

Every rule about what may enter the books lives here once; the API, the admin, tasks, commands
and other apps (sales) call these functions. The database triggers repeat the core invariants
as a last line of defence.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Account, Company, User
from audit.changes import diff, json_value
from audit.services import audit_record
from ledger import errors
from ledger.balances import balances_apply
from ledger.models import (
    FIRST_BOOK_DATE,
    LAST_BOOK_DATE,
    AccountingPeriod,
    EntrySource,
    EntryStatus,
    ExchangeRate,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)
from ledger.numbering import JOURNAL_SERIES, journal_number, sequence_next, sequence_reserve
from ledger.selectors import exchange_rate_find, period_blocking
from sofinance.errors import APIError, ValidationFailed
from sofinance.money import (
    RATE_DECIMAL_PLACES,
    MoneyError,
    check_precision,
    convert,
    decimal_places,
    format_amount,
    is_valid_currency,
    parse_amount,
)

ZERO = Decimal(0)
ENTRY_FIELDS = ("date", "description", "reference", "source")
MAX_LINES = 1000


@dataclass(frozen=True)
class LineInput:
    """One line as a caller gives it: `account` is an Account, an id (int) or a code (str)."""

    account: Any
    debit: Any = None
    credit: Any = None
    description: str = ""
    currency: str | None = None
    fx_rate: Any = None

    @classmethod
    def coerce(cls, value: LineInput | Mapping[str, Any]) -> LineInput:
        if isinstance(value, LineInput):
            return value
        known = {k: value.get(k) for k in ("account", "debit", "credit", "currency", "fx_rate")}
        return cls(description=value.get("description") or "", **known)


# --------------------------------------------------------------------------- validation


class _Problems:
    """Collects per-line problems; raises the most fundamental kind with every detail."""

    _ORDER = (
        ValidationFailed,
        errors.InvalidAccount,
        errors.CurrencyPrecision,
        errors.MissingExchangeRate,
    )

    def __init__(self) -> None:
        self.items: list[tuple[type, int, str, str]] = []

    def add(self, kind: type, index: int, field: str, message: str) -> None:
        self.items.append((kind, index, field, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        kinds = {item[0] for item in self.items}
        kind = next(k for k in self._ORDER if k in kinds)
        details: dict[str, dict[str, list[str]]] = {}
        for _, index, field, message in self.items:
            details.setdefault(str(index), {}).setdefault(field, []).append(message)
        first = next(item for item in self.items if item[0] is kind)
        message = f"Line {first[1] + 1}: {first[3]}"
        raise kind(message, details={"lines": details})


def _resolve_accounts(company: Company, lines: Sequence[LineInput]) -> dict[Any, Account]:
    ids, codes = set(), set()
    for line in lines:
        ref = line.account
        if isinstance(ref, Account):
            ids.add(ref.pk)
        elif isinstance(ref, int) and not isinstance(ref, bool):
            ids.add(ref)
        elif isinstance(ref, str) and ref:
            codes.add(ref)
    if not ids and not codes:
        return {}
    from django.db.models import Q

    accounts = (
        Account.objects.filter(company=company)
        .filter(Q(pk__in=ids) | Q(code__in=codes))
        .annotate(has_children=Exists(Account.objects.filter(parent=OuterRef("pk"))))
    )
    found: dict[Any, Account] = {}
    for account in accounts:
        found[("id", account.pk)] = account
        found[("code", account.code)] = account
    return found


def _account_key(ref: Any) -> tuple[str, Any] | None:
    if isinstance(ref, Account):
        return ("id", ref.pk)
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ("id", ref)
    if isinstance(ref, str) and ref:
        return ("code", ref)
    return None


def _side(value: Any, index: int, field: str, problems: _Problems) -> Decimal | None:
    """A debit or credit: None/empty/zero means "this side is not used"."""
    if value is None or value == "":
        return None
    try:
        amount = parse_amount(value)
    except MoneyError as exc:
        problems.add(ValidationFailed, index, field, str(exc))
        return None
    if amount < 0:
        problems.add(ValidationFailed, index, field, "Amounts must be positive; use the other side.")
        return None
    return amount if amount != 0 else None


def _fx_rate(value: Any, index: int, problems: _Problems) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        rate = parse_amount(value)
    except MoneyError as exc:
        problems.add(ValidationFailed, index, "fx_rate", str(exc))
        return None
    if rate <= 0:
        problems.add(ValidationFailed, index, "fx_rate", "The exchange rate must be positive.")
        return None
    if decimal_places(rate) > RATE_DECIMAL_PLACES:
        problems.add(
            ValidationFailed, index, "fx_rate", f"Exchange rates have at most {RATE_DECIMAL_PLACES} decimals."
        )
        return None
    return rate


def build_lines(
    *,
    company: Company,
    date: datetime.date,
    lines: Sequence[Any],
    accounts: dict[Any, Account] | None = None,
) -> list[JournalLine]:
    """Validate lines and build unsaved JournalLines with currency, rate and base amount.

    Refuses (with every problem listed, per line): no side or both sides, zero or negative or
    non-numeric amounts (validation_error); unknown, other company's, inactive or parent
    accounts (invalid_account); more decimals than the currency allows (currency_precision);
    a foreign currency without a given or stored rate (missing_exchange_rate).
    """
    if not FIRST_BOOK_DATE <= date <= LAST_BOOK_DATE:
        raise ValidationFailed(
            f"Accounting dates run from {FIRST_BOOK_DATE} to {LAST_BOOK_DATE}.", details={"date": [str(date)]}
        )
    inputs = [LineInput.coerce(line) for line in lines]
    if len(inputs) > MAX_LINES:
        raise ValidationFailed(f"An entry has at most {MAX_LINES} lines.", details={"lines": len(inputs)})
    problems = _Problems()
    if accounts is None:
        accounts = _resolve_accounts(company, inputs)
    functional = company.currency
    built: list[JournalLine] = []
    for index, line in enumerate(inputs):
        debit = _side(line.debit, index, "debit", problems)
        credit = _side(line.credit, index, "credit", problems)
        if debit is not None and credit is not None:
            problems.add(ValidationFailed, index, "debit", "A line has a debit or a credit, not both.")
            continue
        if debit is None and credit is None:
            if not any(p[1] == index for p in problems.items):
                problems.add(ValidationFailed, index, "debit", "A line needs a positive debit or credit.")
            continue
        key = _account_key(line.account)
        account = accounts.get(key) if key else None
        if key is None:
            problems.add(
                ValidationFailed, index, "account", "An account id (number) or code (string) is required."
            )
            continue
        if account is None:
            problems.add(errors.InvalidAccount, index, "account", f"Account {key[1]!r} does not exist.")
            continue
        if not account.is_active:
            problems.add(errors.InvalidAccount, index, "account", f"Account {account.code} is inactive.")
            continue
        if getattr(account, "has_children", False):
            problems.add(
                errors.InvalidAccount,
                index,
                "account",
                f"Account {account.code} has sub-accounts; post to a leaf.",
            )
            continue
        currency = (line.currency or account.currency or functional).upper()
        if not is_valid_currency(currency):
            problems.add(ValidationFailed, index, "currency", f"{currency!r} is not an ISO 4217 currency.")
            continue
        if account.currency and currency != account.currency:
            problems.add(
                errors.InvalidAccount,
                index,
                "currency",
                f"Account {account.code} is kept in {account.currency}; the line is in {currency}.",
            )
            continue
        value = debit if debit is not None else credit
        assert value is not None
        try:
            check_precision(value, currency)
        except MoneyError as exc:
            problems.add(
                errors.CurrencyPrecision, index, "debit" if debit is not None else "credit", str(exc)
            )
            continue
        rate = _fx_rate(line.fx_rate, index, problems)
        if currency == functional:
            if rate is not None and rate != 1:
                problems.add(
                    ValidationFailed, index, "fx_rate", "A line in the functional currency has rate 1."
                )
                continue
            rate = Decimal(1)
        elif rate is None:
            stored = exchange_rate_find(
                company=company, from_currency=currency, to_currency=functional, on=date
            )
            if stored is None:
                problems.add(
                    errors.MissingExchangeRate,
                    index,
                    "fx_rate",
                    f"No {currency}->{functional} rate given or stored on or before {date}.",
                )
                continue
            rate = stored.rate
        base = convert(value, rate, functional)
        signed = value if debit is not None else -value
        built.append(
            JournalLine(
                company=company,
                line_no=index + 1,
                account=account,
                description=(line.description or "")[:500],
                debit=debit or ZERO,
                credit=credit or ZERO,
                currency=currency,
                amount=signed,
                fx_rate=rate,
                base_amount=base if debit is not None else -base,
                date=date,
            )
        )
    problems.raise_if_any()
    return built


def check_balanced(*, company: Company, lines: Sequence[JournalLine]) -> None:
    """At least two lines, and debits equal credits in the functional currency."""
    if len(lines) < 2:
        raise errors.UnbalancedEntry(
            f"An entry needs at least two lines (it has {len(lines)}).", details={"line_count": len(lines)}
        )
    total_debit = sum((ln.base_amount for ln in lines if ln.base_amount > 0), ZERO)
    total_credit = -sum((ln.base_amount for ln in lines if ln.base_amount < 0), ZERO)
    if total_debit != total_credit:
        currency = company.currency
        raise errors.UnbalancedEntry(
            f"Debits {format_amount(total_debit, currency)} do not equal credits "
            f"{format_amount(total_credit, currency)}.",
            details={
                "total_debit": format_amount(total_debit, currency),
                "total_credit": format_amount(total_credit, currency),
                "difference": format_amount(total_debit - total_credit, currency),
                "currency": currency,
            },
        )


def check_period_open(*, company: Company, date: datetime.date) -> None:
    period = period_blocking(company=company, on=date)
    if period is not None:
        raise errors.PeriodClosed(
            f"{date} falls in the {period.status} period {period.start_date} – {period.end_date}.",
            details={"date": date.isoformat(), "period": period.pk, "status": period.status},
        )


def _lines_snapshot(lines: Sequence[JournalLine], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "account": ln.account_id,
            "debit": format_amount(ln.debit, ln.currency),
            "credit": format_amount(ln.credit, ln.currency),
            "currency": ln.currency,
            "fx_rate": json_value(ln.fx_rate.normalize()),
            "base_amount": format_amount(ln.base_amount, currency),
            "description": ln.description,
        }
        for ln in lines
    ]


def _entry_snapshot(entry: JournalEntry, lines: Sequence[JournalLine] | None = None) -> dict[str, Any]:
    data = {field: json_value(getattr(entry, field)) for field in ENTRY_FIELDS}
    data["status"] = entry.status
    if lines is not None:
        data["lines"] = _lines_snapshot(lines, entry.company.currency)
    return data


# --------------------------------------------------------------------------- drafts


def _text(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


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
) -> JournalEntry:
    """Create a draft entry (balanced, valid lines, open period); with `post`, post it at once."""
    if source not in EntrySource.values:
        raise ValidationFailed(details={"source": [f"{source!r} is not a source."]})
    with transaction.atomic():
        built = build_lines(company=company, date=date, lines=lines)
        check_balanced(company=company, lines=built)
        check_period_open(company=company, date=date)
        entry = JournalEntry.objects.create(
            company=company,
            date=date,
            description=_text(description, 500),
            reference=_text(reference, 100),
            source=source,
            status=EntryStatus.DRAFT,
            created_by=by if by is not None and by.is_authenticated else None,
        )
        created = diff(None, _entry_snapshot(entry, built))
        if post:
            # One event for create-and-post: the posted content and its number.
            return _post(entry=entry, lines=built, by=by, insert_lines=True, audit_changes=created)
        for line in built:
            line.entry = entry
        JournalLine.objects.bulk_create(built)
        audit_record(action="create", company=company, obj=entry, actor=by, changes=created)
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
        entry = JournalEntry.objects.select_for_update().select_related("company").get(pk=entry.pk)
        if entry.status != EntryStatus.DRAFT:
            raise errors.EntryImmutable()
        company = entry.company
        old_lines = list(entry.lines.order_by("line_no"))
        before = _entry_snapshot(entry, old_lines)
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
            entry.description = _text(description, 500)
        if reference is not None:
            entry.reference = _text(reference, 100)
        entry.save()
        entry.lines.all().delete()
        for line in built:
            line.entry = entry
        JournalLine.objects.bulk_create(built)
        changes = diff(before, _entry_snapshot(entry, built))
        if changes:
            audit_record(action="update", company=company, obj=entry, actor=by, changes=changes)
    return entry


def journal_entry_delete(*, entry: JournalEntry, by: User | None) -> None:
    """Delete a draft. A posted entry is never deleted."""
    with transaction.atomic():
        entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != EntryStatus.DRAFT:
            raise errors.EntryImmutable("A posted entry cannot be deleted; reverse it instead.")
        lines = list(entry.lines.order_by("line_no"))
        audit_record(
            action="delete",
            company=entry.company_id,
            obj=entry,
            actor=by,
            changes=diff(_entry_snapshot(entry, lines), None),
        )
        entry.delete()


# --------------------------------------------------------------------------- posting


def journal_entry_post(*, entry: JournalEntry, posted_by: User | None) -> JournalEntry:
    """Post a draft: re-check it, update stored balances, give it the next gapless number.

    All in one transaction; the numbering row is locked last (see ledger.numbering), so the
    only serialisation between posters of one company is the short tail of the transaction.
    """
    with transaction.atomic():
        entry = JournalEntry.objects.select_for_update().select_related("company").get(pk=entry.pk)
        if entry.status != EntryStatus.DRAFT:
            raise errors.EntryImmutable("The entry is already posted.")
        lines = list(entry.lines.order_by("line_no"))
        # Accounts may have been deactivated or given sub-accounts since the draft was saved.
        accounts = {
            a.pk: a
            for a in Account.objects.filter(pk__in={ln.account_id for ln in lines}).annotate(
                has_children=Exists(Account.objects.filter(parent=OuterRef("pk")))
            )
        }
        for index, line in enumerate(lines):
            account = accounts[line.account_id]
            if not account.is_active or account.has_children:
                raise errors.InvalidAccount(
                    f"Line {index + 1}: account {account.code} is "
                    f"{'inactive' if not account.is_active else 'a parent account'}.",
                    details={"lines": {str(index): {"account": [account.code]}}},
                )
            line.account = account
        check_balanced(company=entry.company, lines=lines)
        check_period_open(company=entry.company, date=entry.date)
        return _post(entry=entry, lines=lines, by=posted_by)


def _post(
    *,
    entry: JournalEntry,
    lines: list[JournalLine],
    by: User | None,
    insert_lines: bool = False,
    audit_changes: dict[str, Any] | None = None,
) -> JournalEntry:
    """The posting itself; the caller holds the (draft) entry and has validated it.

    Lock order: balance buckets (in account/date order), then the numbering row, which is
    held only for the last few statements of the transaction. With `insert_lines` the lines are
    new: they are inserted already carrying the entry's sequence.
    """
    company = entry.company
    account_currency = {ln.account_id: ln.account.currency for ln in lines}
    balances_apply(company_id=company.pk, lines=lines, source=entry.source, account_currency=account_currency)
    sequence = sequence_next(company_id=company.pk, series=JOURNAL_SERIES)
    for line in lines:
        line.entry = entry
        line.entry_sequence = sequence
    if insert_lines:
        JournalLine.objects.bulk_create(lines)
    else:
        JournalLine.objects.filter(entry=entry).update(entry_sequence=sequence)
    entry.status = EntryStatus.POSTED
    entry.sequence = sequence
    entry.number = journal_number(year=entry.date.year, sequence=sequence)
    entry.posted_at = timezone.now()
    entry.posted_by = by if by is not None and by.is_authenticated else None
    entry.save(update_fields=["status", "sequence", "number", "posted_at", "posted_by", "updated_at"])
    audit_record(
        action="post",
        company=company,
        obj=entry,
        actor=by,
        changes={
            **(audit_changes or {}),
            "status": {"before": None if audit_changes else EntryStatus.DRAFT, "after": EntryStatus.POSTED},
            "number": {"before": None, "after": entry.number},
        },
    )
    return entry


def journal_entry_reverse(
    *,
    entry: JournalEntry,
    by: User | None,
    date: datetime.date | None = None,
    description: str | None = None,
    allow_closing: bool = False,
) -> JournalEntry:
    """Correct a posted entry: post a new entry with every line's side swapped, linked both ways.

    An entry is reversed at most once. The reversal is dated like the original unless `date` is
    given; a date in a closed period is refused (the caller may choose another date).
    Closing entries are reversed only by reopening their fiscal year (`allow_closing`).
    """
    with transaction.atomic():
        original = JournalEntry.objects.select_for_update().select_related("company").get(pk=entry.pk)
        company = original.company
        if original.status != EntryStatus.POSTED:
            raise errors.NotPosted()
        if original.reversed_by_id is not None:
            raise errors.AlreadyReversed(
                f"{original.number} was already reversed.", details={"reversed_by": original.reversed_by_id}
            )
        if original.source == EntrySource.CLOSING and not allow_closing:
            raise errors.EntryImmutable("A year-end closing entry is reversed by reopening its fiscal year.")
        reversal_date = date or original.date
        check_period_open(company=company, date=reversal_date)
        original_lines = list(original.lines.select_related("account").order_by("line_no"))
        reversal = JournalEntry.objects.create(
            company=company,
            date=reversal_date,
            description=_text(description, 500) or f"Reversal of {original.number}",
            reference=original.reference,
            source=EntrySource.REVERSAL if original.source != EntrySource.CLOSING else EntrySource.CLOSING,
            status=EntryStatus.DRAFT,
            created_by=by if by is not None and by.is_authenticated else None,
            reversal_of=original,
        )
        # Exact negation of the stored amounts (not a re-conversion), so the pair nets to zero.
        lines = [
            JournalLine(
                company=company,
                entry=reversal,
                line_no=ln.line_no,
                account=ln.account,
                description=ln.description,
                debit=ln.credit,
                credit=ln.debit,
                currency=ln.currency,
                amount=-ln.amount,
                fx_rate=ln.fx_rate,
                base_amount=-ln.base_amount,
                date=reversal_date,
            )
            for ln in original_lines
        ]
        _post(
            entry=reversal,
            lines=lines,
            by=by,
            insert_lines=True,
            audit_changes={
                **diff(None, _entry_snapshot(reversal, lines)),
                "reversal_of": {"before": None, "after": original.pk},
            },
        )
        JournalEntry.objects.filter(pk=original.pk).update(reversed_by=reversal)
        original.reversed_by = reversal
        audit_record(
            action="reverse",
            company=company,
            obj=original,
            actor=by,
            changes={"reversed_by": {"before": None, "after": reversal.pk}},
            metadata={"reversal_number": reversal.number},
        )
    return reversal


# --------------------------------------------------------------------------- exchange rates


def exchange_rate_set(
    *,
    company: Company,
    from_currency: str,
    to_currency: str,
    date: datetime.date,
    rate: Any,
    by: User | None,
) -> ExchangeRate:
    """Store (or replace) the rate for a currency pair on a date."""
    from_currency, to_currency = (from_currency or "").upper(), (to_currency or "").upper()
    problems: dict[str, list[str]] = {}
    for field, code in (("from_currency", from_currency), ("to_currency", to_currency)):
        if not is_valid_currency(code):
            problems[field] = [f"{code!r} is not an ISO 4217 currency."]
    if from_currency == to_currency:
        problems["to_currency"] = ["A rate converts between two different currencies."]
    try:
        value = parse_amount(rate)
        if value <= 0 or decimal_places(value) > RATE_DECIMAL_PLACES:
            problems["rate"] = [f"A rate is positive with at most {RATE_DECIMAL_PLACES} decimals."]
    except MoneyError as exc:
        problems["rate"] = [str(exc)]
    if problems:
        raise ValidationFailed(details=problems)
    with transaction.atomic():
        existing = (
            ExchangeRate.objects.select_for_update()
            .filter(company=company, from_currency=from_currency, to_currency=to_currency, date=date)
            .first()
        )
        if existing is not None:
            before = json_value(existing.rate)
            existing.rate = value
            existing.save(update_fields=["rate"])
            if before != json_value(value):
                audit_record(
                    action="update",
                    company=company,
                    obj=existing,
                    actor=by,
                    changes={"rate": {"before": before, "after": json_value(value)}},
                )
            return existing
        created = ExchangeRate.objects.create(
            company=company, from_currency=from_currency, to_currency=to_currency, date=date, rate=value
        )
        audit_record(
            action="create",
            company=company,
            obj=created,
            actor=by,
            changes=diff(
                None,
                {"from_currency": from_currency, "to_currency": to_currency, "date": date, "rate": value},
            ),
        )
        return created


def exchange_rate_delete(*, rate: ExchangeRate, by: User | None) -> None:
    """Remove a stored rate (lines already posted keep the rate they were converted at)."""
    with transaction.atomic():
        audit_record(
            action="delete",
            company=rate.company_id,
            obj=rate,
            actor=by,
            changes=diff(
                {
                    "from_currency": rate.from_currency,
                    "to_currency": rate.to_currency,
                    "date": rate.date,
                    "rate": rate.rate,
                },
                None,
            ),
        )
        rate.delete()


# --------------------------------------------------------------------------- bulk import


def _mark_posted(entries: list[JournalEntry], *, posted_at, posted_by: User | None) -> None:
    """Flip a batch of numbered drafts to posted (the trigger checks each row as usual).

    On PostgreSQL one UPDATE ... FROM unnest(...) does it; Django's bulk_update builds a CASE
    per row and field, which costs more than the rest of the import together.
    """
    if connection.vendor != "postgresql":
        JournalEntry.objects.bulk_update(entries, ["status", "sequence", "number", "posted_at", "posted_by"])
        return
    table = JournalEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET status = %s, sequence = v.seq, number = v.num, "  # noqa: S608
            "posted_at = %s, posted_by_id = %s, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[]) AS v(id, seq, num) WHERE e.id = v.id",
            [
                EntryStatus.POSTED,
                posted_at,
                posted_by.pk if posted_by is not None else None,
                posted_at,
                [e.pk for e in entries],
                [e.sequence for e in entries],
                [e.number for e in entries],
            ],
        )


@dataclass(frozen=True)
class EntryInput:
    date: datetime.date
    lines: Sequence[Any]
    description: str = ""
    reference: str = ""


@dataclass(frozen=True)
class ImportResult:
    posted: int
    first_number: str | None
    last_number: str | None


def journal_entries_import(
    *,
    company: Company,
    entries: Sequence[EntryInput],
    by: User | None,
    source: str = EntrySource.IMPORT,
) -> ImportResult:
    """Validate and post many entries in one transaction, all or nothing.

    The same rules as one-by-one posting (valid lines, balance, open periods; the triggers
    check every entry again) with set-based writes: one insert for the entries, one for the
    lines, one upsert per balance table, one numbering reservation, and one audit event for
    the batch naming its number range. Callers batch (e.g. 1,000 entries) to bound memory.
    """
    if not entries:
        return ImportResult(posted=0, first_number=None, last_number=None)
    if source not in EntrySource.values:
        raise ValidationFailed(details={"source": [f"{source!r} is not a source."]})
    accounts = {}
    for account in Account.objects.filter(company=company).annotate(
        has_children=Exists(Account.objects.filter(parent=OuterRef("pk")))
    ):
        accounts[("id", account.pk)] = account
        accounts[("code", account.code)] = account
    blocked = list(
        AccountingPeriod.objects.filter(
            company=company, status__in=[PeriodStatus.CLOSED, PeriodStatus.LOCKED]
        )
    )
    built_entries: list[tuple[EntryInput, list[JournalLine]]] = []
    for index, item in enumerate(entries):
        try:
            built = build_lines(company=company, date=item.date, lines=item.lines, accounts=accounts)
            check_balanced(company=company, lines=built)
        except APIError as exc:
            exc.details = {"entry": index, **exc.details}
            exc.message = f"Entry {index + 1}: {exc.message}"
            raise
        for period in blocked:
            if period.start_date <= item.date <= period.end_date:
                raise errors.PeriodClosed(
                    f"Entry {index + 1}: {item.date} falls in the {period.status} period "
                    f"{period.start_date} – {period.end_date}.",
                    details={"entry": index, "period": period.pk},
                )
        built_entries.append((item, built))
    created_by = by if by is not None and by.is_authenticated else None
    with transaction.atomic():
        # Same lock order as single postings: balance buckets, then the numbering row.
        all_lines = [line for _, lines in built_entries for line in lines]
        account_currency = {ln.account_id: ln.account.currency for ln in all_lines}
        balances_apply(
            company_id=company.pk, lines=all_lines, source=source, account_currency=account_currency
        )
        last = sequence_reserve(company_id=company.pk, series=JOURNAL_SERIES, count=len(built_entries))
        first = last - len(built_entries) + 1
        now = timezone.now()
        drafts = [
            JournalEntry(
                company=company,
                date=item.date,
                description=_text(item.description, 500),
                reference=_text(item.reference, 100),
                source=source,
                status=EntryStatus.DRAFT,
                created_by=created_by,
            )
            for item, _ in built_entries
        ]
        JournalEntry.objects.bulk_create(drafts)
        for offset, (entry, (_, lines)) in enumerate(zip(drafts, built_entries, strict=True)):
            for line in lines:
                line.entry = entry
                line.entry_sequence = first + offset
        JournalLine.objects.bulk_create(all_lines, batch_size=2000)
        for offset, entry in enumerate(drafts):
            entry.status = EntryStatus.POSTED
            entry.sequence = first + offset
            entry.number = journal_number(year=entry.date.year, sequence=entry.sequence)
            entry.posted_at = now
            entry.posted_by = created_by
        _mark_posted(drafts, posted_at=now, posted_by=created_by)
        audit_record(
            action="import",
            company=company,
            object_type=JournalEntry._meta.label_lower,
            object_id=f"{drafts[0].pk}-{drafts[-1].pk}",
            object_repr=f"{drafts[0].number} – {drafts[-1].number}",
            actor=by,
            metadata={
                "entries": len(drafts),
                "lines": len(all_lines),
                "first_number": drafts[0].number,
                "last_number": drafts[-1].number,
                "source": source,
            },
        )
    return ImportResult(posted=len(drafts), first_number=drafts[0].number, last_number=drafts[-1].number)
