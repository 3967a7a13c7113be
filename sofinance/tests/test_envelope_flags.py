"""ENABLE_KEY_MIRRORING and ENABLE_RESPONSE_ENRICHMENT, on and off."""

from __future__ import annotations

import json

import pytest

from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db


def test_flags_off_by_default_leave_the_plain_envelope(company, make_member, settings):
    # given
    assert settings.ENABLE_KEY_MIRRORING is False
    assert settings.ENABLE_RESPONSE_ENRICHMENT is False
    _, client = make_member(company, Role.VIEWER)

    # when
    response = client.get(f"/api/v1/companies/{company.pk}")

    # then
    body = json.loads(response.content)
    assert set(body) == {"success", "data", "error", "meta"}
    assert set(body["meta"]) == {"request_id"}
    assert "Deprecation" not in response
    assert "Link" not in response


def test_key_mirroring_copies_data_keys_to_the_top_level(company, make_member, settings):
    # given
    settings.ENABLE_KEY_MIRRORING = True
    _, client = make_member(company, Role.VIEWER)

    # when
    response = client.get(f"/api/v1/companies/{company.pk}")

    # then
    assert response.status_code == 200
    body = json.loads(response.content)
    data = body["data"]
    assert set(body) == {"success", "data", "error", "meta", *data}
    for key in ("id", "name", "currency", "fiscal_year_start", "role", "created_at"):
        assert body[key] == data[key]
    assert (body["id"], body["name"], body["currency"]) == (company.pk, company.name, "USD")
    assert response["Deprecation"] == "true"
    assert response["Link"] == '</api/docs/>; rel="deprecation"'


@pytest.mark.urls("sofinance.tests.urls_test_only")
def test_key_mirroring_never_overrides_the_envelope_keys(settings, client):
    # given: data with keys named like the envelope's own
    settings.ENABLE_KEY_MIRRORING = True

    # when
    response = client.get("/api/v1/test/colliding", HTTP_X_REQUEST_ID="mirror-1")

    # then
    body = json.loads(response.content)
    assert body == {
        "success": True,
        "data": {"meta": "inner meta", "error": "inner error", "success": "inner", "label": "kept"},
        "error": None,
        "meta": {"request_id": "mirror-1"},
        "label": "kept",
    }
    assert response["Deprecation"] == "true"


@pytest.mark.urls("sofinance.tests.urls_test_only")
def test_key_mirroring_applies_to_legacy_plain_json_too(settings, client):
    settings.ENABLE_KEY_MIRRORING = True

    response = client.get("/api/v1/test/legacy")

    body = json.loads(response.content)
    assert (body["success"], body["invoice"], body["total"]) == (True, "INV-1", "12.50")
    assert response["Deprecation"] == "true"


def test_key_mirroring_leaves_lists_and_errors_alone(company, make_member, settings, api_client):
    # given
    settings.ENABLE_KEY_MIRRORING = True
    _, client = make_member(company, Role.VIEWER)

    # when
    listed = client.get("/api/v1/companies")
    refused = api_client.get("/api/v1/me")

    # then
    assert set(json.loads(listed.content)) == {"success", "data", "error", "meta"}
    assert "Deprecation" not in listed
    assert_error(refused, 401, "not_authenticated")
    assert "Deprecation" not in refused


def test_enrichment_adds_timing_version_and_links(company, make_member, settings):
    # given
    settings.ENABLE_RESPONSE_ENRICHMENT = True
    _, client = make_member(company, Role.VIEWER)

    # when
    response = client.get(f"/api/v1/companies/{company.pk}?x=1", HTTP_X_REQUEST_ID="enrich-1")

    # then
    meta = assert_success(response)["meta"]
    assert set(meta) == {"request_id", "timing_ms", "api_version", "links"}
    assert meta["request_id"] == "enrich-1"
    assert meta["api_version"] == "1.0"
    assert isinstance(meta["timing_ms"], float)
    assert 0 < meta["timing_ms"] < 10_000
    assert meta["links"] == {"self": f"http://testserver/api/v1/companies/{company.pk}?x=1"}


def test_enrichment_applies_to_errors_and_to_paginated_lists(company, make_member, settings, api_client):
    # given
    settings.ENABLE_RESPONSE_ENRICHMENT = True
    _, client = make_member(company, Role.VIEWER)

    # when
    refused = api_client.get("/api/v1/me")
    missing = client.get("/api/v1/nowhere")
    listed = client.get("/api/v1/companies")

    # then
    for response in (refused, missing, listed):
        meta = json.loads(response.content)["meta"]
        assert meta["api_version"] == "1.0"
        assert "timing_ms" in meta
    assert json.loads(listed.content)["meta"]["pagination"]["count"] == 1


def test_both_flags_together(company, make_member, settings):
    settings.ENABLE_KEY_MIRRORING = True
    settings.ENABLE_RESPONSE_ENRICHMENT = True
    _, client = make_member(company, Role.VIEWER)

    body = json.loads(client.get(f"/api/v1/companies/{company.pk}").content)

    assert body["name"] == company.name
    assert body["meta"]["api_version"] == "1.0"
