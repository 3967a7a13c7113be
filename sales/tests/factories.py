"""Sales test helpers: a company with its chart, tax rates, customers and items, and documents
made through the services. Deterministic: the same call gives the same books."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Account, Company
from audit.models import AuditEvent
from ledger.models import DailyBalance, JournalEntry, JournalLine
from ledger.services import exchange_rate_set
from ledger.tests.factories import company_with_chart
from sales import services
from sales.models import (
    Allocation,
    CreditNote,
    CreditNoteLine,
    Customer,
    DailySalesSummary,
    Invoice,
    InvoiceLine,
    Item,
    Payment,
    TaxRate,
)
from sofinance.money import currency_exponent


def day(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


@dataclass
class SalesBooks:
    company: Company
    standard: TaxRate  # 20 %
    reduced: TaxRate  # 5 %
    acme: Customer  # USD, 30 days
    globex: Customer  # USD, 14 days
    euro: Customer  # EUR, 30 days
    consulting: Item  # 150.00, service revenue 4100, standard rate
    widget: Item  # 12.35, sales revenue 4000, reduced rate

    def account(self, code: str) -> Account:
        return Account.objects.get(company=self.company, code=code)


def sales_books(*, currency: str = "USD", name: str = "Sales Co") -> SalesBooks:
    company = company_with_chart(currency=currency, name=name)
    standard = services.tax_rate_create(company=company, name="VAT 20%", rate="20", account="2200", by=None)
    reduced = services.tax_rate_create(company=company, name="VAT 5%", rate="5", account="2200", by=None)
    acme = services.customer_create(
        company=company, name="Acme Ltd", by=None, email="billing@acme.example", payment_terms_days=30
    )
    globex = services.customer_create(company=company, name="Globex", by=None, payment_terms_days=14)
    euro = services.customer_create(company=company, name="Euro GmbH", by=None, currency="EUR")
    whole = currency_exponent(currency) == 0
    consulting = services.item_create(
        company=company,
        name="Consulting hour",
        unit_price="15000" if whole else "150.00",
        revenue_account="4100",
        tax_rate=standard,
        by=None,
    )
    widget = services.item_create(
        company=company,
        name="Widget",
        unit_price="1235" if whole else "12.35",
        revenue_account="4000",
        tax_rate=reduced,
        by=None,
    )
    return SalesBooks(company, standard, reduced, acme, globex, euro, consulting, widget)


def eur_rate(books: SalesBooks, date: str, rate: str) -> None:
    exchange_rate_set(
        company=books.company, from_currency="EUR", to_currency="USD", date=day(date), rate=rate, by=None
    )


def euro_invoice(
    books: SalesBooks,
    date: str,
    amount: str,
    *,
    customer: Customer | None = None,
    rate: str | None = "1.10",
    issue=True,
) -> Invoice:
    """A one-line untaxed invoice in EUR (to Acme, a USD customer, unless said), `rate` stored for
    its date first (None: the rates already stored); issued unless `issue=False`."""
    if rate is not None:
        eur_rate(books, date, rate)
    return services.invoice_create(
        company=books.company,
        customer=customer or books.acme,
        date=day(date),
        currency="EUR",
        lines=[{"description": "Euro work", "quantity": "1", "unit_price": amount, "tax_rate": None}],
        by=None,
        issue=issue,
    )


def euro_payment(books: SalesBooks, date: str, amount: str, *, fx_rate: str | None = None, **kwargs):
    """A payment in EUR from Acme (`allocations` and the rest passed on)."""
    return services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day(date),
        amount=amount,
        currency="EUR",
        fx_rate=fx_rate,
        by=None,
        **kwargs,
    )


def issued(books: SalesBooks, customer: Customer, date: str, *amounts: str, by=None, **kwargs) -> Invoice:
    """An issued invoice with one untaxed free-text line per amount (revenue 4000)."""
    lines = [
        {
            "description": f"Goods {n}",
            "quantity": "1",
            "unit_price": amount,
            "tax_rate": None,
            "account": "4000",
        }
        for n, amount in enumerate(amounts, start=1)
    ]
    return services.invoice_create(
        company=books.company, customer=customer, date=day(date), lines=lines, by=by, issue=True, **kwargs
    )


def widget_draft(books: SalesBooks, date: str = "2026-03-10", quantity: str = "1") -> Invoice:
    """A draft invoice to Acme of `quantity` widgets (the item's price and tax)."""
    return services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day(date),
        lines=[{"item": books.widget.pk, "quantity": quantity}],
        by=None,
    )


def closed_march(books: SalesBooks):
    """The company's 2026 periods, March closed; returns March."""
    from ledger.models import AccountingPeriod
    from ledger.services import period_close, periods_generate

    periods_generate(company=books.company, year=2026, by=None)
    march = AccountingPeriod.objects.get(company=books.company, start_date=day("2026-03-01"))
    period_close(period=march, by=None)
    return march


def half_credited(books: SalesBooks, customer: Customer, date: str, amount: str) -> Invoice:
    """An issued invoice of one line (dated `date`) with a credit note for half of it, the next day."""
    invoice = issued(books, customer, date, amount)
    services.credit_note_create(
        invoice=invoice,
        by=None,
        date=day(date) + datetime.timedelta(days=1),
        lines=[{"invoice_line": invoice.lines.get().pk, "quantity": "0.5"}],
    )
    return invoice


def entry_lines(entry: JournalEntry) -> list[tuple[str, str, str, str, str]]:
    """(account code, debit, credit, currency, base amount) of each line, in line order."""
    return [
        (
            line.account.code,
            f"{line.debit:.2f}",
            f"{line.credit:.2f}",
            line.currency,
            f"{line.base_amount:.2f}",
        )
        for line in entry.lines.select_related("account").order_by("line_no")
    ]


def written(company: Company) -> tuple[int, ...]:
    """Row counts of everything a sales write could touch (a refused write changes none)."""
    return (
        Invoice.objects.filter(company=company).count(),
        InvoiceLine.objects.filter(company=company).count(),
        CreditNote.objects.filter(company=company).count(),
        CreditNoteLine.objects.filter(company=company).count(),
        Payment.objects.filter(company=company).count(),
        Allocation.objects.filter(company=company).count(),
        JournalEntry.objects.filter(company=company).count(),
        JournalLine.objects.filter(company=company).count(),
        DailyBalance.objects.filter(company=company).count(),
        DailySalesSummary.objects.filter(company=company).count(),
        Customer.objects.filter(company=company).count(),
        Item.objects.filter(company=company).count(),
        TaxRate.objects.filter(company=company).count(),
        AuditEvent.objects.filter(company_id=company.pk).count(),
    )


def money(value: Decimal | None) -> str:
    return f"{value:.2f}"
