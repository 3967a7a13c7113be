"""The ledger's dashboard panels (sofinance.dashboard): cash and bank, revenue and expenses over
the last 12 months (a chart), recent activity in the journal, and where the close stands.

Each panel's context is one or two selector calls (ledger.reports, ledger.selectors) formatted
for people (sofinance.display); the charts get their figures as JSON (json_script) and are drawn
by static/sofinance/dashboard.js.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Company
from ledger import reports
from ledger.demo import add_months
from ledger.models import AccountingPeriod, EntryStatus, JournalEntry, PeriodStatus
from sofinance import dashboard
from sofinance.admin import admin_can
from sofinance.display import display_amount
from sofinance.permissions import Action

RESULT_MONTHS = 12
RECENT_ENTRIES = 8


def cash_context(request: HttpRequest, company: Company) -> dict[str, Any] | None:
    position = reports.cash_position(company=company, as_of=timezone.localdate())
    if not position.accounts:
        return None
    money = company.currency
    return {
        "as_of": position.as_of,
        "rows": [
            {
                "code": row.account.code,
                "name": row.account.name,
                "balance": display_amount(row.balance, money),
                "in_currency": (
                    f"{display_amount(row.balance_in_currency, row.account.currency)} {row.account.currency}"
                    if row.balance_in_currency is not None
                    else ""
                ),
                "url": _statement_url(row.account.id),
            }
            for row in position.accounts
        ],
        "total": display_amount(position.total, money),
        "currency": money,
    }


def _statement_url(account_id: int) -> str:
    return f"{reverse('admin:ledger_reports_general_ledger')}?account={account_id}"


def results_context(request: HttpRequest, company: Company) -> dict[str, Any]:
    today = timezone.localdate()
    last = today.replace(day=1)
    first = add_months(last, -(RESULT_MONTHS - 1))
    months = reports.monthly_results(company=company, first_month=first, last_month=last)
    income = sum((m.income for m in months), reports.ZERO)
    expenses = sum((m.expenses for m in months), reports.ZERO)
    this_month = months[-1]
    return {
        "chart": {
            "kind": "bar",
            "currency": company.currency,
            "labels": [f"{m.month:%b %Y}" for m in months],
            "series": [
                {"label": "Revenue", "values": [str(m.income) for m in months], "color": "#2e7d32"},
                {"label": "Expenses", "values": [str(m.expenses) for m in months], "color": "#c62828"},
                {
                    "label": "Net income",
                    "values": [str(m.net) for m in months],
                    "color": "#1565c0",
                    "line": True,
                },
            ],
        },
        "chart_id": "chart-results",
        "first": first,
        "income": display_amount(income, company.currency),
        "expenses": display_amount(expenses, company.currency),
        "net": display_amount(income - expenses, company.currency),
        "month_income": display_amount(this_month.income, company.currency),
        "month_expenses": display_amount(this_month.expenses, company.currency),
        "month_net": display_amount(this_month.net, company.currency),
        "currency": company.currency,
        "income_statement_url": (
            f"{reverse('admin:ledger_reports_income_statement')}?date_from={first.isoformat()}"
            f"&date_to={today.isoformat()}"
        ),
    }


def activity_context(request: HttpRequest, company: Company) -> dict[str, Any]:
    entries = list(
        JournalEntry.objects.filter(company=company, status=EntryStatus.POSTED)
        .select_related("posted_by")
        .order_by("-posted_at", "-id")[:RECENT_ENTRIES]
    )
    drafts = JournalEntry.objects.filter(company=company, status=EntryStatus.DRAFT).count()
    return {
        "entries": [
            {
                "number": entry.number,
                "date": entry.date,
                "description": entry.description,
                "source": entry.get_source_display(),
                "posted_by": entry.posted_by.username if entry.posted_by else "system",
                "posted_at": entry.posted_at,
                "url": reverse("admin:ledger_journalentry_change", args=[entry.pk]),
            }
            for entry in entries
        ],
        "drafts": drafts,
        "drafts_url": f"{reverse('admin:ledger_journalentry_changelist')}?status__exact=draft",
    }


def close_context(request: HttpRequest, company: Company) -> dict[str, Any]:
    today = timezone.localdate()
    periods = AccountingPeriod.objects.filter(company=company)
    current = periods.filter(start_date__lte=today, end_date__gte=today).first()
    counts = periods.aggregate(
        open_before=Count("pk", filter=Q(end_date__lt=today, status=PeriodStatus.OPEN)),
        closed=Count("pk", filter=~Q(status=PeriodStatus.OPEN)),
    )
    last_closed = periods.exclude(status=PeriodStatus.OPEN).order_by("-end_date").first()
    return {
        "has_periods": periods.exists(),
        "current": current,
        "open_before": counts["open_before"],
        "last_closed": last_closed,
        "periods_url": reverse("admin:ledger_accountingperiod_changelist"),
        "generate_url": reverse("admin:ledger_accountingperiod_generate"),
        "may_manage": admin_can(request, company.pk, Action.PERIODS_MANAGE),
        "today": today,
    }


def register_panels() -> None:
    dashboard.register(
        dashboard.Panel(
            key="cash",
            title="Cash and bank",
            template="admin/ledger/dashboard/cash.html",
            order=10,
            action=Action.REPORTS_VIEW,
            context=cash_context,
            width="third",
        )
    )
    dashboard.register(
        dashboard.Panel(
            key="results",
            title="Revenue and expenses, last 12 months",
            template="admin/ledger/dashboard/results.html",
            order=40,
            action=Action.REPORTS_VIEW,
            context=results_context,
            width="half",
        )
    )
    dashboard.register(
        dashboard.Panel(
            key="close",
            title="Close",
            template="admin/ledger/dashboard/close.html",
            order=30,
            action=Action.PERIODS_VIEW,
            context=close_context,
            width="third",
        )
    )
    dashboard.register(
        dashboard.Panel(
            key="activity",
            title="Recent activity in the journal",
            template="admin/ledger/dashboard/activity.html",
            order=60,
            action=Action.JOURNAL_VIEW,
            context=activity_context,
            width="full",
        )
    )
