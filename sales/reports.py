"""Sales reports (selectors): AR aging, open items, customer statement, sales summary.

AR aging and open items as of a date read each document's history up to that date: an invoice
is open from its date by its total, less the credit notes dated on or before, less the
allocations active then (allocated on or before, not unallocated by then), until it is voided;
a payment's unallocated amount works the same way. Amounts are in the company's functional
currency, exactly as the receivables account carries them, so the aging total as of any date
equals the receivables balance the ledger shows for that date. Documents settled before the
date (`settled_on`, `exhausted_on`) are skipped through an index, so the report costs what the
open documents cost, not the whole history.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth

from accounts.models import Company
from sales.amounts import round_money
from sales.models import (
    Allocation,
    CreditNote,
    CreditNoteLine,
    Customer,
    DailySalesSummary,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Item,
    Payment,
    TaxRate,
)
from sofinance.db_router import read_connection
from sofinance.money import convert, money_from_sum

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=22, decimal_places=4)
BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")


def money(value, currency: str) -> Decimal:
    """An amount read back from an aggregate, exact at the currency's places (SQLite sums in
    floating point; every amount summed here has at most the currency's places)."""
    return round_money(money_from_sum(value), currency)


@dataclass(frozen=True)
class CustomerRef:
    id: int
    name: str


# --------------------------------------------------------------------------- open documents as of a date


def _sum_subquery(queryset: QuerySet, field: str, group: str) -> Coalesce:
    summed = queryset.order_by().values(group).annotate(s=Sum(field)).values("s")
    return Coalesce(Subquery(summed, output_field=MONEY), Value(ZERO), output_field=MONEY)


def _active_allocations(as_of: datetime.date, **outer) -> QuerySet[Allocation]:
    return Allocation.objects.filter(date__lte=as_of, **outer).filter(
        Q(unallocated_on__isnull=True) | Q(unallocated_on__gt=as_of)
    )


def invoices_open_on(
    *, company: Company, as_of: datetime.date, customer: Customer | None = None, own_currency: bool = True
) -> QuerySet[Invoice]:
    """Invoices open at the end of `as_of`, annotated with `open_base` (functional currency) and,
    with `own_currency`, `open_amount` (their currency); a row may carry zero where history nets
    out exactly then."""
    invoices = Invoice.objects.filter(company=company, date__lte=as_of).exclude(status=InvoiceStatus.DRAFT)
    invoices = invoices.filter(Q(settled_on__isnull=True) | Q(settled_on__gt=as_of))
    if customer is not None:
        invoices = invoices.filter(customer=customer)
    credited = CreditNote.objects.filter(invoice=OuterRef("pk"), date__lte=as_of)
    allocated = _active_allocations(as_of, invoice=OuterRef("pk"))
    # As of the last date its history moves it (or later), an invoice holds what it holds now;
    # only earlier dates read its credit notes and allocations (CASE runs the subqueries lazily).
    current = Q(last_event_on__lte=as_of)
    invoices = invoices.annotate(
        open_base=Case(
            When(current, then=F("balance_base")),
            default=F("total_base")
            - _sum_subquery(credited, "total_base", "invoice")
            - _sum_subquery(allocated, "invoice_base", "invoice"),
            output_field=MONEY,
        )
    )
    if own_currency:
        invoices = invoices.annotate(
            open_amount=Case(
                When(current, then=F("total") - F("amount_credited") - F("amount_paid")),
                default=F("total")
                - _sum_subquery(credited, "total", "invoice")
                - _sum_subquery(allocated, "amount", "invoice"),
                output_field=MONEY,
            )
        )
    return invoices


def payments_unallocated_on(
    *, company: Company, as_of: datetime.date, customer: Customer | None = None
) -> QuerySet[Payment]:
    """Payments with something unallocated at the end of `as_of`, annotated with
    `unallocated_amount` (their currency) and `unallocated_base_then` (functional currency)."""
    payments = Payment.objects.filter(company=company, date__lte=as_of).filter(
        Q(exhausted_on__isnull=True) | Q(exhausted_on__gt=as_of)
    )
    if customer is not None:
        payments = payments.filter(customer=customer)
    allocated = _active_allocations(as_of, payment=OuterRef("pk"))
    current = Q(last_event_on__lte=as_of)
    return payments.annotate(
        unallocated_amount=Case(
            When(current, then=F("amount") - F("amount_allocated")),
            default=F("amount") - _sum_subquery(allocated, "amount", "payment"),
            output_field=MONEY,
        ),
        unallocated_base_then=Case(
            When(current, then=F("unallocated_base")),
            default=F("amount_base") - _sum_subquery(allocated, "payment_base", "payment"),
            output_field=MONEY,
        ),
    )


# --------------------------------------------------------------------------- AR aging


@dataclass(frozen=True)
class AgingRow:
    customer: CustomerRef | None  # None on the totals row
    current: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_over_90: Decimal
    unapplied_credit: Decimal

    @property
    def total(self) -> Decimal:
        """What the customer owes: the open invoices less the unapplied credit."""
        return (
            self.current
            + self.days_1_30
            + self.days_31_60
            + self.days_61_90
            + self.days_over_90
            - self.unapplied_credit
        )


@dataclass(frozen=True)
class ArAging:
    as_of: datetime.date
    currency: str
    rows: list[AgingRow]
    totals: AgingRow


def _bucket_sums(company: Company, as_of: datetime.date) -> list[dict]:
    """[{customer_id, bucket (index in BUCKETS), total}] of the invoices open at `as_of`.

    Days past due = as_of - due_date (0 or less is current). Each invoice's open amount appears
    once in the query (grouped by customer and bucket), so its subqueries run once per invoice.
    """
    edges = [as_of - datetime.timedelta(days=n) for n in (0, 30, 60, 90)]
    bucket = Case(
        *(When(due_date__gte=edge, then=Value(index)) for index, edge in enumerate(edges)),
        default=Value(len(edges)),
        output_field=IntegerField(),
    )
    return list(
        invoices_open_on(company=company, as_of=as_of, own_currency=False)
        .annotate(bucket=bucket)
        .order_by()
        .values("customer_id", "bucket")
        .annotate(total=Sum("open_base"))
    )


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL JIT-compiles plans it costs high; the aging's are many cheap index lookups, and
    compiling them cost more than it saved (about 40 ms of 120 at 20,000 open invoices). Off for
    the report's own transaction only."""
    reader = read_connection()  # the database this request's reads use (a replica, maybe)
    if reader.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=reader.alias):
        with reader.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def ar_aging(*, company: Company, as_of: datetime.date) -> ArAging:
    """Receivables as of the end of `as_of`, per customer and in total, by days past due."""
    with _without_jit():
        return _ar_aging(company=company, as_of=as_of)


def _ar_aging(*, company: Company, as_of: datetime.date) -> ArAging:
    per_customer: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys((*BUCKETS, "unapplied_credit"), ZERO)
    )
    currency = company.currency
    for row in _bucket_sums(company, as_of):
        per_customer[row["customer_id"]][BUCKETS[row["bucket"]]] = money(row["total"], currency)
    credits = (
        payments_unallocated_on(company=company, as_of=as_of)
        .order_by()
        .values("customer_id")
        .annotate(credit=Sum("unallocated_base_then"))
    )
    for row in credits:
        per_customer[row["customer_id"]]["unapplied_credit"] = money(row["credit"], currency)
    names = dict(Customer.objects.filter(pk__in=per_customer).values_list("pk", "name"))
    rows = [
        AgingRow(customer=CustomerRef(pk, names[pk]), **amounts)
        for pk, amounts in per_customer.items()
        if any(amounts.values())
    ]
    rows.sort(key=lambda r: (r.customer.name.lower(), r.customer.id))
    totals = AgingRow(
        customer=None,
        **{name: sum((getattr(r, name) for r in rows), ZERO) for name in (*BUCKETS, "unapplied_credit")},
    )
    return ArAging(as_of=as_of, currency=company.currency, rows=rows, totals=totals)


@dataclass(frozen=True)
class OpenItem:
    invoice_id: int
    number: str
    customer: CustomerRef
    date: datetime.date
    due_date: datetime.date
    currency: str
    open_amount: Decimal  # in the invoice's currency
    open_base: Decimal  # in the company's currency
    days_past_due: int


def ar_open_items(
    *, company: Company, as_of: datetime.date, customer: Customer | None = None
) -> list[OpenItem]:
    """The invoices behind the aging: each with what it had open as of `as_of`."""
    rows = (
        invoices_open_on(company=company, as_of=as_of, customer=customer)
        .select_related("customer")
        .order_by("due_date", "id")
    )
    return [
        OpenItem(
            invoice_id=invoice.pk,
            number=invoice.number,
            customer=CustomerRef(invoice.customer_id, invoice.customer.name),
            date=invoice.date,
            due_date=invoice.due_date,
            currency=invoice.currency,
            open_amount=money(invoice.open_amount, invoice.currency),
            open_base=money(invoice.open_base, company.currency),
            days_past_due=max(0, (as_of - invoice.due_date).days),
        )
        for invoice in rows
        if money(invoice.open_amount, invoice.currency) or money(invoice.open_base, company.currency)
    ]


# --------------------------------------------------------------------------- customer statement


class StatementKind:
    INVOICE = "invoice"
    INVOICE_VOID = "invoice_void"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    PAYMENT_VOID = "payment_void"

    LABELS = {  # as a statement's reader calls them (the API and CSV keep the codes)
        INVOICE: "Invoice",
        INVOICE_VOID: "Invoice voided",
        CREDIT_NOTE: "Credit note",
        PAYMENT: "Payment",
        PAYMENT_VOID: "Payment voided",
    }


_KIND_ORDER = {
    StatementKind.INVOICE: 0,
    StatementKind.CREDIT_NOTE: 1,
    StatementKind.PAYMENT: 2,
    StatementKind.INVOICE_VOID: 3,
    StatementKind.PAYMENT_VOID: 4,
}


@dataclass(frozen=True)
class StatementLine:
    date: datetime.date
    kind: str
    number: str
    reference: str
    description: str
    debit: Decimal  # raises what the customer owes
    credit: Decimal  # lowers it
    balance: Decimal  # running, from the opening balance
    document_id: int


@dataclass(frozen=True)
class CurrencyBalance:
    currency: str
    closing_balance: Decimal  # what the customer owed in it at the statement's last day


@dataclass(frozen=True)
class CustomerStatement:
    customer: CustomerRef
    currency: str
    date_from: datetime.date
    date_to: datetime.date
    opening_balance: Decimal
    lines: list[StatementLine]
    closing_balance: Decimal
    total_debit: Decimal
    total_credit: Decimal
    # The customer's documents in other currencies (a statement is in one): each currency's
    # balance, so that a customer never reads as owing nothing when they owe in another.
    other_currencies: list[CurrencyBalance]


def _movements(
    company: Company, customer: Customer, currency: str, q_date: dict, q_void: dict
) -> list[tuple]:
    """(date, kind, number, reference, description, debit, credit, id) of the customer's documents."""
    invoices = Invoice.objects.filter(company=company, customer=customer, currency=currency).exclude(
        status=InvoiceStatus.DRAFT
    )
    payments = Payment.objects.filter(company=company, customer=customer, currency=currency)
    credits = CreditNote.objects.filter(company=company, customer=customer, currency=currency)
    moved: list[tuple] = []
    for pk, date, number, reference, due, total in invoices.filter(**q_date).values_list(
        "pk", "date", "number", "reference", "due_date", "total"
    ):
        moved.append(
            (
                date,
                StatementKind.INVOICE,
                number,
                reference,
                f"Invoice, due {due.isoformat()}",
                total,
                ZERO,
                pk,
            )
        )
    for pk, date, number, total in invoices.filter(**q_void).values_list(
        "pk", "voided_on", "number", "total"
    ):
        moved.append((date, StatementKind.INVOICE_VOID, number, "", "Invoice voided", ZERO, total, pk))
    for pk, date, number, invoice_number, reason, total in credits.filter(**q_date).values_list(
        "pk", "date", "number", "invoice__number", "reason", "total"
    ):
        text = f"Credit note for {invoice_number}" + (f": {reason}" if reason else "")
        moved.append((date, StatementKind.CREDIT_NOTE, number, invoice_number, text, ZERO, total, pk))
    for pk, date, number, reference, method, amount in payments.filter(**q_date).values_list(
        "pk", "date", "number", "reference", "method", "amount"
    ):
        text = f"Payment received ({method.replace('_', ' ')})"
        moved.append((date, StatementKind.PAYMENT, number, reference, text, ZERO, amount, pk))
    for pk, date, number, amount in payments.filter(**q_void).values_list(
        "pk", "voided_on", "number", "amount"
    ):
        moved.append((date, StatementKind.PAYMENT_VOID, number, "", "Payment voided", amount, ZERO, pk))
    return moved


def customer_statement(
    *,
    company: Company,
    customer: Customer,
    date_from: datetime.date,
    date_to: datetime.date,
    currency: str | None = None,
) -> CustomerStatement:
    """What the customer owed at the start of the range, every document in it (invoices, credit
    notes, payments, voids) with a running balance, and what they owed at the end, in the
    customer's currency (or `currency`); and what they owed at the end in each other currency
    they have documents in. Allocations only match documents: they move nothing."""
    currency = currency or customer.currency
    before = _movements(company, customer, currency, {"date__lt": date_from}, {"voided_on__lt": date_from})
    opening = sum((m[5] - m[6] for m in before), ZERO)
    within = _movements(
        company,
        customer,
        currency,
        {"date__range": (date_from, date_to)},
        {"voided_on__range": (date_from, date_to)},
    )
    within.sort(key=lambda m: (m[0], _KIND_ORDER[m[1]], m[2]))
    balance = opening
    lines = []
    for date, kind, number, reference, description, debit, credit, pk in within:
        balance += debit - credit
        lines.append(StatementLine(date, kind, number, reference, description, debit, credit, balance, pk))
    others = []
    for other in sorted(_document_currencies(company, customer) - {currency}):
        moved = _movements(company, customer, other, {"date__lte": date_to}, {"voided_on__lte": date_to})
        owed = sum((m[5] - m[6] for m in moved), ZERO)
        if owed:  # owed (or in the customer's credit) at the statement's last day
            others.append(CurrencyBalance(other, owed))
    return CustomerStatement(
        customer=CustomerRef(customer.pk, customer.name),
        currency=currency,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening,
        lines=lines,
        closing_balance=balance,
        total_debit=sum((line.debit for line in lines), ZERO),
        total_credit=sum((line.credit for line in lines), ZERO),
        other_currencies=others,
    )


def _document_currencies(company: Company, customer: Customer) -> set[str]:
    """Every currency the customer has an issued invoice, a credit note or a payment in."""
    found: set[str] = set()
    for documents in (
        Invoice.objects.filter(company=company, customer=customer).exclude(status=InvoiceStatus.DRAFT),
        CreditNote.objects.filter(company=company, customer=customer),
        Payment.objects.filter(company=company, customer=customer),
    ):
        found |= set(documents.values_list("currency", flat=True).distinct())
    return found


# --------------------------------------------------------------------------- sales summary


class SummaryGrouping:
    DAY = "day"
    MONTH = "month"
    CUSTOMER = "customer"
    ITEM = "item"
    TAX_RATE = "tax_rate"
    CHOICES = (DAY, MONTH, CUSTOMER, ITEM, TAX_RATE)


@dataclass(frozen=True)
class SalesSummaryRow:
    key: str  # the day or month (YYYY-MM-DD / YYYY-MM), the customer's, item's or tax rate's id ("" for none)
    label: str
    invoice_count: int
    credit_note_count: int
    void_count: int
    net: Decimal  # invoiced - credited - voided, before tax
    tax: Decimal
    quantity: Decimal | None = None  # items only

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class SalesSummary:
    date_from: datetime.date
    date_to: datetime.date
    currency: str
    group_by: str
    rows: list[SalesSummaryRow]
    totals: SalesSummaryRow


def _from_daily(
    company: Company, date_from: datetime.date, date_to: datetime.date, monthly: bool
) -> list[SalesSummaryRow]:
    days = DailySalesSummary.objects.filter(company=company, date__range=(date_from, date_to))
    period = TruncMonth("date") if monthly else F("date")
    grouped = (
        days.annotate(period=period)
        .order_by()
        .values("period")
        .annotate(
            invoices=Sum("invoice_count"),
            credits=Sum("credit_note_count"),
            voids=Sum("void_count"),
            net=Sum(F("invoiced_net") - F("credited_net") - F("voided_net"), output_field=MONEY),
            tax=Sum(F("invoiced_tax") - F("credited_tax") - F("voided_tax"), output_field=MONEY),
        )
        .order_by("period")
    )
    rows = []
    for row in grouped:
        period = row["period"]
        if isinstance(period, datetime.datetime):
            period = period.date()
        key = period.strftime("%Y-%m") if monthly else period.isoformat()
        rows.append(
            SalesSummaryRow(
                key=key,
                label=key,
                invoice_count=row["invoices"],
                credit_note_count=row["credits"],
                void_count=row["voids"],
                net=money(row["net"], company.currency),
                tax=money(row["tax"], company.currency),
            )
        )
    return rows


@dataclass
class _Tally:
    invoices: int = 0
    credits: int = 0
    voids: int = 0
    net: Decimal = ZERO
    tax: Decimal = ZERO
    quantity: Decimal = ZERO


def _by_customer(company: Company, date_from: datetime.date, date_to: datetime.date) -> list[SalesSummaryRow]:
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    issued = Invoice.objects.filter(company=company).exclude(status=InvoiceStatus.DRAFT)
    sums = {"n": Count("id"), "net": Sum("subtotal_base"), "tax": Sum("tax_total_base")}
    for row in (
        issued.filter(date__range=(date_from, date_to)).order_by().values("customer_id").annotate(**sums)
    ):
        tally = tallies[row["customer_id"]]
        tally.invoices, tally.net, tally.tax = row["n"], tally.net + row["net"], tally.tax + row["tax"]
    for row in (
        issued.filter(voided_on__range=(date_from, date_to)).order_by().values("customer_id").annotate(**sums)
    ):
        tally = tallies[row["customer_id"]]
        tally.voids, tally.net, tally.tax = row["n"], tally.net - row["net"], tally.tax - row["tax"]
    credits = CreditNote.objects.filter(company=company, date__range=(date_from, date_to))
    for row in credits.order_by().values("customer_id").annotate(**sums):
        tally = tallies[row["customer_id"]]
        tally.credits, tally.net, tally.tax = row["n"], tally.net - row["net"], tally.tax - row["tax"]
    names = dict(Customer.objects.filter(pk__in=tallies).values_list("pk", "name"))
    rows = [
        SalesSummaryRow(
            str(pk),
            names[pk],
            t.invoices,
            t.credits,
            t.voids,
            money(t.net, company.currency),
            money(t.tax, company.currency),
        )
        for pk, t in tallies.items()
    ]
    return sorted(rows, key=lambda r: (r.label.lower(), int(r.key)))


def _by_item(company: Company, date_from: datetime.date, date_to: datetime.date) -> list[SalesSummaryRow]:
    """Per item, each line converted at its invoice's rate (rounded once per item and kind)."""
    tallies: dict[int | None, _Tally] = defaultdict(_Tally)
    converted = {
        "n": Count("invoice_id", distinct=True),
        "quantity": Sum("quantity"),
        "net": Sum(F("net") * F("invoice__fx_rate"), output_field=MONEY),
        "tax": Sum(F("tax") * F("invoice__fx_rate"), output_field=MONEY),
    }
    lines = InvoiceLine.objects.filter(company=company).exclude(invoice__status=InvoiceStatus.DRAFT)
    currency = company.currency

    def in_currency(value) -> Decimal:
        return money(value, currency)

    for row in (
        lines.filter(invoice__date__range=(date_from, date_to))
        .order_by()
        .values("item_id")
        .annotate(**converted)
    ):
        tally = tallies[row["item_id"]]
        tally.invoices = row["n"]
        tally.quantity += row["quantity"]
        tally.net += in_currency(row["net"])
        tally.tax += in_currency(row["tax"])
    for row in (
        lines.filter(invoice__voided_on__range=(date_from, date_to))
        .order_by()
        .values("item_id")
        .annotate(**converted)
    ):
        tally = tallies[row["item_id"]]
        tally.voids = row["n"]
        tally.quantity -= row["quantity"]
        tally.net -= in_currency(row["net"])
        tally.tax -= in_currency(row["tax"])
    credit_lines = CreditNoteLine.objects.filter(
        company=company, credit_note__date__range=(date_from, date_to)
    )
    for row in (
        credit_lines.order_by()
        .values("invoice_line__item_id")
        .annotate(
            n=Count("credit_note_id", distinct=True),
            quantity=Sum("quantity"),
            net=Sum(F("net") * F("credit_note__fx_rate"), output_field=MONEY),
            tax=Sum(F("tax") * F("credit_note__fx_rate"), output_field=MONEY),
        )
    ):
        tally = tallies[row["invoice_line__item_id"]]
        tally.credits = row["n"]
        tally.quantity -= row["quantity"]
        tally.net -= in_currency(row["net"])
        tally.tax -= in_currency(row["tax"])
    names = dict(
        Item.objects.filter(pk__in=[pk for pk in tallies if pk is not None]).values_list("pk", "name")
    )
    rows = [
        SalesSummaryRow(
            "" if pk is None else str(pk),
            "(lines without an item)" if pk is None else names[pk],
            t.invoices,
            t.credits,
            t.voids,
            t.net,
            t.tax,
            quantity=t.quantity,
        )
        for pk, t in tallies.items()
    ]
    return sorted(rows, key=lambda r: (r.key == "", r.label.lower(), r.key))


def _by_tax_rate(company: Company, date_from: datetime.date, date_to: datetime.date) -> list[SalesSummaryRow]:
    """Per tax rate: what a sales tax (VAT) return asks, the taxable sales and the tax on them.

    A document's lines at one rate are summed in its currency and converted once at its rate,
    as its posting converts them: a rate's tax is exactly what the documents credited to its
    account. (Its net is converted per document and rate, where the posting converts per revenue
    account: in a foreign currency it may differ from the other groupings' net by a cent a
    document.)"""
    currency = company.currency
    tallies: dict[int | None, _Tally] = defaultdict(_Tally)

    def add(rows, *, sign: int, kind: str) -> None:
        counted: dict[int | None, set[int]] = defaultdict(set)
        for row in rows:
            rate = row["document_rate"] if currency != row["document_currency"] else Decimal(1)
            doc_currency = row["document_currency"]
            tally = tallies[row["rate_id"]]
            tally.net += sign * convert(money(row["net"], doc_currency), rate, currency)
            tally.tax += sign * convert(money(row["tax"], doc_currency), rate, currency)
            counted[row["rate_id"]].add(row["document_id"])
        for rate_id, documents in counted.items():
            setattr(tallies[rate_id], kind, getattr(tallies[rate_id], kind) + len(documents))

    def per_document(queryset, document: str, rate_path: str):
        return (
            queryset.order_by()
            .values(
                document_id=F(f"{document}_id"),
                document_rate=F(f"{document}__fx_rate"),
                document_currency=F(f"{document}__currency"),
                rate_id=F(rate_path),
            )
            .annotate(net=Sum("net"), tax=Sum("tax"))
        )

    lines = InvoiceLine.objects.filter(company=company).exclude(invoice__status=InvoiceStatus.DRAFT)
    add(per_document(lines.filter(invoice__date__range=(date_from, date_to)), "invoice", "tax_rate_id"),
        sign=1, kind="invoices")  # fmt: skip
    add(per_document(lines.filter(invoice__voided_on__range=(date_from, date_to)), "invoice", "tax_rate_id"),
        sign=-1, kind="voids")  # fmt: skip
    credit_lines = CreditNoteLine.objects.filter(
        company=company, credit_note__date__range=(date_from, date_to)
    )
    add(per_document(credit_lines, "credit_note", "invoice_line__tax_rate_id"), sign=-1, kind="credits")
    rates = {rate.pk: rate for rate in TaxRate.objects.filter(pk__in=[pk for pk in tallies if pk])}
    rows = [
        SalesSummaryRow(
            "" if pk is None else str(pk),
            "(lines without a tax rate)" if pk is None else str(rates[pk]),
            t.invoices,
            t.credits,
            t.voids,
            t.net,
            t.tax,
        )
        for pk, t in tallies.items()
    ]

    def order(row: SalesSummaryRow) -> tuple:  # the highest rate first, as a return lists them
        rate = rates.get(int(row.key)) if row.key else None
        return (rate is None, -(rate.rate if rate else ZERO), row.label.lower(), row.key)

    return sorted(rows, key=order)


def _document_counts(
    company: Company, date_from: datetime.date, date_to: datetime.date
) -> tuple[int, int, int]:
    """How many invoices are dated in the range, credit notes dated in it, invoices voided in it."""
    issued = Invoice.objects.filter(company=company).exclude(status=InvoiceStatus.DRAFT)
    return (
        issued.filter(date__range=(date_from, date_to)).count(),
        CreditNote.objects.filter(company=company, date__range=(date_from, date_to)).count(),
        issued.filter(voided_on__range=(date_from, date_to)).count(),
    )


def sales_summary(
    *, company: Company, date_from: datetime.date, date_to: datetime.date, group_by: str = SummaryGrouping.DAY
) -> SalesSummary:
    """Net sales (invoiced, less credited and voided) and tax over a range, in the functional
    currency, by day or month (from the stored daily summary) or by customer, item or tax rate
    (from the documents). Invoices count on their date, credit notes on theirs, voids on the
    void date."""
    if group_by in (SummaryGrouping.DAY, SummaryGrouping.MONTH):
        rows = _from_daily(company, date_from, date_to, monthly=group_by == SummaryGrouping.MONTH)
    elif group_by == SummaryGrouping.CUSTOMER:
        rows = _by_customer(company, date_from, date_to)
    elif group_by == SummaryGrouping.TAX_RATE:
        rows = _by_tax_rate(company, date_from, date_to)
    else:
        rows = _by_item(company, date_from, date_to)
    counts = (
        (
            sum(r.invoice_count for r in rows),
            sum(r.credit_note_count for r in rows),
            sum(r.void_count for r in rows),
        )
        if group_by in (SummaryGrouping.DAY, SummaryGrouping.MONTH, SummaryGrouping.CUSTOMER)
        # A document with lines of several items or rates is on several rows: counted once here.
        else _document_counts(company, date_from, date_to)
    )
    totals = SalesSummaryRow(
        key="",
        label="Total",
        invoice_count=counts[0],
        credit_note_count=counts[1],
        void_count=counts[2],
        net=sum((r.net for r in rows), ZERO),
        tax=sum((r.tax for r in rows), ZERO),
        quantity=None,
    )
    return SalesSummary(date_from, date_to, company.currency, group_by, rows, totals)


def sales_status_counts(*, company: Company) -> dict[str, int]:
    """How many invoices the company has in each status (for dashboards and the admin)."""
    counts = dict.fromkeys(InvoiceStatus.values, 0)
    for status, n in (
        Invoice.objects.filter(company=company).order_by().values_list("status").annotate(n=Count("id"))
    ):
        counts[status] = n
    return counts
