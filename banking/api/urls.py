from banking.api import views
from sofinance.api.routing import api_path

C = "companies/<int:company_id>"

urlpatterns = [
    api_path(f"{C}/bank-accounts", views.BankAccountListView.as_view(), name="bank-account-list"),
    api_path(
        f"{C}/bank-accounts/<int:pk>", views.BankAccountDetailView.as_view(), name="bank-account-detail"
    ),
    api_path(
        f"{C}/bank-accounts/<int:pk>/statements",
        views.StatementListView.as_view(),
        name="bank-account-statements",
    ),
    api_path(
        f"{C}/bank-accounts/<int:pk>/lines", views.BankLineListView.as_view(), name="bank-account-lines"
    ),
    api_path(f"{C}/bank-accounts/<int:pk>/suggest", views.SuggestView.as_view(), name="bank-account-suggest"),
    api_path(
        f"{C}/bank-accounts/<int:pk>/reconciliation",
        views.ReconciliationReportView.as_view(),
        name="bank-account-reconciliation",
    ),
    api_path(
        f"{C}/bank-statements/<int:pk>", views.StatementDetailView.as_view(), name="bank-statement-detail"
    ),
    api_path(
        f"{C}/bank-statements/<int:pk>/reconcile",
        views.StatementReconcileView.as_view(),
        name="bank-statement-reconcile",
    ),
    api_path(
        f"{C}/bank-statements/<int:pk>/reopen",
        views.StatementReopenView.as_view(),
        name="bank-statement-reopen",
    ),
    api_path(f"{C}/bank-lines/<int:pk>", views.BankLineDetailView.as_view(), name="bank-line-detail"),
    api_path(
        f"{C}/bank-lines/<int:pk>/suggestions", views.SuggestionsView.as_view(), name="bank-line-suggestions"
    ),
    api_path(f"{C}/bank-lines/<int:pk>/match", views.MatchView.as_view(), name="bank-line-match"),
    api_path(f"{C}/bank-lines/<int:pk>/unmatch", views.UnmatchView.as_view(), name="bank-line-unmatch"),
    api_path(
        f"{C}/bank-lines/<int:pk>/create-entry",
        views.CreateEntryView.as_view(),
        name="bank-line-create-entry",
    ),
    api_path(
        f"{C}/bank-lines/<int:pk>/record-payment",
        views.RecordPaymentView.as_view(),
        name="bank-line-record-payment",
    ),
    api_path(f"{C}/banking-settings", views.BankingSettingsView.as_view(), name="banking-settings"),
    api_path(f"{C}/import-jobs", views.ImportJobListView.as_view(), name="import-job-list"),
    api_path(f"{C}/import-jobs/<int:pk>", views.ImportJobDetailView.as_view(), name="import-job-detail"),
    api_path(f"{C}/journal-imports", views.JournalImportView.as_view(), name="journal-import"),
]
