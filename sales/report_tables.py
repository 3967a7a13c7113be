"""The sales reports as tables (a header row, then rows of strings): one shape for the API's CSV
download and the export jobs' CSV and XLSX files."""

from __future__ import annotations

from collections.abc import Iterator

from sales.reports import ArAging
from sofinance.money import format_amount

AGING_COLUMNS = (
    "current",
    "days_1_30",
    "days_31_60",
    "days_61_90",
    "days_over_90",
    "unapplied_credit",
    "total",
)
AR_AGING_HEADER = ["customer_id", "customer", *AGING_COLUMNS]


def ar_aging_rows(report: ArAging) -> Iterator[list]:
    currency = report.currency
    for r in report.rows:
        yield [
            r.customer.id,
            r.customer.name,
            *(format_amount(getattr(r, n), currency) for n in AGING_COLUMNS),
        ]
    yield ["", "Total", *(format_amount(getattr(report.totals, n), currency) for n in AGING_COLUMNS)]
