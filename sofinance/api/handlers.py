"""Django's 404/500 handlers: envelopes under /api/, Django's defaults elsewhere.

An exception that reached Django's handler (raised outside DRF: a middleware, the admin) is still
being handled when `server_error` runs, so it can tell an outage of the database, cache or queue
(503 with Retry-After, see sofinance.outages) from a bug (500).
"""

from __future__ import annotations

import sys

import structlog
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.views import defaults

from sofinance.api.envelope import envelope
from sofinance.errors import InternalError, NotFound
from sofinance.outages import discard_broken_connections, outage_error

logger = structlog.get_logger("sofinance.api")

UNAVAILABLE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Briefly unavailable</title>'
    "</head><body><h1>Briefly unavailable</h1><p>{message}</p><p>Please try again in {seconds} seconds."
    "</p></body></html>"
)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(envelope(error=NotFound().as_dict()), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    exc = sys.exception()
    outage = outage_error(exc) if exc is not None else None
    if outage is not None:
        discard_broken_connections()
        logger.warning(
            "dependency_unavailable", reason=outage.details.get("reason"), exc_type=type(exc).__name__
        )
        if request.path.startswith("/api/"):
            response = JsonResponse(envelope(error=outage.as_dict()), status=503)
        else:
            page = UNAVAILABLE_PAGE.format(message=escape(outage.message), seconds=outage.retry_after)
            response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(outage.retry_after)
        return response
    if request.path.startswith("/api/"):
        return JsonResponse(envelope(error=InternalError().as_dict()), status=500)
    return defaults.server_error(request)
