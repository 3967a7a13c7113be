"""Sealing and verifying the audit chains (thin: each task calls one service)."""

from __future__ import annotations

from celery import shared_task

from audit.anchoring import audit_heads_anchor
from audit.context import system_actor
from audit.sealing import audit_chains_seal, clear_seal_debounce
from audit.verification import verify_audit_chain


@shared_task(name="audit.tasks.audit_seal_chains")
def audit_seal_chains(chain: str | None = None) -> dict[str, int]:
    """Seal one chain (scheduled after a commit) or every chain with pending events (beat)."""
    if chain:
        clear_seal_debounce(chain)  # before reading: a later commit must queue a new seal
    with system_actor("task:audit.seal_chains"):
        return audit_chains_seal(chain=chain)


@shared_task(name="audit.tasks.audit_verify_chains")
def audit_verify_chains() -> dict:
    """Verify every chain on a schedule; a broken chain is logged at error level (and so Sentry)."""
    with system_actor("task:audit.verify_chains"):
        result = verify_audit_chain()
    return {
        "ok": result.ok,
        "events_checked": result.events_checked,
        "chains": len(result.chains),
        "broken_event_id": result.broken_event_id,
        "reason": result.reason,
        "detail": result.detail,
    }


@shared_task(name="audit.tasks.audit_anchor_heads")
def audit_anchor_heads() -> dict:
    """Write the chain heads to an anchor file outside the database (see audit.anchoring).

    A trail that disagrees with the newest anchor is not anchored: the task fails with the
    reason, logged at error level (and so Sentry)."""
    with system_actor("task:audit.anchor_heads"):
        anchor = audit_heads_anchor()
    if anchor is None:
        return {"anchor": None, "chains": None}
    return {"anchor": anchor.name, "chains": len(anchor.heads)}
