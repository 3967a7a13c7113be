"""Accounting periods and fiscal-year close (thin views)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from ledger import services
from ledger.api import examples
from ledger.api.serializers import JournalEntryOutput
from ledger.models import AccountingPeriod, FiscalYearClose
from ledger.selectors import journal_entry_get
from sofinance.api.fields import StrictDateField, StrictIntegerField
from sofinance.api.idempotency import idempotent
from sofinance.api.schema import DELETED, refusals
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import no_body, ok, validated
from sofinance.errors import NotFound
from sofinance.permissions import Action


class PeriodOutput(serializers.ModelSerializer):
    closed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Username of who closed it."
    )

    class Meta:
        model = AccountingPeriod
        fields = ["id", "name", "start_date", "end_date", "status", "closed_at", "closed_by"]


class PeriodCreateInput(serializers.Serializer):
    start_date = StrictDateField(help_text="First day of the period.")
    end_date = StrictDateField(help_text="Last day of the period (not before `start_date`).")
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=50, default="", help_text='e.g. "March 2026".'
    )


class PeriodGenerateInput(serializers.Serializer):
    fiscal_year = StrictIntegerField(help_text="The fiscal year, named by the calendar year it starts in.")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, required=False, default="", help_text="Why (kept in the audit trail); required."
    )


class FiscalYearCloseOutput(serializers.ModelSerializer):
    fiscal_year = serializers.SerializerMethodField()
    closing_entry = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The closing entry's id (null: nothing to close)."
    )
    closing_entry_number = serializers.CharField(
        source="closing_entry.number", default=None, read_only=True, allow_null=True
    )
    closed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Username of who closed it."
    )
    reopened_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was reopened (null while it stays closed)."
    )

    class Meta:
        model = FiscalYearClose
        fields = [
            "id",
            "fiscal_year",
            "start_date",
            "end_date",
            "closing_entry",
            "closing_entry_number",
            "closed_at",
            "closed_by",
            "reopened_at",
        ]

    def get_fiscal_year(self, obj) -> int:
        return obj.start_date.year


class FiscalYearClosedOutput(FiscalYearCloseOutput):
    """The answer of a close: the closing entry in full rather than its id."""

    closing_entry = JournalEntryOutput(
        allow_null=True, help_text="The closing entry (null when the year had no income or expense)."
    )


class _PeriodMixin(CompanyScopedMixin):
    def period(self, pk) -> AccountingPeriod:
        period = (
            AccountingPeriod.objects.filter(company=self.company, pk=int(pk))
            .select_related("closed_by")
            .first()
        )
        if period is None:
            raise NotFound()
        return period


class PeriodListView(_PeriodMixin, GenericAPIView):
    """Periods (a date no period covers is open). POST adds one; overlapping periods are a 409."""

    serializer_class = PeriodOutput
    actions = {"get": Action.PERIODS_VIEW, "post": Action.PERIODS_MANAGE}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccountingPeriod.objects.none()
        return (
            AccountingPeriod.objects.filter(company=self.company)
            .select_related("closed_by")
            .order_by("start_date")
        )

    @extend_schema(
        operation_id="companies_periods_list",
        summary="List accounting periods",
        description=(
            "The company's periods in date order, a page at a time, each `open`, `closed` or "
            "`locked`. Periods are optional: a date no period covers is open for posting."
        ),
        responses={200: PeriodOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PeriodOutput(page, many=True).data)

    @extend_schema(
        summary="Add an accounting period",
        description=(
            "Add an open period from `start_date` to `end_date` (both inclusive). Periods never "
            "overlap: one that would is 409 `conflict` (`details.reason` `period_overlap`, "
            "`details.period` the period in the way). An end before the start is 400 "
            "`validation_error`. To create a fiscal year's twelve months at once, use "
            "`…/periods/generate`."
        ),
        request=PeriodCreateInput,
        responses={
            201: PeriodOutput,
            409: refusals("`conflict` (`details.reason` `period_overlap`): it overlaps another period."),
        },
        examples=examples.PERIOD_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(PeriodCreateInput, request.data)
        period = services.period_create(company=self.company, by=request.user, **data)
        return ok(PeriodOutput(period).data, status=201)


class PeriodGenerateView(_PeriodMixin, GenericAPIView):
    """Create the twelve monthly periods of a fiscal year in one call."""

    serializer_class = PeriodOutput
    queryset = AccountingPeriod.objects.none()
    pagination_class = None
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(
        summary="Create a fiscal year's monthly periods",
        description=(
            "Create the twelve monthly periods of `fiscal_year` (named by the calendar year it "
            "starts in; it starts in the company's `fiscal_year_start` month), all open, and answer "
            "them in date order. If any period already overlaps the year, nothing is created: 409 "
            "`conflict` (`details.reason` `period_overlap`). A year outside 1900-9998 is 400."
        ),
        request=PeriodGenerateInput,
        responses={
            201: PeriodOutput(many=True),
            409: refusals("`conflict` (`details.reason` `period_overlap`): a period overlaps the year."),
        },
        examples=examples.PERIODS_GENERATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(PeriodGenerateInput, request.data)
        created = services.periods_generate(company=self.company, year=data["fiscal_year"], by=request.user)
        return ok(PeriodOutput(created, many=True).data, status=201)


class PeriodDetailView(_PeriodMixin, GenericAPIView):
    serializer_class = PeriodOutput
    actions = {"get": Action.PERIODS_VIEW, "delete": Action.PERIODS_MANAGE}

    @extend_schema(
        summary="Get an accounting period",
        description="One period with its status and who closed it.",
        responses={200: PeriodOutput},
    )
    def get(self, request, company_id, pk):
        return ok(PeriodOutput(self.period(pk)).data)

    @extend_schema(
        summary="Delete an accounting period",
        description=(
            "Delete an open period (its dates are then covered by no period, so open). A closed "
            "period is 409 `conflict` (`details.reason` `period_not_open`): reopen it first; a "
            "locked one (`period_locked`) stays for good."
        ),
        responses={
            200: DELETED,
            409: refusals(
                "`conflict`: the period is closed (`details.reason` `period_not_open`) or locked "
                "(`period_locked`); `details.status` is its status."
            ),
        },
        examples=examples.PERIOD_DELETE,
    )
    @idempotent
    def delete(self, request, company_id, pk):
        services.period_delete(period=self.period(pk), by=request.user)
        return ok(None)


class PeriodCloseView(_PeriodMixin, GenericAPIView):
    serializer_class = PeriodOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(
        summary="Close a period",
        description=(
            "Close an open period: nothing can be posted, changed or reversed into its dates any "
            "more (422 `period_closed` for those writes) until it is reopened. No body. A period "
            "that is not open is 409 `conflict`: `details.reason` `period_not_open` when it is "
            "already closed, `period_locked` when it is locked."
        ),
        request=None,
        responses={
            200: PeriodOutput,
            409: refusals(
                "`conflict`: the period is already closed (`details.reason` `period_not_open`) or "
                "locked (`period_locked`); `details.status` is its status."
            ),
        },
        examples=examples.PERIOD_CLOSE,
    )
    @idempotent
    @no_body
    def post(self, request, company_id, pk):
        return ok(PeriodOutput(services.period_close(period=self.period(pk), by=request.user)).data)


class PeriodReopenView(_PeriodMixin, GenericAPIView):
    serializer_class = PeriodOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(
        summary="Reopen a closed period",
        description=(
            "Open a closed period again, with a `reason` (required: 400 without one; it is kept in "
            "the audit trail). Refused with 409 `conflict`: a locked period (`details.reason` "
            "`period_locked`), an open one (`period_not_closed`), or a period of a closed fiscal "
            "year (`fiscal_year_closed`: reopen the year instead)."
        ),
        request=ReasonInput,
        responses={
            200: PeriodOutput,
            409: refusals(
                "`conflict`: locked (`details.reason` `period_locked`), open (`period_not_closed`), "
                "or in a closed fiscal year (`fiscal_year_closed`)."
            ),
        },
        examples=examples.PERIOD_REOPEN,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(ReasonInput, request.data or {})
        period = services.period_reopen(period=self.period(pk), reason=data["reason"], by=request.user)
        return ok(PeriodOutput(period).data)


class PeriodLockView(_PeriodMixin, GenericAPIView):
    serializer_class = PeriodOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(
        summary="Lock a period for good",
        description=(
            "Lock a period (open or closed): it can never be reopened, changed or posted into again, "
            "and a fiscal year with a locked period cannot be reopened. No body. An already locked "
            "period is 409 `conflict` (`details.reason` `period_locked`)."
        ),
        request=None,
        responses={
            200: PeriodOutput,
            409: refusals("`conflict` (`details.reason` `period_locked`): already locked."),
        },
        examples=examples.PERIOD_LOCK,
    )
    @idempotent
    @no_body
    def post(self, request, company_id, pk):
        return ok(PeriodOutput(services.period_lock(period=self.period(pk), by=request.user)).data)


class FiscalYearListView(CompanyScopedMixin, GenericAPIView):
    """Closes of fiscal years, newest first (reopened ones show `reopened_at`)."""

    serializer_class = FiscalYearCloseOutput
    queryset = FiscalYearClose.objects.none()
    actions = {"get": Action.PERIODS_VIEW}

    @extend_schema(
        operation_id="companies_fiscal_years_list",
        summary="List fiscal-year closes",
        description=(
            "Every close of a fiscal year, newest first, a page at a time; a reopened one shows "
            "`reopened_at` (a year closed, reopened and closed again appears twice)."
        ),
        responses={200: FiscalYearCloseOutput(many=True)},
    )
    def get(self, request, company_id):
        queryset = FiscalYearClose.objects.filter(company=self.company).select_related(
            "closing_entry", "closed_by"
        )
        page = self.paginate_queryset(queryset.order_by("-start_date", "-id"))
        return self.get_paginated_response(FiscalYearCloseOutput(page, many=True).data)


class FiscalYearCloseView(CompanyScopedMixin, GenericAPIView):
    """Close fiscal year {year}: post the closing entry, close the year's periods."""

    serializer_class = FiscalYearCloseOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(
        summary="Close a fiscal year",
        description=(
            "Close fiscal year `{year}` once it has ended: post the closing entry (`source` "
            "`closing`, dated the year's last day), which brings every income and expense account "
            "to zero against the retained earnings account, then close each of the year's periods "
            "(creating its monthly periods when it has none). Answers 201 with the close and its "
            "closing entry in full (null when the year had no income or expense); "
            "`meta.periods_closed` counts the periods it closed. No body.\n\n"
            "Refused with nothing written: 422 `fiscal_year_error` (the year has not ended, is "
            "already closed, shares days with a year closed under another fiscal year start, or "
            "the company has no `retained_earnings` account); 422 "
            "`period_closed` (the year's last day is in a locked period); 400 for a year outside "
            "1900-9998."
        ),
        request=None,
        responses={
            201: FiscalYearClosedOutput,
            422: refusals("`fiscal_year_error` or `period_closed`."),
        },
        examples=examples.YEAR_CLOSE_EXAMPLES,
    )
    @idempotent
    @no_body
    def post(self, request, company_id, year):
        result = services.fiscal_year_close(company=self.company, year=int(year), by=request.user)
        record = result.record
        if result.closing_entry is not None:
            record.closing_entry = journal_entry_get(company=self.company, pk=result.closing_entry.pk)
        data = FiscalYearClosedOutput(record, context={"currency": self.company.currency}).data
        return ok(data, status=201, meta={"periods_closed": result.periods_closed})


class FiscalYearReopenView(CompanyScopedMixin, GenericAPIView):
    """Reopen fiscal year {year} (reason required): reverses its closing entry."""

    serializer_class = FiscalYearCloseOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(
        summary="Reopen a fiscal year",
        description=(
            "Reopen closed fiscal year `{year}`, with a `reason` (required: 400 without one): its "
            "closing entry is reversed and its closed periods open again. Refused with nothing "
            "written: 422 `fiscal_year_error` (the year is not closed); 409 `conflict` "
            "(`details.reason` `period_locked`) when one of its periods is locked."
        ),
        request=ReasonInput,
        responses={
            200: FiscalYearCloseOutput,
            409: refusals("`conflict` (`details.reason` `period_locked`): a period of the year is locked."),
            422: refusals("`fiscal_year_error`: the year is not closed."),
        },
        examples=examples.YEAR_REOPEN,
    )
    @idempotent
    def post(self, request, company_id, year):
        data = validated(ReasonInput, request.data or {})
        record = services.fiscal_year_reopen(
            company=self.company, year=int(year), reason=data["reason"], by=request.user
        )
        return ok(FiscalYearCloseOutput(record).data)
