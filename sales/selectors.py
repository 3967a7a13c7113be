"""Reads of the sales app: master data and documents, scoped to one company. Reports live in
sales/reports.py."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from accounts.models import Account, AccountRole, Company
from audit.models import AuditEvent
from audit.selectors import audit_events_for_company
from ledger.balance_queries import account_totals
from sales.models import (
    Allocation,
    CreditNote,
    CreditNoteLine,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Item,
    Payment,
    SalesSettings,
    TaxRate,
)
from sofinance.quarantine import quarantined_annotation


def customers_for_company(*, company: Company) -> QuerySet[Customer]:
    return Customer.objects.filter(company=company).select_related("receivables_account")


def customer_get(*, company: Company, pk: int) -> Customer | None:
    return customers_for_company(company=company).filter(pk=pk).first()


def items_for_company(*, company: Company) -> QuerySet[Item]:
    return Item.objects.filter(company=company).select_related("revenue_account", "tax_rate")


def item_get(*, company: Company, pk: int) -> Item | None:
    return items_for_company(company=company).filter(pk=pk).first()


def tax_rates_for_company(*, company: Company) -> QuerySet[TaxRate]:
    return TaxRate.objects.filter(company=company).select_related("account")


def tax_rate_get(*, company: Company, pk: int) -> TaxRate | None:
    return tax_rates_for_company(company=company).filter(pk=pk).first()


def invoices_for_company(*, company: Company) -> QuerySet[Invoice]:
    lines = InvoiceLine.objects.select_related("account", "tax_rate", "item").order_by("line_no")
    return (
        Invoice.objects.filter(company=company)
        .select_related("customer", "journal_entry", "void_entry")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .annotate(quarantined=quarantined_annotation(Invoice._meta.label_lower))
    )


def invoice_get(*, company: Company, pk: int) -> Invoice | None:
    return invoices_for_company(company=company).filter(pk=pk).first()


def credit_notes_for_company(*, company: Company) -> QuerySet[CreditNote]:
    lines = CreditNoteLine.objects.select_related("invoice_line").order_by("line_no")
    return (
        CreditNote.objects.filter(company=company)
        .select_related("invoice", "customer", "journal_entry")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .annotate(quarantined=quarantined_annotation(CreditNote._meta.label_lower))
    )


def credit_note_get(*, company: Company, pk: int) -> CreditNote | None:
    return credit_notes_for_company(company=company).filter(pk=pk).first()


def active_allocations() -> QuerySet[Allocation]:
    return Allocation.objects.filter(unallocated_on__isnull=True).select_related("invoice").order_by("id")


def payments_for_company(*, company: Company) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(company=company)
        .select_related("customer", "account", "journal_entry", "void_entry")
        .prefetch_related(
            Prefetch("allocations", queryset=active_allocations(), to_attr="active_allocations")
        )
        .annotate(quarantined=quarantined_annotation(Payment._meta.label_lower))
    )


def payment_get(*, company: Company, pk: int) -> Payment | None:
    return payments_for_company(company=company).filter(pk=pk).first()


def allocations_of_payment(*, payment: Payment, include_removed: bool = False) -> QuerySet[Allocation]:
    allocations = Allocation.objects.filter(payment=payment).select_related("invoice").order_by("id")
    return allocations if include_removed else allocations.filter(unallocated_on__isnull=True)


def allocation_get(*, payment: Payment, pk: int) -> Allocation | None:
    return Allocation.objects.filter(payment=payment, pk=pk).first()


def sales_settings_for(*, company: Company) -> SalesSettings:
    """The company's sales settings (unsaved defaults when it has none yet)."""
    return SalesSettings.objects.filter(company=company).select_related(
        "fx_gain_loss_account"
    ).first() or SalesSettings(company=company)


def open_invoices_of(*, customer: Customer) -> QuerySet[Invoice]:
    """The customer's invoices with something due, oldest due first (to offer for allocation)."""
    return (
        Invoice.objects.filter(
            customer=customer, status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]
        )
        .select_related("customer")
        .order_by("due_date", "id")
    )


def receivables_account_ids(company: Company) -> set[int]:
    """Every account the company keeps receivables on: its `receivables` system account and those
    of its customers, invoices and payments. Never a deposit account (a payment into one would
    credit what it debits); their balance is what the AR aging adds up to."""
    ids = set(
        Account.objects.filter(company=company, system_role=AccountRole.RECEIVABLES).values_list(
            "pk", flat=True
        )
    )
    for model in (Customer, Invoice, Payment):
        ids |= set(
            model.objects.filter(company=company, receivables_account__isnull=False)
            .order_by()
            .values_list("receivables_account_id", flat=True)
            .distinct()
        )
    return ids


def tax_accounts_movement(
    *, company: Company, date_from: datetime.date, date_to: datetime.date
) -> tuple[list[Account], Decimal]:
    """The accounts the company's tax rates credit, and what was posted to them over the range
    (credits less debits: the tax owed the range added), from the balance buckets."""
    accounts = list(
        Account.objects.filter(pk__in=TaxRate.objects.filter(company=company).values("account_id")).order_by(
            "code"
        )
    )
    if not accounts:
        return [], Decimal(0)
    totals = account_totals(
        company_id=company.pk, start=date_from, end=date_to, account_ids=[a.pk for a in accounts]
    )
    return accounts, -sum((t.balance for t in totals.values()), Decimal(0))


def receivables_balance(*, company: Company, as_of: datetime.date) -> Decimal:
    """What the receivables accounts hold at the end of `as_of` (posted, from the balance buckets)."""
    accounts = sorted(receivables_account_ids(company))
    if not accounts:
        return Decimal(0)
    totals = account_totals(company_id=company.pk, end=as_of, account_ids=accounts)
    return sum((t.balance for t in totals.values()), Decimal(0))


# What a sync copies and the API may delete (payments and issued documents are voided, never
# deleted), by the audit trail's object type.
DELETABLE_TYPES = {
    "sales.customer": "customer",
    "sales.item": "item",
    "sales.taxrate": "tax_rate",
    "sales.invoice": "invoice",
}


def deletions_for_company(*, company_id: int) -> QuerySet[AuditEvent]:
    """The deletions of customers, items, tax rates and draft invoices, from the audit trail
    (every delete through any door records one, in its transaction): what a synced copy removes."""
    return audit_events_for_company(company_id=company_id).filter(
        action="delete", object_type__in=list(DELETABLE_TYPES)
    )
