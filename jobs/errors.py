"""Errors of the jobs app, each with its stable code (the codes clients rely on)."""

from enum import StrEnum

from sofinance.errors import Conflict, DomainError


class JobsErrorCode(StrEnum):
    """Every code and conflict reason the jobs app answers with. Never rename one."""

    INVALID_EXPORT = "invalid_export"
    # reasons of a 409 `conflict`
    ALREADY_RESOLVED = "already_resolved"
    EXPORT_NOT_READY = "export_not_ready"
    EXPORT_EXPIRED = "export_expired"


class InvalidExport(DomainError):
    """The export's kind, format and parameters do not make a report (an unknown account...)."""

    code = JobsErrorCode.INVALID_EXPORT
    default_message = "The export cannot be made with these parameters."


class AlreadyResolved(Conflict):
    reason = JobsErrorCode.ALREADY_RESOLVED
    default_message = "The discrepancy is already resolved."


class ExportNotReady(Conflict):
    reason = JobsErrorCode.EXPORT_NOT_READY
    default_message = "The export has no file yet."


class ExportExpired(Conflict):
    reason = JobsErrorCode.EXPORT_EXPIRED
    default_message = "The export's file has expired and was deleted; request a new export."
