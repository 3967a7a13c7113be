"""Bank accounts, their CSV mappings and the company's matching settings."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Account, AccountType, Company, User
from audit.changes import diff
from audit.services import audit_record
from banking import errors
from banking.models import BankAccount, BankingSettings, BankStatement
from banking.parsers.csv_statement import csv_mapping_clean
from ledger import errors as ledger_errors
from sales.selectors import receivables_account_ids
from sofinance.errors import Conflict, ValidationFailed
from sofinance.money import is_valid_currency

BANK_ACCOUNT_FIELDS = ("name", "account", "currency", "iban", "number", "csv_mapping", "is_active")


def ledger_account_resolve(*, company: Company, ref: Any, field: str = "account") -> Account:
    """A postable asset or liability account of the company (a bank account or an overdraft or
    credit card), given as an Account, an id or a code."""
    account = None
    queryset = Account.objects.filter(company=company)
    if isinstance(ref, Account):
        account = ref if ref.company_id == company.pk else None
    elif isinstance(ref, int) and not isinstance(ref, bool):
        account = queryset.filter(pk=ref).first() if 0 < ref < 2**63 else None
    elif isinstance(ref, str) and ref.strip():
        account = queryset.filter(code=ref.strip()).first()
    if account is None:
        message = f"Account {getattr(ref, 'pk', ref)!r} does not exist in this company."
        raise ledger_errors.InvalidAccount(message, details={field: [message]})
    if not account.is_active or account.children.exists():
        problem = f"Account {account.code} is {'inactive' if not account.is_active else 'a parent account'}."
        raise ledger_errors.InvalidAccount(problem, details={field: [problem]})
    if account.type not in (AccountType.ASSET, AccountType.LIABILITY):
        article = "an" if account.type[:1] in "aeiou" else "a"
        problem = f"Account {account.code} is {article} {account.type} account; a bank is an asset or liability account."
        raise ledger_errors.InvalidAccount(problem, details={field: [problem]})
    if account.pk in receivables_account_ids(company):
        # A bank line's entry would post to receivables without an invoice or payment: the AR
        # aging and the receivables account would part.
        problem = (
            f"Account {account.code} holds receivables: a bank account is kept on a bank, cash, "
            "overdraft or card account."
        )
        raise ledger_errors.InvalidAccount(problem, details={field: [problem]})
    return account


def _clean_iban(value: Any) -> str:
    iban = "".join(str(value or "").split()).upper()
    if iban and (len(iban) < 15 or len(iban) > 34 or not iban[:2].isalpha() or not iban.isalnum()):
        raise ValidationFailed(f"{iban[:40]!r} is not an IBAN.", details={"iban": ["Not an IBAN."]})
    if iban and int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 != 1:
        raise ValidationFailed(
            f"{iban} fails the IBAN check digits.", details={"iban": ["Wrong check digits."]}
        )
    return iban


def _settled(company: Company, values: dict[str, Any], existing: BankAccount | None) -> dict[str, Any]:
    settled: dict[str, Any] = {}
    if "name" in values:
        name = " ".join(str(values["name"] or "").split())[:200]
        if not name:
            raise ValidationFailed("A bank account needs a name.", details={"name": ["Required."]})
        settled["name"] = name
    if "account" in values:
        settled["account"] = ledger_account_resolve(company=company, ref=values["account"])
    account = settled.get("account") or (existing.account if existing else None)
    if "currency" in values or existing is None:
        currency = str(values.get("currency") or "").strip().upper() or (
            (account.currency if account else "") or company.currency
        )
        if not is_valid_currency(currency):
            message = f"{currency!r} is not an ISO 4217 currency."
            raise ValidationFailed(message, details={"currency": [message]})
        settled["currency"] = currency
    currency = settled.get("currency") or existing.currency
    if account is not None and (account.currency or company.currency) != currency:
        problem = (
            f"Account {account.code} is kept in {account.currency or company.currency}; the bank account is in "
            f"{currency}. A foreign-currency bank account is kept on a ledger account in its currency."
        )
        raise ledger_errors.InvalidAccount(problem, details={"account": [problem]})
    if "iban" in values:
        settled["iban"] = _clean_iban(values["iban"])
    if "number" in values:
        settled["number"] = " ".join(str(values["number"] or "").split())[:50]
    if "csv_mapping" in values:
        settled["csv_mapping"] = csv_mapping_clean(values["csv_mapping"]) if values["csv_mapping"] else {}
    if "is_active" in values:
        if not isinstance(values["is_active"], bool):
            raise ValidationFailed(
                "is_active is true or false.", details={"is_active": ["Must be a boolean."]}
            )
        settled["is_active"] = values["is_active"]
    return settled


def _snapshot(bank: BankAccount) -> dict[str, Any]:
    return {
        "name": bank.name,
        "account": bank.account_id,
        "currency": bank.currency,
        "iban": bank.iban,
        "number": bank.number,
        "csv_mapping": bank.csv_mapping,
        "is_active": bank.is_active,
    }


def bank_account_create(*, company: Company, by: User | None, **values: Any) -> BankAccount:
    """A bank account on a postable asset or liability account of the company, in that account's
    currency (or the company's). One bank account per ledger account; names are unique."""
    unknown = set(values) - set(BANK_ACCOUNT_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if "account" not in values or values["account"] in (None, ""):
        raise ValidationFailed(
            "A bank account is kept on a ledger account.", details={"account": ["Required."]}
        )
    settled = _settled(company, {"name": values.get("name"), **values}, None)
    with transaction.atomic():
        _check_unique(company, settled, None)
        bank = BankAccount.objects.create(company=company, **settled)
        audit_record(
            action="create", company=company, obj=bank, actor=by, changes=diff(None, _snapshot(bank))
        )
    return bank


def _check_unique(company: Company, settled: dict[str, Any], existing: BankAccount | None) -> None:
    others = BankAccount.objects.filter(company=company)
    if existing is not None:
        others = others.exclude(pk=existing.pk)
    if "account" in settled and others.filter(account=settled["account"]).exists():
        raise errors.DuplicateBankLedgerAccount(
            f"Account {settled['account'].code} already has a bank account.",
            details={"account": [settled["account"].code]},
        )
    if "name" in settled and others.filter(name=settled["name"]).exists():
        raise errors.DuplicateBankAccountName(
            f"A bank account is already named {settled['name']!r}.", details={"name": [settled["name"]]}
        )


def bank_account_update(*, bank_account: BankAccount, by: User | None, **changes: Any) -> BankAccount:
    """Change a bank account. Once it has statements its ledger account and currency stay
    (`bank_account_in_use`: the matches and the reconciliations were made on them)."""
    unknown = set(changes) - set(BANK_ACCOUNT_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        bank = (
            BankAccount.objects.select_for_update(of=("self",))
            .select_related("company", "account")
            .get(pk=bank_account.pk)
        )
        settled = _settled(bank.company, changes, bank)
        moving = ("account" in settled and settled["account"].pk != bank.account_id) or (
            "currency" in settled and settled["currency"] != bank.currency
        )
        if moving and BankStatement.objects.filter(bank_account=bank).exists():
            raise errors.BankAccountInUse()
        _check_unique(bank.company, settled, bank)
        before = _snapshot(bank)
        for name, value in settled.items():
            setattr(bank, name, value)
        try:
            with transaction.atomic():
                bank.save()
        except IntegrityError as exc:  # a concurrent twin
            raise Conflict("Another bank account has this name or ledger account.") from exc
        changes_made = diff(before, _snapshot(bank))
        if changes_made:
            audit_record(action="update", company=bank.company, obj=bank, actor=by, changes=changes_made)
    return bank


def banking_settings_update(*, company: Company, by: User | None, **changes: Any) -> BankingSettings:
    """The matching settings: `date_window_days` (0-90) and `auto_confirm_confidence` (1-100, or
    null: suggestions are always confirmed by a person)."""
    unknown = set(changes) - {"date_window_days", "auto_confirm_confidence"}
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    window = changes.get("date_window_days")
    if "date_window_days" in changes and (
        isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 90
    ):
        message = "date_window_days is a whole number of days from 0 to 90."
        raise ValidationFailed(message, details={"date_window_days": [message]})
    confidence = changes.get("auto_confirm_confidence")
    if confidence is not None and (
        isinstance(confidence, bool) or not isinstance(confidence, int) or not 1 <= confidence <= 100
    ):
        message = "auto_confirm_confidence is a whole number from 1 to 100, or null."
        raise ValidationFailed(
            message,
            details={"auto_confirm_confidence": [message]},
        )
    with transaction.atomic():
        current, _ = BankingSettings.objects.select_for_update().get_or_create(company=company)
        before = {
            "date_window_days": current.date_window_days,
            "auto_confirm_confidence": current.auto_confirm_confidence,
        }
        for name, value in changes.items():
            setattr(current, name, value)
        current.save()
        after = {
            "date_window_days": current.date_window_days,
            "auto_confirm_confidence": current.auto_confirm_confidence,
        }
        if diff(before, after):
            audit_record(action="update", company=company, obj=current, actor=by, changes=diff(before, after))
    return current
