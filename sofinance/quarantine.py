"""Reading quarantine flags (sofinance.models.Quarantine) from any app.

A record is quarantined while an open discrepancy names it. Lists read the flag in the same
query as their rows (`quarantined_annotation`, an EXISTS on the partial index of open flags);
a single record asks `is_quarantined`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Exists, OuterRef

from sofinance.models import Quarantine


def open_quarantines():
    return Quarantine.objects.filter(resolved_at__isnull=True)


def quarantined_annotation(object_type: str, *, pk: str = "pk") -> Exists:
    """`queryset.annotate(quarantined=quarantined_annotation("ledger.journalentry"))`."""
    return Exists(open_quarantines().filter(object_type=object_type, object_id=OuterRef(pk)))


def quarantined_ids(*, object_type: str, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are quarantined (one query)."""
    wanted = [int(pk) for pk in ids]
    if not wanted:
        return set()
    return set(
        open_quarantines()
        .filter(object_type=object_type, object_id__in=wanted)
        .values_list("object_id", flat=True)
    )


def open_discrepancy_ids(*, object_type: str, object_id: int) -> list[int]:
    """The open discrepancies that quarantine the record, oldest first."""
    return list(
        open_quarantines()
        .filter(object_type=object_type, object_id=object_id)
        .order_by("discrepancy_id")
        .values_list("discrepancy_id", flat=True)
    )


# Where a discrepancy opens in the admin: registered by the app that owns discrepancies (jobs),
# so a quarantined record's page links to what flagged it without the platform importing it.
_discrepancy_url: list[Callable[[int], str]] = []


def register_discrepancy_url(url: Callable[[int], str]) -> None:
    _discrepancy_url[:] = [url]


def discrepancy_url(discrepancy_id: int) -> str | None:
    return _discrepancy_url[0](discrepancy_id) if _discrepancy_url else None


def is_quarantined(*, object_type: str, object_id: int) -> bool:
    return open_quarantines().filter(object_type=object_type, object_id=object_id).exists()


def quarantine_flag(obj, object_type: str) -> bool:
    """The flag of a record: its `quarantined` annotation when the query read it, else one query."""
    flag = getattr(obj, "quarantined", None)
    if flag is None:
        flag = is_quarantined(object_type=object_type, object_id=obj.pk)
    return bool(flag)
