"""What a bank line can put in the books: an entry of its own (bank fees, interest) posted through
the ledger, or a customer's payment of an open invoice recorded through the sales payment service.
Either way the bank side of what was posted is matched to the line in the same transaction.
Dated the line, or the date given: a line left unmatched by a reconciled statement (a carried
item) is posted after the last reconciled day (banking.services.matching).

Lock order: the bank line, then the sales documents (payment, invoices), then the ledger's.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import Account, User
from banking import errors
from banking.models import BankStatementLine, LineStatus
from banking.services.matching import bank_line_locked, check_outside_reconciled, match_lines_of_entry
from ledger import errors as ledger_errors
from ledger.models import JournalLine
from ledger.services import journal_entry_create
from sales.models import Invoice, InvoiceStatus
from sales.selectors import receivables_account_ids
from sales.services import payment_record
from sofinance.errors import ValidationFailed
from sofinance.money import format_amount

INVOICE_NUMBER = re.compile(r"INV[\s\-_/]*(\d{4})[\s\-_/]*(\d{1,6})", re.IGNORECASE)
OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


def _unmatched(
    bank_line: BankStatementLine, date: datetime.date | None
) -> tuple[BankStatementLine, datetime.date]:
    """The locked, unmatched line and the date to post on (the line's unless given), checked
    against the reconciled statements before anything is posted."""
    line = bank_line_locked(bank_line)
    if line.status == LineStatus.MATCHED:
        raise errors.AlreadyMatched("The bank line is already matched; unmatch it first.")
    if date is not None and not isinstance(date, datetime.date):
        message = "Enter a valid date, as YYYY-MM-DD."
        raise ValidationFailed(message, details={"date": [message]})
    posted_on = date or line.date
    check_outside_reconciled(line, [(None, posted_on)])
    return line, posted_on


def _counter_account(line: BankStatementLine, ref: Any) -> Account:
    accounts = Account.objects.filter(company_id=line.company_id)
    account = None
    if isinstance(ref, Account):
        account = ref if ref.company_id == line.company_id else None
    elif isinstance(ref, int) and not isinstance(ref, bool):
        account = accounts.filter(pk=ref).first() if 0 < ref < 2**63 else None
    elif isinstance(ref, str) and ref.strip():
        account = accounts.filter(code=ref.strip()).first()
    if account is None:
        message = f"Account {getattr(ref, 'pk', ref)!r} does not exist in this company."
        raise ledger_errors.InvalidAccount(
            message,
            details={"account": [message]},
        )
    if account.pk == line.bank_account.account_id:
        message = "The other side of a bank line's entry is another account than the bank's."
        raise ledger_errors.InvalidAccount(
            message,
            details={"account": [message]},
        )
    if account.pk in receivables_account_ids(line.bank_account.company):
        # An entry straight to receivables would part them from the invoices (the AR aging).
        message = (
            f"Account {account.code} holds receivables: money from a customer is recorded as their "
            "payment (record the payment from the bank line), which settles their invoices too."
        )
        raise ledger_errors.InvalidAccount(
            message,
            details={"account": [message]},
        )
    return account


def bank_line_entry_create(
    *,
    bank_line: BankStatementLine,
    account: Any,
    by: User | None,
    description: str = "",
    fx_rate: Any = None,
    date: datetime.date | None = None,
) -> BankStatementLine:
    """Post an entry for a bank line that is not in the books yet (fees, interest, a standing
    order) and match it: the bank's ledger account against `account`, dated the line (or `date`),
    for its amount, through the ledger's posting function (its rules apply: open period, active
    leaf account, currency and rate). The line's reference becomes the entry's."""
    with transaction.atomic():
        line, posted_on = _unmatched(bank_line, date)
        bank = line.bank_account
        counter = _counter_account(line, account)
        side, other = ("debit", "credit") if line.amount > 0 else ("credit", "debit")
        value = abs(line.amount)
        foreign = bank.currency != bank.company.currency
        text = description.strip() or " – ".join(
            p for p in (line.counterparty, line.reference or line.description) if p
        )
        lines = [
            {"account": bank.account, side: value, "currency": bank.currency, "fx_rate": fx_rate if foreign else None,
             "description": text[:500]},
            {"account": counter, other: value, "currency": bank.currency, "fx_rate": fx_rate if foreign else None,
             "description": text[:500]},
        ]  # fmt: skip
        entry = journal_entry_create(
            company=bank.company,
            date=posted_on,
            lines=lines,
            by=by,
            description=(text or f"Bank line {line.pk}")[:500],
            reference=line.reference[:100],
            post=True,
            with_lines=True,
        )
        return match_lines_of_entry(line, entry.posted_lines, by=by)


def invoice_numbers_in(*texts: str) -> list[str]:
    """Invoice numbers (INV-<year>-<NNNNNN>) written in a bank line's texts, however spaced."""
    found = []
    for text in texts:
        for year, sequence in INVOICE_NUMBER.findall(text or ""):
            number = f"INV-{year}-{int(sequence):06d}"
            if number not in found:
                found.append(number)
    return found


def open_invoice_for_line(bank_line: BankStatementLine) -> Invoice | None:
    """The open invoice the bank line's reference, description or counterparty names, if exactly one."""
    numbers = invoice_numbers_in(bank_line.reference, bank_line.description, bank_line.counterparty)
    if not numbers:
        return None
    invoices = list(
        Invoice.objects.filter(company_id=bank_line.company_id, number__in=numbers, status__in=OPEN_INVOICE)
        .select_related("customer")
        .order_by("id")[:2]
    )
    return invoices[0] if len(invoices) == 1 else None


def bank_line_payment_record(
    *,
    bank_line: BankStatementLine,
    by: User | None,
    invoice: int | None = None,
    date: datetime.date | None = None,
) -> BankStatementLine:
    """Record money received on the bank line as the customer's payment of an open invoice (the
    one given, else the one its reference names) through the sales payment service, allocated to
    the invoice up to what it has due (the rest stays as customer credit), dated the line (or
    `date`), and match it.

    Refused: money out (`validation_error`), no open invoice found or given (`invoice_not_found`),
    and whatever the payment service refuses (another currency, a closed period...)."""
    with transaction.atomic():
        line, posted_on = _unmatched(bank_line, date)
        bank = line.bank_account
        if line.amount <= 0:
            message = "Only money received (a positive amount) is recorded as a customer payment."
            raise ValidationFailed(
                message,
                details={"amount": [message]},
            )
        if invoice is not None:
            if isinstance(invoice, bool) or not isinstance(invoice, int):
                message = f"The invoice is given by id ({str(invoice)[:40]!r} is not one)."
                raise ValidationFailed(message, details={"invoice": [message]})
            found = (
                Invoice.objects.filter(company_id=line.company_id, pk=invoice, status__in=OPEN_INVOICE)
                .select_related("customer")
                .first()
            )
        else:
            found = open_invoice_for_line(line)
        if found is None:
            raise errors.InvoiceNotFound(
                "No open invoice of this company matches: give the invoice, or record the payment in sales."
                if invoice is None
                else f"Invoice {invoice} is not an open invoice of this company.",
                details={
                    "invoice": [str(invoice)] if invoice is not None else [],
                    "reference": line.reference,
                },
            )
        due = found.amount_due
        allocate = min(line.amount, due)
        payment = payment_record(
            company=bank.company,
            customer=found.customer,
            date=posted_on,
            amount=line.amount,
            by=by,
            currency=bank.currency,
            account=bank.account,
            reference=(line.reference or found.number or "")[:100],
            notes=f"Recorded from bank line {line.pk} ({bank.name}).",
            allocations=[{"invoice": found.pk, "amount": allocate}] if allocate > Decimal(0) else [],
        )
        posted = JournalLine.objects.filter(entry=payment.journal_entry_id).order_by("line_no")
        line = match_lines_of_entry(line, posted, by=by)
        line.recorded_payment = payment
        line.recorded_allocation = format_amount(allocate, bank.currency)
        return line
