from audit.api import views
from sofinance.api.routing import api_path

C = "companies/<int:company_id>"

urlpatterns = [
    api_path(f"{C}/audit-events", views.AuditEventListView.as_view(), name="audit-event-list"),
    api_path(f"{C}/audit-events/verify", views.AuditChainVerifyView.as_view(), name="audit-chain-verify"),
    api_path(f"{C}/audit-events/<int:pk>", views.AuditEventDetailView.as_view(), name="audit-event-detail"),
]
