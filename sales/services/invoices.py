"""Invoices: drafts (create, change, delete), issue, void.

A draft may change freely. Issuing numbers it (`INV-<year>-<NNNNNN>`, gapless per company) and
posts, dated the invoice date, Dr receivables (the total) / Cr revenue per account / Cr tax
payable per rate through the ledger's posting service; the entry and the invoice are linked both
ways and the invoice is frozen (the database refuses any later change but the ones payments,
credit notes and voids make). Voiding posts the reversal of that entry; an invoice with payments
allocated or credit notes is not voided.

Lock order (sales.numbering): the invoice row, its number, then the ledger's posting.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Account, AccountRole, Company, User
from audit.changes import diff, json_value, snapshot
from audit.services import audit_record
from ledger import errors as ledger_errors
from ledger.models import EntrySource
from ledger.services import journal_entry_create, journal_entry_reverse
from sales import errors, timeline
from sales.amounts import line_amounts, parse_percent, parse_price, parse_quantity
from sales.models import Allocation, Customer, Invoice, InvoiceLine, InvoiceStatus, Item, TaxRate
from sales.numbering import INVOICE_SERIES, document_number_next
from sales.postings import (
    CREDIT,
    DEBIT,
    PostingLine,
    account_problem,
    base_of,
    check_rate_carries_value,
    default_account,
    document_entry_lines,
    document_rate,
    parse_rate,
    receivables_account,
)
from sales.services.documents import (
    ZERO,
    check_book_date,
    invoice_history,
    invoice_locked,
)
from sales.services.summary import sales_summary_add
from sofinance.errors import APIError, ValidationFailed
from sofinance.money import MAX_ABS_AMOUNT, MoneyError, check_precision, format_amount, is_valid_currency

MAX_INVOICE_LINES = 500
INVOICE_FIELDS = (
    "customer",
    "date",
    "due_date",
    "currency",
    "fx_rate",
    "reference",
    "notes",
    "subtotal",
    "tax_total",
    "total",
    "status",
)
UPDATABLE = ("customer", "date", "due_date", "currency", "fx_rate", "reference", "notes", "lines")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class InvoiceLineInput:
    """One line as a caller gives it. `item`, `tax_rate`: an object or an id; `account`: an
    Account, an id or a code. `tax_rate` UNSET takes the item's default; None means no tax."""

    item: Any = None
    description: str | None = None
    quantity: Any = None
    unit_price: Any = None
    discount: Any = None
    tax_rate: Any = UNSET
    account: Any = None

    @classmethod
    def coerce(cls, value: InvoiceLineInput | Mapping[str, Any]) -> InvoiceLineInput:
        if isinstance(value, InvoiceLineInput):
            return value
        known = {
            k: value.get(k) for k in ("item", "description", "quantity", "unit_price", "discount", "account")
        }
        return cls(tax_rate=value.get("tax_rate", UNSET), **known)


class _LineProblems:
    """Per-line problems; raises the most fundamental kind with every detail listed."""

    ORDER = (
        ValidationFailed,
        errors.InvalidItem,
        errors.InvalidTaxRate,
        ledger_errors.InvalidAccount,
        errors.AccountNotConfigured,
        ledger_errors.CurrencyPrecision,
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
        kind = next(k for k in self.ORDER if k in kinds)
        details: dict[str, dict[str, list[str]]] = {}
        for _, index, field, message in self.items:
            details.setdefault(str(index), {}).setdefault(field, []).append(message)
        first = next(item for item in self.items if item[0] is kind)
        raise kind(f"Line {first[1] + 1}: {first[3]}", details={"lines": details})


def _ids(refs, model) -> set[int]:
    found = set()
    for ref in refs:
        if isinstance(ref, model):
            found.add(ref.pk)
        elif isinstance(ref, int) and not isinstance(ref, bool):
            found.add(ref)
    return found


def _key(ref, model) -> int | None:
    if isinstance(ref, model):
        return ref.pk
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref
    return None


def invoice_lines_build(*, company: Company, currency: str, lines: Sequence[Any]) -> list[InvoiceLine]:
    """Validate lines and build unsaved InvoiceLines with their net, tax and total.

    Refused, with every problem listed per line: a missing or non-positive quantity, a negative
    price or a discount outside 0-100 (validation_error); an unknown or inactive item
    (invalid_item) or tax rate (invalid_tax_rate); a revenue account that is unknown, inactive,
    a parent or not income (invalid_account); a price with more decimals than the currency
    allows (currency_precision). An item's price is in the company's currency: a line of an
    invoice in another currency gives its own unit_price.
    """
    inputs = [InvoiceLineInput.coerce(line) for line in lines]
    if not inputs:
        raise ValidationFailed(
            "An invoice needs at least one line.", details={"lines": ["At least one line."]}
        )
    if len(inputs) > MAX_INVOICE_LINES:
        message = f"An invoice has at most {MAX_INVOICE_LINES} lines (this one has {len(inputs)})."
        raise ValidationFailed(message, details={"lines": [message]})
    items = {
        item.pk: item
        for item in Item.objects.filter(
            company=company, pk__in=_ids((i.item for i in inputs), Item)
        ).select_related("tax_rate", "revenue_account")
    }
    rates = {
        rate.pk: rate
        for rate in TaxRate.objects.filter(
            company=company, pk__in=_ids((i.tax_rate for i in inputs if i.tax_rate is not UNSET), TaxRate)
        )
    }
    # The explicit accounts and the items' revenue accounts, read once with their has_children.
    account_ids = _ids((i.account for i in inputs), Account) | {
        item.revenue_account_id for item in items.values()
    }
    codes = {i.account.strip() for i in inputs if isinstance(i.account, str) and i.account.strip()}
    accounts = list(
        Account.objects.filter(company=company)
        .filter(Q(pk__in=account_ids) | Q(code__in=codes))
        .annotate(has_children=Exists(Account.objects.filter(parent=OuterRef("pk"))))
        .select_related("company")
    )
    by_id = {a.pk: a for a in accounts}
    by_code = {a.code: a for a in accounts}
    default_revenue: Account | None = None
    problems = _LineProblems()
    built: list[InvoiceLine] = []
    for index, line in enumerate(inputs):
        item = None
        if line.item is not None and line.item != "":
            item = items.get(_key(line.item, Item))
            if item is None:
                problems.add(
                    errors.InvalidItem,
                    index,
                    "item",
                    f"Item {getattr(line.item, 'pk', line.item)!r} does not exist.",
                )
                continue
            if not item.is_active:
                problems.add(errors.InvalidItem, index, "item", f"Item {item.name} is inactive.")
                continue
        description = (line.description or "").strip() or (item.name if item else "")
        if not description:
            problems.add(
                ValidationFailed, index, "description", "A line without an item needs a description."
            )
        try:
            quantity = parse_quantity(line.quantity)
        except MoneyError as exc:
            problems.add(
                ValidationFailed, index, "quantity", str(exc) if line.quantity is not None else "Required."
            )
            quantity = None
        unit_price = None
        if line.unit_price is None or line.unit_price == "":
            if item is None:
                problems.add(
                    ValidationFailed, index, "unit_price", "A line without an item needs a unit price."
                )
            elif currency != company.currency:
                problems.add(
                    ValidationFailed,
                    index,
                    "unit_price",
                    f"The item's price is in {company.currency}; give this {currency} line its unit price.",
                )
            else:
                unit_price = item.unit_price
        else:
            try:
                unit_price = parse_price(line.unit_price)
                check_precision(unit_price, currency)
            except MoneyError as exc:
                kind = (
                    ledger_errors.CurrencyPrecision if exc.code == "currency_precision" else ValidationFailed
                )
                problems.add(kind, index, "unit_price", str(exc))
                unit_price = None
        try:
            discount = (
                Decimal(0) if line.discount in (None, "") else parse_percent(line.discount, label="discount")
            )
        except MoneyError as exc:
            problems.add(ValidationFailed, index, "discount", str(exc))
            discount = None
        tax_rate = None
        if line.tax_rate is UNSET:
            tax_rate = item.tax_rate if item else None
            if tax_rate is not None and not tax_rate.is_active:
                problems.add(
                    errors.InvalidTaxRate,
                    index,
                    "tax_rate",
                    f"The item's tax rate {tax_rate.name} is inactive; give the line a tax rate.",
                )
        elif line.tax_rate is not None and line.tax_rate != "":
            tax_rate = rates.get(_key(line.tax_rate, TaxRate))
            if tax_rate is None:
                problems.add(
                    errors.InvalidTaxRate,
                    index,
                    "tax_rate",
                    f"Tax rate {getattr(line.tax_rate, 'pk', line.tax_rate)!r} does not exist.",
                )
            elif not tax_rate.is_active:
                problems.add(
                    errors.InvalidTaxRate, index, "tax_rate", f"Tax rate {tax_rate.name} is inactive."
                )
        account = None
        if line.account is not None and line.account != "":
            if isinstance(line.account, str):
                account = by_code.get(line.account.strip())
            else:
                account = by_id.get(_key(line.account, Account))
            if account is None:
                problems.add(
                    ledger_errors.InvalidAccount,
                    index,
                    "account",
                    f"Account {getattr(line.account, 'pk', line.account)!r} does not exist.",
                )
        elif item is not None:
            account = by_id.get(item.revenue_account_id, item.revenue_account)
        else:
            if default_revenue is None:
                try:
                    default_revenue = default_account(
                        company=company, role=AccountRole.REVENUE, label="revenue"
                    )
                except errors.AccountNotConfigured as exc:
                    problems.add(errors.AccountNotConfigured, index, "account", exc.message)
            account = default_revenue
        if account is not None:
            problem = account_problem(account, "revenue")
            if problem:
                problems.add(ledger_errors.InvalidAccount, index, "account", problem)
        if problems.has(index):
            continue
        assert (
            quantity is not None and unit_price is not None and discount is not None and account is not None
        )
        tax_percent = tax_rate.rate if tax_rate is not None else Decimal(0)
        amounts = line_amounts(
            quantity=quantity,
            unit_price=unit_price,
            discount=discount,
            tax_percent=tax_percent,
            currency=currency,
        )
        if amounts.total >= MAX_ABS_AMOUNT:
            # Each part may be fine and their product not: said of the line, before the ledger
            # would refuse the journal line it becomes.
            problems.add(
                ValidationFailed,
                index,
                "quantity",
                f"Quantity × unit price comes to {format_amount(amounts.total, currency)} {currency} with tax, "
                f"more than a line may carry (less than {format_amount(MAX_ABS_AMOUNT, currency)}).",
            )
            continue
        built.append(
            InvoiceLine(
                company=company,
                line_no=index + 1,
                item=item,
                description=description[:500],
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                tax_rate=tax_rate,
                tax_percent=tax_percent,
                account=account,
                net=amounts.net,
                tax=amounts.tax,
                total=amounts.total,
            )
        )
    problems.raise_if_any()
    total = sum((line.total for line in built), Decimal(0))
    if total >= MAX_ABS_AMOUNT:
        message = (
            f"The invoice comes to {format_amount(total, currency)} {currency}, more than a document may "
            f"carry (less than {format_amount(MAX_ABS_AMOUNT, currency)})."
        )
        raise ValidationFailed(message, details={"total": [message]})
    return built


# --------------------------------------------------------------------------- drafts


def customer_resolve(*, company: Company, ref: Any, active: bool = True) -> Customer:
    """A customer of the company given as a Customer or an id (`invalid_customer` otherwise)."""
    customer = None
    if isinstance(ref, Customer):
        customer = ref if ref.company_id == company.pk else None
    elif isinstance(ref, int) and not isinstance(ref, bool):
        customer = (
            Customer.objects.filter(company=company, pk=ref).select_related("receivables_account").first()
        )
    if customer is None:
        message = f"Customer {getattr(ref, 'pk', ref)!r} does not exist in this company."
        raise errors.InvalidCustomer(
            message,
            details={"customer": [message]},
        )
    if active and not customer.is_active:
        message = f"{customer.name} is inactive."
        raise errors.InvalidCustomer(message, details={"customer": [message]})
    return customer


def _currency(value: Any, default: str) -> str:
    currency = (value or default).strip().upper() if isinstance(value or default, str) else ""
    if not is_valid_currency(currency):
        message = f"{value!r} is not an ISO 4217 currency."
        raise ValidationFailed(message, details={"currency": [message]})
    return currency


def _due_date(date: datetime.date, due_date: datetime.date | None, customer: Customer) -> datetime.date:
    if due_date is None:
        due = date + datetime.timedelta(days=customer.payment_terms_days)
        return min(due, datetime.date(9998, 12, 31))
    check_book_date(due_date, "due_date")
    if due_date < date:
        message = f"The due date {due_date} is before the invoice date {date}."
        raise ValidationFailed(message, details={"due_date": [message]})
    return due_date


def _totals(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    invoice.subtotal = sum((line.net for line in lines), ZERO)
    invoice.tax_total = sum((line.tax for line in lines), ZERO)
    invoice.total = invoice.subtotal + invoice.tax_total


def _line_snapshot(lines: Sequence[InvoiceLine], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "item": line.item_id,
            "description": line.description,
            "quantity": json_value(line.quantity.normalize()),
            "unit_price": format_amount(line.unit_price, currency),
            "discount": json_value(line.discount.normalize()),
            "tax_rate": line.tax_rate_id,
            "account": line.account_id,
            "net": format_amount(line.net, currency),
            "tax": format_amount(line.tax, currency),
        }
        for line in lines
    ]


def invoice_snapshot(invoice: Invoice, lines: Sequence[InvoiceLine] | None = None) -> dict[str, Any]:
    data = snapshot(invoice, INVOICE_FIELDS)
    for field in ("subtotal", "tax_total", "total"):
        data[field] = format_amount(getattr(invoice, field), invoice.currency)
    if invoice.fx_rate is not None:
        data["fx_rate"] = json_value(invoice.fx_rate.normalize())
    if lines is not None:
        data["lines"] = _line_snapshot(lines, invoice.currency)
    return data


def _save_lines(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)


def invoice_create(
    *,
    company: Company,
    customer: Any,
    date: datetime.date,
    lines: Sequence[Any],
    by: User | None,
    due_date: datetime.date | None = None,
    currency: str | None = None,
    fx_rate: Any = None,
    reference: str = "",
    notes: str = "",
    issue: bool = False,
) -> Invoice:
    """Create a draft invoice (with `issue`, issue it in the same transaction).

    The customer is an active customer of the company; the currency defaults to the customer's;
    the due date to the date plus the customer's payment terms.
    """
    customer = customer_resolve(company=company, ref=customer)
    check_book_date(date)
    currency = _currency(currency, customer.currency)
    rate = parse_rate(fx_rate)
    if rate is not None and currency == company.currency and rate != 1:
        message = "An invoice in the company's currency has rate 1."
        raise ValidationFailed(message, details={"fx_rate": [message]})
    due = _due_date(date, due_date, customer)
    built = invoice_lines_build(company=company, currency=currency, lines=lines)
    with transaction.atomic():
        invoice = Invoice(
            company=company,
            customer=customer,
            date=date,
            due_date=due,
            currency=currency,
            fx_rate=rate if currency != company.currency else None,
            reference=(reference or "").strip()[:100],
            notes=(notes or "").strip()[:5000],
            created_by=by if by is not None and by.is_authenticated else None,
        )
        _totals(invoice, built)
        invoice.save()
        _save_lines(invoice, built)
        audit_record(
            action="create",
            company=company,
            obj=invoice,
            actor=by,
            changes=diff(None, invoice_snapshot(invoice, built)),
        )
        if issue:
            return invoice_issue(invoice=invoice, by=by)
    return invoice


def _lines_as_inputs(invoice: Invoice) -> list[InvoiceLineInput]:
    return [
        InvoiceLineInput(
            item=line.item_id,
            description=line.description,
            quantity=line.quantity.normalize(),
            unit_price=line.unit_price.normalize(),
            discount=line.discount.normalize(),
            tax_rate=line.tax_rate_id,
            account=line.account_id,
        )
        for line in invoice.lines.all()
    ]


def invoice_update(*, invoice: Invoice, by: User | None, **changes: Any) -> Invoice:
    """Change a draft: any of customer, date, due_date, currency, fx_rate, reference, notes, and
    `lines` (which replace all lines). The due date follows the date and the customer's terms
    unless given. Issued invoices never change (`invoice_immutable`): credit or void them."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationFailed(details={field: ["Unknown field."] for field in sorted(unknown)})
    with transaction.atomic():
        locked = invoice_locked(invoice.pk)
        if locked.status != InvoiceStatus.DRAFT:
            raise errors.InvoiceImmutable(f"{locked} is {locked.status}: it cannot be changed.")
        company = locked.company
        before = invoice_snapshot(locked, list(locked.lines.all()))
        if "customer" in changes:
            locked.customer = customer_resolve(company=company, ref=changes["customer"])
        if "date" in changes:
            locked.date = check_book_date(changes["date"])
        if "currency" in changes:
            locked.currency = _currency(changes["currency"], locked.customer.currency)
        if "fx_rate" in changes:
            locked.fx_rate = parse_rate(changes["fx_rate"])
        if locked.currency == company.currency:
            if locked.fx_rate not in (None, Decimal(1)):
                message = "An invoice in the company's currency has rate 1."
                raise ValidationFailed(
                    message,
                    details={"fx_rate": [message]},
                )
            locked.fx_rate = None
        if "due_date" in changes and changes["due_date"] is not None:
            locked.due_date = _due_date(locked.date, changes["due_date"], locked.customer)
        elif {"date", "customer", "due_date"} & set(changes):
            locked.due_date = _due_date(locked.date, None, locked.customer)
        if "reference" in changes:
            locked.reference = (changes["reference"] or "").strip()[:100]
        if "notes" in changes:
            locked.notes = (changes["notes"] or "").strip()[:5000]
        if "lines" in changes or "currency" in changes:
            inputs = changes["lines"] if changes.get("lines") is not None else _lines_as_inputs(locked)
            built = invoice_lines_build(company=company, currency=locked.currency, lines=inputs)
            locked.lines.all().delete()
            _totals(locked, built)
            _save_lines(locked, built)
        else:
            built = list(locked.lines.all())
        locked.save()
        changed = diff(before, invoice_snapshot(locked, built))
        if changed:
            audit_record(action="update", company=company, obj=locked, actor=by, changes=changed)
    return locked


def invoice_delete(*, invoice: Invoice, by: User | None) -> None:
    """Delete a draft (it has no number and touched no books). Issued invoices are voided."""
    with transaction.atomic():
        locked = invoice_locked(invoice.pk)
        if locked.status != InvoiceStatus.DRAFT:
            raise errors.InvoiceImmutable(f"{locked} is {locked.status}: void it instead of deleting it.")
        lines = list(locked.lines.all())
        audit_record(
            action="delete",
            company=locked.company_id,
            obj=locked,
            actor=by,
            changes=diff(invoice_snapshot(locked, lines), None),
        )
        locked.lines.all().delete()
        locked.delete()


# --------------------------------------------------------------------------- issue


def _revalidate(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    """What may have changed since the draft was saved: the customer or a tax rate deactivated."""
    if not invoice.customer.is_active:
        message = f"{invoice.customer.name} is inactive."
        raise errors.InvalidCustomer(message, details={"customer": [message]})
    if not lines:
        raise ValidationFailed(
            "An invoice needs at least one line.", details={"lines": ["At least one line."]}
        )
    for index, line in enumerate(lines):
        if line.tax_rate is not None and not line.tax_rate.is_active:
            raise errors.InvalidTaxRate(
                f"Line {index + 1}: tax rate {line.tax_rate.name} is inactive.",
                details={"lines": {str(index): {"tax_rate": [line.tax_rate.name]}}},
            )
    if invoice.total <= 0:
        message = "An invoice is issued for a positive total."
        raise ValidationFailed(message, details={"total": [message]})


def invoice_posting_lines(
    invoice: Invoice, lines: list[InvoiceLine]
) -> tuple[list[PostingLine], list[PostingLine]]:
    """(revenue lines per account, tax lines per rate), in account-code and rate-name order."""
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    accounts: dict[int, Account] = {}
    taxes: dict[int, Decimal] = defaultdict(Decimal)
    rates: dict[int, TaxRate] = {}
    for line in lines:
        revenue[line.account_id] += line.net
        accounts[line.account_id] = line.account
        if line.tax_rate_id is not None and line.tax:
            taxes[line.tax_rate_id] += line.tax
            rates[line.tax_rate_id] = line.tax_rate
    number = invoice.number
    revenue_lines = [
        PostingLine(accounts[pk], CREDIT, amount, f"{number}: {accounts[pk].name}")
        for pk, amount in sorted(revenue.items(), key=lambda kv: accounts[kv[0]].code)
    ]
    tax_lines = [
        PostingLine(rates[pk].account, CREDIT, amount, f"{number}: {rates[pk].name}")
        for pk, amount in sorted(taxes.items(), key=lambda kv: (rates[kv[0]].name, kv[0]))
    ]
    return revenue_lines, tax_lines


def invoice_issue(*, invoice: Invoice, by: User | None) -> Invoice:
    """Issue a draft: number it and post Dr receivables / Cr revenue / Cr tax payable.

    Refused when the customer or a tax rate was deactivated since, when the total is not
    positive, when no rate converts a foreign currency (missing_exchange_rate), and whenever
    the ledger refuses the posting (closed period, inactive account...): nothing is written then
    and the number is given back. Lock order: the invoice row, the invoice number, the ledger.
    """
    with transaction.atomic():
        locked = invoice_locked(invoice.pk)
        if locked.status != InvoiceStatus.DRAFT:
            raise errors.InvoiceImmutable(
                f"{locked} is already {locked.status}.",
                details={"reason": "already_issued", "status": locked.status},
            )
        company = locked.company
        lines = list(
            locked.lines.select_related("tax_rate", "tax_rate__account", "account", "item").order_by(
                "line_no"
            )
        )
        _revalidate(locked, lines)
        rate = document_rate(company=company, currency=locked.currency, on=locked.date, given=locked.fx_rate)
        receivable_account = receivables_account(company=company, customer=locked.customer)
        sequence, number = document_number_next(
            company_id=company.pk, series=INVOICE_SERIES, year=locked.date.year
        )
        locked.number, locked.sequence = number, sequence
        revenue_lines, tax_lines = invoice_posting_lines(locked, lines)
        for line in (*revenue_lines, *tax_lines):
            check_rate_carries_value(amount=line.amount, currency=locked.currency, rate=rate, company=company)
        # the receivable is the whole total: the largest amount the rate converts
        check_rate_carries_value(amount=locked.total, currency=locked.currency, rate=rate, company=company)
        total_base = base_of(locked.total, rate, company)
        entry = journal_entry_create(
            company=company,
            date=locked.date,
            lines=document_entry_lines(
                company=company,
                currency=locked.currency,
                rate=rate,
                lines=revenue_lines + tax_lines,
                receivable=PostingLine(
                    receivable_account, DEBIT, locked.total, f"{locked.customer.name}: {number}"
                ),
                target_base=total_base,
                rounding_description=f"{number}: currency rounding",
            ),
            by=by,
            description=f"Invoice {number} – {locked.customer.name}",
            reference=number,
            source=EntrySource.SALES,
            post=True,
        )
        locked.status = InvoiceStatus.ISSUED
        locked.fx_rate = rate
        locked.subtotal_base = sum((base_of(line.amount, rate, company) for line in revenue_lines), ZERO)
        locked.tax_total_base = sum((base_of(line.amount, rate, company) for line in tax_lines), ZERO)
        locked.total_base = total_base
        locked.balance_base = total_base
        locked.last_event_on = locked.date
        locked.journal_entry = entry
        locked.receivables_account = receivable_account
        locked.issued_at = timezone.now()
        locked.issued_by = by if by is not None and by.is_authenticated else None
        locked.save()
        sales_summary_add(
            company_id=company.pk,
            date=locked.date,
            invoice_count=1,
            invoiced_net=locked.subtotal_base,
            invoiced_tax=locked.tax_total_base,
        )
        audit_record(
            action="issue",
            company=company,
            obj=locked,
            actor=by,
            changes={
                "status": {"before": InvoiceStatus.DRAFT, "after": InvoiceStatus.ISSUED},
                "number": {"before": None, "after": number},
                "fx_rate": {"before": None, "after": json_value(rate.normalize())},
                "journal_entry": {"before": None, "after": entry.pk},
            },
            metadata={"journal_number": entry.number, "total": format_amount(locked.total, locked.currency)},
        )
    return locked


# --------------------------------------------------------------------------- void


def invoice_void_refusal(invoice: Invoice) -> APIError | None:
    """Why the invoice cannot be voided as it stands (None: it can, on a date after its history):
    void already, a draft, payments allocated, credit notes. A page asks this before it offers
    to void; `invoice_void` asks it again under the invoice's lock."""
    if invoice.status == InvoiceStatus.VOID:
        return errors.AlreadyVoid(f"{invoice} is already void.", details={"invoice": invoice.pk})
    if invoice.status == InvoiceStatus.DRAFT:
        return errors.InvoiceNotOpen(
            f"{invoice} is a draft: delete it instead.",
            details={"invoice": invoice.pk, "status": invoice.status},
        )
    if Allocation.objects.filter(invoice=invoice, unallocated_on__isnull=True).exists():
        return errors.InvoiceHasAllocations(
            f"{invoice} has payments allocated; unallocate them before voiding it.",
            details={"invoice": invoice.pk},
        )
    if invoice.credit_notes.exists():
        return errors.InvoiceHasCreditNotes(
            f"{invoice} has credit notes; credit what is left instead of voiding it.",
            details={"invoice": invoice.pk},
        )
    return None


def invoice_void(*, invoice: Invoice, by: User | None, date: datetime.date | None = None) -> Invoice:
    """Void an issued invoice: post the reversal of its entry, dated like the invoice unless a
    date is given (never before the invoice or anything that happened to it).

    Refused while payments are allocated to it (`invoice_has_allocations`: unallocate them
    first) or when it has credit notes (`invoice_has_credit_notes`: credit what is left).
    """
    with transaction.atomic():
        locked = invoice_locked(invoice.pk)
        refusal = invoice_void_refusal(locked)
        if refusal is not None:
            raise refusal
        previous_status = locked.status
        void_date = check_book_date(date) if date is not None else locked.date
        latest = timeline.last_event_date(invoice_history(locked))
        if void_date < latest:
            raise errors.DateOutOfOrder(
                f"{locked} cannot be voided on {void_date}: it has history up to {latest}.",
                details={"date": void_date.isoformat(), "earliest": latest.isoformat()},
            )
        reversal = journal_entry_reverse(
            entry=locked.journal_entry,
            by=by,
            date=void_date,
            description=f"Void of invoice {locked.number} – {locked.customer.name}",
        )
        locked.status = InvoiceStatus.VOID
        locked.voided_on = void_date
        locked.void_entry = reversal
        locked.settled_on = void_date
        locked.balance_base = ZERO
        locked.last_event_on = void_date
        locked.save(
            update_fields=[
                "status",
                "voided_on",
                "void_entry",
                "settled_on",
                "balance_base",
                "last_event_on",
                "updated_at",
            ]
        )
        sales_summary_add(
            company_id=locked.company_id,
            date=void_date,
            void_count=1,
            voided_net=locked.subtotal_base,
            voided_tax=locked.tax_total_base,
        )
        audit_record(
            action="void",
            company=locked.company_id,
            obj=locked,
            actor=by,
            changes={
                "status": {"before": previous_status, "after": InvoiceStatus.VOID},
                "voided_on": {"before": None, "after": void_date.isoformat()},
                "void_entry": {"before": None, "after": reversal.pk},
            },
            metadata={"reversal_number": reversal.number},
        )
    return locked
