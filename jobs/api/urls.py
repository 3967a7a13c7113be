from jobs.api import views
from sofinance.api.routing import api_path

C = "companies/<int:company_id>"

urlpatterns = [
    api_path(f"{C}/integrity-runs", views.IntegrityRunListView.as_view(), name="integrity-run-list"),
    api_path(
        f"{C}/integrity-runs/<int:pk>", views.IntegrityRunDetailView.as_view(), name="integrity-run-detail"
    ),
    api_path(f"{C}/discrepancies", views.DiscrepancyListView.as_view(), name="discrepancy-list"),
    api_path(
        f"{C}/discrepancies/<int:pk>/resolve",
        views.DiscrepancyResolveView.as_view(),
        name="discrepancy-resolve",
    ),
    api_path(f"{C}/exports", views.ExportListView.as_view(), name="export-list"),
    api_path(f"{C}/exports/<int:pk>", views.ExportDetailView.as_view(), name="export-detail"),
    api_path(f"{C}/exports/<int:pk>/download", views.ExportDownloadView.as_view(), name="export-download"),
]
