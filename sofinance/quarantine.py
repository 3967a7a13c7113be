"""Reading quarantine flags (sofinance.models.Quarantine) from any app.

A record is quarantined while an open discrepancy names it. Lists read the flag in the same
query as their rows (`quarantined_annotation`, an EXISTS on the partial index of open flags);
a single record asks `is_quarantined`.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def is_quarantined(*, object_type: str, object_id: int) -> bool:
    return open_quarantines().filter(object_type=object_type, object_id=object_id).exists()


def quarantine_flag(obj, object_type: str) -> bool:
    """The flag of a record: its `quarantined` annotation when the query read it, else one query."""
    flag = getattr(obj, "quarantined", None)
    if flag is None:
        flag = is_quarantined(object_type=object_type, object_id=obj.pk)
    return bool(flag)
