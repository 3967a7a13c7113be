"""The filter backend of every list: django-filter, plus the checks no filter should have to repeat.

A filter field that parses a date-time accepts any ISO 8601 offset Python accepts (up to ±23:59),
but PostgreSQL refuses offsets beyond ±15:59, and a date-time at the edge of the calendar
overflows when the database adapter moves it to UTC. The backend checks every parsed date-time
of every filter set once, so each filter (today's and tomorrow's) answers 400 rather than
letting the database fail on it.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend

from sofinance.api.fields import parse_iso_date
from sofinance.errors import ValidationFailed

# The widest UTC offset PostgreSQL accepts in a timestamptz literal.
MAX_UTC_OFFSET = datetime.timedelta(hours=15, minutes=59)


def datetime_value_problem(value: object) -> str | None:
    """Why a parsed date-time cannot be used in a query, or None."""
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        return None
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        return "UTC offsets run from -15:59 to +15:59."
    try:
        value.astimezone(datetime.UTC)
    except OverflowError:
        return "The date-time is outside the calendar (years 1-9999 in UTC)."
    return None


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise utils.translate_validation(filterset.errors)
        problems = {
            name: [problem]
            for name, value in filterset.form.cleaned_data.items()
            if (problem := datetime_value_problem(value))
        }
        if problems:
            raise ValidationFailed("The request is invalid.", details=problems)
        return filterset.qs


class StrictDateFormField(forms.Field):
    default_error_messages = {"invalid": "Enter a date written YYYY-MM-DD, e.g. 2026-03-31."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parsed = parse_iso_date(value)
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class StrictDateFilter(django_filters.DateFilter):
    """A date filter that takes exactly YYYY-MM-DD (Django's own takes "3/31/2026", "Mar 31 2026"
    and other scripts' digits)."""

    field_class = StrictDateFormField
