"""JSON Web Tokens with a key id, so signing keys rotate without logging anyone out.

JWT_SECRET holds one or more `kid:secret` pairs separated by commas. The first pair signs new
tokens; every listed pair verifies. To rotate: prepend a new pair, deploy, wait one refresh-token
lifetime, then drop the old pair. A token whose `kid` is no longer listed is refused.
PyJWT does the signing and the claim checks; this module only chooses keys and token types.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"


class InvalidToken(Exception):
    """The token is malformed, expired, tampered with, of the wrong type or signed by an unknown key."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str


def key_ring(raw: str | None = None) -> list[SigningKey]:
    raw = settings.JWT_SECRET if raw is None else raw
    keys: list[SigningKey] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        kid, sep, secret = part.partition(":")
        if not sep:  # a bare secret: one key with a default id
            kid, secret = "default", part
        keys.append(SigningKey(kid=kid.strip(), secret=secret.strip()))
    if not keys:
        raise ValueError("JWT_SECRET lists no keys.")
    return keys


def encode_token(*, user_id: int, token_type: str, lifetime: timedelta) -> str:
    signing = key_ring()[0]
    now = datetime.now(tz=UTC)
    payload = {
        "sub": str(user_id),
        "type": token_type,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, signing.secret, algorithm=ALGORITHM, headers={"kid": signing.kid})


def decode_token(token: str, *, expected_type: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("Malformed token.") from exc
    keys = {k.kid: k.secret for k in key_ring()}
    secret = keys.get(header.get("kid"))
    if secret is None:
        raise InvalidToken("Token signed with an unknown or retired key.")
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "type"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("Token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("Token is invalid.") from exc
    if payload.get("type") != expected_type:
        raise InvalidToken(f"Expected a token of type '{expected_type}'.")
    return payload


def issue_token_pair(*, user_id: int) -> dict:
    access_lifetime = settings.JWT_ACCESS_TOKEN_LIFETIME
    return {
        "access": encode_token(user_id=user_id, token_type=ACCESS, lifetime=access_lifetime),
        "refresh": encode_token(
            user_id=user_id, token_type=REFRESH, lifetime=settings.JWT_REFRESH_TOKEN_LIFETIME
        ),
        "token_type": "Bearer",
        "expires_in": int(access_lifetime.total_seconds()),
    }
