"""The tenancy matrix, generated from the URL configuration: every company-scoped endpoint, every
method it answers, called anonymously, with a tampered token, as a member of another company and
as each role. A new endpoint is in the matrix the day it is routed, so it cannot forget its check.

Expected, per (endpoint, method):
- no token / a tampered token: 401 `not_authenticated`;
- a member of another company only: 404 `not_found` (the company's existence does not leak);
- a member whose role lacks the endpoint's action (sofinance.permissions): 403 `permission_denied`
  naming that action;
- a member whose role has it: past the tenancy check (not 401, not that 403), and never a 5xx.
Object ids in the path name no object (the check comes before the object is looked up), bodies are
empty. Refused requests write nothing: every table's row count is the same before and after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.tests.factories import CompanyFactory, MembershipFactory, UserFactory
from conftest import auth_client
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.permissions import Role, role_can

pytestmark = pytest.mark.django_db

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
MISSING_ID = 987654321
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Endpoint:
    regex: str
    view: type
    method: str

    def url(self, company_id: int) -> str:
        path = self.regex.replace("^", "").replace("$", "").removesuffix("/?")
        values = {"company_id": str(company_id)}
        return "/" + _GROUP.sub(lambda m: values.get(m.group(1), str(MISSING_ID)), path)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url(0)} ({self.view.__name__})"


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        regex = prefix + str(entry.pattern.regex.pattern).lstrip("^")
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, regex)
        elif isinstance(entry, URLPattern):
            yield regex, entry.callback


def company_endpoints() -> list[Endpoint]:
    found = []
    for regex, callback in _walk(get_resolver().url_patterns):
        if "(?P<company_id>" not in regex:
            continue
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        assert view is not None, f"{regex}: not a class-based view"
        for method in METHODS:
            if hasattr(view, method):
                found.append(Endpoint(regex, view, method))
    return found


ENDPOINTS = company_endpoints()


# Writes a viewer may make, by view name, with the reason: a POST that only produces a read.
VIEWER_WRITES: dict[str, str] = {
    "ExportListView": "an export of a report the caller may read anyway (each kind checks that right)",
}


def test_the_matrix_covers_every_company_endpoint_and_each_declares_its_check():
    assert len(ENDPOINTS) > 40  # the walk found the API (not an empty list that passes anything)
    for endpoint in ENDPOINTS:
        assert issubclass(endpoint.view, CompanyScopedMixin), f"{endpoint}: not company-scoped"
        assert endpoint.method in endpoint.view.actions, f"{endpoint}: no action declared for the method"


def test_no_write_is_declared_with_a_read_action():
    # A POST/PATCH/DELETE guarded by an action every viewer has is a write anyone may make.
    loose = [
        f"{endpoint} -> {endpoint.view.actions[endpoint.method]}"
        for endpoint in ENDPOINTS
        if endpoint.method != "get"
        and role_can(Role.VIEWER, endpoint.view.actions[endpoint.method])
        and endpoint.view.__name__ not in VIEWER_WRITES
    ]
    assert loose == []


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
    }


def call(client: APIClient, endpoint: Endpoint, company_id: int):
    return getattr(client, endpoint.method)(endpoint.url(company_id), {}, format="json")


def tampered_client(user) -> APIClient:
    client = auth_client(user)
    token = client._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {head}.{payload}.{flipped}")
    return client


def _error(response) -> dict:
    body = response.json()
    assert body["success"] is False, body
    return body["error"]


def test_outsiders_are_refused_and_write_nothing():
    company = CompanyFactory()
    outsider = UserFactory()
    MembershipFactory(user=outsider, company=CompanyFactory(), role=Role.ADMIN)  # admin elsewhere
    member = UserFactory()
    MembershipFactory(user=member, company=company, role=Role.ADMIN)
    callers = {
        "anonymous": (APIClient(), 401, "not_authenticated"),
        "tampered token": (tampered_client(member), 401, "not_authenticated"),
        "another company's admin": (auth_client(outsider), 404, "not_found"),
    }
    before = row_counts()
    wrong = []
    for endpoint in ENDPOINTS:
        for who, (client, status, code) in callers.items():
            response = call(client, endpoint, company.pk)
            if response.status_code != status or _error(response)["code"] != code:
                wrong.append(f"{endpoint} as {who}: {response.status_code} {response.content[:200]!r}")
    assert wrong == []
    assert row_counts() == before


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_permission_table_gives_it(role):
    company = CompanyFactory()
    user = UserFactory()
    MembershipFactory(user=user, company=company, role=role)
    client = auth_client(user)
    allowed = [e for e in ENDPOINTS if role_can(role, e.view.actions[e.method])]
    refused = [e for e in ENDPOINTS if e not in allowed]

    before = row_counts()
    wrong = []
    for endpoint in refused:
        response = call(client, endpoint, company.pk)
        action = str(endpoint.view.actions[endpoint.method])
        if response.status_code != 403 or _error(response) != {
            "code": "permission_denied",
            "message": f"Your role ({role}) does not allow this action.",
            "details": {"role": str(role), "action": action},
        }:
            wrong.append(f"{endpoint} as {role}: {response.status_code} {response.content[:200]!r}")
    assert wrong == []
    assert row_counts() == before

    for endpoint in allowed:
        response = call(client, endpoint, company.pk)
        action = str(endpoint.view.actions[endpoint.method])
        refused_by_tenancy = response.status_code in (401, 403) and (
            response.status_code == 401 or _error(response).get("details", {}).get("action") == action
        )
        if refused_by_tenancy or response.status_code >= 500:
            wrong.append(f"{endpoint} as {role}: {response.status_code} {response.content[:200]!r}")
    assert wrong == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER])
def test_head_is_answered_as_the_get_beside_it(role):
    # HEAD is a GET without its body (HTTP, and the Allow header of every GET endpoint says so):
    # the same right, the same status, no body.
    company = CompanyFactory()
    user = UserFactory()
    MembershipFactory(user=user, company=company, role=role)
    client = auth_client(user)
    gets = [e for e in ENDPOINTS if e.method == "get"]
    assert len(gets) > 20

    wrong = []
    for endpoint in gets:
        url = endpoint.url(company.pk)
        expected = client.get(url).status_code
        head = client.head(url)
        if head.status_code != expected or head.content != b"":
            wrong.append(f"HEAD {url}: {head.status_code} (GET: {expected}) {head.content[:120]!r}")
    assert wrong == []
