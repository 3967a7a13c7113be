"""Filters of the audit event list: object, actor, action and a date range."""

from __future__ import annotations

import django_filters

from audit.models import AuditEvent
from sofinance.api.filters import DateOrDateTimeFilter
from sofinance.ids import id_from_text


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
