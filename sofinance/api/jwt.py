"""JSON Web Tokens with a key id, so signing keys rotate without logging anyone out.

JWT_SECRET holds one or more `kid:secret` pairs separated by commas. The first pair signs new
tokens; every listed pair verifies. To rotate: prepend a new pair, deploy, wait one refresh-token
lifetime, then drop the old pair. A token whose `kid` is no longer listed is refused.
`check_key_ring` refuses, at start-up with DEBUG off, a ring with an empty or short secret or an
empty or repeated kid (settings.py).
PyJWT does the signing and the claim checks; this module only chooses keys and token types.
Refresh tokens carry the `jti` of their database row (accounts.models.RefreshToken), which
rotates them and revokes them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

ALGORITHM = "HS256"
# HS256 keys shorter than the hash's output are brute-forceable; RFC 7518 asks for >= 256 bits.
MIN_SECRET_BYTES = 32
ACCESS = "access"
REFRESH = "refresh"


class InvalidToken(Exception):
    """The token is malformed, expired, tampered with, of the wrong type or signed by an unknown key."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str


def parse_key_ring(raw: str) -> list[SigningKey]:
    keys: list[SigningKey] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        kid, sep, secret = part.partition(":")
        if not sep:  # a bare secret: one key with a default id
            kid, secret = "default", part
        keys.append(SigningKey(kid=kid.strip(), secret=secret.strip()))
    return keys


def check_key_ring(raw: str) -> list[str]:
    """What is wrong with a JWT_SECRET value, one sentence per problem (empty: nothing)."""
    keys = parse_key_ring(raw)
    if not keys:
        return ["it lists no keys"]
    problems = []
    seen: set[str] = set()
    for position, key in enumerate(keys, start=1):
        name = f"key {position} ({key.kid!r})" if key.kid else f"key {position}"
        if not key.kid:
            problems.append(f"{name} has an empty kid")
        elif key.kid in seen:
            problems.append(f"{name} repeats a kid")
        seen.add(key.kid)
        size = len(key.secret.encode())
        if size < MIN_SECRET_BYTES:
            problems.append(f"{name} has a {size}-byte secret, at least {MIN_SECRET_BYTES} are needed")
    return problems


def key_ring(raw: str | None = None) -> list[SigningKey]:
    keys = parse_key_ring(settings.JWT_SECRET if raw is None else raw)
    if not keys:
        raise ValueError("JWT_SECRET lists no keys.")
    return keys


def encode_token(
    *,
    user_id: int,
    token_type: str,
    lifetime: timedelta,
    jti: str | None = None,
    issued_at: datetime | None = None,
) -> str:
    signing = key_ring()[0]
    now = issued_at or datetime.now(tz=UTC)
    payload = {
        "sub": str(user_id),
        "type": token_type,
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or uuid.uuid4().hex,
    }
    return jwt.encode(payload, signing.secret, algorithm=ALGORITHM, headers={"kid": signing.kid})


def decode_token(token: str, *, expected_type: str, allow_expired: bool = False) -> dict:
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
            options={"require": ["exp", "iat", "sub", "type"], "verify_exp": not allow_expired},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("Token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("Token is invalid.") from exc
    if payload.get("type") != expected_type:
        raise InvalidToken(f"Expected a token of type '{expected_type}'.")
    return payload


def issue_token_pair(
    *,
    user_id: int,
    refresh_jti: str | None = None,
    refresh_issued_at: datetime | None = None,
    refresh_expires_at: datetime | None = None,
) -> dict:
    """An access token and a refresh token. The refresh token's id and lifetime are those of its
    database row when given (the login and refresh views always give them: a refresh token
    without a row is refused)."""
    access_lifetime = settings.JWT_ACCESS_TOKEN_LIFETIME
    refresh_lifetime = settings.JWT_REFRESH_TOKEN_LIFETIME
    if refresh_issued_at is not None and refresh_expires_at is not None:
        refresh_lifetime = refresh_expires_at - refresh_issued_at
    return {
        "access": encode_token(user_id=user_id, token_type=ACCESS, lifetime=access_lifetime),
        "refresh": encode_token(
            user_id=user_id,
            token_type=REFRESH,
            lifetime=refresh_lifetime,
            jti=refresh_jti,
            issued_at=refresh_issued_at,
        ),
        "token_type": "Bearer",
        "expires_in": int(access_lifetime.total_seconds()),
    }
