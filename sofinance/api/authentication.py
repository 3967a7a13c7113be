"""DRF authentication from `Authorization: Bearer <access token>`."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.selectors import membership_with_user
from sofinance.api.jwt import ACCESS, InvalidToken, decode_token
from sofinance.errors import NotAuthenticated


@functools.lru_cache(maxsize=4096)
def _verified(token: str, key_ring: str) -> dict:
    return decode_token(token, expected_type=ACCESS)


def _verified_access_token(token: str) -> dict:
    """The token's claims. A client sends the same access token with every request until it
    expires, so its signature is checked once per process and key ring; the expiry, every time."""
    payload = _verified(token, settings.JWT_SECRET)
    if payload["exp"] <= time.time():
        return decode_token(token, expected_type=ACCESS)  # refused as expired, as ever
    return payload


class JWTAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None  # not ours: let session auth (or anonymity) decide
        if len(parts) != 2:
            raise NotAuthenticated("Malformed Authorization header.")
        try:
            payload = _verified_access_token(parts[1].decode("latin-1"))
        except InvalidToken as exc:
            raise NotAuthenticated(str(exc)) from exc
        subject = payload["sub"]
        if (
            not isinstance(subject, str)
            or not subject.isascii()
            or not subject.isdigit()
            or len(subject) > 18
        ):
            raise NotAuthenticated("The token does not name a user.")
        user_id = int(subject)
        membership = self._membership(request, user_id)
        if membership is not None:
            # The company-scoped views need the membership anyway: one query reads both.
            request._request.sofinance_membership = membership
            return membership.user, payload
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise NotAuthenticated("User not found or inactive.")
        return user, payload

    @staticmethod
    def _membership(request, user_id):
        """The token user's membership of the company the URL names (None for other URLs)."""
        kwargs = (getattr(request, "parser_context", None) or {}).get("kwargs") or {}
        company_id = str(kwargs.get("company_id", ""))
        if not (company_id.isascii() and company_id.isdigit() and len(company_id) <= 18):
            return None
        return membership_with_user(user_id=user_id, company_id=int(company_id))

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
