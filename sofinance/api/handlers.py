"""Django's 404/500 handlers: envelopes under /api/, Django's defaults elsewhere."""

from __future__ import annotations

from django.http import JsonResponse
from django.views import defaults

from sofinance.api.envelope import envelope
from sofinance.errors import InternalError, NotFound


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(envelope(error=NotFound().as_dict()), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(envelope(error=InternalError().as_dict()), status=500)
    return defaults.server_error(request)
