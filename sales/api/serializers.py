"""Shapes of the sales API. Input serializers parse (the services validate); output serializers
render. Money leaves as strings with exactly its currency's decimal places: a document's amounts
in its own currency, functional-currency amounts (`*_base`, reports) in the company's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sales.amounts import format_percent
from sales.models import (
    Allocation,
    CreditNote,
    CreditNoteLine,
    Customer,
    Invoice,
    InvoiceLine,
    Item,
    Payment,
    PaymentMethod,
    SalesSettings,
    TaxRate,
)
from sales.reports import SummaryGrouping
from sofinance.api.fields import (
    DecimalValueField,
    StrictBooleanField,
    StrictDateField,
    StrictIntegerField,
)
from sofinance.api.fields import MoneyField as MoneyInput
from sofinance.api.fields import RateField as RateInput
from sofinance.money import format_amount
from sofinance.quarantine import quarantine_flag

MONEY_HELP = 'Decimal string with exactly the currency\'s places, e.g. "1250.00".'


@extend_schema_field({"type": "string", "example": "1250.00", "description": MONEY_HELP})
class MoneyField(serializers.Field):
    """An amount rendered at a currency's places: the currency is an attribute of the object
    (`currency_attr`) or, for functional-currency amounts, the context's `currency`."""

    def __init__(self, *, currency_attr: str | None = None, **kwargs: Any) -> None:
        self.currency_attr = currency_attr
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        if self.currency_attr is not None:
            currency = instance
            for part in self.currency_attr.split("."):
                currency = getattr(currency, part)
        else:
            currency = self.context["currency"]
        return (value, currency)

    def to_representation(self, value):
        amount, currency = value
        return None if amount is None else format_amount(amount, currency)


@extend_schema_field({"type": "string", "example": "20.00", "description": "Percent."})
class PercentField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        return format_percent(value)


@extend_schema_field({"type": "string", "nullable": True, "example": "1.0850"})
class RateField(serializers.Field):
    """An exchange rate without trailing zeros ("1", "1.085")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal | None) -> str | None:
        return None if value is None else format(value.normalize(), "f")


@extend_schema_field({"type": "string", "example": "2.5"})
class QuantityField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        return format(value.normalize(), "f")


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "nullable": True,
        "description": "An account id (JSON number) or code (JSON string).",
    }
)
class AccountRefField(serializers.JSONField):
    pass


# --------------------------------------------------------------------------- master data


class CustomerOutput(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "email",
            "tax_id",
            "billing_address",
            "currency",
            "payment_terms_days",
            "receivables_account",
            "is_active",
            "created_at",
            "updated_at",
        ]


class CustomerInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254, default="")
    tax_id = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    billing_address = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    currency = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=3)
    payment_terms_days = StrictIntegerField(required=False, default=30)
    receivables_account = AccountRefField(required=False, allow_null=True)
    is_active = StrictBooleanField(required=False, default=True)


class CustomerUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    tax_id = serializers.CharField(required=False, allow_blank=True, max_length=50)
    billing_address = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    currency = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=3)
    payment_terms_days = StrictIntegerField(required=False)
    receivables_account = AccountRefField(required=False, allow_null=True)
    is_active = StrictBooleanField(required=False)


class TaxRateOutput(serializers.ModelSerializer):
    rate = PercentField()
    account_code = serializers.CharField(source="account.code", read_only=True)

    class Meta:
        model = TaxRate
        fields = ["id", "name", "rate", "account", "account_code", "is_active", "created_at", "updated_at"]


class TaxRateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    rate = MoneyInput(help_text='Percent, 0-100, up to 4 decimals, e.g. "20.00".')
    account = AccountRefField(
        required=False, allow_null=True, help_text="Default: the `tax_payable` account."
    )
    is_active = StrictBooleanField(required=False, default=True)


class TaxRateUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    rate = MoneyInput(required=False)
    account = AccountRefField(required=False)
    is_active = StrictBooleanField(required=False)


class ItemOutput(serializers.ModelSerializer):
    unit_price = MoneyField(currency_attr="company.currency")
    revenue_account_code = serializers.CharField(source="revenue_account.code", read_only=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "name",
            "description",
            "unit_price",
            "revenue_account",
            "revenue_account_code",
            "tax_rate",
            "is_active",
            "created_at",
            "updated_at",
        ]


class ItemInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    unit_price = MoneyInput(help_text="In the company's currency. " + MONEY_HELP)
    revenue_account = AccountRefField(
        required=False, allow_null=True, help_text="Default: the `revenue` account."
    )
    tax_rate = StrictIntegerField(required=False, allow_null=True, help_text="Default tax rate id.")
    is_active = StrictBooleanField(required=False, default=True)


class ItemUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    unit_price = MoneyInput(required=False)
    revenue_account = AccountRefField(required=False, allow_null=True)
    tax_rate = StrictIntegerField(required=False, allow_null=True)
    is_active = StrictBooleanField(required=False)


class SalesSettingsOutput(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null until the settings are first changed."
    )

    class Meta:
        model = SalesSettings
        fields = [
            "legal_name",
            "address",
            "tax_id",
            "email",
            "phone",
            "payment_instructions",
            "fx_gain_loss_account",
            "updated_at",
        ]


class SalesSettingsInput(serializers.Serializer):
    legal_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    address = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    tax_id = serializers.CharField(required=False, allow_blank=True, max_length=50)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    payment_instructions = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    fx_gain_loss_account = AccountRefField(required=False, allow_null=True)


# --------------------------------------------------------------------------- invoices


class InvoiceLineOutput(serializers.ModelSerializer):
    quantity = QuantityField()
    unit_price = MoneyField(currency_attr="invoice.currency")
    discount = PercentField()
    tax_percent = PercentField()
    account_code = serializers.CharField(source="account.code", read_only=True)
    net = MoneyField(currency_attr="invoice.currency")
    tax = MoneyField(currency_attr="invoice.currency")
    total = MoneyField(currency_attr="invoice.currency")

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "line_no",
            "item",
            "description",
            "quantity",
            "unit_price",
            "discount",
            "tax_rate",
            "tax_percent",
            "account",
            "account_code",
            "net",
            "tax",
            "total",
        ]


class InvoiceOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(
        source="customer.name",
        read_only=True,
        help_text="The customer's name now: a rename changes the customer (its `updated_at`), not this document's.",
    )
    fx_rate = RateField()
    lines = InvoiceLineOutput(many=True, read_only=True)
    subtotal = MoneyField(currency_attr="currency")
    tax_total = MoneyField(currency_attr="currency")
    total = MoneyField(currency_attr="currency")
    amount_credited = MoneyField(currency_attr="currency")
    amount_paid = MoneyField(currency_attr="currency")
    amount_due = MoneyField(currency_attr="currency")
    total_base = MoneyField(
        allow_null=True, help_text="The total in the company's currency as posted (null while draft)."
    )
    journal_number = serializers.SerializerMethodField()
    document_url = serializers.SerializerMethodField()

    quarantined = serializers.SerializerMethodField(
        help_text="True while an open discrepancy of an integrity run names it (GET …/discrepancies)."
    )

    class Meta:
        model = Invoice
        extra_kwargs = {
            "status": {
                "help_text": "`draft` (not in the books), `issued` (nothing paid yet), `partially_paid`, "
                "`paid` (nothing is due any more: settled by payments, by credit notes, or both; read "
                "`amount_paid` and `amount_credited` to tell a paid invoice from a cancelled one), "
                "`void` (reversed)."
            }
        }
        fields = [
            "id",
            "number",
            "status",
            "customer",
            "customer_name",
            "date",
            "due_date",
            "currency",
            "fx_rate",
            "reference",
            "notes",
            "lines",
            "subtotal",
            "tax_total",
            "total",
            "amount_credited",
            "amount_paid",
            "amount_due",
            "total_base",
            "journal_entry",
            "journal_number",
            "void_entry",
            "voided_on",
            "issued_at",
            "created_at",
            "updated_at",
            "document_url",
            "quarantined",
        ]

    def get_quarantined(self, obj: Invoice) -> bool:
        return quarantine_flag(obj, Invoice._meta.label_lower)

    def get_journal_number(self, obj: Invoice) -> str | None:
        return obj.journal_entry.number if obj.journal_entry_id else None

    def get_document_url(self, obj: Invoice) -> str:
        return reverse("invoice-document", kwargs={"company_id": obj.company_id, "pk": obj.pk})


class InvoiceLineInput(serializers.Serializer):
    item = StrictIntegerField(required=False, allow_null=True, help_text="Item id (optional).")
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    quantity = DecimalValueField(help_text='Positive, up to 4 decimals, e.g. "2.5".')
    unit_price = MoneyInput(
        required=False, allow_null=True, help_text="Default: the item's price. " + MONEY_HELP
    )
    discount = DecimalValueField(required=False, allow_null=True, help_text='Percent off, default "0".')
    tax_rate = StrictIntegerField(
        required=False, allow_null=True, help_text="Tax rate id; omitted: the item's default; null: no tax."
    )
    account = AccountRefField(
        required=False, allow_null=True, help_text="Revenue account; default: the item's."
    )


class InvoiceCreateInput(serializers.Serializer):
    customer = StrictIntegerField(help_text="Customer id.")
    date = StrictDateField()
    due_date = StrictDateField(required=False, allow_null=True, help_text="Default: date + payment terms.")
    currency = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=3,
        help_text="The invoice's currency (ISO 4217); default: the customer's.",
    )
    fx_rate = RateInput(
        required=False, allow_null=True, help_text="Foreign currency only; default: stored rate."
    )
    reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        default="",
        help_text="e.g. the customer's order number.",
    )
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, default="", help_text="Printed on the invoice."
    )
    lines = InvoiceLineInput(many=True, allow_empty=True, help_text="At least one line.")
    issue = StrictBooleanField(required=False, default=False, help_text="Issue at once (accountants).")


class InvoiceUpdateInput(serializers.Serializer):
    customer = StrictIntegerField(required=False)
    date = StrictDateField(required=False)
    due_date = StrictDateField(required=False, allow_null=True)
    currency = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=3)
    fx_rate = RateInput(required=False, allow_null=True)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    lines = InvoiceLineInput(many=True, required=False, allow_empty=True)


class DateInput(serializers.Serializer):
    date = StrictDateField(
        required=False,
        allow_null=True,
        help_text="The day it takes effect (YYYY-MM-DD); see each operation's default.",
    )


# --------------------------------------------------------------------------- credit notes


class CreditNoteLineOutput(serializers.ModelSerializer):
    quantity = QuantityField()
    description = serializers.CharField(source="invoice_line.description", read_only=True)
    net = MoneyField(currency_attr="credit_note.currency")
    tax = MoneyField(currency_attr="credit_note.currency")
    total = MoneyField(currency_attr="credit_note.currency")

    class Meta:
        model = CreditNoteLine
        fields = ["id", "line_no", "invoice_line", "description", "quantity", "net", "tax", "total"]


class CreditNoteOutput(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    fx_rate = RateField()
    lines = CreditNoteLineOutput(many=True, read_only=True)
    subtotal = MoneyField(currency_attr="currency")
    tax_total = MoneyField(currency_attr="currency")
    total = MoneyField(currency_attr="currency")
    total_base = MoneyField()

    quarantined = serializers.SerializerMethodField(
        help_text="True while an open discrepancy of an integrity run names it (GET …/discrepancies)."
    )

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "invoice",
            "invoice_number",
            "customer",
            "date",
            "currency",
            "fx_rate",
            "reason",
            "lines",
            "subtotal",
            "tax_total",
            "total",
            "total_base",
            "journal_entry",
            "created_at",
            "quarantined",
        ]

    def get_quarantined(self, obj: CreditNote) -> bool:
        return quarantine_flag(obj, CreditNote._meta.label_lower)


class CreditLineInput(serializers.Serializer):
    invoice_line = StrictIntegerField(help_text="Id of a line of the invoice.")
    quantity = DecimalValueField(help_text="How much of it to credit (at most what is left).")


class CreditNoteCreateInput(serializers.Serializer):
    invoice = StrictIntegerField(help_text="Id of the issued invoice to credit.")
    date = StrictDateField(
        required=False, allow_null=True, help_text="Default: today (not before the invoice)."
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default="", help_text="Printed on the credit note."
    )
    lines = CreditLineInput(many=True, required=False, help_text="Omitted: everything left to credit.")


# --------------------------------------------------------------------------- payments


class AllocationOutput(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    amount = MoneyField(currency_attr="invoice.currency")
    exchange_difference = serializers.SerializerMethodField(
        help_text="Realised in the company's currency: positive a loss, negative a gain."
    )
    is_active = StrictBooleanField(read_only=True)

    class Meta:
        model = Allocation
        fields = [
            "id",
            "payment",
            "invoice",
            "invoice_number",
            "date",
            "amount",
            "exchange_difference",
            "fx_entry",
            "is_active",
            "unallocated_on",
            "unallocation_entry",
        ]

    def get_exchange_difference(self, obj: Allocation) -> str:
        return format_amount(obj.invoice_base - obj.payment_base, self.context["currency"])


class PaymentOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(
        source="customer.name",
        read_only=True,
        help_text="The customer's name now: a rename changes the customer (its `updated_at`), not this document's.",
    )
    amount = MoneyField(currency_attr="currency")
    fx_rate = RateField()
    amount_base = MoneyField()
    account_code = serializers.CharField(source="account.code", read_only=True)
    allocations = serializers.SerializerMethodField()
    amount_allocated = MoneyField(currency_attr="currency")
    unallocated = MoneyField(currency_attr="currency")

    quarantined = serializers.SerializerMethodField(
        help_text="True while an open discrepancy of an integrity run names it (GET …/discrepancies)."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "number",
            "status",
            "customer",
            "customer_name",
            "date",
            "amount",
            "currency",
            "fx_rate",
            "amount_base",
            "account",
            "account_code",
            "method",
            "reference",
            "notes",
            "allocations",
            "amount_allocated",
            "unallocated",
            "journal_entry",
            "void_entry",
            "voided_on",
            "created_at",
            "updated_at",
            "quarantined",
        ]

    def get_quarantined(self, obj: Payment) -> bool:
        return quarantine_flag(obj, Payment._meta.label_lower)

    @extend_schema_field(AllocationOutput(many=True))
    def get_allocations(self, obj: Payment) -> list[dict]:
        active = getattr(obj, "active_allocations", None)
        if active is None:
            active = list(
                obj.allocations.filter(unallocated_on__isnull=True).select_related("invoice").order_by("id")
            )
        return AllocationOutput(active, many=True, context=self.context).data


class AllocationItemInput(serializers.Serializer):
    invoice = StrictIntegerField(help_text="Id of an open invoice of the customer, same currency.")
    amount = MoneyInput(help_text=MONEY_HELP)


class PaymentCreateInput(serializers.Serializer):
    customer = StrictIntegerField(help_text="Customer id.")
    date = StrictDateField()
    amount = MoneyInput(help_text=MONEY_HELP)
    currency = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=3,
        help_text="The currency received (ISO 4217); default: the customer's.",
    )
    account = AccountRefField(required=False, allow_null=True, help_text="Deposit account; default: `bank`.")
    method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        required=False,
        default=PaymentMethod.BANK_TRANSFER,
        help_text="How it was paid (default `bank_transfer`).",
    )
    reference = serializers.CharField(
        required=False, allow_blank=True, max_length=100, default="", help_text="e.g. the bank's reference."
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    fx_rate = RateInput(
        required=False, allow_null=True, help_text="Foreign currency only; default: stored rate."
    )
    allocations = AllocationItemInput(
        many=True, required=False, default=list, help_text="Omitted: all of it stays as customer credit."
    )


class AllocateInput(serializers.Serializer):
    allocations = AllocationItemInput(
        many=True, help_text="Open invoices of the payment's customer and currency."
    )
    date = StrictDateField(
        required=False, allow_null=True, help_text="Default: the latest of the payment's and invoices' dates."
    )


# --------------------------------------------------------------------------- reports


class CustomerRefOutput(serializers.Serializer):
    id = StrictIntegerField()
    name = serializers.CharField()


class AgingRowOutput(serializers.Serializer):
    customer = CustomerRefOutput(allow_null=True)
    current = MoneyField()
    days_1_30 = MoneyField()
    days_31_60 = MoneyField()
    days_61_90 = MoneyField()
    days_over_90 = MoneyField()
    unapplied_credit = MoneyField(help_text="Unallocated payments (customer credit), >= 0.")
    total = MoneyField(help_text="Buckets less unapplied credit.")


class AgingTotalsOutput(AgingRowOutput):
    customer = None


class ArAgingOutput(serializers.Serializer):
    as_of = StrictDateField()
    currency = serializers.CharField()
    rows = AgingRowOutput(many=True)
    totals = AgingTotalsOutput()


class StatementLineOutput(serializers.Serializer):
    date = StrictDateField()
    kind = serializers.ChoiceField(
        choices=["invoice", "invoice_void", "credit_note", "payment", "payment_void"]
    )
    number = serializers.CharField()
    reference = serializers.CharField()
    description = serializers.CharField()
    debit = MoneyField(help_text="Raises what the customer owes.")
    credit = MoneyField(help_text="Lowers it.")
    balance = MoneyField(help_text="Running balance from the opening balance.")
    document_id = StrictIntegerField()


class CurrencyBalanceOutput(serializers.Serializer):
    currency = serializers.CharField()
    closing_balance = MoneyField(
        currency_attr="currency", help_text="What the customer owed in this currency at `to`."
    )


class CustomerStatementOutput(serializers.Serializer):
    customer = CustomerRefOutput()
    currency = serializers.CharField()
    opening_balance = MoneyField()
    lines = StatementLineOutput(many=True)
    closing_balance = MoneyField()
    total_debit = MoneyField()
    total_credit = MoneyField()
    other_currencies = CurrencyBalanceOutput(
        many=True,
        help_text="The customer's balances at `to` in the other currencies they have documents in, "
        "where not zero (positive: owed; negative: the customer's credit). This statement shows one "
        "currency; ask again with `currency` for another's documents.",
    )

    def get_fields(self):
        fields = super().get_fields()
        # `from` and `to` are Python keywords: declared here.
        fields["from"] = StrictDateField(source="date_from")
        fields["to"] = StrictDateField(source="date_to")
        return fields


class SummaryRowOutput(serializers.Serializer):
    key = serializers.CharField(
        help_text="The day, month (YYYY-MM), customer id, item id ('' for no item) or tax rate id ('' for "
        "lines without a rate)."
    )
    label = serializers.CharField()
    invoice_count = StrictIntegerField()
    credit_note_count = StrictIntegerField()
    void_count = StrictIntegerField()
    net = MoneyField(help_text="Invoiced less credited and voided, before tax.")
    tax = MoneyField()
    total = MoneyField()
    quantity = serializers.SerializerMethodField(help_text="Items only.")

    def get_quantity(self, obj) -> str | None:
        return None if obj.quantity is None else format(obj.quantity.normalize(), "f")


class SalesSummaryOutput(serializers.Serializer):
    currency = serializers.CharField()
    group_by = serializers.ChoiceField(choices=list(SummaryGrouping.CHOICES))
    rows = SummaryRowOutput(many=True)
    totals = SummaryRowOutput()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = StrictDateField(source="date_from")
        fields["to"] = StrictDateField(source="date_to")
        return fields


class DeletionOutput(serializers.Serializer):
    type = serializers.SerializerMethodField(
        help_text="`customer`, `item`, `tax_rate` or `invoice` (a draft)."
    )
    id = serializers.SerializerMethodField(help_text="The id the deleted record had.")
    deleted_at = serializers.DateTimeField(source="created_at")

    def get_type(self, event) -> str:
        from sales.selectors import DELETABLE_TYPES

        return DELETABLE_TYPES[event.object_type]

    def get_id(self, event) -> int:
        return int(event.object_id)
