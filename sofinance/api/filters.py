"""The filter backend of every list: django-filter, plus the checks no filter should have to repeat.

Every date range of the API is `from` and `to` (YYYY-MM-DD, both inclusive): `DateRangeFilterSet`
declares them once. Names a list used to take and no longer does (`date_from`, `date_to`) are
refused with a 400 that names the right parameter, rather than ignored: a client still sending
them must not silently get an unfiltered list.

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
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend

from sofinance.api.fields import QUERY_BOOLEAN_REFUSAL, parse_iso_date, parse_query_boolean
from sofinance.errors import ValidationFailed
from sofinance.ids import MAX_ID

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
        refused = {
            name: [f"Not a filter of this list: use `{replacement}`."]
            for name, replacement in getattr(filterset, "renamed_parameters", {}).items()
            if name in request.query_params
        }
        # django-filter reads a boolean it does not know ("1", "yes", and even "TRUE") as no
        # filter at all: the client would get the whole list for a filter it believes it applied.
        booleans = {
            name: parse_query_boolean(request.query_params[name])
            for name, declared in filterset.filters.items()
            if isinstance(declared, django_filters.BooleanFilter)
            and request.query_params.get(name)  # blank: no filter (a form's "unknown")
        }
        refused.update({name: [QUERY_BOOLEAN_REFUSAL] for name, value in booleans.items() if value is None})
        if refused:
            raise ValidationFailed("The request is invalid.", details=refused)
        if booleans:  # the value as read here, in the one spelling every boolean widget reads
            filterset.data = filterset.data.copy()
            for name, value in booleans.items():
                filterset.data[name] = "true" if value else "false"
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


class IdFilter(django_filters.Filter):
    """An object's id on a foreign key (`field_name` names the key, documented as an integer):
    a whole number from 1 to 2^63-1 (a larger one would overflow the column)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class DateOrDateTimeField(forms.Field):
    """A date ("2026-03-31") or a date-time ("2026-03-31T12:00:00Z"); no zone means UTC."""

    default_error_messages = {"invalid": "Enter a date (YYYY-MM-DD) or an ISO 8601 date-time."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            # A bare date is a date (fromisoformat would read it as midnight, losing "whole day").
            parsed = parse_date(text) if len(text) == 10 else parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(parsed, datetime.datetime) and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, datetime.UTC)
        return parsed


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField

    def __init__(self, *args, upper: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.upper = upper

    def filter(self, qs, value):
        if value is None:
            return qs
        if isinstance(value, datetime.datetime):
            lookup = "lte" if self.upper else "gte"
            return qs.filter(**{f"{self.field_name}__{lookup}": value})
        if self.upper:  # a date as the upper bound includes the whole day
            if value == datetime.date.max:  # the calendar's last day: no day after it to stop before
                return qs
            return qs.filter(**{f"{self.field_name}__lt": _day_start(value + datetime.timedelta(days=1))})
        return qs.filter(**{f"{self.field_name}__gte": _day_start(value)})


UPDATED_SINCE_HELP = (
    "Only the {things} created or changed at or after this ISO 8601 date-time (no zone: UTC) or "
    "day (YYYY-MM-DD: from its start, UTC), for keeping a copy in sync. Every change stamps "
    "`updated_at` with the time its transaction began, and is seen once it commits: ask from a "
    "little before your previous sync began (a minute) and expect to meet some {things} again."
)


def updated_since_filter(things: str) -> DateOrDateTimeFilter:
    """`updated_since` on `updated_at`, which the database stamps on every change (sales 0003)."""
    return DateOrDateTimeFilter(field_name="updated_at", help_text=UPDATED_SINCE_HELP.format(things=things))


class DateRangeFilterSet(django_filters.FilterSet):
    """`from` / `to` on `date_range_field` (a DateField), both inclusive."""

    date_range_field = "date"
    renamed_parameters = {"date_from": "from", "date_to": "to"}

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        # `from` is a Python keyword: these filters cannot be declared as class attributes.
        filters["from"] = StrictDateFilter(
            field_name=cls.date_range_field,
            lookup_expr="gte",
            help_text="Only those dated on or after this day (YYYY-MM-DD).",
        )
        filters["to"] = StrictDateFilter(
            field_name=cls.date_range_field,
            lookup_expr="lte",
            help_text="Only those dated on or before this day (YYYY-MM-DD).",
        )
        return filters
