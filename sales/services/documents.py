"""Helpers every document service shares: row locks, dates, and the state that follows from history.

An issued invoice's `amount_credited`, `amount_paid`, `status` and `settled_on`, and a payment's
`amount_allocated` and `exhausted_on`, are always recomputed from its credit notes and allocations
(under the document's row lock) rather than incremented, so they cannot drift from the history.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Sum

from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE
from sales import errors, timeline
from sales.models import Allocation, CreditNote, Invoice, InvoiceStatus, Payment, PaymentStatus
from sofinance.errors import ValidationFailed

ZERO = Decimal(0)


def check_book_date(value: datetime.date, field: str = "date") -> datetime.date:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationFailed(f"{field} must be a date (YYYY-MM-DD).", details={field: [str(value)]})
    if not FIRST_BOOK_DATE <= value <= LAST_BOOK_DATE:
        raise ValidationFailed(
            f"Accounting dates run from {FIRST_BOOK_DATE} to {LAST_BOOK_DATE}.", details={field: [str(value)]}
        )
    return value


def invoice_locked(pk: int) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("company", "customer", "customer__receivables_account", "journal_entry")
        .get(pk=pk)
    )


def invoices_locked(pks: list[int]) -> dict[int, Invoice]:
    """Invoice rows locked in id order (the one order every service takes them in)."""
    locked = {}
    for pk in sorted(set(pks)):
        locked[pk] = invoice_locked(pk)
    return locked


def payment_locked(pk: int) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("company", "customer", "customer__receivables_account", "account", "journal_entry")
        .get(pk=pk)
    )


# --------------------------------------------------------------------------- history


def invoice_history(invoice: Invoice) -> list[timeline.Step]:
    return timeline.invoice_steps(
        invoice,
        CreditNote.objects.filter(invoice=invoice).only("date", "total", "total_base"),
        Allocation.objects.filter(invoice=invoice).only("date", "amount", "invoice_base", "unallocated_on"),
    )


def payment_history(payment: Payment) -> list[timeline.Step]:
    return timeline.payment_steps(
        payment,
        Allocation.objects.filter(payment=payment).only("date", "amount", "payment_base", "unallocated_on"),
    )


def invoice_carrying(invoice: Invoice) -> Decimal:
    """The functional amount the receivables account holds for the invoice now."""
    credited = CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("total_base"))["s"] or ZERO
    allocated = (
        Allocation.objects.filter(invoice=invoice, unallocated_on__isnull=True).aggregate(
            s=Sum("invoice_base")
        )["s"]
        or ZERO
    )
    return invoice.total_base - credited - allocated


def payment_carrying(payment: Payment) -> Decimal:
    """The functional amount of the payment not yet allocated, as the receivables account holds it."""
    allocated = (
        Allocation.objects.filter(payment=payment, unallocated_on__isnull=True).aggregate(
            s=Sum("payment_base")
        )["s"]
        or ZERO
    )
    return payment.amount_base - allocated


def check_reduction_fits(
    steps: list[timeline.Step], *, date: datetime.date, amount: Decimal, label: str, error: type
) -> None:
    """Refuse a reduction dated `date` that would leave the document negative on any date from it."""
    short = timeline.first_shortfall(steps, timeline.Step(date, -amount, ZERO))
    if short is not None:
        raise error(
            f"On {short} {label} would have less open than {amount}: date the document on or after "
            "the documents it depends on.",
            details={"date": date.isoformat(), "short_on": short.isoformat()},
        )


# --------------------------------------------------------------------------- state


def invoice_status(invoice: Invoice) -> str:
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return invoice.status
    due = invoice.total - invoice.amount_credited - invoice.amount_paid
    if due == 0:
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID if invoice.amount_paid > 0 else InvoiceStatus.ISSUED


def invoice_state_refresh(invoice: Invoice) -> Invoice:
    """Recompute what follows from the invoice's history and save it (the caller holds its lock)."""
    invoice.amount_credited = (
        CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("total"))["s"] or ZERO
    )
    invoice.amount_paid = (
        Allocation.objects.filter(invoice=invoice, unallocated_on__isnull=True).aggregate(s=Sum("amount"))[
            "s"
        ]
        or ZERO
    )
    invoice.status = invoice_status(invoice)
    history = invoice_history(invoice)
    invoice.settled_on = timeline.settled_from(history)
    invoice.last_event_on = timeline.last_event_date(history)
    invoice.balance_base = timeline.open_at(history, invoice.last_event_on)[1]
    invoice.save(
        update_fields=[
            "amount_credited",
            "amount_paid",
            "status",
            "settled_on",
            "last_event_on",
            "balance_base",
            "updated_at",
        ]
    )
    return invoice


def payment_state_refresh(payment: Payment) -> Payment:
    payment.amount_allocated = (
        Allocation.objects.filter(payment=payment, unallocated_on__isnull=True).aggregate(s=Sum("amount"))[
            "s"
        ]
        or ZERO
    )
    history = payment_history(payment)
    payment.exhausted_on = timeline.settled_from(history)
    payment.last_event_on = timeline.last_event_date(history)
    payment.unallocated_base = timeline.open_at(history, payment.last_event_on)[1]
    payment.save(
        update_fields=["amount_allocated", "exhausted_on", "last_event_on", "unallocated_base", "updated_at"]
    )
    return payment


def require_open_invoice(invoice: Invoice, *, doing: str) -> None:
    if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
        state = {"draft": "a draft", "void": "void", "paid": "paid"}.get(invoice.status, invoice.status)
        raise errors.InvoiceNotOpen(
            f"{invoice} is {state}: it cannot be {doing}.",
            details={"invoice": invoice.pk, "status": invoice.status},
        )


def require_posted_payment(payment: Payment) -> None:
    if payment.status != PaymentStatus.POSTED:
        raise errors.AlreadyVoid(f"{payment} is void.", details={"payment": payment.pk})
