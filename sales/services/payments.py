"""Payments from customers, their allocations to invoices, unallocation and void.

Recording a payment posts Dr deposit account / Cr receivables (one entry, dated the payment,
numbered `PAY-<year>-<NNNNNN>`), and may allocate it at once to open invoices of the same
customer and currency. What is not allocated stays as customer credit, allocated later (all
allocations of one call share one date: given, else the latest of the payment's and invoices'
dates). Over-allocation is refused: an allocation never exceeds the invoice's amount due nor the
payment's unallocated amount, on its date or any later date.

Foreign currencies: an invoice is carried in the functional currency at its own rate, a payment
at its rate; when an allocation settles part of an invoice, the difference between the two
carrying amounts is the realised exchange difference, posted to the exchange gains and losses
account (sales settings, else the `fx_gain_loss` system account) against receivables, in the same
entry as the payment (or, for a later allocation, in one entry for the call). Unallocating posts
the opposite difference, dated the unallocation.

Every sales service posts at most one journal entry per transaction (see sales.numbering).
Lock order: the payment row, its invoices' rows in id order, the payment number, the ledger.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import AccountRole, Company, User
from audit.changes import diff, json_value
from audit.services import audit_record
from ledger import errors as ledger_errors
from ledger.models import EntrySource
from ledger.services import journal_entry_create, journal_entry_reverse, period_open_held
from sales import errors, timeline
from sales.models import Allocation, Invoice, Payment, PaymentMethod, PaymentStatus
from sales.numbering import PAYMENT_SERIES, document_number_next
from sales.postings import (
    account_resolve,
    base_of,
    check_rate_carries_value,
    default_account,
    document_rate,
    exchange_difference_lines,
    parse_rate,
    receivables_account,
)
from sales.services.documents import (
    ZERO,
    check_book_date,
    check_reduction_fits,
    invoice_carrying,
    invoice_history,
    invoice_locked,
    invoice_state_refresh,
    payment_carrying,
    payment_history,
    payment_locked,
    payment_state_refresh,
    require_open_invoice,
    require_posted_payment,
)
from sales.services.invoices import customer_resolve
from sofinance.errors import ValidationFailed
from sofinance.money import MoneyError, check_precision, format_amount, is_valid_currency, parse_amount

MAX_ALLOCATIONS = 200


@dataclass(frozen=True)
class AllocationInput:
    invoice: Any  # an Invoice or its id
    amount: Any

    @classmethod
    def coerce(cls, value: AllocationInput | Mapping[str, Any]) -> AllocationInput:
        if isinstance(value, AllocationInput):
            return value
        return cls(invoice=value.get("invoice"), amount=value.get("amount"))


@dataclass(frozen=True)
class PlannedAllocation:
    invoice: Invoice
    amount: Decimal
    invoice_base: Decimal
    payment_base: Decimal

    @property
    def difference(self) -> Decimal:
        """> 0: an exchange loss (the invoice carried more than the payment was worth)."""
        return self.invoice_base - self.payment_base


def _amount(value: Any, currency: str, field: str) -> Decimal:
    try:
        amount = parse_amount(value)
    except MoneyError as exc:
        raise ValidationFailed(str(exc), details={field: [str(exc)]}) from exc
    if amount <= 0:
        raise ValidationFailed("Amounts must be positive.", details={field: [str(amount)]})
    try:
        check_precision(amount, currency)
    except MoneyError as exc:
        raise ledger_errors.CurrencyPrecision(str(exc), details={field: [str(exc)]}) from exc
    return amount


def _invoice_ids(company: Company, inputs: list[AllocationInput]) -> list[int]:
    ids = []
    for index, given in enumerate(inputs):
        ref = given.invoice.pk if isinstance(given.invoice, Invoice) else given.invoice
        if not isinstance(ref, int) or isinstance(ref, bool):
            raise ValidationFailed(
                "Each allocation names an invoice by id.",
                details={"allocations": {str(index): {"invoice": [str(ref)]}}},
            )
        ids.append(ref)
    if len(set(ids)) != len(ids):
        raise ValidationFailed("An invoice appears twice in the allocations.", details={"allocations": ids})
    known = set(Invoice.objects.filter(company=company, pk__in=ids).values_list("pk", flat=True))
    for index, pk in enumerate(ids):
        if pk not in known:
            raise errors.InvalidInvoice(
                f"Invoice {pk} does not exist in this company.",
                details={"allocations": {str(index): {"invoice": [str(pk)]}}},
            )
    return ids


def _plan(
    payment: Payment, inputs: list[AllocationInput], invoices: dict[int, Invoice], date: datetime.date
) -> list[PlannedAllocation]:
    """Check every allocation and work out what it settles on each side (payment locked, invoices locked)."""
    planned: list[PlannedAllocation] = []
    unallocated = payment.amount - payment.amount_allocated
    carrying = payment_carrying(payment)
    history = payment_history(payment)
    for index, given in enumerate(inputs):
        ref = given.invoice.pk if isinstance(given.invoice, Invoice) else given.invoice
        invoice = invoices[ref]
        where = {"allocations": {str(index): {"invoice": [invoice.number or str(invoice.pk)]}}}
        if invoice.customer_id != payment.customer_id:
            raise errors.InvalidInvoice(f"{invoice} belongs to another customer.", details=where)
        if invoice.currency != payment.currency:
            raise errors.CurrencyMismatch(
                f"{invoice} is in {invoice.currency}; the payment is in {payment.currency}.", details=where
            )
        require_open_invoice(invoice, doing="paid")
        if invoice.receivables_account_id != payment.receivables_account_id:
            raise errors.InvalidInvoice(
                f"{invoice} was posted to another receivables account than the payment.", details=where
            )
        amount = _amount(given.amount, payment.currency, "amount")
        if date < max(invoice.date, payment.date):
            raise errors.DateOutOfOrder(
                f"An allocation to {invoice} cannot be dated {date}, before the invoice or the payment.",
                details={"date": date.isoformat(), "earliest": max(invoice.date, payment.date).isoformat()},
            )
        due = invoice.total - invoice.amount_credited - invoice.amount_paid
        if amount > due:
            raise errors.OverAllocation(
                f"{format_amount(amount, invoice.currency)} exceeds what {invoice} has due "
                f"({format_amount(due, invoice.currency)}).",
                details={**where, "amount_due": format_amount(due, invoice.currency)},
            )
        if amount > unallocated:
            raise errors.OverAllocation(
                f"{format_amount(amount, payment.currency)} is more than the payment has left to allocate "
                f"({format_amount(unallocated, payment.currency)}).",
                details={"unallocated": format_amount(unallocated, payment.currency)},
            )
        check_reduction_fits(
            invoice_history(invoice),
            date=date,
            amount=amount,
            label=str(invoice),
            error=errors.OverAllocation,
        )
        check_reduction_fits(
            history, date=date, amount=amount, label=str(payment), error=errors.OverAllocation
        )
        invoice_base = (
            invoice_carrying(invoice) if amount == due else base_of(amount, invoice.fx_rate, payment.company)
        )
        payment_base = (
            carrying if amount == unallocated else base_of(amount, payment.fx_rate, payment.company)
        )
        planned.append(PlannedAllocation(invoice, amount, invoice_base, payment_base))
        unallocated -= amount
        carrying -= payment_base
        history.append(timeline.Step(date, -amount, -payment_base))
    return planned


def _fx_lines(payment: Payment, planned: list[PlannedAllocation]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for item in planned:
        lines += exchange_difference_lines(
            company=payment.company,
            receivables=item.invoice.receivables_account,
            difference=item.difference,
            description=f"Exchange difference: {payment.number} on {item.invoice.number}",
        )
    return lines


def _apply(
    payment: Payment,
    planned: list[PlannedAllocation],
    date: datetime.date,
    fx_entry,
    by: User | None,
) -> list[Allocation]:
    created_by = by if by is not None and by.is_authenticated else None
    allocations = Allocation.objects.bulk_create(
        [
            Allocation(
                company=payment.company,
                payment=payment,
                invoice=item.invoice,
                date=date,
                amount=item.amount,
                invoice_base=item.invoice_base,
                payment_base=item.payment_base,
                fx_entry=fx_entry if item.difference else None,
                created_by=created_by,
            )
            for item in planned
        ]
    )
    for item in planned:
        invoice_state_refresh(item.invoice)
    payment_state_refresh(payment)
    return allocations


def _allocation_changes(
    planned: list[PlannedAllocation], currency: str, functional: str
) -> list[dict[str, Any]]:
    return [
        {
            "invoice": item.invoice.pk,
            "amount": format_amount(item.amount, currency),
            "exchange_difference": format_amount(item.difference, functional),
        }
        for item in planned
    ]


# --------------------------------------------------------------------------- record


def payment_record(
    *,
    company: Company,
    customer: Any,
    date: datetime.date,
    amount: Any,
    by: User | None,
    currency: str | None = None,
    account: Any = None,
    method: str = PaymentMethod.BANK_TRANSFER,
    reference: str = "",
    notes: str = "",
    fx_rate: Any = None,
    allocations: Sequence[Any] = (),
) -> Payment:
    """Record money received from a customer and, optionally, allocate it to open invoices.

    The deposit account defaults to the company's `bank` account; the currency to the
    customer's. Allocations made here are dated the payment (an invoice dated later is
    allocated later). Refused: an inactive or another company's customer, a non-positive
    amount or one with too many decimals, a void, draft or paid invoice (`invoice_not_open`),
    an invoice in another currency (`currency_mismatch`), and over-allocation.
    """
    customer = customer_resolve(company=company, ref=customer)
    check_book_date(date)
    currency = (currency or customer.currency or "").strip().upper()
    if not is_valid_currency(currency):
        message = f"{currency!r} is not an ISO 4217 currency."
        raise ValidationFailed(message, details={"currency": [message]})
    value = _amount(amount, currency, "amount")
    if method not in PaymentMethod.values:
        message = f"{method!r} is not a payment method."
        raise ValidationFailed(message, details={"method": [message]})
    given_rate = parse_rate(fx_rate)
    deposit = (
        default_account(company=company, role=AccountRole.BANK, label="bank")
        if account is None or account == ""
        else account_resolve(company=company, ref=account, purpose="deposit", field="account")
    )
    inputs = [AllocationInput.coerce(a) for a in allocations]
    if len(inputs) > MAX_ALLOCATIONS:
        raise ValidationFailed(
            f"At most {MAX_ALLOCATIONS} allocations at once.", details={"allocations": [len(inputs)]}
        )
    with transaction.atomic():
        invoice_ids = _invoice_ids(company, inputs)
        invoices = {pk: invoice_locked(pk) for pk in sorted(invoice_ids)}
        rate = document_rate(company=company, currency=currency, on=date, given=given_rate)
        check_rate_carries_value(amount=value, currency=currency, rate=rate, company=company)
        receivable = receivables_account(company=company, customer=customer)
        sequence, number = document_number_next(company_id=company.pk, series=PAYMENT_SERIES, year=date.year)
        payment = Payment.objects.create(
            company=company,
            customer=customer,
            number=number,
            sequence=sequence,
            date=date,
            amount=value,
            currency=currency,
            fx_rate=rate,
            amount_base=base_of(value, rate, company),
            unallocated_base=base_of(value, rate, company),
            last_event_on=date,
            account=deposit,
            receivables_account=receivable,
            method=method,
            reference=(reference or "").strip()[:100],
            notes=(notes or "").strip()[:5000],
            created_by=by if by is not None and by.is_authenticated else None,
        )
        planned = _plan(payment, inputs, invoices, date)
        foreign = currency != company.currency
        # The money lands in the deposit account's own currency: a foreign payment into an account
        # not kept in that currency (the company's bank account, say) arrives converted, as the
        # bank statement shows it; only an account kept in the payment's currency holds it as paid.
        deposited_as_paid = not foreign or deposit.currency == currency
        receipt = [
            {
                "account": deposit,
                "debit": value if deposited_as_paid else payment.amount_base,
                "currency": currency if deposited_as_paid else company.currency,
                "fx_rate": rate if foreign and deposited_as_paid else None,
                "description": f"{number}: {customer.name}",
            },
            {
                "account": receivable,
                "credit": value,
                "currency": currency,
                "fx_rate": rate if foreign else None,
                "description": f"{customer.name}: {number}",
            },
        ]
        entry = journal_entry_create(
            company=company,
            date=date,
            lines=receipt + _fx_lines(payment, planned),
            by=by,
            # the customer's own reference (their remittance advice) too: the bank line of the
            # receipt carries it, and bank matching looks for it in the entry's texts
            description=f"Payment {number} – {customer.name}"
            + (f" ({payment.reference})" if payment.reference else ""),
            reference=number,
            source=EntrySource.PAYMENT,
            post=True,
        )
        Payment.objects.filter(pk=payment.pk).update(journal_entry=entry)
        payment.journal_entry = entry
        _apply(payment, planned, date, entry, by)
        audit_record(
            action="create",
            company=company,
            obj=payment,
            actor=by,
            changes=diff(
                None,
                {
                    "customer": customer.pk,
                    "number": number,
                    "date": date,
                    "amount": format_amount(value, currency),
                    "currency": currency,
                    "fx_rate": json_value(rate.normalize()),
                    "account": deposit.pk,
                    "method": method,
                    "reference": payment.reference,
                    "journal_entry": entry.pk,
                    "allocations": _allocation_changes(planned, currency, company.currency),
                },
            ),
            metadata={"journal_number": entry.number},
        )
    return payment


# --------------------------------------------------------------------------- allocate later


def allocations_oldest_first(*, amount: Decimal, invoices: Sequence[Invoice]) -> dict[int, Decimal]:
    """How `amount` pays `invoices` oldest due first: each invoice its whole amount due while the
    amount lasts, the last one in part; invoice id -> amount (none for an invoice it does not
    reach). A plan, nothing written: the admin fills its allocation inputs with it and the
    accountant allocates (or changes it first). The invoices are in the amount's currency."""
    left = max(amount, ZERO)
    plan: dict[int, Decimal] = {}
    for invoice in sorted(invoices, key=lambda invoice: (invoice.due_date, invoice.date, invoice.pk)):
        if left <= 0:
            break
        share = min(left, invoice.amount_due)
        if share > 0:
            plan[invoice.pk] = share
            left -= share
    return plan


def payment_allocate(
    *,
    payment: Payment,
    allocations: Sequence[Any],
    by: User | None,
    date: datetime.date | None = None,
) -> list[Allocation]:
    """Allocate a payment's unallocated amount (customer credit) to open invoices.

    All allocations of the call share one date: the given one, else the latest of the payment's
    and the invoices' dates. Exchange differences post in one entry dated then.
    """
    inputs = [AllocationInput.coerce(a) for a in allocations]
    if not inputs:
        raise ValidationFailed("Give at least one allocation.", details={"allocations": ["At least one."]})
    if len(inputs) > MAX_ALLOCATIONS:
        raise ValidationFailed(
            f"At most {MAX_ALLOCATIONS} allocations at once.", details={"allocations": [len(inputs)]}
        )
    with transaction.atomic():
        locked = payment_locked(payment.pk)
        require_posted_payment(locked)
        company = locked.company
        invoice_ids = _invoice_ids(company, inputs)
        invoices = {pk: invoice_locked(pk) for pk in sorted(invoice_ids)}
        when = (
            check_book_date(date)
            if date is not None
            else max([locked.date, *(invoice.date for invoice in invoices.values())])
        )
        # An allocation changes what the AR aging shows from its date: never in a closed period
        # (refused even when no exchange difference is posted).
        period_open_held(company=company, date=when)
        allocated_before = locked.amount_allocated
        planned = _plan(locked, inputs, invoices, when)
        fx_lines = _fx_lines(locked, planned)
        fx_entry = None
        if fx_lines:
            fx_entry = journal_entry_create(
                company=company,
                date=when,
                lines=fx_lines,
                by=by,
                description=f"Exchange differences on allocating {locked.number} – {locked.customer.name}",
                reference=locked.number,
                source=EntrySource.PAYMENT,
                post=True,
            )
        created = _apply(locked, planned, when, fx_entry, by)
        audit_record(
            action="allocate",
            company=company,
            obj=locked,
            actor=by,
            changes={
                "allocations": {
                    "before": None,
                    "after": _allocation_changes(planned, locked.currency, company.currency),
                },
                "amount_allocated": {
                    "before": format_amount(allocated_before, locked.currency),
                    "after": format_amount(locked.amount_allocated, locked.currency),
                },
            },
            metadata={"date": when.isoformat(), "fx_entry": fx_entry.pk if fx_entry else None},
        )
    return created


def allocation_remove(
    *, allocation: Allocation, by: User | None, date: datetime.date | None = None
) -> Allocation:
    """Unallocate: the amount goes back to the invoice's amount due and the payment's credit,
    from `date` (default today, never before the allocation). The allocation is kept, marked
    with its unallocation date, so reports as of earlier dates still see it; an exchange
    difference it posted is posted back, dated the unallocation."""
    with transaction.atomic():
        payment = payment_locked(allocation.payment_id)
        invoice = invoice_locked(allocation.invoice_id)
        locked = Allocation.objects.select_for_update().get(pk=allocation.pk)
        if locked.unallocated_on is not None:
            raise errors.AlreadyUnallocated(
                f"The allocation was removed on {locked.unallocated_on}.", details={"allocation": locked.pk}
            )
        when = check_book_date(date) if date is not None else max(locked.date, timezone.localdate())
        if when < locked.date:
            raise errors.DateOutOfOrder(
                f"An allocation dated {locked.date} cannot be removed on {when}.",
                details={"date": when.isoformat(), "earliest": locked.date.isoformat()},
            )
        period_open_held(company=payment.company, date=when)  # (as an allocation: the AR aging moves)
        difference = locked.invoice_base - locked.payment_base
        entry = None
        if difference:
            entry = journal_entry_create(
                company=payment.company,
                date=when,
                lines=exchange_difference_lines(
                    company=payment.company,
                    receivables=invoice.receivables_account,
                    difference=-difference,
                    description=f"Exchange difference reversed: {payment.number} off {invoice.number}",
                ),
                by=by,
                description=f"Unallocation of {payment.number} from {invoice.number} – {payment.customer.name}",
                reference=payment.number,
                source=EntrySource.PAYMENT,
                post=True,
            )
        locked.unallocated_on = when
        locked.unallocation_entry = entry
        locked.unallocated_at = timezone.now()
        locked.unallocated_by = by if by is not None and by.is_authenticated else None
        locked.save(
            update_fields=["unallocated_on", "unallocation_entry", "unallocated_at", "unallocated_by"]
        )
        invoice_state_refresh(invoice)
        payment_state_refresh(payment)
        audit_record(
            action="unallocate",
            company=payment.company_id,
            obj=payment,
            actor=by,
            changes={
                "allocation": {"before": locked.pk, "after": None},
                "amount_allocated": {
                    "before": format_amount(payment.amount_allocated + locked.amount, payment.currency),
                    "after": format_amount(payment.amount_allocated, payment.currency),
                },
            },
            metadata={
                "invoice": invoice.pk,
                "amount": format_amount(locked.amount, payment.currency),
                "date": when.isoformat(),
                "fx_entry": entry.pk if entry else None,
            },
        )
    return locked


# --------------------------------------------------------------------------- void


def payment_void_earliest(payment: Payment) -> datetime.date:
    """The earliest day a void of the payment can be dated: its own date, or the last thing that
    happened to it after that (an allocation undone later). What the admin proposes."""
    return max(payment.date, timeline.last_event_date(payment_history(payment)))


def payment_void(*, payment: Payment, by: User | None, date: datetime.date | None = None) -> Payment:
    """Void a payment recorded by mistake: its receipt is posted back, dated like the payment
    unless a date is given (never before anything that happened to it).

    Refused while it is allocated (`payment_has_allocations`: unallocate first). The reversal is
    the ledger's reversal of the payment's entry; when that entry also carried exchange
    differences of allocations made with it (since unallocated, each posted back on its own),
    a new entry posts back the receipt lines alone.
    """
    with transaction.atomic():
        locked = payment_locked(payment.pk)
        require_posted_payment(locked)
        if Allocation.objects.filter(payment=locked, unallocated_on__isnull=True).exists():
            raise errors.PaymentHasAllocations(
                f"{locked} is allocated to invoices; unallocate it before voiding it.",
                details={"payment": locked.pk},
            )
        when = check_book_date(date) if date is not None else locked.date
        latest = timeline.last_event_date(payment_history(locked))
        if when < latest:
            raise errors.DateOutOfOrder(
                f"{locked} cannot be voided on {when}: it has history up to {latest}.",
                details={"date": when.isoformat(), "earliest": latest.isoformat()},
            )
        original = locked.journal_entry
        if original.lines.count() == 2:
            reversal = journal_entry_reverse(
                entry=original,
                by=by,
                date=when,
                description=f"Void of payment {locked.number} – {locked.customer.name}",
            )
        else:
            foreign = locked.currency != locked.company.currency
            rate = locked.fx_rate if foreign else None
            # The deposit line is taken back as it was posted: in the payment's currency, or
            # converted into the deposit account's when the account is not kept in it.
            deposited = original.lines.get(line_no=1)
            deposited_foreign = deposited.currency != locked.company.currency
            reversal = journal_entry_create(
                company=locked.company,
                date=when,
                lines=[
                    {
                        "account": locked.receivables_account,
                        "debit": locked.amount,
                        "currency": locked.currency,
                        "fx_rate": rate,
                        "description": f"{locked.customer.name}: void of {locked.number}",
                    },
                    {
                        "account": locked.account,
                        "credit": deposited.debit,
                        "currency": deposited.currency,
                        "fx_rate": deposited.fx_rate if deposited_foreign else None,
                        "description": f"Void of {locked.number}",
                    },
                ],
                by=by,
                description=f"Void of payment {locked.number} – {locked.customer.name}",
                reference=locked.number,
                source=EntrySource.PAYMENT,
                post=True,
            )
        locked.status = PaymentStatus.VOID
        locked.voided_on = when
        locked.void_entry = reversal
        locked.exhausted_on = when
        locked.unallocated_base = ZERO
        locked.last_event_on = when
        locked.save(
            update_fields=[
                "status",
                "voided_on",
                "void_entry",
                "exhausted_on",
                "unallocated_base",
                "last_event_on",
                "updated_at",
            ]
        )
        audit_record(
            action="void",
            company=locked.company_id,
            obj=locked,
            actor=by,
            changes={
                "status": {"before": PaymentStatus.POSTED, "after": PaymentStatus.VOID},
                "voided_on": {"before": None, "after": when.isoformat()},
                "void_entry": {"before": None, "after": reversal.pk},
            },
            metadata={"reversal_number": reversal.number},
        )
    return locked
