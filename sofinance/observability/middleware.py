"""Request ids: accept X-Request-ID or make one, bind it to logs, echo it in the response."""

from __future__ import annotations

import re
import time
import uuid

import structlog

from sofinance.context import request_id_var

logger = structlog.get_logger("sofinance.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only when it is a sane token; anything else is replaced, not echoed.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        request.started_at = time.perf_counter()
        token = request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            logger.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - request.started_at) * 1000, 2),
            )
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)
        return response


class HealthProbeMiddleware:
    """Answers the probes (/health/live, /health/ready) before the host check and the HTTPS redirect.

    A probe comes from the orchestrator with whatever Host it uses (Docker's HEALTHCHECK and a
    Kubernetes kubelet send 127.0.0.1 or the pod's address), not the site's public name, so it must
    not depend on ALLOWED_HOSTS: it sits above CommonMiddleware, which validates the host.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        from sofinance.observability import health

        self.probes = {"/health/live": health.live, "/health/ready": health.ready}

    def __call__(self, request):
        probe = self.probes.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
