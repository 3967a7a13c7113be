"""Put the request's actor, IP and user agent into the audit context."""

from __future__ import annotations

from audit.context import audit_context, normalise_ip


def client_ip(request) -> str | None:
    """REMOTE_ADDR, normalised (the database's inet type would rewrite it, breaking signatures).

    Behind a proxy REMOTE_ADDR is the proxy's address. X-Forwarded-For is not read: any client
    can send it, and trusting it needs the list of trusted proxies, which is not configured.
    """
    return normalise_ip(request.META.get("REMOTE_ADDR"))


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_context(
            request=request,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:512],
            request_id=getattr(request, "request_id", None),
        ):
            return self.get_response(request)
