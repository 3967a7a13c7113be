"""Refusals raised by database triggers, mapped to the same errors the services raise.

Trigger messages start with a stable code ("entry_immutable: ...", "unbalanced_entry: ...");
a write that slips past a service check (or comes from raw SQL in a shell) is still refused,
and through the API it reads exactly like the service's own refusal. Each app registers its
trigger codes with its own exception classes when it is ready (`register_trigger_errors` in its
AppConfig), so the platform knows no domain app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.db import DatabaseError

from sofinance import errors

_TRIGGER_MESSAGE = re.compile(r"\b([a-z_]+): (.+)")
_REGISTRY: dict[str, type[errors.APIError]] = {}


def register_trigger_errors(mapping: Mapping[str, type[errors.APIError]]) -> None:
    """Map trigger codes (the text before the first colon of a trigger's message) to errors."""
    _REGISTRY.update(mapping)


def domain_error_from_db(exc: BaseException) -> errors.APIError | None:
    """The APIError for a trigger refusal, or None when `exc` is some other database error."""
    if not isinstance(exc, DatabaseError):
        return None
    for line in str(exc).splitlines():
        match = _TRIGGER_MESSAGE.search(line)
        if match and match.group(1) in _REGISTRY:
            return _REGISTRY[match.group(1)](match.group(2).strip() or None)
    return None
