"""Banking test helpers: a company with its chart and a bank account, statements imported from
the fixture files through the services, entries posted through the ledger. Deterministic."""

from __future__ import annotations

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
