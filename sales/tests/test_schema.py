"""The sales API's OpenAPI: generated without warnings, every operation explained for a client
developer, examples on the main writes, and the conflicts documented."""

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def sales_operations(schema):
    prefixes = ("customers", "items", "tax-rates", "sales-settings", "invoices", "credit-notes", "payments")
    reports = ("reports/ar-aging", "reports/customer-statement", "reports/sales-summary")
    for path, methods in schema["paths"].items():
        tail = path.removeprefix("/api/v1/companies/{company_id}/")
        if tail.startswith(prefixes) or tail in reports:
            for method, operation in methods.items():
                if method in ("get", "post", "patch", "delete"):
                    yield path, method, operation


def test_the_sales_routes_generate_without_warnings():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    SchemaGenerator(patterns=[path("api/v1/", include("sales.api.urls"))]).get_schema(
        request=None, public=True
    )
    assert list(GENERATOR_STATS._warn_cache) == []
    assert list(GENERATOR_STATS._error_cache) == []


def test_every_sales_operation_has_a_summary_and_a_description(schema):
    operations = list(sales_operations(schema))
    assert len(operations) == 38
    for path, method, operation in operations:
        assert operation.get("summary"), (path, method)
        assert len(operation.get("description", "")) > 20, (path, method)


def test_main_writes_have_examples_and_document_their_conflicts(schema):
    paths = schema["paths"]
    base = "/api/v1/companies/{company_id}"
    for path in ("/invoices", "/payments", "/credit-notes", "/customers", "/items", "/tax-rates"):
        content = paths[base + path]["post"]["requestBody"]["content"]["application/json"]
        assert content.get("examples"), path
    void = paths[base + "/invoices/{id}/void"]["post"]["responses"]
    assert set(void) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "406",
        "409",
        "413",
        "415",
        "422",
        "429",
        "500",
        "503",
    }
    assert void["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    assert "`already_void`" in void["409"]["description"]
    assert "`invoice_has_allocations`" in void["422"]["description"]
    document = paths[base + "/invoices/{id}/document"]["get"]["responses"]["200"]["content"]
    assert "text/html" in document
    aging = paths[base + "/reports/ar-aging"]["get"]["responses"]["200"]["content"]
    assert set(aging) == {"application/json", "text/csv"}
    invoice = schema["components"]["schemas"]["InvoiceOutput"]["properties"]
    assert invoice["total_base"].get("nullable") is True
    assert invoice["number"].get("nullable") is True
