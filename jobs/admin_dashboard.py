"""The jobs app's dashboard panel (sofinance.dashboard): the latest integrity run of the current
company (status, when, what it read and found) and the discrepancies still open, each with links
to the record it names and to the draft correction proposed for it.

Read through jobs.selectors; dates and numbers formatted as on every admin page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Company
from jobs import selectors
from jobs.admin_display import checked_summary, figure, kind_label, record_url
from jobs.models import DiscrepancyStatus, JobStatus
from sofinance import dashboard
from sofinance.admin import admin_can
from sofinance.permissions import Action

OPEN_ROWS = 8


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def integrity_context(request: HttpRequest, company: Company) -> dict[str, Any]:
    run = selectors.integrity_runs_for_company(company=company).order_by("-id").first()
    open_items = selectors.discrepancies_for_company(company=company).filter(status=DiscrepancyStatus.OPEN)
    open_count = open_items.count()
    discrepancies = reverse("admin:jobs_discrepancy_changelist")
    return {
        "run": run,
        "run_failed": run is not None and run.status == JobStatus.FAILED,
        "run_when": _when(run.finished_at or run.started_at or run.created_at) if run else "",
        "run_url": reverse("admin:jobs_integrityrun_change", args=[run.pk]) if run else None,
        "run_read": checked_summary(run.counts) if run else "",
        "runs_url": reverse("admin:jobs_integrityrun_changelist"),
        "start_url": (
            reverse("admin:jobs_integrityrun_start")
            if admin_can(request, company.pk, Action.INTEGRITY_RUN)
            else None
        ),
        "here": reverse("admin:index"),
        "open_count": open_count,
        "open_rows": [
            {
                "id": d.pk,
                "url": reverse("admin:jobs_discrepancy_change", args=[d.pk]),
                "kind": kind_label(d.kind),
                "record": d.object_repr or f"{d.object_type} #{d.object_id}",
                "record_url": record_url(d.object_type, d.object_id),
                "expected": figure(d.expected, company),
                "found": figure(d.found, company),
                "draft_url": record_url("ledger.journalentry", d.proposed_entry_id),
                "draft": f"Draft #{d.proposed_entry_id}" if d.proposed_entry_id else "",
            }
            for d in open_items.order_by("-id")[:OPEN_ROWS]
        ],
        "more": max(open_count - OPEN_ROWS, 0),
        "open_url": f"{discrepancies}?status__exact={DiscrepancyStatus.OPEN}",
    }


def register_panels() -> None:
    dashboard.register(
        dashboard.Panel(
            key="integrity",
            title="Integrity",
            template="admin/jobs/dashboard/integrity.html",
            order=57,
            action=Action.INTEGRITY_VIEW,
            context=integrity_context,
            width="half",
        )
    )
