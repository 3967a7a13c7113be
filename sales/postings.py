"""How sales documents become journal lines for the ledger's posting service.

Sales never writes a journal line itself: it builds the lines (account, side, amount in the
document's currency, the document's rate) and hands them to `ledger.services.journal_entry_create`.

Foreign currencies: the ledger converts each line at the given rate and rounds it half-up, so the
converted lines of one document may differ from its converted total by a cent. The receivables
line carries exactly the functional amount the document should move (`target_base`); any
rounding difference between it and the other side goes to the exchange gains and losses account,
in the functional currency. In the functional currency (rate 1) no such line ever appears.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.models import Account, AccountRole, AccountType, Company
from ledger import errors as ledger_errors
from ledger.selectors import exchange_rate_find
from sales import errors
from sales.models import SalesSettings
from sales.selectors import receivables_account_ids
from sofinance.errors import ValidationFailed
from sofinance.money import (
    MAX_ABS_AMOUNT,
    RATE_DECIMAL_PLACES,
    MoneyError,
    convert,
    decimal_places,
    format_amount,
    parse_amount,
)

ZERO = Decimal(0)
DEBIT, CREDIT = "debit", "credit"


@dataclass(frozen=True)
class PostingLine:
    account: Account
    side: str  # DEBIT or CREDIT
    amount: Decimal  # in the document's currency (positive)
    description: str = ""


def other(side: str) -> str:
    return CREDIT if side == DEBIT else DEBIT


# --------------------------------------------------------------------------- accounts


def role_account(company: Company, role: str) -> Account | None:
    return Account.objects.filter(company=company, system_role=role).first()


def receivables_account(*, company: Company, customer) -> Account:
    """The customer's receivables account, else the company's (system role `receivables`)."""
    if customer.receivables_account_id is not None:
        return customer.receivables_account
    account = role_account(company, AccountRole.RECEIVABLES)
    if account is None:
        raise errors.AccountNotConfigured(
            "The company has no receivables account: mark one with the system role `receivables` "
            "or give the customer a receivables account.",
            details={"role": AccountRole.RECEIVABLES},
        )
    return account


def fx_gain_loss_account(*, company: Company) -> Account:
    """Sales settings' exchange gains and losses account, else the `fx_gain_loss` system role."""
    configured = SalesSettings.objects.filter(company=company).select_related("fx_gain_loss_account").first()
    if configured is not None and configured.fx_gain_loss_account_id is not None:
        return configured.fx_gain_loss_account
    account = role_account(company, AccountRole.FX_GAIN_LOSS)
    if account is None:
        raise errors.AccountNotConfigured(
            "The company has no exchange gains and losses account: set one in the sales settings "
            "or mark one with the system role `fx_gain_loss`.",
            details={"role": AccountRole.FX_GAIN_LOSS},
        )
    return account


def default_account(*, company: Company, role: str, label: str) -> Account:
    account = role_account(company, role)
    if account is None:
        raise errors.AccountNotConfigured(
            f"The company has no default {label} account (system role `{role}`); give one.",
            details={"role": role},
        )
    return account


ACCOUNT_TYPES_FOR = {
    "revenue": (AccountType.INCOME, AccountType.LIABILITY),
    "tax": (AccountType.LIABILITY,),
    "receivables": (AccountType.ASSET,),
    "deposit": (AccountType.ASSET,),
    "fx": (AccountType.INCOME, AccountType.EXPENSE),
}
# Accounts of these types kept for something else, named by their system role: revenue is
# never credited to accounts payable or the tax account, nor sales tax to accounts payable.
ROLES_REFUSED_FOR = {
    "revenue": {AccountRole.PAYABLES: "accounts payable", AccountRole.TAX_PAYABLE: "the tax payable account"},
    "tax": {AccountRole.PAYABLES: "accounts payable"},
}
_TYPE_WORDS = {
    "revenue": "an income (or deferred-revenue liability) account",
    "tax": "a tax liability account",
    "receivables": "an asset account",
    "deposit": "an asset account (a bank or cash account)",
    "fx": "an income or expense account",
}


def account_resolve(*, company: Company, ref: Any, purpose: str, field: str) -> Account:
    """An account given as an Account, an id (int) or a code (str), usable for `purpose`.

    Refused with `invalid_account`: another company's or unknown account, inactive, a parent
    (postings go to leaves), or the wrong type for the purpose.
    """
    queryset = Account.objects.filter(company=company)
    account = None
    if isinstance(ref, Account):
        account = ref if ref.company_id == company.pk else None
    elif isinstance(ref, int) and not isinstance(ref, bool):
        account = queryset.filter(pk=ref).first()
    elif isinstance(ref, str) and ref.strip():
        account = queryset.filter(code=ref.strip()).first()
    if account is None:
        raise ledger_errors.InvalidAccount(
            f"Account {getattr(ref, 'pk', ref)!r} does not exist in this company.",
            details={field: [str(ref)]},
        )
    problem = account_problem(account, purpose)
    if problem:
        raise ledger_errors.InvalidAccount(problem, details={field: [problem]})
    return account


def account_problem(account: Account, purpose: str) -> str | None:
    if not account.is_active:
        return f"Account {account.code} is inactive."
    has_children = getattr(account, "has_children", None)
    if has_children is None:
        has_children = account.children.exists()
    if has_children:
        return f"Account {account.code} has sub-accounts; use a leaf account."
    if account.type not in ACCOUNT_TYPES_FOR[purpose]:
        article = "an" if account.type[:1] in "aeiou" else "a"
        return f"Account {account.code} is {article} {account.type} account; {purpose} needs {_TYPE_WORDS[purpose]}."
    refused_role = ROLES_REFUSED_FOR.get(purpose, {}).get(account.system_role)
    if refused_role:
        return f"Account {account.code} is {refused_role}; {purpose} needs {_TYPE_WORDS[purpose]}."
    if purpose == "deposit" and account.pk in receivables_account_ids(account.company):
        return (
            f"Account {account.code} holds receivables; a payment is deposited into a bank or cash account."
        )
    if (
        purpose == "receivables"
        and account.pk not in receivables_account_ids(account.company)
        and account.journal_lines.exists()
    ):
        # A bank, cash or other asset account with its own postings: as a customer's receivables
        # its whole balance would count as owed by customers (and it would stop being offered
        # for deposits). Receivables live on the receivables account or a new account of theirs.
        return (
            f"Account {account.code} already holds other postings (a bank, cash or other asset "
            "account); receivables are kept on the receivables account, or on a new account of "
            "their own."
        )
    if purpose == "receivables" and account.currency and account.currency != account.company.currency:
        return (
            f"Account {account.code} is kept in {account.currency}; receivables are kept in the "
            f"company's currency ({account.company.currency})."
        )
    return None


# --------------------------------------------------------------------------- exchange rates


def parse_rate(value: Any, *, field: str = "fx_rate") -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        rate = parse_amount(value)
    except MoneyError as exc:
        raise ValidationFailed(str(exc), details={field: [str(exc)]}) from exc
    if rate <= 0 or decimal_places(rate) > RATE_DECIMAL_PLACES:
        message = f"A rate is positive with at most {RATE_DECIMAL_PLACES} decimals."
        raise ValidationFailed(message, details={field: [message]})
    return rate


def document_rate(*, company: Company, currency: str, on: datetime.date, given: Decimal | None) -> Decimal:
    """The rate converting `currency` to the company's: 1 for its own currency, else the given
    rate, else the latest stored rate on or before `on` (`missing_exchange_rate` when none)."""
    if currency == company.currency:
        if given is not None and given != 1:
            message = "A document in the company's currency has rate 1."
            raise ValidationFailed(message, details={"fx_rate": [message]})
        return Decimal(1)
    if given is not None:
        return given
    stored = exchange_rate_find(company=company, from_currency=currency, to_currency=company.currency, on=on)
    if stored is None:
        raise ledger_errors.MissingExchangeRate(
            f"No {currency}->{company.currency} rate given or stored on or before {on}.",
            details={"fx_rate": [f"No {currency}->{company.currency} rate on or before {on}."]},
        )
    return stored.rate


# --------------------------------------------------------------------------- entry lines


def base_of(amount: Decimal, rate: Decimal, company: Company) -> Decimal:
    """The functional amount the ledger books for `amount` at `rate` (its own conversion)."""
    return convert(amount, rate, company.currency)


def check_rate_carries_value(*, amount: Decimal, currency: str, rate: Decimal, company: Company) -> None:
    """A document's rate must turn its amount into some value in the company's currency, and into
    no more than the books hold (the ledger refuses a line that converts to zero or to an absurd
    amount): said of the document's rate, not of a line."""
    if not amount:
        return
    base = base_of(amount, rate, company)
    if not base:
        message = (
            f"At the rate {rate.normalize():f}, {format_amount(amount, currency)} {currency} is "
            f"{format_amount(ZERO, company.currency)} {company.currency}: check the rate."
        )
        raise ValidationFailed(message, details={"fx_rate": [message]})
    if base.copy_abs() >= MAX_ABS_AMOUNT:
        message = (
            f"At the rate {rate.normalize():f}, {format_amount(amount, currency)} {currency} is "
            f"{format_amount(base, company.currency)} {company.currency}, more than the books hold "
            f"(amounts stay under {MAX_ABS_AMOUNT:,.0f}): check the rate."
        )
        raise ValidationFailed(message, details={"fx_rate": [message]})


def _line(line: PostingLine, currency: str, rate: Decimal | None) -> dict[str, Any]:
    return {
        "account": line.account,
        line.side: line.amount,
        "currency": currency,
        "fx_rate": rate,
        "description": line.description[:500],
    }


def document_entry_lines(
    *,
    company: Company,
    currency: str,
    rate: Decimal,
    lines: list[PostingLine],
    receivable: PostingLine,
    target_base: Decimal,
    rounding_description: str,
) -> list[dict[str, Any]]:
    """Journal lines for a document: its lines, the receivables line, and (foreign currency only)
    the lines that make the receivables move exactly `target_base` and the entry balance."""
    foreign = currency != company.currency
    line_rate = rate if foreign else None
    result = [_line(line, currency, line_rate) for line in lines if line.amount > 0]
    result.append(_line(receivable, currency, line_rate))
    if not foreign:
        return result
    receivable_base = base_of(receivable.amount, rate, company)
    adjustment = target_base - receivable_base
    if adjustment:
        # The receivables line's own conversion is off by rounding from what it must carry.
        side = receivable.side if adjustment > 0 else other(receivable.side)
        result.append(
            _line(
                PostingLine(receivable.account, side, abs(adjustment), rounding_description),
                company.currency,
                None,
            )
        )
    others = sum((base_of(line.amount, rate, company) for line in lines if line.amount > 0), ZERO)
    difference = others - target_base
    if difference:
        fx_account = fx_gain_loss_account(company=company)
        # The other side converted to more (or less) than the receivables: book the cent here.
        side = receivable.side if difference > 0 else other(receivable.side)
        result.append(
            _line(
                PostingLine(fx_account, side, abs(difference), rounding_description), company.currency, None
            )
        )
    return result


def exchange_difference_lines(
    *, company: Company, receivables: Account, difference: Decimal, description: str
) -> list[dict[str, Any]]:
    """A realised exchange difference on settling an invoice: `difference` > 0 is a loss
    (the invoice carried more than the payment that settled it was worth)."""
    if not difference:
        return []
    fx_account = fx_gain_loss_account(company=company)
    if difference > 0:
        pairs = [
            PostingLine(fx_account, DEBIT, difference, description),
            PostingLine(receivables, CREDIT, difference, description),
        ]
    else:
        pairs = [
            PostingLine(receivables, DEBIT, -difference, description),
            PostingLine(fx_account, CREDIT, -difference, description),
        ]
    return [_line(line, company.currency, None) for line in pairs]
