"""The strict serializer fields, and the guard that every request serializer uses them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from sofinance.api.fields import (
    MoneyField,
    RateField,
    StrictBooleanField,
    StrictDateField,
    StrictIntegerField,
    parse_iso_date,
)

# DRF's lenient field classes, which no request serializer may use as they are.
LENIENT = {
    serializers.BooleanField: "StrictBooleanField",
    serializers.DateField: "StrictDateField",
    serializers.DateTimeField: "a strict date-time field",
    serializers.IntegerField: "StrictIntegerField",
    serializers.DecimalField: "MoneyField or RateField",
    serializers.FloatField: "MoneyField or RateField",
}
# Request fields that carry money or rates by name: they must be MoneyField (RateField is one).
MONEY_NAMES = {"debit", "credit", "amount", "rate", "fx_rate", "unit_price", "price", "total"}


def _all_serializer_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    stack = [serializers.Serializer]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {
            "accounts",
            "ledger",
            "sales",
            "banking",
            "audit",
            "sofinance",
            "jobs",
        }:
            found[cls.__name__] = cls
    return found


def _fields(serializer, prefix=""):
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.Serializer):
            yield from _fields(field, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


def test_every_request_body_is_parsed_by_strict_fields():
    # given: the request bodies the API documents (a "…Request" component per input serializer)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    requests = [n for n in schema["components"]["schemas"] if n.endswith("Request")]
    classes = _all_serializer_classes()

    # when
    lenient = []
    for component in requests:
        name = component.removeprefix("Patched").removesuffix("Request")
        assert name in classes, f"{component}: no serializer named {name}"
        for path, field in _fields(classes[name]()):
            if field.read_only:
                continue
            if type(field) in LENIENT:
                lenient.append(f"{name}.{path}: {type(field).__name__} -> use {LENIENT[type(field)]}")
            elif path.rsplit(".", 1)[-1] in MONEY_NAMES and not isinstance(field, MoneyField):
                lenient.append(f"{name}.{path}: {type(field).__name__} -> use MoneyField or RateField")

    # then
    assert len(requests) >= 15
    assert lenient == []


@pytest.mark.parametrize("value", [True, False])
def test_strict_boolean_takes_json_booleans(value):
    assert StrictBooleanField().run_validation(value) is value


@pytest.mark.parametrize("value", ["true", "false", 1, 0, "yes", "on", None, "1"])
def test_strict_boolean_refuses_everything_else(value):
    with pytest.raises(serializers.ValidationError) as info:
        StrictBooleanField(allow_null=False).run_validation(value)
    assert info.value.detail[0] in ("Must be a JSON boolean: true or false.", "This field may not be null.")


@pytest.mark.parametrize(
    "value",
    [
        "20260331",
        "2026-W13-2",
        "2026-3-31",
        "٢٠٢٦-٠٣-٣١",
        "2026-03-31T00:00:00",
        " 2026-03-31",
        "2026-02-30",
        20260331,
    ],
)
def test_strict_date_is_exactly_yyyy_mm_dd(value):
    with pytest.raises(serializers.ValidationError) as info:
        StrictDateField().run_validation(value)
    assert info.value.detail == ["Must be a date written YYYY-MM-DD, e.g. 2026-03-31."]


def test_strict_date_parses_a_real_date():
    assert StrictDateField().run_validation("2026-03-31") == datetime.date(2026, 3, 31)
    assert parse_iso_date("2024-02-29") == datetime.date(2024, 2, 29)
    assert parse_iso_date("2025-02-29") is None


@pytest.mark.parametrize(("value", "expected"), [(12, 12), ("12", 12), (-3, -3)])
def test_strict_integer_takes_integers(value, expected):
    assert StrictIntegerField().run_validation(value) == expected


@pytest.mark.parametrize("value", [True, 12.0, "12.0", Decimal("12"), "١٢", "1e3", " 12", "9" * 30])
def test_strict_integer_refuses_the_rest(value):
    with pytest.raises(serializers.ValidationError) as info:
        StrictIntegerField().run_validation(value)
    assert info.value.detail == ["Must be a whole number."]


def test_strict_integer_keeps_its_bounds():
    with pytest.raises(serializers.ValidationError) as info:
        StrictIntegerField(max_value=12).run_validation(13)
    assert info.value.detail == ["Ensure this value is less than or equal to 12."]


def test_money_field_keeps_the_exact_decimal_and_codes_its_refusals():
    field = MoneyField(allow_null=True)

    assert field.run_validation("1200.00") == Decimal("1200.00")
    assert field.run_validation(Decimal("1E+2")) == Decimal(100)
    assert field.run_validation("") is None
    assert field.run_validation(None) is None
    with pytest.raises(serializers.ValidationError) as too_precise:
        field.run_validation("0.00001")
    with pytest.raises(serializers.ValidationError) as loose:
        field.run_validation("1E2")
    assert too_precise.value.get_codes() == ["currency_precision"]
    assert loose.value.get_codes() == ["invalid_amount"]


def test_rate_field_checks_the_rate_column():
    with pytest.raises(serializers.ValidationError) as info:
        RateField().run_validation("123456789012345")
    assert info.value.get_codes() == ["currency_precision"]
    assert RateField().run_validation("1.0850") == Decimal("1.0850")
