"""Anchors: the chain heads, written outside the database on a schedule, so that a trail that was
wiped or rewound does not verify as intact.

Every `AUDIT_ANCHOR_INTERVAL` seconds beat runs `audit_heads_anchor`: it reads every chain head
and writes them as one signed JSON file to Django's default storage (local `MEDIA_ROOT` files, or
the S3/MinIO bucket when one is configured) under `audit-anchors/<year>/<month>/`. Names sort by
time, so the newest is found with three small listings. On a bucket with S3 Object Lock enabled,
each file is written with a retention (`AUDIT_ANCHOR_LOCK_MODE`, `AUDIT_ANCHOR_RETENTION_DAYS`):
nobody holding the application's credentials can delete or overwrite it before then.

Before writing, the heads are checked against the newest anchor: every anchored chain must still
exist, its head must not be behind the anchor, and its seal at the anchored `seq` must still carry
the anchored hash (links are chained, so any rewrite of the anchored part changes that hash). If
not, nothing is written (an anchor of a tampered trail would launder it) and the problem is
logged at error level. `audit.verification` makes the same comparison for every chain.

The file is signed with AUDIT_HMAC_KEY; an anchor that does not verify is reported as
`anchor_invalid`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone

from audit.models import AuditChainHead, AuditSeal
from audit.signing import anchor_signature, canonical_json, same

logger = structlog.get_logger("sofinance.audit")

ANCHOR_DIR = "audit-anchors"
ANCHOR_VERSION = 1


@dataclass(frozen=True)
class AnchoredHead:
    chain: str
    seq: int
    hash: str
    event_id: int | None


@dataclass(frozen=True)
class Anchor:
    name: str
    created_at: str
    heads: dict[str, AnchoredHead]
    locked_until: datetime | None = None


class AnchorError(Exception):
    """The newest anchor cannot be read (`anchor_unavailable`) or does not verify (`anchor_invalid`)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class AnchorConflict:
    """A chain that disagrees with the newest anchor."""

    chain: str
    reason: str  # "chain_missing", "behind_anchor", "anchor_mismatch"
    event_id: int | None
    detail: str


# --------------------------------------------------------------------------- reading


def _storage() -> Storage:
    return storages["default"]


def _subdirectories(storage: Storage, path: str) -> list[str]:
    try:
        directories, _files = storage.listdir(path)
    except FileNotFoundError:
        return []
    return sorted(d for d in directories if d.isdigit())


def _parse(name: str, raw: bytes) -> Anchor:
    try:
        document = json.loads(raw)
        signature = document.pop("signature")
        if document.get("version") != ANCHOR_VERSION:
            raise ValueError(f"unknown version {document.get('version')!r}")
        heads = {
            chain: AnchoredHead(chain=chain, seq=int(h["seq"]), hash=str(h["hash"]), event_id=h["event_id"])
            for chain, h in document["chains"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnchorError("anchor_invalid", f"the audit anchor {name} cannot be read: {exc}") from exc
    if not isinstance(signature, str) or not same(signature, anchor_signature(canonical_json(document))):
        raise AnchorError(
            "anchor_invalid", f"the audit anchor {name} does not carry a valid signature: it was changed"
        )
    return Anchor(name=name, created_at=str(document.get("created_at", "")), heads=heads)


def latest_anchor() -> Anchor | None:
    """The newest anchor in the default storage, or None when none was ever written.

    Raises AnchorError when the storage cannot be read or the newest file does not verify.
    """
    storage = _storage()
    try:
        for year in reversed(_subdirectories(storage, ANCHOR_DIR)):
            for month in reversed(_subdirectories(storage, f"{ANCHOR_DIR}/{year}")):
                folder = f"{ANCHOR_DIR}/{year}/{month}"
                files = sorted(f for f in storage.listdir(folder)[1] if f.endswith(".json"))
                if files:
                    name = f"{folder}/{files[-1]}"
                    with storage.open(name, "rb") as handle:
                        return _parse(name, handle.read())
    except AnchorError:
        raise
    except Exception as exc:  # storage down, credentials refused: say so, never "intact"
        raise AnchorError(
            "anchor_unavailable",
            f"the audit anchors cannot be read from storage: {type(exc).__name__}: {exc}",
        ) from exc
    return None


def anchor_conflict(anchored: AnchoredHead, head: AuditChainHead | None) -> AnchorConflict | None:
    """How a chain disagrees with its anchored head (None: it does not)."""
    if anchored.seq == 0:
        return None
    if head is None:
        return AnchorConflict(
            anchored.chain,
            "chain_missing",
            anchored.event_id,
            f"chain {anchored.chain} is missing, but its anchor records seq {anchored.seq} "
            f"(event {anchored.event_id}): the trail was wiped",
        )
    if head.last_seq < anchored.seq:
        return AnchorConflict(
            anchored.chain,
            "behind_anchor",
            anchored.event_id,
            f"the head of chain {anchored.chain} is at seq {head.last_seq}, behind its anchor "
            f"(seq {anchored.seq}, event {anchored.event_id}): sealed events were removed",
        )
    sealed = (
        AuditSeal.objects.filter(chain=anchored.chain, seq=anchored.seq)
        .values_list("hash", "event_id")
        .first()
    )
    if sealed is None or not same(sealed[0], anchored.hash) or sealed[1] != anchored.event_id:
        return AnchorConflict(
            anchored.chain,
            "anchor_mismatch",
            sealed[1] if sealed else anchored.event_id,
            f"the seal at seq {anchored.seq} of chain {anchored.chain} is not the anchored one: "
            "the chain was rewritten",
        )
    return None


# --------------------------------------------------------------------------- writing


def _object_lock(storage: Storage) -> tuple[Storage, datetime | None]:
    """The storage to write with, and the retention date when the bucket has S3 Object Lock."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a pinned dependency
        return storage, None
    if not isinstance(storage, S3Storage):
        return storage, None
    from botocore.exceptions import ClientError

    try:
        config = storage.connection.meta.client.get_object_lock_configuration(Bucket=storage.bucket_name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ObjectLockConfigurationNotFoundError":
            logger.warning("audit_anchor_lock_unknown", error=str(exc))
        return storage, None
    if config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
        return storage, None
    until = (timezone.now() + timedelta(days=settings.AUDIT_ANCHOR_RETENTION_DAYS)).replace(microsecond=0)
    options = dict(settings.STORAGES["default"].get("OPTIONS", {}))
    options["object_parameters"] = {
        **storage.object_parameters,
        "ObjectLockMode": settings.AUDIT_ANCHOR_LOCK_MODE,
        "ObjectLockRetainUntilDate": until,
    }
    return type(storage)(**options), until


def _current_heads() -> dict[str, AuditChainHead]:
    return {head.chain: head for head in AuditChainHead.objects.order_by("chain")}


def audit_heads_anchor() -> Anchor | None:
    """Write the current chain heads as a new signed anchor; returns it, or None when nothing
    moved since the newest anchor. Refuses (logs, writes nothing, raises AnchorError) when the
    trail disagrees with the newest anchor, or the newest anchor cannot be read."""
    heads = _current_heads()
    previous = latest_anchor()
    if previous is not None:
        conflicts = [c for a in previous.heads.values() if (c := anchor_conflict(a, heads.get(a.chain)))]
        if conflicts:
            for conflict in conflicts:
                logger.error(
                    "audit_anchor_refused",
                    chain=conflict.chain,
                    reason=conflict.reason,
                    detail=conflict.detail,
                )
            first = conflicts[0]
            raise AnchorError(first.reason, first.detail)
        unchanged = {chain: (h.last_seq, h.last_hash, h.last_event_id) for chain, h in heads.items()} == {
            chain: (a.seq, a.hash, a.event_id) for chain, a in previous.heads.items()
        }
        if unchanged:
            return None
    created = timezone.now()
    document = {
        "version": ANCHOR_VERSION,
        "created_at": created.isoformat(),
        "chains": {
            chain: {"seq": h.last_seq, "hash": h.last_hash, "event_id": h.last_event_id}
            for chain, h in heads.items()
        },
    }
    signed = {**document, "signature": anchor_signature(canonical_json(document))}
    name = f"{ANCHOR_DIR}/{created:%Y}/{created:%m}/{created:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.json"
    storage, locked_until = _object_lock(_storage())
    saved = storage.save(name, ContentFile(json.dumps(signed, indent=1, sort_keys=True).encode()))
    anchor = Anchor(
        name=saved,
        created_at=document["created_at"],
        heads={c: AnchoredHead(c, h.last_seq, h.last_hash, h.last_event_id) for c, h in heads.items()},
        locked_until=locked_until,
    )
    logger.info(
        "audit_heads_anchored",
        anchor=saved,
        chains=len(heads),
        locked_until=locked_until.isoformat() if locked_until else None,
    )
    return anchor


__all__ = [
    "Anchor",
    "AnchorConflict",
    "AnchorError",
    "AnchoredHead",
    "anchor_conflict",
    "audit_heads_anchor",
    "latest_anchor",
]
