"""Financial reports (selectors): trial balance, balance sheet, income statement, general ledger.

Balances come from the stored daily/monthly buckets (ledger.balance_queries), so a report as of any
date reads a few thousand small rows at most, however many journal lines the company has. Only
the general ledger reads lines, one keyset page at a time.

Signs: a trial-balance `balance` and a general-ledger `running_balance` are debit minus credit.
Balance-sheet and income-statement rows show each section in its natural sign (assets and
expenses debit-positive; liabilities, equity and income credit-positive).
"""

from __future__ import annotations

import base64
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import Account, AccountType, Company
from ledger.balance_queries import AccountTotals, account_totals, roll_up
from ledger.calendar import fiscal_year_bounds, fiscal_year_of
from sofinance.db_router import read_connection
from sofinance.money import money_from_sum, money_sum_sql

ZERO = Decimal(0)
ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class AccountRef:
    id: int
    code: str
    name: str
    type: str
    parent: int | None = None
    depth: int = 0
    currency: str | None = None


def _ref(account: Account) -> AccountRef:
    return AccountRef(
        id=account.pk,
        code=account.code,
        name=account.name,
        type=account.type,
        parent=account.parent_id,
        depth=account.depth,
        currency=account.currency or None,
    )


# --------------------------------------------------------------------------- trial balance


@dataclass(frozen=True)
class TrialBalanceRow:
    account: AccountRef
    debit: Decimal
    credit: Decimal
    balance: Decimal
    balance_in_currency: Decimal | None = None  # foreign-currency accounts: in their own currency


@dataclass(frozen=True)
class TrialBalance:
    as_of: datetime.date
    currency: str
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal


# The lines of the year-end closing entries dated on a day (a fiscal year's last day: its closing
# entry, and a reversal of it dated then), summed by account: what a trial balance before the
# closing entries leaves out. Earlier years' closings stay: that year opened from them.
_CLOSING_LINES_SQL = """
SELECT l.account_id, {base_sum}, {amount_sum}
FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
WHERE e.company_id = %s AND e.status = 'posted' AND e.source = 'closing' AND e.date = %s
GROUP BY l.account_id
"""


def _without_closing_entries(
    company: Company, as_of: datetime.date, totals: dict[int, AccountTotals]
) -> dict[int, AccountTotals]:
    reader = read_connection()
    with reader.cursor() as db:
        db.execute(
            _CLOSING_LINES_SQL.format(
                base_sum=money_sum_sql("l.base_amount", reader.vendor),
                amount_sum=money_sum_sql("l.amount", reader.vendor),
            ),
            [company.pk, as_of],
        )
        closing = db.fetchall()
    adjusted = dict(totals)
    for account_id, base_sum, amount_sum in closing:
        base, amount = money_from_sum(base_sum), money_from_sum(amount_sum)
        before = adjusted.get(account_id, AccountTotals())
        adjusted[account_id] = AccountTotals(
            before.debit - max(base, ZERO),
            before.credit - max(-base, ZERO),
            before.amount - amount,
            before.line_count,
        )
    return adjusted


def trial_balance(
    *, company: Company, as_of: datetime.date, include_zero: bool = False, before_closing: bool = False
) -> TrialBalance:
    """Every account's balance as of the end of `as_of`, as a debit or a credit balance.
    `before_closing`: without the closing entry dated `as_of` (on a fiscal year's last day, the
    adjusted trial balance the year is closed from: its income and expenses still on their
    accounts; earlier years' closings stay; on any other day nothing is left out)."""
    totals = account_totals(company_id=company.pk, end=as_of)
    if before_closing:
        totals = _without_closing_entries(company, as_of, totals)
    accounts = Account.objects.filter(company=company).order_by("path")
    rows: list[TrialBalanceRow] = []
    total_debit = total_credit = ZERO
    for account in accounts:
        total = totals.get(account.pk)
        if total is None and not include_zero:
            continue
        total = total or AccountTotals()
        balance = total.balance
        if balance == 0 and not include_zero:
            continue
        debit, credit = (balance, ZERO) if balance > 0 else (ZERO, -balance)
        total_debit += debit
        total_credit += credit
        rows.append(
            TrialBalanceRow(
                account=_ref(account),
                debit=debit,
                credit=credit,
                balance=balance,
                balance_in_currency=total.amount if account.currency else None,
            )
        )
    return TrialBalance(
        as_of=as_of, currency=company.currency, rows=rows, total_debit=total_debit, total_credit=total_credit
    )


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class StatementRow:
    account: AccountRef
    balance: Decimal  # in the section's natural sign, rolled up over sub-accounts
    is_leaf: bool


@dataclass(frozen=True)
class StatementSection:
    rows: list[StatementRow]
    total: Decimal


def _rolled_up_section(
    accounts: list[Account], signed_balances: dict[int, Decimal], *, sign: int
) -> StatementSection:
    """Rows in tree order, parents carrying the sum of their sub-accounts; total = sum of leaves."""
    own = {a.pk: signed_balances[a.pk] for a in accounts if signed_balances.get(a.pk, ZERO) != 0}
    rolled = roll_up([(a.pk, a.path) for a in accounts], own)
    parents = {a.parent_id for a in accounts if a.parent_id}
    rows = [
        StatementRow(account=_ref(a), balance=sign * rolled[a.pk], is_leaf=a.pk not in parents)
        for a in accounts
        if rolled.get(a.pk, ZERO) != 0
    ]
    return StatementSection(rows=rows, total=sign * sum(own.values(), ZERO))


def _accounts_by_type(company: Company) -> dict[str, list[Account]]:
    grouped: dict[str, list[Account]] = defaultdict(list)
    for account in Account.objects.filter(company=company).order_by("path"):
        grouped[account.type].append(account)
    return grouped


@dataclass(frozen=True)
class BalanceSheet:
    as_of: datetime.date
    currency: str
    assets: StatementSection
    liabilities: StatementSection
    equity: StatementSection
    current_earnings: Decimal
    total_liabilities_and_equity: Decimal
    balanced: bool
    # Of `current_earnings`, what earlier fiscal years left unclosed (zero once they are closed);
    # the rest is the earnings of the fiscal year of `as_of`, from `year_start`.
    earlier_years_earnings: Decimal = Decimal(0)
    year_start: datetime.date | None = None

    @property
    def year_earnings(self) -> Decimal:
        return self.current_earnings - self.earlier_years_earnings


def balance_sheet(*, company: Company, as_of: datetime.date) -> BalanceSheet:
    """Assets = liabilities + equity + current earnings (income less expenses not yet closed
    into retained earnings by a year-end close)."""
    totals = account_totals(company_id=company.pk, end=as_of)
    balances = {account_id: total.balance for account_id, total in totals.items()}
    grouped = _accounts_by_type(company)
    assets = _rolled_up_section(grouped[AccountType.ASSET], balances, sign=1)
    liabilities = _rolled_up_section(grouped[AccountType.LIABILITY], balances, sign=-1)
    equity = _rolled_up_section(grouped[AccountType.EQUITY], balances, sign=-1)
    earnings_accounts = grouped[AccountType.INCOME] + grouped[AccountType.EXPENSE]
    current_earnings = -sum((balances.get(a.pk, ZERO) for a in earnings_accounts), ZERO)
    right_side = liabilities.total + equity.total + current_earnings
    # The fiscal year's own earnings (what its income statement to date shows, closing entries
    # included: a closed year's are zero); the rest was left unclosed by earlier years.
    year_start, _ = fiscal_year_bounds(company=company, year=fiscal_year_of(company=company, day=as_of))
    year_totals = (
        account_totals(
            company_id=company.pk, start=year_start, end=as_of, account_ids=[a.pk for a in earnings_accounts]
        )
        if earnings_accounts
        else {}
    )
    year_earnings = -sum((total.balance for total in year_totals.values()), ZERO)
    return BalanceSheet(
        as_of=as_of,
        currency=company.currency,
        assets=assets,
        liabilities=liabilities,
        equity=equity,
        current_earnings=current_earnings,
        total_liabilities_and_equity=right_side,
        balanced=assets.total == right_side,
        earlier_years_earnings=current_earnings - year_earnings,
        year_start=year_start,
    )


@dataclass(frozen=True)
class IncomeStatement:
    date_from: datetime.date
    date_to: datetime.date
    currency: str
    income: StatementSection
    expenses: StatementSection
    net_income: Decimal


def income_statement(
    *, company: Company, date_from: datetime.date, date_to: datetime.date
) -> IncomeStatement:
    """Income and expenses over the range, leaving out year-end closing entries."""
    totals = account_totals(company_id=company.pk, start=date_from, end=date_to, include_closing=False)
    balances = {account_id: total.balance for account_id, total in totals.items()}
    grouped = _accounts_by_type(company)
    income = _rolled_up_section(grouped[AccountType.INCOME], balances, sign=-1)
    expenses = _rolled_up_section(grouped[AccountType.EXPENSE], balances, sign=1)
    return IncomeStatement(
        date_from=date_from,
        date_to=date_to,
        currency=company.currency,
        income=income,
        expenses=expenses,
        net_income=income.total - expenses.total,
    )


# --------------------------------------------------------------------------- general ledger


@dataclass(frozen=True)
class LedgerLine:
    id: int
    entry_id: int
    number: str
    date: datetime.date
    entry_description: str
    reference: str
    source: str
    description: str
    debit: Decimal  # functional currency
    credit: Decimal
    running_balance: Decimal
    currency: str
    amount: Decimal  # line currency, signed
    running_balance_in_currency: Decimal | None = None  # accounts kept in a foreign currency


@dataclass(frozen=True)
class LedgerCursor:
    """Position after (forward) or before (backward) a line, in (date, sequence, id) order."""

    date: datetime.date
    sequence: int
    line_id: int
    backward: bool = False

    def encode(self) -> str:
        raw = f"{'b' if self.backward else 'f'}|{self.date.isoformat()}|{self.sequence}|{self.line_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> LedgerCursor:
        padded = token + "=" * (-len(token) % 4)
        direction, day, sequence, line_id = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        if direction not in ("f", "b"):
            raise ValueError("bad cursor direction")
        return cls(datetime.date.fromisoformat(day), int(sequence), int(line_id), backward=direction == "b")


@dataclass(frozen=True)
class GeneralLedger:
    account: AccountRef
    date_from: datetime.date
    date_to: datetime.date
    currency: str
    opening_balance: Decimal
    closing_balance: Decimal
    total_debit: Decimal
    total_credit: Decimal
    lines: list[LedgerLine] = field(default_factory=list)
    # Accounts kept in a foreign currency: the same balances in that currency.
    opening_balance_in_currency: Decimal | None = None
    closing_balance_in_currency: Decimal | None = None
    next_cursor: LedgerCursor | None = None
    previous_cursor: LedgerCursor | None = None


_GL_PAGE_SQL = """
SELECT l.id, l.entry_id, l.date, l.entry_sequence, l.base_amount, l.currency, l.amount, l.description,
       e.number, e.description, e.reference, e.source
  FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
 WHERE l.company_id = %s AND l.account_id = %s AND l.entry_sequence IS NOT NULL
   AND l.date >= %s AND l.date <= %s {keyset}
 ORDER BY l.date {direction}, l.entry_sequence {direction}, l.id {direction}
 LIMIT %s
"""

_GL_SAME_DAY_BEFORE_SQL = """
SELECT {base_sum}, {amount_sum} FROM ledger_journalline
 WHERE company_id = %s AND account_id = %s AND entry_sequence IS NOT NULL AND date = %s
   AND (entry_sequence, id) < (%s, %s)
"""


@dataclass(frozen=True)
class _PageRow:
    id: int
    entry_id: int
    date: datetime.date
    entry_sequence: int
    base_amount: Decimal
    currency: str
    amount: Decimal
    description: str
    number: str
    entry_description: str
    reference: str
    source: str


def _gl_page(
    company: Company,
    account: Account,
    date_from: datetime.date,
    date_to: datetime.date,
    cursor: LedgerCursor | None,
    limit: int,
) -> list[_PageRow]:
    """One keyset page of posted lines: a row-value comparison on (date, sequence, id), which the
    (company, account, date, entry_sequence, id) index answers directly at any depth."""
    params: list[object] = [company.pk, account.pk, date_from, date_to]
    keyset, direction = "", "ASC"
    if cursor is not None:
        keyset = f"AND (l.date, l.entry_sequence, l.id) {'<' if cursor.backward else '>'} (%s, %s, %s)"
        params += [cursor.date, cursor.sequence, cursor.line_id]
        direction = "DESC" if cursor.backward else "ASC"
    params.append(limit)
    with read_connection().cursor() as db:
        db.execute(_GL_PAGE_SQL.format(keyset=keyset, direction=direction), params)
        rows = db.fetchall()
    return [
        _PageRow(
            id=row[0],
            entry_id=row[1],
            date=_date_from_db(row[2]),
            entry_sequence=row[3],
            base_amount=money_from_sum(row[4]),
            currency=row[5],
            amount=money_from_sum(row[6]),
            description=row[7],
            number=row[8] or "",
            entry_description=row[9],
            reference=row[10],
            source=row[11],
        )
        for row in rows
    ]


def _date_from_db(value: object) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def general_ledger(
    *,
    company: Company,
    account: Account,
    date_from: datetime.date,
    date_to: datetime.date,
    page_size: int = 50,
    cursor: LedgerCursor | None = None,
) -> GeneralLedger:
    """An account's posted lines over the range with running balances, one keyset page at a time.

    Opening and closing balances always cover the whole range; a page's first running balance is
    the opening balance plus the stored buckets of the days before it plus the lines of its own day
    before it, so page 10,000 costs what page 1 costs.
    """
    opening = account_totals(company_id=company.pk, end=date_from - ONE_DAY, account_ids=[account.pk]).get(
        account.pk, AccountTotals()
    )
    in_range = account_totals(
        company_id=company.pk, start=date_from, end=date_to, account_ids=[account.pk]
    ).get(account.pk, AccountTotals())
    page = _gl_page(company, account, date_from, date_to, cursor, page_size + 1)
    if cursor is not None and cursor.backward:
        has_more_before = len(page) > page_size
        page = list(reversed(page[:page_size]))
        has_more_after = True
    else:
        has_more_after = len(page) > page_size
        page = page[:page_size]
        has_more_before = cursor is not None

    running, running_own = opening.balance, opening.amount
    if page:
        first = page[0]
        if first.date > date_from:
            before_day = account_totals(
                company_id=company.pk, start=date_from, end=first.date - ONE_DAY, account_ids=[account.pk]
            ).get(account.pk, AccountTotals())
            running += before_day.balance
            running_own += before_day.amount
        reader = read_connection()
        with reader.cursor() as db:
            db.execute(
                _GL_SAME_DAY_BEFORE_SQL.format(
                    base_sum=money_sum_sql("base_amount", reader.vendor),
                    amount_sum=money_sum_sql("amount", reader.vendor),
                ),
                [company.pk, account.pk, first.date, first.entry_sequence, first.id],
            )
            base_before, own_before = db.fetchone()
        running += money_from_sum(base_before)
        running_own += money_from_sum(own_before)

    own_currency = bool(account.currency)
    result_lines: list[LedgerLine] = []
    for line in page:
        running += line.base_amount
        running_own += line.amount
        result_lines.append(
            LedgerLine(
                id=line.id,
                entry_id=line.entry_id,
                number=line.number,
                date=line.date,
                entry_description=line.entry_description,
                reference=line.reference,
                source=line.source,
                description=line.description,
                debit=line.base_amount if line.base_amount > 0 else ZERO,
                credit=-line.base_amount if line.base_amount < 0 else ZERO,
                running_balance=running,
                currency=line.currency,
                amount=line.amount,
                running_balance_in_currency=running_own if own_currency else None,
            )
        )
    next_cursor = previous_cursor = None
    if page and has_more_after:
        last = page[-1]
        next_cursor = LedgerCursor(last.date, last.entry_sequence, last.id)
    if page and has_more_before:
        first = page[0]
        previous_cursor = LedgerCursor(first.date, first.entry_sequence, first.id, backward=True)
    return GeneralLedger(
        account=_ref(account),
        date_from=date_from,
        date_to=date_to,
        currency=company.currency,
        opening_balance=opening.balance,
        closing_balance=opening.balance + in_range.balance,
        total_debit=in_range.debit,
        total_credit=in_range.credit,
        lines=result_lines,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        opening_balance_in_currency=opening.amount if own_currency else None,
        closing_balance_in_currency=opening.amount + in_range.amount if own_currency else None,
    )


# --------------------------------------------------------------------------- dashboard figures


@dataclass(frozen=True)
class MonthResult:
    month: datetime.date  # the first day of the month
    income: Decimal  # credit-positive
    expenses: Decimal  # debit-positive

    @property
    def net(self) -> Decimal:
        return self.income - self.expenses


def monthly_results(
    *, company: Company, first_month: datetime.date, last_month: datetime.date
) -> list[MonthResult]:
    """Income and expenses of each month from `first_month` to `last_month` (firsts of months),
    year-end closing entries left out; months without postings are zero. One grouped read of the
    monthly buckets."""
    from django.db.models import Q

    from ledger.models import MonthlyBalance
    from sofinance.money import MoneySum

    rows = (
        MonthlyBalance.objects.filter(
            company=company,
            is_closing=False,
            date__gte=first_month,
            date__lte=last_month,
            account__type__in=[AccountType.INCOME, AccountType.EXPENSE],
        )
        .values("date")
        .annotate(
            income_debit=MoneySum("debit", filter=Q(account__type=AccountType.INCOME)),
            income_credit=MoneySum("credit", filter=Q(account__type=AccountType.INCOME)),
            expense_debit=MoneySum("debit", filter=Q(account__type=AccountType.EXPENSE)),
            expense_credit=MoneySum("credit", filter=Q(account__type=AccountType.EXPENSE)),
        )
        .order_by("date")
    )
    by_month = {
        row["date"]: MonthResult(
            month=row["date"],
            income=(row["income_credit"] or ZERO) - (row["income_debit"] or ZERO),
            expenses=(row["expense_debit"] or ZERO) - (row["expense_credit"] or ZERO),
        )
        for row in rows
    }
    results, month = [], first_month
    while month <= last_month:
        results.append(by_month.get(month, MonthResult(month=month, income=ZERO, expenses=ZERO)))
        month = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return results


@dataclass(frozen=True)
class CashAccountBalance:
    account: AccountRef
    balance: Decimal  # functional currency, debit-positive
    balance_in_currency: Decimal | None  # accounts kept in a foreign currency


@dataclass(frozen=True)
class CashPosition:
    as_of: datetime.date
    currency: str
    accounts: list[CashAccountBalance]
    total: Decimal


def cash_accounts(*, company: Company) -> list[Account]:
    """The company's cash and bank accounts: its bank account (system role `bank`) and the active
    postable asset accounts beside it in the chart (same parent) whose names say cash or bank
    ("Cash", "Bank - savings account", "Petty cash"). Without a bank account: none."""
    from accounts.models import AccountRole

    bank = Account.objects.filter(company=company, system_role=AccountRole.BANK).first()
    if bank is None:
        return []
    siblings = Account.objects.filter(
        company=company,
        parent_id=bank.parent_id,
        type=AccountType.ASSET,
        is_active=True,
        children__isnull=True,
    ).order_by("path")
    words = ("cash", "bank", "petty cash", "checking", "savings")
    return [
        account
        for account in siblings
        if account.pk == bank.pk or any(word in account.name.lower() for word in words)
    ]


def cash_position(*, company: Company, as_of: datetime.date) -> CashPosition:
    accounts = cash_accounts(company=company)
    totals = account_totals(company_id=company.pk, end=as_of, account_ids=[a.pk for a in accounts])
    rows = [
        CashAccountBalance(
            account=_ref(account),
            balance=totals.get(account.pk, AccountTotals()).balance,
            balance_in_currency=totals.get(account.pk, AccountTotals()).amount if account.currency else None,
        )
        for account in accounts
    ]
    return CashPosition(
        as_of=as_of, currency=company.currency, accounts=rows, total=sum((r.balance for r in rows), ZERO)
    )


# --------------------------------------------------------------------------- comparative income statement


@dataclass(frozen=True)
class ComparedRow:
    account: AccountRef
    balance: Decimal
    compared: Decimal  # the same account over the comparative range
    is_leaf: bool


@dataclass(frozen=True)
class ComparedSection:
    rows: list[ComparedRow]
    total: Decimal
    compared_total: Decimal


@dataclass(frozen=True)
class ComparedIncomeStatement:
    current: IncomeStatement
    previous: IncomeStatement
    income: ComparedSection
    expenses: ComparedSection


def comparison_range(
    *, date_from: datetime.date, date_to: datetime.date, basis: str
) -> tuple[datetime.date, datetime.date]:
    """The comparative range: `previous_period`, the period just before (a range of whole months,
    such as November or a quarter, against as many whole months: October 1-31, not the 30 days
    before November; any other range against as many days) or `previous_year` (the same dates a
    year earlier; 29 February becomes the 28th)."""
    if basis == "previous_period":
        end = date_from - ONE_DAY
        if date_from.day == 1 and (date_to + ONE_DAY).day == 1:
            months = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
            index = date_from.year * 12 + date_from.month - 1 - months
            return datetime.date(index // 12, index % 12 + 1, 1), end
        return end - (date_to - date_from), end

    def year_before(day: datetime.date) -> datetime.date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)

    return year_before(date_from), year_before(date_to)


def _compare(
    current: StatementSection, previous: StatementSection, accounts: list[Account]
) -> ComparedSection:
    now = {row.account.id: row for row in current.rows}
    then = {row.account.id: row for row in previous.rows}
    parents = {a.parent_id for a in accounts if a.parent_id}
    rows = [
        ComparedRow(
            account=_ref(account),
            balance=now[account.pk].balance if account.pk in now else ZERO,
            compared=then[account.pk].balance if account.pk in then else ZERO,
            is_leaf=account.pk not in parents,
        )
        for account in accounts
        if account.pk in now or account.pk in then
    ]
    return ComparedSection(rows=rows, total=current.total, compared_total=previous.total)


def income_statement_compared(
    *, company: Company, date_from: datetime.date, date_to: datetime.date, basis: str
) -> ComparedIncomeStatement:
    """The income statement over the range beside the same statement over the comparative range
    (`comparison_range`), row by row in chart order."""
    compare_from, compare_to = comparison_range(date_from=date_from, date_to=date_to, basis=basis)
    current = income_statement(company=company, date_from=date_from, date_to=date_to)
    previous = income_statement(company=company, date_from=compare_from, date_to=compare_to)
    grouped = _accounts_by_type(company)
    return ComparedIncomeStatement(
        current=current,
        previous=previous,
        income=_compare(current.income, previous.income, grouped[AccountType.INCOME]),
        expenses=_compare(current.expenses, previous.expenses, grouped[AccountType.EXPENSE]),
    )
