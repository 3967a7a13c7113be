"""The bank reconciliation report as of a date (a selector: reads only).

    bank balance (from the statements)
  − bank lines not in the books yet (fees not entered, a receipt not recorded)
  + book lines not through the bank yet (cheques not cleared, deposits in transit)
  = adjusted bank balance, which equals the book balance when everything is explained.

A match counts as of the date when its bank line and every ledger line it holds are dated on or
before it; otherwise each of its sides dated by then is outstanding on its side. Book lines from
before the bank account's first statement are in its opening balance, unless matched to a line
of a statement. `opening_difference` is what the books held on the eve of the first statement
(less those matched lines) minus its opening balance: a difference from before the bank feed
began, which no matching can explain. An entry outstanding together with its reversal is left
out of the book lines (the two cancel out; `cancelled_pairs` names them).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q

from accounts.models import Company
from banking import selectors
from banking.models import BankAccount, BankMatch, BankStatement, BankStatementLine, LineStatus
from ledger.balance_queries import account_totals
from ledger.models import JournalEntry, JournalLine

ZERO = Decimal(0)
ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class BankItem:
    id: int
    date: datetime.date
    amount: Decimal
    counterparty: str
    reference: str
    status: str
    description: str = ""  # the bank's own words: a fee or interest has no counterparty or reference


@dataclass(frozen=True)
class BookItem:
    id: int  # the journal line
    entry: int
    number: str
    date: datetime.date
    amount: Decimal
    description: str
    reference: str


@dataclass(frozen=True)
class Reconciliation:
    bank_account: BankAccount
    as_of: datetime.date
    currency: str
    statement: BankStatement | None
    statement_balance: Decimal | None
    book_balance: Decimal
    unmatched_bank: list[BankItem]
    unmatched_bank_total: Decimal
    unmatched_book: list[BookItem]
    unmatched_book_total: Decimal
    adjusted_bank_balance: Decimal | None
    difference: Decimal | None
    opening_difference: Decimal
    # (original, reversal) entry numbers: outstanding together, they cancel out and are not listed
    cancelled_pairs: list[tuple[str, str]]

    @property
    def reconciled(self) -> bool:
        return self.difference == 0


def same_amount_partners(report: Reconciliation) -> dict[int, BookItem]:
    """Each unmatched bank line's unmatched book line of the same amount, by the bank line's id.

    Such a pair is most likely one payment not matched yet; a bank line with no partner is a
    charge or interest not in the books, or a payment of several book lines. The report's
    arithmetic holds either way: this says them apart, so a month is not closed with a fee missing
    from the books. Paired greedily in date order, each book line once."""
    partners: dict[int, BookItem] = {}
    free = list(report.unmatched_book)
    for item in report.unmatched_bank:
        if item.status == LineStatus.MATCHED:
            continue  # matched since, to what is dated after the report's date: a timing item
        partner = next((book for book in free if book.amount == item.amount), None)
        if partner is not None:
            partners[item.id] = partner
            free.remove(partner)
    return partners


def book_balance(bank: BankAccount, as_of: datetime.date) -> Decimal:
    """The ledger account's balance at the end of `as_of` (in its own currency when it is kept in
    one), from the stored balances."""
    totals = account_totals(company_id=bank.company_id, end=as_of, account_ids=[bank.account_id]).get(
        bank.account_id
    )
    if totals is None:
        return ZERO
    return totals.amount if bank.account.currency else totals.balance


def reconciliation_report(*, bank_account: BankAccount, as_of: datetime.date) -> Reconciliation:
    bank = bank_account
    statement = (
        BankStatement.objects.filter(bank_account=bank, end_date__lte=as_of)
        .order_by("-end_date", "-id")
        .first()
    )
    first = BankStatement.objects.filter(bank_account=bank).order_by("start_date", "id").first()
    bank_balance = selectors.bank_balance_on(bank_account=bank, date=as_of)
    books = book_balance(bank, as_of)
    start = first.start_date if first is not None else as_of + ONE_DAY
    amount_field = bank.ledger_amount_field

    bank_lines = list(
        BankStatementLine.objects.filter(bank_account=bank, date__lte=as_of).order_by("date", "id")
    )
    groups: dict[int, list[tuple[int, datetime.date]]] = {}
    for bank_line_id, journal_line_id, date in BankMatch.objects.filter(
        bank_line__bank_account=bank
    ).values_list("bank_line_id", "journal_line_id", "journal_line__date"):
        groups.setdefault(bank_line_id, []).append((journal_line_id, date))
    bank_dates = dict(BankStatementLine.objects.filter(pk__in=list(groups)).values_list("id", "date"))
    cleared_bank: set[int] = set()
    cleared_book: set[int] = set()
    matched_book_dates: dict[int, datetime.date] = {}
    for bank_line_id, members in groups.items():
        for journal_line_id, date in members:
            matched_book_dates[journal_line_id] = date
        if bank_dates[bank_line_id] <= as_of and all(date <= as_of for _, date in members):
            cleared_bank.add(bank_line_id)
            cleared_book.update(journal_line_id for journal_line_id, _ in members)

    unmatched_bank = [
        BankItem(
            line.pk, line.date, line.amount, line.counterparty, line.reference, line.status, line.description
        )
        for line in bank_lines
        if line.pk not in cleared_bank
    ]
    book_rows = (
        JournalLine.objects.filter(
            company_id=bank.company_id,
            account_id=bank.account_id,
            entry_sequence__isnull=False,
            date__lte=as_of,
        )
        .filter(date__gte=start)
        .values_list(
            "id", "entry_id", "entry__number", "date", amount_field, "description", "entry__reference"
        )
        .order_by("date", "entry_sequence", "id")
    )
    unmatched_book = [BookItem(*row) for row in book_rows if row[0] not in cleared_book]
    before_start = [pk for pk, date in matched_book_dates.items() if date < start]
    matched_before = ZERO
    if before_start:
        matched_before = sum(
            JournalLine.objects.filter(pk__in=before_start, date__lte=as_of).values_list(
                amount_field, flat=True
            ),
            ZERO,
        )
        # A matched line from before the feed that is not cleared yet is outstanding too.
        for row in (
            JournalLine.objects.filter(pk__in=before_start, date__lte=as_of)
            .exclude(pk__in=cleared_book)
            .values_list(
                "id", "entry_id", "entry__number", "date", amount_field, "description", "entry__reference"
            )
        ):
            unmatched_book.append(BookItem(*row))
    unmatched_book, cancelled = _without_cancelling_pairs(unmatched_book)
    unmatched_bank_total = sum((item.amount for item in unmatched_bank), ZERO)
    unmatched_book_total = sum((item.amount for item in unmatched_book), ZERO)
    opening_difference = ZERO
    if first is not None and as_of >= start - ONE_DAY:
        opening_difference = book_balance(bank, start - ONE_DAY) - matched_before - first.opening_balance
    adjusted = None
    difference = None
    if bank_balance is not None:
        adjusted = bank_balance - unmatched_bank_total + unmatched_book_total
        difference = books - adjusted
    return Reconciliation(
        bank_account=bank,
        as_of=as_of,
        currency=bank.currency,
        statement=statement,
        statement_balance=bank_balance,
        book_balance=books,
        unmatched_bank=unmatched_bank,
        unmatched_bank_total=unmatched_bank_total,
        unmatched_book=unmatched_book,
        unmatched_book_total=unmatched_book_total,
        adjusted_bank_balance=adjusted,
        difference=difference,
        opening_difference=opening_difference,
        cancelled_pairs=cancelled,
    )


def _without_cancelling_pairs(items: list[BookItem]) -> tuple[list[BookItem], list[tuple[str, str]]]:
    """Leave out each entry that is outstanding together with its reversal, when their lines on
    the bank's account add up to zero: the pair explains nothing (a payment entered twice and
    reversed, say), so listing it is noise. The totals do not change, as the pair sums to zero.
    Pairs are taken disjoint (a reversal that is itself reversed pairs once), so what is left out
    always sums to zero. Returns the items kept and the (original, reversal) numbers left out."""
    by_entry: dict[int, list[BookItem]] = {}
    for item in items:
        by_entry.setdefault(item.entry, []).append(item)
    pairs = (
        JournalEntry.objects.filter(pk__in=list(by_entry), reversal_of__in=list(by_entry))
        .order_by("reversal_of_id")
        .values_list("reversal_of_id", "pk")
    )
    left_out: set[int] = set()
    numbers: list[tuple[str, str]] = []
    for original, reversal in pairs:
        if original in left_out or reversal in left_out:
            continue
        if sum((item.amount for item in by_entry[original] + by_entry[reversal]), ZERO) == 0:
            left_out.update((original, reversal))
            numbers.append((by_entry[original][0].number, by_entry[reversal][0].number))
    if not left_out:
        return items, []
    return [item for item in items if item.entry not in left_out], numbers


def changes_since_reconciled(*, statement: BankStatement) -> dict | None:
    """For a reconciled statement: the book balance on its last day now against the stored one,
    and the ledger lines on the bank's ledger account dated within it but posted after it was
    reconciled (back-dated entries that change the reconciled position). None when not reconciled."""
    active = getattr(statement, "active_reconciliations", None)
    if active is None:
        active = list(statement.reconciliations.filter(reopened_at__isnull=True))
    if not active:
        return None
    stored = active[0]
    bank = statement.bank_account
    now = book_balance(bank, statement.end_date)
    later = list(
        JournalLine.objects.filter(
            company_id=bank.company_id,
            account_id=bank.account_id,
            entry_sequence__isnull=False,
            date__lte=statement.end_date,
            entry__posted_at__gt=stored.reconciled_at,
        )
        .order_by("date", "id")
        .values_list("id", flat=True)[:100]
    )
    return {
        "reconciliation": stored,
        "book_balance_now": now,
        "changed": now != stored.book_balance or bool(later),
        "lines_posted_since": later,
    }


@dataclass(frozen=True)
class BankPosition:
    """One bank account as the dashboard shows it: the books against the bank's last word.

    `book_balance_at_statement` is the ledger account's balance on the last statement's closing
    date, so it compares with `statement_closing_balance` (their gap is what the unmatched lines
    explain); today's book balance is the ledger's cash panel's, not repeated here.
    """

    bank_account: BankAccount
    currency: str
    statement: BankStatement | None
    statement_closing_balance: Decimal | None
    book_balance_at_statement: Decimal | None
    unmatched_lines: int  # lines not matched yet (unmatched or only suggested), every statement


def bank_position(*, company: Company) -> list[BankPosition]:
    """Each active bank account of the company: its last statement and what is left to match."""
    banks = list(
        BankAccount.objects.filter(company=company, is_active=True)
        .select_related("account")
        .annotate(unmatched=Count("lines", filter=~Q(lines__status=LineStatus.MATCHED)))
        .order_by("name")
    )
    positions = []
    for bank in banks:
        statement = BankStatement.objects.filter(bank_account=bank).order_by("-end_date", "-id").first()
        positions.append(
            BankPosition(
                bank_account=bank,
                currency=bank.currency,
                statement=statement,
                statement_closing_balance=statement.closing_balance if statement else None,
                book_balance_at_statement=book_balance(bank, statement.end_date) if statement else None,
                unmatched_lines=bank.unmatched,
            )
        )
    return positions
