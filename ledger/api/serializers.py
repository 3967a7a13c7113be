"""Shapes of the ledger API. Amounts leave as strings at their currency's decimal places."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from rest_framework import serializers

from ledger.models import EntrySource, EntryStatus, ExchangeRate, JournalEntry, JournalLine
from ledger.selectors import EntryLineRow, journal_entry_lines_attach
from sofinance.api.fields import MoneyField, RateField, ReferenceField, StrictBooleanField, StrictDateField
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


def line_json(line: JournalLine | EntryLineRow, *, functional: str) -> dict:
    currency = line.currency
    return {
        "id": line.id,
        "line_no": line.line_no,
        "account": line.account_id,
        "account_code": line.account_code,
        "account_name": line.account_name,
        "debit": format_amount(line.debit, currency),
        "credit": format_amount(line.credit, currency),
        "description": line.description,
        "currency": currency,
        "amount": format_amount(line.amount, currency),
        "fx_rate": format_rate(line.fx_rate),
        "base_amount": format_amount(line.base_amount, functional),
    }


def entry_lines(entry: JournalEntry) -> list[JournalLine] | list[EntryLineRow]:
    """The entry's lines: carried by a just-posted entry (ledger.services) or attached by the
    selectors (`journal_entry_lines_attach`), else read."""
    lines = getattr(entry, "posted_lines", None)
    if lines is None:
        journal_entry_lines_attach([entry])
        lines = entry.posted_lines
    return lines


def username(entry: JournalEntry, relation: str) -> str | None:
    """`created_by` / `posted_by` as a username: annotated by the selectors, else read."""
    annotated = getattr(entry, f"{relation}_username", _MISSING)
    if annotated is not _MISSING:
        return annotated
    user = getattr(entry, relation)
    return user.username if user is not None else None


_MISSING = object()


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
        tz = self.context.get("tz") or timezone.get_current_timezone()
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
            "posted_at": iso_datetime(entry.posted_at, tz),
            "posted_by": username(entry, "posted_by"),
            "created_at": iso_datetime(entry.created_at, tz),
            "created_by": username(entry, "created_by"),
            "quarantined": quarantine_flag(entry, ENTRY_LABEL),
        }


class JournalLineInput(serializers.Serializer):
    account = ReferenceField(help_text="The account: its id (a JSON number) or its code (a string).")
    debit = MoneyField(required=False, allow_null=True, help_text='Decimal string, e.g. "1200.00".')
    credit = MoneyField(required=False, allow_null=True, help_text='Decimal string, e.g. "1200.00".')
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    currency = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=3,
        help_text="ISO 4217 currency of the amount; default: the account's currency, else the company's.",
    )
    fx_rate = RateField(
        required=False,
        allow_null=True,
        help_text="Units of functional currency per unit of `currency`; default: the latest stored rate "
        "on or before the entry's date.",
    )


class JournalEntryCreateInput(serializers.Serializer):
    date = StrictDateField(help_text="The accounting date (YYYY-MM-DD); its period must be open.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        default="",
        help_text="Your own reference (an invoice or document number); filterable.",
    )
    source = serializers.ChoiceField(
        choices=[EntrySource.MANUAL, EntrySource.IMPORT],
        required=False,
        default=EntrySource.MANUAL,
        help_text="`manual` (default) or `import` (entries brought over from another system).",
    )
    post = StrictBooleanField(
        required=False, default=False, help_text="`true`: post at once; `false` (default): save a draft."
    )
    lines = JournalLineInput(
        many=True,
        allow_empty=True,
        help_text="At least two; debits equal credits in the functional currency.",
    )


class BulkEntryInput(JournalEntryCreateInput):
    """A journal-entry body as for a single post, every one posted: `post` is true by default
    here (a generated client sends the documented default, and false is refused)."""

    post = StrictBooleanField(
        required=False,
        default=True,
        help_text="Always posted: omit it or send `true` (`false` is refused; drafts are made one by one).",
    )


class JournalEntryBulkInput(serializers.Serializer):
    entries = BulkEntryInput(many=True, help_text="1 to 1,000 journal-entry bodies, posted in this order.")


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
    date = StrictDateField(
        required=False, allow_null=True, help_text="The reversal's date; default: the original's date."
    )
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Default: `Reversal of <number>`."
    )


class ExchangeRateOutput(serializers.ModelSerializer):
    rate = serializers.SerializerMethodField()

    class Meta:
        model = ExchangeRate
        fields = ["id", "from_currency", "to_currency", "date", "rate", "created_at"]

    def get_rate(self, obj) -> str:
        return format_rate(obj.rate)


class ExchangeRateInput(serializers.Serializer):
    from_currency = serializers.CharField(
        max_length=3, help_text="The foreign currency (ISO 4217), e.g. `EUR`."
    )
    to_currency = serializers.CharField(
        max_length=3, required=False, help_text="Default: the company's functional currency."
    )
    date = StrictDateField(help_text="The day the rate is for; it applies until the next stored rate.")
    rate = RateField(help_text='Decimal string, e.g. "1.0850".')
