"""Customers, items, tax rates and the company's sales settings.

Each write validates its input, runs in one transaction and records its audit event inside it.
A record that documents use is never deleted (customers and items are deactivated); a tax rate
that invoice lines use keeps its rate and account for good (deactivate it, create a new one).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import AccountRole, Company, User
from audit.changes import diff, snapshot
from audit.services import audit_record
from ledger.errors import CurrencyPrecision
from sales import errors
from sales.amounts import parse_percent, parse_price
from sales.models import (
    MAX_PAYMENT_TERMS_DAYS,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Item,
    Payment,
    SalesSettings,
    TaxRate,
)
from sales.postings import account_resolve, default_account
from sofinance.errors import ValidationFailed
from sofinance.money import MoneyError, check_precision, is_valid_currency

CUSTOMER_FIELDS = (
    "name",
    "email",
    "tax_id",
    "billing_address",
    "currency",
    "payment_terms_days",
    "receivables_account",
    "is_active",
)
ITEM_FIELDS = ("name", "description", "unit_price", "revenue_account", "tax_rate", "is_active")
TAX_RATE_FIELDS = ("name", "rate", "account", "is_active")
SETTINGS_FIELDS = (
    "legal_name",
    "address",
    "tax_id",
    "email",
    "phone",
    "payment_instructions",
    "fx_gain_loss_account",
)


class FieldProblems:
    """Collects problems per field and raises them together (validation_error, 400)."""

    def __init__(self) -> None:
        self.details: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.details.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.details:
            field, messages = next(iter(self.details.items()))
            raise ValidationFailed(f"{field}: {messages[0]}", details=self.details)


def text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value)).strip()[:limit]


def _name(value: Any, problems: FieldProblems, limit: int = 200) -> str:
    name = text(value, limit + 1)
    if not name:
        problems.add("name", "A name is required.")
    elif len(name) > limit:
        problems.add("name", f"At most {limit} characters.")
    return name


def _email(value: Any, problems: FieldProblems) -> str:
    email = text(value, 254)
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            problems.add("email", f"{email!r} is not an email address.")
    return email


def _is_bool(value: Any, field: str, problems: FieldProblems) -> bool:
    if not isinstance(value, bool):
        problems.add(field, "true or false.")
        return False
    return value


def _record(action: str, obj, by: User | None, before: dict | None, fields) -> None:
    after = snapshot(obj, fields) if action != "delete" else None
    changes = diff(before, after)
    if action == "update" and not changes:
        return
    audit_record(action=action, company=obj.company_id, obj=obj, actor=by, changes=changes)


# --------------------------------------------------------------------------- customers


def _customer_values(company: Company, data: dict[str, Any], problems: FieldProblems) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = _name(data["name"], problems)
    if "email" in data:
        values["email"] = _email(data["email"], problems)
    if "tax_id" in data:
        values["tax_id"] = text(data["tax_id"], 50)
    if "billing_address" in data:
        values["billing_address"] = text(data["billing_address"], 2000)
    if "currency" in data:
        currency = (data["currency"] or company.currency).strip().upper()
        if not is_valid_currency(currency):
            problems.add("currency", f"{currency!r} is not an ISO 4217 currency.")
        values["currency"] = currency
    if "payment_terms_days" in data:
        terms = data["payment_terms_days"]
        if isinstance(terms, bool) or not isinstance(terms, int) or not 0 <= terms <= MAX_PAYMENT_TERMS_DAYS:
            problems.add("payment_terms_days", f"Whole days from 0 to {MAX_PAYMENT_TERMS_DAYS}.")
        values["payment_terms_days"] = terms
    if "is_active" in data:
        values["is_active"] = _is_bool(data["is_active"], "is_active", problems)
    problems.raise_if_any()
    if "receivables_account" in data:
        ref = data["receivables_account"]
        values["receivables_account"] = (
            None
            if ref is None or ref == ""
            else account_resolve(company=company, ref=ref, purpose="receivables", field="receivables_account")
        )
    return values


def customer_create(
    *,
    company: Company,
    name: str,
    by: User | None,
    email: str = "",
    tax_id: str = "",
    billing_address: str = "",
    currency: str | None = None,
    payment_terms_days: int = 30,
    receivables_account: Any = None,
    is_active: bool = True,
) -> Customer:
    """A customer; its currency defaults to the company's, its receivables account to the
    company's `receivables` account (null here)."""
    values = _customer_values(
        company,
        {
            "name": name,
            "email": email,
            "tax_id": tax_id,
            "billing_address": billing_address,
            "currency": currency,
            "payment_terms_days": payment_terms_days,
            "receivables_account": receivables_account,
            "is_active": is_active,
        },
        FieldProblems(),
    )
    with transaction.atomic():
        customer = Customer.objects.create(company=company, **values)
        _record("create", customer, by, None, CUSTOMER_FIELDS)
    return customer


def customer_update(*, customer: Customer, by: User | None, **changes: Any) -> Customer:
    """Change a customer's details (documents keep the currency and terms they were made with)."""
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValidationFailed(details={field: ["Unknown field."] for field in sorted(unknown)})
    values = _customer_values(customer.company, changes, FieldProblems())
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        before = snapshot(locked, CUSTOMER_FIELDS)
        new_account = values.get("receivables_account", locked.receivables_account)
        if getattr(new_account, "pk", None) != locked.receivables_account_id and customer_has_documents(
            locked
        ):
            raise errors.InUse(
                f"{locked.name} has issued invoices or payments: their receivables stay where they were "
                "posted, so the customer's receivables account no longer changes.",
                details={"reason": "receivables_account_in_use", "customer": locked.pk},
            )
        for field, value in values.items():
            setattr(locked, field, value)
        locked.save()
        _record("update", locked, by, before, CUSTOMER_FIELDS)
    return locked


def customer_has_documents(customer: Customer) -> bool:
    """Issued (or void) invoices or payments exist for the customer."""
    return (
        Invoice.objects.filter(customer=customer).exclude(status=InvoiceStatus.DRAFT).exists()
        or Payment.objects.filter(customer=customer).exists()
    )


def customer_delete(*, customer: Customer, by: User | None) -> None:
    """Delete a customer without documents; one with documents is deactivated instead."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if (
            Invoice.objects.filter(customer=locked).exists()
            or Payment.objects.filter(customer=locked).exists()
        ):
            raise errors.InUse(f"{locked.name} has invoices or payments; deactivate the customer instead.")
        before = snapshot(locked, CUSTOMER_FIELDS)
        audit_record(
            action="delete", company=locked.company_id, obj=locked, actor=by, changes=diff(before, None)
        )
        locked.delete()


# --------------------------------------------------------------------------- tax rates


def tax_rate_resolve(*, company: Company, ref: Any, field: str = "tax_rate", active: bool = True) -> TaxRate:
    """A tax rate of the company given as a TaxRate or an id; `invalid_tax_rate` when it is
    unknown, another company's, or (with `active`) inactive."""
    rate = None
    if isinstance(ref, TaxRate):
        rate = ref if ref.company_id == company.pk else None
    elif isinstance(ref, int) and not isinstance(ref, bool):
        rate = TaxRate.objects.filter(company=company, pk=ref).select_related("account").first()
    if rate is None:
        raise errors.InvalidTaxRate(
            f"Tax rate {getattr(ref, 'pk', ref)!r} does not exist in this company.",
            details={field: [str(ref)]},
        )
    if active and not rate.is_active:
        raise errors.InvalidTaxRate(f"Tax rate {rate.name} is inactive.", details={field: [rate.name]})
    return rate


def _tax_rate_values(company: Company, data: dict[str, Any], problems: FieldProblems) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = _name(data["name"], problems, limit=100)
    if "rate" in data:
        try:
            values["rate"] = parse_percent(data["rate"], label="rate")
        except MoneyError as exc:
            problems.add("rate", str(exc))
    if "is_active" in data:
        values["is_active"] = _is_bool(data["is_active"], "is_active", problems)
    problems.raise_if_any()
    if "account" in data:
        values["account"] = account_resolve(
            company=company, ref=data["account"], purpose="tax", field="account"
        )
    return values


def _check_active_name(company: Company, name: str, exclude_pk: int | None) -> None:
    clash = TaxRate.objects.filter(company=company, name=name, is_active=True)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise errors.InUse(
            f"An active tax rate is already called {name!r}.",
            details={"reason": "duplicate_name", "name": name},
        )


def tax_rate_create(
    *, company: Company, name: str, rate: Any, by: User | None, account: Any = None, is_active: bool = True
) -> TaxRate:
    """A tax rate (percent) and the liability account its tax goes to (default: the company's
    `tax_payable` account). Active names are unique per company."""
    if account is None or account == "":
        account = default_account(company=company, role=AccountRole.TAX_PAYABLE, label="tax payable")
    values = _tax_rate_values(
        company, {"name": name, "rate": rate, "account": account, "is_active": is_active}, FieldProblems()
    )
    with transaction.atomic():
        if values["is_active"]:
            _check_active_name(company, values["name"], None)
        tax_rate = TaxRate.objects.create(company=company, **values)
        _record("create", tax_rate, by, None, TAX_RATE_FIELDS)
    return tax_rate


def tax_rate_in_use(tax_rate: TaxRate) -> bool:
    return InvoiceLine.objects.filter(tax_rate=tax_rate).exists()


def tax_rate_update(*, tax_rate: TaxRate, by: User | None, **changes: Any) -> TaxRate:
    """Rename, (de)activate, or, while no invoice line uses it, change the rate or account.

    A rate in use never changes in place: `tax_rate_in_use` (409) says to deactivate it and
    create a new one, so every invoice keeps the rate it was taxed at.
    """
    unknown = set(changes) - set(TAX_RATE_FIELDS)
    if unknown:
        raise ValidationFailed(details={field: ["Unknown field."] for field in sorted(unknown)})
    values = _tax_rate_values(tax_rate.company, changes, FieldProblems())
    with transaction.atomic():
        locked = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
        before = snapshot(locked, TAX_RATE_FIELDS)
        moved = ("rate" in values and values["rate"] != locked.rate) or (
            "account" in values and values["account"].pk != locked.account_id
        )
        if moved and tax_rate_in_use(locked):
            raise errors.TaxRateInUse(
                f"{locked.name} is used by invoices: deactivate it and create a new rate instead.",
                details={"tax_rate": locked.pk},
            )
        for field, value in values.items():
            setattr(locked, field, value)
        if locked.is_active:
            _check_active_name(locked.company, locked.name, locked.pk)
        locked.save()
        _record("update", locked, by, before, TAX_RATE_FIELDS)
    return locked


def tax_rate_delete(*, tax_rate: TaxRate, by: User | None) -> None:
    """Delete a tax rate nothing uses; one in use is deactivated instead."""
    with transaction.atomic():
        locked = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
        if tax_rate_in_use(locked):
            raise errors.TaxRateInUse(
                f"{locked.name} is used by invoices: deactivate it instead.", details={"tax_rate": locked.pk}
            )
        if Item.objects.filter(tax_rate=locked).exists():
            raise errors.InUse(f"Items use {locked.name} as their default tax rate; change them first.")
        before = snapshot(locked, TAX_RATE_FIELDS)
        audit_record(
            action="delete", company=locked.company_id, obj=locked, actor=by, changes=diff(before, None)
        )
        locked.delete()


# --------------------------------------------------------------------------- items


def _item_values(company: Company, data: dict[str, Any], problems: FieldProblems) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = _name(data["name"], problems)
    if "description" in data:
        values["description"] = text(data["description"], 500)
    if "unit_price" in data:
        try:
            price = parse_price(data["unit_price"])
            check_precision(price, company.currency)
            values["unit_price"] = price
        except MoneyError as exc:
            if exc.code == "currency_precision":
                raise CurrencyPrecision(str(exc), details={"unit_price": [str(exc)]}) from exc
            problems.add("unit_price", str(exc))
    if "is_active" in data:
        values["is_active"] = _is_bool(data["is_active"], "is_active", problems)
    problems.raise_if_any()
    if "revenue_account" in data:
        ref = data["revenue_account"]
        if ref is None or ref == "":
            values["revenue_account"] = default_account(
                company=company, role=AccountRole.REVENUE, label="revenue"
            )
        else:
            values["revenue_account"] = account_resolve(
                company=company, ref=ref, purpose="revenue", field="revenue_account"
            )
    if "tax_rate" in data:
        ref = data["tax_rate"]
        values["tax_rate"] = None if ref is None or ref == "" else tax_rate_resolve(company=company, ref=ref)
    return values


def item_create(
    *,
    company: Company,
    name: str,
    unit_price: Any,
    by: User | None,
    revenue_account: Any = None,
    tax_rate: Any = None,
    description: str = "",
    is_active: bool = True,
) -> Item:
    """An item: its default unit price (company currency), revenue account (default: the
    company's `revenue` account) and default tax rate (active)."""
    values = _item_values(
        company,
        {
            "name": name,
            "description": description,
            "unit_price": unit_price,
            "revenue_account": revenue_account,
            "tax_rate": tax_rate,
            "is_active": is_active,
        },
        FieldProblems(),
    )
    with transaction.atomic():
        item = Item.objects.create(company=company, **values)
        _record("create", item, by, None, ITEM_FIELDS)
    return item


def item_update(*, item: Item, by: User | None, **changes: Any) -> Item:
    """Change an item; invoices keep the prices and accounts their lines were made with."""
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise ValidationFailed(details={field: ["Unknown field."] for field in sorted(unknown)})
    values = _item_values(item.company, changes, FieldProblems())
    with transaction.atomic():
        locked = Item.objects.select_for_update().get(pk=item.pk)
        before = snapshot(locked, ITEM_FIELDS)
        for field, value in values.items():
            setattr(locked, field, value)
        locked.save()
        _record("update", locked, by, before, ITEM_FIELDS)
    return locked


def item_delete(*, item: Item, by: User | None) -> None:
    """Delete an item no invoice line uses; one in use is deactivated instead."""
    with transaction.atomic():
        locked = Item.objects.select_for_update().get(pk=item.pk)
        if InvoiceLine.objects.filter(item=locked).exists():
            raise errors.InUse(f"{locked.name} is on invoices; deactivate it instead.")
        before = snapshot(locked, ITEM_FIELDS)
        audit_record(
            action="delete", company=locked.company_id, obj=locked, actor=by, changes=diff(before, None)
        )
        locked.delete()


# --------------------------------------------------------------------------- settings


def sales_settings_update(*, company: Company, by: User | None, **changes: Any) -> SalesSettings:
    """Change what invoices print (legal name, address, tax id, contact, payment instructions)
    and the exchange gains and losses account (null: the `fx_gain_loss` system account)."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(details={field: ["Unknown field."] for field in sorted(unknown)})
    problems = FieldProblems()
    values: dict[str, Any] = {}
    limits = {"legal_name": 200, "address": 2000, "tax_id": 50, "phone": 50, "payment_instructions": 2000}
    for field, limit in limits.items():
        if field in changes:
            values[field] = text(changes[field], limit)
    if "email" in changes:
        values["email"] = _email(changes["email"], problems)
    problems.raise_if_any()
    if "fx_gain_loss_account" in changes:
        ref = changes["fx_gain_loss_account"]
        values["fx_gain_loss_account"] = (
            None
            if ref is None or ref == ""
            else account_resolve(company=company, ref=ref, purpose="fx", field="fx_gain_loss_account")
        )
    with transaction.atomic():
        current, created = SalesSettings.objects.select_for_update().get_or_create(company=company)
        before = None if created else snapshot(current, SETTINGS_FIELDS)
        for field, value in values.items():
            setattr(current, field, value)
        current.save()
        changes_made = diff(before, snapshot(current, SETTINGS_FIELDS))
        if changes_made:
            audit_record(
                action="create" if created else "update",
                company=company,
                obj=current,
                actor=by,
                changes=changes_made,
            )
    return current
