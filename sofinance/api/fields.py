"""Strict serializer fields: every serializer of the API parses booleans, dates, integers and money
with these, so no input is coerced into a value the client did not write.

DRF's own fields are lenient on purpose (forms): BooleanField takes "yes", 1 and "on", DateField
takes "20260331", "2026-W13-2" and other scripts' digits, IntegerField takes "12.0" and true. A
financial API takes what its documentation says and refuses the rest with a clear message.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sofinance.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    MoneyError,
    check_storable,
    parse_amount,
    parse_rate,
)

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ASCII_INTEGER = re.compile(r"-?[0-9]{1,18}")


def parse_iso_date(value: object) -> datetime.date | None:
    """A date written exactly YYYY-MM-DD (ASCII digits), or None."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return None


# A boolean query parameter is written `true` or `false` (any case); "1", "yes" or "on" are refused
# with this message, naming the parameter, rather than read as one or the other.
QUERY_BOOLEANS = {"true": True, "false": False}
QUERY_BOOLEAN_REFUSAL = "Write true or false."


def parse_query_boolean(value: str) -> bool | None:
    """`true` or `false` in any case, else None."""
    return QUERY_BOOLEANS.get(value.lower())


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false`, nothing else (not "true", 1 or "yes")."""

    default_error_messages = {"invalid": "Must be a JSON boolean: true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid")


@extend_schema_field({"type": "string", "format": "date", "example": "2026-03-31"})
class StrictDateField(serializers.DateField):
    """A date written exactly YYYY-MM-DD."""

    default_error_messages = {"invalid": "Must be a date written YYYY-MM-DD, e.g. 2026-03-31."}

    def to_internal_value(self, value: Any) -> datetime.date:
        parsed = parse_iso_date(value)
        if parsed is None:
            self.fail("invalid")
        return parsed


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (or its ASCII digits as a string): not 12.0, "12.5", true or "١٢"."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            value = data
        elif isinstance(data, str) and ASCII_INTEGER.fullmatch(data):
            value = int(data)
        else:
            self.fail("invalid")
        self.run_validators(value)
        return value


def _money_error(exc: MoneyError) -> serializers.ValidationError:
    return serializers.ValidationError(str(exc), code=exc.code)


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
        "example": "1250.00",
        "description": "A decimal string (a JSON number is accepted too); never rounded.",
    }
)
class MoneyField(serializers.Field):
    """An amount: a plain decimal string ("1250.00") or a JSON number, kept exact as a Decimal.

    Refuses floats' and strings' loose forms (exponents, spaces, other scripts' digits), NaN,
    infinities and absurd sizes (400 `validation_error`), and any value a money column cannot
    store exactly (422 `currency_precision`). The currency's own places are the service's check.
    `null` (and an empty string) mean "no amount" where the field allows null.
    """

    default_error_messages = {"null": "This field may not be null."}

    def validate_empty_values(self, data):
        if data == "" and self.allow_null:
            return (True, None)
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            amount = parse_amount(data)
            check_storable(amount, max_digits=MONEY_MAX_DIGITS, places=MONEY_DECIMAL_PLACES)
        except MoneyError as exc:
            raise _money_error(exc) from None
        return amount

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^[0-9]+(\.[0-9]+)?$",
        "example": "1.0850",
        "description": "A positive decimal string.",
    }
)
class RateField(MoneyField):
    """An exchange rate: positive, at most 10 decimals and 14 digits before the point."""

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return parse_rate(data)
        except MoneyError as exc:
            raise _money_error(exc) from None


# Field error codes that are business-rule refusals (422) rather than malformed input (400): when
# every error of a request has one of these codes, the request is refused with that code.
DOMAIN_FIELD_CODES = frozenset({"currency_precision"})


@extend_schema_field(OpenApiTypes.ANY)
class RawValueField(serializers.Field):
    """Passes a JSON value through untouched (an account reference: an id or a code); the service
    that receives it validates it."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "An id (a JSON number) or a code (a JSON string).",
    }
)
class ReferenceField(RawValueField):
    """An object named by its id or its code, passed through for the service to resolve. Anything
    else (a list, an object, true, "") is the body's mistake: 400 `validation_error`, not a 422
    saying that no such object exists."""

    default_error_messages = {"invalid": "An id (a JSON number) or a code (a JSON string) is required."}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, (int, str)) or data == "":
            self.fail("invalid")
        return data


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}], "example": "2.5"})
class DecimalValueField(RawValueField):
    """A decimal (a plain decimal string or a JSON number) that the service parses exactly."""
