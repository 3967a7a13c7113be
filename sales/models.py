"""Sales: customers, items, tax rates, invoices, credit notes, payments and their allocations.

Documents that touch the books (an issued invoice, a credit note, a payment, an allocation with an
exchange difference) are linked both ways to the journal entry the ledger's posting service made
for them (`invoice.journal_entry` / `entry.invoice`). Amounts are in the document's currency;
`*_base` amounts are in the company's functional currency, exactly as posted.

The database holds the invariants too (sales/migrations/0002_sales_invariant_triggers.py): an
issued invoice, its lines, a credit note and a recorded payment never change except in the few
columns the services move (status, amounts paid and credited, settlement and void dates), an
allocation is never deleted (it is unallocated, once), and a tax rate in use keeps its rate.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value

from accounts.models import Account, Company
from ledger.models import JournalEntry
from sofinance.money import format_amount, money_field, rate_field, validate_currency_code

# Quantities and percentages keep up to 4 decimals (0.3333 hours, 12.5%).
QUANTITY_MAX_DIGITS = 18
QUANTITY_DECIMAL_PLACES = 4
PERCENT_MAX_DIGITS = 7
PERCENT_DECIMAL_PLACES = 4
MAX_PAYMENT_TERMS_DAYS = 3650


# SQLite keeps decimals as floating point: sums are compared within half the smallest unit kept
# (exact on PostgreSQL, where every amount is a multiple of 0.0001).
SUM_TOLERANCE = Decimal("0.00005")


def sums_to(total: str, *parts: str) -> Q:
    """A CHECK that `total` equals the sum of `parts` (within SUM_TOLERANCE, for SQLite)."""
    summed = F(parts[0])
    for part in parts[1:]:
        summed = summed + F(part)
    return Q(
        **{f"{total}__gte": summed - Value(SUM_TOLERANCE), f"{total}__lte": summed + Value(SUM_TOLERANCE)}
    )


def quantity_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, **kwargs
    )


def percent_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(
        max_digits=PERCENT_MAX_DIGITS,
        decimal_places=PERCENT_DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        **kwargs,
    )


# --------------------------------------------------------------------------- master data


class SalesSettings(models.Model):
    """What a company prints on its invoices, and where sales post what has no other home."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="sales_settings")
    legal_name = models.CharField(max_length=200, blank=True, default="")
    address = models.TextField(blank=True, default="")
    tax_id = models.CharField(max_length=50, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=50, blank=True, default="")
    payment_instructions = models.TextField(blank=True, default="")
    fx_gain_loss_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "sales settings"

    def __str__(self) -> str:
        return f"Sales settings of {self.company_id}"


class TaxRate(models.Model):
    """A sales tax rate (percent) and the liability account its tax is credited to.

    A rate that any invoice line uses is never deleted or changed in place: it is deactivated
    and a new rate is created (the database refuses a change of `rate` or `account` in use).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="tax_rates")
    name = models.CharField(max_length=100)
    rate = percent_field()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], condition=Q(is_active=True), name="taxrate_active_name_unique"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="taxrate_rate_percent"),
        ]
        indexes = [models.Index(fields=["company", "name", "id"], name="taxrate_company_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.rate.normalize():f}%)"


class Customer(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, default="")
    tax_id = models.CharField(max_length=50, blank=True, default="")
    billing_address = models.TextField(blank=True, default="")
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    payment_terms_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(MAX_PAYMENT_TERMS_DAYS)]
    )
    receivables_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(payment_terms_days__lte=MAX_PAYMENT_TERMS_DAYS), name="customer_terms_bounded"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "name", "id"], name="customer_company_name_idx"),
            # `updated_since` (syncing): what changed lately, read as an index range
            models.Index(fields=["company", "updated_at"], name="customer_company_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """Something sold: its default price (in the company's currency), revenue account and tax rate."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True, default="")
    unit_price = money_field()
    revenue_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="item_unit_price_nonnegative"),
        ]
        indexes = [models.Index(fields=["company", "name", "id"], name="item_company_name_idx")]

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- invoices


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


class Invoice(models.Model):
    """A sales invoice. Drafts change freely; issuing numbers it, posts it and freezes it.

    `amount_credited` and `amount_paid` (active allocations) move after issue; `settled_on` is
    the date from which nothing is due any more (null while something is), so reports as of a
    date skip what was settled before it. `fx_rate` converts the invoice's currency to the
    company's; `*_base` are the functional-currency amounts its journal entry posted.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=32, null=True, blank=True)
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    fx_rate = rate_field(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    subtotal = money_field(default=0)
    tax_total = money_field(default=0)
    total = money_field(default=0)
    amount_credited = money_field(default=0)
    amount_paid = money_field(default=0)
    subtotal_base = money_field(null=True, blank=True)
    tax_total_base = money_field(null=True, blank=True)
    total_base = money_field(null=True, blank=True)
    settled_on = models.DateField(null=True, blank=True)
    # What the invoice holds now in the functional currency, and the last date its history moves
    # it: as of that date or later the open amount is this, without reading the history.
    balance_base = money_field(null=True, blank=True)
    last_event_on = models.DateField(null=True, blank=True)
    receivables_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    journal_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice"
    )
    voided_on = models.DateField(null=True, blank=True)
    void_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="voided_invoice"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=InvoiceStatus.values), name="invoice_status_valid"),
            models.CheckConstraint(
                condition=(
                    Q(status=InvoiceStatus.DRAFT, number__isnull=True, sequence__isnull=True)
                    | (
                        ~Q(status=InvoiceStatus.DRAFT)
                        & Q(
                            number__isnull=False,
                            sequence__isnull=False,
                            journal_entry__isnull=False,
                            receivables_account__isnull=False,
                            fx_rate__isnull=False,
                            total_base__isnull=False,
                        )
                    )
                ),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.VOID) | Q(voided_on__isnull=True, void_entry__isnull=True),
                name="invoice_void_fields_only_when_void",
            ),
            models.CheckConstraint(
                condition=~Q(status=InvoiceStatus.VOID)
                | Q(voided_on__isnull=False, void_entry__isnull=False, amount_paid=0, amount_credited=0),
                name="invoice_void_has_reversal",
            ),
            models.CheckConstraint(condition=Q(due_date__gte=F("date")), name="invoice_due_after_date"),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, tax_total__gte=0, amount_credited__gte=0, amount_paid__gte=0),
                name="invoice_amounts_nonnegative",
            ),
            models.CheckConstraint(
                condition=sums_to("total", "subtotal", "tax_total"), name="invoice_total_sum"
            ),
            models.CheckConstraint(
                condition=Q(amount_credited__lte=F("total") - F("amount_paid") + Value(SUM_TOLERANCE)),
                name="invoice_not_overpaid",
            ),
            models.UniqueConstraint(
                fields=["company", "sequence"],
                condition=Q(sequence__isnull=False),
                name="invoice_company_sequence_unique",
            ),
            models.UniqueConstraint(
                fields=["company", "number"],
                condition=Q(number__isnull=False),
                name="invoice_company_number_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "date", "id"], name="invoice_company_date_idx"),
            models.Index(fields=["company", "customer", "date"], name="invoice_customer_date_idx"),
            models.Index(fields=["company", "status", "due_date"], name="invoice_status_due_idx"),
            models.Index(fields=["company", "updated_at"], name="invoice_company_updated_idx"),
            # Reports as of a date read only what was not settled before it.
            models.Index(
                fields=["company", "settled_on", "date"],
                condition=~Q(status=InvoiceStatus.DRAFT),
                name="invoice_open_asof_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice #{self.pk}"

    @property
    def amount_due(self) -> Decimal:
        if self.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            return Decimal(0) if self.status == InvoiceStatus.VOID else self.total
        return self.total - self.amount_credited - self.amount_paid

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT


class InvoiceLine(models.Model):
    """One line: quantity × unit price less a discount (percent), taxed at one rate.

    `net` and `tax` are rounded half-up to the currency's places per line; the invoice's totals
    are the exact sums of its lines. `tax_percent` keeps the rate the line was taxed at.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=500)
    quantity = quantity_field()
    unit_price = money_field()
    discount = percent_field(default=0)
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tax_percent = percent_field(default=0)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    net = money_field()
    tax = money_field()
    total = money_field()

    class Meta:
        ordering = ["invoice_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "line_no"], name="invoiceline_invoice_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoiceline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, net__gte=0, tax__gte=0), name="invoiceline_amounts_nonnegative"
            ),
            models.CheckConstraint(condition=sums_to("total", "net", "tax"), name="invoiceline_total_sum"),
            models.CheckConstraint(
                condition=Q(tax_rate__isnull=False) | Q(tax=0, tax_percent=0),
                name="invoiceline_tax_needs_rate",
            ),
        ]
        indexes = [models.Index(fields=["company", "item"], name="invoiceline_item_idx")]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.line_no} {self.description}"


# --------------------------------------------------------------------------- credit notes


class CreditNote(models.Model):
    """A credit against an issued invoice (whole or some lines' quantities): posts the mirror entry
    and reduces what is due. Created issued and never changed."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=32)
    sequence = models.PositiveBigIntegerField()
    date = models.DateField()
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    fx_rate = rate_field()
    reason = models.CharField(max_length=500, blank=True, default="")
    subtotal = money_field()
    tax_total = money_field()
    total = money_field()
    subtotal_base = money_field()
    tax_total_base = money_field()
    total_base = money_field()
    journal_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_note"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "sequence"], name="creditnote_company_sequence_unique"
            ),
            models.UniqueConstraint(fields=["company", "number"], name="creditnote_company_number_unique"),
            models.CheckConstraint(condition=Q(total__gt=0), name="creditnote_total_positive"),
            models.CheckConstraint(
                condition=sums_to("total", "subtotal", "tax_total"), name="creditnote_total_sum"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "date", "id"], name="creditnote_company_date_idx"),
            models.Index(fields=["company", "invoice", "date"], name="creditnote_invoice_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class CreditNoteLine(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="credit_lines")
    line_no = models.PositiveSmallIntegerField()
    quantity = quantity_field()
    net = money_field()
    tax = money_field()
    total = money_field()

    class Meta:
        ordering = ["credit_note_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["credit_note", "line_no"], name="creditnoteline_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="creditnoteline_quantity_positive"),
            models.CheckConstraint(condition=Q(net__gte=0, tax__gte=0), name="creditnoteline_nonnegative"),
            models.CheckConstraint(condition=sums_to("total", "net", "tax"), name="creditnoteline_total_sum"),
        ]

    def __str__(self) -> str:
        return f"{self.credit_note_id}/{self.line_no}"


# --------------------------------------------------------------------------- payments


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    CHEQUE = "cheque", "Cheque"
    DIRECT_DEBIT = "direct_debit", "Direct debit"
    OTHER = "other", "Other"


class PaymentStatus(models.TextChoices):
    POSTED = "posted", "Posted"
    VOID = "void", "Void"


class Payment(models.Model):
    """Money received from a customer into a deposit account (Dr bank / Cr receivables).

    `amount_allocated` is what active allocations use; the rest is customer credit that can be
    allocated later. `exhausted_on` is the date from which nothing is left to allocate.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="payments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    number = models.CharField(max_length=32)
    sequence = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.POSTED)
    date = models.DateField()
    amount = money_field()
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    fx_rate = rate_field()
    amount_base = money_field()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    receivables_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(
        max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    reference = models.CharField(max_length=100, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    amount_allocated = money_field(default=0)
    exhausted_on = models.DateField(null=True, blank=True)
    # What is unallocated now in the functional currency, and the last date its history moves it.
    unallocated_base = money_field(null=True, blank=True)
    last_event_on = models.DateField(null=True, blank=True)
    journal_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    voided_on = models.DateField(null=True, blank=True)
    void_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="voided_payment"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "sequence"], name="payment_company_sequence_unique"),
            models.UniqueConstraint(fields=["company", "number"], name="payment_company_number_unique"),
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(
                    amount_allocated__gte=0, amount_allocated__lte=F("amount") + Value(SUM_TOLERANCE)
                ),
                name="payment_not_overallocated",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=PaymentStatus.POSTED, voided_on__isnull=True, void_entry__isnull=True)
                    | Q(
                        status=PaymentStatus.VOID,
                        voided_on__isnull=False,
                        void_entry__isnull=False,
                        amount_allocated=0,
                    )
                ),
                name="payment_void_fields",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "date", "id"], name="payment_company_date_idx"),
            models.Index(fields=["company", "customer", "date"], name="payment_customer_date_idx"),
            models.Index(fields=["company", "exhausted_on", "date"], name="payment_open_asof_idx"),
            models.Index(fields=["company", "updated_at"], name="payment_company_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def unallocated(self) -> Decimal:
        return Decimal(0) if self.status == PaymentStatus.VOID else self.amount - self.amount_allocated


class Allocation(models.Model):
    """Part of a payment applied to an invoice of the same customer and currency, from `date`.

    Never deleted: unallocating sets `unallocated_on` (once), so reports as of any date see what
    was applied then. `invoice_base` / `payment_base` are the functional-currency amounts the
    allocation settles on each side; their difference is the realised exchange difference,
    posted by `fx_entry` (and reversed by `unallocation_entry`).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    date = models.DateField()
    amount = money_field()
    invoice_base = money_field()
    payment_base = money_field()
    # The entry that posted its exchange difference (the payment's own entry when allocated as
    # the payment was recorded), and the one that took it back; null when there was none.
    fx_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="fx_allocations"
    )
    unallocated_on = models.DateField(null=True, blank=True)
    unallocation_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="fx_unallocations"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    unallocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unallocated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["payment_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=Q(unallocated_on__isnull=True) | Q(unallocated_on__gte=F("date")),
                name="allocation_unallocated_after_date",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "invoice", "date"], name="allocation_invoice_idx"),
            models.Index(fields=["company", "payment", "date"], name="allocation_payment_idx"),
        ]

    def __str__(self) -> str:
        invoice = self.invoice
        return f"{format_amount(self.amount, invoice.currency)} of {self.payment} to {invoice}"

    @property
    def is_active(self) -> bool:
        return self.unallocated_on is None


# --------------------------------------------------------------------------- stored summary


class DailySalesSummary(models.Model):
    """Sales of one company on one day in its functional currency, kept by the posting services.

    Invoices count on their date, credit notes on theirs, voids on the void date; net sales =
    invoiced - credited - voided. `sales_summary_rebuild` recomputes any range from the documents.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    invoice_count = models.IntegerField(default=0)
    credit_note_count = models.IntegerField(default=0)
    void_count = models.IntegerField(default=0)
    invoiced_net = money_field(default=0)
    invoiced_tax = money_field(default=0)
    credited_net = money_field(default=0)
    credited_tax = money_field(default=0)
    voided_net = money_field(default=0)
    voided_tax = money_field(default=0)

    class Meta:
        verbose_name_plural = "daily sales summaries"
        constraints = [
            models.UniqueConstraint(fields=["company", "date"], name="dailysalessummary_company_date_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.date}"

    @property
    def net_sales(self) -> Decimal:
        return self.invoiced_net - self.credited_net - self.voided_net

    @property
    def net_tax(self) -> Decimal:
        return self.invoiced_tax - self.credited_tax - self.voided_tax
