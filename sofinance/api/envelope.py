"""The response envelope every JSON response under /api/ carries.

{"success": true,  "data": ..., "error": null, "meta": {"request_id": "...", ...}}
{"success": false, "data": null, "error": {"code", "message", "details"}, "meta": {...}}
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from sofinance.context import get_request_id

ENVELOPE_KEYS = frozenset({"success", "data", "error", "meta"})


def envelope(
    data: Any = None,
    *,
    error: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body_meta: dict[str, Any] = {"request_id": get_request_id()}
    if meta:
        body_meta.update(meta)
    return {
        "success": error is None,
        "data": None if error is not None else data,
        "error": error,
        "meta": body_meta,
    }


def is_envelope(body: Any) -> bool:
    return isinstance(body, dict) and body.keys() >= ENVELOPE_KEYS and isinstance(body["meta"], dict)


def finish_envelope(body: dict[str, Any], request: Any, response: Any) -> dict[str, Any]:
    """Apply the legacy and enrichment flags to an envelope about to be sent."""
    meta = body["meta"]
    if meta.get("request_id") is None:
        meta["request_id"] = getattr(request, "request_id", None) or get_request_id()
    if settings.ENABLE_RESPONSE_ENRICHMENT:
        started = getattr(request, "started_at", None)
        if started is not None:
            meta["timing_ms"] = round((time.perf_counter() - started) * 1000, 3)
        meta["api_version"] = settings.API_VERSION
        links = meta.setdefault("links", {})
        links.setdefault("self", request.build_absolute_uri())
    if settings.ENABLE_KEY_MIRRORING and isinstance(body.get("data"), dict):
        # Legacy clients read fields at the top level; the envelope's own keys always win.
        mirrored = {k: v for k, v in body["data"].items() if k not in ENVELOPE_KEYS}
        body = {**mirrored, **body}
        response["Deprecation"] = "true"
        response["Link"] = '</api/docs/>; rel="deprecation"'
    return body
