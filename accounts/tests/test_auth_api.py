"""JWT login, refresh, expiry, tampering and key rotation; the current user."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, CompanyFactory, MembershipFactory, UserFactory
from sofinance.api.jwt import ACCESS, encode_token
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/refresh"


def _login(login: str, password: str = PASSWORD):
    return APIClient().post(TOKEN_URL, {"username": login, "password": password}, format="json")


def _me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/me")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_login_with_username_returns_a_token_pair(settings):
    # given
    settings.JWT_SECRET = "k1:first-secret-for-tests-0123456789abcdef"
    user = UserFactory(username="alice", email="alice@example.com")

    # when
    response = _login("alice")

    # then
    data = assert_success(response)["data"]
    assert set(data) == {"access", "refresh", "token_type", "expires_in"}
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 900
    assert jwt.get_unverified_header(data["access"])["kid"] == "k1"
    claims = jwt.decode(data["access"], options={"verify_signature": False})
    assert (claims["sub"], claims["type"]) == (str(user.pk), "access")
    assert claims["exp"] - claims["iat"] == 900
    refresh_claims = jwt.decode(data["refresh"], options={"verify_signature": False})
    assert refresh_claims["type"] == "refresh"
    assert refresh_claims["exp"] - refresh_claims["iat"] == 7 * 24 * 3600
    user.refresh_from_db()
    assert user.last_login is not None
    assert assert_success(_me(data["access"]))["data"]["user"]["id"] == user.pk


def test_login_with_email_any_case():
    # given
    user = UserFactory(username="bob", email="bob@example.com")

    # when
    response = _login("BOB@Example.com")

    # then
    access = assert_success(response)["data"]["access"]
    assert assert_success(_me(access))["data"]["user"]["username"] == "bob"
    assert jwt.decode(access, options={"verify_signature": False})["sub"] == str(user.pk)


@pytest.mark.parametrize(
    ("login", "password"),
    [("carol", "wrong-password"), ("nobody", PASSWORD), ("nobody@example.com", PASSWORD)],
)
def test_bad_credentials_are_401_and_do_not_log_in(login, password):
    # given
    user = UserFactory(username="carol", email="carol@example.com")

    # when
    response = _login(login, password)

    # then
    error = assert_error(response, 401, "not_authenticated")
    assert error["message"] == "Invalid username/email or password."
    user.refresh_from_db()
    assert user.last_login is None


def test_inactive_user_cannot_log_in():
    # given
    UserFactory(username="dave", is_active=False)

    # when
    response = _login("dave")

    # then
    assert_error(response, 401, "not_authenticated")


def test_login_without_password_is_400():
    response = APIClient().post(TOKEN_URL, {"username": "x"}, format="json")

    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {"password": ["This field is required."]}


def test_refresh_returns_a_new_working_pair():
    # given
    user = UserFactory()
    pair = assert_success(_login(user.username))["data"]

    # when
    response = APIClient().post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")

    # then
    fresh = assert_success(response)["data"]
    assert set(fresh) == {"access", "refresh", "token_type", "expires_in"}
    assert fresh["access"] != pair["access"]
    assert assert_success(_me(fresh["access"]))["data"]["user"]["id"] == user.pk


def test_an_access_token_is_not_a_refresh_token_and_vice_versa():
    # given
    user = UserFactory()
    pair = assert_success(_login(user.username))["data"]

    # when
    refreshed_with_access = APIClient().post(REFRESH_URL, {"refresh": pair["access"]}, format="json")
    authenticated_with_refresh = _me(pair["refresh"])

    # then
    assert assert_error(refreshed_with_access, 401, "not_authenticated")["message"] == (
        "Expected a token of type 'refresh'."
    )
    assert_error(authenticated_with_refresh, 401, "not_authenticated")


def test_refresh_of_a_deactivated_user_is_refused():
    # given
    user = UserFactory()
    pair = assert_success(_login(user.username))["data"]
    user.is_active = False
    user.save(update_fields=["is_active"])

    # when
    refreshed = APIClient().post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    used = _me(pair["access"])

    # then
    assert_error(refreshed, 401, "not_authenticated")
    assert_error(used, 401, "not_authenticated")


def test_expired_access_token_is_401(settings):
    # given: tokens issued with a lifetime already over
    user = UserFactory()
    settings.JWT_ACCESS_TOKEN_LIFETIME = timedelta(seconds=-1)
    settings.JWT_REFRESH_TOKEN_LIFETIME = timedelta(seconds=-1)
    pair = assert_success(_login(user.username))["data"]

    # when
    used = _me(pair["access"])
    refreshed = APIClient().post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")

    # then
    assert assert_error(used, 401, "not_authenticated")["message"] == "Token has expired."
    assert assert_error(refreshed, 401, "not_authenticated")["message"] == "Token has expired."


def test_tampered_payload_is_401():
    # given: a valid token whose subject is swapped for another user's, signature kept
    victim = UserFactory()
    attacker = UserFactory()
    token = assert_success(_login(attacker.username))["data"]["access"]
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["sub"] = str(victim.pk)
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])

    # when
    response = _me(forged)

    # then
    assert assert_error(response, 401, "not_authenticated")["message"] == "Token is invalid."


def test_tampered_signature_and_garbage_are_401():
    # given
    token = assert_success(_login(UserFactory().username))["data"]["access"]
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")

    # when / then
    assert_error(_me(f"{header}.{payload}.{flipped}"), 401, "not_authenticated")
    assert_error(_me("not-a-jwt"), 401, "not_authenticated")


def test_unsigned_alg_none_token_is_401():
    # given
    user = UserFactory()
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "dev"}).encode())
    payload = _b64(json.dumps({"sub": str(user.pk), "type": "access", "iat": 1, "exp": 4102444800}).encode())

    # when
    response = _me(f"{header}.{payload}.")

    # then
    assert_error(response, 401, "not_authenticated")


def test_token_signed_under_an_unknown_kid_is_401(settings):
    # given: a correctly formed token signed by a key the server never listed
    settings.JWT_SECRET = "k1:first-secret-for-tests-0123456789abcdef"
    user = UserFactory()
    token = jwt.encode(
        {"sub": str(user.pk), "type": "access", "iat": 1, "exp": 4102444800},
        "attacker-chosen-secret-0123456789abcdef",
        algorithm="HS256",
        headers={"kid": "ghost"},
    )

    # when
    response = _me(token)

    # then
    error = assert_error(response, 401, "not_authenticated")
    assert error["message"] == "Token signed with an unknown or retired key."


def test_key_rotation_old_kid_verifies_while_listed_and_is_refused_once_removed(settings):
    # given: a user logged in under key k1
    settings.JWT_SECRET = "k1:first-secret-for-tests-0123456789abcdef"
    user = UserFactory()
    old_pair = assert_success(_login(user.username))["data"]
    assert jwt.get_unverified_header(old_pair["access"])["kid"] == "k1"

    # when: k2 is prepended; k1 still listed
    settings.JWT_SECRET = (
        "k2:second-secret-for-tests-0123456789abcdef, k1:first-secret-for-tests-0123456789abcdef"
    )

    # then: old tokens keep working, new ones are signed with k2
    assert assert_success(_me(old_pair["access"]))["data"]["user"]["id"] == user.pk
    rotated = assert_success(APIClient().post(REFRESH_URL, {"refresh": old_pair["refresh"]}, format="json"))[
        "data"
    ]
    assert jwt.get_unverified_header(rotated["access"])["kid"] == "k2"
    assert jwt.get_unverified_header(rotated["refresh"])["kid"] == "k2"

    # when: k1 is retired
    settings.JWT_SECRET = "k2:second-secret-for-tests-0123456789abcdef"

    # then: every k1 token is refused, the k2 ones still work
    for response in (
        _me(old_pair["access"]),
        APIClient().post(REFRESH_URL, {"refresh": old_pair["refresh"]}, format="json"),
    ):
        error = assert_error(response, 401, "not_authenticated")
        assert error["message"] == "Token signed with an unknown or retired key."
    assert assert_success(_me(rotated["access"]))["data"]["user"]["id"] == user.pk


def test_same_kid_with_a_changed_secret_is_refused(settings):
    # given: a token from k1, then k1's secret replaced (a leaked key re-issued under the same id)
    settings.JWT_SECRET = "k1:first-secret-for-tests-0123456789abcdef"
    user = UserFactory()
    token = encode_token(user_id=user.pk, token_type=ACCESS, lifetime=timedelta(minutes=5))
    settings.JWT_SECRET = "k1:replacement-secret-0123456789abcdef"

    # when
    response = _me(token)

    # then
    assert assert_error(response, 401, "not_authenticated")["message"] == "Token is invalid."


def test_malformed_authorization_header_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")

    assert_error(client.get("/api/v1/me"), 401, "not_authenticated")


def test_me_returns_the_user_and_every_membership():
    # given
    user = UserFactory(username="erin", email="erin@example.com", first_name="Erin", last_name="Doe")
    first = CompanyFactory(name="Alpha Ltd", currency="EUR", fiscal_year_start=4)
    second = CompanyFactory(name="Beta Ltd", currency="JPY")
    MembershipFactory(user=user, company=first, role=Role.CONTROLLER)
    MembershipFactory(user=user, company=second, role=Role.VIEWER)
    MembershipFactory(company=CompanyFactory(name="Gamma Ltd"))  # someone else's company
    access = assert_success(_login("erin"))["data"]["access"]

    # when
    response = _me(access)

    # then
    data = assert_success(response)["data"]
    assert data["user"] == {
        "id": user.pk,
        "username": "erin",
        "email": "erin@example.com",
        "first_name": "Erin",
        "last_name": "Doe",
    }
    assert [
        (m["company"]["name"], m["company"]["currency"], m["company"]["fiscal_year_start"], m["role"])
        for m in data["memberships"]
    ] == [("Alpha Ltd", "EUR", 4, "controller"), ("Beta Ltd", "JPY", 1, "viewer")]
    assert [m["company"]["role"] for m in data["memberships"]] == ["controller", "viewer"]


def test_session_authentication_works_for_the_browsable_api(client):
    # given: the admin's session (Django login) also authenticates API calls
    user = UserFactory()
    client.force_login(user)

    # when
    response = client.get("/api/v1/me", HTTP_ACCEPT="application/json")

    # then
    assert assert_success(response)["data"]["user"]["id"] == user.pk
