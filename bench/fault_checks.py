"""What `make faults` (bench/faults.py) records of every client request, and the checks it makes.

A `Write` is one logical write a client makes: an entry, a bulk post of several or an invoice
created issued, with its own Idempotency-Key and a unique `reference` per record, sent again with
the same key after a 503 or a lost connection until it is acknowledged. Each try is an `Attempt`.

The checks return what is wrong, empty when nothing is:
- `answer_problems`: every answer is a 2xx that says what was asked (posted entries, one per
  reference, for the amounts sent; a retry answers the same ids), or a 503 envelope
  `service_unavailable` with a Retry-After header, or a lost connection. Nothing else: no 500,
  no 4xx, no wrong success, no 503 saying nothing was changed for a write that was done (its
  retry replayed); and no write left unacknowledged (the app recovered);
- `stored_problems`: every acknowledged entry (or invoice) is in the books exactly once, under the
  id it was answered with; one never acknowledged is there at most once; a bulk post is all or
  nothing. `stored_records` reads the books for them (Django set up); bench/books.py checks the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

UNAVAILABLE = "service_unavailable"
# 503 reasons whose message says nothing was changed (a lost database connection may have
# committed: its message says so, and a replay may follow it).
NOTHING_CHANGED = {"cache_unavailable", "queue_unavailable", "database_busy"}
ENTRY, INVOICE = "entry", "invoice"


@dataclass
class Attempt:
    began: float  # time.monotonic()
    seconds: float
    status: int | None  # None: the connection was refused, reset or closed before an answer
    code: str = ""  # error.code of an error envelope
    reason: str = ""  # its error.details.reason (a 503's: database_unavailable, cache_unavailable...)
    retry_after: str | None = None
    ids: tuple[int, ...] = ()  # the entry ids a 2xx answered
    replayed: bool = False  # a 2xx replayed from the Idempotency-Key's record (the write was done before)
    wrong: str = ""  # what a 2xx answered that was not what was asked
    error: str = ""  # the connection error

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def ended(self) -> float:
        return self.began + self.seconds


@dataclass
class Write:
    key: str
    path: str
    references: tuple[str, ...]
    amounts: tuple[Decimal, ...]
    kind: str = ENTRY  # or INVOICE (created issued)
    body: object = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def acknowledged(self) -> Attempt | None:
        return next((a for a in self.attempts if a.ok), None)


# What each kind of write must be answered with: the status, and the field holding the amount sent.
EXPECTED = {ENTRY: ("posted", "total_debit"), INVOICE: ("issued", "total")}


def answer_check(body: object, write: Write) -> tuple[tuple[int, ...], str]:
    """(the ids, what is wrong) of a 2xx answer to `write`: posted entries (an issued invoice),
    one per reference in order, each with the reference and the amount that was sent."""
    status, total = EXPECTED[write.kind]
    data = body.get("data") if isinstance(body, dict) else None
    records = data.get("entries") if isinstance(data, dict) and "entries" in data else [data]
    if not isinstance(records, list) or len(records) != len(write.references):
        count = len(records) if isinstance(records, list) else "no"
        return (), f"answered {count} records for {len(write.references)}"
    ids: list[int] = []
    for record, reference, amount in zip(records, write.references, write.amounts, strict=True):
        if not isinstance(record, dict) or not isinstance(record.get("id"), int):
            return (), "an answered record has no id"
        ids.append(record["id"])
        if record.get("status") != status:
            return tuple(
                ids
            ), f"{write.kind} {record['id']} answered as {record.get('status')!r}, not {status}"
        if "reference" in record and record["reference"] != reference:
            return tuple(ids), f"{write.kind} {record['id']} answered with reference {record['reference']!r}"
        if total in record and Decimal(record[total]) != amount:
            return tuple(
                ids
            ), f"{write.kind} {record['id']} answered with total {record[total]}, sent {amount}"
    return tuple(ids), ""


def answer_problems(writes: Iterable[Write]) -> list[str]:
    problems: list[str] = []
    for write in writes:
        answered: set[tuple[int, ...]] = set()
        for attempt in write.attempts:
            what = f"POST {write.path} [{write.key}]"
            if attempt.ok:
                if attempt.wrong:
                    problems.append(f"{what}: a wrong success ({attempt.status}): {attempt.wrong}")
                answered.add(attempt.ids)
            elif attempt.status is None:
                continue
            elif attempt.status != 503 or attempt.code != UNAVAILABLE:
                problems.append(f"{what}: answered {attempt.status} {attempt.code or '(no error envelope)'}")
            elif not (attempt.retry_after or "").strip().isdigit():
                problems.append(f"{what}: a 503 without a Retry-After header")
        replay = next((i for i, a in enumerate(write.attempts) if a.ok and a.replayed), None)
        earlier = write.attempts[:replay] if replay is not None else []
        if earlier and all(a.status == 503 and a.reason in NOTHING_CHANGED for a in earlier):
            problems.append(
                f"POST {write.path} [{write.key}]: answered 503 {earlier[-1].reason} (nothing was changed)"
                " but the write had been done: its retry was a replay"
            )
        if len(answered) > 1:
            problems.append(
                f"POST {write.path} [{write.key}]: retries answered different entries {sorted(answered)}"
            )
        if write.attempts and write.acknowledged is None:
            problems.append(
                f"POST {write.path} [{write.key}]: never acknowledged after {len(write.attempts)} attempts"
            )
    return problems


def stored_problems(writes: Iterable[Write], stored: dict[str, list[int]]) -> list[str]:
    """`stored`: the ids of the entries in the books under each reference."""
    problems: list[str] = []
    for write in writes:
        acknowledged = write.acknowledged
        counts = {len(stored.get(reference, [])) for reference in write.references}
        if acknowledged is not None:
            for reference, entry_id in zip(write.references, acknowledged.ids, strict=False):
                found = stored.get(reference, [])
                if found != [entry_id]:
                    problems.append(
                        f"acknowledged {write.kind} {entry_id} ({reference}) is in the books as {found or 'nothing'}"
                    )
        elif max(counts, default=0) > 1:
            problems.append(f"unacknowledged write [{write.key}] is in the books more than once")
        if len(counts) > 1:
            problems.append(f"bulk post [{write.key}] is in the books in part")
    return problems


def stored_records(company_id: int, writes: Iterable[Write]) -> dict[str, list[int]]:
    """The ids of the company's posted entries and issued invoices under each reference the
    writes sent (Django set up)."""
    from ledger.models import EntryStatus, JournalEntry
    from sales.models import Invoice

    references = {ENTRY: [], INVOICE: []}
    for write in writes:
        references[write.kind].extend(write.references)
    rows = [
        JournalEntry.objects.filter(
            company_id=company_id, reference__in=references[ENTRY], status=EntryStatus.POSTED
        ),
        Invoice.objects.filter(
            company_id=company_id, reference__in=references[INVOICE], sequence__isnull=False
        ),
    ]
    stored: dict[str, list[int]] = {}
    for queryset in rows:
        for reference, record_id in queryset.order_by("pk").values_list("reference", "pk"):
            stored.setdefault(reference, []).append(record_id)
    return stored


@dataclass
class Summary:
    """One scenario's figures: attempts by outcome and how long the app took to recover."""

    name: str
    requests: int
    acknowledged: int
    unavailable: int
    connection_errors: int
    other: int
    writes: int
    recovery_seconds: float | None
    reasons: dict[str, int] = field(default_factory=dict)  # 503s by reason
    replayed: int = 0  # retries answered from the key's record: done before, its answer had been lost

    @classmethod
    def of(cls, name: str, writes: list[Write], fault_ended: float) -> Summary:
        attempts = [a for w in writes for a in w.attempts]
        after = [a.ended for a in attempts if a.ok and a.began >= fault_ended]
        reasons: dict[str, int] = {}
        for attempt in attempts:
            if attempt.status == 503:
                reasons[attempt.reason or "?"] = reasons.get(attempt.reason or "?", 0) + 1
        return cls(
            name=name,
            requests=len(attempts),
            acknowledged=sum(a.ok for a in attempts),
            unavailable=sum(a.status == 503 for a in attempts),
            connection_errors=sum(a.status is None for a in attempts),
            other=sum(a.status is not None and not a.ok and a.status != 503 for a in attempts),
            writes=len(writes),
            recovery_seconds=round(min(after) - fault_ended, 2) if after else None,
            reasons=reasons,
            replayed=sum(a.replayed for a in attempts),
        )
