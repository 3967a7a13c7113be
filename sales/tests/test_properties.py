"""Property test: whatever sequence of issue, pay, allocate, unallocate, credit and void is tried
(in any date order, in two currencies), the books and the sales ledger agree:

- the receivables control account equals the open invoices less the unapplied customer credit,
  now and as of every past date (AR aging as of a date = the ledger's balance that date);
- each invoice's open amount as of every date is what a replay of its accepted documents dated
  up to then gives, and never negative; each payment's unallocated amount likewise;
- a refused operation writes nothing;
- the stored daily sales summary equals the one recomputed from the documents.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.balance_queries import account_totals
from sales import services
from sales.models import Invoice, Payment
from sales.reports import ar_aging, ar_open_items, payments_unallocated_on
from sales.tests.factories import eur_rate, sales_books, written
from sofinance.errors import APIError

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 1, 1)
HYPOTHESIS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

offsets = st.integers(0, 75)
cents = st.integers(1, 50_000)
pick = st.integers(0, 1000)

operations = st.one_of(
    st.tuples(
        st.just("issue"), st.integers(0, 2), offsets, st.lists(cents, min_size=1, max_size=3), st.booleans()
    ),
    st.tuples(
        st.just("pay"),
        st.integers(0, 2),
        offsets,
        cents,
        st.sampled_from(["1.05", "1.10", "1.2345"]),
        pick,
        cents,
    ),
    st.tuples(st.just("allocate"), pick, pick, cents, st.one_of(st.none(), offsets)),
    st.tuples(st.just("unallocate"), pick, offsets),
    st.tuples(st.just("credit"), pick, offsets, st.booleans()),
    st.tuples(st.just("void"), pick, st.one_of(st.none(), offsets)),
    st.tuples(st.just("void_payment"), pick, st.one_of(st.none(), offsets)),
)


def on(offset: int) -> datetime.date:
    return START + datetime.timedelta(days=offset)


def amount(value: int) -> Decimal:
    return Decimal(value) / 100


class Replay:
    """What the accepted documents say, kept by the test independently of the services."""

    def __init__(self) -> None:
        self.invoices: dict[int, list[tuple[datetime.date, Decimal]]] = defaultdict(list)
        self.payments: dict[int, list[tuple[datetime.date, Decimal]]] = defaultdict(list)

    def open_invoice(self, pk: int, day: datetime.date) -> Decimal:
        return sum((value for date, value in self.invoices[pk] if date <= day), Decimal(0))

    def unallocated(self, pk: int, day: datetime.date) -> Decimal:
        return sum((value for date, value in self.payments[pk] if date <= day), Decimal(0))

    def dates(self) -> set[datetime.date]:
        found = {d for steps in (*self.invoices.values(), *self.payments.values()) for d, _ in steps}
        return (
            found
            | {d - datetime.timedelta(days=1) for d in found}
            | {d + datetime.timedelta(days=95) for d in found}
        )


def run(books, replay: Replay, op) -> None:
    company = books.company
    customers = [books.acme, books.globex, books.euro]
    invoices = list(Invoice.objects.filter(company=company).order_by("pk"))
    payments = list(Payment.objects.filter(company=company).order_by("pk"))
    kind = op[0]
    if kind == "issue":
        _, who, offset, values, taxed = op
        customer = customers[who]
        lines = [
            {
                "description": f"Line {n}",
                "quantity": "1",
                "unit_price": str(amount(v)),
                "tax_rate": books.standard.pk if taxed and n == 0 else None,
                "account": "4000" if n % 2 == 0 else "4100",
            }
            for n, v in enumerate(values)
        ]
        invoice = services.invoice_create(
            company=company, customer=customer, date=on(offset), lines=lines, by=None, issue=True
        )
        replay.invoices[invoice.pk].append((invoice.date, invoice.total))
    elif kind == "pay":
        _, who, offset, value, rate, target, share = op
        customer = customers[who]
        candidates = [
            i for i in invoices if i.customer_id == customer.pk and i.amount_due > 0 and i.date <= on(offset)
        ]
        allocations = []
        if candidates and share % 3:
            invoice = candidates[target % len(candidates)]
            allocations = [
                {"invoice": invoice.pk, "amount": str(min(invoice.amount_due, amount(value), amount(share)))}
            ]
        payment = services.payment_record(
            company=company,
            customer=customer,
            date=on(offset),
            amount=str(amount(value)),
            fx_rate=rate if customer.currency == "EUR" else None,
            by=None,
            allocations=allocations,
        )
        replay.payments[payment.pk].append((payment.date, payment.amount))
        for allocation in payment.allocations.all():
            replay.payments[payment.pk].append((allocation.date, -allocation.amount))
            replay.invoices[allocation.invoice_id].append((allocation.date, -allocation.amount))
    elif kind == "allocate":
        _, p, i, value, offset = op
        if not payments or not invoices:
            return
        payment, invoice = payments[p % len(payments)], invoices[i % len(invoices)]
        created = services.payment_allocate(
            payment=payment,
            allocations=[{"invoice": invoice.pk, "amount": str(amount(value))}],
            by=None,
            date=None if offset is None else on(offset),
        )
        for allocation in created:
            replay.payments[payment.pk].append((allocation.date, -allocation.amount))
            replay.invoices[invoice.pk].append((allocation.date, -allocation.amount))
    elif kind == "unallocate":
        _, a, offset = op
        from sales.models import Allocation

        active = list(Allocation.objects.filter(company=company, unallocated_on__isnull=True).order_by("pk"))
        if not active:
            return
        allocation = services.allocation_remove(allocation=active[a % len(active)], by=None, date=on(offset))
        replay.payments[allocation.payment_id].append((allocation.unallocated_on, allocation.amount))
        replay.invoices[allocation.invoice_id].append((allocation.unallocated_on, allocation.amount))
    elif kind == "credit":
        _, i, offset, whole = op
        if not invoices:
            return
        invoice = invoices[i % len(invoices)]
        first = invoice.lines.order_by("line_no").first()
        lines = None if whole else [{"invoice_line": first.pk, "quantity": "1"}]
        credit = services.credit_note_create(invoice=invoice, by=None, date=on(offset), lines=lines)
        replay.invoices[invoice.pk].append((credit.date, -credit.total))
    elif kind == "void":
        _, i, offset = op
        if not invoices:
            return
        invoice = services.invoice_void(
            invoice=invoices[i % len(invoices)], by=None, date=None if offset is None else on(offset)
        )
        replay.invoices[invoice.pk].append((invoice.voided_on, -invoice.total))
    elif kind == "void_payment":
        _, p, offset = op
        if not payments:
            return
        payment = services.payment_void(
            payment=payments[p % len(payments)], by=None, date=None if offset is None else on(offset)
        )
        replay.payments[payment.pk].append((payment.voided_on, -payment.amount))


def receivables(books, day: datetime.date) -> Decimal:
    totals = account_totals(company_id=books.company.pk, end=day)
    found = totals.get(books.account("1100").pk)
    return found.balance if found else Decimal(0)


@HYPOTHESIS
@given(ops=st.lists(operations, min_size=3, max_size=12))
def test_receivables_and_aging_agree_with_the_documents_on_every_date(ops):
    books = sales_books()
    eur_rate(books, "2025-12-01", "1.10")
    eur_rate(books, "2026-02-01", "0.9871")
    replay = Replay()
    refused = 0
    for op in ops:
        before = written(books.company)
        try:
            run(books, replay, op)
        except APIError:
            refused += 1
            assert written(books.company) == before, f"{op} was refused but wrote something"

    for day in sorted(replay.dates() | {datetime.date(2099, 12, 31)}):
        aging = ar_aging(company=books.company, as_of=day)
        # the control account equals open invoices less unapplied credit, as of that day
        assert aging.totals.total == receivables(books, day), day
        # each invoice's open amount is the replay's (none over-paid or over-credited, ever)
        shown = {
            item.invoice_id: item.open_amount for item in ar_open_items(company=books.company, as_of=day)
        }
        for pk in replay.invoices:
            expected = replay.open_invoice(pk, day)
            assert expected >= 0, (pk, day)
            assert shown.get(pk, Decimal(0)) == expected, (pk, day)
        unallocated = {
            p.pk: p.unallocated_amount for p in payments_unallocated_on(company=books.company, as_of=day)
        }
        for pk in replay.payments:
            expected = replay.unallocated(pk, day)
            assert expected >= 0, (pk, day)
            assert unallocated.get(pk, Decimal(0)) == expected, (pk, day)

    # the stored state agrees with the replay now
    for invoice in Invoice.objects.filter(company=books.company):
        assert invoice.amount_due == replay.open_invoice(invoice.pk, datetime.date(2099, 12, 31))
    summary = services.sales_summary_rebuild(
        company=books.company,
        date_from=datetime.date(2025, 1, 1),
        date_to=datetime.date(2027, 12, 31),
        apply=False,
    )
    assert summary.differences == []
