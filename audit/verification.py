"""Verification of the audit chains: is every event as it was written, and is every sealed
event still in its place?

For each chain, under its head lock (sealers of that chain wait; writers never do):

1. Sealed events, in `seq` order: each event's signature is recomputed from its content (a row
   written or changed without the key fails), its seal's `seq` follows the previous one (a
   removed event leaves a gap), its `prev_hash` is the previous link's hash and its `hash` is
   recomputed (a changed, inserted or reordered seal fails), and it belongs to the chain.
2. The head: its signature, and the last seal must be the head's (`seq` and hash): events
   removed from the tail, with their seals, are found here.
3. Unsealed events (written, not sealed yet): their signatures.
4. The newest anchor (audit.anchoring), written outside the database: a chain it records must
   still exist, not be behind it, and carry the anchored hash at the anchored seq. So a wiped or
   rewound trail is broken, not "intact", even when the head was rewritten with the key. An
   anchor that cannot be read or does not verify makes every chain not ok.

Verification stops at the first broken event of a chain and names it. Rows are streamed with
server-side cursors and only the columns the hashes need, so memory stays flat.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from enum import StrEnum

import structlog
from django.db import transaction

from audit.anchoring import Anchor, AnchoredHead, AnchorError, anchor_conflict, latest_anchor
from audit.models import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    AuditPendingSeal,
    chain_company_id,
    chain_key,
)
from audit.selectors import sealed_event_rows, unsealed_event_rows
from audit.signing import (
    CONTENT_FIELDS,
    content_bytes,
    head_signature,
    hmac_key,
    link_hash,
    same,
    sign,
)

logger = structlog.get_logger("sofinance.audit")

_COMPANY = CONTENT_FIELDS.index("company_id")


class BreakReason(StrEnum):
    SIGNATURE_MISMATCH = "signature_mismatch"
    HASH_MISMATCH = "hash_mismatch"
    PREV_HASH_MISMATCH = "prev_hash_mismatch"
    SEQ_GAP = "seq_gap"
    WRONG_CHAIN = "wrong_chain"
    SEAL_BEYOND_HEAD = "seal_beyond_head"
    HEAD_MISSING = "head_missing"
    HEAD_MISMATCH = "head_mismatch"
    HEAD_SIGNATURE_MISMATCH = "head_signature_mismatch"
    CHAIN_MISSING = "chain_missing"
    BEHIND_ANCHOR = "behind_anchor"
    ANCHOR_MISMATCH = "anchor_mismatch"
    ANCHOR_INVALID = "anchor_invalid"
    ANCHOR_UNAVAILABLE = "anchor_unavailable"


@dataclass(frozen=True)
class ChainVerification:
    """The verdict on one chain."""

    chain: str
    company_id: int | None
    ok: bool
    events_checked: int
    sealed_events: int
    unsealed_events: int
    head_seq: int
    head_hash: str
    broken_event_id: int | None = None
    reason: str = ""
    detail: str = ""
    anchor: str = ""  # the anchor file compared against ("" when none exists yet)
    anchored_seq: int | None = None  # the chain's seq in that anchor (None: not in it)


@dataclass(frozen=True)
class AuditVerification:
    """The verdict on one or more chains; `broken_event_id`/`reason`/`detail` are the first break's."""

    ok: bool
    events_checked: int
    chains: tuple[ChainVerification, ...]
    duration_seconds: float

    @property
    def first_broken(self) -> ChainVerification | None:
        return next((c for c in self.chains if not c.ok), None)

    @property
    def broken_event_id(self) -> int | None:
        broken = self.first_broken
        return broken.broken_event_id if broken else None

    @property
    def reason(self) -> str:
        broken = self.first_broken
        return broken.reason if broken else ""

    @property
    def detail(self) -> str:
        broken = self.first_broken
        return broken.detail if broken else ""


class _Broken(Exception):
    def __init__(self, event_id: int | None, reason: BreakReason, detail: str) -> None:
        super().__init__(detail)
        self.event_id, self.reason, self.detail = event_id, reason, detail


def _verify_chain_locked(
    chain: str, anchor: Anchor | None = None, anchor_error: AnchorError | None = None
) -> ChainVerification:
    company_id = chain_company_id(chain)
    key = hmac_key()
    head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    sealed = unsealed = 0

    def result(broken: _Broken | None = None) -> ChainVerification:
        return ChainVerification(
            chain=chain,
            company_id=company_id,
            ok=broken is None,
            events_checked=sealed + unsealed,
            sealed_events=sealed,
            unsealed_events=unsealed,
            head_seq=head_seq,
            head_hash=head_hash,
            broken_event_id=broken.event_id if broken else None,
            reason=str(broken.reason) if broken else "",
            detail=broken.detail if broken else "",
            anchor=anchor.name if anchor else "",
            anchored_seq=anchored.seq if anchored else None,
        )

    anchored: AnchoredHead | None = anchor.heads.get(chain) if anchor else None

    try:
        if head is not None and not same(
            head.signature,
            head_signature(
                chain=chain,
                last_seq=head.last_seq,
                last_hash=head.last_hash,
                last_event_id=head.last_event_id,
                key=key,
            ),
        ):
            raise _Broken(
                head.last_event_id,
                BreakReason.HEAD_SIGNATURE_MISMATCH,
                f"the head of chain {chain} (seq {head.last_seq}) does not carry a valid signature",
            )

        expected_seq, prev_hash, last_event_id = 1, GENESIS_HASH, None
        # closing(): stopping at a break must close the server-side cursor inside the transaction.
        with closing(sealed_event_rows(chain=chain)) as seals:
            for seq, seal_prev, seal_hash, event_id, signature, *values in seals:
                content_values = tuple(values)
                if chain_key(content_values[_COMPANY]) != chain:
                    raise _Broken(
                        event_id,
                        BreakReason.WRONG_CHAIN,
                        f"event {event_id} (company {content_values[_COMPANY]}) is sealed in chain {chain}",
                    )
                if seq != expected_seq:
                    raise _Broken(
                        event_id,
                        BreakReason.SEQ_GAP,
                        f"event {event_id} is sealed at seq {seq} but seq {expected_seq} comes first: "
                        f"sealed events {expected_seq}..{seq - 1} are missing",
                    )
                if head is None or seq > head.last_seq:
                    raise _Broken(
                        event_id,
                        BreakReason.SEAL_BEYOND_HEAD if head else BreakReason.HEAD_MISSING,
                        f"event {event_id} is sealed at seq {seq}, past the chain's head "
                        f"({head.last_seq if head else 'missing'})",
                    )
                content = content_bytes(content_values)
                if not same(signature, sign(content, key=key)):
                    raise _Broken(
                        event_id,
                        BreakReason.SIGNATURE_MISMATCH,
                        f"event {event_id} does not match its signature: it was changed or written "
                        "outside the application",
                    )
                if not same(seal_prev, prev_hash):
                    raise _Broken(
                        event_id,
                        BreakReason.PREV_HASH_MISMATCH,
                        f"the seal of event {event_id} (seq {seq}) does not link to the previous seal",
                    )
                expected_hash = link_hash(
                    chain=chain, seq=seq, prev_hash=prev_hash, signature=signature, content=content, key=key
                )
                if not same(seal_hash, expected_hash):
                    raise _Broken(
                        event_id,
                        BreakReason.HASH_MISMATCH,
                        f"the seal of event {event_id} (seq {seq}) does not match its hash",
                    )
                sealed += 1
                expected_seq, prev_hash, last_event_id = seq + 1, seal_hash, event_id

        if head is not None and (expected_seq - 1 != head.last_seq or not same(prev_hash, head.last_hash)):
            raise _Broken(
                head.last_event_id,
                BreakReason.HEAD_MISMATCH,
                f"the chain ends at seq {expected_seq - 1} (event {last_event_id}) but its head "
                f"records seq {head.last_seq} (event {head.last_event_id}): sealed events were "
                "removed from the end",
            )

        with closing(unsealed_event_rows(chain=chain)) as pending:
            for event_id, signature, *values in pending:
                if not same(signature, sign(content_bytes(tuple(values)), key=key)):
                    raise _Broken(
                        event_id,
                        BreakReason.SIGNATURE_MISMATCH,
                        f"unsealed event {event_id} does not match its signature: it was changed or "
                        "written outside the application",
                    )
                unsealed += 1

        if anchored is not None:
            conflict = anchor_conflict(anchored, head)
            if conflict is not None:
                raise _Broken(conflict.event_id, BreakReason(conflict.reason), conflict.detail)
        if anchor_error is not None:
            raise _Broken(None, BreakReason(anchor_error.reason), anchor_error.detail)
    except _Broken as broken:
        return result(broken)
    return result()


def audit_chain_verify(
    *, chain: str, anchor: Anchor | None = None, anchor_error: AnchorError | None = None
) -> ChainVerification:
    """Verify one chain under its head lock (a seal of the chain waits until the check ends),
    and against its head in `anchor` (the newest anchor) when given."""
    with transaction.atomic():
        return _verify_chain_locked(chain, anchor, anchor_error)


def audit_chains(*, company_id: int | None = None, anchor: Anchor | None = None) -> list[str]:
    """Every chain that has events, a head, pending seals or an anchored head (or just the company's)."""
    if company_id is not None:
        return [chain_key(company_id)]
    names = set(anchor.heads) if anchor else set()
    names.update(AuditChainHead.objects.values_list("chain", flat=True))
    names.update(AuditPendingSeal.objects.order_by().values_list("chain", flat=True).distinct())
    names.update(
        chain_key(value)
        for value in AuditEvent.objects.order_by().values_list("company_id", flat=True).distinct()
    )
    return sorted(names, key=lambda name: (name != "global", len(name), name))


def verify_audit_chain(*, company_id: int | None = None) -> AuditVerification:
    """Verify the company's chain, or every chain when `company_id` is None.

    The result says whether the trail is intact, how many events were checked and, when it is
    not, the first broken event and why. It never repairs anything.
    """
    started = time.perf_counter()
    anchor: Anchor | None = None
    anchor_error: AnchorError | None = None
    try:
        anchor = latest_anchor()
    except AnchorError as exc:
        anchor_error = exc
    results: Iterable[ChainVerification] = [
        audit_chain_verify(chain=name, anchor=anchor, anchor_error=anchor_error)
        for name in audit_chains(company_id=company_id, anchor=anchor)
    ]
    chains = tuple(results)
    verification = AuditVerification(
        ok=all(c.ok for c in chains),
        events_checked=sum(c.events_checked for c in chains),
        chains=chains,
        duration_seconds=round(time.perf_counter() - started, 3),
    )
    for c in chains:
        log = logger.info if c.ok else logger.error
        # The head of each chain goes to the logs too: a second record outside the database.
        log(
            "audit_chain_verified",
            chain=c.chain,
            ok=c.ok,
            events_checked=c.events_checked,
            unsealed_events=c.unsealed_events,
            head_seq=c.head_seq,
            head_hash=c.head_hash,
            broken_event_id=c.broken_event_id,
            reason=c.reason or None,
            anchor=c.anchor or None,
            anchored_seq=c.anchored_seq,
        )
    return verification
