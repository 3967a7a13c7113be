"""The client's address, for rate limits, login throttling and the audit trail: one rule, one place.

The address is the socket's peer (`REMOTE_ADDR`) unless the deployment says how many reverse
proxies it trusts (`TRUSTED_PROXY_COUNT`). Each trusted proxy appends the address it received the
request from to `X-Forwarded-For`, so with N trusted proxies the client is the Nth address from
the right: everything to its left was written by the client and is never believed. A header with
fewer than N addresses (a request that did not come through every proxy) or an unreadable
address at that place falls back to `REMOTE_ADDR`.

The address is normalised as the database's inet type returns it (audit signatures cover it).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def normalise_ip(value: str | None) -> str | None:
    """An IP address in its canonical text form, or None when `value` is not one."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def forwarded_client(forwarded_for: str, trusted_proxies: int) -> str | None:
    """The address the Nth trusted proxy (counted from the application) saw, or None."""
    if trusted_proxies <= 0:
        return None
    hops = [hop.strip() for hop in forwarded_for.split(",")] if forwarded_for else []
    if len(hops) < trusted_proxies:
        return None
    return normalise_ip(hops[-trusted_proxies])


def client_ip(request) -> str | None:
    """The client address of a Django (or DRF) request; see the module docstring."""
    meta = request.META
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = forwarded_client(meta.get("HTTP_X_FORWARDED_FOR", ""), trusted)
    return forwarded or normalise_ip(meta.get("REMOTE_ADDR"))
