"""Shapes of the ledger API. Amounts leave as strings at their currency's decimal places."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from ledger.models import EntrySource, ExchangeRate, JournalEntry, JournalLine
from sofinance.api.fields import MoneyField, RateField, RawValueField, StrictBooleanField, StrictDateField
from sofinance.money import format_amount


def format_rate(rate: Decimal) -> str:
    """A rate without trailing zeros: "1", "1.085", "0.0091"."""
    return format(rate.normalize(), "f")


class JournalLineOutput(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id")
    account_code = serializers.CharField(source="account.code")
    account_name = serializers.CharField(source="account.name")
    debit = serializers.SerializerMethodField()
    credit = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()
    fx_rate = serializers.SerializerMethodField()
    base_amount = serializers.SerializerMethodField()

    class Meta:
        model = JournalLine
        fields = [
            "id",
            "line_no",
            "account",
            "account_code",
            "account_name",
            "debit",
            "credit",
            "description",
            "currency",
            "amount",
            "fx_rate",
            "base_amount",
        ]

    def _functional(self) -> str:
        return self.context["currency"]

    def get_debit(self, obj) -> str:
        return format_amount(obj.debit, obj.currency)

    def get_credit(self, obj) -> str:
        return format_amount(obj.credit, obj.currency)

    def get_amount(self, obj) -> str:
        return format_amount(obj.amount, obj.currency)

    def get_fx_rate(self, obj) -> str:
        return format_rate(obj.fx_rate)

    def get_base_amount(self, obj) -> str:
        return format_amount(obj.base_amount, self._functional())


class JournalEntryOutput(serializers.ModelSerializer):
    lines = serializers.SerializerMethodField()
    total_debit = serializers.SerializerMethodField()
    total_credit = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    posted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "number",
            "date",
            "description",
            "reference",
            "source",
            "status",
            "currency",
            "lines",
            "total_debit",
            "total_credit",
            "reversal_of",
            "reversed_by",
            "posted_at",
            "posted_by",
            "created_at",
            "created_by",
        ]

    def _lines(self, obj) -> list[JournalLine]:
        cached = getattr(obj, "_cached_lines", None)
        if cached is None:
            cached = list(obj.lines.all())
            obj._cached_lines = cached
        return cached

    def get_currency(self, obj) -> str:
        return self.context["currency"]

    def get_lines(self, obj) -> list[dict]:
        return JournalLineOutput(self._lines(obj), many=True, context=self.context).data

    def get_total_debit(self, obj) -> str:
        total = sum((ln.base_amount for ln in self._lines(obj) if ln.base_amount > 0), Decimal(0))
        return format_amount(total, self.context["currency"])

    def get_total_credit(self, obj) -> str:
        total = -sum((ln.base_amount for ln in self._lines(obj) if ln.base_amount < 0), Decimal(0))
        return format_amount(total, self.context["currency"])


class JournalLineInput(serializers.Serializer):
    account = RawValueField(help_text="Account id (number) or code (string).")
    debit = MoneyField(required=False, allow_null=True, help_text='Decimal string, e.g. "1200.00".')
    credit = MoneyField(required=False, allow_null=True, help_text='Decimal string, e.g. "1200.00".')
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    currency = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=3)
    fx_rate = RateField(
        required=False, allow_null=True, help_text="Units of functional currency per unit of `currency`."
    )


class JournalEntryCreateInput(serializers.Serializer):
    date = StrictDateField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    source = serializers.ChoiceField(
        choices=[EntrySource.MANUAL, EntrySource.IMPORT], required=False, default=EntrySource.MANUAL
    )
    post = StrictBooleanField(required=False, default=False)
    lines = JournalLineInput(many=True, allow_empty=True)


class JournalEntryUpdateInput(serializers.Serializer):
    date = StrictDateField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    lines = JournalLineInput(many=True, required=False, allow_empty=True)


class JournalEntryReverseInput(serializers.Serializer):
    date = StrictDateField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ExchangeRateOutput(serializers.ModelSerializer):
    rate = serializers.SerializerMethodField()

    class Meta:
        model = ExchangeRate
        fields = ["id", "from_currency", "to_currency", "date", "rate", "created_at"]

    def get_rate(self, obj) -> str:
        return format_rate(obj.rate)


class ExchangeRateInput(serializers.Serializer):
    from_currency = serializers.CharField(max_length=3)
    to_currency = serializers.CharField(max_length=3, required=False)
    date = StrictDateField()
    rate = RateField(help_text='Decimal string, e.g. "1.0850".')
