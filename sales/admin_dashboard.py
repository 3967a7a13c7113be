"""The sales ledger's dashboard panels (sofinance.dashboard): AR aging as a chart, and the
invoices overdue or due within the next two weeks. Both read sales.reports as of today."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Company
from sales import reports
from sofinance import dashboard
from sofinance.display import display_amount
from sofinance.permissions import Action

DUE_SOON_DAYS = 14
DUE_SOON_ROWS = 10
BUCKET_LABELS = ("Current", "1–30 days", "31–60 days", "61–90 days", "Over 90 days")


def aging_context(request: HttpRequest, company: Company) -> dict[str, Any]:
    today = timezone.localdate()
    aging = reports.ar_aging(company=company, as_of=today)
    totals = aging.totals
    buckets = [getattr(totals, name) for name in reports.BUCKETS]
    return {
        "chart": {
            "kind": "bar",
            "horizontal": True,
            "currency": company.currency,
            "labels": list(BUCKET_LABELS),
            "series": [
                {
                    "label": "Open invoices",
                    "values": [str(value) for value in buckets],
                    "colors": ["#2e7d32", "#f9a825", "#ef6c00", "#d84315", "#b71c1c"],
                }
            ],
        },
        "chart_id": "chart-ar-aging",
        "total": display_amount(totals.total, company.currency),
        "overdue": display_amount(sum(buckets[1:], reports.ZERO), company.currency),
        "unapplied": display_amount(totals.unapplied_credit, company.currency),
        "has_credit": totals.unapplied_credit != 0,
        "currency": company.currency,
        "report_url": f"{reverse('admin:sales_reports_ar_aging')}?as_of={today.isoformat()}",
    }


def due_soon_context(request: HttpRequest, company: Company) -> dict[str, Any]:
    today = timezone.localdate()
    horizon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    items = [item for item in reports.ar_open_items(company=company, as_of=today) if item.due_date <= horizon]
    items.sort(key=lambda item: (item.due_date, item.number))
    return {
        "rows": [
            {
                "number": item.number,
                "customer": item.customer.name,
                "due_date": item.due_date,
                "days": item.days_past_due,
                "overdue": item.days_past_due > 0,
                "open": f"{display_amount(item.open_amount, item.currency)} {item.currency}",
                "url": reverse("admin:sales_invoice_change", args=[item.invoice_id]),
            }
            for item in items[:DUE_SOON_ROWS]
        ],
        "more": max(len(items) - DUE_SOON_ROWS, 0),
        "horizon": horizon,
        "days": DUE_SOON_DAYS,
        "invoices_url": reverse("admin:sales_invoice_changelist"),
    }


def register_panels() -> None:
    dashboard.register(
        dashboard.Panel(
            key="ar-aging",
            title="Receivables by age",
            template="admin/sales/dashboard/ar_aging.html",
            order=20,
            action=Action.REPORTS_VIEW,
            context=aging_context,
            width="third",
        )
    )
    dashboard.register(
        dashboard.Panel(
            key="due-soon",
            title="Invoices overdue or due soon",
            template="admin/sales/dashboard/due_soon.html",
            order=50,
            action=Action.SALES_VIEW,
            context=due_soon_context,
            width="half",
        )
    )
