"""Helpers shared by every API view."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from sofinance.api.envelope import envelope
from sofinance.api.fields import RawValueField

__all__ = ["RawValueField", "ok", "parse_object_ref", "validated"]


def ok(data: Any = None, *, status: int = 200, meta: dict[str, Any] | None = None) -> Response:
    """A success envelope."""
    return Response(envelope(data, meta=meta), status=status)


def validated(serializer_class, data, **kwargs) -> dict[str, Any]:
    """Parse request data with an input serializer; a bad shape raises validation_error (400)."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def parse_object_ref(value: Any) -> int | str | None:
    """A reference given as a JSON number is an id; as a string it is a code."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return str(value)
