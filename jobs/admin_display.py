"""How a discrepancy reads in the admin (its lists, a run's page, the dashboard's integrity panel):
its kind for people, its amounts as every admin page writes them, and where its record opens (the
record's model's change page, found by the label the checks store: `object_type`, "sales.invoice")."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from accounts.models import Company
from sofinance.display import display_amount


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


def kind_label(kind: str) -> str:
    """ "invoice_entry_mismatch" -> "Invoice entry mismatch"."""
    return kind.replace("_", " ").capitalize()


def figure(value: str, company: Company | None) -> str:
    """An amount the check stored as a plain string ("-1250.00") as people read amounts at the
    company's currency ("(1,250.00)"); any other value (a date, a hash), and any value of no
    company (the platform's audit chain), as it is."""
    if company is None:
        return value
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    return display_amount(amount, company.currency) if amount.is_finite() and "." in value else value


def checked_summary(counts: dict) -> str:
    """What a run's checks read, for people: "49 balance buckets · 30 audit events · ... in 0.08 s"."""
    read = [
        f"{value:,} {kind_label(name).lower()}"
        for name, value in sorted(counts.items())
        if isinstance(value, int) and not isinstance(value, bool)
    ]
    seconds = counts.get("seconds")
    took = (
        f" in {seconds:.2f} s" if isinstance(seconds, int | float) and not isinstance(seconds, bool) else ""
    )
    return " · ".join(read) + took if read else ""
