"""Repeated failed logins lock the account and the address for a while, on the API and the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from audit.models import AuditEvent
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def login_limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(seconds=900)
    return settings


def _login(login: str, password: str, ip: str = "203.0.113.9"):
    return APIClient().post(
        TOKEN_URL, {"username": login, "password": password}, format="json", REMOTE_ADDR=ip
    )


def _expire_locks() -> None:
    """Move every recorded failure back past the lockout (time passing, without sleeping)."""
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - timedelta(seconds=901)
        )


def test_five_failures_lock_the_account_with_a_clear_429():
    # given
    user = UserFactory(username="ann", email="ann@example.com")

    # when: five wrong passwords (by username and by email, any case), then the right one
    statuses = [
        _login(login, "wrong").status_code for login in ["ann", "ann", "ANN@example.com", "ann", "ann"]
    ]
    locked = _login("ann", PASSWORD)

    # then: the fifth failure locks; the right password is refused while locked
    assert statuses == [401, 401, 401, 401, 429]
    error = assert_error(locked, 429, "rate_limited")
    assert error == {
        "code": "rate_limited",
        "message": "Too many failed logins. Try again in 15 minutes.",
        "details": {"reason": "login_locked", "retry_after": 900},
    }
    assert locked["Retry-After"] == "900"
    user.refresh_from_db()
    assert user.last_login is None
    assert AuditEvent.objects.filter(action="login").count() == 0
    # every attempt, the locked one too, is in the audit trail
    assert AuditEvent.objects.filter(action="login_failed").count() == 6


def test_a_lock_holds_from_another_address_and_expires():
    # given: ann is locked from one address
    UserFactory(username="ann")
    for _ in range(5):
        _login("ann", "wrong")

    # when
    from_elsewhere = _login("ann", PASSWORD, ip="198.51.100.20")
    _expire_locks()
    after = _login("ann", PASSWORD, ip="198.51.100.20")

    # then
    assert_error(from_elsewhere, 429, "rate_limited")
    assert set(assert_success(after)["data"]) == {"access", "refresh", "token_type", "expires_in"}


def test_failures_across_accounts_lock_the_address():
    # given: one address guessing at five different logins (real or not)
    UserFactory(username="bob")
    for login in ["u1", "u2", "u3", "nobody@example.com", "u5"]:
        _login(login, "wrong", ip="203.0.113.50")

    # when
    same_address = _login("bob", PASSWORD, ip="203.0.113.50")
    other_address = _login("bob", PASSWORD, ip="203.0.113.51")

    # then
    assert_error(same_address, 429, "rate_limited")
    assert_success(other_address)


def test_an_unknown_login_locks_exactly_like_a_real_one():
    # given
    UserFactory(username="carol")

    # when
    real = [_login("carol", "wrong", ip=f"198.51.100.{i}").status_code for i in range(6)]
    ghost = [_login("ghost", "wrong", ip=f"198.51.101.{i}").status_code for i in range(6)]

    # then: nothing tells the two apart
    assert real == ghost == [401, 401, 401, 401, 429, 429]


def test_fewer_failures_than_the_limit_do_not_lock_and_success_resets_them():
    # given
    UserFactory(username="dan")
    for _ in range(4):
        _login("dan", "wrong")

    # when
    ok = _login("dan", PASSWORD)
    later = [_login("dan", "wrong").status_code for _ in range(4)]

    # then
    assert_success(ok)
    assert later == [401, 401, 401, 401]


def test_the_admin_login_locks_with_a_message():
    # given
    UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(4):
        response = client.post("/admin/login/", {"username": "root", "password": "wrong"})
        assert response.status_code == 200  # the form again, with Django's own error

    # when
    fifth = client.post("/admin/login/", {"username": "root", "password": "wrong"})
    right = client.post("/admin/login/", {"username": "root", "password": PASSWORD})

    # then
    for response in (fifth, right):
        assert response.status_code == 429
        assert response["Retry-After"] == "900"
        assert "Too many failed logins. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page

    # and when the lock has expired
    _expire_locks()
    assert client.post("/admin/login/", {"username": "root", "password": PASSWORD}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admins_see_and_clear_recorded_attempts(client_admin):
    # given
    _login("erin", "wrong")
    attempt = AccessAttempt.objects.get()

    # when
    listed = client_admin.get("/admin/axes/accessattempt/")
    deleted = client_admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    # then
    assert listed.status_code == 200
    assert "erin" in listed.content.decode()
    assert deleted.status_code == 302
    assert AccessAttempt.objects.count() == 0
    assert list(AuditEvent.objects.filter(action="delete").values_list("object_type", "company_id")) == [
        ("axes.accessattempt", None)
    ]
