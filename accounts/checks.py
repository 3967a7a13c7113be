"""`manage.py check --deploy`: what a deployment must set for the accounts app's emails to work."""

from __future__ import annotations

from urllib.parse import urlparse

from django.conf import settings
from django.core import checks

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


@checks.register(checks.Tags.compatibility, deploy=True)
def site_url_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Invitation emails link to the admin's accept page under SITE_URL unless the deployment's own
    front end accepts them (INVITATION_ACCEPT_URL): a SITE_URL left on this machine sends every
    invitee to a link that cannot open."""
    if settings.INVITATION_ACCEPT_URL:
        return []
    parts = urlparse(settings.SITE_URL)
    if parts.scheme in ("http", "https") and (parts.hostname or "") not in LOCAL_HOSTS:
        return []
    return [
        checks.Warning(
            f"SITE_URL is {settings.SITE_URL!r}: invitation emails would link to an address people "
            "cannot open.",
            hint="Set SITE_URL to where people reach this deployment (e.g. https://books.example.com), "
            "or INVITATION_ACCEPT_URL to your front end's page that accepts invitations.",
            id="accounts.W001",
        )
    ]
