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

# User ids are positive 64-bit integers (BigAutoField).
MAX_USER_ID = 2**63 - 1


def token_user_id(payload: dict) -> int:
    """The user id a verified token's `sub` names; 401 when `sub` is no user id.

    A signature proves who issued the token, not that its claims have the expected shape: `sub`
    is checked here, as the one place a token becomes a user (access and refresh alike).
    """
    sub = payload.get("sub")
    user_id = int(sub) if isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) < 20 else 0
    if not 0 < user_id <= MAX_USER_ID:
        raise NotAuthenticated("Token subject is not a user id.")
    return user_id


def token_user(payload: dict):
    """The active user a verified token names; 401 when there is no such (active) user."""
    user = get_user_model().objects.filter(pk=token_user_id(payload), is_active=True).first()
    if user is None:
        raise NotAuthenticated("User not found or inactive.")
    return user


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
        membership = self._membership(request, token_user_id(payload))
        if membership is not None:
            # The company-scoped views need the membership anyway: one query reads both.
            request._request.sofinance_membership = membership
            return membership.user, payload
        return token_user(payload), payload

    @staticmethod
    def _membership(request, user_id: int):
        """The token user's membership of the company the URL names (None for other URLs)."""
        kwargs = (getattr(request, "parser_context", None) or {}).get("kwargs") or {}
        company_id = str(kwargs.get("company_id", ""))
        if not (company_id.isascii() and company_id.isdigit() and len(company_id) <= 18):
            return None
        return membership_with_user(user_id=user_id, company_id=int(company_id))

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
