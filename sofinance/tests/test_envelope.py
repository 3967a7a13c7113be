"""Every JSON response under /api/ is an envelope: successes and each class of error."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import Company, Membership
from accounts.tests.factories import CompanyFactory
from audit.models import AuditEvent
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success, body_of
from sofinance.tests.urls_test_only import SECRET_TEXT

pytestmark = pytest.mark.django_db


def _nothing_written(companies_before: int) -> None:
    assert Company.objects.count() == companies_before
    assert AuditEvent.objects.count() == 0


def test_success_envelope_shape(make_member, company):
    # given
    user, client = make_member(company, Role.ACCOUNTANT)

    # when
    response = client.get("/api/v1/me")

    # then
    body = assert_success(response)
    assert body["data"]["user"] == {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
    }
    assert [(m["company"]["id"], m["role"]) for m in body["data"]["memberships"]] == [
        (company.pk, "accountant")
    ]
    assert set(body["meta"]) == {"request_id"}


def test_validation_error_envelope_lists_field_errors(user, api_client):
    # given
    api_client.force_authenticate(user)

    # when
    response = api_client.post("/api/v1/companies", {"fiscal_year_start": 13}, format="json")

    # then
    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {
        "name": ["This field is required."],
        "currency": ["This field is required."],
        "fiscal_year_start": ["Ensure this value is less than or equal to 12."],
    }
    _nothing_written(0)


def test_malformed_json_is_a_validation_error(user, api_client):
    # given
    api_client.force_authenticate(user)

    # when
    response = api_client.post(
        "/api/v1/companies", data='{"name": "Acme", "currency": ', content_type="application/json"
    )

    # then
    error = assert_error(response, 400, "validation_error")
    assert error["message"].startswith("JSON parse error")
    _nothing_written(0)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused(user, api_client, literal):
    # given: Python's json module accepts these non-JSON literals unless told not to
    api_client.force_authenticate(user)
    raw = '{"name": "Acme", "currency": "USD", "fiscal_year_start": ' + literal + "}"

    # when
    response = api_client.post("/api/v1/companies", data=raw, content_type="application/json")

    # then
    error = assert_error(response, 400, "validation_error")
    assert literal in error["message"]
    _nothing_written(0)


def test_missing_credentials_are_401_with_bearer_challenge(api_client):
    # when
    response = api_client.get("/api/v1/me")

    # then
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_insufficient_role_is_403(company, make_member):
    # given
    _, client = make_member(company, Role.VIEWER)

    # when
    response = client.post(
        f"/api/v1/companies/{company.pk}/members", {"user": "nobody", "role": "clerk"}, format="json"
    )

    # then
    error = assert_error(response, 403, "permission_denied")
    assert error["details"] == {"role": "viewer", "action": "members.manage"}
    assert Membership.objects.filter(company=company).count() == 1


@pytest.mark.parametrize(
    "path", ["/api/v1/does-not-exist", "/api/v1/does-not-exist/", "/api/nothing", "/api/v2/companies"]
)
def test_unknown_api_route_is_404_envelope(user, api_client, path):
    # given
    api_client.force_authenticate(user)

    # when
    response = api_client.get(path)

    # then
    error = assert_error(response, 404, "not_found")
    assert error == {"code": "not_found", "message": "Not found.", "details": {}}


def test_unknown_route_outside_api_keeps_djangos_html_404(client):
    response = client.get("/definitely-not-a-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_another_companys_id_is_404_like_a_missing_one(company, make_member):
    # given
    _, client = make_member(company, Role.ADMIN)
    other = CompanyFactory()

    # when
    foreign = client.get(f"/api/v1/companies/{other.pk}")
    missing = client.get("/api/v1/companies/999999999")

    # then
    assert assert_error(foreign, 404, "not_found") == assert_error(missing, 404, "not_found")
    assert other.name not in foreign.content.decode()


def test_unsupported_method_on_api_view_is_405(user, api_client):
    # given
    api_client.force_authenticate(user)

    # when
    response = api_client.put("/api/v1/me", {}, format="json")

    # then
    error = assert_error(response, 405, "method_not_allowed")
    assert error["message"] == 'Method "PUT" not allowed.'


@pytest.mark.urls("sofinance.tests.urls_test_only")
def test_unsupported_method_on_a_plain_django_view_is_405_envelope(client):
    # given: a non-DRF view restricted to GET answers Django's empty 405
    # when
    response = client.delete("/api/v1/test/legacy-get-only")

    # then
    error = assert_error(response, 405, "method_not_allowed")
    assert error == {"code": "method_not_allowed", "message": "Method not allowed.", "details": {}}
    assert response["Allow"] == "GET"


@pytest.mark.urls("sofinance.tests.urls_test_only")
def test_unhandled_exception_in_api_view_is_500_without_internals(db):
    # given
    client = Client(raise_request_exception=False)

    # when
    response = client.get("/api/v1/test/explode")

    # then
    error = assert_error(response, 500, "internal_error")
    assert error == {
        "code": "internal_error",
        "message": "An internal error occurred. It has been logged.",
        "details": {},
    }
    text = response.content.decode()
    for leak in ("hunter2", "RuntimeError", "Traceback", "db-primary", SECRET_TEXT):
        assert leak not in text


@pytest.mark.urls("sofinance.tests.urls_test_only")
def test_unhandled_exception_in_plain_view_is_500_without_internals(db):
    # given: a non-DRF view goes through Django's handler500 and the legacy middleware
    client = Client(raise_request_exception=False)

    # when
    response = client.get("/api/v1/test/explode-plain")

    # then
    error = assert_error(response, 500, "internal_error")
    assert error["details"] == {}
    text = response.content.decode()
    for leak in ("hunter2", "RuntimeError", "Traceback", "db-primary"):
        assert leak not in text


@pytest.mark.urls("sofinance.tests.urls_test_only")
def test_legacy_plain_json_success_is_wrapped(client):
    # when
    response = client.get("/api/v1/test/legacy", HTTP_X_REQUEST_ID="legacy-1")

    # then
    body = assert_success(response)
    assert body == {
        "success": True,
        "data": {"invoice": "INV-1", "total": "12.50"},
        "error": None,
        "meta": {"request_id": "legacy-1"},
    }


@pytest.mark.urls("sofinance.tests.urls_test_only")
def test_legacy_plain_json_error_is_wrapped_with_a_code(client):
    # when
    response = client.get("/api/v1/test/legacy-error")

    # then
    error = assert_error(response, 400, "validation_error")
    assert error == {"code": "validation_error", "message": "Legacy refusal.", "details": {}}


def test_health_endpoints_are_not_wrapped(client, db):
    # when
    response = client.get("/health/live")

    # then: probes answer in their own small shape, outside the API
    assert response.status_code == 200
    assert body_of(response) == {"status": "ok"}
    assert "success" not in json.loads(response.content)
