"""Links in the invitation email (templates/accounts/email/invitation.txt)."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

register = template.Library()


@register.simple_tag
def admin_accept_url(token: str) -> str:
    """The admin's page that accepts the invitation of `token` (accounts.admin_members), as an
    absolute address under SITE_URL: the email is sent after commit, with no request to ask the
    host of."""
    path = reverse("admin:accounts_membership_accept_invitation")
    return f"{settings.SITE_URL.rstrip('/')}{path}?{urlencode({'token': token})}"
