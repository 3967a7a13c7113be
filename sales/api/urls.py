from sales.api import report_views, views
from sofinance.api.routing import api_path

C = "companies/<int:company_id>"

urlpatterns = [
    api_path(f"{C}/customers", views.CustomerListView.as_view(), name="customer-list"),
    api_path(f"{C}/customers/<int:pk>", views.CustomerDetailView.as_view(), name="customer-detail"),
    api_path(f"{C}/items", views.ItemListView.as_view(), name="item-list"),
    api_path(f"{C}/items/<int:pk>", views.ItemDetailView.as_view(), name="item-detail"),
    api_path(f"{C}/tax-rates", views.TaxRateListView.as_view(), name="tax-rate-list"),
    api_path(f"{C}/tax-rates/<int:pk>", views.TaxRateDetailView.as_view(), name="tax-rate-detail"),
    api_path(f"{C}/sales-settings", views.SalesSettingsView.as_view(), name="sales-settings"),
    api_path(f"{C}/invoices", views.InvoiceListView.as_view(), name="invoice-list"),
    api_path(f"{C}/invoices/<int:pk>", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    api_path(f"{C}/invoices/<int:pk>/issue", views.InvoiceIssueView.as_view(), name="invoice-issue"),
    api_path(f"{C}/invoices/<int:pk>/void", views.InvoiceVoidView.as_view(), name="invoice-void"),
    api_path(f"{C}/invoices/<int:pk>/document", views.InvoiceDocumentView.as_view(), name="invoice-document"),
    api_path(f"{C}/credit-notes", views.CreditNoteListView.as_view(), name="credit-note-list"),
    api_path(f"{C}/credit-notes/<int:pk>", views.CreditNoteDetailView.as_view(), name="credit-note-detail"),
    api_path(f"{C}/payments", views.PaymentListView.as_view(), name="payment-list"),
    api_path(f"{C}/sales-deletions", views.DeletionListView.as_view(), name="sales-deletion-list"),
    api_path(f"{C}/payments/<int:pk>", views.PaymentDetailView.as_view(), name="payment-detail"),
    api_path(f"{C}/payments/<int:pk>/void", views.PaymentVoidView.as_view(), name="payment-void"),
    api_path(
        f"{C}/payments/<int:pk>/allocations", views.AllocationListView.as_view(), name="payment-allocations"
    ),
    api_path(
        f"{C}/payments/<int:pk>/allocations/<int:allocation_id>/unallocate",
        views.AllocationRemoveView.as_view(),
        name="payment-unallocate",
    ),
    api_path(f"{C}/reports/ar-aging", report_views.ArAgingView.as_view(), name="report-ar-aging"),
    api_path(
        f"{C}/reports/customer-statement",
        report_views.CustomerStatementView.as_view(),
        name="report-customer-statement",
    ),
    api_path(
        f"{C}/reports/sales-summary", report_views.SalesSummaryView.as_view(), name="report-sales-summary"
    ),
]
