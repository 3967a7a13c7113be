"""What an integrity check reports, shared by the apps that check their own data.

`ledger.integrity` and `sales.integrity` check the data they own and return plain `Finding`s; the
`jobs` app (at the top of the dependency order) records them as discrepancies, quarantines the
records they name and proposes the compensating entry a finding carries as a draft. Neither
ledger nor sales imports jobs: this module is the vocabulary they share.

`consistent_snapshot()` runs a set of checks against one consistent view of the books: on
PostgreSQL a REPEATABLE READ, READ ONLY transaction (postings go on meanwhile, unblocked, and no
check sees half of one), elsewhere (SQLite, or inside a caller's transaction) a plain atomic
block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction


@dataclass(frozen=True)
class CompensatingLine:
    """One line of a proposed correction, in the company's functional currency."""

    account_id: int
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    description: str = ""


@dataclass(frozen=True)
class RecordRef:
    """A record a finding touches (quarantined with it): `object_type` is the model's label."""

    object_type: str
    object_id: int


@dataclass(frozen=True)
class Finding:
    """One thing found wrong.

    `kind` is a stable snake_case name; (`object_type`, `object_id`) the record it is about;
    `key` tells apart several findings of one kind on one record (a bucket's date); `expected`,
    `found` and `difference` say what was computed and what is stored (amounts as strings at
    the currency's places, or dates and other values). `lines`, when given, are the lines of a
    balanced compensating entry that would make the books agree (a proposal, never posted by
    the check); `related` are other records to quarantine with it (a document's journal entry).
    """

    kind: str
    object_type: str
    object_id: int
    company_id: int | None
    expected: str
    found: str
    difference: Decimal | None = None
    message: str = ""
    key: str = ""
    object_repr: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    lines: tuple[CompensatingLine, ...] = ()
    related: tuple[RecordRef, ...] = ()

    @property
    def records(self) -> tuple[RecordRef, ...]:
        """Every record to quarantine: the finding's own, then the related ones (no repeats)."""
        seen: dict[RecordRef, None] = {RecordRef(self.object_type, self.object_id): None}
        for ref in self.related:
            seen.setdefault(ref, None)
        return tuple(seen)


def balanced(lines: tuple[CompensatingLine, ...] | list[CompensatingLine]) -> bool:
    """A correction can be proposed only when its lines balance (and there are at least two)."""
    if len(lines) < 2:
        return False
    return sum((ln.debit - ln.credit for ln in lines), Decimal(0)) == 0


def lines_from_differences(
    differences: dict[int, Decimal], *, description: str
) -> tuple[CompensatingLine, ...]:
    """Compensating lines from {account id: amount to add (debit positive)}, zero amounts left
    out, in account order. Empty when what is left does not balance (not computable)."""
    lines = tuple(
        CompensatingLine(
            account_id=account_id,
            debit=amount if amount > 0 else Decimal(0),
            credit=-amount if amount < 0 else Decimal(0),
            description=description,
        )
        for account_id, amount in sorted(differences.items())
        if amount
    )
    return lines if balanced(lines) else ()


@contextmanager
def consistent_snapshot() -> Iterator[None]:
    """One consistent, read-only view of the database for the block (see the module docstring)."""
    with transaction.atomic():
        # Only the transaction's first statement may set its isolation: not inside a caller's.
        if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield
