"""DRF authentication from `Authorization: Bearer <access token>`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from sofinance.api.jwt import ACCESS, InvalidToken, decode_token
from sofinance.errors import NotAuthenticated


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
        user = get_user_model().objects.filter(pk=payload["sub"], is_active=True).first()
        if user is None:
            raise NotAuthenticated("User not found or inactive.")
        return user, payload

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
