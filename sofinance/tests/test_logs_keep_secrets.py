"""No log line carries a password, a token, an Authorization header or a secret, at any level."""

from __future__ import annotations

import io
import logging

import pytest
import structlog
from django.conf import settings
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from sofinance.observability.logging import redact_secrets

pytestmark = pytest.mark.django_db

PASSWORD = "Corr3ct-horse-battery-staple"


@pytest.fixture
def captured_logs():
    """Every log record of the process, at DEBUG, through the production formatter."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream := io.StringIO())
    handler.setFormatter(root.handlers[0].formatter)
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_logins_tokens_headers_and_failures_leave_no_secret_in_the_logs(captured_logs, monkeypatch):
    # given
    user = UserFactory(username="dora")
    user.set_password(PASSWORD)
    user.save()
    client = APIClient()
    # when: a failed login, a login, a refresh, an authenticated request and a request that fails
    client.post("/api/v1/auth/token", {"username": "dora", "password": PASSWORD + "x"}, format="json")
    tokens = client.post(
        "/api/v1/auth/token", {"username": "dora", "password": PASSWORD}, format="json"
    ).json()
    access, refresh = tokens["data"]["access"], tokens["data"]["refresh"]
    renewed = client.post("/api/v1/auth/refresh", {"refresh": refresh}, format="json").json()["data"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    client.get("/api/v1/me")
    from accounts.api import views

    def boom(self, request):
        raise RuntimeError(f"could not handle Authorization: Bearer {access} for {request.user}")

    monkeypatch.setattr(views.MeView, "get", boom)
    assert client.get("/api/v1/me").status_code == 500
    structlog.get_logger("sofinance.tests").warning(
        "someone logged what they should not",
        password=PASSWORD,
        headers={"Authorization": f"Bearer {access}"},
    )
    logging.getLogger("django.request").error("raw line quoting %s", f"Bearer {renewed['access']}")
    # then
    text = captured_logs.getvalue()
    assert "could not handle Authorization" in text and "login" in text  # the lines were written
    for secret in (
        PASSWORD,
        access,
        refresh,
        renewed["access"],
        renewed["refresh"],
        settings.SECRET_KEY,
        settings.AUDIT_HMAC_KEY,
        *(pair.split(":", 1)[1] for pair in settings.JWT_SECRET.split(",")),
    ):
        assert secret not in text
    assert "[redacted]" in text


def test_the_redaction_processor_masks_keys_and_tokens_inside_text():
    event = {
        "event": "call failed: Bearer abcdefghijklmnop",
        "request": {"headers": {"Authorization": "Basic dXNlcjpwYXNz", "Accept": "text/csv"}},
        "client_secret": "s3cr3t",
        "note": "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl inside",
        "amount": "1250.00",
    }
    assert redact_secrets(None, "info", event) == {
        "event": "call failed: [redacted]",
        "request": {"headers": {"Authorization": "[redacted]", "Accept": "text/csv"}},
        "client_secret": "[redacted]",
        "note": "token [redacted] inside",
        "amount": "1250.00",
    }
