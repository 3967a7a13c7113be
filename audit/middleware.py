"""Put the request's actor, IP and user agent into the audit context."""

from __future__ import annotations

from audit.context import audit_context
from sofinance.client_ip import client_ip


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
