"""Renderers that put every DRF response in the envelope and apply the envelope flags."""

from __future__ import annotations

from decimal import Decimal

from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from sofinance.api.envelope import envelope, finish_envelope, is_envelope
from sofinance.errors import ErrorCode


class MoneyJSONEncoder(JSONEncoder):
    """Decimals leave as strings, exactly as held (never through float)."""

    def default(self, obj):
        if isinstance(obj, Decimal):
            return str(obj)
        return super().default(obj)


_STATUS_CODES = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    406: ErrorCode.NOT_ACCEPTABLE,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


def error_code_for_status(status: int) -> str:
    if status >= 500:
        return _STATUS_CODES.get(status, ErrorCode.INTERNAL_ERROR)
    return _STATUS_CODES.get(status, ErrorCode.VALIDATION_ERROR)


def wrap_body(body, status: int) -> dict:
    """Wrap a body that is not an envelope yet (the legacy normalization)."""
    if is_envelope(body):
        return body
    if status < 400:
        return envelope(body)
    message = body.get("detail") if isinstance(body, dict) else None
    details = body if isinstance(body, dict) and "detail" not in body else {}
    return envelope(
        error={
            "code": str(error_code_for_status(status)),
            "message": str(message or "The request failed."),
            "details": details,
        }
    )


class EnvelopeJSONRenderer(JSONRenderer):
    encoder_class = MoneyJSONEncoder

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        request = renderer_context.get("request")
        if response is None or request is None:
            return super().render(data, accepted_media_type, renderer_context)
        if response.status_code == 204 and data is None:
            return b""
        body = finish_envelope(wrap_body(data, response.status_code), request, response)
        response._sofinance_envelope = True
        return super().render(body, accepted_media_type, renderer_context)


class EnvelopeBrowsableAPIRenderer(BrowsableAPIRenderer):
    def get_default_renderer(self, view):
        return EnvelopeJSONRenderer()


class CSVRenderer(BaseRenderer):
    """Selected by ?format=csv or Accept: text/csv; the view builds the CSV text itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, (bytes, str)) else b""
