"""The demo company's bank account with last month's statement, partly matched.

`banking_demo_create` opens a bank account on the demo's operating account (1010) and imports a
CSV statement of the last complete month built from what the books hold there: most movements
reach the bank a day or two after they were booked, the bank adds its fees and interest that the
books do not hold yet, a customer's transfer pays an open invoice whose payment is not recorded
yet, and the last days' payments are still on their way. Suggestions are worked out and about
half are confirmed, so the admin opens on a month half done: lines to confirm, a fee and interest
to post, a payment to record, a reconciliation report with items on both sides. Deterministic for a given
"today"; everything goes through the services.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from banking import services
from banking.models import BankAccount, BankStatementLine, LineStatus
from banking.reports import book_balance
from ledger.models import JournalLine
from sales.models import Invoice, InvoiceStatus

DEMO_BANK_NAME = "Operating account"
DEMO_IBAN = "GB33BUKB20201555555555"
DEMO_MAPPING = {"date_column": "date", "amount_column": "amount", "counterparty_column": "counterparty",
                "reference_column": "reference", "description_column": "description"}  # fmt: skip


def _month_before(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def _receipt_not_recorded(company: Company, start: datetime.date, end: datetime.date) -> str | None:
    """A statement row for a customer's transfer that pays an open invoice, named by its number,
    that the books do not hold yet: the payment the accountant records from the bank line. The
    oldest invoice not paid at all, issued before the month's last week (None when there is none)."""
    invoice = next(
        (
            invoice
            for invoice in Invoice.objects.filter(
                company=company,
                status=InvoiceStatus.ISSUED,  # nothing paid yet: the transfer pays it all
                currency=company.currency,
                date__lte=end - datetime.timedelta(days=7),
            )
            .select_related("customer")
            .order_by("date", "id")
            if invoice.amount_due > 0
        ),
        None,
    )
    if invoice is None:
        return None
    received = min(max(invoice.date + datetime.timedelta(days=10), start), end - datetime.timedelta(days=2))
    customer = invoice.customer.name.replace(",", " ")
    return f"{received.isoformat()},{invoice.amount_due},{customer},{invoice.number},Payment {invoice.number}"


def banking_demo_create(*, company: Company, by: User | None) -> BankAccount | None:
    """Once per company: None when it already has a bank account or no operating account."""
    if (
        BankAccount.objects.filter(company=company).exists()
        or not company.accounts.filter(code="1010").exists()
    ):
        return None
    start, end = _month_before(timezone.localdate())
    bank = services.bank_account_create(
        company=company, by=by, name=DEMO_BANK_NAME, account="1010", iban=DEMO_IBAN, csv_mapping=DEMO_MAPPING
    )
    booked = list(
        JournalLine.objects.filter(
            company=company,
            account__code="1010",
            entry_sequence__isnull=False,
            date__gte=start,
            date__lte=end,
        )
        .select_related("entry")
        .order_by("date", "entry_sequence", "id")
    )
    rows = ["date,amount,counterparty,reference,description"]
    for index, line in enumerate(booked):
        cleared = line.date + datetime.timedelta(days=index % 3)
        if cleared > end:
            continue  # still on its way at the month end: outstanding in the books
        text = (line.entry.description or "").replace(",", " ")[:80]
        rows.append(f"{cleared.isoformat()},{line.base_amount},,{line.entry.reference},{text}")
    rows.append(f"{(start + datetime.timedelta(days=14)).isoformat()},-12.50,Bank,,Card terminal fee")
    rows.append(f"{end.isoformat()},3.17,Bank,,Interest")
    paid = _receipt_not_recorded(company, start, end)
    if paid is not None:
        rows.append(paid)
    opening = book_balance(bank, start - datetime.timedelta(days=1))
    with transaction.atomic():
        job = services.statement_import_job_create(
            bank_account=bank, file="\n".join(rows).encode(), by=by, format="csv", opening_balance=opening
        )
        services.import_job_execute_inline(job=job, by=by)
        suggested = BankStatementLine.objects.filter(bank_account=bank, status=LineStatus.SUGGESTED).order_by(
            "date", "id"
        )
        for line in list(suggested)[::2]:
            best = line.suggestions.order_by("rank").first()
            line.refresh_from_db()
            if best is not None and line.status == LineStatus.SUGGESTED:
                services.bank_line_match(bank_line=line, suggestion=best.pk, by=by)
    return bank
