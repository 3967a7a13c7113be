"""The legacy shim: every response under /api/ leaves as an envelope.

DRF views already render envelopes (EnvelopeJSONRenderer). This middleware catches the rest:
a plain JSON response from an older view, and Django's own HTML error pages (404 for an unknown
route, 405 from a method-restricted view, 500), which become error envelopes with stable codes.
"""

from __future__ import annotations

import json

from django.http import HttpResponse

from sofinance.api.envelope import envelope, finish_envelope
from sofinance.api.renderers import MoneyJSONEncoder, error_code_for_status, wrap_body

API_PREFIX = "/api/"
_DEFAULT_MESSAGES = {
    404: "Not found.",
    405: "Method not allowed.",
    500: "An internal error occurred. It has been logged.",
}


def _is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX) and not path.startswith(("/api/docs", "/api/schema"))


class ApiEnvelopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not _is_api_path(request.path) or getattr(response, "_sofinance_envelope", False):
            return response
        if getattr(response, "streaming", False) or response.status_code == 204:
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/json"):
            try:
                body = json.loads(response.content or b"null")
            except ValueError:
                body = None
            wrapped = wrap_body(body, response.status_code)
        elif response.status_code >= 400:
            wrapped = envelope(
                error={
                    "code": str(error_code_for_status(response.status_code)),
                    "message": _DEFAULT_MESSAGES.get(response.status_code, "The request failed."),
                    "details": {},
                }
            )
        else:
            return response  # CSV, files and other non-JSON successes pass untouched.
        new = HttpResponse(status=response.status_code, content_type="application/json")
        for header, value in response.items():
            if header.lower() not in {"content-type", "content-length"}:
                new[header] = value
        body = finish_envelope(wrapped, request, new)
        new.content = json.dumps(body, cls=MoneyJSONEncoder).encode()
        return new
