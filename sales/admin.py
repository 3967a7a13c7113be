"""Admin for sales: customers, items, tax rates, settings, invoices, credit notes and payments.

Thin: drafts are validated by the sales services' own checks while the form is cleaned (lines by
`invoice_lines_build`), and every write goes through a service: invoice_create/update/delete/
issue/void, credit_note_create, payment_record/allocate/void, allocation_remove, customer_*,
item_*, tax_rate_*, sales_settings_update. Issued invoices, credit notes and payments are
read-only. The pages that are not a model's own form (record a payment with the customer's open
invoices, allocate credit, credit an invoice, the printable invoice) are in sales.admin_views;
the AR aging, customer statement and sales summary pages in sales.admin_reports, mounted under
the customers (/admin/sales/customer/reports/...).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.models import Account, Company
from ledger.models import JournalLine
from sales import selectors, services
from sales.admin_dashboard import register_panels as register_dashboard_panels
from sales.admin_links import sales_documents_of_entries
from sales.admin_reports import SalesReportPages
from sales.admin_views import SalesDocumentPages
from sales.amounts import format_percent
from sales.models import (
    Allocation,
    CreditNote,
    CreditNoteLine,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Item,
    Payment,
    PaymentStatus,
    SalesSettings,
    TaxRate,
)
from sales.postings import ACCOUNT_TYPES_FOR, ROLES_REFUSED_FOR
from sales.services.master_data import CUSTOMER_FIELDS, ITEM_FIELDS, SETTINGS_FIELDS, TAX_RATE_FIELDS
from sofinance import admin_links, admin_menu
from sofinance.admin import (
    ChoicesWithoutDeleteMixin,
    CompanyScopedAdmin,
    DateFormField,
    DecimalFormField,
    QuarantineMarkerAdmin,
    QuarantineWarningAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    ServiceModelForm,
    admin_can,
    admin_companies,
    admin_may,
    adopt,
)
from sofinance.admin_menu import Section
from sofinance.display import display_amount as format_amount
from sofinance.errors import APIError
from sofinance.errors import PermissionDenied as RoleDenied
from sofinance.money import currency_exponent
from sofinance.permissions import Action


def entry_link(entry) -> str:
    if entry is None:
        return "—"
    url = reverse("admin:ledger_journalentry_change", args=[entry.pk])
    return format_html('<a href="{}">{}</a>', url, entry.number or f"#{entry.pk}")


def scoped_accounts(request, action: Action, purpose: str | None = None):
    """The accounts of the companies `action` is allowed in; with `purpose` (sales.postings'
    ACCOUNT_TYPES_FOR: revenue, tax, receivables, deposit, fx) only those the service takes for
    it (active leaves of its types), so a choice is never one refused on saving."""
    allowed = admin_companies(request, action)
    queryset = Account.objects.select_related("company").order_by("company_id", "path")
    queryset = queryset.filter(company_id__in=allowed)
    if purpose is not None:
        queryset = queryset.filter(is_active=True, children__isnull=True, type__in=ACCOUNT_TYPES_FOR[purpose])
        queryset = queryset.exclude(system_role__in=list(ROLES_REFUSED_FOR.get(purpose, ())))
    if purpose == "receivables":
        # Accounts holding receivables already, or new ones: never a bank or cash account with
        # its own postings (the service refuses those too).
        held: set[int] = set()
        for company in Company.objects.filter(pk__in=allowed):
            held |= selectors.receivables_account_ids(company)
        queryset = queryset.filter(
            Q(pk__in=held) | ~Exists(JournalLine.objects.filter(account=OuterRef("pk")))
        )
    return queryset


# What each account field of the master data is for (the service checks the same).
ACCOUNT_FIELD_PURPOSES = {
    "receivables_account": "receivables",
    "revenue_account": "revenue",
    "account": "tax",  # a tax rate's
    "fx_gain_loss_account": "fx",
}


class _MasterDataAdmin(ServiceAdmin, CompanyScopedAdmin):
    """Create and change through `create(...)` / `update(...)`; delete through `delete(...)`."""

    fields_for_service: tuple[str, ...] = ()
    view_action = Action.SALES_VIEW

    def get_readonly_fields(self, request, obj=None):
        return ["company"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Account:
            kwargs["queryset"] = scoped_accounts(
                request, self.manage_action, ACCOUNT_FIELD_PURPOSES.get(db_field.name)
            )
        elif db_field.related_model is TaxRate:
            allowed = admin_companies(request, self.manage_action)
            rates = (
                TaxRate.objects.filter(is_active=True)
                .select_related("company")
                .order_by("company_id", "name")
            )
            kwargs["queryset"] = rates.filter(company_id__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        with self.refusal_as_form_error():
            if change:
                changes = {
                    name: data.get(name) for name in form.changed_data if name in self.fields_for_service
                }
                saved = self.update(obj, request.user, changes) if changes else obj
            else:
                values = {name: data.get(name) for name in self.fields_for_service if name in data}
                saved = self.create(data["company"], request.user, values)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        with self.refusal_as_form_error():
            self.delete(obj, request.user)

    def create(self, company, by, values: dict[str, Any]):  # pragma: no cover - overridden
        raise NotImplementedError

    def update(self, obj, by, changes: dict[str, Any]):  # pragma: no cover - overridden
        raise NotImplementedError

    def delete(self, obj, by) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @admin.action(description="Deactivate selected", permissions=["change"])
    def deactivate(self, request, queryset: QuerySet):
        self.report_each(
            request,
            [obj for obj in queryset.order_by("pk") if self._may_manage(request, obj)],
            lambda obj: self.update(obj, request.user, {"is_active": False}),
            success=lambda obj, _: f"{obj}: deactivated.",
        )


# --------------------------------------------------------------------------- customers


class CustomerForm(ServiceModelForm):
    currency = forms.CharField(required=False, max_length=3, help_text="Blank: the company's currency.")

    class Meta:
        model = Customer
        fields = ["company", *CUSTOMER_FIELDS]

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()


@admin.register(Customer)
class CustomerAdmin(QuarantineWarningAdmin, _MasterDataAdmin):
    form = CustomerForm
    manage_action = Action.CUSTOMERS_MANAGE
    fields_for_service = CUSTOMER_FIELDS
    list_display = ["name", "email", "currency", "payment_terms_days", "is_active", "company"]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "is_active", "currency"]
    list_select_related = ["company"]
    search_fields = ["name", "email", "tax_id"]
    ordering = ["company", "name"]
    actions = ["deactivate"]
    change_form_template = "admin/sales/customer/change_form.html"

    def create(self, company, by, values):
        return services.customer_create(company=company, by=by, **values)

    def update(self, obj, by, changes):
        return services.customer_update(customer=obj, by=by, **changes)

    def delete(self, obj, by):
        services.customer_delete(customer=obj, by=by)

    def get_urls(self):
        """The sales report pages (sales.admin_reports) live beside the customers they report on."""
        return [*SalesReportPages(self.admin_site).urls(), *super().get_urls()]


# --------------------------------------------------------------------------- tax rates and items


class TaxRateForm(ServiceModelForm):
    class Meta:
        model = TaxRate
        fields = ["company", *TAX_RATE_FIELDS]


@admin.register(TaxRate)
class TaxRateAdmin(_MasterDataAdmin):
    """A rate used by invoices keeps its rate and account: deactivate it and add a new one."""

    form = TaxRateForm
    manage_action = Action.TAX_RATES_MANAGE
    fields_for_service = TAX_RATE_FIELDS
    list_display = ["name", "rate_shown", "account", "is_active", "company"]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "is_active"]
    list_select_related = ["company", "account"]
    search_fields = ["name"]
    ordering = ["company", "name"]
    actions = ["deactivate"]

    @admin.display(description="rate")
    def rate_shown(self, obj: TaxRate) -> str:
        return f"{format_percent(obj.rate)}%"

    def create(self, company, by, values):
        return services.tax_rate_create(company=company, by=by, **values)

    def update(self, obj, by, changes):
        return services.tax_rate_update(tax_rate=obj, by=by, **changes)

    def delete(self, obj, by):
        services.tax_rate_delete(tax_rate=obj, by=by)


class ItemForm(ServiceModelForm):
    class Meta:
        model = Item
        fields = ["company", *ITEM_FIELDS]


@admin.register(Item)
class ItemAdmin(_MasterDataAdmin):
    form = ItemForm
    manage_action = Action.CUSTOMERS_MANAGE
    fields_for_service = ITEM_FIELDS
    list_display = ["name", "price", "revenue_account", "tax_rate", "is_active", "company"]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "is_active"]
    list_select_related = ["company", "revenue_account", "tax_rate"]
    search_fields = ["name", "description"]
    ordering = ["company", "name"]
    actions = ["deactivate"]

    @admin.display(description="unit price")
    def price(self, obj: Item) -> str:
        return format_amount(obj.unit_price, obj.company.currency)

    def create(self, company, by, values):
        return services.item_create(company=company, by=by, **values)

    def update(self, obj, by, changes):
        return services.item_update(item=obj, by=by, **changes)

    def delete(self, obj, by):
        services.item_delete(item=obj, by=by)


class SalesSettingsForm(ServiceModelForm):
    class Meta:
        model = SalesSettings
        fields = ["company", *SETTINGS_FIELDS]


@admin.register(SalesSettings)
class SalesSettingsAdmin(_MasterDataAdmin):
    """What invoices print and where exchange differences go, one row per company."""

    form = SalesSettingsForm
    manage_action = Action.TAX_RATES_MANAGE
    fields_for_service = SETTINGS_FIELDS
    list_display = ["company", "legal_name", "tax_id", "fx_gain_loss_account"]
    list_select_related = ["company", "fx_gain_loss_account"]
    actions: list = []

    def create(self, company, by, values):
        return services.sales_settings_update(company=company, by=by, **values)

    def update(self, obj, by, changes):
        return services.sales_settings_update(company=obj.company, by=by, **changes)

    def has_delete_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- invoices


class InvoiceLineForm(ServiceModelForm):
    """One line as typed: an item, or a description and a price; the rest defaults from the item."""

    quantity = DecimalFormField(required=False)
    unit_price = DecimalFormField(required=False, help_text="Blank: the item's price.")
    discount = DecimalFormField(required=False, label="Discount %", help_text="Percent.")
    description = forms.CharField(required=False, max_length=500)
    no_tax = forms.BooleanField(
        required=False, label="no tax", help_text="Untaxed even if the item has a rate."
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "item",
            "description",
            "quantity",
            "unit_price",
            "discount",
            "tax_rate",
            "no_tax",
            "account",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("account", "tax_rate", "item"):
            if name in self.fields:  # absent when the invoice is issued (read-only lines)
                self.fields[name].required = False
        line = self.instance
        if line.pk is not None:
            # "10", not "10.0000" nor normalize()'s "1E+1" (which the live totals cannot read)
            self.initial["quantity"] = _plain(line.quantity)
            self.initial["unit_price"] = _price(
                line.unit_price, line.invoice.currency if line.invoice_id else ""
            )
            self.initial["discount"] = _plain(line.discount) if line.discount else None
            self.initial["no_tax"] = line.tax_rate_id is None


def _plain(value: Decimal) -> str:
    """A stored number as a person writes it: no trailing zeros, never an exponent."""
    return format(value.normalize(), "f")


def _price(value: Decimal, currency: str) -> str:
    """A stored price as a person writes it: the currency's places at least ("150.00", not "150"),
    more when it has them ("12.345"); never an exponent."""
    plain = _plain(value)
    places = len(plain.partition(".")[2])
    wanted = max(places, currency_exponent(currency)) if currency else places
    return format(value.quantize(Decimal(1).scaleb(-wanted)), "f")


class InvoiceLineFormSet(forms.BaseInlineFormSet):
    """Validates the lines with the service's own builder before anything is written; per-line
    problems land on their fields. `service_lines` holds them for invoice_create/update."""

    service_lines: list[dict[str, Any]]

    def clean(self) -> None:
        super().clean()
        self.service_lines = []
        if any(self.errors):
            return
        line_forms = []
        for form in self.forms:
            if not form.cleaned_data or (self.can_delete and self._should_delete_form(form)):
                continue
            data = form.cleaned_data
            line: dict[str, Any] = {
                "item": data["item"].pk if data.get("item") else None,
                "description": data.get("description") or "",
                "quantity": data.get("quantity"),
                "unit_price": data.get("unit_price"),
                "discount": data.get("discount"),
                "account": data["account"].pk if data.get("account") else None,
            }
            if data.get("no_tax"):
                line["tax_rate"] = None
            elif data.get("tax_rate") is not None:
                line["tax_rate"] = data["tax_rate"].pk
            line_forms.append(form)
            self.service_lines.append(line)
        invoice = self.instance
        if invoice.company_id is None or not invoice.currency:
            return  # the invoice's own fields are invalid; its form says so
        try:
            services.invoice_lines_build(
                company=invoice.company, currency=invoice.currency, lines=self.service_lines
            )
        except APIError as exc:
            per_line = exc.details.get("lines")
            if isinstance(per_line, dict):
                for index, problems in per_line.items():
                    form = line_forms[int(index)]
                    for field, messages_ in problems.items():
                        for message in messages_:
                            form.add_error(field if field in form.fields else None, message)
            raise forms.ValidationError(exc.message, code=str(exc.code)) from exc


def _invoice_writable(request, invoice: Invoice | None) -> bool:
    if invoice is None:
        return admin_may(request, Action.INVOICES_DRAFT, "sales.add_invoice")
    return (
        invoice.status == InvoiceStatus.DRAFT
        and request.user.has_perm("sales.change_invoice")
        and admin_can(request, invoice.company_id, Action.INVOICES_DRAFT)
    )


class InvoiceLineInline(ChoicesWithoutDeleteMixin, admin.TabularInline):
    model = InvoiceLine
    form = InvoiceLineForm
    formset = InvoiceLineFormSet
    fk_name = "invoice"
    ordering = ["line_no"]
    draft_fields = [
        "item",
        "description",
        "quantity",
        "unit_price",
        "discount",
        "tax_rate",
        "no_tax",
        "account",
        "amounts",
    ]
    issued_fields = [
        "line_no",
        "item",
        "description",
        "quantity_shown",
        "unit_price_shown",
        "discount_shown",
        "tax_rate",
        "account",
        "net_shown",
        "tax_shown",
        "total_shown",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "item", "tax_rate", "account")

    def get_fields(self, request, obj=None):
        return self.issued_fields if obj is not None and not obj.is_draft else self.draft_fields

    def get_readonly_fields(self, request, obj=None):
        return self.issued_fields if obj is not None and not obj.is_draft else ["amounts"]

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else (1 if obj.is_draft else 0)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        allowed = admin_companies(request, Action.INVOICES_DRAFT)
        if db_field.name == "account":
            # accounts a line can post to: active leaves (a header is refused when issued)
            kwargs["queryset"] = scoped_accounts(request, Action.INVOICES_DRAFT, "revenue")
            kwargs["empty_label"] = "from item"  # its revenue account (no item: the sales default)
        elif db_field.name == "tax_rate":
            rates = (
                TaxRate.objects.filter(is_active=True)
                .select_related("company")
                .order_by("company_id", "name")
            )
            kwargs["queryset"] = rates.filter(company_id__in=allowed)
            # blank is the item's own rate, not "no tax" (that is the box beside it)
            kwargs["empty_label"] = "from item"
        elif db_field.name == "item":
            items = (
                Item.objects.filter(is_active=True).select_related("company").order_by("company_id", "name")
            )
            kwargs["queryset"] = items.filter(company_id__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request, obj=None):
        return _invoice_writable(request, obj)

    def has_change_permission(self, request, obj=None):
        return _invoice_writable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _invoice_writable(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("sales.view_invoice") or request.user.has_perm("sales.change_invoice")

    def _money(self, line: InvoiceLine, amount: Decimal) -> str:
        return format_amount(amount, line.invoice.currency)

    @admin.display(description="net / tax / total")
    def amounts(self, line: InvoiceLine) -> str:
        if line.pk is None:
            return ""
        return (
            f"{self._money(line, line.net)} / {self._money(line, line.tax)} / {self._money(line, line.total)}"
        )

    @admin.display(description="quantity")
    def quantity_shown(self, line: InvoiceLine) -> str:
        return format(line.quantity.normalize(), "f")

    @admin.display(description="unit price")
    def unit_price_shown(self, line: InvoiceLine) -> str:
        return self._money(line, line.unit_price)

    @admin.display(description="discount")
    def discount_shown(self, line: InvoiceLine) -> str:
        return f"{format_percent(line.discount)}%" if line.discount else ""

    @admin.display(description="net")
    def net_shown(self, line: InvoiceLine) -> str:
        return self._money(line, line.net)

    @admin.display(description="tax")
    def tax_shown(self, line: InvoiceLine) -> str:
        return self._money(line, line.tax)

    @admin.display(description="total")
    def total_shown(self, line: InvoiceLine) -> str:
        return self._money(line, line.total)


class InvoiceForm(ServiceModelForm):
    due_date = DateFormField(required=False, help_text="Blank: the date plus the customer's terms.")
    currency = forms.CharField(required=False, max_length=3, help_text="Blank: the customer's currency.")
    fx_rate = DecimalFormField(
        required=False, label="FX rate", help_text="Foreign currency only; blank: the stored rate."
    )

    class Meta:
        model = Invoice
        fields = ["company", "customer", "date", "due_date", "currency", "fx_rate", "reference", "notes"]

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        customer = cleaned.get("customer")
        if customer is not None and not cleaned.get("currency"):
            cleaned["currency"] = customer.currency
            self.instance.currency = customer.currency
        company = cleaned.get("company") or getattr(self.instance, "company", None)
        if customer is not None and company is not None and customer.company_id != company.pk:
            self.add_error("customer", "This customer belongs to another company.")
        return cleaned


@admin.register(Invoice)
class InvoiceAdmin(QuarantineMarkerAdmin, ServiceAdmin, CompanyScopedAdmin):
    form = InvoiceForm
    view_action = Action.SALES_VIEW
    manage_action = Action.INVOICES_DRAFT
    inlines = [InvoiceLineInline]
    list_display = [
        "invoice",
        "customer",
        "date",
        "due_date",
        "status",
        "total_shown",
        "due_shown",
        "quarantine_marker",
        "company",
    ]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "status", "currency"]
    list_select_related = ["company", "customer"]
    search_fields = ["number", "reference", "customer__name"]
    date_hierarchy = "date"
    ordering = ["-date", "-id"]
    show_full_result_count = False
    actions = ["issue_invoices", "void_invoices"]
    change_form_template = "admin/sales/invoice/change_form.html"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            allowed = admin_companies(request, Action.INVOICES_DRAFT)
            customers = (
                Customer.objects.filter(is_active=True)
                .select_related("company")
                .order_by("company_id", "name")
            )
            kwargs["queryset"] = customers.filter(company_id__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        main = ["company", "customer", ("date", "due_date"), ("currency", "fx_rate"), "reference", "notes"]
        if obj is None:
            return [(None, {"fields": main})]
        return [
            (None, {"fields": ["number", "status", *main]}),
            (
                "Amounts",
                {
                    "fields": [
                        ("subtotal_shown", "tax_total_shown", "total_shown"),
                        ("credited_shown", "paid_shown", "due_shown"),
                    ]
                },
            ),
            (
                "Books",
                {
                    "fields": [
                        ("journal_entry_link", "void_entry_link"),
                        "voided_on",
                        ("issued_by", "issued_at"),
                        "document_link",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        computed = [
            "number",
            "status",
            "subtotal_shown",
            "tax_total_shown",
            "total_shown",
            "credited_shown",
            "paid_shown",
            "due_shown",
            "journal_entry_link",
            "void_entry_link",
            "voided_on",
            "issued_by",
            "issued_at",
            "document_link",
        ]
        if obj is None:
            return []
        if obj.is_draft:
            return ["company", *computed]
        return [
            "company",
            "customer",
            "date",
            "due_date",
            "currency",
            "fx_rate",
            "reference",
            "notes",
            *computed,
        ]

    # Issued invoices are read-only and never deleted: they are credited or voided.
    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return False
        return super().has_delete_permission(request, obj)

    def has_issue_permission(self, request):
        return admin_may(request, Action.INVOICES_ISSUE, "sales.change_invoice")

    def has_void_permission(self, request):
        return admin_may(request, Action.INVOICES_VOID, "sales.change_invoice")

    # ----- display

    @admin.display(description="invoice", ordering="sequence")
    def invoice(self, obj: Invoice) -> str:
        return str(obj)

    def _money(self, obj: Invoice, amount: Decimal) -> str:
        return format_amount(amount, obj.currency)

    @admin.display(description="subtotal")
    def subtotal_shown(self, obj: Invoice) -> str:
        return self._money(obj, obj.subtotal)

    @admin.display(description="tax")
    def tax_total_shown(self, obj: Invoice) -> str:
        return self._money(obj, obj.tax_total)

    @admin.display(description="total")
    def total_shown(self, obj: Invoice) -> str:
        return f"{self._money(obj, obj.total)} {obj.currency}"

    @admin.display(description="credited")
    def credited_shown(self, obj: Invoice) -> str:
        """The amount credited, and each credit note that credits it (opens from here)."""
        amount = self._money(obj, obj.amount_credited)
        notes = list(obj.credit_notes.order_by("date", "id").values_list("pk", "number"))
        if not notes:
            return amount
        links = format_html_join(
            ", ",
            '<a href="{}" class="credit-note-link">{}</a>',
            ((reverse("admin:sales_creditnote_change", args=[pk]), number) for pk, number in notes),
        )
        return format_html("{} ({})", amount, links)

    @admin.display(description="paid")
    def paid_shown(self, obj: Invoice) -> str:
        return self._money(obj, obj.amount_paid)

    @admin.display(description="due")
    def due_shown(self, obj: Invoice) -> str:
        return self._money(obj, obj.amount_due)

    @admin.display(description="journal entry")
    def journal_entry_link(self, obj: Invoice) -> str:
        return entry_link(obj.journal_entry)

    @admin.display(description="void entry")
    def void_entry_link(self, obj: Invoice) -> str:
        return entry_link(obj.void_entry)

    @admin.display(description="printable invoice")
    def document_link(self, obj: Invoice) -> str:
        url = reverse("admin:sales_invoice_document", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" id="invoice-document-link">Open the printable invoice</a>', url
        )

    # ----- writes

    def save_model(self, request, obj, form, change):
        """Nothing yet: the invoice and its lines are written together in save_related."""

    def save_related(self, request, form, formsets, change):
        line_formsets = [fs for fs in formsets if isinstance(fs, InvoiceLineFormSet)]
        lines_changed = any(fs.has_changed() for fs in line_formsets)
        lines = [line for fs in line_formsets for line in fs.service_lines]
        data = form.cleaned_data
        with self.refusal_as_form_error():
            if change:
                changes = {
                    name: data.get(name)
                    for name in ("customer", "date", "due_date", "currency", "fx_rate", "reference", "notes")
                    if name in form.changed_data
                }
                if lines_changed:
                    changes["lines"] = lines
                saved = (
                    services.invoice_update(invoice=form.instance, by=request.user, **changes)
                    if changes
                    else form.instance
                )
            else:
                saved = services.invoice_create(
                    company=data["company"],
                    customer=data["customer"],
                    date=data["date"],
                    due_date=data.get("due_date"),
                    currency=data.get("currency") or None,
                    fx_rate=data.get("fx_rate"),
                    reference=data.get("reference") or "",
                    notes=data.get("notes") or "",
                    lines=lines,
                    by=request.user,
                )
        adopt(form.instance, saved)

    def construct_change_message(self, request, form, formsets, add):
        if add:
            return [{"added": {}}]
        fields = list(form.changed_data)
        if any(fs.has_changed() for fs in formsets):
            fields.append("lines")
        return [{"changed": {"fields": fields}}] if fields else []

    def delete_model(self, request, obj):
        with self.refusal_as_form_error():
            services.invoice_delete(invoice=obj, by=request.user)

    # ----- actions

    def checked(self, request, invoice: Invoice, action: Action) -> Invoice:
        if not admin_can(request, invoice.company_id, action):
            raise RoleDenied("Your role in this company does not allow this.")
        return invoice

    @staticmethod
    def listed(invoice: Invoice) -> str:
        return (
            f"{invoice} of {invoice.date:%Y-%m-%d}, {invoice.customer.name}: "
            f"{format_amount(invoice.total, invoice.currency)} {invoice.currency} "
            f"({invoice.get_status_display().lower()})"
        )

    @admin.action(description="Issue selected drafts", permissions=["issue"])
    def issue_invoices(self, request, queryset):
        invoices = list(queryset.select_related("customer").order_by("date", "id"))
        return self.confirm_then_each(
            request,
            invoices,
            lambda i: services.invoice_issue(
                invoice=self.checked(request, i, Action.INVOICES_ISSUE), by=request.user
            ),
            success=lambda i, issued: f"{i}: issued as {issued.number}.",
            verb="Issue",
            effect="Issuing gives each draft its number and posts it to the books (receivable, "
            "income, tax). From then on it never changes: it is corrected by a credit note or voided.",
            describe=self.listed,
        )

    @admin.action(description="Void selected invoices (dated like each invoice)", permissions=["void"])
    def void_invoices(self, request, queryset):
        invoices = list(queryset.select_related("customer").order_by("date", "id"))
        return self.confirm_then_each(
            request,
            invoices,
            lambda i: services.invoice_void(
                invoice=self.checked(request, i, Action.INVOICES_VOID), by=request.user
            ),
            success=lambda i, voided: f"{i}: void, reversed by {voided.void_entry.number}.",
            verb="Void",
            effect="Voiding posts a reversal of each invoice's entry, dated like the invoice: it no "
            "longer counts as owed and cannot be issued again. An invoice with payments allocated or "
            "credit notes is refused and named after. To date a void otherwise, use Void on the "
            "invoice's own page.",
            describe=self.listed,
        )

    # ----- pages of one invoice: issue, void, credit, print (sales.admin_views)

    def history_related(self, obj: Invoice) -> list[tuple[str, list[str]]]:
        """An invoice's History shows its credit notes and the payments allocated to it (their
        allocations and unallocations are events of the payment)."""
        return [
            (CreditNote._meta.label_lower, [str(pk) for pk in obj.credit_notes.values_list("pk", flat=True)]),
            (
                Payment._meta.label_lower,
                [
                    str(pk)
                    for pk in Allocation.objects.filter(invoice=obj)
                    .values_list("payment_id", flat=True)
                    .distinct()
                ],
            ),
        ]

    def get_urls(self):
        return [*SalesDocumentPages(self.admin_site, self).invoice_urls(), *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["live_totals"] = live_totals_data(request)
        if obj is not None:
            context["can_issue_invoice"] = (
                obj.is_draft
                and self.has_issue_permission(request)
                and admin_can(request, obj.company_id, Action.INVOICES_ISSUE)
            )
            open_or_paid = obj.status in (
                InvoiceStatus.ISSUED,
                InvoiceStatus.PARTIALLY_PAID,
                InvoiceStatus.PAID,
            )
            context["can_void_invoice"] = (
                open_or_paid
                and self.has_void_permission(request)
                and admin_can(request, obj.company_id, Action.INVOICES_VOID)
            )
            context["can_credit_invoice"] = obj.status in (
                InvoiceStatus.ISSUED,
                InvoiceStatus.PARTIALLY_PAID,
            ) and admin_can(request, obj.company_id, Action.INVOICES_ISSUE)
            context["can_record_payment"] = obj.status in (
                InvoiceStatus.ISSUED,
                InvoiceStatus.PARTIALLY_PAID,
            ) and admin_can(request, obj.company_id, Action.PAYMENTS_RECORD)
        return super().render_change_form(request, context, add, change, form_url, obj)


def live_totals_data(request) -> dict[str, Any]:
    """What the invoice form's live totals need: each tax rate's percent, each item's price (in
    its company's currency) and default rate, and each currency's places (the server recomputes
    everything on save)."""
    allowed = admin_companies(request, Action.SALES_VIEW)
    rates = TaxRate.objects.all()
    items = Item.objects.filter(is_active=True).select_related("company")
    customers = Customer.objects.all()
    if allowed is not None:
        rates, items, customers = (
            rates.filter(company_id__in=allowed),
            items.filter(company_id__in=allowed),
            customers.filter(company_id__in=allowed),
        )
    currencies = set(customers.values_list("currency", flat=True)) | {i.company.currency for i in items}
    return {
        "tax_rates": {str(pk): str(rate) for pk, rate in rates.values_list("pk", "rate")},
        "items": {
            str(i.pk): {"price": str(i.unit_price), "currency": i.company.currency, "tax_rate": i.tax_rate_id}
            for i in items
        },
        "customers": {str(pk): currency for pk, currency in customers.values_list("pk", "currency")},
        "places": {code: currency_exponent(code) for code in currencies},
    }


# --------------------------------------------------------------------------- credit notes


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = ["line_no", "invoice_line", "quantity", "net", "tax", "total"]
    readonly_fields = fields


@admin.register(CreditNote)
class CreditNoteAdmin(QuarantineMarkerAdmin, CompanyScopedAdmin):
    """Credit notes never change; they are made from their invoice's page (Credit)."""

    view_action = Action.SALES_VIEW
    inlines = [CreditNoteLineInline]
    list_display = ["number", "invoice", "customer", "date", "total_shown", "quarantine_marker", "company"]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["company", "invoice", "customer"]
    search_fields = ["number", "invoice__number", "customer__name", "reason"]
    date_hierarchy = "date"
    ordering = ["-date", "-id"]
    fields = [
        "company",
        "number",
        "invoice",
        "customer",
        "date",
        "currency",
        "reason",
        "total_shown",
        "journal_entry_link",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="total")
    def total_shown(self, obj: CreditNote) -> str:
        return f"{format_amount(obj.total, obj.currency)} {obj.currency}"

    @admin.display(description="journal entry")
    def journal_entry_link(self, obj: CreditNote) -> str:
        return entry_link(obj.journal_entry)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- payments


class AllocationInline(ReadOnlyInline):
    model = Allocation
    fk_name = "payment"
    fields = ["invoice", "date", "amount_shown", "exchange_difference", "unallocated_on", "fx_entry"]
    readonly_fields = fields
    ordering = ["id"]

    @admin.display(description="Amount")
    def amount_shown(self, obj: Allocation) -> str:
        return format_amount(obj.amount, obj.invoice.currency)

    @admin.display(description="exchange difference")
    def exchange_difference(self, obj: Allocation) -> str:
        """In words: a loss when the invoice was booked at more (in the company's currency) than
        the payment settling it brought in, a gain when at less."""
        difference = obj.invoice_base - obj.payment_base
        if difference == 0:
            return "none"
        amount = format_amount(abs(difference), obj.company.currency)
        return f"{amount} {obj.company.currency} {'loss' if difference > 0 else 'gain'}"


@admin.register(Payment)
class PaymentAdmin(QuarantineMarkerAdmin, ServiceAdmin, CompanyScopedAdmin):
    """Payments are recorded on their own page (the customer's open invoices offered for
    allocation); afterwards they are read-only, allocated, unallocated or voided."""

    view_action = Action.SALES_VIEW
    manage_action = Action.PAYMENTS_RECORD
    inlines = [AllocationInline]
    list_display = [
        "number",
        "customer",
        "date",
        "amount_shown",
        "unallocated_shown",
        "method",
        "status",
        "quarantine_marker",
        "company",
    ]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "status", "method"]
    list_select_related = ["company", "customer"]
    search_fields = ["number", "reference", "customer__name"]
    date_hierarchy = "date"
    ordering = ["-date", "-id"]
    change_form_template = "admin/sales/payment/change_form.html"
    fields = [
        "company",
        "number",
        "status",
        "customer",
        "date",
        "amount_shown",
        "fx_rate",
        "account",
        "method",
        "reference",
        "notes",
        "unallocated_shown",
        "journal_entry_link",
        "void_entry_link",
        "voided_on",
    ]
    readonly_fields = fields

    @admin.display(description="amount")
    def amount_shown(self, obj: Payment) -> str:
        return f"{format_amount(obj.amount, obj.currency)} {obj.currency}"

    @admin.display(description="unallocated")
    def unallocated_shown(self, obj: Payment) -> str:
        return format_amount(obj.unallocated, obj.currency)

    @admin.display(description="journal entry")
    def journal_entry_link(self, obj: Payment) -> str:
        return entry_link(obj.journal_entry)

    @admin.display(description="void entry")
    def void_entry_link(self, obj: Payment) -> str:
        return entry_link(obj.void_entry)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [*SalesDocumentPages(self.admin_site, self).payment_urls(), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        """Adding a payment is recording one, with the customer's open invoices to allocate to."""
        query = request.GET.urlencode()
        return HttpResponseRedirect(reverse("admin:sales_payment_record") + (f"?{query}" if query else ""))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            may = admin_can(request, obj.company_id, Action.PAYMENTS_RECORD)
            posted = obj.status == PaymentStatus.POSTED
            context["can_allocate"] = may and posted and obj.unallocated > 0
            context["can_void_payment"] = may and posted and obj.amount_allocated == 0
            # Void is offered once nothing is allocated: said, so its absence is not a puzzle.
            context["void_after_unallocating"] = may and posted and obj.amount_allocated != 0
            context["active_allocations"] = (
                list(
                    obj.allocations.filter(unallocated_on__isnull=True)
                    .select_related("invoice")
                    .order_by("id")
                )
                if may and posted
                else []
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


# --------------------------------------------------------------------------- menu and dashboard

admin_menu.place_model("sales.invoice", section=Section.SALES, order=10, title="Invoices")
admin_menu.place_model("sales.payment", section=Section.SALES, order=20, title="Payments")
admin_menu.place_model("sales.creditnote", section=Section.SALES, order=30, title="Credit notes")
admin_menu.place_model("sales.customer", section=Section.SALES, order=40, title="Customers")
admin_menu.place_model("sales.item", section=Section.SALES, order=50, title="Items")
admin_menu.place_model("sales.taxrate", section=Section.SETTINGS, order=30, title="Tax rates")
admin_menu.place_model("sales.salessettings", section=Section.SETTINGS, order=40, title="Sales settings")
register_dashboard_panels()
admin_links.register_document_resolver(sales_documents_of_entries)
