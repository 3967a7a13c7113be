"""What a journal line must be before it enters the books, and the checks on a whole entry.

`build_lines` turns what a caller gives (API body, admin form, another app) into validated
`PostingLine`s: amounts parsed exactly, the account resolved and postable, the currency and rate
settled, the base amount converted once. Every refusal names the line and field. The database
triggers repeat the entry-level invariants (balance, periods) as the last line of defence.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.models import Account, Company
from ledger import errors
from ledger.models import (
    FIRST_BOOK_DATE,
    LAST_BOOK_DATE,
    AccountingPeriod,
    FiscalYearClose,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)
from ledger.selectors import exchange_rate_find, period_blocking
from sofinance.db_batch import Statement, StatementBatch
from sofinance.errors import ValidationFailed
from sofinance.ids import MAX_ID  # ids are 64-bit: a larger number names nothing (and must not reach SQL)
from sofinance.money import (
    MAX_ABS_AMOUNT,
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
ONE = Decimal(1)
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


@dataclass(frozen=True)
class EntryInput:
    """One entry as a caller gives it (bulk posting, imports)."""

    date: datetime.date
    lines: Sequence[Any]
    description: str = ""
    reference: str = ""
    source: str | None = None  # None: the source the whole call posts with


@dataclass(slots=True)
class PostingLine:
    """A validated line: `debit`/`credit` in the line's currency (one positive), `amount` and
    `base_amount` signed (debit +), the latter in the company's functional currency."""

    line_no: int
    account_id: int
    account_code: str
    account_currency: str  # "" when the account is kept in the functional currency
    account_name: str
    description: str
    debit: Decimal
    credit: Decimal
    currency: str
    amount: Decimal
    fx_rate: Decimal
    base_amount: Decimal
    id: int | None = None  # the stored line's id, once posted

    @property
    def bucket_amount(self) -> Decimal:
        """What the line adds to its account's own-currency balance."""
        return self.amount if self.account_currency else self.base_amount

    def reversed(self) -> PostingLine:
        """The same line with its sides swapped: the exact negation, never a re-conversion."""
        return PostingLine(
            line_no=self.line_no,
            account_id=self.account_id,
            account_code=self.account_code,
            account_currency=self.account_currency,
            account_name=self.account_name,
            description=self.description,
            debit=self.credit,
            credit=self.debit,
            currency=self.currency,
            amount=-self.amount,
            fx_rate=self.fx_rate,
            base_amount=-self.base_amount,
        )

    def as_model(self, *, company_id: int, entry: JournalEntry, date: datetime.date) -> JournalLine:
        return JournalLine(
            company_id=company_id,
            entry=entry,
            line_no=self.line_no,
            account_id=self.account_id,
            description=self.description,
            debit=self.debit,
            credit=self.credit,
            currency=self.currency,
            amount=self.amount,
            fx_rate=self.fx_rate,
            base_amount=self.base_amount,
            date=date,
        )

    @classmethod
    def from_model(cls, line: JournalLine, account: ChartAccount) -> PostingLine:
        return cls(
            line_no=line.line_no,
            account_id=line.account_id,
            account_code=account.code,
            account_currency=account.currency,
            account_name=account.name,
            description=line.description,
            debit=line.debit,
            credit=line.credit,
            currency=line.currency,
            amount=line.amount,
            fx_rate=line.fx_rate,
            base_amount=line.base_amount,
        )


# --------------------------------------------------------------------------- the chart


@dataclass(frozen=True, slots=True)
class ChartAccount:
    """What posting needs to know of an account."""

    id: int
    code: str
    name: str
    currency: str
    is_active: bool
    is_leaf: bool


AccountKey = tuple[str, Any]  # ("id", 42) or ("code", "6100")


def account_key(ref: Any) -> AccountKey | None:
    if isinstance(ref, Account):
        return ("id", ref.pk)
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ("id", ref) if 0 < ref <= MAX_ID else ("no such id", ref)
    if isinstance(ref, str) and ref:
        return ("code", ref)
    return None


_ACCOUNT_TABLE = Account._meta.db_table
_CHART_SELECT = (
    f"SELECT a.id, a.code, a.name, a.currency, a.is_active, "  # noqa: S608 - table names from the models
    f"NOT EXISTS (SELECT 1 FROM {_ACCOUNT_TABLE} c WHERE c.parent_id = a.id) "
    f"FROM {_ACCOUNT_TABLE} a WHERE a.company_id = %s"
)


class ChartLookup:
    """The accounts a set of lines refers to, read in one statement (by id or code).

    The statement may ride in a caller's batch (`add_to`), so posting reads the accounts in the
    same round trip that takes its number.
    """

    def __init__(self, company_id: int, refs: Iterable[Any]) -> None:
        self.company_id = company_id
        self.ids: set[int] = set()
        self.codes: set[str] = set()
        for ref in refs:
            key = account_key(ref)
            if key is None:
                continue
            if key[0] == "id":
                self.ids.add(key[1])
            elif key[0] == "code":
                self.codes.add(key[1])
        self.statement: Statement | None = None

    @classmethod
    def for_inputs(cls, company_id: int, inputs: Iterable[LineInput]) -> ChartLookup:
        return cls(company_id, (line.account for line in inputs))

    def add_to(self, batch: StatementBatch) -> None:
        if not self.ids and not self.codes:
            return
        ids, codes = sorted(self.ids), sorted(self.codes)
        if batch.vendor == "postgresql":
            sql = f"{_CHART_SELECT} AND (a.id = ANY(%s) OR a.code = ANY(%s))"
            self.statement = batch.add(sql, [self.company_id, ids, codes])
            return
        conditions = []
        params: list[Any] = [self.company_id]
        if ids:
            conditions.append(f"a.id IN ({', '.join(['%s'] * len(ids))})")
            params += ids
        if codes:
            conditions.append(f"a.code IN ({', '.join(['%s'] * len(codes))})")
            params += codes
        self.statement = batch.add(f"{_CHART_SELECT} AND ({' OR '.join(conditions)})", params)

    def accounts(self) -> dict[AccountKey, ChartAccount]:
        return self.from_rows(self.statement.rows if self.statement else ())

    @staticmethod
    def from_rows(rows: Iterable[Sequence[Any]]) -> dict[AccountKey, ChartAccount]:
        """Accounts by ("id", pk) and ("code", code) from (id, code, name, currency, is_active,
        is_leaf) rows."""
        found: dict[AccountKey, ChartAccount] = {}
        for pk, code, name, currency, is_active, is_leaf in rows:
            account = ChartAccount(pk, code, name, currency or "", bool(is_active), bool(is_leaf))
            found[("id", pk)] = account
            found[("code", code)] = account
        return found

    def load(self) -> dict[AccountKey, ChartAccount]:
        """Read the accounts now, in a statement of their own."""
        batch = StatementBatch()
        self.add_to(batch)
        batch.run()
        return self.accounts()


def chart_accounts_by_id(*, company_id: int, ids: Iterable[int]) -> dict[int, ChartAccount]:
    found = ChartLookup(company_id, list(ids)).load()
    return {key[1]: account for key, account in found.items() if key[0] == "id"}


# --------------------------------------------------------------------------- lines


class LineProblems:
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

    def has(self, index: int) -> bool:
        return any(item[1] == index for item in self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        kinds = {item[0] for item in self.items}
        kind = next(k for k in self._ORDER if k in kinds)
        details: dict[str, dict[str, list[str]]] = {}
        for _, index, field, message in self.items:
            details.setdefault(str(index), {}).setdefault(field, []).append(message)
        first = next(item for item in self.items if item[0] is kind)
        raise kind(f"Line {first[1] + 1}: {first[3]}", details={"lines": details})


def _side(value: Any, index: int, field: str, problems: LineProblems) -> Decimal | None:
    """A debit or credit: None/empty/zero means "this side is not used"."""
    if value is None or value == "":
        return None
    try:
        amount = parse_amount(value)
    except MoneyError as exc:
        kind = errors.CurrencyPrecision if exc.code == "currency_precision" else ValidationFailed
        problems.add(kind, index, field, str(exc))
        return None
    if amount < 0:
        problems.add(ValidationFailed, index, field, "Amounts must be positive; use the other side.")
        return None
    return amount if amount != 0 else None


def _fx_rate(value: Any, index: int, problems: LineProblems) -> Decimal | None:
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


def check_date(date: datetime.date) -> None:
    if not FIRST_BOOK_DATE <= date <= LAST_BOOK_DATE:
        message = f"Accounting dates run from {FIRST_BOOK_DATE} to {LAST_BOOK_DATE}."
        raise ValidationFailed(message, details={"date": [message]})


def build_lines(
    *,
    company: Company,
    date: datetime.date,
    lines: Sequence[Any],
    accounts: Mapping[AccountKey, ChartAccount] | None = None,
) -> list[PostingLine]:
    """Validate lines and settle their currency, rate and base amount.

    Refuses (with every problem listed, per line): no side or both sides, zero or negative or
    non-numeric amounts (validation_error); unknown, other company's, inactive or parent
    accounts (invalid_account); more decimals than the currency allows (currency_precision);
    a foreign currency without a given or stored rate (missing_exchange_rate).
    `accounts` may come from a ChartLookup the caller already ran (posting reads them in its
    first round trip); otherwise they are read here.
    """
    check_date(date)
    inputs = [LineInput.coerce(line) for line in lines]
    if len(inputs) > MAX_LINES:
        raise ValidationFailed(f"An entry has at most {MAX_LINES} lines.", details={"lines": len(inputs)})
    if accounts is None:
        accounts = ChartLookup.for_inputs(company.pk, inputs).load()
    problems = LineProblems()
    functional = company.currency
    built: list[PostingLine] = []
    for index, line in enumerate(inputs):
        debit = _side(line.debit, index, "debit", problems)
        credit = _side(line.credit, index, "credit", problems)
        if debit is not None and credit is not None:
            problems.add(ValidationFailed, index, "debit", "A line has a debit or a credit, not both.")
            continue
        if debit is None and credit is None:
            if not problems.has(index):
                problems.add(ValidationFailed, index, "debit", "A line needs a positive debit or credit.")
            continue
        key = account_key(line.account)
        if key is None:
            problems.add(
                ValidationFailed, index, "account", "An account id (number) or code (string) is required."
            )
            continue
        account = accounts.get(key)
        if account is None:
            problems.add(errors.InvalidAccount, index, "account", f"Account {key[1]!r} does not exist.")
            continue
        if not account.is_active:
            problems.add(errors.InvalidAccount, index, "account", f"Account {account.code} is inactive.")
            continue
        if not account.is_leaf:
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
            rate = ONE
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
        base = value if currency == functional else convert(value, rate, functional)
        if not base:
            # A typo'd rate (0.0000000001): the line would move its currency and nothing in the books.
            problems.add(
                ValidationFailed,
                index,
                "fx_rate",
                f"At the rate {rate.normalize():f}, {format_amount(value, currency)} {currency} is "
                f"{format_amount(base, functional)} {functional}: a line must carry value in {functional}. "
                "Check the rate.",
            )
            continue
        if base.copy_abs() >= MAX_ABS_AMOUNT:
            # The other typo (a rate of 99999999999999): the line would book an absurd amount.
            problems.add(
                ValidationFailed,
                index,
                "fx_rate",
                f"At the rate {rate.normalize():f}, {format_amount(value, currency)} {currency} is "
                f"{format_amount(base, functional)} {functional}, more than the books hold (amounts stay "
                f"under {MAX_ABS_AMOUNT:,.0f}). Check the rate.",
            )
            continue
        built.append(
            PostingLine(
                line_no=index + 1,
                account_id=account.id,
                account_code=account.code,
                account_currency=account.currency,
                account_name=account.name,
                description=(line.description or "")[:500],
                debit=debit or ZERO,
                credit=credit or ZERO,
                currency=currency,
                amount=value if debit is not None else -value,
                fx_rate=rate,
                base_amount=base if debit is not None else -base,
            )
        )
    problems.raise_if_any()
    return built


def check_balanced(*, company: Company, lines: Sequence[PostingLine | JournalLine]) -> None:
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


def _closed_fiscal_year(period_id: int, date: datetime.date) -> FiscalYearClose | None:
    """The closed fiscal year `date` falls in, of the period's company (a refusal's wording)."""
    company_id = AccountingPeriod.objects.filter(pk=period_id).values_list("company_id", flat=True).first()
    return (
        FiscalYearClose.objects.filter(
            company_id=company_id, start_date__lte=date, end_date__gte=date, reopened_at__isnull=True
        )
        .order_by("-closed_at")
        .first()
    )


def period_closed_error(period: AccountingPeriod | tuple, date: datetime.date) -> errors.PeriodClosed:
    """The refusal for `date` in a closed or locked period (a model or a (id, status, start, end) row)."""
    if isinstance(period, AccountingPeriod):
        period = (period.pk, period.status, period.start_date, period.end_date)
    pk, status, start, end = period
    if status == PeriodStatus.LOCKED:
        then = "A locked period is never reopened: date it in an open period."
    elif year := _closed_fiscal_year(pk, date):
        # its periods reopen only with the year (the closing entry is reversed then)
        then = (
            f"Its fiscal year ({year.start_date} – {year.end_date}) is closed: a controller reopens the "
            "fiscal year to post there, or date it in an open period."
        )
    else:
        then = "A controller reopens the period to post there, or date it in an open period."
    return errors.PeriodClosed(
        f"{date} falls in the {status} period {start} – {end}. {then}",
        details={"date": date.isoformat(), "period": pk, "status": status},
    )


def check_period_open(*, company: Company, date: datetime.date) -> None:
    period = period_blocking(company=company, on=date)
    if period is not None:
        raise period_closed_error(period, date)
