"""Exchange rates: stored per currency pair and day, used when a line gives no rate."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from accounts.models import Company, User
from audit.changes import diff, json_value
from audit.services import audit_record
from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE, ExchangeRate
from sofinance.errors import ValidationFailed
from sofinance.money import RATE_DECIMAL_PLACES, MoneyError, decimal_places, is_valid_currency, parse_amount


def exchange_rate_set(
    *,
    company: Company,
    from_currency: str,
    to_currency: str,
    date: datetime.date,
    rate: Any,
    by: User | None,
) -> ExchangeRate:
    """Store (or replace) the rate for a currency pair on a date."""
    from_currency, to_currency = (from_currency or "").upper(), (to_currency or "").upper()
    problems: dict[str, list[str]] = {}
    for field, code in (("from_currency", from_currency), ("to_currency", to_currency)):
        if not is_valid_currency(code):
            problems[field] = [f"{code!r} is not an ISO 4217 currency."]
    if from_currency == to_currency:
        problems["to_currency"] = ["A rate converts between two different currencies."]
    if not FIRST_BOOK_DATE <= date <= LAST_BOOK_DATE:
        problems["date"] = [f"Accounting dates run from {FIRST_BOOK_DATE} to {LAST_BOOK_DATE}."]
    try:
        value = parse_amount(rate)
        if value <= 0 or decimal_places(value) > RATE_DECIMAL_PLACES:
            problems["rate"] = [f"A rate is positive with at most {RATE_DECIMAL_PLACES} decimals."]
    except MoneyError as exc:
        problems["rate"] = [str(exc)]
    if problems:
        raise ValidationFailed(details=problems)
    with transaction.atomic():
        existing = (
            ExchangeRate.objects.select_for_update()
            .filter(company=company, from_currency=from_currency, to_currency=to_currency, date=date)
            .first()
        )
        if existing is not None:
            before = json_value(existing.rate)
            existing.rate = value
            existing.save(update_fields=["rate"])
            if before != json_value(value):
                audit_record(
                    action="update",
                    company=company,
                    obj=existing,
                    actor=by,
                    changes={"rate": {"before": before, "after": json_value(value)}},
                )
            return existing
        created = ExchangeRate.objects.create(
            company=company, from_currency=from_currency, to_currency=to_currency, date=date, rate=value
        )
        audit_record(
            action="create",
            company=company,
            obj=created,
            actor=by,
            changes=diff(
                None,
                {"from_currency": from_currency, "to_currency": to_currency, "date": date, "rate": value},
            ),
        )
        return created


def exchange_rate_delete(*, rate: ExchangeRate, by: User | None) -> None:
    """Remove a stored rate (lines already posted keep the rate they were converted at)."""
    with transaction.atomic():
        audit_record(
            action="delete",
            company=rate.company_id,
            obj=rate,
            actor=by,
            changes=diff(
                {
                    "from_currency": rate.from_currency,
                    "to_currency": rate.to_currency,
                    "date": rate.date,
                    "rate": rate.rate,
                },
                None,
            ),
        )
        rate.delete()
