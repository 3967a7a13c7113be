from ledger.api import period_views, report_views, views
from sofinance.api.routing import api_path

C = "companies/<int:company_id>"

urlpatterns = [
    api_path(f"{C}/journal-entries", views.JournalEntryListView.as_view(), name="journal-entry-list"),
    api_path(f"{C}/journal-entries/bulk", views.JournalEntryBulkView.as_view(), name="journal-entry-bulk"),
    api_path(
        f"{C}/journal-entries/<int:pk>", views.JournalEntryDetailView.as_view(), name="journal-entry-detail"
    ),
    api_path(
        f"{C}/journal-entries/<int:pk>/post", views.JournalEntryPostView.as_view(), name="journal-entry-post"
    ),
    api_path(
        f"{C}/journal-entries/<int:pk>/reverse",
        views.JournalEntryReverseView.as_view(),
        name="journal-entry-reverse",
    ),
    api_path(f"{C}/exchange-rates", views.ExchangeRateListView.as_view(), name="exchange-rate-list"),
    api_path(
        f"{C}/exchange-rates/<int:pk>", views.ExchangeRateDetailView.as_view(), name="exchange-rate-detail"
    ),
    api_path(f"{C}/periods", period_views.PeriodListView.as_view(), name="period-list"),
    api_path(f"{C}/periods/generate", period_views.PeriodGenerateView.as_view(), name="period-generate"),
    api_path(f"{C}/periods/<int:pk>", period_views.PeriodDetailView.as_view(), name="period-detail"),
    api_path(f"{C}/periods/<int:pk>/close", period_views.PeriodCloseView.as_view(), name="period-close"),
    api_path(f"{C}/periods/<int:pk>/reopen", period_views.PeriodReopenView.as_view(), name="period-reopen"),
    api_path(f"{C}/periods/<int:pk>/lock", period_views.PeriodLockView.as_view(), name="period-lock"),
    api_path(f"{C}/fiscal-years", period_views.FiscalYearListView.as_view(), name="fiscal-year-list"),
    api_path(
        f"{C}/fiscal-years/<int:year>/close",
        period_views.FiscalYearCloseView.as_view(),
        name="fiscal-year-close",
    ),
    api_path(
        f"{C}/fiscal-years/<int:year>/reopen",
        period_views.FiscalYearReopenView.as_view(),
        name="fiscal-year-reopen",
    ),
    api_path(
        f"{C}/reports/trial-balance", report_views.TrialBalanceView.as_view(), name="report-trial-balance"
    ),
    api_path(
        f"{C}/reports/balance-sheet", report_views.BalanceSheetView.as_view(), name="report-balance-sheet"
    ),
    api_path(
        f"{C}/reports/income-statement",
        report_views.IncomeStatementView.as_view(),
        name="report-income-statement",
    ),
    api_path(
        f"{C}/reports/general-ledger", report_views.GeneralLedgerView.as_view(), name="report-general-ledger"
    ),
]
