"""Every report page of the admin, registered by the app that serves it, and the export hook.

    report_pages.register(ReportPage(
        key="trial_balance", title="Trial balance", description="...",
        url_name="admin:ledger_reports_trial_balance", group="Ledger", order=10,
    ))

The Reports menu, the reports index and the dashboard's links read this list; a page shows for
users whose role in the current company allows `action` (reports.view by default). Banking adds
its bank reconciliation the same way (banking/admin_reports.py).

Exports: a report page offers "Export" buttons (CSV, XLSX) when an export starter is registered
(`register_export_starter`): the jobs app, which runs exports as Celery jobs, registers one that
names the API endpoint creating an export (`POST …/companies/{id}/exports`, DESIGN.md's export
resource: `kind`, `format`, the report's parameters; answered with `id`, `status`, `progress`,
`download_url`). The page's script (static/sofinance/export_progress.js) starts the job, polls it
and shows its progress and the download link. Until a starter is registered the pages offer the
CSV download of the report API only. The jobs app registers its starter from jobs/admin.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sofinance.permissions import Action


@dataclass(frozen=True)
class ReportPage:
    key: str
    title: str
    description: str
    url_name: str
    group: str
    order: int
    action: Action = Action.REPORTS_VIEW
    export_kind: str | None = None  # DESIGN.md's export `kind` of this report, when it has one


_pages: dict[str, ReportPage] = {}


def register(page: ReportPage) -> None:
    _pages[page.key] = page


def registered() -> list[ReportPage]:
    return sorted(_pages.values(), key=lambda page: (page.order, page.key))


# --------------------------------------------------------------------------- exports


@dataclass(frozen=True)
class ExportStarter:
    """Where a report page starts an export job and reads its progress.

    `create_url(company_id)` is the URL the page POSTs the export to (JSON, session auth, CSRF
    header); `formats` the formats offered. The created export's own URL is `create_url` + "/" +
    its id (DESIGN.md's resource path), polled until `status` is done or failed.
    """

    create_url: Callable[[int], str]
    formats: tuple[str, ...] = ("csv", "xlsx")
    kinds: frozenset[str] = field(default_factory=frozenset)  # empty: every kind


_export_starter: list[ExportStarter] = []


def register_export_starter(starter: ExportStarter) -> None:
    _export_starter[:] = [starter]


def unregister_export_starter() -> None:
    _export_starter.clear()


def registered_export_starter() -> ExportStarter | None:
    return _export_starter[0] if _export_starter else None


@dataclass(frozen=True)
class ExportOffer:
    create_url: str
    kind: str
    formats: tuple[str, ...]
    params: dict[str, str]


def export_offer(*, company_id: int, kind: str | None, params: dict[str, str]) -> ExportOffer | None:
    """What a report page offers to export (None: no exporter, or the report has no kind)."""
    if not _export_starter or kind is None:
        return None
    starter = _export_starter[0]
    if starter.kinds and kind not in starter.kinds:
        return None
    return ExportOffer(
        create_url=starter.create_url(company_id), kind=kind, formats=starter.formats, params=params
    )
