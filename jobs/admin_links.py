"""Where a discrepancy's record opens in the admin: its model's change page, found by the label
the integrity checks store (`object_type`, e.g. "sales.invoice"). Shared by the jobs admin's lists
and the dashboard's integrity panel."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html


def record_url(object_type: str, object_id: int | None) -> str | None:
    """The admin page of the record, or None when its model has no admin page (or no id)."""
    if not object_id:
        return None
    try:
        return reverse(f"admin:{object_type.replace('.', '_')}_change", args=[object_id])
    except NoReverseMatch:
        return None


def record_link(object_type: str, object_id: int, text: str = "") -> str:
    """A link to a record's admin page (plain text when it has none)."""
    label = text or f"{object_type}:{object_id}"
    url = record_url(object_type, object_id)
    return label if url is None else format_html('<a href="{}">{}</a>', url, label)
