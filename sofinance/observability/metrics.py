"""GET /metrics (Prometheus text, django-prometheus) for the scraper only.

A request is served when it carries `Authorization: Bearer <METRICS_TOKEN>` (when a token is set)
or comes from an address in METRICS_ALLOWED_IPS (addresses or networks; default: loopback only).
The address is the socket's peer (REMOTE_ADDR), never a header a client can write. Anything else
is 403, without a word about why.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView


@lru_cache(maxsize=16)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in allowed if item)


def address_allowed(address: str, allowed: list[str] | tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(tuple(allowed)) if ip.version == network.version)


def token_valid(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_allowed(request) -> bool:
    return token_valid(request) or address_allowed(
        request.META.get("REMOTE_ADDR", ""), settings.METRICS_ALLOWED_IPS
    )


@require_GET
def metrics(request):
    if not metrics_allowed(request):
        return HttpResponse("Forbidden.", status=403, content_type="text/plain; charset=utf-8")
    return ExportToDjangoView(request)
