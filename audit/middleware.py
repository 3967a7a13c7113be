"""Put the request's actor, IP and user agent into the audit context."""

from __future__ import annotations

from audit.context import audit_context


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with audit_context(
            actor=actor,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:512],
            request_id=getattr(request, "request_id", None),
        ):
            return self.get_response(request)
