"""Errors of the audit trail, each with its stable code."""

from sofinance.errors import Conflict


class AuditImmutable(Conflict):
    """Raised by the database when anything tries to change or delete recorded audit history."""

    code = "audit_immutable"
    default_message = "Audit events cannot be changed or deleted."
