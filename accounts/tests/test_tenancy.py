"""Tenancy: another company's books are 404 (nothing leaks), a missing right is 403."""

from __future__ import annotations

import pytest

from accounts.models import Account
from accounts.tests.factories import CompanyFactory, UserFactory
from audit.models import AuditEvent
from conftest import auth_client
from sofinance.permissions import PERMISSIONS, Action, Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("get", "/members"),
        ("get", "/accounts"),
        ("post", "/accounts"),
        ("post", "/accounts/load-template"),
    ],
)
def test_a_non_member_gets_404_for_every_company_endpoint(company, method, suffix):
    # given: an authenticated user with no membership in `company`
    client = auth_client(UserFactory())

    # when
    response = getattr(client, method)(
        f"/api/v1/companies/{company.pk}{suffix}",
        {"code": "1000", "name": "x", "type": "asset"},
        format="json",
    )

    # then
    assert assert_error(response, 404, "not_found")["details"] == {}
    assert Account.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_a_viewer_reads_the_chart_but_cannot_change_it(company, make_member):
    # given
    _, client = make_member(company, Role.VIEWER)
    url = f"/api/v1/companies/{company.pk}/accounts"

    # when
    read = client.get(url)
    write = client.post(url, {"code": "1000", "name": "Cash", "type": "asset"}, format="json")

    # then
    assert assert_success(read)["data"] == []
    assert assert_error(write, 403, "permission_denied")["details"] == {
        "role": "viewer",
        "action": "accounts.manage",
    }
    assert Account.objects.count() == 0


def test_an_accountant_creates_an_account(company, make_member):
    # given
    _, client = make_member(company, Role.ACCOUNTANT)

    # when
    response = client.post(
        f"/api/v1/companies/{company.pk}/accounts",
        {"code": "1000", "name": "Cash", "type": "asset"},
        format="json",
    )

    # then
    data = assert_success(response, 201)["data"]
    assert (data["code"], data["name"], data["type"], data["normal_balance"]) == (
        "1000",
        "Cash",
        "asset",
        "debit",
    )
    assert Account.objects.filter(company=company).count() == 1


def test_the_trailing_slash_form_works_without_redirect(company, make_member):
    _, client = make_member(company, Role.VIEWER)

    response = client.get(f"/api/v1/companies/{company.pk}/")

    assert assert_success(response)["data"]["id"] == company.pk


def test_the_role_table_is_the_documented_one():
    # The one table every app consults; a change here is a change of policy.
    assert PERMISSIONS[Role.ADMIN] == frozenset(Action)
    assert Action.MEMBERS_MANAGE not in PERMISSIONS[Role.CONTROLLER]
    assert Action.AUDIT_VIEW in PERMISSIONS[Role.AUDITOR]
    assert {
        a
        for a in PERMISSIONS[Role.AUDITOR]
        if a.endswith((".manage", ".draft", ".post", ".reverse", ".change", ".issue", ".void", ".record"))
    } == set()
    assert PERMISSIONS[Role.CLERK] - PERMISSIONS[Role.VIEWER] == {
        Action.JOURNAL_DRAFT,
        Action.CUSTOMERS_MANAGE,
        Action.INVOICES_DRAFT,
        Action.BANKING_IMPORT,
        Action.BANKING_MATCH,
    }


def test_another_users_company_list_is_not_mine(company, make_member):
    # given
    make_member(company, Role.ADMIN)
    outsider = auth_client(UserFactory())
    CompanyFactory()

    # when
    response = outsider.get("/api/v1/companies")

    # then
    body = assert_success(response)
    assert body["data"] == []
    assert body["meta"]["pagination"]["count"] == 0
