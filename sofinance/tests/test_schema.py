"""The OpenAPI schema and its interactive docs, with every response inside the envelope."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(response.content)


def test_schema_is_served_as_yaml_by_default(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.0.3")


def test_schema_documents_the_api_paths_without_trailing_slashes(schema):
    paths = set(schema["paths"])

    assert {
        "/api/v1/auth/token",
        "/api/v1/auth/refresh",
        "/api/v1/me",
        "/api/v1/companies",
        "/api/v1/companies/{company_id}",
        "/api/v1/companies/{company_id}/members",
        "/api/v1/companies/{company_id}/members/{id}",
        "/api/v1/companies/{company_id}/accounts",
        "/api/v1/companies/{company_id}/accounts/load-template",
    } <= paths
    assert not [p for p in paths if p.endswith("/")]


def test_success_responses_are_enveloped(schema):
    # given
    listed = schema["paths"]["/api/v1/companies"]["get"]["responses"]["200"]
    envelope = listed["content"]["application/json"]["schema"]

    # then
    assert envelope["required"] == ["success", "data", "error", "meta"]
    assert envelope["properties"]["success"] == {"type": "boolean", "enum": [True]}
    assert envelope["properties"]["error"] == {
        "type": "object",
        "nullable": True,
        "enum": [None],
        "description": "Always null.",
    }
    assert envelope["properties"]["meta"] == {"$ref": "#/components/schemas/Meta"}
    assert envelope["properties"]["data"] == {"$ref": "#/components/schemas/PaginatedCompanyOutputList"}
    assert schema["components"]["schemas"]["PaginatedCompanyOutputList"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/CompanyOutput"},
    }
    parameters = {p["name"] for p in schema["paths"]["/api/v1/companies"]["get"]["parameters"]}
    assert parameters == {"page", "page_size"}
    me = schema["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert me["properties"]["data"] == {"$ref": "#/components/schemas/MeOutput"}


def test_error_responses_are_documented_with_their_codes(schema):
    # given
    responses = schema["paths"]["/api/v1/companies/{company_id}/members"]["post"]["responses"]

    # then: what inviting can answer, and nothing it cannot (no business rule: no 422)
    assert set(responses) == {
        "201",
        "400",
        "401",
        "403",
        "404",
        "406",
        "409",
        "413",
        "415",
        "429",
        "500",
        "503",
    }
    assert responses["404"] == {"$ref": "#/components/responses/NotFound"}
    not_found = schema["components"]["responses"]["NotFound"]
    assert not_found["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    assert "`not_found`" in not_found["description"]
    conflict = responses["409"]
    assert "`already_member`" in conflict["description"]
    assert "`idempotency_conflict`" in conflict["description"]
    error_envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    assert error_envelope["properties"]["success"] == {"type": "boolean", "enum": [False]}
    assert error_envelope["properties"]["error"] == {"$ref": "#/components/schemas/Error"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message", "details"]
    assert set(schema["components"]["schemas"]["Meta"]["properties"]) == {
        "request_id",
        "pagination",
        "idempotent_replay",
    }


def test_every_operation_declares_what_any_request_may_answer(schema):
    # a 406 for an Accept it cannot serve, a 413 for a body over the limit on any method (a GET or a
    # DELETE too: refused before routing), a 500: each answered for real, so each is declared
    missing = [
        f"{method.upper()} {path}: {status}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "post", "patch", "put", "delete")
        for status in ("406", "413", "500")
        if status not in operation["responses"]
    ]
    assert missing == []


def test_answers_declare_every_property_they_always_send(schema):
    # DRF marks a model field with a default optional (a request's notion); in an answer every
    # property is sent, so a generated client must not make `status` or `number` optional
    components = schema["components"]["schemas"]
    assert {"number", "status", "journal_entry"} <= set(components["InvoiceOutput"]["required"])
    assert {"status", "closed_by"} <= set(components["PeriodOutput"]["required"])
    assert {"parent", "is_active"} <= set(components["AccountOutput"]["required"])
    # a property sent only sometimes stays optional
    assert "account_currency" not in components["TrialBalanceRowOutput"]["required"]
    # and request bodies keep their own optional fields
    assert components["AccountCreateInputRequest"]["required"] == ["code", "name", "type"]


def test_what_is_never_null_is_not_nullable_and_normal_balance_is_an_enum(schema):
    components = schema["components"]["schemas"]
    assert "nullable" not in components["TaxRateOutput"]["properties"]["rate"]
    assert "nullable" not in components["InvoiceLineOutput"]["properties"]["discount"]
    assert components["NormalBalanceEnum"]["enum"] == ["debit", "credit"]


def test_jwt_bearer_security_is_documented(schema):
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert {"jwtAuth": []} in schema["paths"]["/api/v1/me"]["get"]["security"]
    # Logging in needs no credentials: no security requirement at all (with `[{}]`, "none,
    # optionally", client generators asked for a token client to log in with), and none globally.
    for path in ("/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/auth/logout"):
        assert "security" not in schema["paths"][path]["post"], path
    assert "security" not in schema


def test_schema_generation_for_the_accounts_api_is_warning_free():
    # given: drf-spectacular's own collector of generation warnings, and only this app's routes
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    patterns = [path("api/v1/", include("accounts.api.urls"))]

    # when
    SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    # then
    assert list(GENERATOR_STATS._warn_cache) == []
    assert list(GENERATOR_STATS._error_cache) == []


def test_docs_page_serves_swagger_ui_pointing_at_the_schema(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "swagger-ui" in page
    # The start-up script is a separate response (no inline script: the page runs under the CSP).
    assert '<script src="/api/docs/?script="></script>' in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert '"/api/schema/"' in script.content.decode()
    # The UI's assets are served by this site (drf-spectacular-sidecar), not fetched from a CDN.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn.jsdelivr.net" not in page


def test_every_documented_query_parameter_is_one_its_operation_reads(schema):
    """Lists and reports refuse a query parameter they do not read (400): each GET operation's
    documented parameters must all be read, or a client following the schema is refused."""
    import re

    from django.urls import resolve

    from sofinance.api.pagination import EnvelopeCursorPagination, EnvelopePageNumberPagination

    checked = 0
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        view = resolve(re.sub(r"\{[a-z_]+\}", "1", path)).func.view_class
        paginator = view.pagination_class
        if getattr(view, "query_parameters", None) is not None and paginator is None:
            reads = set(view.query_parameters)  # a report: exactly what it reads (and `format`)
            assert documented - {"format"} == reads, (path, documented ^ reads)
        elif paginator is not None and issubclass(
            paginator, EnvelopeCursorPagination | EnvelopePageNumberPagination
        ):
            own = (
                {"cursor", "page_size"}
                if issubclass(paginator, EnvelopeCursorPagination)
                else {"page", "page_size"}
            )
            filters = (
                set(view.filterset_class.base_filters) if getattr(view, "filterset_class", None) else set()
            )
            reads = own | filters | set(getattr(view, "query_parameters", ())) | {"format"}
            assert documented <= reads, (path, documented - reads)
        else:
            continue
        checked += 1
    assert checked >= 30  # every list and report of the API
