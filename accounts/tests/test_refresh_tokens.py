"""Refresh tokens rotate on use, a reused one revokes its login's family, logout revokes; JWT keys
are checked at start-up."""

from __future__ import annotations

import secrets
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import RefreshToken
from accounts.services import refresh_tokens_purge
from accounts.tasks import refresh_tokens_purge_expired
from accounts.tests.factories import PASSWORD, UserFactory
from audit.models import AuditEvent
from sofinance.api.jwt import REFRESH, encode_token
from sofinance.tests.asserts import assert_error, assert_success
from sofinance.tests.subprocesses import clean_env, manage

TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"


def _login(user) -> dict:
    return assert_success(
        APIClient().post(TOKEN_URL, {"username": user.username, "password": PASSWORD}, format="json")
    )["data"]


def _refresh(token: str):
    return APIClient().post(REFRESH_URL, {"refresh": token}, format="json")


def _logout(token: str):
    return APIClient().post(LOGOUT_URL, {"refresh": token}, format="json")


def _me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/me")


def _jti(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


@pytest.mark.django_db
def test_a_login_stores_its_refresh_token_as_a_new_family():
    # given
    user = UserFactory()

    # when
    first, second = _login(user), _login(user)

    # then
    rows = list(RefreshToken.objects.order_by("pk"))
    assert [r.jti for r in rows] == [_jti(first["refresh"]), _jti(second["refresh"])]
    assert rows[0].family != rows[1].family
    assert [(r.user_id, r.used_at, r.revoked_at) for r in rows] == [(user.pk, None, None)] * 2
    claims = jwt.decode(first["refresh"], options={"verify_signature": False})
    assert claims["exp"] == int(rows[0].expires_at.timestamp())
    assert claims["exp"] - claims["iat"] == 7 * 24 * 3600


@pytest.mark.django_db
def test_refresh_rotates_and_the_used_token_is_no_longer_valid():
    # given
    user = UserFactory()
    pair = _login(user)

    # when
    fresh = assert_success(_refresh(pair["refresh"]))["data"]
    again = assert_success(_refresh(fresh["refresh"]))["data"]

    # then: each refresh returns a new refresh token of the same family
    assert len({pair["refresh"], fresh["refresh"], again["refresh"]}) == 3
    rows = list(RefreshToken.objects.order_by("pk"))
    assert [r.jti for r in rows] == [_jti(t) for t in (pair["refresh"], fresh["refresh"], again["refresh"])]
    assert len({r.family for r in rows}) == 1
    assert [r.used_at is not None for r in rows] == [True, True, False]
    assert assert_success(_me(again["access"]))["data"]["user"]["id"] == user.pk


@pytest.mark.django_db
def test_reusing_a_used_refresh_token_revokes_its_whole_family():
    # given: a login rotated twice, and another login of the same user
    user = UserFactory()
    pair = _login(user)
    fresh = assert_success(_refresh(pair["refresh"]))["data"]
    newest = assert_success(_refresh(fresh["refresh"]))["data"]
    other_login = _login(user)

    # when: the first (used) token is replayed
    replay = _refresh(pair["refresh"])

    # then: 401, and no token of that login refreshes any more; the other login is untouched
    error = assert_error(replay, 401, "not_authenticated")
    assert error["details"] == {"reason": "refresh_token_reused"}
    for token in (fresh["refresh"], newest["refresh"]):
        assert assert_error(_refresh(token), 401, "not_authenticated")["details"] == {
            "reason": "refresh_token_revoked"
        }
    family = RefreshToken.objects.get(jti=_jti(pair["refresh"])).family
    assert set(RefreshToken.objects.filter(family=family).values_list("revoked_reason", flat=True)) == {
        "reuse"
    }
    assert RefreshToken.objects.filter(family=family).count() == 3  # nothing new was issued
    assert_success(_refresh(other_login["refresh"]))
    event = AuditEvent.objects.get(action="revoke")
    assert (event.actor_id, event.metadata) == (
        user.pk,
        {"reason": "refresh_token_reused", "family": str(family), "revoked": 3},
    )


@pytest.mark.django_db
def test_logout_revokes_the_family_and_access_tokens_run_until_they_expire():
    # given
    user = UserFactory()
    pair = _login(user)
    fresh = assert_success(_refresh(pair["refresh"]))["data"]

    # when
    out = _logout(fresh["refresh"])
    twice = _logout(fresh["refresh"])

    # then
    assert assert_success(out)["data"] == {"revoked": 2}
    assert assert_success(twice)["data"] == {"revoked": 0}
    assert assert_error(_refresh(fresh["refresh"]), 401, "not_authenticated")["details"] == {
        "reason": "refresh_token_revoked"
    }
    assert assert_success(_me(fresh["access"]))["data"]["user"]["id"] == user.pk  # documented
    assert list(AuditEvent.objects.filter(action="logout").values_list("actor_id", "metadata")) == [
        (user.pk, {"channel": "api", "family": str(RefreshToken.objects.first().family), "revoked": 2})
    ]


@pytest.mark.django_db
def test_logout_accepts_an_expired_refresh_token(settings):
    # given
    user = UserFactory()
    settings.JWT_REFRESH_TOKEN_LIFETIME = timedelta(seconds=-1)
    pair = _login(user)

    # when
    response = _logout(pair["refresh"])

    # then
    assert assert_success(response)["data"] == {"revoked": 1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_token",
    [
        lambda user: "not-a-jwt",
        lambda user: encode_token(
            user_id=user.pk, token_type=REFRESH, lifetime=timedelta(minutes=5)
        ),  # no row
        lambda user: _login(user)["access"],  # an access token
    ],
    ids=["garbage", "unknown-jti", "access-token"],
)
def test_refresh_and_logout_refuse_tokens_they_did_not_issue(make_token):
    # given
    user = UserFactory()
    token = make_token(user)
    rows_before = RefreshToken.objects.count()

    # when / then
    assert_error(_refresh(token), 401, "not_authenticated")
    assert_error(_logout(token), 401, "not_authenticated")
    assert RefreshToken.objects.count() == rows_before
    assert not RefreshToken.objects.filter(revoked_at__isnull=False).exists()


@pytest.mark.django_db
def test_a_token_row_of_another_user_is_not_accepted():
    # given: a refresh token whose jti names another user's row (a forged sub needs the key, so
    # this is the server's own mistake guarded against)
    alice, bob = UserFactory(), UserFactory()
    row = RefreshToken.objects.get(jti=_jti(_login(alice)["refresh"]))
    forged = encode_token(user_id=bob.pk, token_type=REFRESH, lifetime=timedelta(minutes=5), jti=row.jti)

    # when
    response = _refresh(forged)

    # then
    assert assert_error(response, 401, "not_authenticated")["details"] == {"reason": "refresh_token_invalid"}
    row.refresh_from_db()
    assert (row.used_at, row.revoked_at) == (None, None)


@pytest.mark.django_db
def test_expired_rows_are_purged_on_schedule(settings):
    # given
    user = UserFactory()
    _login(user)
    _login(user)
    RefreshToken.objects.filter(pk=RefreshToken.objects.order_by("pk").first().pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    # when
    purged = refresh_tokens_purge_expired.apply().get()

    # then
    assert purged == 1
    assert RefreshToken.objects.count() == 1
    assert refresh_tokens_purge() == 0
    # Its schedule (refresh-tokens-purge) is a django-celery-beat row: jobs/tests/test_schedules.py.


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("k1:", "key 1 ('k1') has a 0-byte secret, at least 32 are needed"),
        ("k1:" + "s" * 31, "key 1 ('k1') has a 31-byte secret, at least 32 are needed"),
        (":" + "s" * 40, "key 1 has an empty kid"),
        ("k1:" + "s" * 40 + ",k1:" + "t" * 40, "key 2 ('k1') repeats a kid"),
        (",", "it lists no keys"),
    ],
)
def test_startup_refuses_unusable_jwt_keys_with_debug_off(secret, problem):
    # given
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings", SECRET_KEY=secrets.token_urlsafe(64), JWT_SECRET=secret
    )

    # when
    result = manage("check", "--deploy", env=env)

    # then
    assert result.returncode != 0
    assert f"JWT_SECRET is not usable: {problem} (expected kid:secret pairs" in result.stderr


def test_a_ring_of_long_keys_passes_the_startup_check(tmp_path):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        JWT_SECRET=f"2026a:{'x' * 32},2025b:{secrets.token_urlsafe(48)}",
        ALLOWED_HOSTS="books.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    result = manage("check", env=env)

    assert result.returncode == 0, result.stderr
