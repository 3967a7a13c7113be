"""A test-only URLconf: the real routes plus views that fail or answer the legacy way."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from sofinance.api.views import ok
from sofinance.urls import handler404, handler500
from sofinance.urls import urlpatterns as real_urlpatterns

SECRET_TEXT = "connection to db-primary.internal failed: password hunter2"


class ExplodingApiView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError(SECRET_TEXT)


class CollidingKeysView(APIView):
    """Data whose keys collide with the envelope's own."""

    permission_classes = [AllowAny]

    def get(self, request):
        return ok({"meta": "inner meta", "error": "inner error", "success": "inner", "label": "kept"})


def exploding_plain_view(request):
    raise RuntimeError(SECRET_TEXT)


def legacy_plain_view(request):
    return JsonResponse({"invoice": "INV-1", "total": "12.50"})


@require_GET
def legacy_get_only_view(request):
    return JsonResponse({"ok": True})


def legacy_error_view(request):
    return JsonResponse({"detail": "Legacy refusal."}, status=400)


urlpatterns = [
    path("api/v1/test/explode", ExplodingApiView.as_view()),
    path("api/v1/test/explode-plain", exploding_plain_view),
    path("api/v1/test/legacy", legacy_plain_view),
    path("api/v1/test/colliding", CollidingKeysView.as_view()),
    path("api/v1/test/legacy-error", legacy_error_view),
    path("api/v1/test/legacy-get-only", legacy_get_only_view),
    *real_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
