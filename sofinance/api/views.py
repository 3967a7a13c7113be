"""Helpers shared by every API view."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from rest_framework.response import Response

from sofinance.api.envelope import envelope
from sofinance.api.fields import RawValueField

__all__ = ["RawValueField", "iso_datetime", "ok", "parse_object_ref", "validated"]


def ok(data: Any = None, *, status: int = 200, meta: dict[str, Any] | None = None) -> Response:
    """A success envelope."""
    return Response(envelope(data, meta=meta), status=status)


def validated(serializer_class, data, **kwargs) -> dict[str, Any]:
    """Parse request data with an input serializer; a bad shape raises validation_error (400)."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def iso_datetime(value: datetime.datetime | None) -> str | None:
    """A timestamp as DRF renders one (ISO 8601 in the current time zone, UTC as "Z")."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_object_ref(value: Any) -> int | str | None:
    """A reference given as a JSON number is an id; as a string it is a code."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return str(value)
