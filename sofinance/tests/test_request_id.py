"""Request ids: accepted or made, echoed in the header and meta, bound to every log line."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import structlog
from django.test import Client

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from conftest import auth_client
from sofinance.context import get_request_id
from sofinance.tests.asserts import assert_error, assert_success

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def log_lines():
    """The JSON lines the configured stdout handler writes, for loggers raised to INFO."""
    root = logging.getLogger()
    handler = next(h for h in root.handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter))
    buffer = io.StringIO()
    old_stream = handler.setStream(buffer)
    request_logger = logging.getLogger("sofinance.request")
    old_level = request_logger.level
    request_logger.setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    try:
        yield read
    finally:
        request_logger.setLevel(old_level)
        handler.setStream(old_stream)


@pytest.mark.django_db
def test_a_valid_request_id_is_echoed_in_header_and_meta():
    client = auth_client(UserFactory())

    response = client.get("/api/v1/me", HTTP_X_REQUEST_ID="client-req.42:a_b")

    assert response["X-Request-ID"] == "client-req.42:a_b"
    assert assert_success(response)["meta"]["request_id"] == "client-req.42:a_b"


@pytest.mark.django_db
def test_a_request_id_is_made_when_absent(api_client):
    response = api_client.get("/api/v1/me")

    assert GENERATED.match(response["X-Request-ID"])
    assert_error(response, 401, "not_authenticated")  # meta.request_id == the header


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming", ["has spaces", "x" * 129, "<script>alert(1)</script>", "line\\nbreak", "é-unicode"]
)
def test_an_invalid_request_id_is_replaced_not_echoed(api_client, incoming):
    response = api_client.get("/api/v1/me", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming
    assert GENERATED.match(response["X-Request-ID"])
    assert json.loads(response.content)["meta"]["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
def test_non_api_responses_carry_the_request_id_too(client):
    assert client.get("/health/live", HTTP_X_REQUEST_ID="probe-1")["X-Request-ID"] == "probe-1"


@pytest.mark.django_db
def test_the_request_id_is_cleared_after_the_request(client):
    client.get("/health/live", HTTP_X_REQUEST_ID="probe-2")

    assert get_request_id() is None


@pytest.mark.django_db
def test_the_request_log_line_carries_the_request_id(log_lines):
    # given
    client = auth_client(UserFactory())

    # when
    client.get("/api/v1/me", HTTP_X_REQUEST_ID="log-req-1")

    # then
    lines = [line for line in log_lines() if line.get("event") == "request"]
    assert len(lines) == 1
    line = lines[0]
    assert {k: line[k] for k in ("request_id", "method", "path", "status", "level", "logger")} == {
        "request_id": "log-req-1",
        "method": "GET",
        "path": "/api/v1/me",
        "status": 200,
        "level": "info",
        "logger": "sofinance.request",
    }
    assert isinstance(line["duration_ms"], float)
    assert line["timestamp"].endswith("Z")


@pytest.mark.django_db
@pytest.mark.urls("sofinance.tests.urls_test_only")
def test_the_traceback_goes_to_the_log_with_the_request_id_not_to_the_client(log_lines):
    # when
    response = Client(raise_request_exception=False).get("/api/v1/test/explode", HTTP_X_REQUEST_ID="boom-1")

    # then
    assert_error(response, 500, "internal_error")
    errors = [line for line in log_lines() if line.get("event") == "unhandled_exception"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "boom-1"
    assert errors[0]["exc_type"] == "RuntimeError"
    assert "hunter2" in errors[0]["exception"]  # the detail is in the log, for operators
    assert "hunter2" not in response.content.decode()


@pytest.mark.django_db
def test_audit_events_record_the_request_id():
    client = auth_client(UserFactory())

    client.post(
        "/api/v1/companies",
        {"name": "Acme", "currency": "USD"},
        format="json",
        HTTP_X_REQUEST_ID="audit-req-1",
    )

    assert set(AuditEvent.objects.values_list("request_id", flat=True)) == {"audit-req-1"}
