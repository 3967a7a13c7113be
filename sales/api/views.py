"""The sales API: customers, items, tax rates, settings, invoices, credit notes, payments.

Thin views: parse with an input serializer, call one service or selector, render. Tenancy and
roles come from CompanyScopedMixin (`actions` maps each method to an Action of
sofinance.permissions); creating POSTs honour Idempotency-Key.
"""

from __future__ import annotations

import django_filters
from django.db.models import F, Q
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView

from audit.models import AuditEvent
from sales import selectors, services
from sales.api import examples
from sales.api import serializers as s
from sales.documents import invoice_document_html
from sales.errors import InvalidInvoice
from sales.models import (
    Allocation,
    CreditNote,
    Customer,
    Invoice,
    InvoiceStatus,
    Item,
    Payment,
    PaymentStatus,
    TaxRate,
)
from sofinance.api.filters import DateOrDateTimeFilter, DateRangeFilterSet, IdFilter, updated_since_filter
from sofinance.api.idempotency import idempotent
from sofinance.api.pagination import EnvelopeCursorPagination
from sofinance.api.schema import DELETED, refusals
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import no_body, ok, query_bool, validated
from sofinance.errors import NotFound, PermissionDenied
from sofinance.permissions import Action, role_can


class ByNamePagination(EnvelopeCursorPagination):
    ordering = ("name", "id")


class ByDatePagination(EnvelopeCursorPagination):
    # Keyset on (date, id), newest first: deep pages cost what the first page costs.
    ordering = ("-date", "-id")


class _Scoped(CompanyScopedMixin, GenericAPIView):
    def context(self) -> dict:
        return {"currency": self.company.currency, "request": self.request}

    def fake(self) -> bool:
        return getattr(self, "swagger_fake_view", False)  # schema generation has no company

    @staticmethod
    def found(obj):
        if obj is None:
            raise NotFound()
        return obj


# --------------------------------------------------------------------------- customers


class CustomerFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Customers whose name, email or tax id contains this (any case)."
    )
    is_active = django_filters.BooleanFilter(help_text="`true`: active customers; `false`: deactivated ones.")
    currency = django_filters.CharFilter(
        method=lambda queryset, name, value: queryset.filter(currency=value.strip().upper()),
        help_text="Customers invoiced in this currency (ISO 4217, any case).",
    )
    updated_since = updated_since_filter("customers")

    class Meta:
        model = Customer
        fields = ["is_active", "currency"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(tax_id__icontains=value)
        )


class CustomerListView(_Scoped):
    serializer_class = s.CustomerOutput
    pagination_class = ByNamePagination
    filterset_class = CustomerFilter
    actions = {"get": Action.SALES_VIEW, "post": Action.CUSTOMERS_MANAGE}

    def get_queryset(self):
        return (
            Customer.objects.none() if self.fake() else selectors.customers_for_company(company=self.company)
        )

    @extend_schema(
        operation_id="companies_customers_list",
        summary="List customers",
        description="The company's customers by name, a page at a time (keyset cursor: follow "
        "`meta.pagination.next`). Filter with `search`, `is_active`, `currency`.",
        responses={200: s.CustomerOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.CustomerOutput(page, many=True).data)

    @extend_schema(
        summary="Create a customer",
        description="`currency` (the currency of their invoices) defaults to the company's; "
        "`payment_terms_days` (0-3650, default 30) sets invoices' due dates; `receivables_account` (id "
        "or code) defaults to the company's receivables account (null). Refused with nothing written: "
        "400 `validation_error` (a missing name, an unknown currency, terms out of range), 422 "
        "`invalid_account` (not an asset account of the company).",
        request=s.CustomerInput,
        responses={
            201: s.CustomerOutput,
            422: refusals("`invalid_account`: the receivables account cannot be used."),
        },
        examples=examples.CUSTOMER_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.CustomerInput, request.data)
        customer = services.customer_create(company=self.company, by=request.user, **data)
        return ok(s.CustomerOutput(customer).data, status=201)


class CustomerDetailView(_Scoped):
    serializer_class = s.CustomerOutput
    actions = {"get": Action.SALES_VIEW, "patch": Action.CUSTOMERS_MANAGE, "delete": Action.CUSTOMERS_MANAGE}

    def customer(self, pk) -> Customer:
        return self.found(selectors.customer_get(company=self.company, pk=int(pk)))

    @extend_schema(
        summary="Get a customer",
        description="One customer of the company.",
        responses={200: s.CustomerOutput},
    )
    def get(self, request, company_id, pk):
        return ok(s.CustomerOutput(self.customer(pk)).data)

    @extend_schema(
        summary="Change a customer",
        description="Change any field. Once the customer has issued invoices or payments its "
        "`receivables_account` no longer changes (409, reason `receivables_account_in_use`); existing "
        "documents keep the currency and terms they were made with.",
        request=s.CustomerUpdateInput,
        responses={
            200: s.CustomerOutput,
            409: refusals("`conflict` (`details.reason` `receivables_account_in_use`)."),
            422: refusals("`invalid_account`: the receivables account cannot be used."),
        },
        examples=examples.CUSTOMER_UPDATE,
    )
    @idempotent
    def patch(self, request, company_id, pk):
        data = validated(s.CustomerUpdateInput, request.data, partial=True)
        customer = services.customer_update(customer=self.customer(pk), by=request.user, **data)
        return ok(s.CustomerOutput(customer).data)

    @extend_schema(
        summary="Delete a customer",
        description="Only a customer without invoices or payments; otherwise 409 (reason `in_use`): "
        "deactivate it with `is_active: false` instead.",
        responses={
            200: DELETED,
            409: refusals("`conflict` (`details.reason` `in_use`): the customer has invoices or payments."),
        },
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.customer_delete(customer=self.customer(pk), by=request.user)
        return ok(None)


# --------------------------------------------------------------------------- tax rates


class TaxRateFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(
        help_text="`true`: rates usable on new lines; `false`: deactivated ones."
    )
    updated_since = updated_since_filter("tax rates")

    class Meta:
        model = TaxRate
        fields = ["is_active"]


class TaxRateListView(_Scoped):
    serializer_class = s.TaxRateOutput
    pagination_class = ByNamePagination
    filterset_class = TaxRateFilter
    actions = {"get": Action.SALES_VIEW, "post": Action.TAX_RATES_MANAGE}

    def get_queryset(self):
        if self.fake():
            return TaxRate.objects.none()
        return selectors.tax_rates_for_company(company=self.company)

    @extend_schema(
        operation_id="companies_tax_rates_list",
        summary="List tax rates",
        description="The company's sales tax rates by name (`?is_active=true` for the usable ones).",
        responses={200: s.TaxRateOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.TaxRateOutput(page, many=True).data)

    @extend_schema(
        summary="Create a tax rate",
        description="`rate` is a percentage string (0-100, up to 4 decimals); `account` (id or code, a "
        "liability) defaults to the company's tax payable account. Active names are unique: 409 "
        "`conflict` (`details.reason` `duplicate_name`). Refused with nothing written: 400 "
        "`validation_error` (a rate outside 0-100), 422 `invalid_account`, `currency_precision` "
        "(more than 4 decimals), `account_not_configured` (no account given and the company has no "
        "`tax_payable` account).",
        request=s.TaxRateInput,
        responses={
            201: s.TaxRateOutput,
            409: refusals("`conflict` (`details.reason` `duplicate_name`): an active rate has this name."),
            422: refusals("`invalid_account`, `currency_precision` or `account_not_configured`."),
        },
        examples=examples.TAX_RATE_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.TaxRateInput, request.data)
        rate = services.tax_rate_create(company=self.company, by=request.user, **data)
        return ok(s.TaxRateOutput(rate).data, status=201)


class TaxRateDetailView(_Scoped):
    serializer_class = s.TaxRateOutput
    actions = {"get": Action.SALES_VIEW, "patch": Action.TAX_RATES_MANAGE, "delete": Action.TAX_RATES_MANAGE}

    def rate(self, pk) -> TaxRate:
        return self.found(selectors.tax_rate_get(company=self.company, pk=int(pk)))

    @extend_schema(
        summary="Get a tax rate", description="One tax rate of the company.", responses={200: s.TaxRateOutput}
    )
    def get(self, request, company_id, pk):
        return ok(s.TaxRateOutput(self.rate(pk)).data)

    @extend_schema(
        summary="Change or deactivate a tax rate",
        description="A rate used by any invoice line keeps its `rate` and `account` for good: changing "
        "them is 409 `tax_rate_in_use`. Deactivate it (`is_active: false`) and create a new rate; "
        "inactive rates cannot be put on new lines (`invalid_tax_rate`).",
        request=s.TaxRateUpdateInput,
        responses={
            200: s.TaxRateOutput,
            409: refusals(
                "`tax_rate_in_use` (its rate or account cannot change), or `conflict` (`details.reason` "
                "`duplicate_name`)."
            ),
            422: refusals("`invalid_account` or `currency_precision`."),
        },
        examples=examples.TAX_RATE_UPDATE,
    )
    @idempotent
    def patch(self, request, company_id, pk):
        data = validated(s.TaxRateUpdateInput, request.data, partial=True)
        rate = services.tax_rate_update(tax_rate=self.rate(pk), by=request.user, **data)
        return ok(s.TaxRateOutput(rate).data)

    @extend_schema(
        summary="Delete a tax rate",
        description="Only a rate nothing uses; a rate on invoice lines is 409 `tax_rate_in_use`, one that "
        "items default to is 409 (reason `in_use`).",
        responses={
            200: DELETED,
            409: refusals(
                "`tax_rate_in_use`, or `conflict` (`details.reason` `in_use`): items default to it."
            ),
        },
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.tax_rate_delete(tax_rate=self.rate(pk), by=request.user)
        return ok(None)


# --------------------------------------------------------------------------- items


class ItemFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Items whose name contains this (any case)."
    )
    is_active = django_filters.BooleanFilter(help_text="`true`: items on sale; `false`: deactivated ones.")
    updated_since = updated_since_filter("items")

    class Meta:
        model = Item
        fields = ["is_active"]


class ItemListView(_Scoped):
    serializer_class = s.ItemOutput
    pagination_class = ByNamePagination
    filterset_class = ItemFilter
    actions = {"get": Action.SALES_VIEW, "post": Action.CUSTOMERS_MANAGE}

    def get_queryset(self):
        return Item.objects.none() if self.fake() else selectors.items_for_company(company=self.company)

    @extend_schema(
        operation_id="companies_items_list",
        summary="List items",
        description="What the company sells, by name (`search`, `is_active`).",
        responses={200: s.ItemOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.ItemOutput(page, many=True).data)

    @extend_schema(
        summary="Create an item",
        description="`unit_price` is in the company's currency (a string at its places; more decimals "
        "is 422 `currency_precision`); `revenue_account` (id or code) defaults to the company's revenue "
        "account; `tax_rate` is the default rate of its invoice lines. Refused with nothing written: "
        "400 `validation_error`, 422 `invalid_account` (not an income account of the company), "
        "`invalid_tax_rate` (unknown or inactive), `currency_precision`, `account_not_configured` (no "
        "account given and the company has no `revenue` account).",
        request=s.ItemInput,
        responses={
            201: s.ItemOutput,
            422: refusals(
                "`invalid_account`, `invalid_tax_rate`, `currency_precision` or `account_not_configured`."
            ),
        },
        examples=examples.ITEM_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.ItemInput, request.data)
        item = services.item_create(company=self.company, by=request.user, **data)
        return ok(s.ItemOutput(item).data, status=201)


class ItemDetailView(_Scoped):
    serializer_class = s.ItemOutput
    actions = {"get": Action.SALES_VIEW, "patch": Action.CUSTOMERS_MANAGE, "delete": Action.CUSTOMERS_MANAGE}

    def item(self, pk) -> Item:
        return self.found(selectors.item_get(company=self.company, pk=int(pk)))

    @extend_schema(
        summary="Get an item", description="One item of the company.", responses={200: s.ItemOutput}
    )
    def get(self, request, company_id, pk):
        return ok(s.ItemOutput(self.item(pk)).data)

    @extend_schema(
        summary="Change an item",
        description="Change any field; fields left out keep their values. Invoices keep the prices, "
        "accounts and rates their lines were made with. Refused like creation (400, 422 "
        "`invalid_account`, `invalid_tax_rate`, `currency_precision`).",
        request=s.ItemUpdateInput,
        responses={
            200: s.ItemOutput,
            422: refusals(
                "`invalid_account`, `invalid_tax_rate`, `currency_precision` or `account_not_configured`."
            ),
        },
    )
    @idempotent
    def patch(self, request, company_id, pk):
        data = validated(s.ItemUpdateInput, request.data, partial=True)
        item = services.item_update(item=self.item(pk), by=request.user, **data)
        return ok(s.ItemOutput(item).data)

    @extend_schema(
        summary="Delete an item",
        description="Only an item on no invoice line; otherwise 409 (reason `in_use`): deactivate it.",
        responses={
            200: DELETED,
            409: refusals("`conflict` (`details.reason` `in_use`): the item is on invoices."),
        },
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.item_delete(item=self.item(pk), by=request.user)
        return ok(None)


# --------------------------------------------------------------------------- settings


class SalesSettingsView(_Scoped):
    serializer_class = s.SalesSettingsOutput
    actions = {"get": Action.SALES_VIEW, "patch": Action.TAX_RATES_MANAGE}

    @extend_schema(
        summary="Get the sales settings",
        description="What invoices print (legal name, address, tax id, contact, payment instructions) "
        "and the account realised exchange differences go to (null: the `fx_gain_loss` account).",
        responses={200: s.SalesSettingsOutput},
    )
    def get(self, request, company_id):
        return ok(s.SalesSettingsOutput(selectors.sales_settings_for(company=self.company)).data)

    @extend_schema(
        summary="Change the sales settings",
        description="Change what invoices print; fields left out keep their values. "
        "`fx_gain_loss_account` is an income or expense account (id or code), or null for the "
        "company's `fx_gain_loss` system account; another account is 422 `invalid_account`.",
        request=s.SalesSettingsInput,
        responses={200: s.SalesSettingsOutput, 422: refusals("`invalid_account`.")},
        examples=examples.SETTINGS_UPDATE,
    )
    @idempotent
    def patch(self, request, company_id):
        data = validated(s.SalesSettingsInput, request.data, partial=True)
        current = services.sales_settings_update(company=self.company, by=request.user, **data)
        return ok(s.SalesSettingsOutput(current).data)


# --------------------------------------------------------------------------- invoices


class InvoiceFilter(DateRangeFilterSet):
    """`from` / `to` on the invoice date (DateRangeFilterSet) and the filters below."""

    status = django_filters.ChoiceFilter(
        choices=InvoiceStatus.choices,
        help_text="`draft`, `issued`, `partially_paid`, `paid` or `void`.",
    )
    customer = IdFilter(field_name="customer", help_text="The customer's id.")
    number = django_filters.CharFilter(help_text="The invoice with this number, e.g. `INV-2026-000042`.")
    reference = django_filters.CharFilter(help_text="Invoices whose `reference` is exactly this.")
    currency = django_filters.CharFilter(
        method=lambda queryset, name, value: queryset.filter(currency=value.strip().upper()),
        help_text="Invoices in this currency (ISO 4217, any case).",
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        help_text="`true`: issued or partly paid and past their due date; `false`: the others.",
    )
    updated_since = updated_since_filter("invoices")

    class Meta:
        model = Invoice
        fields = ["status", "number", "reference", "currency"]

    def filter_overdue(self, queryset, name, value):
        overdue = Q(
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID], due_date__lt=timezone.localdate()
        )
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class _InvoiceMixin(_Scoped):
    def invoice(self, pk) -> Invoice:
        return self.found(selectors.invoice_get(company=self.company, pk=int(pk)))

    def render_invoice(self, invoice: Invoice, status: int = 200):
        fresh = selectors.invoice_get(company=self.company, pk=invoice.pk)
        return ok(s.InvoiceOutput(fresh, context=self.context()).data, status=status)


class InvoiceListView(_InvoiceMixin):
    serializer_class = s.InvoiceOutput
    pagination_class = ByDatePagination
    filterset_class = InvoiceFilter
    actions = {"get": Action.SALES_VIEW, "post": Action.INVOICES_DRAFT}

    def get_queryset(self):
        return Invoice.objects.none() if self.fake() else selectors.invoices_for_company(company=self.company)

    @extend_schema(
        operation_id="companies_invoices_list",
        summary="List invoices",
        description="Newest first, a page at a time (keyset cursor: follow `meta.pagination.next`). "
        "Filters: `status`, `customer`, `from`/`to` (invoice date), `number`, `reference`, `currency`, "
        "`overdue=true`. `date_from` / `date_to` are not filters: sending them is 400.",
        responses={200: s.InvoiceOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.InvoiceOutput(page, many=True, context=self.context()).data)

    @extend_schema(
        summary="Create an invoice (draft, or issued at once)",
        description='Clerks create drafts; with `"issue": true` (accountants) it is issued in the same '
        "request. Each line gives an `item` (its name, price, revenue account and tax rate are the "
        "defaults) or a `description` and `unit_price`; `quantity` (positive), `discount` (percent), "
        "`tax_rate` (id; omitted: the item's; null: none), `account` (revenue account id or code).\n\n"
        "Rounding: each line's net is quantity × price less discount, rounded half-up to the currency's "
        "places, and its tax is net × rate rounded the same way; the totals are the sums of the lines. "
        "`currency` defaults to the customer's (an item's price is in the company's currency, so a "
        "foreign-currency line gives its own `unit_price`); `due_date` to the date plus the customer's "
        "terms.\n\nRefused with nothing written: `validation_error` (negative quantity, bad shapes), "
        "`invalid_customer` (unknown, another company's or inactive), `invalid_item`, `invalid_tax_rate` "
        "(unknown or inactive), `invalid_account`, `currency_precision`; when issuing also "
        '`missing_exchange_rate`, `period_closed`. Clerks may create drafts only: `"issue": true` '
        "needs a role that may issue (403 otherwise).",
        request=s.InvoiceCreateInput,
        responses={
            201: s.InvoiceOutput,
            422: refusals(
                "`invalid_customer`, `invalid_item`, `invalid_tax_rate`, `invalid_account`, "
                "`currency_precision`, `account_not_configured`; when issuing also "
                "`missing_exchange_rate`, `period_closed`."
            ),
        },
        examples=examples.INVOICE_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.InvoiceCreateInput, request.data)
        if data["issue"] and not role_can(self.membership.role, Action.INVOICES_ISSUE):
            raise PermissionDenied(
                f"Your role ({self.membership.role}) may draft invoices but not issue them."
            )
        invoice = services.invoice_create(
            company=self.company,
            customer=data["customer"],
            date=data["date"],
            due_date=data.get("due_date"),
            currency=data.get("currency") or None,
            fx_rate=data.get("fx_rate"),
            reference=data["reference"],
            notes=data["notes"],
            lines=[dict(line) for line in data["lines"]],
            issue=data["issue"],
            by=request.user,
        )
        return self.render_invoice(invoice, status=201)


class InvoiceDetailView(_InvoiceMixin):
    serializer_class = s.InvoiceOutput
    actions = {"get": Action.SALES_VIEW, "patch": Action.INVOICES_DRAFT, "delete": Action.INVOICES_DRAFT}

    @extend_schema(
        summary="Get an invoice",
        description="One invoice with its lines, amounts paid and due.",
        responses={200: s.InvoiceOutput},
    )
    def get(self, request, company_id, pk):
        return ok(s.InvoiceOutput(self.invoice(pk), context=self.context()).data)

    @extend_schema(
        summary="Change a draft invoice",
        description="Drafts only: an issued invoice is 409 `invoice_immutable` (credit or void it). "
        "`lines`, when given, replace all lines. The due date follows the date and the customer's "
        "terms unless given.",
        request=s.InvoiceUpdateInput,
        responses={
            200: s.InvoiceOutput,
            409: refusals("`invoice_immutable`: the invoice is issued or void."),
            422: refusals(
                "`invalid_customer`, `invalid_item`, `invalid_tax_rate`, `invalid_account`, "
                "`currency_precision`."
            ),
        },
        examples=examples.INVOICE_UPDATE,
    )
    @idempotent
    def patch(self, request, company_id, pk):
        data = validated(s.InvoiceUpdateInput, request.data, partial=True)
        if "lines" in data:
            data["lines"] = [dict(line) for line in data["lines"]]
        invoice = services.invoice_update(invoice=self.invoice(pk), by=request.user, **data)
        return self.render_invoice(invoice)

    @extend_schema(
        summary="Delete a draft invoice",
        description="Drafts only (they have no number and touched no books); an issued invoice is 409 "
        "`invoice_immutable`: void it.",
        responses={200: DELETED, 409: refusals("`invoice_immutable`: the invoice is issued or void.")},
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.invoice_delete(invoice=self.invoice(pk), by=request.user)
        return ok(None)


class InvoiceIssueView(_InvoiceMixin):
    serializer_class = s.InvoiceOutput
    actions = {"post": Action.INVOICES_ISSUE}

    @extend_schema(
        summary="Issue a draft invoice",
        description="Numbers the invoice (`INV-<year>-<NNNNNN>`, gapless per "
        "company) and posts, dated the invoice date, Dr receivables / Cr revenue per account / Cr tax "
        "payable per rate (`journal_entry`). A foreign currency is converted at the draft's `fx_rate` or "
        "the stored rate for the date (`missing_exchange_rate` when none). Refused with nothing "
        "written and the number given back: `invalid_customer` / `invalid_tax_rate` (deactivated since), "
        "`period_closed`, `invalid_account`; an issued invoice is 409 `invoice_immutable`. No body.",
        request=None,
        responses={
            200: s.InvoiceOutput,
            409: refusals("`invoice_immutable`: already issued or void."),
            422: refusals(
                "`invalid_customer`, `invalid_tax_rate`, `invalid_account`, `missing_exchange_rate`, "
                "`period_closed`, `account_not_configured`."
            ),
        },
        examples=examples.INVOICE_ISSUE,
    )
    @idempotent
    @no_body
    def post(self, request, company_id, pk):
        invoice = services.invoice_issue(invoice=self.invoice(pk), by=request.user)
        return self.render_invoice(invoice)


class InvoiceVoidView(_InvoiceMixin):
    serializer_class = s.InvoiceOutput
    actions = {"post": Action.INVOICES_VOID}

    @extend_schema(
        summary="Void an issued invoice",
        description="Posts the reversal of the invoice's entry, dated like the "
        "invoice unless `date` is given (never before anything that happened to it: "
        "`date_out_of_order`). Refused while payments are allocated to it (`invoice_has_allocations`: "
        "unallocate them first) or when it has credit notes (`invoice_has_credit_notes`). A void "
        "invoice is 409 (reason `already_void`).",
        request=s.DateInput,
        responses={
            200: s.InvoiceOutput,
            409: refusals("`conflict` (`details.reason` `already_void`)."),
            422: refusals(
                "`invoice_not_open` (a draft), `invoice_has_allocations`, `invoice_has_credit_notes`, "
                "`date_out_of_order`, `period_closed`."
            ),
        },
        examples=examples.INVOICE_VOID,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.DateInput, request.data or {})
        invoice = services.invoice_void(invoice=self.invoice(pk), by=request.user, date=data.get("date"))
        return self.render_invoice(invoice)


class InvoiceDocumentView(_InvoiceMixin):
    actions = {"get": Action.SALES_VIEW}

    @extend_schema(
        operation_id="companies_invoices_document",
        summary="The printable invoice (HTML)",
        description="The invoice as a self-contained HTML page with print CSS (A4): company and customer "
        "details, lines, tax summary, totals, amount due, due date and payment instructions. Open it "
        "in a browser and print, or print it to PDF. Drafts carry a DRAFT watermark.",
        responses={(200, "text/html"): OpenApiTypes.STR},
    )
    def get(self, request, company_id, pk):
        invoice = self.invoice(pk)
        response = HttpResponse(invoice_document_html(invoice), content_type="text/html; charset=utf-8")
        name = invoice.number or f"draft-{invoice.pk}"
        response["Content-Disposition"] = f'inline; filename="{name}.html"'
        return response


# --------------------------------------------------------------------------- credit notes


class CreditNoteFilter(DateRangeFilterSet):
    """`from` / `to` on the credit note's date (DateRangeFilterSet) and the filters below."""

    invoice = IdFilter(field_name="invoice", help_text="Credit notes of this invoice id.")
    customer = IdFilter(field_name="customer", help_text="Credit notes of this customer id.")
    number = django_filters.CharFilter(help_text="The credit note with this number, e.g. `CN-2026-000003`.")
    updated_since = DateOrDateTimeFilter(
        field_name="created_at",
        help_text="Only the credit notes created at or after this ISO 8601 date-time (no zone: UTC) or "
        "day (YYYY-MM-DD: from its start, UTC), for keeping a copy in sync: a credit note never "
        "changes once created, so this is when it was created, whatever its `date` (a back-dated "
        "one included). Ask from a little before your previous sync began (a minute).",
    )

    class Meta:
        model = CreditNote
        fields = ["number"]


class CreditNoteListView(_Scoped):
    serializer_class = s.CreditNoteOutput
    pagination_class = ByDatePagination
    filterset_class = CreditNoteFilter
    actions = {"get": Action.SALES_VIEW, "post": Action.INVOICES_ISSUE}

    def get_queryset(self):
        return (
            CreditNote.objects.none()
            if self.fake()
            else selectors.credit_notes_for_company(company=self.company)
        )

    @extend_schema(
        operation_id="companies_credit_notes_list",
        summary="List credit notes",
        description="Newest first, a page at a time (keyset cursor). Filters: `invoice`, `customer`, "
        "`from`/`to` (the credit note's date), `number`.",
        responses={200: s.CreditNoteOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.CreditNoteOutput(page, many=True, context=self.context()).data)

    @extend_schema(
        summary="Credit an issued invoice",
        description="Credits `lines` (`[{invoice_line, quantity}]`) or, omitted, "
        "everything left to credit; numbered `CN-<year>-<NNNNNN>`; posts the mirror of the invoice's "
        "entry (Dr revenue, Dr tax, Cr receivables) at the invoice's rate, dated `date` (default "
        "today, never before the invoice), and reduces what is due.\n\nNever more than is left: above a "
        "line's uncredited quantity or the invoice's amount due is 422 `credit_exceeds_remaining` (to "
        "credit a paid invoice, unallocate its payment first: it stays as customer credit). A draft or "
        "void invoice is `invoice_not_open`; another company's invoice `invalid_invoice`; a date before "
        "the invoice `date_out_of_order`; a date in a closed period `period_closed`.",
        request=s.CreditNoteCreateInput,
        responses={
            201: s.CreditNoteOutput,
            422: refusals(
                "`credit_exceeds_remaining`, `invoice_not_open`, `invalid_invoice`, `date_out_of_order`, "
                "`period_closed`."
            ),
        },
        examples=examples.CREDIT_NOTE_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.CreditNoteCreateInput, request.data)
        invoice = selectors.invoice_get(company=self.company, pk=data["invoice"])
        if invoice is None:
            raise InvalidInvoice(
                f"Invoice {data['invoice']} does not exist in this company.",
                details={"invoice": [data["invoice"]]},
            )
        credit = services.credit_note_create(
            invoice=invoice,
            by=request.user,
            date=data.get("date"),
            reason=data["reason"],
            lines=[dict(line) for line in data["lines"]] if "lines" in data else None,
        )
        fresh = selectors.credit_note_get(company=self.company, pk=credit.pk)
        return ok(s.CreditNoteOutput(fresh, context=self.context()).data, status=201)


class CreditNoteDetailView(_Scoped):
    serializer_class = s.CreditNoteOutput
    actions = {"get": Action.SALES_VIEW}

    @extend_schema(
        summary="Get a credit note",
        description="One credit note with its lines.",
        responses={200: s.CreditNoteOutput},
    )
    def get(self, request, company_id, pk):
        credit = self.found(selectors.credit_note_get(company=self.company, pk=int(pk)))
        return ok(s.CreditNoteOutput(credit, context=self.context()).data)


# --------------------------------------------------------------------------- payments


class PaymentFilter(DateRangeFilterSet):
    """`from` / `to` on the payment date (DateRangeFilterSet) and the filters below."""

    customer = IdFilter(field_name="customer", help_text="Payments of this customer id.")
    status = django_filters.ChoiceFilter(choices=PaymentStatus.choices, help_text="`posted` or `void`.")
    number = django_filters.CharFilter(help_text="The payment with this number, e.g. `PAY-2026-000017`.")
    reference = django_filters.CharFilter(help_text="Payments whose `reference` is exactly this.")
    updated_since = updated_since_filter("payments")
    unallocated = django_filters.BooleanFilter(
        method="filter_unallocated",
        help_text="`true`: posted payments with customer credit left to allocate; `false`: the others.",
    )

    class Meta:
        model = Payment
        fields = ["status", "number", "reference"]

    def filter_unallocated(self, queryset, name, value):
        left = Q(status=PaymentStatus.POSTED, amount_allocated__lt=F("amount"))
        return queryset.filter(left) if value else queryset.exclude(left)


class _PaymentMixin(_Scoped):
    def payment(self, pk) -> Payment:
        return self.found(selectors.payment_get(company=self.company, pk=int(pk)))

    def render_payment(self, payment: Payment, status: int = 200):
        fresh = selectors.payment_get(company=self.company, pk=payment.pk)
        return ok(s.PaymentOutput(fresh, context=self.context()).data, status=status)


class PaymentListView(_PaymentMixin):
    serializer_class = s.PaymentOutput
    pagination_class = ByDatePagination
    filterset_class = PaymentFilter
    actions = {"get": Action.SALES_VIEW, "post": Action.PAYMENTS_RECORD}

    def get_queryset(self):
        return Payment.objects.none() if self.fake() else selectors.payments_for_company(company=self.company)

    @extend_schema(
        operation_id="companies_payments_list",
        summary="List payments",
        description="Newest first, a page at a time (keyset cursor). Filters: `customer`, `status`, "
        "`from`/`to` (the payment date), `number`, `reference`, `unallocated=true` (payments with "
        "customer credit left).",
        responses={200: s.PaymentOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.PaymentOutput(page, many=True, context=self.context()).data)

    @extend_schema(
        summary="Record a payment",
        description="Posts Dr the deposit `account` (default: the company's bank "
        "account) / Cr receivables, dated the payment, numbered `PAY-<year>-<NNNNNN>`, and allocates it "
        "to `allocations` (open invoices of the same customer and currency, dated on or before the "
        "payment). What is not allocated stays as customer credit (`unallocated`), allocated later with "
        "`…/payments/{id}/allocations`.\n\nA foreign-currency payment is converted at `fx_rate` or the "
        "stored rate; settling an invoice issued at another rate posts the realised exchange "
        "difference to the exchange gains and losses account in the same entry.\n\nRefused with nothing "
        "written: `over_allocation` (more than an invoice has due or than the payment), "
        "`invoice_not_open` (draft, void or paid), `currency_mismatch`, `invalid_invoice` (another "
        "customer's or company's), `invalid_customer`, `invalid_account`, `currency_precision`, "
        "`missing_exchange_rate`, `date_out_of_order`, `period_closed`.",
        request=s.PaymentCreateInput,
        responses={
            201: s.PaymentOutput,
            422: refusals(
                "`over_allocation`, `invoice_not_open`, `currency_mismatch`, `invalid_invoice`, "
                "`invalid_customer`, `invalid_account`, `currency_precision`, `missing_exchange_rate`, "
                "`date_out_of_order`, `period_closed`."
            ),
        },
        examples=examples.PAYMENT_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.PaymentCreateInput, request.data)
        payment = services.payment_record(
            company=self.company,
            customer=data["customer"],
            date=data["date"],
            amount=data["amount"],
            currency=data.get("currency") or None,
            account=data.get("account"),
            method=data["method"],
            reference=data["reference"],
            notes=data["notes"],
            fx_rate=data.get("fx_rate"),
            allocations=[dict(a) for a in data["allocations"]],
            by=request.user,
        )
        return self.render_payment(payment, status=201)


class PaymentDetailView(_PaymentMixin):
    serializer_class = s.PaymentOutput
    actions = {"get": Action.SALES_VIEW}

    @extend_schema(
        summary="Get a payment",
        description="One payment with its active allocations.",
        responses={200: s.PaymentOutput},
    )
    def get(self, request, company_id, pk):
        return ok(s.PaymentOutput(self.payment(pk), context=self.context()).data)


class PaymentVoidView(_PaymentMixin):
    serializer_class = s.PaymentOutput
    actions = {"post": Action.PAYMENTS_RECORD}

    @extend_schema(
        summary="Void a payment",
        description="For a payment recorded by mistake: posts its receipt back, dated like the payment "
        "unless `date` is given. Refused while it is allocated (`payment_has_allocations`: unallocate "
        "first); a void payment is 409 (reason `already_void`); a date before the payment is "
        "`date_out_of_order`, one in a closed period `period_closed`.",
        request=s.DateInput,
        responses={
            200: s.PaymentOutput,
            409: refusals("`conflict` (`details.reason` `already_void`)."),
            422: refusals("`payment_has_allocations`, `date_out_of_order` or `period_closed`."),
        },
        examples=examples.PAYMENT_VOID,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.DateInput, request.data or {})
        payment = services.payment_void(payment=self.payment(pk), by=request.user, date=data.get("date"))
        return self.render_payment(payment)


class AllocationListView(_PaymentMixin):
    serializer_class = s.AllocationOutput
    queryset = Allocation.objects.none()  # names the model for the schema; reads go through selectors
    pagination_class = None
    actions = {"get": Action.SALES_VIEW, "post": Action.PAYMENTS_RECORD}

    @extend_schema(
        operation_id="companies_payments_allocations_list",
        summary="List a payment's allocations",
        description="Its active allocations; `?include_removed=true` adds the unallocated ones (with "
        "`unallocated_on`), which reports as of earlier dates still count.",
        parameters=[
            OpenApiParameter(
                "include_removed", bool, description="`true`: also the allocations taken back since."
            )
        ],
        responses={200: s.AllocationOutput(many=True)},
    )
    def get(self, request, company_id, pk):
        include = query_bool(request, "include_removed")
        allocations = selectors.allocations_of_payment(payment=self.payment(pk), include_removed=include)
        return ok(s.AllocationOutput(allocations, many=True, context=self.context()).data)

    @extend_schema(
        summary="Allocate customer credit",
        description="Allocate what is left of a payment to open invoices of its customer and currency. "
        "All allocations of the request share one `date` (default: the latest of the payment's and "
        "the invoices' dates), never in a closed or locked period (`period_closed`, with or without an "
        "exchange difference: the AR aging as of that period would change). Exchange differences "
        "post in one entry. Refused like recording a "
        "payment (`over_allocation`, `invoice_not_open`, `currency_mismatch`, `invalid_invoice`, "
        "`date_out_of_order`, `period_closed`); a void payment is 409 (`already_void`). Answers 201 "
        "with the payment.",
        request=s.AllocateInput,
        responses={
            201: s.PaymentOutput,
            409: refusals("`conflict` (`details.reason` `already_void`): the payment is void."),
            422: refusals(
                "`over_allocation`, `invoice_not_open`, `currency_mismatch`, `invalid_invoice`, "
                "`currency_precision`, `date_out_of_order`, `period_closed`."
            ),
        },
        examples=examples.ALLOCATE,
    )
    @idempotent
    def post(self, request, company_id, pk):
        data = validated(s.AllocateInput, request.data)
        payment = self.payment(pk)
        services.payment_allocate(
            payment=payment,
            allocations=[dict(a) for a in data["allocations"]],
            by=request.user,
            date=data.get("date"),
        )
        return self.render_payment(payment, status=201)


class AllocationRemoveView(_PaymentMixin):
    serializer_class = s.PaymentOutput
    actions = {"post": Action.PAYMENTS_RECORD}

    @extend_schema(
        summary="Unallocate",
        description="Take an allocation back: the amount returns to the invoice's amount due and the "
        "payment's credit from `date` (default today, never before the allocation). The allocation is "
        "kept with its `unallocated_on`, so reports as of earlier dates still see it; an exchange "
        "difference it posted is posted back. A removed allocation is 409 (`already_unallocated`). "
        "Answers with the payment. A date before the allocation is `date_out_of_order`; a date in a "
        "closed or locked period is `period_closed`, whether or not an exchange difference is posted.",
        request=s.DateInput,
        responses={
            200: s.PaymentOutput,
            409: refusals("`conflict` (`details.reason` `already_unallocated`)."),
            422: refusals("`date_out_of_order` or `period_closed`."),
        },
        examples=examples.UNALLOCATE,
    )
    @idempotent
    def post(self, request, company_id, pk, allocation_id):
        data = validated(s.DateInput, request.data or {})
        payment = self.payment(pk)
        allocation = self.found(selectors.allocation_get(payment=payment, pk=int(allocation_id)))
        services.allocation_remove(allocation=allocation, by=request.user, date=data.get("date"))
        return self.render_payment(payment)


# --------------------------------------------------------------------------- syncing: deletions


class DeletionFilter(django_filters.FilterSet):
    since = DateOrDateTimeFilter(
        field_name="created_at",
        help_text="Only deletions at or after this ISO 8601 date-time (no zone: UTC) or day (YYYY-MM-DD, "
        "from its start, UTC): the `updated_since` of your sync.",
    )
    type = django_filters.ChoiceFilter(
        choices=[(name, name) for name in selectors.DELETABLE_TYPES.values()],
        method="filter_type",
        help_text="Only deletions of this kind of record.",
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_type(self, queryset, name, value):
        labels = [label for label, kind in selectors.DELETABLE_TYPES.items() if kind == value]
        return queryset.filter(object_type__in=labels)


class DeletionListView(_Scoped):
    serializer_class = s.DeletionOutput
    pagination_class = EnvelopeCursorPagination
    filterset_class = DeletionFilter
    actions = {"get": Action.SALES_VIEW}

    def get_queryset(self):
        if self.fake():
            return AuditEvent.objects.none()
        return selectors.deletions_for_company(company_id=self.company.pk)

    @extend_schema(
        operation_id="companies_sales_deletions_list",
        summary="List deleted sales records",
        description="What a synced copy removes: every customer, item, tax rate and draft invoice deleted, "
        "newest first, a page at a time (keyset cursor), with the id it had and when. Ask with `since` "
        "set as for `updated_since` on the lists (a little before your previous sync began). Payments and "
        "issued documents are never deleted: they are voided, which their lists show with `updated_since`.",
        responses={200: s.DeletionOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.DeletionOutput(page, many=True).data)
