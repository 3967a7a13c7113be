"""Helpers shared by every API view."""

from __future__ import annotations

import csv
import datetime
import functools
import io
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response

from sofinance.api.envelope import envelope
from sofinance.api.fields import QUERY_BOOLEAN_REFUSAL, RawValueField, parse_iso_date, parse_query_boolean
from sofinance.errors import ValidationFailed
from sofinance.spreadsheet import csv_row

__all__ = [
    "RawValueField",
    "csv_response",
    "iso_datetime",
    "no_body",
    "ok",
    "parse_object_ref",
    "query_bool",
    "query_date",
    "unknown_fields",
    "validated",
]


def ok(data: Any = None, *, status: int = 200, meta: dict[str, Any] | None = None) -> Response:
    """A success envelope."""
    return Response(envelope(data, meta=meta), status=status)


UNKNOWN_FIELD = (
    "Unknown field: this operation does not take it (see its request body in the API documentation)."
)


def unknown_fields(serializer: serializers.BaseSerializer, data: Any) -> Any:
    """What `data` holds that `serializer` does not take, as DRF lays out errors ({field: [message]},
    a nested object's under its field, a list's item by item), or None when there is none.

    DRF drops a key it does not know: a typo (`"posted": true`, `"paymentTerms": 60`) would be
    answered 201 and do something else than asked. Read-only fields are not taken either."""
    if isinstance(serializer, serializers.ListSerializer):
        if not isinstance(data, list):
            return None
        found = [unknown_fields(serializer.child, item) or {} for item in data]
        return found if any(found) else None
    if not isinstance(serializer, serializers.Serializer) or not hasattr(data, "keys"):
        return None
    fields = {name: field for name, field in serializer.fields.items() if not field.read_only}
    found: dict[str, Any] = {}
    for key in data:
        field = fields.get(key)
        if field is None:
            found[key] = [UNKNOWN_FIELD]
        elif isinstance(field, serializers.BaseSerializer):
            nested = unknown_fields(field, data[key])
            if nested:
                found[key] = nested
    return found or None


def no_body(handler):
    """Mark a write that takes no body (post an entry, close a period, delete a draft): a field
    sent to it is refused (400 `validation_error`, "Unknown field"), as `validated` refuses a field
    an operation does not take, instead of being ignored while the write goes ahead (a typo'd
    option on an irreversible lock). An empty body, `{}`, is fine."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        data = request.data
        if hasattr(data, "keys"):
            if data:
                raise serializers.ValidationError({key: [UNKNOWN_FIELD] for key in data})
        elif data not in (None, "", [], ()):
            raise serializers.ValidationError({"body": ["This operation takes no body."]})
        return handler(self, request, *args, **kwargs)

    return wrapper


def validated(serializer_class, data, **kwargs) -> dict[str, Any]:
    """Parse request data with an input serializer; a bad shape raises validation_error (400),
    and so does a field the serializer does not take (`unknown_fields`), nested ones included."""
    serializer = serializer_class(data=data, **kwargs)
    unknown = unknown_fields(serializer, data)
    if not unknown:
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
    # Said together with what else is wrong, so one answer names every problem.
    errors = serializer.errors if not serializer.is_valid() else {}
    raise serializers.ValidationError(_merged(dict(errors) if isinstance(errors, dict) else {}, unknown))


def _merged(errors: Any, unknown: Any) -> Any:
    if isinstance(errors, dict) and isinstance(unknown, dict):
        merged = dict(errors)
        for key, value in unknown.items():
            merged[key] = _merged(merged[key], value) if key in merged else value
        return merged
    if isinstance(errors, list) and isinstance(unknown, list) and len(errors) == len(unknown):
        return [_merged(e, u) for e, u in zip(errors, unknown, strict=True)]
    return errors


def iso_datetime(value: datetime.datetime | None, tz: datetime.tzinfo | None = None) -> str | None:
    """A timestamp as DRF renders one (ISO 8601 in the current time zone, UTC as "Z"). Pass the
    current time zone as `tz` when rendering many (looking it up costs more than the rest)."""
    if value is None:
        return None
    text = timezone.localtime(value, tz).isoformat()
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


# Old names of the range parameters, refused where `from` / `to` are read (never ignored: a
# client sending them must not get a report over another range than it meant).
RENAMED_RANGE_PARAMETERS = {"from": "date_from", "to": "date_to"}


def refuse_undocumented_query(request, view) -> None:
    """Refuse the query parameters a report does not read (400 naming each and what it takes): a
    misspelt `asof` would otherwise give today's report to a client that asked for another day.
    A report view lists what it reads in `query_parameters` (`format` is every report's); a test
    holds each list equal to the parameters its OpenAPI operation documents."""
    documented = set(getattr(view, "query_parameters", ())) | {"format"}
    unknown = sorted(name for name in request.query_params if name not in documented)
    if not unknown:
        return
    renamed = {old: new for new, old in RENAMED_RANGE_PARAMETERS.items()}
    takes = ", ".join(f"`{name}`" for name in sorted(documented))
    raise ValidationFailed(
        f"Not a parameter of this report: {', '.join(repr(name[:40]) for name in unknown[:5])}.",
        details={
            name[:100]: [
                f"Not a parameter here: use `{renamed[name]}`."
                if name in renamed and renamed[name] in documented
                else f"Not a parameter of this report; it takes {takes}."
            ]
            for name in unknown[:20]
        },
    )


def query_date(
    request,
    name: str,
    *,
    default: datetime.date | None = None,
    first: datetime.date = datetime.date(1900, 1, 1),
    last: datetime.date = datetime.date(9998, 12, 31),
) -> datetime.date:
    """A YYYY-MM-DD query parameter; missing without a default, not a date, or outside
    [first, last] is a validation_error naming the parameter. Reading `from` or `to` refuses
    their old names `date_from` / `date_to`."""
    old = RENAMED_RANGE_PARAMETERS.get(name)
    if old is not None and old in request.query_params:
        raise ValidationFailed(
            f"`{old}` is not a parameter here: use `{name}`.",
            details={old: [f"Not a parameter here: use `{name}`."]},
        )
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if default is not None:
            return default
        raise ValidationFailed(
            f"The query parameter {name!r} is required (YYYY-MM-DD).", details={name: ["Required."]}
        )
    value = parse_iso_date(raw)
    if value is None:
        raise ValidationFailed(f"{raw[:40]!r} is not a date (YYYY-MM-DD).", details={name: ["Invalid date."]})
    if not first <= value <= last:
        raise ValidationFailed(f"Dates run from {first} to {last}.", details={name: ["Out of range."]})
    return value


def query_bool(request, name: str, *, default: bool = False) -> bool:
    """A boolean query parameter, as the filters read theirs: `true` or `false` in any case;
    missing or blank is `default`. Anything else ("1", "yes", "on") is a validation_error naming
    the parameter: a client must never get another answer than the one it believes it asked for."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    value = parse_query_boolean(raw)
    if value is None:
        raise ValidationFailed("The request is invalid.", details={name: [QUERY_BOOLEAN_REFUSAL]})
    return value


def csv_response(rows: list[list], filename: str):
    """A CSV download of `rows` (the first row is the header); text that a spreadsheet would run
    as a formula is written as text (sofinance.spreadsheet)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_row(row) for row in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
