"""Credit notes: credit an issued invoice, whole or some lines' quantities.

A credit note is numbered `CN-<year>-<NNNNNN>` (gapless per company), posts the mirror of the
invoice's entry for what it credits (Dr revenue per account / Dr tax per rate / Cr receivables)
at the invoice's rate, and reduces what is due. It never exceeds what is left to credit: neither
a line's uncredited quantity nor the invoice's amount due (to credit a paid invoice, unallocate
its payment first; the payment then stays as customer credit). Credit notes never change.

Lock order (sales.numbering): the invoice row, the credit-note number, then the ledger's posting.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from audit.changes import diff, json_value
from audit.services import audit_record
from ledger.models import EntrySource
from ledger.services import journal_entry_create
from sales import errors
from sales.amounts import credited_amounts, parse_quantity
from sales.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, InvoiceStatus
from sales.numbering import CREDIT_NOTE_SERIES, document_number_next
from sales.postings import CREDIT, DEBIT, PostingLine, base_of, document_entry_lines
from sales.services.documents import (
    ZERO,
    check_book_date,
    check_reduction_fits,
    invoice_carrying,
    invoice_history,
    invoice_locked,
    invoice_state_refresh,
    require_open_invoice,
)
from sales.services.summary import sales_summary_add
from sofinance.errors import ValidationFailed
from sofinance.money import MoneyError, format_amount


@dataclass(frozen=True)
class CreditLineInput:
    invoice_line: Any  # an InvoiceLine or its id
    quantity: Any

    @classmethod
    def coerce(cls, value: CreditLineInput | Mapping[str, Any]) -> CreditLineInput:
        if isinstance(value, CreditLineInput):
            return value
        return cls(invoice_line=value.get("invoice_line"), quantity=value.get("quantity"))


@dataclass(frozen=True)
class LineRemaining:
    line: InvoiceLine
    quantity: Decimal
    net: Decimal
    tax: Decimal


def invoice_lines_remaining(invoice: Invoice) -> list[LineRemaining]:
    """Each invoice line with what is left to credit of it (quantity, net, tax)."""
    credited = {
        row["invoice_line"]: row
        for row in CreditNoteLine.objects.filter(invoice_line__invoice=invoice)
        .values("invoice_line")
        .annotate(quantity=Sum("quantity"), net=Sum("net"), tax=Sum("tax"))
    }
    result = []
    for line in invoice.lines.select_related("account", "tax_rate", "tax_rate__account").order_by("line_no"):
        done = credited.get(line.pk, {})
        result.append(
            LineRemaining(
                line=line,
                quantity=line.quantity - (done.get("quantity") or ZERO),
                net=line.net - (done.get("net") or ZERO),
                tax=line.tax - (done.get("tax") or ZERO),
            )
        )
    return result


def _requested(
    remaining: list[LineRemaining], lines: Sequence[Any] | None
) -> list[tuple[LineRemaining, Decimal]]:
    if lines is None:
        return [(r, r.quantity) for r in remaining if r.quantity > 0]
    by_id = {r.line.pk: r for r in remaining}
    problems: dict[str, dict[str, list[str]]] = {}
    first_problem: str | None = None
    chosen: list[tuple[LineRemaining, Decimal]] = []
    seen: set[int] = set()
    too_much: list[str] = []

    def problem(index: int, field: str, message: str, *, named: str) -> None:
        nonlocal first_problem
        problems.setdefault(str(index), {}).setdefault(field, []).append(message)
        first_problem = first_problem or f"{named}, {field.replace('_', ' ')}: {message}"

    for index, raw in enumerate(lines):
        given = CreditLineInput.coerce(raw)
        ref = given.invoice_line.pk if isinstance(given.invoice_line, InvoiceLine) else given.invoice_line
        entry = by_id.get(ref) if isinstance(ref, int) and not isinstance(ref, bool) else None
        if entry is None:
            problem(
                index,
                "invoice_line",
                f"{ref!r} is not a line of this invoice.",
                named=f"Credit line {index + 1}",
            )
            continue
        # Named as the invoice names it: the admin's credit page lists the invoice's lines.
        named = f"Invoice line {entry.line.line_no}"
        if entry.line.pk in seen:
            problem(index, "invoice_line", "Given twice.", named=named)
            continue
        seen.add(entry.line.pk)
        try:
            quantity = parse_quantity(given.quantity)
        except MoneyError as exc:
            problem(index, "quantity", str(exc), named=named)
            continue
        if quantity > entry.quantity:
            too_much.append(
                f"Line {entry.line.line_no}: {quantity.normalize():f} asked, "
                f"{entry.quantity.normalize():f} left to credit."
            )
            continue
        chosen.append((entry, quantity))
    if problems:
        raise ValidationFailed(first_problem, details={"lines": problems})
    if too_much:
        raise errors.CreditExceedsRemaining(too_much[0], details={"lines": too_much})
    if not chosen:
        raise ValidationFailed(
            "A credit note needs at least one line.", details={"lines": ["At least one line."]}
        )
    return chosen


@dataclass(frozen=True)
class CreditPlan:
    """What a credit note of `lines` would credit: each invoice line with the quantity and the
    amounts (net, tax), and the totals, as `credit_note_create` posts them."""

    lines: list[tuple[LineRemaining, Decimal, Any]]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_due: Decimal


def credit_note_plan(*, invoice: Invoice, lines: Sequence[Any] | None = None) -> CreditPlan:
    """The amounts a credit note of `lines` would post (nothing is written), refused as
    `credit_note_create` refuses them: a line not of the invoice or given twice, a bad quantity
    (`validation_error`), more than a line has left or than the invoice has due
    (`credit_exceeds_remaining`), nothing credited. The admin shows it before asking "Yes"."""
    chosen = _requested(invoice_lines_remaining(invoice), lines)
    amounts = [
        (
            entry,
            quantity,
            credited_amounts(
                quantity=quantity,
                line_quantity=entry.line.quantity,
                line_unit_price=entry.line.unit_price,
                line_discount=entry.line.discount,
                line_tax_percent=entry.line.tax_percent,
                remaining_quantity=entry.quantity,
                remaining_net=entry.net,
                remaining_tax=entry.tax,
                currency=invoice.currency,
            ),
        )
        for entry, quantity in chosen
    ]
    subtotal = sum((a.net for _, _, a in amounts), ZERO)
    tax_total = sum((a.tax for _, _, a in amounts), ZERO)
    total = subtotal + tax_total
    if total <= 0:
        raise ValidationFailed("The credit note would credit nothing.", details={"total": ["0"]})
    due = invoice.total - invoice.amount_credited - invoice.amount_paid
    if total > due:
        raise errors.CreditExceedsRemaining(
            f"The credit note ({format_amount(total, invoice.currency)}) exceeds what {invoice} has due "
            f"({format_amount(due, invoice.currency)}).",
            details={
                "total": format_amount(total, invoice.currency),
                "amount_due": format_amount(due, invoice.currency),
            },
        )
    return CreditPlan(lines=amounts, subtotal=subtotal, tax_total=tax_total, total=total, amount_due=due)


def credit_note_create(
    *,
    invoice: Invoice,
    by: User | None,
    date: datetime.date | None = None,
    lines: Sequence[Any] | None = None,
    reason: str = "",
) -> CreditNote:
    """Credit an issued invoice: `lines` ([{invoice_line, quantity}]) or, omitted, all that is
    left. Dated today unless given (never before the invoice). Refused with
    `credit_exceeds_remaining` above a line's uncredited quantity or the amount due, and
    `invoice_not_open` on a draft, void or paid invoice."""
    with transaction.atomic():
        locked = invoice_locked(invoice.pk)
        if locked.status == InvoiceStatus.PAID:
            if not locked.amount_paid:  # settled by credit notes alone: no payment to unallocate
                raise errors.CreditExceedsRemaining(
                    f"{locked} is fully credited: nothing is left to credit.",
                    details={"amount_due": format_amount(ZERO, locked.currency)},
                )
            raise errors.CreditExceedsRemaining(
                f"{locked} is paid: nothing is left to credit. Unallocate its payment first (the payment "
                "then stays as customer credit).",
                details={"amount_due": format_amount(ZERO, locked.currency)},
            )
        require_open_invoice(locked, doing="credited")
        company = locked.company
        credit_date = check_book_date(date) if date is not None else max(locked.date, timezone.localdate())
        if credit_date < locked.date:
            raise errors.DateOutOfOrder(
                f"A credit note cannot be dated before its invoice ({locked.date}).",
                details={"date": credit_date.isoformat(), "invoice_date": locked.date.isoformat()},
            )
        planned = credit_note_plan(invoice=locked, lines=lines)
        amounts, subtotal, tax_total, total = (
            planned.lines,
            planned.subtotal,
            planned.tax_total,
            planned.total,
        )
        due = planned.amount_due
        check_reduction_fits(
            invoice_history(locked),
            date=credit_date,
            amount=total,
            label=str(locked),
            error=errors.CreditExceedsRemaining,
        )
        rate = locked.fx_rate
        relief = invoice_carrying(locked) if total == due else base_of(total, rate, company)
        sequence, number = document_number_next(
            company_id=company.pk, series=CREDIT_NOTE_SERIES, year=credit_date.year
        )
        revenue: dict[int, Decimal] = defaultdict(Decimal)
        taxes: dict[int, Decimal] = defaultdict(Decimal)
        for entry, _, credited in amounts:
            revenue[entry.line.account_id] += credited.net
            if entry.line.tax_rate_id is not None:
                taxes[entry.line.tax_rate_id] += credited.tax
        accounts = {e.line.account_id: e.line.account for e, _, _ in amounts}
        rates = {e.line.tax_rate_id: e.line.tax_rate for e, _, _ in amounts if e.line.tax_rate_id}
        revenue_lines = [
            PostingLine(accounts[pk], DEBIT, value, f"{number}: {accounts[pk].name}")
            for pk, value in sorted(revenue.items(), key=lambda kv: accounts[kv[0]].code)
        ]
        tax_lines = [
            PostingLine(rates[pk].account, DEBIT, value, f"{number}: {rates[pk].name}")
            for pk, value in sorted(taxes.items(), key=lambda kv: (rates[kv[0]].name, kv[0]))
        ]
        credit_note = CreditNote.objects.create(
            company=company,
            invoice=locked,
            customer=locked.customer,
            number=number,
            sequence=sequence,
            date=credit_date,
            currency=locked.currency,
            fx_rate=rate,
            reason=(reason or "").strip()[:500],
            subtotal=subtotal,
            tax_total=tax_total,
            total=total,
            subtotal_base=sum((base_of(line.amount, rate, company) for line in revenue_lines), ZERO),
            tax_total_base=sum((base_of(line.amount, rate, company) for line in tax_lines), ZERO),
            total_base=relief,
            created_by=by if by is not None and by.is_authenticated else None,
        )
        CreditNoteLine.objects.bulk_create(
            [
                CreditNoteLine(
                    company=company,
                    credit_note=credit_note,
                    invoice_line=entry.line,
                    line_no=index,
                    quantity=quantity,
                    net=credited.net,
                    tax=credited.tax,
                    total=credited.total,
                )
                for index, (entry, quantity, credited) in enumerate(amounts, start=1)
            ]
        )
        entry = journal_entry_create(
            company=company,
            date=credit_date,
            lines=document_entry_lines(
                company=company,
                currency=locked.currency,
                rate=rate,
                lines=revenue_lines + tax_lines,
                receivable=PostingLine(
                    locked.receivables_account,
                    CREDIT,
                    total,
                    f"{locked.customer.name}: {number} for {locked.number}",
                ),
                target_base=relief,
                rounding_description=f"{number}: currency rounding",
            ),
            by=by,
            description=f"Credit note {number} for {locked.number} – {locked.customer.name}",
            reference=number,
            source=EntrySource.SALES,
            post=True,
        )
        CreditNote.objects.filter(pk=credit_note.pk).update(journal_entry=entry)
        credit_note.journal_entry = entry
        invoice_state_refresh(locked)
        sales_summary_add(
            company_id=company.pk,
            date=credit_date,
            credit_note_count=1,
            credited_net=credit_note.subtotal_base,
            credited_tax=credit_note.tax_total_base,
        )
        audit_record(
            action="create",
            company=company,
            obj=credit_note,
            actor=by,
            changes=diff(
                None,
                {
                    "invoice": locked.pk,
                    "number": number,
                    "date": credit_date,
                    "total": format_amount(total, locked.currency),
                    "journal_entry": entry.pk,
                    "lines": [
                        {
                            "invoice_line": e.line.pk,
                            "quantity": json_value(q.normalize()),
                            "total": format_amount(c.total, locked.currency),
                        }
                        for e, q, c in amounts
                    ],
                },
            ),
            metadata={"invoice_status": locked.status, "journal_number": entry.number},
        )
    return credit_note
