"""DRF authentication from `Authorization: Bearer <access token>`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from sofinance.api.jwt import ACCESS, InvalidToken, decode_token
from sofinance.errors import NotAuthenticated

# User ids are positive 64-bit integers (BigAutoField).
MAX_USER_ID = 2**63 - 1


def token_user(payload: dict):
    """The active user a verified token's `sub` names; 401 when `sub` is no user id or no such user.

    A signature proves who issued the token, not that its claims have the expected shape: `sub`
    is checked here, as the one place a token becomes a user (access and refresh alike).
    """
    sub = payload.get("sub")
    user_id = int(sub) if isinstance(sub, str) and sub.isascii() and sub.isdigit() else 0
    if not 0 < user_id <= MAX_USER_ID:
        raise NotAuthenticated("Token subject is not a user id.")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotAuthenticated("User not found or inactive.")
    return user


class JWTAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None  # not ours: let session auth (or anonymity) decide
        if len(parts) != 2:
            raise NotAuthenticated("Malformed Authorization header.")
        try:
            payload = decode_token(parts[1].decode("latin-1"), expected_type=ACCESS)
        except InvalidToken as exc:
            raise NotAuthenticated(str(exc)) from exc
        return token_user(payload), payload

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
