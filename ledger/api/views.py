"""Journal entries and exchange rates (thin views: parse, call one service or selector, render)."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework.generics import GenericAPIView

from ledger import selectors, services
from ledger.api import examples
from ledger.api import serializers as s
from ledger.api.entry_input import BULK_EXAMPLES, bulk_input_parse, entry_input_parse, problems_error
from ledger.models import EntrySource, EntryStatus, ExchangeRate, JournalEntry, JournalLine
from sofinance.api.filters import DateRangeFilterSet, IdFilter
from sofinance.api.idempotency import idempotent
from sofinance.api.pagination import EnvelopeCursorPagination, keyset_ordering
from sofinance.api.schema import DELETED, refusals
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import no_body, ok, validated
from sofinance.errors import NotFound, PermissionDenied
from sofinance.permissions import Action, role_can


class JournalEntryPagination(EnvelopeCursorPagination):
    # Keyset on (date, id): deep pages cost what the first page costs.
    ordering = ("-date", "-id")

    def get_ordering(self, request, queryset, view):
        if request.query_params.get("number_after"):  # (blank: no filter, the usual order)
            # Syncing by number: in posting order, oldest first, so that an entry posted while a
            # client pages is always ahead of the pages it has read (by date it could fall behind).
            return keyset_ordering(("sequence", "id"))
        return super().get_ordering(request, queryset, view)

    def never_null(self, request) -> frozenset[str]:
        # `number_after` keeps posted entries only (sequence > n): no NULL sequence is listed.
        return frozenset({"sequence"}) if request.query_params.get("number_after") else frozenset()


_ENTRY_NUMBER = re.compile(r"JE-[0-9]{4}-([0-9]{6,18})")  # ASCII digits only


class EntryNumberField(forms.Field):
    """A journal entry's number, read as its sequence (the number's trailing digits)."""

    default_error_messages = {"invalid": "Give a journal entry number, e.g. JE-2026-000042."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        match = _ENTRY_NUMBER.fullmatch(str(value))  # as sent: no spaces or line breaks around it
        if match is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(match.group(1))


NUMBER_AFTER_HELP = (
    "Posted entries numbered after this one (e.g. `JE-2026-000146`): to sync the journal. "
    "Numbers are given in the order entries are posted (gapless per company; the digits count "
    "across years), so a client that keeps the last number it has read gets every entry posted "
    "since, back-dated ones too, which the date order of the list would put among older pages. "
    "With it the list is in posting order, oldest first."
)


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^JE-[0-9]{4}-[0-9]{6,18}$",
        "example": "JE-2026-000146",
        "description": NUMBER_AFTER_HELP,  # (a schema given here replaces the filter's help text)
    }
)
class EntryNumberFilter(django_filters.Filter):
    field_class = EntryNumberField


class JournalEntryFilter(DateRangeFilterSet):
    """`from` / `to` on the entry's date (DateRangeFilterSet) and the filters below."""

    status = django_filters.ChoiceFilter(choices=EntryStatus.choices, help_text="`draft` or `posted`.")
    source = django_filters.ChoiceFilter(
        choices=EntrySource.choices,
        help_text="Where the entry comes from: `manual`, `sales`, `payment`, `import`, `reversal`, `closing`.",
    )
    reference = django_filters.CharFilter(help_text="Entries whose `reference` is exactly this.")
    number = django_filters.CharFilter(help_text="The entry with this number, e.g. `JE-2026-000042`.")
    account = django_filters.CharFilter(
        method="filter_account",
        help_text="Entries with a line on this account, given by its id or its code (digits match "
        "either: `account=40` finds the lines of account id 40 and of code 40). Use `account_id` or "
        "`account_code` to name one account only.",
    )
    account_id = IdFilter(
        field_name="lines__account",
        method="filter_account_id",
        help_text="Entries with a line on the account of this id.",
    )
    account_code = django_filters.CharFilter(
        method="filter_account_code", help_text="Entries with a line on the account of this code."
    )
    number_after = EntryNumberFilter(
        field_name="sequence",
        lookup_expr="gt",
        help_text=NUMBER_AFTER_HELP,
    )

    class Meta:
        model = JournalEntry
        fields = ["status", "source", "reference", "number"]

    def filter_account_id(self, queryset, name, value):
        lines = JournalLine.objects.filter(entry=OuterRef("pk"), account_id=value)
        return queryset.filter(Exists(lines))

    def filter_account_code(self, queryset, name, value):
        lines = JournalLine.objects.filter(entry=OuterRef("pk"), account__code=value)
        return queryset.filter(Exists(lines))

    def filter_account(self, queryset, name, value):
        lines = JournalLine.objects.filter(entry=OuterRef("pk"))
        if value.isdigit():
            lines = lines.filter(Q(account_id=int(value)) | Q(account__code=value))
        else:
            lines = lines.filter(account__code=value)
        return queryset.filter(Exists(lines))


class _EntryMixin(CompanyScopedMixin):
    def context(self) -> dict:
        return {
            "currency": self.company.currency,
            "request": self.request,
            "tz": timezone.get_current_timezone(),
        }

    def render_entry(self, entry: JournalEntry, status: int = 200):
        if getattr(entry, "posted_lines", None) is None:  # a just-posted entry carries its lines
            entry = selectors.journal_entry_get(company=self.company, pk=entry.pk)
        return ok(s.JournalEntryOutput(entry, context=self.context()).data, status=status)

    def entry(self, pk) -> JournalEntry:
        entry = selectors.journal_entry_get(company=self.company, pk=int(pk))
        if entry is None:
            raise NotFound()
        return entry


class JournalEntryListView(_EntryMixin, GenericAPIView):
    """List entries (filters: from/to, status, source, account, reference, number) or create one.

    With `"post": true` the entry is created and posted in one transaction.
    """

    serializer_class = s.JournalEntryOutput
    pagination_class = JournalEntryPagination
    filterset_class = JournalEntryFilter
    actions = {"get": Action.JOURNAL_VIEW, "post": Action.JOURNAL_DRAFT}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no company
            return JournalEntry.objects.none()
        return selectors.journal_entries_for_company(company=self.company)

    @extend_schema(
        operation_id="companies_journal_entries_list",
        summary="List journal entries",
        description=(
            "The company's entries, drafts and posted, newest date first, each with its lines; "
            "a page at a time (keyset cursor: follow `meta.pagination.next`, up to 500 per page "
            "with `page_size`). Narrow with `from` / `to` (the entry date, both inclusive), "
            "`status`, `source`, `account`, `reference` and `number`. To sync the journal, "
            "`number_after` (the last entry number read) lists the posted entries numbered after it, "
            "in posting order (oldest first). `date_from` / `date_to` "
            "are not filters of this list: sending them is 400 `validation_error` naming the "
            "right parameter."
        ),
        responses={200: s.JournalEntryOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        selectors.journal_entry_lines_attach(page)
        return self.get_paginated_response(s.JournalEntryOutput(page, many=True, context=self.context()).data)

    @extend_schema(
        summary="Create a journal entry (draft, or posted at once)",
        description=(
            'Create an entry from its `lines`; with `"post": true` it is posted in the same '
            "transaction and gets its gapless number (`JE-<year>-<NNNNNN>`), otherwise it is saved "
            "as a draft (`number` null) to change and post later. Clerks may save drafts only: "
            "`post: true` needs a role that may post (403 otherwise).\n\n"
            "Each line names its `account` (an id as a JSON number, or a code as a string) and one "
            "positive `debit` or `credit`, in `currency` (default: the account's, else the "
            "company's). A foreign-currency line is converted at `fx_rate` or, without one, at the "
            "latest stored exchange rate on or before the date. Amounts are strings with at most "
            "the currency's decimal places (or JSON numbers); nothing is ever rounded.\n\n"
            "Drafts are held to the same rules as postings, and refused with nothing written: 400 "
            "`validation_error` (shape, dates as YYYY-MM-DD, `post` a JSON boolean); 422 "
            "`unbalanced_entry` (fewer than two lines, or debits ≠ credits in the functional "
            "currency), `invalid_account` (unknown, inactive, another company's or with "
            "sub-accounts), `currency_precision` (more decimals than the currency has, or a value a "
            "column cannot hold exactly), `missing_exchange_rate`, `period_closed` (the date is in a "
            "closed or locked period)."
        ),
        request=s.JournalEntryCreateInput,
        responses={
            201: s.JournalEntryOutput,
            422: refusals(
                "A ledger rule refused the entry: `unbalanced_entry`, `invalid_account`, "
                "`currency_precision`, `missing_exchange_rate` or `period_closed`; `error.details` "
                "names the line or the totals."
            ),
        },
        examples=examples.ENTRY_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        item, post, problems = entry_input_parse(request.data)
        if problems:
            raise problems_error(problems)
        if post and not role_can(self.membership.role, Action.JOURNAL_POST):
            raise PermissionDenied(f"Your role ({self.membership.role}) may save drafts but not post.")
        entry = services.journal_entry_create(
            company=self.company,
            date=item.date,
            description=item.description,
            reference=item.reference,
            source=item.source,
            lines=item.lines,
            post=post,
            by=request.user,
            with_lines=True,
        )
        return self.render_entry(entry, status=201)


class JournalEntryBulkView(_EntryMixin, GenericAPIView):
    serializer_class = s.JournalEntryBulkOutput
    actions = {"post": Action.JOURNAL_POST}

    @extend_schema(
        operation_id="companies_journal_entries_bulk_create",
        summary="Post many journal entries at once",
        description=(
            "Posts up to 1,000 journal entries in one request, **all or nothing**: either every entry "
            "is posted (with gapless numbers in request order) or none is. Each item of `entries` is a "
            "journal-entry body exactly as for `POST …/journal-entries` and is held to the same rules; "
            "`post` may be omitted (every entry is posted) but not `false`.\n\n"
            "A refused batch answers **422 `invalid_batch`** with `error.details.entries`: one item per "
            "refused entry with its 0-based `index`, the error `code` it would get on its own "
            "(`unbalanced_entry`, `invalid_account`, `validation_error`, `period_closed`, …), a "
            '`message` and `details`. Nothing is written. A body that is not `{"entries": [...]}` or '
            "holds more than 1,000 entries is a 400 `validation_error`.\n\n"
            "Send an `Idempotency-Key` so a retried request (a timeout, a dropped connection) returns "
            "the first response instead of posting the batch twice."
        ),
        request=s.JournalEntryBulkInput,
        responses={
            201: s.JournalEntryBulkOutput,
            422: refusals(
                "`invalid_batch`: some entries were refused and nothing was posted; "
                "`error.details.entries` lists each by `index` with its `code`, `message` and `details`."
            ),
        },
        examples=BULK_EXAMPLES,
    )
    @idempotent
    def post(self, request, company_id):
        entries = bulk_input_parse(request.data)
        result = services.journal_entries_import(
            company=self.company, entries=entries, by=request.user, source=EntrySource.MANUAL
        )
        return ok(s.JournalEntryBulkOutput({"entries": result.entries}).data, status=201)


class JournalEntryDetailView(_EntryMixin, GenericAPIView):
    serializer_class = s.JournalEntryOutput
    actions = {"get": Action.JOURNAL_VIEW, "patch": Action.JOURNAL_DRAFT, "delete": Action.JOURNAL_DRAFT}

    @extend_schema(
        summary="Get a journal entry",
        description="One entry with its lines, totals and reversal links.",
        responses={200: s.JournalEntryOutput},
    )
    def get(self, request, company_id, pk):
        return ok(s.JournalEntryOutput(self.entry(pk), context=self.context()).data)

    @extend_schema(
        summary="Change a draft entry",
        description=(
            "Drafts only: a posted entry never changes (409 `entry_immutable`): correct it with "
            "`…/reverse`. Fields left out keep their values; `lines`, when given, replace every "
            "line. The changed draft is held to the rules of creation (422 `unbalanced_entry`, "
            "`invalid_account`, `currency_precision`, `missing_exchange_rate`, `period_closed` for "
            "the old or the new date) and nothing is written when it is refused."
        ),
        request=s.JournalEntryUpdateInput,
        responses={
            200: s.JournalEntryOutput,
            409: refusals("`entry_immutable`: the entry is posted."),
            422: refusals(
                "`unbalanced_entry`, `invalid_account`, `currency_precision`, `missing_exchange_rate` "
                "or `period_closed`."
            ),
        },
        examples=examples.ENTRY_UPDATE,
    )
    @idempotent
    def patch(self, request, company_id, pk):
        data = validated(s.JournalEntryUpdateInput, request.data, partial=True)
        lines = data.get("lines")
        entry = services.journal_entry_update(
            entry=self.entry(pk),
            by=request.user,
            date=data.get("date"),
            description=data.get("description"),
            reference=data.get("reference"),
            lines=[dict(line) for line in lines] if lines is not None else None,
        )
        return self.render_entry(entry)

    @extend_schema(
        summary="Delete a draft entry",
        description=(
            "Drafts only (they have no number and touched no balance). A posted entry is never "
            "deleted: 409 `entry_immutable`; reverse it instead."
        ),
        responses={200: DELETED, 409: refusals("`entry_immutable`: the entry is posted.")},
        examples=examples.ENTRY_DELETE,
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.journal_entry_delete(entry=self.entry(pk), by=request.user)
        return ok(None)


class JournalEntryPostView(_EntryMixin, GenericAPIView):
    """Post a draft: it gets its gapless number and enters the balances."""

    serializer_class = s.JournalEntryOutput
    actions = {"post": Action.JOURNAL_POST}

    @extend_schema(
        summary="Post a draft entry",
        description=(
            "Post a draft: it gets the next gapless number of the company (`JE-<year>-<NNNNNN>`) "
            "and enters the balances and reports; from then on it never changes. No body. "
            "Refused with nothing written: 409 `entry_immutable` (already posted); 422 "
            "`unbalanced_entry`, `invalid_account` (an account deactivated since the draft was "
            "saved) or `period_closed`."
        ),
        request=None,
        responses={
            200: s.JournalEntryOutput,
            409: refusals("`entry_immutable`: the entry is posted already."),
            422: refusals("`unbalanced_entry`, `invalid_account` or `period_closed`."),
        },
        examples=examples.ENTRY_POST,
    )
    @idempotent
    @no_body
    def post(self, request, company_id, pk):
        entry = services.journal_entry_post(entry=self.entry(pk), posted_by=request.user)
        return self.render_entry(entry)


class JournalEntryReverseView(_EntryMixin, GenericAPIView):
    """Reverse a posted entry; returns the new reversal entry."""

    serializer_class = s.JournalEntryOutput
    actions = {"post": Action.JOURNAL_REVERSE}

    @extend_schema(
        summary="Reverse a posted entry",
        description=(
            "Correct a posted entry: posts a new entry (`source` `reversal`) with every line's "
            "debit and credit swapped, at exactly the original amounts, and links the two "
            "(`reversal_of` / `reversed_by`). Answers 201 with the new reversal entry. It is dated "
            "like the original unless `date` is given, never before the original (400 "
            "`validation_error` on `date`); `description` defaults to `Reversal of <number>`.\n\n"
            "Refused with nothing written: 409 `conflict` with `details.reason` `already_reversed` "
            "(an entry is reversed once) or `entry_not_posted` (a draft: delete it instead); 409 "
            "`entry_immutable` for a year-end closing entry (reopen its fiscal year instead); 422 "
            "`period_closed` when the reversal's date is in a closed period (give another `date`)."
        ),
        request=s.JournalEntryReverseInput,
        responses={
            201: s.JournalEntryOutput,
            409: refusals(
                "`conflict` (`details.reason` `already_reversed` or `entry_not_posted`), or "
                "`entry_immutable` (a closing entry)."
            ),
            422: refusals("`period_closed`: the reversal's date is in a closed or locked period."),
        },
        examples=examples.ENTRY_REVERSE,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.JournalEntryReverseInput, request.data or {})
        reversal = services.journal_entry_reverse(
            entry=self.entry(pk),
            by=request.user,
            date=data.get("date"),
            description=data.get("description"),
        )
        return self.render_entry(reversal, status=201)


# --------------------------------------------------------------------------- exchange rates


class ExchangeRateFilter(DateRangeFilterSet):
    """`from` / `to` on the rate's date (DateRangeFilterSet) and the currencies."""

    from_currency = django_filters.CharFilter(help_text="Rates of this currency (ISO 4217, e.g. `EUR`).")
    to_currency = django_filters.CharFilter(
        help_text="Rates into this currency (usually the company's functional currency)."
    )

    class Meta:
        model = ExchangeRate
        fields = ["from_currency", "to_currency"]


class ExchangeRateListView(CompanyScopedMixin, GenericAPIView):
    """Stored rates; POST stores (or replaces) the rate of a pair on a date."""

    serializer_class = s.ExchangeRateOutput
    filterset_class = ExchangeRateFilter
    actions = {"get": Action.RATES_VIEW, "post": Action.RATES_MANAGE}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExchangeRate.objects.none()
        return selectors.exchange_rates_for_company(company=self.company)

    @extend_schema(
        operation_id="companies_exchange_rates_list",
        summary="List stored exchange rates",
        description=(
            "The rates stored for the company, newest date first, a page at a time. A line in a "
            "foreign currency without its own `fx_rate` is converted at the latest stored rate of "
            "its currency on or before the entry's date. Narrow with `from_currency`, "
            "`to_currency` and `from` / `to` (the rate's date)."
        ),
        responses={200: s.ExchangeRateOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.ExchangeRateOutput(page, many=True).data)

    @extend_schema(
        summary="Store an exchange rate",
        description=(
            "Store the rate of `from_currency` into `to_currency` (default: the company's "
            "functional currency) on `date`: units of `to_currency` per unit of `from_currency`, "
            "e.g. EUR→USD `1.0850`. A rate already stored for the pair and date is replaced. Entries "
            "posted earlier keep the rate they were posted with.\n\n"
            "Refused: 400 `validation_error` (an unknown currency, the same currency twice, a rate "
            "that is not positive); 422 `currency_precision` (more than 10 decimal places, or more "
            "digits than a rate holds)."
        ),
        request=s.ExchangeRateInput,
        responses={
            201: s.ExchangeRateOutput,
            422: refusals("`currency_precision`: the rate cannot be stored exactly."),
        },
        examples=examples.RATE_SET,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.ExchangeRateInput, request.data)
        rate = services.exchange_rate_set(
            company=self.company,
            from_currency=data["from_currency"],
            to_currency=data.get("to_currency") or self.company.currency,
            date=data["date"],
            rate=data["rate"],
            by=request.user,
        )
        return ok(s.ExchangeRateOutput(rate).data, status=201)


class ExchangeRateDetailView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.ExchangeRateOutput
    actions = {"get": Action.RATES_VIEW, "delete": Action.RATES_MANAGE}

    def rate(self, pk) -> ExchangeRate:
        rate = selectors.exchange_rates_for_company(company=self.company).filter(pk=int(pk)).first()
        if rate is None:
            raise NotFound()
        return rate

    @extend_schema(
        summary="Get a stored exchange rate",
        description="One stored rate: its currency pair, its date and the rate.",
        responses={200: s.ExchangeRateOutput},
    )
    def get(self, request, company_id, pk):
        return ok(s.ExchangeRateOutput(self.rate(pk)).data)

    @extend_schema(
        summary="Delete a stored exchange rate",
        description=(
            "Remove a stored rate. Entries already posted keep the rate they were converted at; "
            "later conversions use the next latest rate on or before their date."
        ),
        responses={200: DELETED},
        examples=examples.RATE_DELETE,
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.exchange_rate_delete(rate=self.rate(pk), by=request.user)
        return ok(None)
