"""Reads of the ledger: entries, rates, periods. Reports live in ledger/reports.py."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import F, QuerySet

from accounts.models import Account, Company
from audit.selectors import audit_events_of_objects
from ledger.balance_queries import AccountTotals, account_totals, roll_up
from ledger.models import (
    AccountingPeriod,
    ExchangeRate,
    FiscalYearClose,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)
from sofinance.quarantine import quarantined_annotation


def exchange_rate_find(
    *, company: Company, from_currency: str, to_currency: str, on: datetime.date
) -> ExchangeRate | None:
    """The company's most recent stored rate on or before `on`."""
    return (
        ExchangeRate.objects.filter(
            company=company, from_currency=from_currency, to_currency=to_currency, date__lte=on
        )
        .order_by("-date")
        .first()
    )


def exchange_rates_for_company(*, company: Company) -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.filter(company=company).order_by(
        "from_currency", "to_currency", "-date", "-id"
    )


def period_covering(*, company: Company, on: datetime.date) -> AccountingPeriod | None:
    """The period covering `on`, whatever its status (None: no period covers it, and it is open)."""
    return (
        AccountingPeriod.objects.filter(company=company, start_date__lte=on, end_date__gte=on)
        .order_by("start_date")
        .first()
    )


def period_blocking(*, company: Company, on: datetime.date) -> AccountingPeriod | None:
    """The closed or locked period covering `on`, if any (a date no period covers is open)."""
    return (
        AccountingPeriod.objects.filter(
            company=company,
            status__in=[PeriodStatus.CLOSED, PeriodStatus.LOCKED],
            start_date__lte=on,
            end_date__gte=on,
        )
        .order_by("start_date")
        .first()
    )


class ClosedAfter(NamedTuple):
    """The closed or locked periods that start after a day: an entry dated that day (open, or
    covered by no period) changes the balances they open with, and their reports."""

    first: AccountingPeriod
    last: AccountingPeriod
    count: int

    def span(self) -> str:
        """`the closed period 2026-01-01 – 2026-01-31`, or `10 closed periods (2026-01-01 – 2026-10-31)`."""
        if self.count == 1:
            return f"the {self.first.get_status_display().lower()} period {self.first.start_date} – {self.first.end_date}"
        return f"{self.count} closed periods ({self.first.start_date} – {self.last.end_date})"

    def sentence(self, day: datetime.date, *, covered: bool) -> str:
        """What posting on `day` does to them, and what to do instead, in one paragraph."""
        span = self.span()
        own = (
            "Its own period is open, so it posts"
            if covered
            else "No period covers it, so it is open and posts"
        )
        fix = "date it in an open period after them" + (
            "" if covered else f", or create and close the periods of {day.year} first"
        )
        return (
            f"{day} comes before {span}. {own}; but the balances they start from change, and with them "
            f"their balance sheets and every later report (an adjustment of what was reported). To "
            f"leave the closed months as they were reported, {fix}."
        )


def closed_period_after(*, company: Company, on: datetime.date) -> ClosedAfter | None:
    """The closed or locked periods that start after `on` (None when there is none)."""
    periods = list(
        AccountingPeriod.objects.filter(
            company=company, status__in=[PeriodStatus.CLOSED, PeriodStatus.LOCKED], start_date__gt=on
        ).order_by("start_date")
    )
    return ClosedAfter(periods[0], periods[-1], len(periods)) if periods else None


class Reopening(NamedTuple):
    """A period's reopening as the audit trail keeps it."""

    at: datetime.datetime
    by: str
    reason: str


def period_reopenings(*, company_id: int, period_ids: Sequence[int]) -> dict[int, list[Reopening]]:
    """Each period's reopenings, latest first (periods never reopened are absent). The reason a
    period was reopened lives in its audit event, the one record of it."""
    found: dict[int, list[Reopening]] = {}
    events = audit_events_of_objects(
        company_id=company_id,
        objects=[(AccountingPeriod._meta.label_lower, [str(pk) for pk in period_ids])],
    ).filter(action="reopen")
    for event in events.order_by("-created_at", "-id"):
        reason = (event.metadata or {}).get("reason")
        found.setdefault(int(event.object_id), []).append(
            Reopening(at=event.created_at, by=event.actor_repr or "", reason=str(reason or ""))
        )
    return found


def closed_fiscal_years(*, company_id: int) -> list[tuple[datetime.date, datetime.date]]:
    """The company's closed fiscal years (not reopened), as (first day, last day), earliest first.
    Their periods reopen only with the year."""
    return list(
        FiscalYearClose.objects.filter(company_id=company_id, reopened_at__isnull=True)
        .order_by("start_date")
        .values_list("start_date", "end_date")
    )


class EntryLineRow(NamedTuple):
    """A journal line as shown with its entry (read as a plain row: a page of entries shows
    hundreds of lines, and model instances cost more than the query)."""

    id: int
    entry_id: int
    line_no: int
    account_id: int
    account_code: str
    account_name: str
    description: str
    debit: Decimal
    credit: Decimal
    currency: str
    amount: Decimal
    fx_rate: Decimal
    base_amount: Decimal


def journal_entries_for_company(*, company: Company) -> QuerySet[JournalEntry]:
    """The company's entries with who created and posted them (`created_by_username`,
    `posted_by_username`) and their quarantine flag; their lines are read per page by
    `journal_entry_lines_attach`."""
    return JournalEntry.objects.filter(company=company).annotate(
        created_by_username=F("created_by__username"),
        posted_by_username=F("posted_by__username"),
        quarantined=quarantined_annotation(JournalEntry._meta.label_lower),
    )


def journal_entry_lines_attach(entries: Sequence[JournalEntry]) -> Sequence[JournalEntry]:
    """Read the lines of `entries` in one query and give each entry its own, in line order, as
    `posted_lines` (EntryLineRow)."""
    by_entry: dict[int, list[EntryLineRow]] = {entry.pk: [] for entry in entries}
    if by_entry:
        rows = (
            JournalLine.objects.filter(entry_id__in=list(by_entry))
            .order_by("entry_id", "line_no")
            .values_list(
                "id",
                "entry_id",
                "line_no",
                "account_id",
                "account__code",
                "account__name",
                "description",
                "debit",
                "credit",
                "currency",
                "amount",
                "fx_rate",
                "base_amount",
            )
        )
        for row in rows:
            by_entry[row[1]].append(EntryLineRow._make(row))
    for entry in entries:
        entry.posted_lines = by_entry[entry.pk]
    return entries


def journal_entry_get(*, company: Company, pk: int) -> JournalEntry | None:
    """One entry with its lines (`posted_lines`), or None when the company has no such entry."""
    entry = journal_entries_for_company(company=company).filter(pk=pk).first()
    if entry is not None:
        journal_entry_lines_attach([entry])
    return entry


def account_balances_rolled_up(*, company_id: int, as_of: datetime.date) -> dict[int, AccountTotals]:
    """Posted totals as of a date for the company's accounts, each parent summing its subtree
    (accounts with nothing posted under them are absent: zero)."""
    posted = account_totals(company_id=company_id, end=as_of)
    if not posted:
        return {}
    chart = list(Account.objects.filter(company_id=company_id).values_list("id", "path"))
    return roll_up(chart, posted)


# --------------------------------------------------------------------------- streams (exports)

STREAM_PAGE = 2000

_LINES_PAGE_SQL = """
SELECT l.id, l.date, l.entry_sequence, l.entry_id, e.number, e.reference, e.description, e.source,
       l.line_no, a.code, a.name, l.description, l.debit, l.credit, l.currency, l.amount, l.fx_rate,
       l.base_amount
  FROM ledger_journalline l
  JOIN ledger_journalentry e ON e.id = l.entry_id
  JOIN accounts_account a ON a.id = l.account_id
 WHERE l.company_id = %s AND l.entry_sequence IS NOT NULL AND l.date >= %s AND l.date <= %s {account}
   AND (l.date > %s OR (l.date = %s AND (l.entry_sequence > %s OR (l.entry_sequence = %s AND l.id > %s))))
 ORDER BY l.date, l.entry_sequence, l.id
 LIMIT %s
"""


def posted_lines_stream(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    account_id: int | None = None,
    page_size: int = STREAM_PAGE,
):
    """Posted lines in book order (date, entry number, line), with their entry's number,
    reference, description and source and their account's code and name, as tuples:
    (id, date, sequence, entry_id, number, reference, entry_description, source, line_no,
    account_code, account_name, description, debit, credit, currency, amount, fx_rate, base_amount).

    Read by keyset pages on the (company, date) index: constant memory, each page a short query,
    so a reader may commit between pages (progress) and deep pages cost what the first does.
    """
    account_sql = "AND l.account_id = %s" if account_id is not None else ""
    sql = _LINES_PAGE_SQL.format(account=account_sql)
    last = (date_from, -1, -1)
    while True:
        params: list[object] = [company.pk, last[0], date_to]
        if account_id is not None:
            params.append(account_id)
        params += [last[0], last[0], last[1], last[1], last[2], page_size]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            date = row[1] if isinstance(row[1], datetime.date) else datetime.date.fromisoformat(str(row[1]))
            yield (row[0], date, *row[2:])
        last_row = rows[-1]
        last_date = last_row[1]
        if not isinstance(last_date, datetime.date):
            last_date = datetime.date.fromisoformat(str(last_date))
        last = (last_date, last_row[2], last_row[0])
        if len(rows) < page_size:
            return


def posted_lines_count(
    *, company: Company, date_from: datetime.date, date_to: datetime.date, account_id: int | None = None
) -> int:
    lines = JournalLine.objects.filter(
        company=company, entry_sequence__isnull=False, date__gte=date_from, date__lte=date_to
    )
    if account_id is not None:
        lines = lines.filter(account_id=account_id)
    return lines.count()
