"""Celery tasks of the sales app (thin: each calls one service)."""

from __future__ import annotations

import datetime

import structlog
from celery import shared_task
from django.utils import timezone

from accounts.models import Company
from audit.context import system_actor
from sales.services import sales_summaries_rebuild

logger = structlog.get_logger("sofinance.sales")

DEFAULT_DAYS = 7


@shared_task(name="sales.tasks.sales_summary_rebuild_task")
def sales_summary_rebuild_task(
    company_id: int | None = None, date_from: str | None = None, date_to: str | None = None
) -> dict:
    """Recompute the stored daily sales summary from the documents (default: every company, the
    last 7 days up to today) and log every day that differed (beat runs it nightly)."""
    today = timezone.localdate()
    end = datetime.date.fromisoformat(date_to) if date_to else today
    start = (
        datetime.date.fromisoformat(date_from)
        if date_from
        else end - datetime.timedelta(days=DEFAULT_DAYS - 1)
    )
    company = Company.objects.get(pk=company_id) if company_id is not None else None
    with system_actor("task:sales.summary_rebuild"):
        results = sales_summaries_rebuild(date_from=start, date_to=end, company=company)
    differed = [r for r in results if r.differed]
    for result in differed:
        logger.warning(
            "sales_summary_differed",
            company_id=result.company_id,
            days=len(result.differences),
            first=result.differences[:5],
        )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "companies": len(results),
        "differed": len(differed),
    }
