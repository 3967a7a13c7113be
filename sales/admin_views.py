"""Admin pages about one document that are not a model form: issue, void, credit and print an
invoice; record a payment with the customer's open invoices offered for allocation, allocate
credit later, unallocate, void a payment.

Each page checks the user's role in the document's company (sofinance.permissions), calls one
sales service, and reports its answer as a message; a refusal re-renders the page with the
service's words and the user's input, nothing written. State changes are POSTs only.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.models import Account, AccountType, Company
from ledger.models import PeriodStatus
from ledger.selectors import closed_period_after, exchange_rate_find, period_covering
from ledger.services import check_period_open
from sales import selectors, services
from sales.documents import invoice_document_html
from sales.models import Customer, Invoice, Payment, PaymentMethod
from sales.numbering import CREDIT_NOTE_SERIES, INVOICE_SERIES, document_number_ahead
from sales.postings import base_of, document_rate
from sofinance.admin import (
    AdminPages,
    DateFormField,
    admin_can,
    admin_companies,
    confirm_page,
    confirmed,
    date_widget,
    post_or_back,
)
from sofinance.display import display_amount as format_amount
from sofinance.display import display_rate
from sofinance.errors import APIError
from sofinance.ids import id_from_text
from sofinance.money import MoneyError, check_precision, parse_amount
from sofinance.money import format_amount as plain_amount
from sofinance.permissions import Action


def _date(raw: str) -> datetime.date | None:
    raw = (raw or "").strip()
    return datetime.date.fromisoformat(raw) if raw else None


def _decimal_or_none(raw: str) -> Decimal | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number.") from None


class PaymentRecordForm(forms.Form):
    """The payment itself; the allocations are the `allocate-<invoice id>` inputs beside it."""

    company = forms.ModelChoiceField(queryset=Company.objects.none())
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False)
    date = DateFormField(widget=date_widget())
    amount = forms.CharField(max_length=30, help_text="In the payment's currency, e.g. 1250.00.")
    currency = forms.CharField(max_length=3, required=False, help_text="Blank: the customer's currency.")
    fx_rate = forms.CharField(
        max_length=30, required=False, help_text="Foreign currency only; blank: the stored rate."
    )
    account = forms.ModelChoiceField(
        queryset=Account.objects.none(), required=False, help_text="Deposit account; blank: the bank account."
    )
    method = forms.ChoiceField(choices=PaymentMethod.choices, initial=PaymentMethod.BANK_TRANSFER)
    reference = forms.CharField(max_length=100, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, companies, company: Company | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = companies
        if company is not None:
            self.fields["customer"].queryset = Customer.objects.filter(
                company=company, is_active=True
            ).order_by("name")
            self.fields["account"].queryset = (
                Account.objects.filter(
                    company=company, type=AccountType.ASSET, is_active=True, children__isnull=True
                )
                .exclude(pk__in=selectors.receivables_account_ids(company))
                .order_by("path")
                .distinct()
            )


class SalesDocumentPages(AdminPages):
    """The pages of one invoice (mounted by InvoiceAdmin) and of payments (by PaymentAdmin)."""

    # ----- urls

    def invoice_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/issue/",
                view(post_or_back("admin:sales_invoice_change")(self.issue_view)),
                name="sales_invoice_issue",
            ),
            path(
                "<int:pk>/void/",
                view(post_or_back("admin:sales_invoice_change")(self.void_view)),
                name="sales_invoice_void",
            ),
            path("<int:pk>/document/", view(self.document_view), name="sales_invoice_document"),
            path("<int:pk>/credit/", view(self.credit_view), name="sales_invoice_credit"),
        ]

    def payment_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("record/", view(self.record_view), name="sales_payment_record"),
            path("<int:pk>/allocate/", view(self.allocate_view), name="sales_payment_allocate"),
            path(
                "<int:pk>/unallocate/<int:allocation_id>/",
                view(post_or_back("admin:sales_payment_change")(self.unallocate_view)),
                name="sales_payment_unallocate",
            ),
            path(
                "<int:pk>/void/",
                view(post_or_back("admin:sales_payment_change")(self.payment_void_view)),
                name="sales_payment_void",
            ),
        ]

    # ----- helpers

    def context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model_admin.model._meta,
            "has_view_permission": True,
            **extra,
        }

    def invoice_for(self, request: HttpRequest, pk: int, action: Action) -> Invoice:
        invoice = get_object_or_404(
            self.model_admin.get_queryset(request).select_related("company", "customer"), pk=pk
        )
        if not admin_can(request, invoice.company_id, action):
            raise PermissionDenied
        return invoice

    def payment_for(self, request: HttpRequest, pk: int, action: Action) -> Payment:
        payment = get_object_or_404(
            self.model_admin.get_queryset(request).select_related("company", "customer"), pk=pk
        )
        if not admin_can(request, payment.company_id, action):
            raise PermissionDenied
        return payment

    @staticmethod
    def invoice_url(pk: int) -> str:
        return reverse("admin:sales_invoice_change", args=[pk])

    @staticmethod
    def payment_url(pk: int) -> str:
        return reverse("admin:sales_payment_change", args=[pk])

    def done(self, request, text: str, url: str) -> HttpResponseRedirect:
        messages.success(request, text)
        return HttpResponseRedirect(url)

    def refused(self, request, error: APIError, url: str, *, hint: str = "") -> HttpResponseRedirect:
        messages.error(request, f"{error.message} {hint}".strip())
        return HttpResponseRedirect(url)

    # Said with a void's refusal when no date was typed: where the date came from, and the way out.
    BLANK_VOID_DATE = "(No void date was typed: the reversal takes the {what}. Type a day of an open period in the Void date box beside Void.)"

    # ----- invoices

    def confirm(
        self,
        request: HttpRequest,
        invoice: Invoice,
        verb: str,
        effect: str,
        *,
        void_date: str | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> HttpResponse:
        """The page that asks before Issue or Void acts (the invoice page's button lands here)."""
        facts = [
            ("Customer", invoice.customer.name),
            ("Date", invoice.date.isoformat()),
            ("Total", f"{format_amount(invoice.total, invoice.currency)} {invoice.currency}"),
            *(extra or []),
        ]
        if void_date:
            facts.append(("Reversal dated", void_date))
        return confirm_page(
            request,
            self.admin_site,
            obj=invoice,
            verb=verb,
            effect=effect,
            facts=facts,
            carry={"void_date": void_date} if void_date else None,
            back_url=self.invoice_url(invoice.pk),
        )

    def issue_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = self.invoice_for(request, pk, Action.INVOICES_ISSUE)
        if not confirmed(request):
            try:  # a date in a closed period is said now, not after "Yes"
                check_period_open(company=invoice.company, date=invoice.date)
            except APIError as exc:
                return self.refused(request, exc, self.invoice_url(pk))
            return self.confirm(
                request,
                invoice,
                "Issue",
                "Issuing gives the invoice its number and posts it to the books (receivable, income, "
                "tax). From then on it never changes: it is corrected by a credit note or voided.",
                extra=self.issue_facts(invoice),
            )
        try:
            issued = services.invoice_issue(invoice=invoice, by=request.user)
        except APIError as exc:
            return self.refused(request, exc, self.invoice_url(pk))
        return self.done(
            request,
            f"Issued as {issued.number}, posted as {issued.journal_entry.number}.",
            self.invoice_url(pk),
        )

    @staticmethod
    def issue_facts(invoice: Invoice) -> list[tuple[str, str]]:
        """The number the invoice will get and the period it posts into, said before issuing."""
        number = document_number_ahead(
            company_id=invoice.company_id, series=INVOICE_SERIES, year=invoice.date.year
        )
        period = period_covering(company=invoice.company, on=invoice.date)
        if period is None:
            where = "no period covers the date: it is open"
        elif period.status == PeriodStatus.OPEN:
            where = f"{period.name or period} (open)"
        else:
            where = (
                f"{period.name or period} ({period.get_status_display().lower()}: issuing will be refused)"
            )
        facts = [
            ("Number", f"{number} (the next, unless another invoice is issued first)"),
            ("Period", where),
        ]
        closed_after = (
            None
            if period is not None and period.status != PeriodStatus.OPEN
            else (closed_period_after(company=invoice.company, on=invoice.date))
        )
        if closed_after is not None:
            facts.append(
                ("Closed periods after it", closed_after.sentence(invoice.date, covered=period is not None))
            )
        company = invoice.company
        if invoice.currency != company.currency:
            # What the books will hold: the rate and the receivable in the company's currency.
            try:
                rate = document_rate(
                    company=company, currency=invoice.currency, on=invoice.date, given=invoice.fx_rate
                )
            except APIError as exc:
                facts.append(("Rate", f"{exc.message} Issuing will be refused."))
            else:
                if invoice.fx_rate is not None:
                    whence = "given on the invoice"
                else:  # how old the stored rate is, so that a stale one is noticed before issuing
                    stored = exchange_rate_find(
                        company=company,
                        from_currency=invoice.currency,
                        to_currency=company.currency,
                        on=invoice.date,
                    )
                    whence = f"the rate stored for {stored.date.isoformat()}" if stored else "the stored rate"
                facts.append(
                    ("Rate", f"{display_rate(rate)} {invoice.currency}→{company.currency} ({whence})")
                )
                receivable = format_amount(base_of(invoice.total, rate, company), company.currency)
                facts.append((f"Receivable in {company.currency}", f"{receivable} {company.currency}"))
        return facts

    def void_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = self.invoice_for(request, pk, Action.INVOICES_VOID)
        if not confirmed(request):
            refusal = services.invoice_void_refusal(invoice)
            if refusal is not None:  # said now, not after "Yes"
                return self.refused(request, refusal, self.invoice_url(pk))
            try:
                void_date = _date(request.POST.get("void_date", ""))
            except ValueError:
                messages.error(request, "The void date is not a date (YYYY-MM-DD).")
                return HttpResponseRedirect(self.invoice_url(pk))
            try:  # a reversal date in a closed period is said now, not after "Yes"
                check_period_open(company=invoice.company, date=void_date or invoice.date)
            except APIError as exc:
                hint = "" if void_date else self.BLANK_VOID_DATE.format(what="invoice's own date")
                return self.refused(request, exc, self.invoice_url(pk), hint=hint)
            return self.confirm(
                request,
                invoice,
                "Void",
                f"Voiding posts a reversal of {invoice.journal_entry.number if invoice.journal_entry else 'its entry'}: "
                "the invoice no longer counts as owed, and cannot be issued again.",
                void_date=(void_date or invoice.date).isoformat(),
            )
        try:
            voided = services.invoice_void(
                invoice=invoice, by=request.user, date=_date(request.POST.get("void_date", ""))
            )
        except ValueError:
            messages.error(request, "The void date is not a date (YYYY-MM-DD).")
            return HttpResponseRedirect(self.invoice_url(pk))
        except APIError as exc:
            return self.refused(request, exc, self.invoice_url(pk))
        return self.done(
            request, f"{voided}: void, reversed by {voided.void_entry.number}.", self.invoice_url(pk)
        )

    def document_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = self.invoice_for(request, pk, Action.SALES_VIEW)
        return HttpResponse(invoice_document_html(invoice), content_type="text/html; charset=utf-8")

    def credit_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Credit chosen quantities of an invoice's lines (each defaults to what is left)."""
        invoice = self.invoice_for(request, pk, Action.INVOICES_ISSUE)
        remaining = services.invoice_lines_remaining(invoice)
        values = {"date": timezone.localdate().isoformat(), "reason": ""}
        errors: list[str] = []
        if request.method == "POST":
            values = {"date": request.POST.get("date", ""), "reason": request.POST.get("reason", "")}
            lines = []
            for entry in remaining:
                raw = request.POST.get(f"quantity-{entry.line.pk}", "").strip()
                if raw and raw != "0":
                    lines.append({"invoice_line": entry.line.pk, "quantity": raw})
            try:
                date = _date(values["date"])
                if not confirmed(request):
                    # What it would credit, asked before anything is written (a credit note,
                    # like an issued invoice, is never changed afterwards).
                    plan = services.credit_note_plan(invoice=invoice, lines=lines)
                    return self._credit_confirmation(request, invoice, plan, date, values, lines)
                credit = services.credit_note_create(
                    invoice=invoice, by=request.user, date=date, reason=values["reason"], lines=lines
                )
            except ValueError:
                errors.append("The date is not a date (YYYY-MM-DD).")
            except APIError as exc:
                errors.append(exc.message)
            else:
                return self.done(
                    request,
                    f"Credit note {credit.number} for {format_amount(credit.total, credit.currency)} {credit.currency}.",
                    self.invoice_url(pk),
                )
        rows = [
            {
                "line": entry.line,
                "left": format(entry.quantity.normalize(), "f"),
                "value": request.POST.get(f"quantity-{entry.line.pk}")
                if request.method == "POST"
                else format(entry.quantity.normalize(), "f"),
                "net_left": format_amount(entry.net, invoice.currency),
            }
            for entry in remaining
        ]
        context = self.context(
            request,
            f"Credit {invoice}",
            invoice=invoice,
            rows=rows,
            values=values,
            errors=errors,
            amount_due=format_amount(invoice.amount_due, invoice.currency),
        )
        return TemplateResponse(request, "admin/sales/invoice/credit.html", context)

    def _credit_confirmation(self, request, invoice, plan, date, values, lines) -> HttpResponse:
        """The credit note as it would be posted: each line credited, the totals, its number and
        what the invoice still has due after it; "Yes" sends the same form again, confirmed."""
        currency = invoice.currency
        on = date or max(invoice.date, timezone.localdate())
        number = document_number_ahead(company_id=invoice.company_id, series=CREDIT_NOTE_SERIES, year=on.year)
        facts = [
            (
                f"Line {entry.line.line_no}",
                f"{entry.line.description or entry.line.item or ''}: {format(quantity.normalize(), 'f')} "
                f"credited, {format_amount(amounts.net, currency)} net + {format_amount(amounts.tax, currency)} tax",
            )
            for entry, quantity, amounts in plan.lines
        ]
        facts += [
            ("Subtotal", f"{format_amount(plan.subtotal, currency)} {currency}"),
            ("Tax", f"{format_amount(plan.tax_total, currency)} {currency}"),
            ("Total", f"{format_amount(plan.total, currency)} {currency}"),
            (
                "Due on the invoice after it",
                f"{format_amount(plan.amount_due - plan.total, currency)} {currency}",
            ),
            ("Number", f"{number} (the next, unless another credit note is made first)"),
            ("Dated", on.isoformat()),
        ]
        if values["reason"]:
            facts.append(("Reason", values["reason"]))
        carry = {"date": values["date"], "reason": values["reason"]}
        carry.update({f"quantity-{line['invoice_line']}": line["quantity"] for line in lines})
        return confirm_page(
            request,
            self.admin_site,
            obj=invoice,
            verb="Credit",
            effect="The credit note posts the mirror of what it credits (revenue and tax back, receivables down) "
            "and reduces what the invoice has due. Like the invoice, it never changes afterwards: a mistake "
            "is corrected by another document.",
            facts=facts,
            carry=carry,
            back_url=reverse("admin:sales_invoice_credit", args=[invoice.pk]),
        )

    # ----- payments

    def record_view(self, request: HttpRequest) -> HttpResponse:
        """Record a payment: choose the company and customer, then allocate to their open invoices."""
        allowed = admin_companies(request, Action.PAYMENTS_RECORD)
        companies = Company.objects.order_by("name")
        if allowed is not None:
            companies = companies.filter(pk__in=allowed)
        if not companies.exists() or not request.user.has_perm("sales.add_payment"):
            raise PermissionDenied
        source = request.POST if request.method == "POST" else request.GET
        company_id = id_from_text(source.get("company"))
        company = companies.filter(pk=company_id).first() if company_id is not None else None
        if company is None and companies.count() == 1:
            company = companies.first()
        initial = {"date": timezone.localdate(), "company": company}
        form = PaymentRecordForm(
            request.POST if request.method == "POST" else None,
            initial={**initial, **{k: v for k, v in request.GET.items() if k in ("customer",)}},
            companies=companies,
            company=company,
        )
        customer = None
        customer_id = id_from_text(source.get("customer"))
        if company is not None and customer_id is not None:
            customer = Customer.objects.filter(company=company, pk=customer_id).first()
        open_invoices = selectors.open_invoices_of(customer=customer) if customer else []
        errors: list[str] = []
        filled, notes = None, []
        if request.method == "POST" and "_fill_oldest" in request.POST:
            filled = self._filled_oldest_first(request, customer, open_invoices, errors, notes)
        if request.method == "POST" and "_record" in request.POST and form.is_valid():
            data = form.cleaned_data
            if data.get("customer") is None:
                form.add_error("customer", "Choose the customer who paid.")
            else:
                allocations = []
                for invoice in open_invoices:
                    raw = request.POST.get(f"allocate-{invoice.pk}", "").strip()
                    if raw:
                        allocations.append({"invoice": invoice.pk, "amount": raw})
                try:
                    payment = services.payment_record(
                        company=data["company"],
                        customer=data["customer"],
                        date=data["date"],
                        amount=data["amount"].strip(),
                        currency=(data.get("currency") or "").strip().upper() or None,
                        account=data["account"].pk if data.get("account") else None,
                        method=data["method"],
                        reference=data.get("reference") or "",
                        notes=data.get("notes") or "",
                        fx_rate=(data.get("fx_rate") or "").strip() or None,
                        allocations=allocations,
                        by=request.user,
                    )
                except APIError as exc:
                    errors.append(exc.message)
                else:
                    allocated = format_amount(payment.amount_allocated, payment.currency)
                    return self.done(
                        request,
                        f"Payment {payment.number} recorded ({allocated} {payment.currency} allocated).",
                        self.payment_url(payment.pk),
                    )
        rows = allocation_rows(request, open_invoices, filled)
        context = self.context(
            request,
            "Record a payment",
            form=form,
            company=company,
            customer=customer,
            rows=rows,
            errors=errors,
            notes=notes,
        )
        return TemplateResponse(request, "admin/sales/payment/record.html", context)

    @staticmethod
    def _filled_oldest_first(
        request, customer, open_invoices, errors: list[str], notes: list[str]
    ) -> dict | None:
        """The record form's "Fill oldest first": the amount typed, spread over the customer's
        open invoices in the payment's currency (typed, else the customer's), oldest due first."""
        if customer is None:
            errors.append("Choose the customer first: their open invoices are filled in.")
            return None
        try:
            amount = parse_amount(request.POST.get("amount", "").strip())
        except MoneyError:
            errors.append("Type the payment's amount first (e.g. 1250.00): it is spread over the invoices.")
            return None
        currency = request.POST.get("currency", "").strip().upper() or customer.currency
        try:
            check_precision(amount, currency)  # never rounded into more than was typed
        except MoneyError as exc:
            errors.append(str(exc))
            return None
        same_currency = [invoice for invoice in open_invoices if invoice.currency == currency]
        plan, said = fill_oldest_first(amount, currency, same_currency)
        (errors if plan is None else notes).append(said)
        return plan

    def allocate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Allocate a payment's unallocated amount to the customer's open invoices."""
        payment = self.payment_for(request, pk, Action.PAYMENTS_RECORD)
        open_invoices = [
            invoice
            for invoice in selectors.open_invoices_of(customer=payment.customer)
            if invoice.currency == payment.currency
        ]
        errors: list[str] = []
        filled = None
        notes: list[str] = []
        if request.method == "POST" and "_fill_oldest" in request.POST:
            filled, said = fill_oldest_first(payment.unallocated, payment.currency, open_invoices)
            (errors if filled is None else notes).append(said)
        elif request.method == "POST":
            allocations = []
            for invoice in open_invoices:
                raw = request.POST.get(f"allocate-{invoice.pk}", "").strip()
                if raw:
                    allocations.append({"invoice": invoice.pk, "amount": raw})
            try:
                created = services.payment_allocate(
                    payment=payment,
                    allocations=allocations,
                    by=request.user,
                    date=_date(request.POST.get("date", "")),
                )
            except ValueError:
                errors.append("The date is not a date (YYYY-MM-DD).")
            except APIError as exc:
                errors.append(exc.message)
            else:
                total = sum((a.amount for a in created), Decimal(0))
                return self.done(
                    request,
                    f"{format_amount(total, payment.currency)} {payment.currency} of {payment} allocated.",
                    self.payment_url(pk),
                )
        rows = allocation_rows(request, open_invoices, filled)
        context = self.context(
            request,
            f"Allocate {payment}",
            payment=payment,
            unallocated=format_amount(payment.unallocated, payment.currency),
            rows=rows,
            errors=errors,
            notes=notes,
            date_value=request.POST.get("date", "") if request.method == "POST" else "",
        )
        return TemplateResponse(request, "admin/sales/payment/allocate.html", context)

    def unallocate_view(self, request: HttpRequest, pk: int, allocation_id: int) -> HttpResponse:
        payment = self.payment_for(request, pk, Action.PAYMENTS_RECORD)
        allocation = selectors.allocation_get(payment=payment, pk=allocation_id)
        if allocation is None:
            raise PermissionDenied
        if not confirmed(request):
            when = request.POST.get("unallocate_date", "").strip()
            return confirm_page(
                request,
                self.admin_site,
                obj=payment,
                verb="Unallocate",
                effect=f"Unallocating gives {format_amount(allocation.amount, payment.currency)} back to "
                f"{allocation.invoice.number}'s amount due and to the customer's credit on this payment, "
                f"from {when or 'today'}. The allocation stays on record, marked with that date, so "
                "reports as of earlier dates still see it.",
                facts=[
                    ("Invoice", allocation.invoice.number),
                    ("Amount", f"{format_amount(allocation.amount, payment.currency)} {payment.currency}"),
                    ("From", when or "today"),
                ],
                carry={"unallocate_date": when},
                back_url=self.payment_url(pk),
            )
        try:
            removed = services.allocation_remove(
                allocation=allocation, by=request.user, date=_date(request.POST.get("unallocate_date", ""))
            )
        except ValueError:
            messages.error(request, "The date is not a date (YYYY-MM-DD).")
            return HttpResponseRedirect(self.payment_url(pk))
        except APIError as exc:
            return self.refused(request, exc, self.payment_url(pk))
        return self.done(
            request,
            f"{format_amount(removed.amount, payment.currency)} unallocated from {removed.invoice.number} "
            f"on {removed.unallocated_on}.",
            self.payment_url(pk),
        )

    def payment_void_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        payment = self.payment_for(request, pk, Action.PAYMENTS_RECORD)
        if not confirmed(request):
            when = request.POST.get("void_date", "").strip()
            try:
                typed = _date(when)
            except ValueError:
                messages.error(request, "The void date is not a date (YYYY-MM-DD).")
                return HttpResponseRedirect(self.payment_url(pk))
            if typed is not None:
                when = shown = typed.isoformat()
            else:
                # The earliest day it can take (its date, or later when an allocation was undone
                # since): proposed, not the payment's date that the service would then refuse.
                earliest = services.payment_void_earliest(payment)
                when = earliest.isoformat()
                shown = (
                    f"{when} (the payment's date)"
                    if earliest == payment.date
                    else f"{when} (its last change; it cannot be voided before; type a later date beside Void)"
                )
            try:  # a reversal date in a closed period is said now, not after "Yes"
                check_period_open(company=payment.company, date=datetime.date.fromisoformat(when))
            except APIError as exc:
                hint = "" if typed else self.BLANK_VOID_DATE.format(what="earliest day it can take")
                return self.refused(request, exc, self.payment_url(pk), hint=hint)
            entry = payment.journal_entry.number if payment.journal_entry_id else "its entry"
            return confirm_page(
                request,
                self.admin_site,
                obj=payment,
                verb="Void",
                effect=f"Voiding posts a reversal of {entry}: the money no longer counts as received "
                "from the customer, and the payment cannot be allocated again. A payment still "
                "allocated to invoices is refused: unallocate it first.",
                facts=[
                    ("Customer", payment.customer.name),
                    ("Date", payment.date.isoformat()),
                    ("Amount", f"{format_amount(payment.amount, payment.currency)} {payment.currency}"),
                    ("Reversal dated", shown),
                ],
                carry={"void_date": when},
                back_url=self.payment_url(pk),
            )
        try:
            voided = services.payment_void(
                payment=payment, by=request.user, date=_date(request.POST.get("void_date", ""))
            )
        except ValueError:
            messages.error(request, "The void date is not a date (YYYY-MM-DD).")
            return HttpResponseRedirect(self.payment_url(pk))
        except APIError as exc:
            return self.refused(request, exc, self.payment_url(pk))
        return self.done(
            request, f"{voided}: void, reversed by {voided.void_entry.number}.", self.payment_url(pk)
        )


def allocation_rows(request: HttpRequest, open_invoices, filled: dict | None) -> list[dict]:
    """The open invoices' rows of an allocation form: each with its amount due and its input's
    value (as typed; after "Fill oldest first", the plan's amount, blank where it does not reach)."""
    rows = []
    for invoice in open_invoices:
        if filled is not None:
            value = plain_amount(filled[invoice.pk], invoice.currency) if invoice.pk in filled else ""
        else:
            value = request.POST.get(f"allocate-{invoice.pk}", "") if request.method == "POST" else ""
        rows.append(
            {"invoice": invoice, "due": format_amount(invoice.amount_due, invoice.currency), "value": value}
        )
    return rows


def fill_oldest_first(amount: Decimal, currency: str, invoices) -> tuple[dict | None, str]:
    """ "Fill oldest first": the plan (None when nothing can be filled) and what it did, in words:
    how much went to how many invoices and what stays as customer credit, or why nothing."""
    if amount <= 0:
        return (
            None,
            f"The amount ({plain_amount(amount, currency)} {currency}) is not positive: nothing to fill.",
        )
    if not invoices:
        return None, f"The customer has no open invoices in {currency}: nothing to fill."
    plan = services.allocations_oldest_first(amount=amount, invoices=invoices)
    spread = sum(plan.values(), Decimal(0))
    left = amount - spread
    return plan, (
        f"Filled {format_amount(spread, currency)} {currency} over {len(plan)} "
        f"invoice{'s' if len(plan) != 1 else ''}, the oldest due first"
        + (f"; {format_amount(left, currency)} {currency} stays as customer credit." if left else ".")
        + " Nothing is allocated until you confirm."
    )
