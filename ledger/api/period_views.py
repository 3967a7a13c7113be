"""Accounting periods and fiscal-year close (thin views)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from ledger import services
from ledger.api.serializers import JournalEntryOutput
from ledger.models import AccountingPeriod, FiscalYearClose
from ledger.selectors import journal_entry_get
from sofinance.api.fields import StrictDateField, StrictIntegerField
from sofinance.api.idempotency import idempotent
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import ok, validated
from sofinance.errors import NotFound
from sofinance.permissions import Action


class PeriodOutput(serializers.ModelSerializer):
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AccountingPeriod
        fields = ["id", "name", "start_date", "end_date", "status", "closed_at", "closed_by"]


class PeriodCreateInput(serializers.Serializer):
    start_date = StrictDateField()
    end_date = StrictDateField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")


class PeriodGenerateInput(serializers.Serializer):
    fiscal_year = StrictIntegerField()


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class FiscalYearCloseOutput(serializers.ModelSerializer):
    fiscal_year = serializers.SerializerMethodField()
    closing_entry_number = serializers.CharField(source="closing_entry.number", default=None, read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

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

    @extend_schema(operation_id="companies_periods_list", responses={200: PeriodOutput(many=True)})
    def get(self, request, company_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PeriodOutput(page, many=True).data)

    @extend_schema(request=PeriodCreateInput, responses={201: PeriodOutput})
    @idempotent
    def post(self, request, company_id):
        data = validated(PeriodCreateInput, request.data)
        period = services.period_create(company=self.company, by=request.user, **data)
        return ok(PeriodOutput(period).data, status=201)


class PeriodGenerateView(_PeriodMixin, GenericAPIView):
    """Create the twelve monthly periods of a fiscal year in one call."""

    serializer_class = PeriodOutput
    queryset = AccountingPeriod.objects.none()
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(request=PeriodGenerateInput, responses={201: PeriodOutput(many=True)})
    @idempotent
    def post(self, request, company_id):
        data = validated(PeriodGenerateInput, request.data)
        created = services.periods_generate(company=self.company, year=data["fiscal_year"], by=request.user)
        return ok(PeriodOutput(created, many=True).data, status=201)


class PeriodDetailView(_PeriodMixin, GenericAPIView):
    serializer_class = PeriodOutput
    actions = {"get": Action.PERIODS_VIEW, "delete": Action.PERIODS_MANAGE}

    def get(self, request, company_id, pk):
        return ok(PeriodOutput(self.period(pk)).data)

    def delete(self, request, company_id, pk):
        services.period_delete(period=self.period(pk), by=request.user)
        return ok(None)


class PeriodCloseView(_PeriodMixin, GenericAPIView):
    serializer_class = PeriodOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(request=None, responses={200: PeriodOutput})
    def post(self, request, company_id, pk):
        return ok(PeriodOutput(services.period_close(period=self.period(pk), by=request.user)).data)


class PeriodReopenView(_PeriodMixin, GenericAPIView):
    serializer_class = PeriodOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(request=ReasonInput, responses={200: PeriodOutput})
    def post(self, request, company_id, pk):
        data = validated(ReasonInput, request.data or {})
        period = services.period_reopen(period=self.period(pk), reason=data["reason"], by=request.user)
        return ok(PeriodOutput(period).data)


class PeriodLockView(_PeriodMixin, GenericAPIView):
    serializer_class = PeriodOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(request=None, responses={200: PeriodOutput})
    def post(self, request, company_id, pk):
        return ok(PeriodOutput(services.period_lock(period=self.period(pk), by=request.user)).data)


class FiscalYearListView(CompanyScopedMixin, GenericAPIView):
    """Closes of fiscal years, newest first (reopened ones show `reopened_at`)."""

    serializer_class = FiscalYearCloseOutput
    queryset = FiscalYearClose.objects.none()
    actions = {"get": Action.PERIODS_VIEW}

    @extend_schema(
        operation_id="companies_fiscal_years_list", responses={200: FiscalYearCloseOutput(many=True)}
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

    @extend_schema(request=None, responses={201: FiscalYearCloseOutput})
    @idempotent
    def post(self, request, company_id, year):
        result = services.fiscal_year_close(company=self.company, year=int(year), by=request.user)
        data = FiscalYearCloseOutput(result.record).data
        if result.closing_entry is not None:
            entry = journal_entry_get(company=self.company, pk=result.closing_entry.pk)
            data["closing_entry"] = JournalEntryOutput(
                entry, context={"currency": self.company.currency}
            ).data
        return ok(data, status=201, meta={"periods_closed": result.periods_closed})


class FiscalYearReopenView(CompanyScopedMixin, GenericAPIView):
    """Reopen fiscal year {year} (reason required): reverses its closing entry."""

    serializer_class = FiscalYearCloseOutput
    actions = {"post": Action.PERIODS_MANAGE}

    @extend_schema(request=ReasonInput, responses={200: FiscalYearCloseOutput})
    def post(self, request, company_id, year):
        data = validated(ReasonInput, request.data or {})
        record = services.fiscal_year_reopen(
            company=self.company, year=int(year), reason=data["reason"], by=request.user
        )
        return ok(FiscalYearCloseOutput(record).data)
