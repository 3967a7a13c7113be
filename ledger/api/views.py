"""Journal entries and exchange rates (thin views: parse, call one service or selector, render)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView

from ledger import selectors, services
from ledger.api import serializers as s
from ledger.api.entry_input import BULK_EXAMPLES, bulk_input_parse, entry_input_parse, problems_error
from ledger.models import EntrySource, EntryStatus, ExchangeRate, JournalEntry, JournalLine
from sofinance.api.filters import StrictDateFilter
from sofinance.api.idempotency import idempotent
from sofinance.api.pagination import EnvelopeCursorPagination
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import ok, validated
from sofinance.errors import NotFound, PermissionDenied
from sofinance.permissions import Action, role_can


class JournalEntryPagination(EnvelopeCursorPagination):
    # Keyset on (date, id): deep pages cost what the first page costs.
    ordering = ("-date", "-id")


class JournalEntryFilter(django_filters.FilterSet):
    date_from = StrictDateFilter(field_name="date", lookup_expr="gte")
    date_to = StrictDateFilter(field_name="date", lookup_expr="lte")
    status = django_filters.ChoiceFilter(choices=EntryStatus.choices)
    source = django_filters.ChoiceFilter(choices=EntrySource.choices)
    reference = django_filters.CharFilter()
    number = django_filters.CharFilter()
    account = django_filters.CharFilter(method="filter_account", help_text="Account id or code.")

    class Meta:
        model = JournalEntry
        fields = ["status", "source", "reference", "number"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            # `from` / `to` are accepted as aliases of date_from / date_to.
            data = data.copy()
            for alias, name in (("from", "date_from"), ("to", "date_to")):
                if alias in data and name not in data:
                    data[name] = data[alias]
        super().__init__(data, *args, **kwargs)

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
        responses={200: s.JournalEntryOutput(many=True)},
        parameters=[
            OpenApiParameter("from", str, description="Entries dated on or after (YYYY-MM-DD)."),
            OpenApiParameter("to", str, description="Entries dated on or before (YYYY-MM-DD)."),
        ],
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        selectors.journal_entry_lines_attach(page)
        return self.get_paginated_response(s.JournalEntryOutput(page, many=True, context=self.context()).data)

    @extend_schema(request=s.JournalEntryCreateInput, responses={201: s.JournalEntryOutput})
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
            "the first response instead of posting the batch twice. Requires a role that may post "
            "(accountant, controller, admin)."
        ),
        request=s.JournalEntryBulkInput,
        responses={201: s.JournalEntryBulkOutput},
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

    def get(self, request, company_id, pk):
        return ok(s.JournalEntryOutput(self.entry(pk), context=self.context()).data)

    @extend_schema(request=s.JournalEntryUpdateInput, responses={200: s.JournalEntryOutput})
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

    def delete(self, request, company_id, pk):
        services.journal_entry_delete(entry=self.entry(pk), by=request.user)
        return ok(None)


class JournalEntryPostView(_EntryMixin, GenericAPIView):
    """Post a draft: it gets its gapless number and enters the balances."""

    serializer_class = s.JournalEntryOutput
    actions = {"post": Action.JOURNAL_POST}

    @extend_schema(request=None, responses={200: s.JournalEntryOutput})
    @idempotent
    def post(self, request, company_id, pk):
        entry = services.journal_entry_post(entry=self.entry(pk), posted_by=request.user)
        return self.render_entry(entry)


class JournalEntryReverseView(_EntryMixin, GenericAPIView):
    """Reverse a posted entry; returns the new reversal entry."""

    serializer_class = s.JournalEntryOutput
    actions = {"post": Action.JOURNAL_REVERSE}

    @extend_schema(request=s.JournalEntryReverseInput, responses={201: s.JournalEntryOutput})
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


class ExchangeRateFilter(django_filters.FilterSet):
    from_currency = django_filters.CharFilter()
    to_currency = django_filters.CharFilter()
    date_from = StrictDateFilter(field_name="date", lookup_expr="gte")
    date_to = StrictDateFilter(field_name="date", lookup_expr="lte")

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
        operation_id="companies_exchange_rates_list", responses={200: s.ExchangeRateOutput(many=True)}
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.ExchangeRateOutput(page, many=True).data)

    @extend_schema(request=s.ExchangeRateInput, responses={201: s.ExchangeRateOutput})
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

    def get(self, request, company_id, pk):
        return ok(s.ExchangeRateOutput(self.rate(pk)).data)

    def delete(self, request, company_id, pk):
        services.exchange_rate_delete(rate=self.rate(pk), by=request.user)
        return ok(None)
