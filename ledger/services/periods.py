"""Accounting periods and the year-end close (services).

Closing, locking and reopening take the company's journal numbering lock: every posting takes that
lock before its status changes to posted (where the database checks the period), so no posting
can slip into a period in the moment it closes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, AccountRole, AccountType, Company, User
from audit.services import audit_record
from ledger import errors
from ledger.balance_queries import account_totals
from ledger.calendar import fiscal_year_bounds, month_ranges
from ledger.models import (
    FIRST_BOOK_DATE,
    LAST_BOOK_DATE,
    AccountingPeriod,
    EntrySource,
    FiscalYearClose,
    JournalEntry,
    PeriodStatus,
)
from ledger.numbering import sequence_lock
from ledger.services.lines import PostingLine, check_balanced, check_period_open
from ledger.services.posting import EntryToPost, acting_user, entries_post
from ledger.services.reversal import journal_entry_reverse
from sofinance.errors import NotFound, ValidationFailed
from sofinance.money import RATE_DECIMAL_PLACES, format_amount

ZERO = Decimal(0)


def _lock_postings(company_id: int) -> None:
    """Hold the company's journal counter: postings wait until this transaction ends."""
    sequence_lock(company_id=company_id)


def period_open_held(*, company: Company, date: datetime.date) -> None:
    """Refuse `date` in a closed or locked period (422 `period_closed`), holding the journal
    counter until the caller's transaction ends, as a posting does: the period cannot close
    between this check and the commit (closing takes the counter first). For writes that change
    what a period's reports show without posting anything (a sales allocation or its removal,
    which move the AR aging)."""
    _lock_postings(company.pk)
    check_period_open(company=company, date=date)


def _locked_period(period: AccountingPeriod) -> AccountingPeriod:
    locked = AccountingPeriod.objects.select_for_update().filter(pk=period.pk).first()
    if locked is None:
        raise NotFound("The period does not exist.")
    return locked


def _lock_company(company: Company) -> Company:
    """Lock the company's row and return it as stored now: its fiscal year start may have changed
    since the caller read it (company_update takes the same lock), so the year's bounds are
    worked out from this one."""
    return Company.objects.select_for_update(no_key=True).get(pk=company.pk)


def _period_repr(period: AccountingPeriod) -> dict:
    return {
        "start_date": period.start_date.isoformat(),
        "end_date": period.end_date.isoformat(),
        "status": period.status,
        "name": period.name,
    }


# --------------------------------------------------------------------------- fiscal years


def _check_book_dates(**days: datetime.date) -> None:
    """A period lies within the books' dates (the reports select nothing outside them)."""
    for field, day in days.items():
        if not FIRST_BOOK_DATE <= day <= LAST_BOOK_DATE:
            raise ValidationFailed(
                f"Accounting dates run from {FIRST_BOOK_DATE} to {LAST_BOOK_DATE}.",
                details={field: [str(day)]},
            )


def _bulk_create_months(company: Company, year: int) -> None:
    """The twelve monthly periods of fiscal year `year` (callers check for overlaps first)."""
    start, end = fiscal_year_bounds(company=company, year=year)
    AccountingPeriod.objects.bulk_create(
        AccountingPeriod(company=company, start_date=s, end_date=e, name=f"FY{year} {s:%b %Y}")
        for s, e in month_ranges(start, end)
    )


# --------------------------------------------------------------------------- periods


def _overlapping(company: Company, start: datetime.date, end: datetime.date):
    return AccountingPeriod.objects.filter(company=company, start_date__lte=end, end_date__gte=start)


def period_create(
    *, company: Company, start_date: datetime.date, end_date: datetime.date, name: str = "", by: User | None
) -> AccountingPeriod:
    """Add an open period. Periods never overlap (409)."""
    if end_date < start_date:
        raise ValidationFailed(details={"end_date": ["The period ends before it starts."]})
    _check_book_dates(start_date=start_date, end_date=end_date)
    with transaction.atomic():
        _lock_company(company)
        clash = _overlapping(company, start_date, end_date).first()
        if clash is not None:
            raise errors.PeriodOverlap(
                f"The period overlaps {clash.start_date} – {clash.end_date}.", details={"period": clash.pk}
            )
        period = AccountingPeriod.objects.create(
            company=company, start_date=start_date, end_date=end_date, name=(name or "")[:50]
        )
        audit_record(
            action="create",
            company=company,
            obj=period,
            actor=by,
            changes={k: {"before": None, "after": v} for k, v in _period_repr(period).items()},
        )
    return period


def periods_generate(*, company: Company, year: int, by: User | None) -> list[AccountingPeriod]:
    """Create the twelve monthly periods of fiscal year `year` in one call (409 if any overlaps)."""
    start, end = fiscal_year_bounds(company=company, year=year)
    _check_book_dates(fiscal_year=start, end_date=end)
    with transaction.atomic():
        company = _lock_company(company)
        start, end = fiscal_year_bounds(company=company, year=year)
        _check_book_dates(fiscal_year=start, end_date=end)
        clash = _overlapping(company, start, end).first()
        if clash is not None:
            raise errors.PeriodOverlap(
                f"Fiscal year {year} overlaps the period {clash.start_date} – {clash.end_date}.",
                details={"period": clash.pk},
            )
        _bulk_create_months(company, year)
        created = list(
            AccountingPeriod.objects.filter(company=company, start_date__gte=start, end_date__lte=end)
        )
        audit_record(
            action="create",
            company=company,
            object_type=AccountingPeriod._meta.label_lower,
            object_id=f"FY{year}",
            object_repr=f"Periods of fiscal year {year}",
            actor=by,
            metadata={"fiscal_year": year, "periods": [p.pk for p in created]},
        )
    return created


def _closed_year_covering(period: AccountingPeriod) -> FiscalYearClose | None:
    return FiscalYearClose.objects.filter(
        company_id=period.company_id,
        reopened_at__isnull=True,
        start_date__lte=period.end_date,
        end_date__gte=period.start_date,
    ).first()


def _not_open(period: AccountingPeriod, message: str) -> errors.PeriodLocked | errors.PeriodNotOpen:
    """The refusal of an action only an open period allows, its reason true to the status:
    `period_locked` for a locked period (it never changes again), else `period_not_open`."""
    error = errors.PeriodLocked if period.status == PeriodStatus.LOCKED else errors.PeriodNotOpen
    return error(message, details={"status": period.status})


def period_close(*, period: AccountingPeriod, by: User | None) -> AccountingPeriod:
    """Close an open period: nothing can be posted, reversed or edited into it until reopened."""
    with transaction.atomic():
        _lock_postings(period.company_id)
        period = _locked_period(period)
        if period.status != PeriodStatus.OPEN:
            raise _not_open(period, f"The period is {period.status}, not open.")
        period.status = PeriodStatus.CLOSED
        period.closed_at = timezone.now()
        period.closed_by = acting_user(by)
        period.save(update_fields=["status", "closed_at", "closed_by"])
        audit_record(
            action="close",
            company=period.company_id,
            obj=period,
            actor=by,
            changes={"status": {"before": PeriodStatus.OPEN, "after": PeriodStatus.CLOSED}},
        )
    return period


def period_reopen(*, period: AccountingPeriod, reason: str, by: User | None) -> AccountingPeriod:
    """Reopen a closed period (a reason is required). Locked periods never reopen; periods of a
    closed fiscal year reopen with the year."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required to reopen a period.", details={"reason": ["Required."]})
    with transaction.atomic():
        _lock_postings(period.company_id)
        period = _locked_period(period)
        if period.status == PeriodStatus.LOCKED:
            raise errors.PeriodLocked(
                "A locked period cannot be reopened.", details={"status": period.status}
            )
        if period.status != PeriodStatus.CLOSED:
            raise errors.PeriodNotClosed(
                f"The period is {period.status}, not closed.", details={"status": period.status}
            )
        closed_year = _closed_year_covering(period)
        if closed_year is not None:
            raise errors.PeriodLocked(
                f"The period belongs to the closed fiscal year {closed_year}; reopen the year instead.",
                details={"reason": "fiscal_year_closed"},
            )
        period.status = PeriodStatus.OPEN
        period.closed_at = None
        period.closed_by = None
        period.save(update_fields=["status", "closed_at", "closed_by"])
        audit_record(
            action="reopen",
            company=period.company_id,
            obj=period,
            actor=by,
            changes={"status": {"before": PeriodStatus.CLOSED, "after": PeriodStatus.OPEN}},
            metadata={"reason": reason},
        )
    return period


def period_lock(*, period: AccountingPeriod, by: User | None) -> AccountingPeriod:
    """Lock a period for good (e.g. after the audit): it never reopens."""
    with transaction.atomic():
        _lock_postings(period.company_id)
        period = _locked_period(period)
        if period.status == PeriodStatus.LOCKED:
            raise errors.PeriodLocked("The period is already locked.", details={"status": period.status})
        before = period.status
        period.status = PeriodStatus.LOCKED
        if period.closed_at is None:
            period.closed_at = timezone.now()
            period.closed_by = acting_user(by)
        period.save(update_fields=["status", "closed_at", "closed_by"])
        audit_record(
            action="lock",
            company=period.company_id,
            obj=period,
            actor=by,
            changes={"status": {"before": before, "after": PeriodStatus.LOCKED}},
        )
    return period


def period_delete(*, period: AccountingPeriod, by: User | None) -> None:
    """Remove an open period (dates no period covers are open anyway)."""
    with transaction.atomic():
        period = _locked_period(period)
        if period.status != PeriodStatus.OPEN:
            raise _not_open(period, f"A {period.status} period cannot be deleted.")
        audit_record(
            action="delete",
            company=period.company_id,
            obj=period,
            actor=by,
            changes={k: {"before": v, "after": None} for k, v in _period_repr(period).items()},
        )
        period.delete()


# --------------------------------------------------------------------------- year-end close


@dataclass(frozen=True)
class YearClose:
    fiscal_year: int
    record: FiscalYearClose
    closing_entry: JournalEntry | None
    periods_closed: int


def _closing_lines(
    company: Company, start: datetime.date, end: datetime.date
) -> tuple[list[PostingLine], int]:
    """Lines that bring every income and expense account to zero for the year, net to retained
    earnings (and the retained earnings account's id). Built from the stored balances with exact
    base amounts (no re-conversion)."""
    retained = Account.objects.filter(company=company, system_role=AccountRole.RETAINED_EARNINGS).first()
    if retained is None:
        raise errors.FiscalYearError(
            "The company has no retained earnings account (an equity account with role retained_earnings)."
        )
    accounts = {
        a.pk: a
        for a in Account.objects.filter(company=company, type__in=[AccountType.INCOME, AccountType.EXPENSE])
    }
    totals = account_totals(
        company_id=company.pk, start=start, end=end, include_closing=False, account_ids=list(accounts)
    )
    lines: list[PostingLine] = []

    def add(
        account: Account, currency: str, amount: Decimal, rate: Decimal, base: Decimal, text: str
    ) -> None:
        lines.append(
            PostingLine(
                line_no=len(lines) + 1,
                account_id=account.pk,
                account_code=account.code,
                account_currency=account.currency or "",
                account_name=account.name,
                description=text,
                debit=amount if amount > 0 else ZERO,
                credit=-amount if amount < 0 else ZERO,
                currency=currency,
                amount=amount,
                fx_rate=rate,
                base_amount=base,
            )
        )

    net = ZERO  # debit-positive sum of the closing lines so far
    for account_id, total in sorted(totals.items(), key=lambda item: accounts[item[0]].path):
        base = total.balance
        if base == 0:
            continue
        account = accounts[account_id]
        own = total.amount if account.currency else base
        if account.currency and own != 0:
            rate = abs(base / own).quantize(Decimal(1).scaleb(-RATE_DECIMAL_PLACES))
            add(account, account.currency, -own, rate or Decimal(1), -base, "Year-end close")
        else:
            add(account, company.currency, -base, Decimal(1), -base, "Year-end close")
        net += -base
    if net != 0:
        add(retained, company.currency, -net, Decimal(1), -net, "Net result of the year")
    return lines, retained.pk


def fiscal_year_closing_lines(*, company: Company, year: int) -> list[PostingLine]:
    """What closing fiscal year `year` would post now (nothing is written): the lines that bring
    income and expenses to zero, net to retained earnings. The admin's confirmation shows them."""
    start, end = fiscal_year_bounds(company=company, year=year)
    lines, _ = _closing_lines(company, start, end)
    return lines


def fiscal_year_close(*, company: Company, year: int, by: User | None) -> YearClose:
    """Close fiscal year `year`: post the closing entry (income and expenses into retained
    earnings) through the posting service, then close every period of the year (creating the
    monthly periods if the company has none for it). A year is closed only once it has ended."""
    start, end = fiscal_year_bounds(company=company, year=year)
    if end >= timezone.localdate():
        raise errors.FiscalYearError(
            f"Fiscal year {year} ends on {end}; it can be closed from the day after."
        )
    with transaction.atomic():
        company = _lock_company(company)
        _lock_postings(company.pk)
        # Bounds from the locked row: a fiscal year start changed meanwhile is seen (and a year
        # closed here is seen by a change waiting for this lock, which then refuses).
        start, end = fiscal_year_bounds(company=company, year=year)
        if end >= timezone.localdate():
            raise errors.FiscalYearError(
                f"Fiscal year {year} ends on {end}; it can be closed from the day after."
            )
        if FiscalYearClose.objects.filter(
            company=company, start_date=start, reopened_at__isnull=True
        ).exists():
            raise errors.FiscalYearError(f"Fiscal year {year} is already closed.")
        # A closed year of other bounds (closed before the fiscal year start moved) that shares
        # days with this one: its income is already in retained earnings, so closing would move
        # it again.
        overlapping = (
            FiscalYearClose.objects.filter(
                company=company, reopened_at__isnull=True, start_date__lte=end, end_date__gte=start
            )
            .order_by("start_date")
            .first()
        )
        if overlapping is not None:
            raise errors.FiscalYearError(
                f"Fiscal year {year} ({start} to {end}) overlaps the year closed from "
                f"{overlapping.start_date} to {overlapping.end_date}: its income is already in retained "
                "earnings. Reopen that year first."
            )
        already_closed = AccountingPeriod.objects.filter(
            company=company, start_date__lte=end, end_date__gte=start
        ).exclude(status=PeriodStatus.OPEN)
        # The closing entry may land in a closed (not a locked) last period: months are usually
        # closed one by one before the year is.
        if already_closed.filter(status=PeriodStatus.LOCKED, start_date__lte=end, end_date__gte=end).exists():
            raise errors.PeriodClosed(f"The last day of fiscal year {year} is in a locked period.")
        lines, retained_id = _closing_lines(company, start, end)
        closing_entry = None
        if lines:
            check_balanced(company=company, lines=lines)
            (closing_entry,) = entries_post(
                company=company,
                entries=[
                    EntryToPost(
                        date=end, lines=lines, description=f"Year-end close FY{year}", reference=f"FY{year}"
                    )
                ],
                by=by,
                source=EntrySource.CLOSING,
            )
        if not _overlapping(company, start, end).exists():
            _bulk_create_months(company, year)
        to_close = AccountingPeriod.objects.filter(
            company=company, start_date__gte=start, end_date__lte=end, status=PeriodStatus.OPEN
        )
        closed = to_close.update(
            status=PeriodStatus.CLOSED, closed_at=timezone.now(), closed_by=acting_user(by)
        )
        record = FiscalYearClose.objects.create(
            company=company,
            start_date=start,
            end_date=end,
            closing_entry=closing_entry,
            closed_by=acting_user(by),
        )
        audit_record(
            action="close",
            company=company,
            obj=record,
            actor=by,
            metadata={
                "fiscal_year": year,
                "closing_entry": closing_entry.number if closing_entry else None,
                "net_result": format_amount(
                    -sum((ln.base_amount for ln in lines if ln.account_id != retained_id), ZERO),
                    company.currency,
                ),
                "periods_closed": closed,
                "periods_already_closed": already_closed.count(),
            },
        )
    return YearClose(fiscal_year=year, record=record, closing_entry=closing_entry, periods_closed=closed)


def fiscal_year_reopen(*, company: Company, year: int, reason: str, by: User | None) -> FiscalYearClose:
    """Reopen a closed fiscal year: reopen its closed periods and reverse its closing entry.
    Refused when any of its periods is locked."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "A reason is required to reopen a fiscal year.", details={"reason": ["Required."]}
        )
    with transaction.atomic():
        company = _lock_company(company)
        _lock_postings(company.pk)
        start, end = fiscal_year_bounds(company=company, year=year)
        record = (
            FiscalYearClose.objects.select_for_update()
            .filter(company=company, start_date=start, reopened_at__isnull=True)
            .first()
        )
        if record is None:
            raise errors.FiscalYearError(f"Fiscal year {year} is not closed.")
        periods = AccountingPeriod.objects.filter(company=company, start_date__gte=start, end_date__lte=end)
        if periods.filter(status=PeriodStatus.LOCKED).exists():
            raise errors.PeriodLocked(f"Fiscal year {year} has locked periods and cannot be reopened.")
        reopened = periods.filter(status=PeriodStatus.CLOSED).update(
            status=PeriodStatus.OPEN, closed_at=None, closed_by=None
        )
        reversal = None
        if record.closing_entry_id is not None:
            reversal = journal_entry_reverse(
                entry=record.closing_entry,
                by=by,
                date=end,
                description=f"Reopening FY{year}",
                allow_closing=True,
            )
        record.reopened_at = timezone.now()
        record.save(update_fields=["reopened_at"])
        audit_record(
            action="reopen",
            company=company,
            obj=record,
            actor=by,
            metadata={
                "fiscal_year": year,
                "reason": reason,
                "periods_reopened": reopened,
                "closing_reversal": reversal.number if reversal else None,
            },
        )
    return record
