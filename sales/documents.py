"""The printable invoice: what it shows, built once and rendered by the API and the admin alike.

`invoice_document(invoice)` gathers the company's details (sales settings), the customer's, the
lines, a tax summary per rate, the totals, what is paid and due, the due date and the payment
instructions; `invoice_document_html` renders templates/sales/invoice_document.html (print CSS,
A4). A draft prints with a DRAFT watermark and no number; a void invoice says so.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string

from sales.amounts import format_percent
from sales.models import Invoice, InvoiceStatus, SalesSettings
from sofinance.money import format_amount


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: str
    unit_price: str
    discount: str  # "" when none
    tax: str  # the rate's name, "" when untaxed
    net: str


@dataclass(frozen=True)
class TaxSummaryLine:
    name: str
    percent: str
    taxable: str
    tax: str


@dataclass(frozen=True)
class InvoiceDocument:
    title: str
    number: str
    status: str
    is_draft: bool
    is_void: bool
    date: datetime.date
    due_date: datetime.date
    currency: str
    reference: str
    notes: str
    seller_name: str
    seller_address: str
    seller_tax_id: str
    seller_email: str
    seller_phone: str
    customer_name: str
    customer_address: str
    customer_tax_id: str
    customer_email: str
    lines: list[DocumentLine]
    tax_summary: list[TaxSummaryLine]
    subtotal: str
    tax_total: str
    total: str
    amount_credited: str
    amount_paid: str
    amount_due: str
    has_credits: bool
    has_payments: bool
    payment_terms_days: int
    payment_instructions: str


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    settings = SalesSettings.objects.filter(company_id=invoice.company_id).first() or SalesSettings()
    currency = invoice.currency

    def money(amount: Decimal) -> str:
        # Printed with thousands separators: "12,450.00" (the API's strings carry none).
        exact = format_amount(amount, currency)
        whole, _, fraction = exact.partition(".")
        sign = "-" if whole.startswith("-") else ""
        grouped = f"{int(whole.lstrip('-')):,}"
        return f"{sign}{grouped}.{fraction}" if fraction else f"{sign}{grouped}"

    lines = list(invoice.lines.select_related("tax_rate").order_by("line_no"))
    taxed: dict[tuple[str, Decimal], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in lines:
        if line.tax_rate_id is not None:
            key = (line.tax_rate.name, line.tax_percent)
            taxed[key][0] += line.net
            taxed[key][1] += line.tax
    company = invoice.company
    customer = invoice.customer
    instructions = settings.payment_instructions.strip()
    if invoice.number and instructions:
        instructions = f"{instructions}\nPlease quote {invoice.number} with your payment."
    return InvoiceDocument(
        title="Invoice",
        number=invoice.number or "",
        status=invoice.get_status_display(),
        is_draft=invoice.status == InvoiceStatus.DRAFT,
        is_void=invoice.status == InvoiceStatus.VOID,
        date=invoice.date,
        due_date=invoice.due_date,
        currency=currency,
        reference=invoice.reference,
        notes=invoice.notes,
        seller_name=settings.legal_name or company.name,
        seller_address=settings.address,
        seller_tax_id=settings.tax_id,
        seller_email=settings.email,
        seller_phone=settings.phone,
        customer_name=customer.name,
        customer_address=customer.billing_address,
        customer_tax_id=customer.tax_id,
        customer_email=customer.email,
        lines=[
            DocumentLine(
                description=line.description,
                quantity=format(line.quantity.normalize(), "f"),
                unit_price=money(line.unit_price),
                discount=f"{format_percent(line.discount)}%" if line.discount else "",
                tax=line.tax_rate.name if line.tax_rate_id else "",
                net=money(line.net),
            )
            for line in lines
        ],
        tax_summary=[
            TaxSummaryLine(
                name=name, percent=f"{format_percent(percent)}%", taxable=money(net), tax=money(tax)
            )
            for (name, percent), (net, tax) in sorted(taxed.items(), key=lambda kv: (kv[0][0], kv[0][1]))
        ],
        subtotal=money(invoice.subtotal),
        tax_total=money(invoice.tax_total),
        total=money(invoice.total),
        amount_credited=money(invoice.amount_credited),
        amount_paid=money(invoice.amount_paid),
        amount_due=money(invoice.amount_due),
        has_credits=invoice.amount_credited > 0,
        has_payments=invoice.amount_paid > 0,
        payment_terms_days=(invoice.due_date - invoice.date).days,
        payment_instructions=instructions,
    )


def invoice_document_html(invoice: Invoice) -> str:
    return render_to_string("sales/invoice_document.html", {"doc": invoice_document(invoice)})
