"""Admin of the jobs app: the latest integrity runs, open discrepancies (with links to the records
and the proposed draft, and a Resolve page), and export jobs with progress and download links.

Thin: runs and exports are started and discrepancies resolved through the services (which audit
themselves); nothing here is edited by hand.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import Company
from jobs import selectors
from jobs.admin_dashboard import register_panels as register_dashboard_panels
from jobs.admin_display import checked_summary, figure, kind_label, record_link
from jobs.models import (
    Discrepancy,
    DiscrepancyStatus,
    ExportFormat,
    ExportJob,
    ExportKind,
    IntegrityRun,
    JobStatus,
    Trigger,
)
from jobs.services import discrepancy_resolve, integrity_run_request
from jobs.services.exports import CONTENT_TYPES
from sofinance import admin_menu, quarantine, report_pages
from sofinance.admin import CompanyScopedAdmin, admin_can, admin_companies, admin_roles
from sofinance.admin_menu import Section
from sofinance.company_context import current_company, current_company_id
from sofinance.errors import APIError
from sofinance.permissions import Action


class ReadOnlyAdmin(CompanyScopedAdmin):
    audit_admin_changes = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IntegrityRun)
class IntegrityRunAdmin(ReadOnlyAdmin):
    view_action = Action.INTEGRITY_VIEW
    list_display = [
        "id",
        "company",
        "scope",
        "trigger",
        "status",
        "created_at",
        "finished_at",
        "discrepancy_count",
        "new_discrepancy_count",
        "proposed_count",
    ]
    list_filter = ["status", "trigger", ("company", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["company", "requested_by"]
    ordering = ["-id"]
    actions = ["run_again"]
    readonly_fields = [
        "company",
        "scope",
        "trigger",
        "status",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "as_of",
        "attempts",
        "discrepancy_count",
        "new_discrepancy_count",
        "proposed_count",
        "checked",
        "error",
        "discrepancies_found",
    ]

    @admin.display(description="checked")
    def checked(self, run: IntegrityRun) -> str:
        return checked_summary(run.counts) or "—"

    @admin.display(description="discrepancies")
    def discrepancies_found(self, run: IntegrityRun):
        rows = run.discrepancies.order_by("id")
        if not rows:
            return "None found."
        return format_html(
            "<table><tr><th>#</th><th>kind</th><th>record</th><th>expected</th><th>found</th>"
            "<th>status</th><th>proposed draft</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        record_link("jobs.discrepancy", d.pk, str(d.pk)),
                        kind_label(d.kind),
                        record_link(d.object_type, d.object_id, d.object_repr),
                        figure(d.expected, run.company),
                        figure(d.found, run.company),
                        d.get_status_display(),
                        record_link(
                            "ledger.journalentry", d.proposed_entry_id, f"draft #{d.proposed_entry_id}"
                        )
                        if d.proposed_entry_id
                        else "—",
                    )
                    for d in rows
                ),
            ),
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not admin_can(request, current_company_id(request), Action.INTEGRITY_RUN):
            actions.pop("run_again", None)  # an auditor reads the runs, and starts none
        return actions

    def get_urls(self):
        return [
            path(
                "start/",
                self.admin_site.admin_view(require_POST(self.start_view)),
                name="jobs_integrityrun_start",
            ),
            *super().get_urls(),
        ]

    def start_view(self, request):
        """Start a run of the current company's books now (the dashboard's "Run the checks now")."""
        company = current_company(request)
        if company is None or not admin_can(request, company.pk, Action.INTEGRITY_RUN):
            raise PermissionDenied
        run = integrity_run_request(company=company, by=request.user, trigger=Trigger.ADMIN)
        self.message_user(request, f"{company}: integrity run #{run.pk} queued.", messages.SUCCESS)
        target = request.POST.get("next") or reverse("admin:jobs_integrityrun_changelist")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:jobs_integrityrun_changelist")
        return HttpResponseRedirect(target)

    @admin.action(description="Start a new integrity run of these companies")
    def run_again(self, request, queryset):
        companies = {run.company_id for run in queryset if run.company_id is not None}
        for company in Company.objects.filter(pk__in=companies).order_by("pk"):
            if not admin_can(request, company.pk, Action.INTEGRITY_RUN):
                self.message_user(request, f"{company}: your role may not start a run.", messages.ERROR)
                continue
            run = integrity_run_request(company=company, by=request.user, trigger=Trigger.ADMIN)
            self.message_user(request, f"{company}: integrity run #{run.pk} queued.", messages.SUCCESS)


class ResolveForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why it is resolved (what was corrected, or why it stands): kept in the audit trail.",
    )


class KindFilter(admin.SimpleListFilter):
    """The kinds found in the rows the user sees, named for people ("Invoice entry mismatch")."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = model_admin.get_queryset(request).order_by("kind").values_list("kind", flat=True).distinct()
        return [(kind, kind_label(kind)) for kind in kinds]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdmin):
    view_action = Action.INTEGRITY_VIEW
    list_display = [
        "id",
        "company",
        "kind_shown",
        "record",
        "expected_shown",
        "found_shown",
        "status",
        "proposed_draft",
        "resolve_link",
    ]
    list_filter = ["status", KindFilter, ("company", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["company"]
    ordering = ["-id"]
    readonly_fields = [
        "company",
        "kind_shown",
        "record",
        "key",
        "expected_shown",
        "found_shown",
        "difference",
        "message",
        "details",
        "status",
        "proposed_draft",
        "proposal_note",
        "run",
        "last_run",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
        "resolved_by",
        "resolution_note",
        "resolve_link",
    ]

    @admin.display(description="kind", ordering="kind")
    def kind_shown(self, d: Discrepancy) -> str:
        return kind_label(d.kind)

    @admin.display(description="expected")
    def expected_shown(self, d: Discrepancy) -> str:
        return figure(d.expected, d.company)

    @admin.display(description="found")
    def found_shown(self, d: Discrepancy) -> str:
        return figure(d.found, d.company)

    @admin.display(description="record")
    def record(self, d: Discrepancy):
        return record_link(d.object_type, d.object_id, d.object_repr or f"{d.object_type}:{d.object_id}")

    @admin.display(description="proposed draft")
    def proposed_draft(self, d: Discrepancy):
        if not d.proposed_entry_id:
            return "—"
        return record_link("ledger.journalentry", d.proposed_entry_id, f"draft #{d.proposed_entry_id}")

    @admin.display(description="")
    def resolve_link(self, d: Discrepancy):
        if d.status != DiscrepancyStatus.OPEN:
            return ""
        return format_html(
            '<a href="{}">Resolve…</a>', reverse("admin:jobs_discrepancy_resolve", args=[d.pk])
        )

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Discrepancies", **(extra_context or {})})

    def get_urls(self):
        return [
            path(
                "<int:pk>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="jobs_discrepancy_resolve",
            ),
            *super().get_urls(),
        ]

    def resolve_view(self, request, pk: int):
        discrepancy = get_object_or_404(self.get_queryset(request), pk=pk)
        if not admin_can(request, discrepancy.company_id, Action.DISCREPANCIES_RESOLVE):
            raise PermissionDenied
        form = ResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                discrepancy_resolve(discrepancy=discrepancy, by=request.user, note=form.cleaned_data["note"])
            except APIError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"Discrepancy #{discrepancy.pk} resolved.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:jobs_discrepancy_change", args=[discrepancy.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve discrepancy #{discrepancy.pk}",
            "discrepancy": discrepancy,
            "record": self.record(discrepancy),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/jobs/discrepancy/resolve.html", context)


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    view_action = Action.EXPORTS_CREATE
    list_display = [
        "id",
        "company",
        "kind",
        "format",
        "parameters",
        "status",
        "progress_bar",
        "row_count",
        "created_at",
        "requested_by",
        "download",
    ]
    list_filter = ["status", "kind", "format", ("company", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["company", "requested_by"]
    ordering = ["-id"]
    readonly_fields = [
        "company",
        "kind",
        "format",
        "parameters",
        "status",
        "progress_bar",
        "row_count",
        "file_name",
        "file_size",
        "error",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
        "file_deleted_at",
        "attempts",
        "download",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        roles = admin_roles(request)
        allowed = admin_companies(request, Action.EXPORTS_CREATE) or []
        visible = ExportJob.objects.none()
        for company_id in allowed:
            kinds = selectors.export_kinds_readable(role=roles[company_id])
            visible |= queryset.filter(company_id=company_id, kind__in=kinds)
        return visible

    @admin.display(description="progress")
    def progress_bar(self, job: ExportJob):
        return format_html('<progress max="100" value="{}"></progress> {}%', job.progress, job.progress)

    @admin.display(description="file")
    def download(self, job: ExportJob):
        if job.has_file:
            return format_html(
                '<a href="{}">Download</a>', reverse("admin:jobs_exportjob_download", args=[job.pk])
            )
        if job.status == JobStatus.DONE:
            return "expired"
        return "—"

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="jobs_exportjob_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk: int):
        job = get_object_or_404(self.get_queryset(request), pk=pk)
        if not job.has_file:
            raise Http404("The export has no file.")
        if not selectors.storage_is_local():
            return HttpResponseRedirect(selectors.export_presigned_url(job))
        return FileResponse(
            storages["default"].open(job.file_name, "rb"),
            as_attachment=True,
            filename=job.file_name.rsplit("/", 1)[-1],
            content_type=CONTENT_TYPES[job.format],
        )


def export_create_url(company_id: int) -> str:
    """DESIGN.md's export resource, where a report page POSTs its export (session auth + CSRF)."""
    return reverse("export-list", kwargs={"company_id": company_id})


# Every report page with an export kind offers CSV and XLSX exports run by this app's workers.
report_pages.register_export_starter(
    report_pages.ExportStarter(
        create_url=export_create_url,
        formats=(ExportFormat.CSV.value, ExportFormat.XLSX.value),
        kinds=frozenset(kind.value for kind in ExportKind if kind != ExportKind.BEANCOUNT),
    )
)
register_dashboard_panels()
quarantine.register_discrepancy_url(lambda pk: reverse("admin:jobs_discrepancy_change", args=[pk]))

# Integrity runs and their discrepancies are part of the close; exports are reports to download.
admin_menu.place_model("jobs.integrityrun", section=Section.CLOSE, order=50, title="Integrity runs")
admin_menu.place_model("jobs.discrepancy", section=Section.CLOSE, order=60, title="Discrepancies")
admin_menu.place_model("jobs.exportjob", section=Section.REPORTS, order=300, title="Exports")
