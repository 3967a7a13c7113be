"""The demo company's sales ledger, consistent with its books.

`sales_demo_create` runs the ledger's demo months (ledger.demo.demo_entries_create) with the
credit sales and their receipts booked as real invoices and payments (DemoCreditSales), so the
receivables account equals the AR aging; then it adds what a few months of a small trading
company's sales ledger also hold: a partly paid service invoice now overdue, a credit note for
damaged goods, an invoice issued to the wrong customer and voided, a customer's deposit held as
credit and later allocated, an export customer invoiced and paid in euros at another rate (the
realised exchange gain), and a draft. Everything posts through the services; deterministic for
a given "today".
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from accounts.models import Company, User
from ledger.demo import CUSTOMERS, TAX_RATE, add_months, demo_entries_create
from ledger.services import exchange_rate_set
from sales import services
from sales.models import CreditNote, Customer, Invoice, Item, Payment, TaxRate

EXPORT_CUSTOMER = "Bergmann Handels GmbH"


Step = tuple[datetime.date, Callable[[], object]]


@dataclass
class DemoCreditSales:
    """The ledger demo's credit sales as invoices (one line, sales tax) and receipts as payments.

    `extras` are the demo's other sales documents, each a dated step: before each credit sale
    or receipt, the steps dated earlier run first, so every document is made in date order and
    invoice numbers follow the dates, as an accountant would issue them.
    """

    company: Company
    by: User | None
    tax_rate: TaxRate
    customers: dict[str, Customer]
    extras: list[Step] = field(default_factory=list)
    invoices: dict[str, Invoice] = field(default_factory=dict)

    def catch_up(self, date: datetime.date | None = None) -> None:
        self.extras.sort(key=lambda step: step[0])
        while self.extras and (date is None or self.extras[0][0] < date):
            _, make = self.extras.pop(0)
            make()

    def invoice(self, *, date: datetime.date, customer: str, net: Decimal, reference: str) -> None:
        self.catch_up(date)
        self.invoices[reference] = services.invoice_create(
            company=self.company,
            customer=self.customers[customer],
            date=date,
            lines=[
                {
                    "description": "Goods as per order",
                    "quantity": "1",
                    "unit_price": net,
                    "tax_rate": self.tax_rate.pk,
                    "account": "4000",
                }
            ],
            by=self.by,
            issue=True,
        )

    def receipt(self, *, date: datetime.date, reference: str) -> None:
        self.catch_up(date)
        invoice = self.invoices[reference]
        services.payment_record(
            company=self.company,
            customer=invoice.customer,
            date=date,
            amount=invoice.total,
            reference=f"Transfer {invoice.number}",
            allocations=[{"invoice": invoice.pk, "amount": invoice.total}],
            by=self.by,
        )


@dataclass(frozen=True)
class SalesDemo:
    journal_entries: int
    invoices: int
    payments: int
    credit_notes: int


def _master_data(
    company: Company, by: User | None
) -> tuple[dict[str, Customer], dict[str, TaxRate], dict[str, Item]]:
    services.sales_settings_update(
        company=company,
        by=by,
        legal_name=f"{company.name}",
        address="14 Market Street\nSpringfield, IL 62701\nUnited States",
        tax_id="US-47-1234567",
        email="accounts@demo-trading.example",
        phone="+1 217 555 0142",
        payment_instructions="Bank transfer to Demo Trading Ltd, First Springfield Bank,\n"
        "account 0012 3456 789, routing 071000013.",
    )
    rates = {
        "sales": services.tax_rate_create(
            company=company, name=f"Sales tax {TAX_RATE * 100:.0f}%", rate=TAX_RATE * 100, by=by
        ),
        "export": services.tax_rate_create(company=company, name="Zero-rated export", rate="0", by=by),
    }
    customers = {
        name: services.customer_create(
            company=company,
            name=name,
            email=f"accounts@{name.lower().replace(' & ', '-').replace(' ', '-')}.example",
            billing_address=f"{10 + n} Commerce Way\nSpringfield, IL 627{n:02d}",
            payment_terms_days=14,
            by=by,
        )
        for n, name in enumerate(CUSTOMERS)
    }
    customers[EXPORT_CUSTOMER] = services.customer_create(
        company=company,
        name=EXPORT_CUSTOMER,
        email="einkauf@bergmann.example",
        tax_id="DE812345678",
        billing_address="Hafenstraße 8\n20457 Hamburg\nGermany",
        currency="EUR",
        payment_terms_days=30,
        by=by,
    )
    items = {
        "crate": services.item_create(
            company=company,
            name="Widget crate (24 units)",
            unit_price="45.00",
            revenue_account="4000",
            tax_rate=rates["sales"],
            by=by,
        ),
        "installation": services.item_create(
            company=company,
            name="Installation service (hour)",
            unit_price="85.00",
            revenue_account="4100",
            tax_rate=rates["sales"],
            by=by,
        ),
        "consulting": services.item_create(
            company=company,
            name="Consulting (hour)",
            unit_price="120.00",
            revenue_account="4100",
            tax_rate=rates["sales"],
            by=by,
        ),
    }
    return customers, rates, items


def sales_demo_create(*, company: Company, by: User | None = None, months: int = 4) -> SalesDemo:
    """The demo's books and sales ledger (call once, on a company without entries or customers)."""
    customers, rates, items = _master_data(company, by)
    today = timezone.localdate()
    first = add_months(today.replace(day=1), -(months - 1))
    m1, m2 = add_months(first, months - 2), add_months(first, months - 3)  # last month, the one before
    made: dict[str, Invoice | Payment] = {}

    def on(month: datetime.date, day: int) -> datetime.date:
        return month.replace(day=day)

    def invoice(key: str, customer: str, date: datetime.date, lines: list[dict], **extra) -> None:
        made[key] = services.invoice_create(
            company=company, customer=customers[customer], date=date, lines=lines, by=by, issue=True, **extra
        )

    def pay(customer: str, date: datetime.date, amount, key: str | None = None, **extra) -> None:
        allocations = []
        if key is not None:
            target = Invoice.objects.get(pk=made[key].pk)
            amount = target.amount_due if amount is None else amount
            allocations = [{"invoice": target.pk, "amount": amount}]
        made[f"payment:{customer}:{date}"] = services.payment_record(
            company=company,
            customer=customers[customer],
            date=date,
            amount=amount,
            allocations=allocations,
            by=by,
            **extra,
        )

    def rate(date: datetime.date, value: str) -> None:
        exchange_rate_set(
            company=company, from_currency="EUR", to_currency=company.currency, date=date, rate=value, by=by
        )

    steps: list[Step] = [
        # An export order invoiced in euros at 1.08 and paid at 1.10: a realised exchange gain.
        (on(m2, 1), lambda: rate(on(m2, 1), "1.08")),
        (
            on(m2, 5),
            lambda: invoice(
                "export",
                EXPORT_CUSTOMER,
                on(m2, 5),
                [
                    {
                        "item": items["crate"].pk,
                        "quantity": "25",
                        "unit_price": "42.00",
                        "tax_rate": rates["export"].pk,
                    },
                    {
                        "description": "Freight to Hamburg",
                        "quantity": "1",
                        "unit_price": "200.00",
                        "tax_rate": rates["export"].pk,
                        "account": "4100",
                    },
                ],
                reference="Bestellung 2024-118",
            ),
        ),
        # A service job, part paid on account and now overdue.
        (
            on(m2, 10),
            lambda: invoice(
                "job",
                "Riverbend Hotel",
                on(m2, 10),
                [{"item": items["installation"].pk, "quantity": "12", "discount": "5"}],
                reference="PO RB-2231",
            ),
        ),
        # A deposit held as customer credit, used later for the work it paid for.
        (
            on(m2, 15),
            lambda: pay("Juniper Dental", on(m2, 15), "1000.00", reference="Deposit for the clinic fit-out"),
        ),
        (
            on(m2, 24),
            lambda: pay(
                "Riverbend Hotel", on(m2, 24), "500.00", "job", reference="Cheque 4410", method="cheque"
            ),
        ),
        (on(m1, 1), lambda: rate(on(m1, 1), "1.10")),
        # Issued to the wrong customer: voided the next day, and issued to the right one.
        (
            on(m1, 3),
            lambda: invoice(
                "wrong", "Copperline Studio", on(m1, 3), [{"item": items["consulting"].pk, "quantity": "4"}]
            ),
        ),
        (on(m1, 4), lambda: services.invoice_void(invoice=made["wrong"], date=on(m1, 4), by=by)),
        (
            on(m1, 4),
            lambda: invoice(
                "right",
                "Orbit Logistics",
                on(m1, 4),
                [{"item": items["consulting"].pk, "quantity": "4"}],
                reference="Replaces a voided invoice",
            ),
        ),
        (on(m1, 5), lambda: pay(EXPORT_CUSTOMER, on(m1, 5), None, "export", reference="SEPA 7781")),
        # Twenty crates, two damaged and credited, the rest paid.
        (
            on(m1, 6),
            lambda: invoice(
                "crates", "Summit Outfitters", on(m1, 6), [{"item": items["crate"].pk, "quantity": "20"}]
            ),
        ),
        (
            on(m1, 8),
            lambda: invoice(
                "fit_out",
                "Juniper Dental",
                on(m1, 8),
                [{"item": items["consulting"].pk, "quantity": "6"}],
                notes="Thank you for your deposit, applied to this invoice.",
            ),
        ),
        (
            on(m1, 8),
            lambda: services.payment_allocate(
                payment=made[f"payment:Juniper Dental:{on(m2, 15)}"],
                allocations=[{"invoice": made["fit_out"].pk, "amount": made["fit_out"].total}],
                by=by,
            ),
        ),
        (
            on(m1, 12),
            lambda: services.credit_note_create(
                invoice=made["crates"],
                date=on(m1, 12),
                reason="Two crates arrived damaged",
                lines=[{"invoice_line": made["crates"].lines.get().pk, "quantity": "2"}],
                by=by,
            ),
        ),
        (
            on(m1, 20),
            lambda: pay("Summit Outfitters", on(m1, 20), None, "crates", reference="Transfer 88-1029"),
        ),
        # Work in progress: a draft for this month.
        (
            today,
            lambda: services.invoice_create(
                company=company,
                customer=customers["Alder & Finch"],
                date=today,
                lines=[
                    {"item": items["installation"].pk, "quantity": "3"},
                    {"item": items["crate"].pk, "quantity": "2"},
                ],
                by=by,
            ),
        ),
    ]
    credit_sales = DemoCreditSales(
        company=company, by=by, tax_rate=rates["sales"], customers=customers, extras=steps
    )
    entries = demo_entries_create(company=company, months=months, by=by, credit_sales=credit_sales)
    credit_sales.catch_up()
    return SalesDemo(
        journal_entries=entries,
        invoices=Invoice.objects.filter(company=company).count(),
        payments=Payment.objects.filter(company=company).count(),
        credit_notes=CreditNote.objects.filter(company=company).count(),
    )
