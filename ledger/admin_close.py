"""Periods and the close in the admin: generate a fiscal year's periods, close, reopen (with a
reason), lock, close the fiscal year and reopen it. Each step is a confirmation page that says
what it will do (the dates it stops or allows, the drafts it strands, the closing entry it posts)
and a POST from that page calling one ledger service, whose refusal is shown on the page with
nothing written. Mounted by AccountingPeriodAdmin.get_urls(); every page needs periods.manage in
the current company (controllers and admins).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.models import Company
from ledger.calendar import fiscal_year_bounds, fiscal_year_of, month_ranges
from ledger.models import AccountingPeriod, EntryStatus, FiscalYearClose, JournalEntry, PeriodStatus
from ledger.services import (
    fiscal_year_close,
    fiscal_year_closing_lines,
    fiscal_year_reopen,
    period_close,
    period_lock,
    period_reopen,
    periods_generate,
)
from sofinance.admin import AdminPages, admin_can
from sofinance.close_notes import close_notes
from sofinance.company_context import current_company
from sofinance.display import display_amount
from sofinance.errors import APIError
from sofinance.permissions import Action

TEMPLATES = "admin/ledger/close"


class YearForm(forms.Form):
    fiscal_year = forms.IntegerField(label="Fiscal year", min_value=1900, max_value=9998)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), required=True
    )


class YearReasonForm(YearForm, ReasonForm):
    pass


class ClosePages(AdminPages):
    def urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("generate/", view(self.generate_view), name="ledger_accountingperiod_generate"),
            path("close-year/", view(self.close_year_view), name="ledger_accountingperiod_close_year"),
            path("reopen-year/", view(self.reopen_year_view), name="ledger_accountingperiod_reopen_year"),
            path("<int:pk>/close/", view(self.close_view), name="ledger_accountingperiod_close"),
            path("<int:pk>/reopen/", view(self.reopen_view), name="ledger_accountingperiod_reopen"),
            path("<int:pk>/lock/", view(self.lock_view), name="ledger_accountingperiod_lock"),
        ]

    # ----- helpers

    def company(self, request: HttpRequest) -> Company:
        company = current_company(request)
        if company is None or not admin_can(request, company.pk, Action.PERIODS_MANAGE):
            raise PermissionDenied("Your role in this company does not allow managing its periods.")
        return company

    def period(self, request: HttpRequest, pk: int) -> AccountingPeriod:
        company = self.company(request)
        return get_object_or_404(AccountingPeriod.objects.filter(company=company), pk=pk)

    def render(self, request: HttpRequest, template: str, title: str, **extra: Any) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": AccountingPeriod._meta,
            "periods_url": reverse("admin:ledger_accountingperiod_changelist"),
            **extra,
        }
        return TemplateResponse(request, f"{TEMPLATES}/{template}", context)

    def done(self, request: HttpRequest, text: str) -> HttpResponseRedirect:
        messages.success(request, text)
        return HttpResponseRedirect(reverse("admin:ledger_accountingperiod_changelist"))

    @staticmethod
    def drafts_between(company: Company, start: datetime.date, end: datetime.date) -> int:
        return JournalEntry.objects.filter(
            company=company, status=EntryStatus.DRAFT, date__gte=start, date__lte=end
        ).count()

    @staticmethod
    def posted_between(company: Company, start: datetime.date, end: datetime.date) -> int:
        return JournalEntry.objects.filter(
            company=company, status=EntryStatus.POSTED, date__gte=start, date__lte=end
        ).count()

    @staticmethod
    def year_to_close(company: Company) -> int:
        """The year the close page opens on: the earliest year with posted entries that is not
        closed, up to the last year that has ended; else the current year."""
        today = timezone.localdate()
        current = fiscal_year_of(company=company, day=today)
        first = (
            JournalEntry.objects.filter(company=company, status=EntryStatus.POSTED)
            .order_by("date")
            .values_list("date", flat=True)
            .first()
        )
        if first is None:
            return current
        closed = {
            fiscal_year_of(company=company, day=start)
            for start in FiscalYearClose.objects.filter(
                company=company, reopened_at__isnull=True
            ).values_list("start_date", flat=True)
        }
        for year in range(fiscal_year_of(company=company, day=first), current):
            if year not in closed:
                return year
        return current

    @staticmethod
    def default_year(company: Company) -> int:
        """The first fiscal year from the current one that has no periods yet."""
        year = fiscal_year_of(company=company, day=timezone.localdate())
        while True:
            start, end = fiscal_year_bounds(company=company, year=year)
            if not AccountingPeriod.objects.filter(company=company, start_date__lte=end, end_date__gte=start):
                return year
            year += 1

    # ----- generate a fiscal year's periods

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        company = self.company(request)
        source = request.POST if request.method == "POST" else request.GET
        form = YearForm(
            source if "fiscal_year" in source else None, initial={"fiscal_year": self.default_year(company)}
        )
        year = (
            form.cleaned_data["fiscal_year"]
            if form.is_bound and form.is_valid()
            else self.default_year(company)
        )
        error = None
        if request.method == "POST" and form.is_valid():
            try:
                created = periods_generate(company=company, year=year, by=request.user)
            except APIError as exc:
                error = exc.message
            else:
                return self.done(
                    request, f"Created the {len(created)} monthly periods of fiscal year {year}."
                )
        months = []
        try:
            start, end = fiscal_year_bounds(company=company, year=year)
            months = [
                {"name": f"FY{year} {s:%b %Y}", "start": s, "end": e} for s, e in month_ranges(start, end)
            ]
            clash = AccountingPeriod.objects.filter(
                company=company, start_date__lte=end, end_date__gte=start
            ).first()
        except APIError as exc:
            error, clash, start, end = exc.message, None, None, None
        return self.render(
            request,
            "generate.html",
            f"Generate the periods of fiscal year {year}",
            form=form,
            year=year,
            months=months,
            clash=clash,
            start=start,
            end=end,
            error=error,
            company=company,
        )

    # ----- one period: close, reopen, lock

    def close_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        period = self.period(request, pk)
        error = None
        if request.method == "POST":
            try:
                period_close(period=period, by=request.user)
            except APIError as exc:
                error = exc.message
            else:
                return self.done(
                    request,
                    f"{period.name or period}: closed. Nothing can be posted into it until it is reopened.",
                )
        return self.period_page(request, period, "close", error=error)

    def reopen_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        period = self.period(request, pk)
        form = ReasonForm(request.POST if request.method == "POST" else None)
        error = None
        if request.method == "POST" and form.is_valid():
            try:
                period_reopen(period=period, reason=form.cleaned_data["reason"], by=request.user)
            except APIError as exc:
                error = exc.message
            else:
                return self.done(
                    request, f"{period.name or period}: reopened ({form.cleaned_data['reason']})."
                )
        return self.period_page(request, period, "reopen", error=error, form=form)

    def lock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        period = self.period(request, pk)
        error = None
        if request.method == "POST":
            try:
                period_lock(period=period, by=request.user)
            except APIError as exc:
                error = exc.message
            else:
                return self.done(request, f"{period.name or period}: locked for good.")
        return self.period_page(request, period, "lock", error=error)

    def period_page(
        self, request: HttpRequest, period: AccountingPeriod, step: str, **extra: Any
    ) -> TemplateResponse:
        titles = {"close": "Close", "reopen": "Reopen", "lock": "Lock"}
        company = period.company
        return self.render(
            request,
            "period_step.html",
            f"{titles[step]} {period.name or period}?",
            period=period,
            step=step,
            drafts=self.drafts_between(company, period.start_date, period.end_date),
            posted=self.posted_between(company, period.start_date, period.end_date),
            # What the apps above the ledger leave unfinished in these dates (a statement not
            # reconciled): said before closing or locking, not after.
            notes=close_notes(company_id=company.pk, start=period.start_date, end=period.end_date)
            if step in ("close", "lock")
            else [],
            **extra,
        )

    # ----- the fiscal year

    def close_year_view(self, request: HttpRequest) -> HttpResponse:
        company = self.company(request)
        source = request.POST if request.method == "POST" else request.GET
        suggested = self.year_to_close(company)
        form = YearForm(source if "fiscal_year" in source else None, initial={"fiscal_year": suggested})
        year = form.cleaned_data["fiscal_year"] if form.is_bound and form.is_valid() else suggested
        error = None
        if request.method == "POST" and form.is_valid():
            try:
                result = fiscal_year_close(company=company, year=year, by=request.user)
            except APIError as exc:
                error = exc.message
            else:
                entry = (
                    result.closing_entry.number
                    if result.closing_entry
                    else "no closing entry (nothing to close)"
                )
                return self.done(
                    request, f"Fiscal year {year} closed: {entry}; {result.periods_closed} period(s) closed."
                )
        preview: list[dict[str, str]] = []
        net = Decimal(0)
        try:
            start, end = fiscal_year_bounds(company=company, year=year)
            lines = fiscal_year_closing_lines(company=company, year=year)
        except APIError as exc:
            error = error or exc.message
            start = end = None
            lines = []
        for line in lines:
            preview.append(
                {
                    "account": f"{line.account_code} {line.account_name}",
                    "debit": display_amount(line.base_amount, company.currency)
                    if line.base_amount > 0
                    else "",
                    "credit": display_amount(-line.base_amount, company.currency)
                    if line.base_amount < 0
                    else "",
                    "description": line.description,
                }
            )
            if line.description == "Net result of the year":
                net = -line.base_amount
        periods = (
            AccountingPeriod.objects.filter(company=company, start_date__gte=start, end_date__lte=end)
            if start
            else []
        )
        return self.render(
            request,
            "close_year.html",
            f"Close fiscal year {year}?",
            form=form,
            year=year,
            start=start,
            end=end,
            lines=preview,
            # the closing entry balances: its two totals, as an entry's page shows them
            total_debit=display_amount(
                sum((ln.base_amount for ln in lines if ln.base_amount > 0), Decimal(0)), company.currency
            ),
            total_credit=display_amount(
                -sum((ln.base_amount for ln in lines if ln.base_amount < 0), Decimal(0)), company.currency
            ),
            net_result=display_amount(net, company.currency),
            profit=net >= 0,
            open_periods=sum(1 for p in periods if p.status == PeriodStatus.OPEN),
            has_periods=bool(periods),
            drafts=self.drafts_between(company, start, end) if start else 0,
            notes=close_notes(company_id=company.pk, start=start, end=end) if start else [],
            error=error,
            company=company,
            not_ended=end is not None and end >= timezone.localdate(),
            closable_from=end + datetime.timedelta(days=1) if end is not None else None,
            already_closed=FiscalYearClose.objects.filter(
                company=company, start_date=start, reopened_at__isnull=True
            ).exists()
            if start
            else False,
        )

    def reopen_year_view(self, request: HttpRequest) -> HttpResponse:
        company = self.company(request)
        source = request.POST if request.method == "POST" else request.GET
        closed = FiscalYearClose.objects.filter(company=company, reopened_at__isnull=True).order_by(
            "-start_date"
        )
        latest = closed.first()
        default = fiscal_year_of(company=company, day=latest.start_date) if latest else None
        year = (
            int(source.get("fiscal_year") or default or 0)
            if str(source.get("fiscal_year") or default or "").isdigit()
            else None
        )
        # Opened for a year (a closed period's "Reopen the year…"): the form names that year.
        form = YearReasonForm(
            source if request.method == "POST" else None, initial={"fiscal_year": year or default}
        )
        error = None
        if request.method == "POST" and form.is_valid():
            year = form.cleaned_data["fiscal_year"]
            try:
                fiscal_year_reopen(
                    company=company, year=year, reason=form.cleaned_data["reason"], by=request.user
                )
            except APIError as exc:
                error = exc.message
            else:
                return self.done(
                    request,
                    f"Fiscal year {year} reopened: its closing entry is reversed and its periods open.",
                )
        record = None
        if year:
            record = next(
                (r for r in closed if fiscal_year_of(company=company, day=r.start_date) == year), None
            )
        return self.render(
            request,
            "reopen_year.html",
            f"Reopen fiscal year {year}?" if year else "Reopen a fiscal year",
            form=form,
            year=year,
            record=record,
            error=error,
            company=company,
        )
