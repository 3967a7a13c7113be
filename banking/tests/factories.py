"""Banking test helpers: a company with its chart and a bank account, statements imported from
the fixture files through the services, entries posted through the ledger. Deterministic."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from accounts.models import Company
from audit.models import AuditEvent
from banking import services
from banking.models import (
    BankAccount,
    BankMatch,
    BankStatement,
    BankStatementLine,
    ImportJob,
    MatchSuggestion,
    Reconciliation,
)
from ledger.models import JournalEntry, JournalLine
from ledger.tests.factories import company_with_chart, post_entry

FIXTURES = Path(__file__).resolve().parent / "fixtures"
IBAN = "GB82WEST12345698765432"
EUROPEAN_MAPPING = {
    "delimiter": ";",
    "date_column": "Booking date",
    "date_format": "%d.%m.%Y",
    "amount_column": "Amount",
    "decimal_separator": ",",
    "thousands_separator": ".",
    "counterparty_column": "Payee",
    "reference_column": "Reference",
    "description_column": "Details",
    "balance_column": "Balance",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def bank_books(*, currency: str = "USD", name: str = "Bank Co", **bank_values) -> BankAccount:
    company = company_with_chart(currency=currency, name=name)
    return services.bank_account_create(
        company=company,
        by=None,
        name="Operating account",
        account="1010",
        iban=IBAN,
        number="55501234",
        **bank_values,
    )


def upload(bank: BankAccount, name: str | bytes, *, by=None, **options) -> ImportJob:
    data = fixture(name) if isinstance(name, str) else name
    return services.statement_upload(bank_account=bank, file=data, by=by, **options)


def statement_of(job: ImportJob) -> BankStatement:
    return BankStatement.objects.get(pk=job.result["statements"][-1])


def line(bank: BankAccount, unique_id: str) -> BankStatementLine:
    return BankStatementLine.objects.get(bank_account=bank, unique_id=unique_id)


def bank_side(entry: JournalEntry, code: str = "1010") -> JournalLine:
    return entry.lines.get(account__code=code)


def march_books(company: Company):
    """The books of the hand-computed reconciliation (docs/banking.md): opening 1,000.00 on
    28 February, a receipt, rent, two deposits paid by one transfer, a cheque not cleared and a
    deposit in transit."""
    return {
        "opening": post_entry(company, "2026-02-28", ("1010", "1000.00", "D"), ("3000", "1000.00", "C")),
        "receipt": post_entry(
            company,
            "2026-03-04",
            ("1010", "1500.00", "D"),
            ("4000", "1500.00", "C"),
            reference="INV-2026-000001",
        ),
        "rent": post_entry(
            company, "2026-03-12", ("6100", "300.00", "D"), ("1010", "300.00", "C"), reference="RENT-MAR"
        ),
        "order_a": post_entry(company, "2026-03-19", ("1010", "200.00", "D"), ("4000", "200.00", "C")),
        "order_b": post_entry(company, "2026-03-19", ("1010", "300.00", "D"), ("4000", "300.00", "C")),
        "cheque": post_entry(
            company, "2026-03-30", ("6600", "250.00", "D"), ("1010", "250.00", "C"), reference="CHQ-104"
        ),
        "deposit": post_entry(company, "2026-03-31", ("1010", "120.00", "D"), ("4100", "120.00", "C")),
    }


def march_matched():
    """March's statement and books with the receipt, the rent and the transfer matched, as in
    docs/banking.md's worked example: the bank fee (45.50, CAMT-0002) is on the bank only, the
    cheque and the deposit in the books only. Returns the bank account, the books, the statement."""
    bank = bank_books()
    books = march_books(bank.company)
    march = statement_of(upload(bank, "camt053_march.xml"))
    for unique_id, entries in (
        ("CAMT-0001", ["receipt"]),
        ("CAMT-0003", ["rent"]),
        ("CAMT-0004", ["order_a", "order_b"]),
    ):
        services.bank_line_match(
            bank_line=line(bank, unique_id), journal_lines=[bank_side(books[e]).pk for e in entries], by=None
        )
    return bank, books, march


def march_reconciled():
    """March matched (march_matched) and reconciled: its bank fee is carried, unmatched. Returns
    the bank account, the books, the statement and its stored reconciliation."""
    bank, books, march = march_matched()
    return bank, books, march, services.statement_reconcile(statement=march, by=None)


def banking_rows(company: Company) -> tuple[int, ...]:
    """Row counts of everything a banking write could touch (a refused write changes none)."""
    return (
        BankStatement.objects.filter(company=company).count(),
        BankStatementLine.objects.filter(company=company).count(),
        BankMatch.objects.filter(company=company).count(),
        MatchSuggestion.objects.filter(company=company).count(),
        Reconciliation.objects.filter(company=company).count(),
        ImportJob.objects.filter(company=company).count(),
        JournalEntry.objects.filter(company=company).count(),
        AuditEvent.objects.filter(company_id=company.pk).count(),
    )


# --------------------------------------------------------------------------- a month of 300 lines

BOOK_OPENING = Decimal("10000.00")  # the books on the eve of the month
BANK_OPENING = Decimal("9975.00")  # the statement's opening: 25.00 the books never recorded
CHEQUE = Decimal("400.00")  # two cheques paid in the books, not cleared by the bank this month
FEE = Decimal("-2.50")


@dataclass(frozen=True)
class MonthLine:
    date: datetime.date
    amount: Decimal
    counterparty: str
    reference: str


@dataclass(frozen=True)
class BankMonth:
    """A bank account's month as an accountant meets it: `receipts` customer receipts each posted
    in the books (so each has a suggestion), card payments and bank fees not entered yet, two
    cheques in the books not cleared, and an opening balance 25.00 below the books'."""

    bank: BankAccount
    statement: BankStatement
    receipts: list[MonthLine]
    card_payments: list[MonthLine]
    fees: list[MonthLine]

    @property
    def lines(self) -> list[MonthLine]:
        return sorted(self.receipts + self.card_payments + self.fees, key=lambda line: line.date)

    @property
    def bank_closing(self) -> Decimal:
        return BANK_OPENING + sum((line.amount for line in self.lines), Decimal(0))


def _csv(lines: list[MonthLine]) -> bytes:
    rows = ["date,amount,counterparty,reference,description"]
    rows += [f"{line.date.isoformat()},{line.amount},{line.counterparty},{line.reference}," for line in lines]
    return ("\n".join(rows) + "\n").encode()


def bank_month(
    *, year: int = 2026, month: int = 3, receipts: int = 100, card_payments: int = 170, fees: int = 30
) -> BankMonth:
    """A bank account with a one-month statement of `receipts + card_payments + fees` lines
    (300 by default) uploaded through the statement service, and the month's books posted through
    the ledger's. Deterministic: amounts and dates follow from each line's number."""
    bank = bank_books(name="Month Co")
    company = bank.company
    first = datetime.date(year, month, 1)
    days = (datetime.date(year + month // 12, month % 12 + 1, 1) - first).days

    def day(n: int) -> datetime.date:
        return first + datetime.timedelta(days=n % days)

    post_entry(
        company, first - datetime.timedelta(days=1), ("1010", BOOK_OPENING, "D"), ("3000", BOOK_OPENING, "C")
    )
    received = [
        MonthLine(day(k), Decimal(100 + k) + Decimal(k) / 100, f"Customer {k:03d}", f"RCPT-{k:03d}")
        for k in range(1, receipts + 1)
    ]
    for line_ in received:
        post_entry(
            company,
            line_.date,
            ("1010", line_.amount, "D"),
            ("4000", line_.amount, "C"),
            reference=line_.reference,
        )
    for n in (1, 2):
        post_entry(
            company,
            first + datetime.timedelta(days=days - 2),
            ("6600", CHEQUE, "D"),
            ("1010", CHEQUE, "C"),
            reference=f"CHQ-{n:03d}",
            description=f"Cheque {n} to a supplier",
        )
    paid = [
        MonthLine(
            day(k), -(Decimal("20.00") + Decimal(k) * Decimal("0.37")), f"Card shop {k:03d}", f"CARD-{k:03d}"
        )
        for k in range(1, card_payments + 1)
    ]
    charged = [MonthLine(day(k), FEE, "Bank", f"FEE-{k:02d}") for k in range(fees)]
    lines = sorted(received + paid + charged, key=lambda line: line.date)
    closing = BANK_OPENING + sum((line.amount for line in lines), Decimal(0))
    job = upload(bank, _csv(lines), format="csv", opening_balance=BANK_OPENING, closing_balance=closing)
    return BankMonth(bank, statement_of(job), received, paid, charged)
