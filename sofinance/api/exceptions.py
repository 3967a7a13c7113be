"""The one exception handler: every error becomes an envelope with a stable code."""

from __future__ import annotations

import math

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from sofinance import errors
from sofinance.api.envelope import envelope
from sofinance.api.fields import DOMAIN_FIELD_CODES
from sofinance.api.renderers import EnvelopeBrowsableAPIRenderer, EnvelopeJSONRenderer
from sofinance.db_errors import domain_error_from_db
from sofinance.outages import discard_broken_connections, outage_error

logger = structlog.get_logger("sofinance.api")


def _flatten_drf_detail(detail):
    """DRF's ErrorDetail tree -> plain JSON (lists of messages per field)."""
    if isinstance(detail, dict):
        return {str(k): _flatten_drf_detail(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten_drf_detail(v) for v in detail]
    return str(detail)


def _leaf_codes(codes) -> set[str]:
    if isinstance(codes, dict):
        return set().union(*(_leaf_codes(v) for v in codes.values())) if codes else set()
    if isinstance(codes, list):
        return set().union(*(_leaf_codes(v) for v in codes)) if codes else set()
    return {str(codes)}


def _first_message(details) -> str:
    while isinstance(details, (dict, list)) and details:
        details = next(iter(details.values())) if isinstance(details, dict) else details[0]
    return str(details) if details else "The request is invalid."


def to_api_error(exc: Exception) -> errors.APIError:
    """Map any exception raised while handling an API request to an APIError."""
    if isinstance(exc, errors.APIError):
        return exc
    if isinstance(exc, drf.ValidationError):
        details = _flatten_drf_detail(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details}
        codes = _leaf_codes(exc.get_codes())
        if len(codes) == 1 and codes <= DOMAIN_FIELD_CODES:
            # e.g. an amount a money column cannot hold exactly: a business rule, as the services say
            (code,) = codes
            return errors.DomainError(_first_message(details), code=code, details=details)
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
    outage = outage_error(exc)
    if outage is not None:
        return outage
    if isinstance(exc, (ProtectedError, RestrictedError)):
        # A delete that other records still refer to: the service should have said so first.
        _report_gap(exc)
        return errors.Conflict(
            "Other records refer to this one, so it is not deleted.", details={"reason": "in_use"}
        )
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return errors.ValidationFailed("The request is invalid.", details=details)
    return _input_error(exc) or errors.InternalError()


def _input_error(exc: Exception) -> errors.APIError | None:
    """Classes of errors that mean "this input cannot be handled", whichever view met them.

    Validation should have refused the input earlier, so each of these is logged (and sent to
    Sentry) as a gap to close; the client still gets a 4xx with a stable code, and the handler
    rolls the transaction back.
    """
    if isinstance(exc, RequestDataTooBig):
        return errors.PayloadTooLarge("The request body is too large.")
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a disallowed host...
        logger.warning("suspicious_request", exc_type=type(exc).__name__, error=str(exc))
        return errors.ValidationFailed("The request is malformed.")
    if isinstance(exc, DataError):  # a value the database cannot store: overflow, out of range
        _report_gap(exc)
        return errors.ValidationFailed(
            "A value in the request is out of range or invalid for its field.",
            details={"reason": "invalid_value"},
        )
    if isinstance(exc, ValueError):  # a parse that validation did not catch
        _report_gap(exc)
        return errors.ValidationFailed(
            "A value in the request is invalid.", details={"reason": "invalid_value"}
        )
    return None


def _report_gap(exc: Exception) -> None:
    logger.error("unvalidated_input", exc_type=type(exc).__name__, exc_info=exc)
    _capture(exc)


def _capture(exc: Exception) -> None:
    try:
        import sentry_sdk

        sentry_sdk.capture_exception(exc)
    except ImportError:  # pragma: no cover - sentry-sdk is a pinned dependency
        pass


def _render_as_json(request) -> None:
    """A refusal is an envelope whatever format was asked for: a request for a CSV download
    (`?format=csv`, `Accept: text/csv`) is refused in JSON, with its code and message, rather
    than as an empty CSV body."""
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is not None and not isinstance(
        renderer, (EnvelopeJSONRenderer, EnvelopeBrowsableAPIRenderer)
    ):
        request.accepted_renderer = EnvelopeJSONRenderer()
        request.accepted_media_type = EnvelopeJSONRenderer.media_type


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    _render_as_json(context.get("request"))
    error = to_api_error(exc)
    if isinstance(error, errors.InternalError) and error is not exc:
        # Full detail to the logs and Sentry; none of it to the client.
        logger.exception("unhandled_exception", exc_type=type(exc).__name__)
        _capture(exc)
    elif isinstance(error, errors.ServiceUnavailable):
        discard_broken_connections()
        logger.warning(
            "dependency_unavailable", reason=error.details.get("reason"), exc_type=type(exc).__name__
        )
    elif error.status_code >= 500:
        logger.error("api_error", code=str(error.code), message=error.message)
    set_rollback()
    response = Response(envelope(error=error.as_dict()), status=error.status_code)
    if isinstance(error, (errors.RateLimited, errors.ServiceUnavailable)):
        response["Retry-After"] = str(error.retry_after)
    if isinstance(error, errors.NotAuthenticated):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
