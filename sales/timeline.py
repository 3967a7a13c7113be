"""What a document had open on any date: its history as dated steps.

An invoice's open amount starts at its total on its date; credit notes and allocations reduce it
from their dates, an unallocation restores it from its date, a void ends it. A payment's
unallocated amount works the same way. Each step also carries the functional-currency amount it
moved in the books, so the carrying amount as of a date is what the receivables account holds
for the document then.

Two rules follow:
- A new reduction dated `d` must leave the document non-negative on `d` and on every later date
  that has an event (`first_shortfall`); so no report as of any date ever shows an over-paid or
  over-credited invoice, whatever order documents are entered in.
- `settled_from` is the first date from which nothing is open any more (document and functional
  amounts both zero, for good); reports as of a later date skip the document.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Step:
    date: datetime.date
    amount: Decimal  # change of the open amount, in the document's currency
    base: Decimal  # change of the carrying amount, in the functional currency


def open_at(steps: Iterable[Step], day: datetime.date) -> tuple[Decimal, Decimal]:
    """(open amount, carrying amount) at the end of `day`."""
    amount = base = ZERO
    for step in steps:
        if step.date <= day:
            amount += step.amount
            base += step.base
    return amount, base


def first_shortfall(steps: Sequence[Step], new: Step) -> datetime.date | None:
    """The first date on or after `new.date` on which adding `new` leaves a negative open amount."""
    combined = [*steps, new]
    for day in sorted({s.date for s in combined if s.date >= new.date}):
        if open_at(combined, day)[0] < 0:
            return day
    return None


def settled_from(steps: Sequence[Step]) -> datetime.date | None:
    """The first date from which the open and carrying amounts stay zero; None while open."""
    days = sorted({s.date for s in steps})
    settled: datetime.date | None = None
    for day in reversed(days):
        if open_at(steps, day) != (ZERO, ZERO):
            break
        settled = day
    return settled


def invoice_steps(invoice, credit_notes: Iterable, allocations: Iterable) -> list[Step]:
    """The dated history of an issued invoice (see the module docstring)."""
    steps = [Step(invoice.date, invoice.total, invoice.total_base)]
    steps += [Step(cn.date, -cn.total, -cn.total_base) for cn in credit_notes]
    for allocation in allocations:
        steps.append(Step(allocation.date, -allocation.amount, -allocation.invoice_base))
        if allocation.unallocated_on is not None:
            steps.append(Step(allocation.unallocated_on, allocation.amount, allocation.invoice_base))
    if invoice.voided_on is not None:
        steps.append(Step(invoice.voided_on, -invoice.total, -invoice.total_base))
    return steps


def payment_steps(payment, allocations: Iterable) -> list[Step]:
    """The dated history of a payment's unallocated amount."""
    steps = [Step(payment.date, payment.amount, payment.amount_base)]
    for allocation in allocations:
        steps.append(Step(allocation.date, -allocation.amount, -allocation.payment_base))
        if allocation.unallocated_on is not None:
            steps.append(Step(allocation.unallocated_on, allocation.amount, allocation.payment_base))
    if payment.voided_on is not None:
        steps.append(Step(payment.voided_on, -payment.amount, -payment.amount_base))
    return steps


def last_event_date(steps: Iterable[Step]) -> datetime.date:
    return max(s.date for s in steps)
