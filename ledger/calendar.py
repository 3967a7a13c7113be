"""Date arithmetic of the books: fiscal years and months (no database)."""

from __future__ import annotations

import datetime

from accounts.models import Company
from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE
from sofinance.errors import ValidationFailed


def fiscal_year_bounds(*, company: Company, year: int) -> tuple[datetime.date, datetime.date]:
    """Fiscal year `year` starts on the first day of the company's start month in `year`."""
    if not FIRST_BOOK_DATE.year <= year < LAST_BOOK_DATE.year:
        message = f"Fiscal years run from {FIRST_BOOK_DATE.year} to {LAST_BOOK_DATE.year - 1}."
        raise ValidationFailed(
            message,
            details={"fiscal_year": [message]},
        )
    start = datetime.date(year, company.fiscal_year_start, 1)
    end = datetime.date(year + 1, company.fiscal_year_start, 1) - datetime.timedelta(days=1)
    return start, end


def fiscal_year_of(*, company: Company, day: datetime.date) -> int:
    return day.year if day.month >= company.fiscal_year_start else day.year - 1


def month_ranges(start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """(first day, last day) of each month from `start` to `end`, cut to the range."""
    ranges, current = [], start
    while current <= end:
        following = (current.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        ranges.append((current, min(following - datetime.timedelta(days=1), end)))
        current = following
    return ranges
