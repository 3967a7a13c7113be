"""Refusals raised by database triggers, mapped to the same errors the services raise.

Trigger messages start with a stable code ("entry_immutable: ...", "unbalanced_entry: ...");
a write that slips past a service check (or comes from raw SQL in a shell) is still refused,
and through the API it reads exactly like the service's own refusal.
"""

from __future__ import annotations

import re

from django.db import DatabaseError

from sofinance import errors

_TRIGGER_MESSAGE = re.compile(r"\b([a-z_]+): (.+)")

_CODES: dict[str, tuple[int, str]] = {
    "entry_immutable": (409, "A posted entry cannot be changed; correct it with a reversal."),
    "unbalanced_entry": (422, "The entry does not balance."),
    "period_closed": (422, "The date falls in a closed or locked period."),
    "period_locked": (409, "The period is locked and cannot change."),
    "entry_inconsistent": (422, "The entry's lines disagree with the entry."),
    "audit_immutable": (409, "Audit events cannot be changed or deleted."),
    "invoice_immutable": (409, "An issued invoice cannot be changed; credit or void it."),
    "invoice_inconsistent": (422, "The document's totals disagree with its lines."),
    "credit_note_immutable": (409, "A credit note cannot be changed."),
    "payment_immutable": (409, "A recorded payment cannot be changed; void it and record it again."),
    "allocation_immutable": (409, "An allocation is only ever unallocated, once."),
    "tax_rate_in_use": (409, "A tax rate used by invoices keeps its rate; deactivate it instead."),
}


def domain_error_from_db(exc: BaseException) -> errors.APIError | None:
    """The APIError for a trigger refusal, or None when `exc` is some other database error."""
    if not isinstance(exc, DatabaseError):
        return None
    for line in str(exc).splitlines():
        match = _TRIGGER_MESSAGE.search(line)
        if match and match.group(1) in _CODES:
            status, default = _CODES[match.group(1)]
            code = match.group(1)
            message = match.group(2).strip() or default
            if code == "period_locked":
                return errors.Conflict(message, details={"reason": code})
            if status == 409:
                return errors.Conflict(message, code=code)
            return errors.DomainError(message, code=code)
    return None
