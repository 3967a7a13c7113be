"""The banking API: bank accounts, statement uploads, lines and their matching, the reconciliation
report, reconcile/reopen, journal imports and the import jobs.

Thin views: parse with an input serializer, call one service or selector, render. Tenancy and
roles from CompanyScopedMixin (`actions` maps each method to an Action of sofinance.permissions).
"""

from __future__ import annotations

import django_filters
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView

from banking import reports, selectors, services
from banking.api import examples
from banking.api import serializers as s
from banking.models import (
    BankAccount,
    BankStatement,
    BankStatementLine,
    ImportJob,
    ImportKind,
    JobStatus,
    LineStatus,
)
from banking.tasks import import_job_run_task
from ledger.models import JournalLine
from sofinance.api.filters import DateRangeFilterSet, IdFilter
from sofinance.api.idempotency import idempotent
from sofinance.api.pagination import EnvelopeCursorPagination
from sofinance.api.parsers import MultiPartParser
from sofinance.api.schema import DELETED, envelope_example, refusals, request_example
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import no_body, ok, query_bool, query_date, refuse_undocumented_query, validated
from sofinance.errors import NotFound, ValidationFailed
from sofinance.permissions import Action

MULTIPART = examples.MULTIPART


def conflict(text: str) -> OpenApiResponse:
    return refusals(f"Conflict, nothing written: {text}")


def refused(text: str) -> OpenApiResponse:
    return refusals(f"Refused by a rule, nothing written: {text}")


class ByNamePagination(EnvelopeCursorPagination):
    ordering = ("name", "id")


class ByDatePagination(EnvelopeCursorPagination):
    ordering = ("-end_date", "-id")


class LinePagination(EnvelopeCursorPagination):
    ordering = ("date", "id")
    page_size = 100


class NewestPagination(EnvelopeCursorPagination):
    ordering = ("-created_at", "-id")


class _Scoped(CompanyScopedMixin, GenericAPIView):
    def fake(self) -> bool:
        return getattr(self, "swagger_fake_view", False)

    @staticmethod
    def found(obj):
        if obj is None:
            raise NotFound()
        return obj

    def bank_account(self, pk) -> BankAccount:
        return self.found(selectors.bank_account_get(company=self.company, pk=int(pk)))

    def statement(self, pk) -> BankStatement:
        return self.found(selectors.statement_get(company=self.company, pk=int(pk)))

    def line(self, pk) -> BankStatementLine:
        return self.found(selectors.line_get(company=self.company, pk=int(pk)))

    def ctx(self, currency: str, **extra) -> dict:
        return {"currency": currency, "request": self.request, **extra}


# --------------------------------------------------------------------------- bank accounts


class BankAccountListView(_Scoped):
    serializer_class = s.BankAccountOutput
    pagination_class = ByNamePagination
    filterset_class = None
    actions = {"get": Action.BANKING_VIEW, "post": Action.BANKING_MANAGE}

    def get_queryset(self):
        return (
            BankAccount.objects.none()
            if self.fake()
            else selectors.bank_accounts_for_company(company=self.company)
        )

    @extend_schema(
        operation_id="companies_bank_accounts_list",
        summary="List bank accounts",
        description="The company's bank accounts by name, a page at a time (follow `meta.pagination.next`).",
        responses={200: s.BankAccountOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.BankAccountOutput(page, many=True).data)

    @extend_schema(
        summary="Create a bank account",
        description="Accountants and above. A bank account is kept on one postable asset or liability "
        "account of the chart (`account`: id or code; one bank account per ledger account) in that "
        "account's currency (`currency` defaults to it, else the company's). `iban` is checked (mod 97). "
        "`csv_mapping` says how this bank's CSV statements read (see the statement upload). Refused: "
        "`validation_error`, `invalid_account`; 409 for a name or ledger account already used.",
        request=s.BankAccountInput,
        responses={
            201: s.BankAccountOutput,
            409: conflict(
                "`conflict` with `details.reason` `duplicate_account` (the ledger account already has a "
                "bank account) or `duplicate_name` (the name is taken)."
            ),
            422: refused(
                "`invalid_account` (unknown, inactive, a parent, not an asset or liability "
                "account, or kept in another currency)."
            ),
        },
        examples=examples.BANK_ACCOUNT_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.BankAccountInput, request.data)
        bank = services.bank_account_create(company=self.company, by=request.user, **data)
        return ok(s.BankAccountOutput(bank).data, status=201)


class BankAccountDetailView(_Scoped):
    serializer_class = s.BankAccountOutput
    actions = {"get": Action.BANKING_VIEW, "patch": Action.BANKING_MANAGE}

    @extend_schema(summary="Get a bank account", description="One bank account of the company.")
    def get(self, request, company_id, pk):
        return ok(s.BankAccountOutput(self.bank_account(pk)).data)

    @extend_schema(
        summary="Change a bank account",
        description="Change its name, IBAN, number, CSV mapping or active flag. Once it has statements its "
        "ledger `account` and `currency` no longer change (409, reason `bank_account_in_use`).",
        request=s.BankAccountUpdateInput,
        responses={
            200: s.BankAccountOutput,
            409: conflict(
                "`conflict` with `details.reason` `bank_account_in_use` (its ledger account or currency, "
                "once it has statements), `duplicate_name` or `duplicate_account`."
            ),
            422: refused("`invalid_account`."),
        },
        examples=[request_example("Rename", {"name": "Operating account (HSBC)"})],
    )
    @idempotent
    def patch(self, request, company_id, pk):
        data = validated(s.BankAccountUpdateInput, request.data, partial=True)
        bank = services.bank_account_update(bank_account=self.bank_account(pk), by=request.user, **data)
        return ok(s.BankAccountOutput(bank).data)


class BankingSettingsView(_Scoped):
    serializer_class = s.BankingSettingsOutput
    actions = {"get": Action.BANKING_VIEW, "patch": Action.BANKING_MANAGE}

    @extend_schema(
        summary="Get the matching settings",
        description="`date_window_days`: how far apart (days) a bank line and a ledger line may be dated to be "
        "suggested (default 7). `auto_confirm_confidence`: suggestions at or above this confidence (1-100) "
        "that stand alone at the top are confirmed without a person; null (the default): never.",
    )
    def get(self, request, company_id):
        return ok(s.BankingSettingsOutput(selectors.banking_settings_for(company=self.company)).data)

    @extend_schema(
        summary="Change the matching settings",
        description="Change `date_window_days` (0-90: how many days apart a bank line and a ledger line may be "
        "dated to be suggested) and `auto_confirm_confidence` (1-100, or null to have every suggestion "
        "confirmed by a person). Values out of range are 400 `validation_error`.",
        request=s.BankingSettingsInput,
        responses={200: s.BankingSettingsOutput},
        examples=examples.BANKING_SETTINGS_UPDATE,
    )
    @idempotent
    def patch(self, request, company_id):
        data = validated(s.BankingSettingsInput, request.data, partial=True)
        saved = services.banking_settings_update(company=self.company, by=request.user, **data)
        return ok(s.BankingSettingsOutput(saved).data)


# --------------------------------------------------------------------------- statements


UPLOAD_DESCRIPTION = """
Upload a bank statement file (multipart `file`) into this bank account. `format` is `csv`, `ofx` or
`camt053`; without it the format is detected from the content.

- **CSV** is read with the bank account's `csv_mapping` (columns by header: date and its format,
  a signed amount or debit/credit columns, decimal and thousands separators, counterparty,
  reference, description, unique id, running balance). A CSV without a balance column needs
  `opening_balance` or `closing_balance` (or it chains from the previous statement).
- **OFX** (v1 SGML or v2 XML): each transaction's FITID is its unique id; the closing balance is
  LEDGERBAL. A truncated file (no closing `</OFX>`) is refused.
- **CAMT.053** (ISO 20022 XML, any camt.053.001.xx): DTDs, entities and external references are
  refused before anything is expanded (XML bombs, XXE); booked entries become lines (AcctSvcrRef is
  the unique id); a file with several statements for this account imports each.

Rules: the statement's opening balance must equal the bank account's balance the day before its
first date (the previous statement's closing balance), unless `accept_chain_break=true` (then the
gap is kept as `chain_break`): 422 `balance_chain_broken`. Opening + lines must equal closing:
422 `statement_unbalanced`. Lines already imported (same unique id, else same date, amount and
reference) are skipped, so importing the same file again answers **201 with `line_count` 0** and
`duplicates_skipped` = its lines. A bad file answers 422 `invalid_statement_file` with
`error.details.errors`: every problem as `{"line", "column", "message"}`; nothing is written.

The import runs as a job (`data.job`: status, progress, counts). By default it runs at once and
the answer is **201 with the statement** (the last one when the file held several; all in
`data.statements`). With `?async=true` the answer is **202 with the job**, run by a Celery worker;
follow it at `…/import-jobs/{id}` (its `errors` list the problems by line when it fails). A file of
more than 5,000 lines is imported only that way: without `async=true` it is refused with 400
`validation_error` (`error.details.file`), before anything is written.
After an import, matches are suggested for the new lines (and confirmed automatically above the
company's `auto_confirm_confidence`).
"""


class StatementListView(_Scoped):
    parser_classes = [MultiPartParser]  # the upload; its other methods take no body
    serializer_class = s.StatementOutput
    pagination_class = ByDatePagination
    filterset_class = None
    actions = {"get": Action.BANKING_VIEW, "post": Action.BANKING_IMPORT}

    def get_queryset(self):
        if self.fake():
            return BankStatement.objects.none()
        return selectors.statements_for_company(company=self.company).filter(bank_account=self.bank)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS":
            self.bank = self.bank_account(kwargs["pk"])

    @extend_schema(
        operation_id="companies_bank_accounts_statements_list",
        summary="List a bank account's statements",
        description="Newest first (by last date). Each with its balances, counts and, once reconciled, the "
        "stored position (`reconciliation`, with `changed_since_reconciled` when the books moved after).",
        responses={200: s.StatementOutput(many=True)},
    )
    def get(self, request, company_id, pk):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            s.StatementOutput(page, many=True, context=self.ctx(self.bank.currency)).data
        )

    @extend_schema(
        operation_id="companies_bank_accounts_statements_create",
        summary="Upload a bank statement",
        description=UPLOAD_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "async",
                OpenApiTypes.BOOL,
                description="`true`: queue the import for a worker and answer 202 with the job (by default "
                "the file is imported at once and the answer is 201 with the statement).",
            ),
        ],
        request={MULTIPART: s.StatementUploadInput},
        examples=examples.STATEMENT_UPLOAD,
        responses={
            201: s.StatementUploadOutput,
            202: s.ImportJobOutput,
            413: OpenApiResponse(
                description="The upload is larger than UPLOAD_MAX_BYTES (`payload_too_large`)."
            ),
            422: refused(
                "`invalid_statement_file` (errors by line), `statement_unbalanced`, `balance_chain_broken`, "
                "`statement_account_mismatch`, `invalid_bank_account`."
            ),
        },
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.StatementUploadInput, request.data)
        options = {
            "format": data.get("format") or None,
            "opening_balance": data.get("opening_balance"),
            "closing_balance": data.get("closing_balance"),
            "accept_chain_break": data.get("accept_chain_break") == "true",
        }
        if query_bool(request, "async"):
            job = services.statement_import_job_create(
                bank_account=self.bank, file=data["file"], by=request.user, **options
            )
            transaction.on_commit(lambda: import_job_run_task.delay(job.pk), robust=True)
            return ok(s.ImportJobOutput(job).data, status=202)
        job = services.statement_upload(bank_account=self.bank, file=data["file"], by=request.user, **options)
        statement = selectors.statement_get(company=self.company, pk=job.result["statements"][-1])
        context = self.ctx(self.bank.currency, job=job)
        return ok(s.StatementUploadOutput(statement, context=context).data, status=201)


class StatementDetailView(_Scoped):
    serializer_class = s.StatementOutput
    actions = {"get": Action.BANKING_VIEW, "delete": Action.BANKING_IMPORT}

    @extend_schema(
        summary="Get a bank statement",
        description="One statement: its dates, balances, line counts, `status` (`open` or `reconciled`) and, "
        "once reconciled, the stored position (`reconciliation`, with `changed_since_reconciled` when the "
        "books moved within its dates after it was reconciled).",
    )
    def get(self, request, company_id, pk):
        statement = self.statement(pk)
        return ok(s.StatementOutput(statement, context=self.ctx(statement.bank_account.currency)).data)

    @extend_schema(
        summary="Delete a bank statement",
        description="Removes a wrongly imported statement and its lines, when none of them is matched "
        "(409 `statement_has_matches`) and it is not reconciled (409 `statement_reconciled`).",
        responses={
            200: DELETED,
            409: conflict(
                "`conflict` with `details.reason` `statement_has_matches` (unmatch its lines first), or "
                "`statement_reconciled` (reopen it first)."
            ),
        },
        examples=examples.STATEMENT_DELETE,
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.statement_delete(statement=self.statement(pk), by=request.user)
        return ok(None)


class StatementReconcileView(_Scoped):
    serializer_class = s.StatementOutput
    actions = {"post": Action.BANKING_RECONCILE}

    @extend_schema(
        summary="Mark a statement reconciled",
        description="Accountants and above. Works out the reconciliation as of the statement's last day and, "
        "when the books agree (book balance = closing balance − bank lines not in the books + book lines "
        "not through the bank), stores that position and freezes the statement: its lines and matches no "
        "longer change, and a matched entry is not reversed into its dates. Refused: 422 "
        "`reconciliation_difference` (with the figures), 409 `previous_statement_not_reconciled` "
        "(statements are reconciled in date order), 409 `statement_reconciled`.",
        request=None,
        responses={
            200: s.StatementOutput,
            409: conflict(
                "`statement_reconciled` (reconciled already), or `conflict` with `details.reason` "
                "`previous_statement_not_reconciled`."
            ),
            422: refused("`reconciliation_difference`, with the figures in `error.details`."),
        },
        examples=examples.STATEMENT_RECONCILE,
    )
    @idempotent
    @no_body
    def post(self, request, company_id, pk):
        statement = self.statement(pk)
        services.statement_reconcile(statement=statement, by=request.user)
        statement = self.statement(pk)
        return ok(s.StatementOutput(statement, context=self.ctx(statement.bank_account.currency)).data)


class StatementReopenView(_Scoped):
    serializer_class = s.StatementOutput
    actions = {"post": Action.BANKING_REOPEN}

    @extend_schema(
        summary="Reopen a reconciled statement",
        description="Makes a reconciled statement `open` again, so its lines can be matched and unmatched, "
        "with a `reason` (400 without one) kept in the audit trail. The latest reconciled statement is "
        "reopened first. The stored position is kept, marked reopened.",
        request=s.StatementReopenInput,
        responses={
            200: s.StatementOutput,
            409: conflict(
                "`conflict` with `details.reason` `statement_not_reconciled` (it is open), or "
                "`later_statement_reconciled` (reopen the later one first; `error.details.statement`)."
            ),
        },
        examples=examples.STATEMENT_REOPEN,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.StatementReopenInput, request.data)
        statement = services.statement_reopen(
            statement=self.statement(pk), by=request.user, reason=data["reason"]
        )
        statement = self.statement(statement.pk)
        return ok(s.StatementOutput(statement, context=self.ctx(statement.bank_account.currency)).data)


# --------------------------------------------------------------------------- lines


class LineFilter(DateRangeFilterSet):
    """`from` / `to` on the line's date (DateRangeFilterSet), its match state and its statement."""

    status = django_filters.ChoiceFilter(
        choices=LineStatus.choices, help_text="`unmatched`, `suggested` or `matched`."
    )
    statement = IdFilter(field_name="statement", help_text="Only the lines of this statement (its id).")

    class Meta:
        model = BankStatementLine
        fields = ["status"]


class BankLineListView(_Scoped):
    serializer_class = s.BankLineOutput
    pagination_class = LinePagination
    filterset_class = LineFilter
    actions = {"get": Action.BANKING_VIEW}

    def get_queryset(self):
        if self.fake():
            return BankStatementLine.objects.none()
        return selectors.lines_for_bank_account(bank_account=self.bank)

    @extend_schema(
        operation_id="companies_bank_accounts_lines_list",
        summary="List a bank account's lines with their match state",
        description="In date order, 100 a page. `status` is `unmatched`, `suggested` (matches are proposed: "
        "see `…/bank-lines/{id}/suggestions`) or `matched` (`matches` lists the ledger line ids). "
        "Filters: `status`, `from` and `to` (the line's date, YYYY-MM-DD, both inclusive), `statement`. "
        "`date_from` / `date_to` are not filters of this list: sending them is 400 `validation_error` "
        "naming the right parameter.",
        responses={200: s.BankLineOutput(many=True)},
    )
    def get(self, request, company_id, pk):
        self.bank = self.bank_account(pk)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            s.BankLineOutput(page, many=True, context=self.ctx(self.bank.currency)).data
        )


class SuggestView(_Scoped):
    serializer_class = None
    actions = {"post": Action.BANKING_MATCH}

    @extend_schema(
        summary="Work out match suggestions again",
        description="Recomputes the suggestions of every unmatched line of the bank account, e.g. after entries were "
        "posted, and confirms those at or above the company's `auto_confirm_confidence`. Lines left "
        "unmatched by a reconciled statement (carried items) are suggested ledger lines dated after the "
        "last reconciled day and are never confirmed automatically. Returns how many lines were matched "
        "automatically.",
        request=None,
        responses={200: s.SuggestionsRefreshOutput},
        examples=[envelope_example("Refreshed", {"auto_matched": 3})],
    )
    @idempotent
    @no_body
    def post(self, request, company_id, pk):
        matched = services.suggestions_refresh(bank_account=self.bank_account(pk))
        return ok({"auto_matched": matched})


class BankLineDetailView(_Scoped):
    serializer_class = s.BankLineOutput
    actions = {"get": Action.BANKING_VIEW}

    @extend_schema(
        summary="Get a bank line",
        description="One bank line: date, signed `amount` (money in is positive), counterparty, reference, "
        "`status` (`unmatched`, `suggested`, `matched`) and the ledger lines it is matched to (`matches`).",
    )
    def get(self, request, company_id, pk):
        line = self.line(pk)
        return ok(s.BankLineOutput(line, context=self.ctx(line.bank_account.currency)).data)


class SuggestionsView(_Scoped):
    serializer_class = s.SuggestionsOutput
    actions = {"get": Action.BANKING_VIEW}

    @extend_schema(
        summary="Suggested matches of a bank line",
        description="The best ways (at most 5) to match the line: one ledger line of the same amount, or two or "
        "three adding up to it, on the bank's ledger account within the date window, each with a "
        "`confidence` (0-100: amount 50, or 40 for a group; date closeness up to 30; reference 20) and its "
        "`reasons`. `invoice` is the open invoice the line's reference names (record it with "
        "`…/record-payment`).",
        responses={200: s.SuggestionsOutput},
    )
    def get(self, request, company_id, pk):
        line = self.line(pk)
        suggestions = selectors.suggestions_of(bank_line=line)
        ids = {i for suggestion in suggestions for i in suggestion.journal_line_ids}
        amount_field = line.bank_account.ledger_amount_field
        details = {
            row["id"]: {
                "id": row["id"],
                "entry": row["entry_id"],
                "number": row["entry__number"] or "",
                "date": row["date"],
                "amount": row[amount_field],
                "description": row["description"],
                "reference": row["entry__reference"],
            }
            for row in JournalLine.objects.filter(pk__in=ids).values(
                "id", "entry_id", "entry__number", "date", amount_field, "description", "entry__reference"
            )
        }
        invoice = services.open_invoice_for_line(line) if line.amount > 0 else None
        context = self.ctx(line.bank_account.currency, journal_lines=details)
        data = {
            "bank_line": s.BankLineOutput(line, context=context).data,
            "suggestions": s.SuggestionOutput(suggestions, many=True, context=context).data,
            "invoice": s.OpenInvoiceOutput(
                {
                    "id": invoice.pk,
                    "number": invoice.number,
                    "customer": invoice.customer_id,
                    "customer_name": invoice.customer.name,
                    "amount_due": invoice.amount_due,
                },
                context=context,
            ).data
            if invoice is not None and invoice.currency == line.bank_account.currency
            else None,
        }
        return ok(data)


class MatchView(_Scoped):
    serializer_class = s.BankLineOutput
    actions = {"post": Action.BANKING_MATCH}

    @extend_schema(
        summary="Match a bank line",
        description="Match the line to ledger lines (`journal_lines`: ids of posted lines on the bank's ledger "
        "account, adding up to the line's amount; one or several), or confirm one of its suggestions "
        "(`suggestion`). A line left unmatched by a reconciled statement (a carried item, e.g. a fee "
        "booked the next month) is matched only to ledger lines dated after the bank account's last "
        "reconciled day: the reconciled position stays as stored. Refused: 422 `match_refused` (amounts "
        "do not add up), 422 `match_wrong_account`, 409 `conflict` reason `already_matched`, 409 "
        "`statement_reconciled` (with `details.reconciled_through`, the last reconciled day).",
        request=s.MatchInput,
        responses={
            200: s.BankLineOutput,
            409: conflict(
                "`conflict` with `details.reason` `already_matched` (the bank line, or a ledger line, is "
                "matched already), or the code `statement_reconciled` with `details.reconciled_through` and "
                "`details.journal_lines` (the ledger lines dated on or before the last reconciled day: match "
                "later ones, or reopen the statement first)."
            ),
            422: refused(
                "`match_refused` (the amounts do not add up, or not a suggestion of the line), "
                "`match_wrong_account`."
            ),
        },
        examples=examples.LINE_MATCH,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.MatchInput, request.data)
        line = services.bank_line_match(
            bank_line=self.line(pk),
            journal_lines=data.get("journal_lines"),
            suggestion=data.get("suggestion"),
            by=request.user,
        )
        line = self.line(line.pk)
        return ok(s.BankLineOutput(line, context=self.ctx(line.bank_account.currency)).data)


class UnmatchView(_Scoped):
    serializer_class = s.BankLineOutput
    actions = {"post": Action.BANKING_MATCH}

    @extend_schema(
        summary="Unmatch a bank line",
        description="Removes the line's match (its suggestions are worked out again). Refused while the match counts "
        "in a reconciled position (409 `statement_reconciled`: a controller reopens the statement first; a "
        "carried line's match to ledger lines dated after the last reconciled day can be undone) and for a "
        "line not matched (409 reason `not_matched`).",
        request=None,
        responses={
            200: s.BankLineOutput,
            409: conflict(
                "`statement_reconciled` (reopen the statement first), or `conflict` with `details.reason` "
                "`not_matched`."
            ),
        },
        examples=[envelope_example("Unmatched", examples.LINE)],
    )
    @idempotent
    @no_body
    def post(self, request, company_id, pk):
        line = services.bank_line_unmatch(bank_line=self.line(pk), by=request.user)
        line = self.line(line.pk)
        return ok(s.BankLineOutput(line, context=self.ctx(line.bank_account.currency)).data)


class CreateEntryView(_Scoped):
    serializer_class = s.BankLineOutput
    actions = {"post": Action.BANKING_POST}

    @extend_schema(
        summary="Create an entry from a bank line",
        description="Accountants and above. For a line not in the books yet (bank fees, interest): posts the bank's "
        "ledger account against `account`, dated the line (or `date`), for its amount, through the ledger "
        "(its rules apply: `invalid_account`, `period_closed`, `missing_exchange_rate`…), and matches it. A "
        "foreign-currency bank account may give `fx_rate` (else the stored rate). A line left unmatched by "
        "a reconciled statement (a carried item: the fee nobody booked before the month was reconciled) "
        "is posted with a `date` after the bank account's last reconciled day (409 `statement_reconciled` "
        "otherwise).",
        request=s.CreateEntryInput,
        responses={
            201: s.BankLineOutput,
            409: conflict(
                "`conflict` with `details.reason` `already_matched` (the line is matched already), or the code "
                "`statement_reconciled` with `details.statement` and `details.reconciled_through` (a carried "
                "line posted on or before the last reconciled day: give a later `date`)."
            ),
            422: refused(
                "the ledger's rules, `invalid_account`, `period_closed`, `missing_exchange_rate`, "
                "`currency_precision`."
            ),
        },
        examples=examples.LINE_CREATE_ENTRY,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.CreateEntryInput, request.data)
        line = services.bank_line_entry_create(
            bank_line=self.line(pk),
            account=data["account"],
            by=request.user,
            description=data.get("description") or "",
            fx_rate=data.get("fx_rate"),
            date=data.get("date"),
        )
        line = self.line(line.pk)
        return ok(s.BankLineOutput(line, context=self.ctx(line.bank_account.currency)).data, status=201)


class RecordPaymentView(_Scoped):
    serializer_class = s.RecordedPaymentOutput
    actions = {"post": Action.PAYMENTS_RECORD}

    @extend_schema(
        summary="Record a customer payment from a bank line",
        description="Accountants and above. Money received on the line is recorded as the customer's payment of an "
        "open invoice (`invoice`, else the one the line's reference names, e.g. `INV-2026-000042`), as a "
        "payment recorded in the sales ledger would be, allocated up to what the invoice has due (the rest stays as customer "
        "credit), deposited on the bank's ledger account, dated the line (or `date`; a carried line of a "
        "reconciled statement after the last reconciled day), and matched. Refused: 422 `invoice_not_found`, "
        "`currency_mismatch`, `period_closed`; 400 for money out; 409 `statement_reconciled`.",
        request=s.RecordPaymentInput,
        responses={
            201: s.RecordedPaymentOutput,
            409: conflict(
                "`conflict` with `details.reason` `already_matched` (the line is matched already), or the code "
                "`statement_reconciled` with `details.statement` and `details.reconciled_through` (a carried "
                "line recorded on or before the last reconciled day: give a later `date`)."
            ),
            422: refused("`invoice_not_found`, `currency_mismatch`, `period_closed`."),
        },
        examples=examples.LINE_RECORD_PAYMENT,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.RecordPaymentInput, request.data)
        line = services.bank_line_payment_record(
            bank_line=self.line(pk), by=request.user, invoice=data.get("invoice"), date=data.get("date")
        )
        payment = line.recorded_payment
        allocation = next(iter(payment.allocations.order_by("id")), None)
        fresh = self.line(line.pk)
        context = self.ctx(fresh.bank_account.currency)
        return ok(
            s.RecordedPaymentOutput(
                {
                    "bank_line": fresh,
                    "payment": payment.pk,
                    "payment_number": payment.number,
                    "invoice": allocation.invoice_id if allocation else None,
                    "allocated": allocation.amount if allocation else 0,
                },
                context=context,
            ).data,
            status=201,
        )


# --------------------------------------------------------------------------- the report


class ReconciliationReportView(_Scoped):
    serializer_class = s.ReconciliationReportOutput
    actions = {"get": Action.BANKING_VIEW}
    pagination_class = None  # a report: all its rows at once
    query_parameters = ("as_of",)

    @extend_schema(
        summary="Bank reconciliation report",
        description="As of `as_of` (YYYY-MM-DD): the bank's balance from the statements, the bank lines not in the "
        "books (`unmatched_bank`), the book lines not through the bank (`unmatched_book`: cheques not "
        "cleared, deposits in transit; an entry outstanding together with its reversal is left out, as the two "
        "cancel out), the adjusted bank balance (bank − unmatched bank + unmatched book) "
        "and the book balance of the bank's ledger account. `difference` (book − adjusted) is 0.00 when "
        "everything is explained; `opening_difference` is the part of it from before the first statement.",
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                required=True,
                description="The day the report is as of (YYYY-MM-DD), inclusive.",
            )
        ],
        responses={200: s.ReconciliationReportOutput},
    )
    def get(self, request, company_id, pk):
        refuse_undocumented_query(request, self)
        bank = self.bank_account(pk)
        as_of = query_date(request, "as_of")
        report = reports.reconciliation_report(bank_account=bank, as_of=as_of)
        data = s.ReconciliationReportOutput(report, context=self.ctx(bank.currency)).data
        data["reconciled"] = report.reconciled
        return ok(data)


# --------------------------------------------------------------------------- jobs and journal imports


class ImportJobFilter(django_filters.FilterSet):
    """The jobs of one status or one kind (a client following its failed imports)."""

    status = django_filters.ChoiceFilter(
        choices=JobStatus.choices, help_text="`queued`, `running`, `done` or `failed`."
    )
    kind = django_filters.ChoiceFilter(choices=ImportKind.choices, help_text="`bank_statement` or `journal`.")

    class Meta:
        model = ImportJob
        fields = ["status", "kind"]


class ImportJobListView(_Scoped):
    serializer_class = s.ImportJobOutput
    pagination_class = NewestPagination
    filterset_class = ImportJobFilter
    actions = {"get": Action.BANKING_VIEW}

    def get_queryset(self):
        return (
            ImportJob.objects.none()
            if self.fake()
            else selectors.import_jobs_for_company(company=self.company)
        )

    @extend_schema(
        operation_id="companies_import_jobs_list",
        summary="List import jobs",
        description="Bank statement and journal imports, newest first: status (`queued` `running` `done` "
        "`failed`), progress 0-100, counts, and the errors by line of a failed one. Filters: `status`, "
        "`kind` (`bank_statement`, `journal`); another value is 400 `validation_error`.",
        responses={200: s.ImportJobOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.ImportJobOutput(page, many=True).data)


class ImportJobDetailView(_Scoped):
    serializer_class = s.ImportJobOutput
    actions = {"get": Action.BANKING_VIEW}

    @extend_schema(
        summary="Follow an import job",
        description="Poll until `status` is `done` (then `statements`, or a journal import's `result`: entries, "
        "lines, totals, first and last number) or `failed` (`error_code`, `error_message`, `errors`: each "
        '`{"line", "column", "message"}`; nothing was written).',
    )
    def get(self, request, company_id, pk):
        return ok(
            s.ImportJobOutput(self.found(selectors.import_job_get(company=self.company, pk=int(pk)))).data
        )


JOURNAL_IMPORT_DESCRIPTION = """
Accountants and above. Posts a journal from a CSV (UTF-8, comma or semicolon) or XLSX file (first
sheet), one row per journal line, the header naming the columns: `entry` (groups rows into one
entry), `date` (YYYY-MM-DD), `account` (code), `debit` / `credit` (plain decimals, one per row),
and optionally `description`, `entry_description`, `reference`, `currency`, `fx_rate`.

All or nothing: every row is checked first, then every entry by the ledger's rules (accounts,
balance, precision, closed periods); any problem fails the job with **every** problem listed by
row and column (`errors`), nothing posted. Then the entries are posted (source `import`, gapless
numbers in file order) through the ledger's bulk path, 250 entries at a time, in one transaction.
`dry_run=true` stops after the checks and reports what would be posted (`result`). The same file
(by content) is posted once: uploading it again is 409 reason `duplicate_import` (a failed or
dry-run upload does not count).

Answers **202 with the job** (`…/import-jobs/{id}` to follow it); where tasks run in-process (no
broker) the job has already finished in the answer.
"""


class JournalImportView(_Scoped):
    parser_classes = [MultiPartParser]  # the upload; its other methods take no body
    serializer_class = s.ImportJobOutput
    actions = {"post": Action.JOURNAL_IMPORT}

    @extend_schema(
        operation_id="companies_journal_imports_create",
        summary="Import a journal file (CSV or XLSX)",
        description=JOURNAL_IMPORT_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                description="`true`: check the file and report what would be posted, posting nothing. "
                "The same as the form field `dry_run`; given both ways, they must agree.",
            ),
        ],
        request={MULTIPART: s.JournalImportInput},
        examples=examples.JOURNAL_IMPORT,
        responses={
            202: s.ImportJobOutput,
            409: conflict("`duplicate_import`."),
            413: OpenApiResponse(
                description="The upload is larger than UPLOAD_MAX_BYTES (`payload_too_large`)."
            ),
        },
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.JournalImportInput, request.data)
        # `dry_run` as a form field or as a query parameter (as `async` is on the statement upload):
        # a client that asked for a dry run in either place never gets its file posted.
        dry_run = data.get("dry_run") == "true"
        if request.query_params.get("dry_run") not in (None, ""):
            asked = query_bool(request, "dry_run")
            if data.get("dry_run") and asked != dry_run:
                raise ValidationFailed(
                    "The request is invalid.",
                    details={"dry_run": ["Given as a form field and a query parameter that disagree."]},
                )
            dry_run = asked
        job = services.journal_import_job_create(
            company=self.company,
            file=data["file"],
            by=request.user,
            format=data.get("format") or None,
            dry_run=dry_run,
        )
        transaction.on_commit(lambda: import_job_run_task.delay(job.pk), robust=True)
        if transaction.get_connection().in_atomic_block:
            return ok(s.ImportJobOutput(job).data, status=202)
        job.refresh_from_db()
        return ok(s.ImportJobOutput(job).data, status=202)
