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
