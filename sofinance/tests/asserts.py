"""Assertions on the response envelope shared by the platform's tests."""

from __future__ import annotations

import json

ENVELOPE_KEYS = {"success", "data", "error", "meta"}


def body_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


def assert_success(response, status: int = 200) -> dict:
    """The response is a success envelope with `status`; returns the body."""
    assert response.status_code == status, response.content
    body = body_of(response)
    assert set(body) == ENVELOPE_KEYS
    assert body["success"] is True
    assert body["error"] is None
    assert body["meta"]["request_id"] == response["X-Request-ID"]
    return body


def assert_error(response, status: int, code: str) -> dict:
    """The response is an error envelope with `status` and `code`; returns the error object."""
    assert response.status_code == status, response.content
    body = body_of(response)
    assert set(body) == ENVELOPE_KEYS
    assert body["success"] is False
    assert body["data"] is None
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["meta"]["request_id"] == response["X-Request-ID"]
    return body["error"]
