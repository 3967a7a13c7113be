"""The interactive API documentation page (/api/docs/): Swagger UI served from this site.

The page and its start-up script are two responses (the split view), so the page runs under a
Content-Security-Policy without inline scripts. It is a static page for anyone: it does not
authenticate the visitor (a stale or broken `Authorization` header must not break it); the schema
request it makes (/api/schema/) does its own authentication.
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny


class ApiDocsView(SpectacularSwaggerSplitView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    http_method_names = ["get", "head"]
