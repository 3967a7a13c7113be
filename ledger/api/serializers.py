"""Shapes of the ledger API. Amounts leave as strings at their currency's decimal places."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from ledger.models import EntrySource, EntryStatus, ExchangeRate, JournalEntry, JournalLine
from sofinance.api.fields import MoneyField, RateField, RawValueField, StrictBooleanField, StrictDateField
from sofinance.api.views import iso_datetime
from sofinance.money import format_amount
from sofinance.quarantine import quarantine_flag

ENTRY_LABEL = JournalEntry._meta.label_lower


def format_rate(rate: Decimal) -> str:
    """A rate without trailing zeros: "1", "1.085", "0.0091"."""
    return format(rate.normalize(), "f")


class JournalLineOutput(serializers.Serializer):
    """A journal line. The declared fields document the shape; `to_representation` renders it
    directly (a page of entries renders hundreds of lines: DRF's per-field machinery cost more
    than reading them). A test keeps the two in step."""

    id = serializers.IntegerField()
    line_no = serializers.IntegerField()
    account = serializers.IntegerField(help_text="The account's id.")
    account_code = serializers.CharField()
    account_name = serializers.CharField()
    debit = serializers.CharField(help_text='In the line\'s currency, "0.00" when the line is a credit.')
    credit = serializers.CharField(help_text='In the line\'s currency, "0.00" when the line is a debit.')
    description = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.CharField(help_text="Signed (debit positive), in the line's currency.")
    fx_rate = serializers.CharField(help_text="Units of functional currency per unit of `currency`.")
    base_amount = serializers.CharField(help_text="Signed, in the company's functional currency.")

    def to_representation(self, line: JournalLine) -> dict:
        return line_json(line, functional=self.context["currency"])


def line_json(line: JournalLine, *, functional: str) -> dict:
    currency = line.currency
    return {
        "id": line.id,
        "line_no": line.line_no,
        "account": line.account_id,
        "account_code": line.account.code,
        "account_name": line.account.name,
        "debit": format_amount(line.debit, currency),
        "credit": format_amount(line.credit, currency),
        "description": line.description,
        "currency": currency,
        "amount": format_amount(line.amount, currency),
        "fx_rate": format_rate(line.fx_rate),
        "base_amount": format_amount(line.base_amount, functional),
    }


def entry_lines(entry: JournalEntry) -> list[JournalLine]:
    """The entry's lines: carried by a just-posted entry (ledger.services), else prefetched or read."""
    lines = getattr(entry, "posted_lines", None)
    if lines is None:
        lines = list(entry.lines.all())
        entry.posted_lines = lines
    return lines


class JournalEntryOutput(serializers.Serializer):
    """A journal entry with its lines (rendered directly, see JournalLineOutput)."""

    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True, help_text="Null while the entry is a draft.")
    date = serializers.DateField()
    description = serializers.CharField()
    reference = serializers.CharField()
    source = serializers.ChoiceField(choices=EntrySource.choices)
    status = serializers.ChoiceField(choices=EntryStatus.choices)
    currency = serializers.CharField(
        help_text="The company's functional currency (of the totals and base amounts)."
    )
    lines = JournalLineOutput(many=True)
    total_debit = serializers.CharField()
    total_credit = serializers.CharField()
    reversal_of = serializers.IntegerField(allow_null=True, help_text="The entry this one reverses.")
    reversed_by = serializers.IntegerField(allow_null=True, help_text="The entry that reverses this one.")
    posted_at = serializers.DateTimeField(allow_null=True)
    posted_by = serializers.CharField(allow_null=True, help_text="Username of who posted it.")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True, help_text="Username of who created it.")
    quarantined = serializers.BooleanField(
        help_text="True while an open discrepancy of an integrity run names the entry (GET …/discrepancies)."
    )

    def to_representation(self, entry: JournalEntry) -> dict:
        functional = self.context["currency"]
        lines = entry_lines(entry)
        debit = sum((ln.base_amount for ln in lines if ln.base_amount > 0), Decimal(0))
        credit = -sum((ln.base_amount for ln in lines if ln.base_amount < 0), Decimal(0))
        return {
            "id": entry.id,
            "number": entry.number,
            "date": entry.date.isoformat(),
            "description": entry.description,
            "reference": entry.reference,
            "source": entry.source,
            "status": entry.status,
            "currency": functional,
            "lines": [line_json(line, functional=functional) for line in lines],
            "total_debit": format_amount(debit, functional),
            "total_credit": format_amount(credit, functional),
            "reversal_of": entry.reversal_of_id,
            "reversed_by": entry.reversed_by_id,
            "posted_at": iso_datetime(entry.posted_at),
            "posted_by": entry.posted_by.username if entry.posted_by_id else None,
            "created_at": iso_datetime(entry.created_at),
            "created_by": entry.created_by.username if entry.created_by_id else None,
            # An entry just written (not read back) is new: nothing has flagged it.
            "quarantined": False if entry._state.adding else quarantine_flag(entry, ENTRY_LABEL),
        }


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


class JournalEntryBulkInput(serializers.Serializer):
    entries = JournalEntryCreateInput(
        many=True, help_text="1 to 1,000 journal-entry bodies, posted in this order."
    )


class PostedEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    date = serializers.DateField()
    reference = serializers.CharField()

    def to_representation(self, entry: JournalEntry) -> dict:  # a thousand per bulk response
        return {
            "id": entry.id,
            "number": entry.number,
            "status": entry.status,
            "date": entry.date.isoformat(),
            "reference": entry.reference,
        }


class JournalEntryBulkOutput(serializers.Serializer):
    entries = PostedEntryOutput(many=True, help_text="The posted entries, in request order.")


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
