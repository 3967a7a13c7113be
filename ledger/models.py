"""Journal entries and lines, numbering, periods, exchange rates and stored balances.

The database holds the invariants too (see the trigger migrations): a posted entry balances and
has at least two lines, it and its lines never change (except its reversal link, once), and
nothing is posted into a closed or locked period.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import Account, Company
from sofinance.money import money_field, rate_field, validate_currency_code

# The accounting dates the books accept: wide enough for any real history and any plan, and far
# enough from datetime's limits that date arithmetic (the day before, the next month) never fails.
FIRST_BOOK_DATE = datetime.date(1900, 1, 1)
LAST_BOOK_DATE = datetime.date(9998, 12, 31)


class EntryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    POSTED = "posted", "Posted"


class EntrySource(models.TextChoices):
    MANUAL = "manual", "Manual"
    SALES = "sales", "Sales"
    PAYMENT = "payment", "Payment"
    IMPORT = "import", "Import"
    REVERSAL = "reversal", "Reversal"
    CLOSING = "closing", "Closing"


class NumberSequence(models.Model):
    """A gapless counter per company and series, advanced under a row lock in the posting transaction."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    series = models.CharField(max_length=20)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "series"], name="numbersequence_company_series_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id}:{self.series}={self.last_value}"


class JournalEntry(models.Model):
    # Indexed by the composite indexes that lead with it (a plain index would be a redundant prefix).
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="journal_entries", db_index=False
    )
    number = models.CharField(max_length=32, null=True, blank=True)
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    date = models.DateField()
    description = models.CharField(max_length=500, blank=True, default="")
    reference = models.CharField(max_length=100, blank=True, default="")
    source = models.CharField(max_length=10, choices=EntrySource.choices, default=EntrySource.MANUAL)
    status = models.CharField(max_length=10, choices=EntryStatus.choices, default=EntryStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal_entry"
    )
    reversed_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_entry"
    )

    class Meta:
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "sequence"],
                condition=Q(sequence__isnull=False),
                name="journalentry_company_sequence_unique",
            ),
            models.UniqueConstraint(
                fields=["company", "number"],
                condition=Q(number__isnull=False),
                name="journalentry_company_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EntryStatus.values), name="journalentry_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        status=EntryStatus.DRAFT,
                        number__isnull=True,
                        sequence__isnull=True,
                        posted_at__isnull=True,
                    )
                    | Q(
                        status=EntryStatus.POSTED,
                        number__isnull=False,
                        sequence__isnull=False,
                        posted_at__isnull=False,
                    )
                ),
                name="journalentry_number_iff_posted",
            ),
            models.CheckConstraint(
                condition=Q(reversal_of__isnull=True) | ~Q(reversal_of=F("id")),
                name="journalentry_not_own_reversal",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "date", "id"], name="je_company_date_idx"),
            models.Index(fields=["company", "status", "date"], name="je_company_status_date_idx"),
            models.Index(fields=["company", "reference"], name="je_company_reference_idx"),
            models.Index(fields=["company", "source", "date"], name="je_company_source_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft #{self.pk}"

    @property
    def is_posted(self) -> bool:
        return self.status == EntryStatus.POSTED


class JournalLine(models.Model):
    """One side of an entry. `debit`/`credit` are in the line's currency (exactly one positive);
    `amount` and `base_amount` are signed (debit +, credit -), the latter in the company's
    functional currency, so a balanced entry's base amounts sum to zero.

    `company`, `date` and `entry_sequence` copy the entry's (set while it is a draft, frozen once
    posted) so ledger queries read one table through one index; `entry_sequence` is null until
    the entry is posted.
    """

    # Both indexed by the composite indexes and the (entry, line_no) key that lead with them.
    # Always its entry's company (the database checks it: ledger migration 0010), so no foreign key
    # of its own on PostgreSQL: the entry's stands for it, without a check per line at COMMIT.
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_no = models.PositiveSmallIntegerField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="journal_lines")
    description = models.CharField(max_length=500, blank=True, default="")
    debit = money_field(default=0)
    credit = money_field(default=0)
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    amount = money_field()
    fx_rate = rate_field(default=1)
    base_amount = money_field()
    date = models.DateField()
    entry_sequence = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["entry_id", "line_no"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0, credit=0) | Q(credit__gt=0, debit=0)),
                name="journalline_one_side_positive",
            ),
            models.CheckConstraint(
                condition=Q(amount=F("debit") - F("credit")), name="journalline_amount_signed"
            ),
            models.CheckConstraint(
                condition=(Q(debit__gt=0, base_amount__gte=0) | Q(credit__gt=0, base_amount__lte=0)),
                name="journalline_base_amount_side",
            ),
            models.CheckConstraint(condition=Q(fx_rate__gt=0), name="journalline_fx_rate_positive"),
            models.UniqueConstraint(fields=["entry", "line_no"], name="journalline_entry_line_no_unique"),
        ]
        indexes = [
            # The general ledger: an account's posted lines in date order, read by keyset.
            models.Index(
                fields=["company", "account", "date", "entry_sequence", "id"],
                condition=Q(entry_sequence__isnull=False),
                name="jl_account_ledger_idx",
            ),
            models.Index(fields=["company", "date"], name="jl_company_date_idx"),
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account_id} {side} {self.currency}"

    @property
    def account_code(self) -> str:
        return self.account.code

    @property
    def account_name(self) -> str:
        return self.account.name


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    LOCKED = "locked", "Locked"


class AccountingPeriod(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="periods")
    name = models.CharField(max_length=50, blank=True, default="")
    start_date = models.DateField()
    end_date = models.DateField()
    status = models.CharField(max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["company_id", "start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="period_dates_ordered"),
            models.CheckConstraint(condition=Q(status__in=PeriodStatus.values), name="period_status_valid"),
            models.UniqueConstraint(fields=["company", "start_date"], name="period_company_start_unique"),
        ]
        indexes = [
            models.Index(fields=["company", "status", "start_date", "end_date"], name="period_lookup_idx")
        ]

    def __str__(self) -> str:
        return self.name or f"{self.start_date} – {self.end_date}"


class ExchangeRate(models.Model):
    """1 unit of `from_currency` = `rate` units of `to_currency` on `date`."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="exchange_rates")
    from_currency = models.CharField(max_length=3, validators=[validate_currency_code])
    to_currency = models.CharField(max_length=3, validators=[validate_currency_code])
    date = models.DateField()
    rate = rate_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company_id", "from_currency", "to_currency", "-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "from_currency", "to_currency", "date"], name="exchangerate_unique_per_day"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_rate_positive"),
            models.CheckConstraint(
                condition=~Q(from_currency=F("to_currency")), name="exchangerate_distinct_currencies"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.from_currency} = {self.rate} {self.to_currency} on {self.date}"


class BalanceBucket(models.Model):
    """Posted totals of one account over one bucket of time (a day or a month).

    Kept by the posting service in the posting transaction with an atomic upsert, so a balance
    as of any date reads whole months plus the days of one month. `is_closing` keeps year-end
    closing entries apart so the income statement can leave them out. Amounts are in the
    functional currency; `amount` is the signed total in the account's own currency.
    """

    # Indexed by the bucket key and the (company, date) index that lead with it.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    is_closing = models.BooleanField(default=False)
    debit = money_field(default=0)
    credit = money_field(default=0)
    amount = money_field(default=0)
    line_count = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.account_id} {self.date}: Dr {self.debit} Cr {self.credit}"


class DailyBalance(BalanceBucket):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account", "date", "is_closing"], name="dailybalance_bucket_unique"
            ),
        ]
        indexes = [models.Index(fields=["company", "date"], name="dailybal_company_date_idx")]


class MonthlyBalance(BalanceBucket):
    """`date` is the first day of the month."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account", "date", "is_closing"], name="monthlybalance_bucket_unique"
            ),
        ]
        indexes = [models.Index(fields=["company", "date"], name="monthlybal_company_date_idx")]


class FiscalYearClose(models.Model):
    """A closed fiscal year and the entry that moved its income and expenses to retained earnings."""

    # `company.fiscal_year_closes`: the company's own rules (its fiscal year start) read it.
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="fiscal_year_closes")
    start_date = models.DateField()
    end_date = models.DateField()
    closing_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "start_date"],
                condition=Q(reopened_at__isnull=True),
                name="fiscalyearclose_one_active_per_year",
            ),
        ]

    def __str__(self) -> str:
        return f"FY {self.start_date} – {self.end_date}"
