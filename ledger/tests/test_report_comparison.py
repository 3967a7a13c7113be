"""The income statement's comparative column: the period just before (whole months against whole
months), or the same dates a year earlier."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger.reports import comparison_range, income_statement_compared
from ledger.tests.factories import company_with_chart, post_entry

D = datetime.date


@pytest.mark.parametrize(
    ("date_from", "date_to", "basis", "expected"),
    [
        # a month against the month before, whatever their lengths
        (D(2026, 11, 1), D(2026, 11, 30), "previous_period", (D(2026, 10, 1), D(2026, 10, 31))),
        (D(2026, 3, 1), D(2026, 3, 31), "previous_period", (D(2026, 2, 1), D(2026, 2, 28))),
        (D(2026, 1, 1), D(2026, 1, 31), "previous_period", (D(2025, 12, 1), D(2025, 12, 31))),
        # a quarter against the quarter before; a year against the year before
        (D(2026, 4, 1), D(2026, 6, 30), "previous_period", (D(2026, 1, 1), D(2026, 3, 31))),
        (D(2026, 1, 1), D(2026, 12, 31), "previous_period", (D(2025, 1, 1), D(2025, 12, 31))),
        # any other range: as many days, just before
        (D(2026, 11, 10), D(2026, 11, 19), "previous_period", (D(2026, 10, 31), D(2026, 11, 9))),
        (D(2026, 11, 1), D(2026, 11, 15), "previous_period", (D(2026, 10, 17), D(2026, 10, 31))),
        # a year earlier
        (D(2024, 2, 1), D(2024, 2, 29), "previous_year", (D(2023, 2, 1), D(2023, 2, 28))),
    ],
)
def test_the_comparative_range(date_from, date_to, basis, expected):
    assert comparison_range(date_from=date_from, date_to=date_to, basis=basis) == expected


@pytest.mark.django_db
def test_november_against_october_counts_the_first_of_october():
    # the rent of 1 October was left out of "previous period" (the 30 days before November began
    # on 2 October), so October's expenses and net income were wrong
    company = company_with_chart()
    post_entry(company, "2026-10-01", ("6100", "2500.00", "D"), ("1000", "2500.00", "C"))
    post_entry(company, "2026-11-01", ("6100", "2500.00", "D"), ("1000", "2500.00", "C"))

    compared = income_statement_compared(
        company=company, date_from=D(2026, 11, 1), date_to=D(2026, 11, 30), basis="previous_period"
    )

    assert (compared.previous.date_from, compared.previous.date_to) == (D(2026, 10, 1), D(2026, 10, 31))
    assert (compared.expenses.total, compared.expenses.compared_total) == (
        Decimal("2500.00"),
        Decimal("2500.00"),
    )
