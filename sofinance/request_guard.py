"""The first check every request passes: refuse what no view can handle, before any view runs.

- A body larger than the limit is 413 `payload_too_large` before a byte of it is read, whoever
  sends it (no authentication needed to be refused): REQUEST_BODY_MAX_BYTES for ordinary bodies,
  UPLOAD_MAX_BYTES for multipart uploads.
- A NUL character in the path, the query string (raw or percent-encoded) or a header is 400
  `validation_error`: PostgreSQL text cannot hold one, and no legitimate client sends one.

Under /api/ the refusal is an error envelope; elsewhere (the admin) a plain-text response.
Bodies are checked by the parsers (sofinance.api.parsers), which see them decoded.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse

from sofinance.api.envelope import envelope
from sofinance.errors import APIError, PayloadTooLarge, ValidationFailed

API_PREFIX = "/api/"


def content_length(meta) -> int:
    try:
        return max(0, int(meta.get("CONTENT_LENGTH") or 0))
    except (TypeError, ValueError):
        return 0  # Django reads an unparsable length as an empty body, and so do we


def body_limit(meta) -> int:
    if meta.get("CONTENT_TYPE", "").lower().startswith("multipart/"):
        return settings.UPLOAD_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def nul_location(request) -> str | None:
    """Where a NUL character is in the request line or headers, or None."""
    if "\x00" in request.path_info:
        return "path"
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in query or b"\x00" in unquote_to_bytes(query):
        return "query string"
    for name, value in request.META.items():
        is_header = name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH")
        if is_header and isinstance(value, str) and "\x00" in value:
            return "header " + name.removeprefix("HTTP_").replace("_", "-").title()
    return None


def refusal_response(request, error: APIError) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse(envelope(error=error.as_dict()), status=error.status_code)
    return HttpResponse(error.message, status=error.status_code, content_type="text/plain; charset=utf-8")


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit(request.META)
        if content_length(request.META) > limit:
            return refusal_response(
                request,
                PayloadTooLarge(
                    f"The request body is larger than {limit} bytes.", details={"max_bytes": limit}
                ),
            )
        where = nul_location(request)
        if where is not None:
            return refusal_response(
                request,
                ValidationFailed(f"NUL characters are not allowed in the {where}.", details={"where": where}),
            )
        return self.get_response(request)

    def process_exception(self, request, exception):
        # A multipart body within UPLOAD_MAX_BYTES whose plain fields exceed the memory limit is
        # only found while a view (the admin's) reads it: the same 413, not Django's 400.
        if isinstance(exception, RequestDataTooBig):
            return refusal_response(request, PayloadTooLarge("The request body is too large."))
        return None
