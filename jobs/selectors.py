"""Reads of the jobs app: runs, discrepancies and exports of a company, who may read which export,
and where an export's file is downloaded from."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db.models import Prefetch, QuerySet

from accounts.models import Company
from jobs.models import Discrepancy, ExportJob, ExportKind, IntegrityRun
from sofinance.permissions import Action, role_can

# What a role needs to read (and so to export) each kind, besides exports.create.
KIND_ACTIONS: dict[str, Action] = {
    ExportKind.TRIAL_BALANCE: Action.REPORTS_VIEW,
    ExportKind.BALANCE_SHEET: Action.REPORTS_VIEW,
    ExportKind.INCOME_STATEMENT: Action.REPORTS_VIEW,
    ExportKind.GENERAL_LEDGER: Action.REPORTS_VIEW,
    ExportKind.AR_AGING: Action.REPORTS_VIEW,
    ExportKind.JOURNAL_LINES: Action.JOURNAL_VIEW,
    ExportKind.BEANCOUNT: Action.JOURNAL_VIEW,
    ExportKind.INVOICES: Action.SALES_VIEW,
    ExportKind.AUDIT_EVENTS: Action.AUDIT_VIEW,
}


def export_kinds_readable(*, role: str) -> list[str]:
    return [kind for kind, action in KIND_ACTIONS.items() if role_can(role, action)]


def integrity_runs_for_company(*, company: Company) -> QuerySet[IntegrityRun]:
    return IntegrityRun.objects.filter(company=company).select_related("requested_by")


def integrity_run_get(*, company: Company, pk: int) -> IntegrityRun | None:
    return (
        integrity_runs_for_company(company=company)
        .prefetch_related(
            Prefetch(
                "discrepancies", queryset=Discrepancy.objects.select_related("resolved_by").order_by("id")
            )
        )
        .filter(pk=pk)
        .first()
    )


def discrepancies_for_company(*, company: Company) -> QuerySet[Discrepancy]:
    return Discrepancy.objects.filter(company=company).select_related("resolved_by")


def discrepancy_get(*, company: Company, pk: int) -> Discrepancy | None:
    return discrepancies_for_company(company=company).filter(pk=pk).first()


def exports_for_company(*, company: Company, kinds: list[str] | None = None) -> QuerySet[ExportJob]:
    jobs = ExportJob.objects.filter(company=company).select_related("requested_by")
    return jobs if kinds is None else jobs.filter(kind__in=kinds)


def export_get(*, company: Company, pk: int, kinds: list[str] | None = None) -> ExportJob | None:
    return exports_for_company(company=company, kinds=kinds).filter(pk=pk).first()


def storage_is_local() -> bool:
    return isinstance(storages["default"], FileSystemStorage)


def export_presigned_url(job: ExportJob) -> str:
    """A time-limited URL of the file on S3 (EXPORT_URL_TTL seconds), signed for this file only."""
    return storages["default"].url(job.file_name, expire=settings.EXPORT_URL_TTL)
