"""Integrity runs, discrepancies and exports over the API (thin: parse, call one service or
selector, render). Starting a run or an export answers 202 at once: a worker does the job, and
the client follows it with GET."""

from __future__ import annotations

import django_filters
from django.core.files.storage import storages
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView

from jobs import selectors, services
from jobs.api import examples
from jobs.api import serializers as s
from jobs.errors import ExportExpired, ExportNotReady
from jobs.models import Discrepancy, DiscrepancyStatus, ExportJob, IntegrityRun, JobStatus, Trigger
from jobs.services.exports import CONTENT_TYPES
from sofinance.api.idempotency import idempotent
from sofinance.api.pagination import EnvelopeCursorPagination
from sofinance.api.schema import refusals
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import no_body, ok, validated
from sofinance.errors import NotFound, PermissionDenied
from sofinance.permissions import Action


class NewestFirst(EnvelopeCursorPagination):
    ordering = "-id"


class _Scoped(CompanyScopedMixin, GenericAPIView):
    def context(self) -> dict:
        return {"currency": self.company.currency, "request": self.request}

    def fake(self) -> bool:
        return getattr(self, "swagger_fake_view", False)


# --------------------------------------------------------------------------- integrity runs


class IntegrityRunListView(_Scoped):
    serializer_class = s.IntegrityRunOutput
    pagination_class = NewestFirst
    actions = {"get": Action.INTEGRITY_VIEW, "post": Action.INTEGRITY_RUN}

    def get_queryset(self):
        if self.fake():
            return IntegrityRun.objects.none()
        return selectors.integrity_runs_for_company(company=self.company)

    @extend_schema(
        operation_id="companies_integrity_runs_list",
        summary="List integrity runs",
        description="The company's integrity runs, newest first (keyset cursor: follow "
        "`meta.pagination.next`). Beat runs one every night; `POST` starts one now. Accountants, "
        "controllers, auditors and admins.",
        responses={200: s.IntegrityRunOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.IntegrityRunOutput(page, many=True).data)

    @extend_schema(
        operation_id="companies_integrity_runs_create",
        summary="Start an integrity run",
        description="Queues a reconciliation of the company's books and answers **202** at once with the "
        "run (`status` `queued`); a worker runs it, and `GET …/integrity-runs/{id}` shows its progress and, "
        "when `done`, the discrepancies it found.\n\n"
        "A run recomputes the stored balances from the journal lines, re-checks that every posted entry "
        "balances and agrees with its lines, compares each invoice, credit note and payment with its "
        "journal entries, the receivables accounts with the open invoices (in total and per customer, as of "
        "today), the stored sales summary with the revenue in the ledger, and verifies the company's audit "
        "chain. It never changes the books: the records a discrepancy names are quarantined (`quarantined: "
        "true` on journal entries, invoices, credit notes and payments) and, where a correction can be "
        "computed, a **draft** journal entry is proposed for an accountant to review and post.\n\n"
        "No body. Two runs of one company never overlap: the second waits for the first. Accountants, "
        "controllers and admins; send an `Idempotency-Key` so a retried request does not queue a second run.",
        request=None,
        responses={202: s.IntegrityRunOutput},
        examples=examples.RUN_CREATE,
    )
    @idempotent
    @no_body
    def post(self, request, company_id):
        run = services.integrity_run_request(company=self.company, by=request.user, trigger=Trigger.API)
        return ok(s.IntegrityRunOutput(run).data, status=202)


class IntegrityRunDetailView(_Scoped):
    serializer_class = s.IntegrityRunDetailOutput
    actions = {"get": Action.INTEGRITY_VIEW}

    @extend_schema(
        operation_id="companies_integrity_runs_retrieve",
        summary="Get an integrity run with its discrepancies",
        description="The run's status (`queued`, `running`, `done`, `failed`), when it started and "
        "finished, what each check read (`counts`) and every discrepancy it found (new ones and open ones "
        "found again), each with what was expected and found, its status and the draft entry proposed to "
        "correct it (`proposed_entry`, null when none can be computed).",
        responses={200: s.IntegrityRunDetailOutput},
        examples=examples.RUN_RETRIEVE,
    )
    def get(self, request, company_id, pk):
        run = selectors.integrity_run_get(company=self.company, pk=int(pk))
        if run is None:
            raise NotFound()
        return ok(s.IntegrityRunDetailOutput(run, context=self.context()).data)


class DiscrepancyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=DiscrepancyStatus.choices,
        help_text="`open` (its records are quarantined now) or `resolved`.",
    )
    kind = django_filters.ChoiceFilter(
        choices=[(kind, kind) for kind in services.DISCREPANCY_KINDS],
        help_text="Only discrepancies of this kind (what is wrong), e.g. `invoice_entry_mismatch`.",
    )

    class Meta:
        model = Discrepancy
        fields = ["status", "kind"]


class DiscrepancyListView(_Scoped):
    serializer_class = s.DiscrepancyOutput
    pagination_class = NewestFirst
    filterset_class = DiscrepancyFilter
    actions = {"get": Action.INTEGRITY_VIEW}

    def get_queryset(self):
        if self.fake():
            return Discrepancy.objects.none()
        return selectors.discrepancies_for_company(company=self.company)

    @extend_schema(
        operation_id="companies_discrepancies_list",
        summary="List discrepancies",
        description="Every discrepancy integrity runs found in the company's books, newest first (keyset "
        "cursor: follow `meta.pagination.next`). `status=open` lists what is quarantined now; `kind` narrows "
        "to one kind of problem. An unknown `status` or `kind` is 400 `validation_error`.",
        responses={200: s.DiscrepancyOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.DiscrepancyOutput(page, many=True, context=self.context()).data)


class DiscrepancyResolveView(_Scoped):
    serializer_class = s.DiscrepancyOutput
    actions = {"post": Action.DISCREPANCIES_RESOLVE}

    @extend_schema(
        operation_id="companies_discrepancies_resolve",
        summary="Resolve a discrepancy",
        description="Marks the discrepancy resolved with a `note` saying why (what was corrected, or why "
        "the difference stands); who and why go to the audit trail, and the quarantine of the records it "
        "named is lifted (a record another open discrepancy names stays quarantined). It changes nothing in "
        "the books: post the proposed draft (`POST …/journal-entries/{id}/post`), or another correction, "
        "yourself. A later run that finds the same problem opens a new discrepancy.\n\n"
        "Controllers and admins. Already resolved: 409 (reason `already_resolved`).",
        request=s.DiscrepancyResolveInput,
        responses={
            200: s.DiscrepancyOutput,
            409: refusals("`conflict` with `details.reason` `already_resolved`. Nothing was written."),
        },
        examples=examples.DISCREPANCY_RESOLVE,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.DiscrepancyResolveInput, request.data)
        discrepancy = selectors.discrepancy_get(company=self.company, pk=int(pk))
        if discrepancy is None:
            raise NotFound()
        resolved = services.discrepancy_resolve(discrepancy=discrepancy, by=request.user, note=data["note"])
        return ok(s.DiscrepancyOutput(resolved, context=self.context()).data)


# --------------------------------------------------------------------------- exports


class _ExportScoped(_Scoped):
    def kinds(self) -> list[str]:
        return selectors.export_kinds_readable(role=self.membership.role)

    def download_url(self, job: ExportJob) -> str:
        if selectors.storage_is_local():
            path = reverse("export-download", kwargs={"company_id": job.company_id, "pk": job.pk})
            return self.request.build_absolute_uri(path)
        return selectors.export_presigned_url(job)

    def context(self) -> dict:
        return {**super().context(), "download_url": self.download_url}

    def job(self, pk) -> ExportJob:
        job = selectors.export_get(company=self.company, pk=int(pk), kinds=self.kinds())
        if job is None:
            raise NotFound()
        return job


class ExportListView(_ExportScoped):
    serializer_class = s.ExportOutput
    pagination_class = NewestFirst
    actions = {"get": Action.EXPORTS_CREATE, "post": Action.EXPORTS_CREATE}

    def get_queryset(self):
        if self.fake():
            return ExportJob.objects.none()
        return selectors.exports_for_company(company=self.company, kinds=self.kinds())

    @extend_schema(
        operation_id="companies_exports_list",
        summary="List exports",
        description="The company's exports newest first, of the kinds your role may read (audit events "
        "only for controllers, auditors and admins).",
        responses={200: s.ExportOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.ExportOutput(page, many=True, context=self.context()).data)

    @extend_schema(
        operation_id="companies_exports_create",
        summary="Start an export",
        description="Queues an export and answers **202** with the job (`status` `queued`). A worker "
        "streams the rows into a file on the company's storage; follow it with `GET …/exports/{id}` "
        "(`progress` 0–100) until `status` is `done`, then fetch `download_url`.\n\n"
        "`kind` and its parameters, as the report takes them:\n"
        "- `trial_balance`, `balance_sheet`, `ar_aging`: `as_of` (default today);\n"
        "- `income_statement`: `from` and `to` (required);\n"
        "- `general_ledger`: `account` (id or code, required), `from`, `to`;\n"
        "- `journal_lines`: `from`, `to`, `account` (all optional): every posted line in book order;\n"
        "- `invoices`: `from`, `to` (invoice date); `audit_events`: `from`, `to`;\n"
        "- `beancount`: the books as a Beancount ledger (`format` `beancount`), optionally up to `to`.\n\n"
        "`format` is `csv` (default) or `xlsx` for every kind but `beancount`. A parameter the kind does "
        "not take, a missing one, a bad date or `to` before `from` is 400 `validation_error`; an unknown "
        "account 422 `invalid_account`; a kind your role may not read 403. Nothing is queued then. Files "
        "are kept `EXPORT_TTL_HOURS` (7 days by default).",
        request=s.ExportCreateInput,
        responses={
            202: s.ExportOutput,
            403: refusals(
                "`permission_denied`: your role may not read what this kind of export holds (`audit_events`: "
                "controllers, auditors and admins only); `error.details.kind` names it. Nothing is queued."
            ),
            422: refusals(
                "`invalid_account`: the `account` names no account of the company. Nothing is queued."
            ),
        },
        examples=examples.EXPORT_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.ExportCreateInput, request.data)
        kind = data["kind"]
        if kind not in self.kinds():
            raise PermissionDenied(
                f"Your role ({self.membership.role}) may not read what the {kind} export holds.",
                details={"role": self.membership.role, "kind": kind},
            )
        job = services.export_request(
            company=self.company,
            by=request.user,
            kind=kind,
            fmt=data.get("format"),
            parameters={
                name: request.data.get(name) for name in ("as_of", "from", "to", "account") if name in data
            },
        )
        return ok(s.ExportOutput(job, context=self.context()).data, status=202)


class ExportDetailView(_ExportScoped):
    serializer_class = s.ExportOutput
    actions = {"get": Action.EXPORTS_CREATE}

    @extend_schema(
        operation_id="companies_exports_retrieve",
        summary="Get an export",
        description="The export's status (`queued`, `running`, `done`, `failed`), `progress` (0–100), "
        "`row_count` and, when done, `download_url`: on S3 a pre-signed URL valid for "
        "`EXPORT_URL_TTL_SECONDS` (ask again for a fresh one), on local storage this API's download "
        "endpoint (send your token). `error` says why a failed export failed.",
        responses={200: s.ExportOutput},
        examples=examples.EXPORT_RETRIEVE,
    )
    def get(self, request, company_id, pk):
        return ok(s.ExportOutput(self.job(pk), context=self.context()).data)


class ExportDownloadView(_ExportScoped):
    serializer_class = s.ExportOutput
    actions = {"get": Action.EXPORTS_CREATE}

    @extend_schema(
        operation_id="companies_exports_download",
        summary="Download an export's file",
        description="The file of a finished export (CSV, XLSX or Beancount text) as an attachment; on S3 a "
        "302 redirect to a fresh pre-signed URL. 409 `conflict` with reason `export_not_ready` before the "
        "export is done, `export_expired` once its file was deleted.",
        responses={
            **{
                (200, content_type.split(";")[0]): OpenApiResponse(
                    OpenApiTypes.BINARY,
                    description="The file: CSV, XLSX or Beancount text, as an attachment.",
                )
                for content_type in CONTENT_TYPES.values()
            },
            302: OpenApiResponse(description="Redirect to a pre-signed S3 URL."),
            409: refusals(
                "`conflict` with `details.reason` `export_not_ready` (it is still queued or running) or `export_expired` "
                "(its file was deleted: request a new export)."
            ),
        },
    )
    def get(self, request, company_id, pk):
        job = self.job(pk)
        if job.status != JobStatus.DONE:
            raise ExportNotReady(f"The export is {job.status}.", details={"status": job.status})
        if not job.has_file:
            raise ExportExpired()
        if not selectors.storage_is_local():
            return HttpResponseRedirect(selectors.export_presigned_url(job))
        try:
            handle = storages["default"].open(job.file_name, "rb")
        except FileNotFoundError:
            # The row says the file is there, the storage no longer has it (deleted by hand, a
            # storage moved): as good as expired.
            raise ExportExpired() from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=job.file_name.rsplit("/", 1)[-1],
            content_type=CONTENT_TYPES[job.format],
        )
