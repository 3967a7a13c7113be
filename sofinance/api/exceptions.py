"""The one exception handler: every error becomes an envelope with a stable code."""

from __future__ import annotations

import math

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from sofinance import errors
from sofinance.api.envelope import envelope
from sofinance.db_errors import domain_error_from_db

logger = structlog.get_logger("sofinance.api")


def _flatten_drf_detail(detail):
    """DRF's ErrorDetail tree -> plain JSON (lists of messages per field)."""
    if isinstance(detail, dict):
        return {str(k): _flatten_drf_detail(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten_drf_detail(v) for v in detail]
    return str(detail)


def to_api_error(exc: Exception) -> errors.APIError:
    """Map any exception raised while handling an API request to an APIError."""
    if isinstance(exc, errors.APIError):
        return exc
    if isinstance(exc, drf.ValidationError):
        details = _flatten_drf_detail(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details}
        return errors.ValidationFailed("The request is invalid.", details=details)
    if isinstance(exc, drf.ParseError):
        return errors.ValidationFailed(str(exc.detail))
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return errors.NotAuthenticated(str(exc.detail))
    if isinstance(exc, (drf.PermissionDenied, DjangoPermissionDenied)):
        return errors.PermissionDenied()
    if isinstance(exc, (drf.NotFound, Http404)):
        return errors.NotFound()
    if isinstance(exc, drf.MethodNotAllowed):
        return errors.MethodNotAllowed(str(exc.detail))
    if isinstance(exc, drf.Throttled):
        wait = exc.wait if exc.wait is not None else 1
        return errors.RateLimited(retry_after=max(1, math.ceil(wait)))
    if isinstance(exc, drf.NotAcceptable):
        return errors.APIError(str(exc.detail), code=errors.ErrorCode.NOT_ACCEPTABLE).with_status(406)
    if isinstance(exc, drf.UnsupportedMediaType):
        return errors.APIError(str(exc.detail), code=errors.ErrorCode.UNSUPPORTED_MEDIA_TYPE).with_status(415)
    db_error = domain_error_from_db(exc)
    if db_error is not None:
        return db_error
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return errors.ValidationFailed("The request is invalid.", details=details)
    return errors.InternalError()


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    error = to_api_error(exc)
    if isinstance(error, errors.InternalError) and error is not exc:
        # Full detail to the logs and Sentry; none of it to the client.
        logger.exception("unhandled_exception", exc_type=type(exc).__name__)
        try:
            import sentry_sdk

            sentry_sdk.capture_exception(exc)
        except ImportError:  # pragma: no cover - sentry-sdk is a pinned dependency
            pass
    elif error.status_code >= 500:
        logger.error("api_error", code=str(error.code), message=error.message)
    set_rollback()
    response = Response(envelope(error=error.as_dict()), status=error.status_code)
    if isinstance(error, errors.RateLimited):
        response["Retry-After"] = str(error.retry_after)
    if isinstance(error, errors.NotAuthenticated):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
