"""Gapless per-company document numbers: invoices, credit notes, payments.

Each series is a `ledger.numbering` counter advanced inside the caller's transaction (a rollback
gives the number back). Lock order, for every sales service: the document rows it changes
(payment, then invoices in id order), then the document's number, then the ledger's posting
(balance buckets, then the journal number). The posting service takes its locks last, so a sales
transaction never waits on a document row while holding a ledger lock, and it posts exactly one
journal entry (two postings in one transaction would take the journal counter before the second
entry's balance buckets, the reverse of every other poster's order).
"""

from __future__ import annotations

from ledger.numbering import sequence_next, sequence_peek

INVOICE_SERIES = "invoice"
CREDIT_NOTE_SERIES = "credit_note"
PAYMENT_SERIES = "payment"

_PREFIXES = {INVOICE_SERIES: "INV", CREDIT_NOTE_SERIES: "CN", PAYMENT_SERIES: "PAY"}


def document_number(*, series: str, year: int, sequence: int) -> str:
    """`INV-2026-000042`: the trailing digits are the company's gapless sequence of the series."""
    return f"{_PREFIXES[series]}-{year}-{sequence:06d}"


def document_number_next(*, company_id: int, series: str, year: int) -> tuple[int, str]:
    """The next (sequence, number) of the series, inside the caller's transaction."""
    sequence = sequence_next(company_id=company_id, series=series)
    return sequence, document_number(series=series, year=year, sequence=sequence)


def document_number_ahead(*, company_id: int, series: str, year: int) -> str:
    """The number the series would give next (said ahead on a confirmation page; not reserved)."""
    return document_number(
        series=series, year=year, sequence=sequence_peek(company_id=company_id, series=series)
    )
