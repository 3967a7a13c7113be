"""Root URLs: the front page, admin, API v1, OpenAPI, health and metrics."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from sofinance import views
from sofinance.api import handlers
from sofinance.api.docs import ApiDocsView
from sofinance.observability import health, metrics

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("ledger.api.urls")),
    path("", include("sales.api.urls")),
    path("", include("banking.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("jobs.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="docs"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="prometheus-django-metrics"),
]

handler404 = handlers.not_found
handler500 = handlers.server_error
