"""Errors with stable codes.

`APIError` is the base of every error the API renders into the envelope. Services raise
`DomainError` subclasses (each app keeps its own in `<app>/errors.py`); the one exception
handler in `sofinance.api.exceptions` turns them into `{"success": false, "error": {...}}`.
Codes are stable snake_case strings that clients rely on: never rename one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "validation_error"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    CONFLICT = "conflict"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    ENTRY_IMMUTABLE = "entry_immutable"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"


class APIError(Exception):
    """An error with an HTTP status, a stable code, a human message and optional details."""

    status_code: int = 400
    code: str = ErrorCode.VALIDATION_ERROR
    default_message: str = "The request is invalid."
    # A finer, still stable, reason within a generic code (e.g. code "conflict",
    # reason "already_reversed"); sent as details["reason"].
    reason: str | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = dict(details or {})
        if self.reason and "reason" not in self.details:
            self.details["reason"] = self.reason
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def with_status(self, status_code: int) -> APIError:
        self.status_code = status_code
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "message": self.message, "details": self.details}


class ValidationFailed(APIError):
    status_code = 400
    code = ErrorCode.VALIDATION_ERROR
    default_message = "The request is invalid."


class NotAuthenticated(APIError):
    status_code = 401
    code = ErrorCode.NOT_AUTHENTICATED
    default_message = "Authentication credentials were not provided or are invalid."


class PermissionDenied(APIError):
    status_code = 403
    code = ErrorCode.PERMISSION_DENIED
    default_message = "You do not have permission to perform this action."


class NotFound(APIError):
    status_code = 404
    code = ErrorCode.NOT_FOUND
    default_message = "Not found."


class MethodNotAllowed(APIError):
    status_code = 405
    code = ErrorCode.METHOD_NOT_ALLOWED
    default_message = "Method not allowed."


class Conflict(APIError):
    status_code = 409
    code = ErrorCode.CONFLICT
    default_message = "The request conflicts with the current state of the resource."


class IdempotencyConflict(Conflict):
    code = ErrorCode.IDEMPOTENCY_CONFLICT
    default_message = "This Idempotency-Key was already used with a different request."


class PayloadTooLarge(APIError):
    status_code = 413
    code = ErrorCode.PAYLOAD_TOO_LARGE
    default_message = "The request body is too large."


class RateLimited(APIError):
    status_code = 429
    code = ErrorCode.RATE_LIMITED
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(APIError):
    """Something the API depends on (the database, the cache, the task queue) is briefly out of
    reach or too busy: nothing was done, and the same request may be sent again after
    `retry_after` seconds (sent as the Retry-After header)."""

    status_code = 503
    code = ErrorCode.SERVICE_UNAVAILABLE
    default_message = (
        "The service is briefly unavailable. Nothing was changed; retry after Retry-After seconds."
    )

    def __init__(self, message: str | None = None, *, retry_after: int = 5, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalError(APIError):
    status_code = 500
    code = ErrorCode.INTERNAL_ERROR
    default_message = "An internal error occurred. It has been logged."


class DomainError(APIError):
    """A business rule refused the operation (422 unless a subclass says otherwise).

    Apps subclass it with their own codes, e.g. `ledger.errors.UnbalancedEntry`.
    """

    status_code = 422
    code = "domain_error"
    default_message = "The operation breaks a business rule."
