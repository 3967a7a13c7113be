"""Filters of the audit event list: object, actor, action and a date range."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.models import AuditEvent
from sofinance.ids import id_from_text


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


class AuditEventFilter(django_filters.FilterSet):
    object_type = django_filters.CharFilter(
        help_text='Events about this kind of object, a model label, e.g. "ledger.journalentry".'
    )
    object_id = django_filters.CharFilter(
        help_text="Events about the object with this id (with `object_type`)."
    )
    action = django_filters.CharFilter(help_text='One action, e.g. "create", "update", "post", "login".')
    actor = django_filters.CharFilter(
        method="filter_actor", help_text="Who acted: a user id, a username or a system actor's name."
    )
    date_from = DateOrDateTimeFilter(
        field_name="created_at",
        help_text="From this day (YYYY-MM-DD, UTC) or this ISO 8601 date-time on.",
    )
    date_to = DateOrDateTimeFilter(
        field_name="created_at",
        upper=True,
        help_text="Up to this day (YYYY-MM-DD, UTC, the whole day included) or this ISO 8601 date-time.",
    )
    renamed_parameters = {"date_from": "from", "date_to": "to"}

    class Meta:
        model = AuditEvent
        fields = ["object_type", "object_id", "action"]

    def filter_actor(self, queryset, name, value):
        if (actor_id := id_from_text(value)) is not None:
            return queryset.filter(actor_type="user", actor_id=actor_id)
        return queryset.filter(actor_repr=value)


# The query parameters are `from` and `to`, which cannot be Python attribute names.
AuditEventFilter.base_filters["from"] = AuditEventFilter.base_filters.pop("date_from")
AuditEventFilter.base_filters["to"] = AuditEventFilter.base_filters.pop("date_to")
