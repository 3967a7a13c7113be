"""The bytes an audit event is judged by, and the keyed hashes over them.

- `sign(canonical_content(event))`: the event's own HMAC, written with the row. A row inserted
  or changed around the application (raw SQL, without the key) does not carry a valid one.
- `link_hash(...)`: an event's link in its chain, an HMAC over the chain, the position, the
  previous link's hash, the event's signature and its content. Keyed (not a bare SHA-256), so
  someone who can write the tables but does not hold the key cannot delete an event and
  recompute the links after it.
- `head_signature(...)`: the HMAC of a chain's head, so the head cannot be rewound by raw SQL to
  hide events removed from the tail.

All three use settings.AUDIT_HMAC_KEY (defaults to SECRET_KEY; keep it out of the database).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

# The fields the signature covers, in the order verification selects them.
CONTENT_FIELDS: tuple[str, ...] = (
    "uid",
    "created_at",
    "company_id",
    "actor_type",
    "actor_id",
    "actor_repr",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "metadata",
    "request_id",
    "ip",
    "user_agent",
)

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def hmac_key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


def content_bytes(values: tuple[Any, ...]) -> bytes:
    """Canonical JSON of the content values, given in CONTENT_FIELDS order."""
    content = dict(zip(CONTENT_FIELDS, values, strict=True))
    content["uid"] = str(content["uid"])
    created_at = content["created_at"]
    if not isinstance(created_at, str):  # already rendered by the database (audit.selectors)
        content["created_at"] = created_at.isoformat()
    return _dumps(content).encode()


def canonical_content(event: Any) -> bytes:
    """The bytes an event's signature and chain hash cover: every field but the chain's own."""
    return content_bytes(tuple(getattr(event, name) for name in CONTENT_FIELDS))


def sign(content: bytes, *, key: bytes | None = None) -> str:
    return hmac.digest(key or hmac_key(), content, hashlib.sha256).hex()


def link_hash(
    *, chain: str, seq: int, prev_hash: str, signature: str, content: bytes, key: bytes | None = None
) -> str:
    prefix = f"{chain}|{seq}|{prev_hash}|{signature}|".encode()
    return hmac.digest(key or hmac_key(), prefix + content, hashlib.sha256).hex()


def head_signature(
    *, chain: str, last_seq: int, last_hash: str, last_event_id: int | None, key: bytes | None = None
) -> str:
    message = f"head|{chain}|{last_seq}|{last_hash}|{last_event_id or ''}".encode()
    return hmac.digest(key or hmac_key(), message, hashlib.sha256).hex()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def anchor_signature(payload: bytes, *, key: bytes | None = None) -> str:
    """The HMAC of an anchor file's canonical content (audit.anchoring)."""
    return hmac.digest(key or hmac_key(), b"anchor|" + payload, hashlib.sha256).hex()


def canonical_json(value: Any) -> bytes:
    return _dumps(value).encode()
