"""Integrity runs and the discrepancies they find; export jobs and their files.

A run checks one company's books (scope `company`) or the audit chain that belongs to no company
(scope `platform`). A discrepancy is one thing found wrong; the same open discrepancy found again
by a later run is the same row (linked to every run that saw it), so a nightly run does not pile
up copies. While a discrepancy is open the records it names are quarantined
(sofinance.models.Quarantine); resolving it lifts its flags and is audited with who and why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Company
from ledger.models import JournalEntry
from sofinance.money import money_field


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


FINISHED = (JobStatus.DONE, JobStatus.FAILED)


class RunScope(models.TextChoices):
    COMPANY = "company", "One company's books"
    PLATFORM = "platform", "The audit chain of no company"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"


class IntegrityRun(models.Model):
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=10, choices=RunScope.choices, default=RunScope.COMPANY)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.API)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    as_of = models.DateField(null=True, blank=True)
    # Discrepancies this run found (new ones and open ones found again), new ones, drafts proposed.
    discrepancy_count = models.PositiveIntegerField(default=0)
    new_discrepancy_count = models.PositiveIntegerField(default=0)
    proposed_count = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # what each check read: {"journal_lines": n, ...}
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope=RunScope.COMPANY, company__isnull=False)
                | Q(scope=RunScope.PLATFORM, company__isnull=True),
                name="integrityrun_scope_company",
            ),
        ]
        indexes = [models.Index(fields=["company", "-id"], name="integrityrun_company_idx")]

    def __str__(self) -> str:
        return f"Integrity run #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Discrepancy(models.Model):
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(IntegrityRun, on_delete=models.PROTECT, related_name="+")  # first found by
    last_run = models.ForeignKey(IntegrityRun, on_delete=models.PROTECT, related_name="+")
    runs = models.ManyToManyField(IntegrityRun, related_name="discrepancies")
    kind = models.CharField(max_length=40)
    object_type = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=255, blank=True, default="")
    key = models.CharField(max_length=100, blank=True, default="")
    expected = models.CharField(max_length=255, blank=True, default="")
    found = models.CharField(max_length=255, blank=True, default="")
    difference = money_field(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=DiscrepancyStatus.choices, default=DiscrepancyStatus.OPEN
    )
    proposed_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposal_note = models.CharField(max_length=500, blank=True, default="")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "discrepancies"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "object_type", "object_id", "key"],
                condition=Q(status=DiscrepancyStatus.OPEN),
                name="discrepancy_open_once",
            ),
            models.CheckConstraint(
                condition=Q(status=DiscrepancyStatus.OPEN, resolved_at__isnull=True)
                | Q(status=DiscrepancyStatus.RESOLVED, resolved_at__isnull=False),
                name="discrepancy_resolved_fields",
            ),
        ]
        indexes = [models.Index(fields=["company", "status", "-id"], name="discrepancy_company_idx")]

    def __str__(self) -> str:
        return f"Discrepancy #{self.pk}: {self.kind} {self.object_type}:{self.object_id}"


class ExportKind(models.TextChoices):
    TRIAL_BALANCE = "trial_balance", "Trial balance"
    BALANCE_SHEET = "balance_sheet", "Balance sheet"
    INCOME_STATEMENT = "income_statement", "Income statement"
    GENERAL_LEDGER = "general_ledger", "General ledger"
    JOURNAL_LINES = "journal_lines", "Journal lines"
    INVOICES = "invoices", "Invoices"
    AR_AGING = "ar_aging", "AR aging"
    AUDIT_EVENTS = "audit_events", "Audit events"
    BEANCOUNT = "beancount", "Beancount ledger"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    BEANCOUNT = "beancount", "Beancount"


class ExportJob(models.Model):
    """One export: its report and parameters, where it is, and its file on the default storage.

    `parameters` holds what the report takes (`as_of`, `from`, `to`, `account`) as given to it,
    dates as YYYY-MM-DD. The file is named `exports/<company>/<id>/<name>`: a retried job
    replaces it, so a job never leaves two files.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    format = models.CharField(max_length=10, choices=ExportFormat.choices)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    row_count = models.PositiveBigIntegerField(default=0)
    file_name = models.CharField(max_length=500, blank=True, default="")
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file_deleted_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="exportjob_progress_percent"),
            models.CheckConstraint(
                condition=Q(kind=ExportKind.BEANCOUNT, format=ExportFormat.BEANCOUNT)
                | (~Q(kind=ExportKind.BEANCOUNT) & Q(format__in=[ExportFormat.CSV, ExportFormat.XLSX])),
                name="exportjob_format_fits_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-id"], name="exportjob_company_idx"),
            models.Index(
                fields=["expires_at"],
                condition=Q(status=JobStatus.DONE, file_deleted_at__isnull=True),
                name="exportjob_expiring_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Export #{self.pk} {self.kind} ({self.status})"

    @property
    def has_file(self) -> bool:
        return self.status == JobStatus.DONE and bool(self.file_name) and self.file_deleted_at is None
