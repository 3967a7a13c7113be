"""Shapes of the banking API. Input serializers parse with the platform's strict fields (the
services validate the rest); output serializers render. Amounts leave as strings with exactly the
bank account's currency places."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from banking.models import (
    BankAccount,
    BankingSettings,
    BankStatement,
    BankStatementLine,
    ImportJob,
    MatchSuggestion,
    StatementFormat,
)
from banking.reports import changes_since_reconciled
from banking.selectors import job_progress
from sofinance.api.fields import MoneyField as MoneyInput
from sofinance.api.fields import RateField as RateInput
from sofinance.api.fields import ReferenceField, StrictBooleanField, StrictDateField, StrictIntegerField
from sofinance.ids import MAX_ID  # ids are 64-bit: a larger number names nothing (and must not reach SQL)
from sofinance.money import format_amount

MONEY = {"type": "string", "example": "1250.00", "description": "Decimal string at the currency's places."}


@extend_schema_field(MONEY)
class BankMoney(serializers.Field):
    """An amount at the bank account's currency places (`currency` in the context)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value is None else format_amount(value, self.context["currency"])


@extend_schema_field({**MONEY, "nullable": True})
class NullableBankMoney(BankMoney):
    pass


# --------------------------------------------------------------------------- bank accounts


class CsvMappingField(serializers.JSONField):
    """A JSON object; its keys are checked by the service (banking.parsers.csv_statement)."""


class BankAccountInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    account = ReferenceField(help_text="The ledger account: its id (JSON number) or code (string).")
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    iban = serializers.CharField(max_length=50, required=False, allow_blank=True)
    number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    csv_mapping = CsvMappingField(required=False, allow_null=True)
    is_active = StrictBooleanField(required=False)


class BankAccountUpdateInput(BankAccountInput):
    name = serializers.CharField(max_length=200, required=False)
    account = ReferenceField(required=False)


class BankAccountOutput(serializers.ModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)

    class Meta:
        model = BankAccount
        fields = [
            "id",
            "name",
            "account",
            "account_code",
            "currency",
            "iban",
            "number",
            "csv_mapping",
            "is_active",
        ]


class BankingSettingsInput(serializers.Serializer):
    date_window_days = StrictIntegerField(required=False, min_value=0, max_value=90)
    auto_confirm_confidence = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=100)


class BankingSettingsOutput(serializers.ModelSerializer):
    class Meta:
        model = BankingSettings
        fields = ["date_window_days", "auto_confirm_confidence"]


# --------------------------------------------------------------------------- statements


class StatementUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="The statement file (CSV, OFX or CAMT.053 XML).")
    format = serializers.ChoiceField(choices=StatementFormat.choices, required=False, allow_blank=True)
    opening_balance = MoneyInput(required=False, allow_null=True)
    closing_balance = MoneyInput(required=False, allow_null=True)
    accept_chain_break = serializers.ChoiceField(
        choices=["true", "false"],
        required=False,
        help_text="`true`: the opening balance may differ from the previous closing balance.",
    )


class ReconciliationOutput(serializers.Serializer):
    as_of = serializers.DateField()
    statement_balance = BankMoney()
    book_balance = BankMoney()
    unmatched_bank_total = BankMoney()
    unmatched_book_total = BankMoney()
    reconciled_at = serializers.DateTimeField()
    reconciled_by = serializers.IntegerField(source="reconciled_by_id", allow_null=True)
    book_balance_now = BankMoney(help_text="The book balance on the statement's last day today.")
    changed_since_reconciled = serializers.BooleanField(
        help_text="true when the books moved within the statement's dates after it was reconciled."
    )
    lines_posted_since = serializers.ListField(child=serializers.IntegerField())


class StatementOutput(serializers.ModelSerializer):
    opening_balance = BankMoney()
    closing_balance = BankMoney()
    chain_break = NullableBankMoney(
        help_text="Set when the import accepted an opening balance that does not chain."
    )
    reconciliation = serializers.SerializerMethodField()

    class Meta:
        model = BankStatement
        fields = [
            "id",
            "bank_account",
            "start_date",
            "end_date",
            "opening_balance",
            "closing_balance",
            "line_count",
            "duplicates_skipped",
            "format",
            "file_name",
            "chain_break",
            "status",
            "reconciliation",
            "created_at",
        ]

    @extend_schema_field(ReconciliationOutput(allow_null=True))
    def get_reconciliation(self, obj: BankStatement) -> dict | None:
        found = changes_since_reconciled(statement=obj)
        if found is None:
            return None
        stored = found["reconciliation"]
        data = {
            "as_of": stored.as_of,
            "statement_balance": stored.statement_balance,
            "book_balance": stored.book_balance,
            "unmatched_bank_total": stored.unmatched_bank_total,
            "unmatched_book_total": stored.unmatched_book_total,
            "reconciled_at": stored.reconciled_at,
            "reconciled_by_id": stored.reconciled_by_id,
            "book_balance_now": found["book_balance_now"],
            "changed_since_reconciled": found["changed"],
            "lines_posted_since": found["lines_posted_since"],
        }
        return ReconciliationOutput(data, context=self.context).data


class StatementReopenInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


# --------------------------------------------------------------------------- lines


class BankLineOutput(serializers.ModelSerializer):
    amount = BankMoney()
    matches = serializers.SerializerMethodField(help_text="Ids of the ledger (journal) lines matched.")
    statement = serializers.IntegerField(source="statement_id")

    class Meta:
        model = BankStatementLine
        fields = [
            "id",
            "statement",
            "date",
            "value_date",
            "amount",
            "counterparty",
            "reference",
            "description",
            "unique_id",
            "status",
            "matches",
            "match_confidence",
            "matched_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_matches(self, obj: BankStatementLine) -> list[int]:
        matches = getattr(obj, "match_list", None)
        if matches is None:
            matches = list(obj.matches.order_by("journal_line_id"))
        return [m.journal_line_id for m in matches]


class SuggestedLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    entry = serializers.IntegerField()
    number = serializers.CharField()
    date = serializers.DateField()
    amount = BankMoney()
    description = serializers.CharField()
    reference = serializers.CharField()


class SuggestionOutput(serializers.ModelSerializer):
    journal_lines = serializers.SerializerMethodField()

    class Meta:
        model = MatchSuggestion
        fields = ["id", "confidence", "reasons", "journal_line_ids", "journal_lines"]

    @extend_schema_field(SuggestedLineOutput(many=True))
    def get_journal_lines(self, obj: MatchSuggestion) -> list[dict]:
        details = self.context.get("journal_lines", {})
        return [
            SuggestedLineOutput(details[pk], context=self.context).data
            for pk in obj.journal_line_ids
            if pk in details
        ]


class OpenInvoiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    customer = serializers.IntegerField()
    customer_name = serializers.CharField()
    amount_due = BankMoney()


class SuggestionsOutput(serializers.Serializer):
    bank_line = BankLineOutput()
    suggestions = SuggestionOutput(many=True)
    invoice = OpenInvoiceOutput(
        allow_null=True, help_text="The open invoice the line's reference names, if any."
    )


class MatchInput(serializers.Serializer):
    journal_lines = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=50,
        help_text="Ledger line ids.",
    )
    suggestion = StrictIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Confirm this suggestion instead."
    )


CARRIED_DATE_HELP = (
    "The date to post on; the line's own date when left out. A line left unmatched by a reconciled "
    "statement (a carried item) is posted after the bank account's last reconciled day (409 "
    "`statement_reconciled` otherwise), so the reconciled position stays as stored."
)


class CreateEntryInput(serializers.Serializer):
    account = ReferenceField(help_text="The other side of the entry (e.g. 6700 bank fees): an id or a code.")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    fx_rate = RateInput(required=False, allow_null=True)
    date = StrictDateField(required=False, allow_null=True, help_text=CARRIED_DATE_HELP)


class RecordPaymentInput(serializers.Serializer):
    invoice = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    date = StrictDateField(required=False, allow_null=True, help_text=CARRIED_DATE_HELP)


class RecordedPaymentOutput(serializers.Serializer):
    bank_line = BankLineOutput()
    payment = serializers.IntegerField()
    payment_number = serializers.CharField()
    invoice = serializers.IntegerField(allow_null=True)
    allocated = BankMoney()


# --------------------------------------------------------------------------- jobs


class JournalImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX: one row per journal line (see the description).")
    format = serializers.ChoiceField(choices=["csv", "xlsx"], required=False, allow_blank=True)
    dry_run = serializers.ChoiceField(choices=["true", "false"], required=False)


class ImportJobOutput(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    statements = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "bank_account",
            "format",
            "file_name",
            "file_hash",
            "dry_run",
            "row_count",
            "entry_count",
            "line_count",
            "duplicates_skipped",
            "statements",
            "result",
            "error_code",
            "error_message",
            "errors",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_progress(self, obj: ImportJob) -> int:
        return job_progress(obj)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_statements(self, obj: ImportJob) -> list[int]:
        return sorted(s.pk for s in obj.statements.all())


class StatementUploadOutput(StatementOutput):
    job = serializers.SerializerMethodField()
    statements = serializers.SerializerMethodField()

    class Meta(StatementOutput.Meta):
        fields = [*StatementOutput.Meta.fields, "statements", "job"]

    @extend_schema_field(ImportJobOutput)
    def get_job(self, obj) -> dict:
        return ImportJobOutput(self.context["job"], context=self.context).data

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_statements(self, obj) -> list[int]:
        return sorted(s.pk for s in self.context["job"].statements.all())


# --------------------------------------------------------------------------- the report


class BankItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    amount = BankMoney()
    counterparty = serializers.CharField()
    reference = serializers.CharField()
    status = serializers.CharField()
    description = serializers.CharField(help_text="The bank's own words for the line.")


class BookItemOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The journal line.")
    entry = serializers.IntegerField()
    number = serializers.CharField()
    date = serializers.DateField()
    amount = BankMoney()
    description = serializers.CharField()
    reference = serializers.CharField()


class ReconciliationReportOutput(serializers.Serializer):
    bank_account = serializers.IntegerField(source="bank_account.pk")
    as_of = serializers.DateField()
    currency = serializers.CharField()
    statement = serializers.IntegerField(source="statement.pk", allow_null=True, default=None)
    statement_balance = NullableBankMoney(help_text="The bank's balance on the date, from the statements.")
    unmatched_bank = BankItemOutput(many=True)
    unmatched_bank_total = BankMoney()
    unmatched_book = BookItemOutput(many=True)
    unmatched_book_total = BankMoney()
    adjusted_bank_balance = NullableBankMoney()
    book_balance = BankMoney()
    difference = NullableBankMoney(help_text="book_balance - adjusted_bank_balance: 0.00 when reconciled.")
    opening_difference = BankMoney(help_text="The part of the difference from before the first statement.")
    reconciled = serializers.BooleanField()


class SuggestionsRefreshOutput(serializers.Serializer):
    auto_matched = serializers.IntegerField(
        help_text="How many lines were matched automatically (at or above `auto_confirm_confidence`)."
    )
