"""The request examples of the schema work when sent as they are, one after another, in the
company the company example creates: what an integrator tries first. (Examples that name other
objects by id are left out: their ids are the reader's own.)"""

from __future__ import annotations

import pytest

from accounts.models import Company
from conftest import auth_client
from sofinance.tests.openapi_contract import published_schema

pytestmark = pytest.mark.django_db

COMPANY = "/api/v1/companies"
# In the order an integrator follows them: the rates and accounts before the entries using them.
IN_THE_COMPANY = [
    ("post", "/exchange-rates"),
    ("post", "/accounts"),
    ("post", "/journal-entries"),
    ("post", "/journal-entries/bulk"),
    ("post", "/tax-rates"),
    ("post", "/customers"),
    ("post", "/bank-accounts"),
    ("post", "/periods/generate"),
    ("post", "/exports"),
    ("post", "/members"),
]


def examples(method: str, path: str) -> dict[str, dict]:
    operation = published_schema()["paths"][path][method]
    found = operation["requestBody"]["content"]["application/json"]["examples"]
    return {name: example["value"] for name, example in found.items()}


def test_the_request_examples_work_as_they_are_in_the_company_of_the_company_example(user):
    client = auth_client(user)
    (body,) = examples("post", COMPANY).values()
    created = client.post(COMPANY, body, format="json")
    assert created.status_code == 201, created.json()
    company = Company.objects.get(pk=created.json()["data"]["id"])

    answers = {}
    for method, suffix in IN_THE_COMPANY:
        for name, body in examples(method, f"{COMPANY}/{{company_id}}{suffix}").items():
            response = getattr(client, method)(f"{COMPANY}/{company.pk}{suffix}", body, format="json")
            answers[f"{method.upper()} {suffix} {name}"] = (response.status_code, response.json())
    refused = {name: answer for name, answer in answers.items() if answer[0] >= 300}
    assert refused == {}
