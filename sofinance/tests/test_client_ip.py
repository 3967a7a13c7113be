"""The client address: the socket's peer, unless trusted proxies say otherwise (one rule everywhere)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from sofinance.client_ip import client_ip
from sofinance.tests.asserts import assert_error

REFRESH_URL = "/api/v1/auth/refresh"


def _request(remote: str | None = "203.0.113.9", forwarded: str | None = None):
    meta = {}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    return request


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, None, "203.0.113.9"),
        (0, "198.51.100.1", "203.0.113.9"),  # no proxy trusted: the header is the client's own words
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own entry stays on the left
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "203.0.113.9"),  # fewer hops than proxies: the socket
        (1, "not-an-address", "203.0.113.9"),
        (1, "", "203.0.113.9"),
        (1, " 2001:DB8:0:0::1 ", "2001:db8::1"),  # normalised as the database stores it
    ],
)
def test_client_ip_takes_the_nth_forwarded_address_from_the_right(settings, trusted, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = trusted

    assert client_ip(_request(forwarded=forwarded)) == expected


def test_client_ip_without_any_address_is_none(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(_request(remote=None, forwarded="198.51.100.1")) is None


@pytest.fixture
def limit_of_30(settings):
    # No refill within the test however long the machine stalls between two requests (a paused or
    # starved VM once let a 1-per-minute bucket refill mid-test): one token in about two years.
    settings.RATE_LIMIT_PER_MINUTE = 1e-6
    settings.RATE_LIMIT_BURST = 30
    return settings


@pytest.mark.django_db
def test_a_rotating_forwarded_for_does_not_escape_the_per_address_limit(limit_of_30, api_client):
    # given: no trusted proxy, one client sending a new X-Forwarded-For with every request
    limit_of_30.TRUSTED_PROXY_COUNT = 0

    # when
    statuses = [
        api_client.post(
            REFRESH_URL, {"refresh": "x"}, format="json", HTTP_X_FORWARDED_FOR=f"198.51.{i // 256}.{i % 256}"
        ).status_code
        for i in range(133)
    ]

    # then: 30 reach the view (401 for the bad token), the other 103 are limited
    assert statuses.count(401) == 30
    assert statuses.count(429) == 103
    assert statuses[:30] == [401] * 30


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(limit_of_30, api_client):
    # given: one trusted proxy at 10.0.0.2 that appends the real client's address
    limit_of_30.TRUSTED_PROXY_COUNT = 1

    def call(client_address: str, spoofed: str = "6.6.6.6"):
        return api_client.post(
            REFRESH_URL,
            {"refresh": "x"},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"{spoofed}, {client_address}",
        )

    # when: the first client spends its burst while rotating its own (untrusted) entry
    first = [call("198.51.100.1", spoofed=f"6.6.6.{i}").status_code for i in range(31)]
    second = call("198.51.100.2")

    # then
    assert first == [401] * 30 + [429]
    assert_error(second, 401, "not_authenticated")


@pytest.mark.django_db
def test_audit_events_record_the_same_client_address(settings, api_client):
    # given
    UserFactory(username="ann")
    settings.TRUSTED_PROXY_COUNT = 0

    # when: a failed login with a forged header, then the same through a trusted proxy
    api_client.post(
        "/api/v1/auth/token",
        {"username": "ann", "password": "wrong"},
        format="json",
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    settings.TRUSTED_PROXY_COUNT = 1
    api_client.post(
        "/api/v1/auth/token",
        {"username": "ann", "password": "wrong"},
        format="json",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7",
    )

    # then
    assert list(
        AuditEvent.objects.filter(action="login_failed").order_by("pk").values_list("ip", flat=True)
    ) == [
        "203.0.113.9",
        "198.51.100.7",
    ]
