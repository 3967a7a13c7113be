"""Response shapes of the reports, for the OpenAPI schema (the views build the data directly)."""

from rest_framework import serializers

from accounts.models import AccountType


class ReportAccount(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=AccountType.choices)


class TrialBalanceRowOutput(serializers.Serializer):
    account = ReportAccount()
    debit = serializers.CharField(help_text="Debit balance (or 0.00).")
    credit = serializers.CharField(help_text="Credit balance (or 0.00).")
    balance = serializers.CharField(help_text="Debit minus credit.")
    account_currency = serializers.CharField(required=False, help_text="Foreign-currency accounts only.")
    balance_in_account_currency = serializers.CharField(required=False)


class Totals(serializers.Serializer):
    debit = serializers.CharField()
    credit = serializers.CharField()


class TrialBalanceOutput(serializers.Serializer):
    as_of = serializers.DateField()
    currency = serializers.CharField()
    rows = TrialBalanceRowOutput(many=True)
    totals = Totals()


class StatementAccount(ReportAccount):
    parent = serializers.IntegerField(allow_null=True)
    depth = serializers.IntegerField()


class StatementRowOutput(serializers.Serializer):
    account = StatementAccount()
    balance = serializers.CharField(help_text="In the section's natural sign, including sub-accounts.")
    is_leaf = serializers.BooleanField()


class SectionOutput(serializers.Serializer):
    rows = StatementRowOutput(many=True)
    total = serializers.CharField()


class BalanceSheetOutput(serializers.Serializer):
    as_of = serializers.DateField()
    currency = serializers.CharField()
    assets = SectionOutput()
    liabilities = SectionOutput()
    equity = SectionOutput()
    current_earnings = serializers.CharField()
    earlier_years_earnings = serializers.CharField(
        help_text="Of `current_earnings`, what fiscal years before the one of `as_of` left unclosed "
        "(zero once they are closed)."
    )
    total_liabilities_and_equity = serializers.CharField()
    balanced = serializers.BooleanField()


class IncomeStatementOutput(serializers.Serializer):
    currency = serializers.CharField()
    income = SectionOutput()
    expenses = SectionOutput()
    net_income = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        # `from` and `to` are Python keywords: declare them here.
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields


class LedgerAccount(ReportAccount):
    currency = serializers.CharField(allow_null=True)


class LedgerLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    entry = serializers.IntegerField()
    number = serializers.CharField()
    date = serializers.DateField()
    description = serializers.CharField()
    entry_description = serializers.CharField()
    reference = serializers.CharField()
    source = serializers.CharField()
    debit = serializers.CharField()
    credit = serializers.CharField()
    running_balance = serializers.CharField(help_text="Debit minus credit, from the opening balance.")
    currency = serializers.CharField(help_text="The currency of `amount` (the line's own).")
    amount = serializers.CharField(help_text="Signed (debit positive), in the line's currency.")
    running_balance_in_account_currency = serializers.CharField(
        required=False, help_text="Foreign-currency accounts only: the running balance in that currency."
    )


class GeneralLedgerOutput(serializers.Serializer):
    account = LedgerAccount()
    currency = serializers.CharField()
    opening_balance = serializers.CharField()
    lines = LedgerLineOutput(many=True)
    closing_balance = serializers.CharField()
    total_debit = serializers.CharField()
    total_credit = serializers.CharField()
    opening_balance_in_account_currency = serializers.CharField(
        required=False, help_text="Foreign-currency accounts only: the opening balance in that currency."
    )
    closing_balance_in_account_currency = serializers.CharField(
        required=False, help_text="Foreign-currency accounts only: the closing balance in that currency."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields
