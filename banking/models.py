"""Bank accounts, their statements and lines, matches to the books, reconciliations and imports.

The database holds the core rules too (banking/migrations/0002): a bank line is matched only to
posted lines of its own bank account's ledger account; a reconciled statement, its lines and
their matches never change (reopen the statement first); a matched ledger entry is not reversed
into a reconciled statement's dates; a bank account with statements keeps its ledger account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Account, Company
from jobs.models import JobStatus  # one status vocabulary for every job: exports, integrity runs, imports
from ledger.models import JournalLine
from sofinance.display import display_amount
from sofinance.money import money_field, validate_currency_code


class BankAccount(models.Model):
    """A bank account, kept in the books on one ledger account (in the bank account's currency).

    `csv_mapping` is how this bank's CSV statements read (banking.parsers.csv_statement).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="bank_accounts")
    name = models.CharField(max_length=200)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="bank_accounts")
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    iban = models.CharField(max_length=34, blank=True, default="")
    number = models.CharField(max_length=50, blank=True, default="")
    csv_mapping = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The newest ledger line (by id) on the ledger account when the suggestions were last worked
    # out on schedule: a later one makes them stale (banking.services.matching.stale_suggestions_refresh).
    suggestions_mark = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["company_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "account"], name="bankaccount_one_per_ledger_account"),
            models.UniqueConstraint(fields=["company", "name"], name="bankaccount_company_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ledger_amount_field(self) -> str:
        """The journal-line column in the bank's currency: a ledger account kept in a currency of
        its own is compared by `amount`, else by `base_amount` (the functional currency)."""
        return "amount" if self.account.currency else "base_amount"


class BankingSettings(models.Model):
    """A company's matching settings: the date window of suggestions and the confidence from
    which the best suggestion is confirmed without a person (null: never)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="banking_settings")
    date_window_days = models.PositiveSmallIntegerField(default=7)
    auto_confirm_confidence = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "banking settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(date_window_days__lte=90), name="bankingsettings_window_at_most_90_days"
            ),
            models.CheckConstraint(
                condition=Q(auto_confirm_confidence__isnull=True)
                | Q(auto_confirm_confidence__gte=1, auto_confirm_confidence__lte=100),
                name="bankingsettings_confidence_1_100",
            ),
        ]

    def __str__(self) -> str:
        return f"Banking settings of {self.company_id}"


class StatementFormat(models.TextChoices):
    CSV = "csv", "CSV"
    OFX = "ofx", "OFX"
    CAMT053 = "camt053", "CAMT.053"


class StatementStatus(models.TextChoices):
    OPEN = "open", "Open"
    RECONCILED = "reconciled", "Reconciled"


class BankStatement(models.Model):
    """One imported statement: its period and balances as the bank states them.

    `opening_balance` chains from the previous statement's closing balance unless the import
    said it does not (`chain_break`: the difference is kept). Lines already imported by an earlier
    statement are not stored again (`duplicates_skipped`).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="statements")
    start_date = models.DateField()
    end_date = models.DateField()
    opening_balance = money_field()
    closing_balance = money_field()
    line_count = models.PositiveIntegerField(default=0)
    duplicates_skipped = models.PositiveIntegerField(default=0)
    format = models.CharField(max_length=10, choices=StatementFormat.choices)
    source_file = models.FileField(upload_to="banking/statements/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=255, blank=True, default="")
    file_hash = models.CharField(max_length=64, blank=True, default="")
    chain_break = money_field(null=True, blank=True)
    status = models.CharField(max_length=12, choices=StatementStatus.choices, default=StatementStatus.OPEN)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bank_account_id", "end_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="statement_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(status__in=StatementStatus.values), name="statement_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["bank_account", "end_date"], name="statement_account_end_idx")]

    def __str__(self) -> str:
        return f"{self.bank_account} {self.start_date} – {self.end_date}"

    @property
    def is_reconciled(self) -> bool:
        return self.status == StatementStatus.RECONCILED


class LineStatus(models.TextChoices):
    UNMATCHED = "unmatched", "Unmatched"
    SUGGESTED = "suggested", "Suggested"
    MATCHED = "matched", "Matched"


class BankStatementLine(models.Model):
    """One movement on the bank account: `amount` is signed, money in positive.

    `dedupe_key` identifies the movement across imports: the bank's unique id when it gives one
    (OFX FITID, CAMT.053 AcctSvcrRef), else a hash of date, amount, reference and the movement's
    rank among identical ones in its file. Unique per bank account: nothing is imported twice.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    amount = money_field()
    counterparty = models.CharField(max_length=200, blank=True, default="")
    reference = models.CharField(max_length=200, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    unique_id = models.CharField(max_length=255, blank=True, default="")
    dedupe_key = models.CharField(max_length=110)
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.UNMATCHED)
    matched_at = models.DateTimeField(null=True, blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    match_confidence = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["bank_account_id", "date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bank_account", "dedupe_key"], name="bankline_dedupe_unique"),
            models.CheckConstraint(condition=Q(status__in=LineStatus.values), name="bankline_status_valid"),
        ]
        indexes = [
            models.Index(fields=["bank_account", "status", "date"], name="bankline_account_status_idx"),
            models.Index(fields=["bank_account", "date", "id"], name="bankline_account_date_idx"),
        ]

    def __str__(self) -> str:
        amount = display_amount(self.amount, self.bank_account.currency)
        return f"{self.date:%Y-%m-%d} {amount} {self.counterparty or self.reference}".strip()


class BankMatch(models.Model):
    """A bank line matched to one posted ledger line of its bank account's ledger account.

    A bank line may be matched to several ledger lines (one payment settling several entries);
    a ledger line to one bank line at most. Created or deleted, never changed.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    bank_line = models.ForeignKey(BankStatementLine, on_delete=models.CASCADE, related_name="matches")
    journal_line = models.OneToOneField(JournalLine, on_delete=models.PROTECT, related_name="bank_match")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "bank matches"
        indexes = [models.Index(fields=["company", "bank_line"], name="bankmatch_company_line_idx")]

    def __str__(self) -> str:
        return f"{self.bank_line_id} ↔ {self.journal_line_id}"


class MatchSuggestion(models.Model):
    """A proposed match: ledger lines whose amounts add up to the bank line's, with a confidence
    (0-100) from the amount, the date distance and the reference. Replaced whenever suggestions
    are worked out again; gone once the line is matched."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    bank_line = models.ForeignKey(BankStatementLine, on_delete=models.CASCADE, related_name="suggestions")
    journal_line_ids = models.JSONField()
    confidence = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)
    rank = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["bank_line_id", "rank"]
        constraints = [
            models.CheckConstraint(condition=Q(confidence__lte=100), name="suggestion_confidence_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.bank_line_id}: {self.journal_line_ids} ({self.confidence})"


class Reconciliation(models.Model):
    """The position stored when an accountant marked a statement reconciled: the bank's closing
    balance, the books' balance on the statement's last day and the unmatched items on each side
    that explain the difference. `reopened_at` is set when the statement is reopened."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="reconciliations")
    as_of = models.DateField()
    statement_balance = money_field()
    book_balance = money_field()
    unmatched_bank_total = money_field()
    unmatched_book_total = money_field()
    unmatched_bank_lines = models.JSONField(default=list)
    unmatched_book_lines = models.JSONField(default=list)
    reconciled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reconciled_at = models.DateTimeField()
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopen_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["statement_id", "-reconciled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement"],
                condition=Q(reopened_at__isnull=True),
                name="reconciliation_one_active_per_statement",
            ),
        ]

    def __str__(self) -> str:
        return f"Reconciliation of statement {self.statement_id} as of {self.as_of}"


class ImportKind(models.TextChoices):
    BANK_STATEMENT = "bank_statement", "Bank statement"
    JOURNAL = "journal", "Journal"


class ImportJob(models.Model):
    """An import (a bank statement or a journal file) run as a job: status, progress 0-100,
    counts, and the errors by line when it failed. The file is kept with its SHA-256 so the same
    journal file is not posted twice."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    bank_account = models.ForeignKey(
        BankAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="import_jobs"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="banking/imports/%Y/%m/")
    file_name = models.CharField(max_length=255, blank=True, default="")
    file_hash = models.CharField(max_length=64)
    format = models.CharField(max_length=10)
    options = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    row_count = models.PositiveIntegerField(default=0)
    entry_count = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    duplicates_skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    error_code = models.CharField(max_length=50, blank=True, default="")
    error_message = models.CharField(max_length=1000, blank=True, default="")
    result = models.JSONField(default=dict, blank=True)
    statements = models.ManyToManyField(BankStatement, blank=True, related_name="import_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="importjob_progress_0_100"),
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="importjob_status_valid"),
            # A journal file is posted once: one job per file (by content) that is not a dry run
            # and has not failed.
            models.UniqueConstraint(
                fields=["company", "file_hash"],
                condition=Q(kind="journal", dry_run=False) & ~Q(status="failed"),
                name="importjob_journal_file_once",
            ),
        ]
        indexes = [models.Index(fields=["company", "created_at"], name="importjob_company_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.status})"
