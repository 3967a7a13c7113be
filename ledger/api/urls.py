from ledger.api import views
from sofinance.api.routing import api_path

C = "companies/<int:company_id>"

urlpatterns = [
    api_path(f"{C}/journal-entries", views.JournalEntryListView.as_view(), name="journal-entry-list"),
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
]
