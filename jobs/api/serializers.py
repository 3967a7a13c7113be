"""Shapes of the jobs API: integrity runs, discrepancies, exports."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs.models import (
    Discrepancy,
    DiscrepancyStatus,
    ExportFormat,
    ExportJob,
    ExportKind,
    IntegrityRun,
    JobStatus,
    RunScope,
    Trigger,
)
from jobs.services import KIND_PARAMETERS
from sofinance.api.fields import RawValueField, ReferenceField, StrictDateField
from sofinance.api.views import iso_datetime
from sofinance.money import format_amount


def _username(user) -> str | None:
    return user.username if user is not None else None


class DiscrepancyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(
        help_text="What is wrong: `balance_bucket_mismatch`, `unbalanced_entry`, `entry_line_mismatch`, "
        "`invoice_entry_mismatch`, `credit_note_entry_mismatch`, `payment_entry_mismatch`, "
        "`receivables_control_mismatch`, `customer_receivables_mismatch`, `sales_summary_mismatch`, "
        "`audit_chain_broken`."
    )
    object_type = serializers.CharField(help_text='The record it is about, e.g. "sales.invoice".')
    object_id = serializers.IntegerField()
    object_repr = serializers.CharField(help_text="The record's number or name.")
    key = serializers.CharField(help_text="Tells apart several findings on one record (a bucket's date).")
    expected = serializers.CharField(
        help_text="What the books say it should be (amounts in the company's currency)."
    )
    found = serializers.CharField(help_text="What is stored.")
    difference = serializers.CharField(allow_null=True, help_text="expected − found, for amounts.")
    message = serializers.CharField()
    details = serializers.DictField()
    status = serializers.ChoiceField(choices=DiscrepancyStatus.choices)
    proposed_entry = serializers.IntegerField(
        allow_null=True,
        help_text="A draft journal entry that would correct it, for an accountant to review and post "
        "(never posted by the run); null when no correction can be computed.",
    )
    proposal_note = serializers.CharField()
    run = serializers.IntegerField(help_text="The run that first found it.")
    last_run = serializers.IntegerField(help_text="The latest run that found it.")
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.CharField(allow_null=True)
    resolution_note = serializers.CharField()

    def to_representation(self, d: Discrepancy) -> dict:
        currency = self.context["currency"]
        return {
            "id": d.pk,
            "kind": d.kind,
            "object_type": d.object_type,
            "object_id": d.object_id,
            "object_repr": d.object_repr,
            "key": d.key,
            "expected": d.expected,
            "found": d.found,
            "difference": format_amount(d.difference, currency) if d.difference is not None else None,
            "message": d.message,
            "details": d.details,
            "status": d.status,
            "proposed_entry": d.proposed_entry_id,
            "proposal_note": d.proposal_note,
            "run": d.run_id,
            "last_run": d.last_run_id,
            "first_seen_at": iso_datetime(d.first_seen_at),
            "last_seen_at": iso_datetime(d.last_seen_at),
            "resolved_at": iso_datetime(d.resolved_at),
            "resolved_by": _username(d.resolved_by) if d.resolved_by_id else None,
            "resolution_note": d.resolution_note,
        }


class IntegrityRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    scope = serializers.ChoiceField(choices=RunScope.choices)
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    as_of = serializers.DateField(allow_null=True, help_text="The date receivables were compared as of.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    discrepancy_count = serializers.IntegerField(
        help_text="Discrepancies this run found (new or still open)."
    )
    new_discrepancy_count = serializers.IntegerField()
    proposed_count = serializers.IntegerField(help_text="Draft corrections this run proposed.")
    counts = serializers.DictField(help_text="What each check read (documents, buckets, events, seconds).")
    error = serializers.CharField(help_text="Why a failed run failed.")
    requested_by = serializers.CharField(allow_null=True)

    def to_representation(self, run: IntegrityRun) -> dict:
        return {
            "id": run.pk,
            "scope": run.scope,
            "trigger": run.trigger,
            "status": run.status,
            "as_of": run.as_of.isoformat() if run.as_of else None,
            "created_at": iso_datetime(run.created_at),
            "started_at": iso_datetime(run.started_at),
            "finished_at": iso_datetime(run.finished_at),
            "discrepancy_count": run.discrepancy_count,
            "new_discrepancy_count": run.new_discrepancy_count,
            "proposed_count": run.proposed_count,
            "counts": run.counts,
            "error": run.error,
            "requested_by": _username(run.requested_by) if run.requested_by_id else None,
        }


class IntegrityRunDetailOutput(IntegrityRunOutput):
    discrepancies = DiscrepancyOutput(many=True, help_text="Every discrepancy this run found.")

    def to_representation(self, run: IntegrityRun) -> dict:
        data = super().to_representation(run)
        data["discrepancies"] = DiscrepancyOutput(
            run.discrepancies.all(), many=True, context=self.context
        ).data
        return data


class TextField(serializers.CharField):
    """A JSON string (a number or a boolean is refused, not turned into text)."""

    default_error_messages = {"not_a_string": "Must be a JSON string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class DiscrepancyResolveInput(serializers.Serializer):
    note = TextField(
        max_length=2000,
        help_text="Why it is resolved (what was corrected, or why it stands): kept in the audit trail.",
    )


class ExportCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    format = serializers.ChoiceField(
        choices=ExportFormat.choices,
        required=False,
        help_text="`csv` (default) or `xlsx`; a `beancount` export is made (only) as `beancount`.",
    )
    as_of = StrictDateField(
        required=False, help_text="trial_balance, balance_sheet, ar_aging: the report's date (default today)."
    )
    account = ReferenceField(
        required=False, help_text="general_ledger (required), journal_lines (optional): account id or code."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = StrictDateField(
            required=False,
            help_text="income_statement (required), general_ledger, journal_lines, invoices, audit_events.",
        )
        fields["to"] = StrictDateField(
            required=False,
            help_text="income_statement (required), general_ledger, journal_lines, invoices, audit_events, "
            "beancount.",
        )
        return fields


@extend_schema_field({"type": "string", "format": "date", "nullable": True})
class _DateParameter(serializers.CharField):
    pass


class ExportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    as_of = _DateParameter(required=False, help_text="Present for kinds that take it.")
    account = RawValueField(required=False, help_text="As given (id or code), for kinds that take it.")
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = serializers.IntegerField(help_text="0–100.")
    row_count = serializers.IntegerField(help_text="Rows written so far (transactions for Beancount).")
    download_url = serializers.CharField(
        allow_null=True,
        help_text="When done: a pre-signed URL valid for a few minutes (S3), or this API's authenticated "
        "download endpoint (local storage). Null before, and after the file expired.",
    )
    file_size = serializers.IntegerField(allow_null=True, help_text="Bytes.")
    error = serializers.CharField(help_text="Why a failed export failed.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="When the file is deleted.")
    requested_by = serializers.CharField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = _DateParameter(required=False, help_text="Present for kinds that take it.")
        fields["to"] = _DateParameter(required=False, help_text="Present for kinds that take it.")
        return fields

    def to_representation(self, job: ExportJob) -> dict:
        allowed, _ = KIND_PARAMETERS[job.kind]
        parameters = {
            name: job.parameters.get(name) for name in ("as_of", "from", "to", "account") if name in allowed
        }
        download = self.context.get("download_url")
        return {
            "id": job.pk,
            "kind": job.kind,
            "format": job.format,
            **parameters,
            "status": job.status,
            "progress": job.progress,
            "row_count": job.row_count,
            "download_url": download(job) if download is not None and job.has_file else None,
            "file_size": job.file_size,
            "error": job.error,
            "created_at": iso_datetime(job.created_at),
            "started_at": iso_datetime(job.started_at),
            "finished_at": iso_datetime(job.finished_at),
            "expires_at": iso_datetime(job.expires_at),
            "requested_by": _username(job.requested_by) if job.requested_by_id else None,
        }
