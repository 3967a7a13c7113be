"""Before/after snapshots of model rows, as JSON-safe values (Decimals and dates as strings)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db import models

_AS_IS = frozenset({type(None), bool, int, str})


def json_value(value: Any) -> Any:
    if type(value) in _AS_IS or value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        # Never in exponent notation: a quantity of 10 normalised is Decimal("1E+1"), which the
        # audit trail showed as "1E+1".
        return format(value, "f")
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(v) for v in value]
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete fields of a row (foreign keys as ids)."""
    wanted = set(fields) if fields is not None else None
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if wanted is not None and field.name not in wanted and field.attname not in wanted:
            continue
        if field.name in ("password",):
            data[field.name] = "***"
            continue
        data[field.name] = json_value(getattr(obj, field.attname))
    return data


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{field: {"before": x, "after": y}} for every field whose value changed."""
    before = before or {}
    after = after or {}
    result: dict[str, dict[str, Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = json_value(before.get(key)), json_value(after.get(key))
        if old != new:
            result[key] = {"before": old, "after": new}
    return result


SHOWN_CHANGES = 12  # fields an event's summary names before "and N more"


def changes_in_words(
    action: str,
    changes: dict[str, Any],
    metadata: dict[str, Any],
    *,
    label: Callable[[str], str] | None = None,
    value: Callable[[str, Any], str] | None = None,
) -> str:
    """A line a person reads in an object's history: what changed, from what to what, and the
    event's details (a reason, the reversal's number), without the JSON. A value set for the
    first time is named without a before-value; a list is counted (`2 lines`); a field set empty
    at creation is left out. `label` names a field and `value` words a stored value (the caller
    knows the model: its verbose names, choice labels, what a foreign key's id names)."""

    def named(name: str) -> str:
        return label(name) if label is not None else name.replace("_", " ")

    def shown(name: str, stored: Any) -> str:
        if isinstance(stored, dict):
            return "…"
        if stored in (None, ""):
            return "—"
        return value(name, stored) if value is not None else str(stored)

    parts = []
    count = 0
    for name, change in changes.items():
        if not isinstance(change, dict) or "after" not in change:
            continue
        before, after = change.get("before"), change["after"]
        if isinstance(after, list):
            noun = named(name)
            text = f"{len(after)} {noun[:-1] if len(after) == 1 and noun.endswith('s') else noun}"
        elif before is None:
            if after in (None, ""):
                continue
            text = f"{named(name)} {shown(name, after)}"
        else:
            text = f"{named(name)} {shown(name, before)} → {shown(name, after)}"
        count += 1
        if count <= SHOWN_CHANGES:
            parts.append(text)
    if count > SHOWN_CHANGES:
        parts.append(f"and {count - SHOWN_CHANGES} more")
    for name, detail in (metadata or {}).items():
        if isinstance(detail, str | int | float | bool) and detail != "":
            parts.append(f"{name.replace('_', ' ')}: {detail}")
    return "; ".join(parts)
