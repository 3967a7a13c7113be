"""Before/after snapshots of model rows, as JSON-safe values (Decimals and dates as strings)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models

_AS_IS = frozenset({type(None), bool, int, str})


def json_value(value: Any) -> Any:
    if type(value) in _AS_IS or value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
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


SHOWN_CHANGES = 8  # fields an event's summary names before "and N more"


def changes_in_words(action: str, changes: dict[str, Any], metadata: dict[str, Any]) -> str:
    """A line a person reads in an object's history: what changed, from what to what, and the
    event's details (a reason, the reversal's number), without the JSON. A value set for the
    first time is named without a before-value; a list is counted (`2 lines`); a field set empty
    at creation is left out."""

    def shown(value: Any) -> str:
        if isinstance(value, list):
            return f"{len(value)} item{'s' if len(value) != 1 else ''}"
        if isinstance(value, dict):
            return "…"
        return "—" if value in (None, "") else str(value)

    parts = []
    named = 0
    for name, change in changes.items():
        if not isinstance(change, dict) or "after" not in change:
            continue
        before, after = change.get("before"), change["after"]
        label = name.replace("_", " ")
        if isinstance(after, list):
            text = f"{len(after)} {label}"
        elif before is None:
            if after in (None, ""):
                continue
            text = f"{label} {shown(after)}"
        else:
            text = f"{label} {shown(before)} → {shown(after)}"
        named += 1
        if named <= SHOWN_CHANGES:
            parts.append(text)
    if named > SHOWN_CHANGES:
        parts.append(f"and {named - SHOWN_CHANGES} more")
    for name, value in (metadata or {}).items():
        if isinstance(value, str | int | float | bool) and value != "":
            parts.append(f"{name.replace('_', ' ')}: {value}")
    return "; ".join(parts)
