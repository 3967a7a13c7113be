"""Creating companies, changing them, and loading a chart template through the API."""

from __future__ import annotations

import pytest

from accounts.chart_templates import SMALL_BUSINESS
from accounts.models import Account, Company, Membership
from accounts.tests.factories import CompanyFactory, MembershipFactory, UserFactory
from audit.models import AuditEvent
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db

SMALL_BUSINESS_CODES = [row.code for row in SMALL_BUSINESS]


@pytest.fixture
def creator_client(api_client):
    user = UserFactory(username="founder")
    api_client.force_authenticate(user)
    return user, api_client


def test_create_company_makes_the_creator_its_admin(creator_client):
    # given
    user, client = creator_client

    # when
    response = client.post(
        "/api/v1/companies", {"name": "Acme Ltd", "currency": "eur", "fiscal_year_start": 7}, format="json"
    )

    # then
    data = assert_success(response, 201)["data"]
    company = Company.objects.get()
    assert {k: v for k, v in data.items() if k != "created_at"} == {
        "id": company.pk,
        "name": "Acme Ltd",
        "currency": "EUR",
        "fiscal_year_start": 7,
        "role": "admin",
    }
    assert (company.name, company.currency, company.fiscal_year_start, company.created_by_id) == (
        "Acme Ltd",
        "EUR",
        7,
        user.pk,
    )
    assert list(Membership.objects.values_list("user_id", "company_id", "role")) == [
        (user.pk, company.pk, "admin")
    ]
    assert sorted(AuditEvent.objects.values_list("object_type", "action")) == [
        ("accounts.company", "create"),
        ("accounts.membership", "create"),
    ]
    assert Account.objects.count() == 0


@pytest.mark.parametrize("currency", ["ABC", "XX", "US D", "", "EURO"])
def test_create_company_with_an_invalid_currency_writes_nothing(creator_client, currency):
    # given
    _, client = creator_client

    # when
    response = client.post("/api/v1/companies", {"name": "Acme", "currency": currency}, format="json")

    # then
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["currency"]
    assert Company.objects.count() == 0
    assert Membership.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_create_company_with_a_chart_template_loads_the_chart(creator_client):
    # given
    _, client = creator_client

    # when
    response = client.post(
        "/api/v1/companies",
        {"name": "Shop Ltd", "currency": "USD", "chart_template": "small_business"},
        format="json",
    )

    # then
    company_id = assert_success(response, 201)["data"]["id"]
    accounts = Account.objects.filter(company_id=company_id)
    assert sorted(accounts.values_list("code", flat=True)) == sorted(SMALL_BUSINESS_CODES)
    rent = accounts.get(code="6100")
    assert (rent.name, rent.type, rent.parent.code, rent.path, rent.depth) == (
        "Rent",
        "expense",
        "60",
        "60/6100",
        1,
    )
    assert accounts.get(system_role="receivables").code == "1100"


def test_create_company_with_an_unknown_template_writes_nothing(creator_client):
    # given
    _, client = creator_client

    # when
    response = client.post(
        "/api/v1/companies", {"name": "Shop", "currency": "USD", "chart_template": "galactic"}, format="json"
    )

    # then
    error = assert_error(response, 400, "validation_error")
    # named by the field the request sent (the chart-loading operation's field is `template`)
    assert error["details"] == {"chart_template": ["Choose one of: small_business."]}
    assert Company.objects.count() == 0
    assert Membership.objects.count() == 0
    assert Account.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_company_list_is_scoped_to_the_users_memberships(creator_client):
    # given
    user, client = creator_client
    mine = [CompanyFactory(name="Mine A"), CompanyFactory(name="Mine B")]
    MembershipFactory(user=user, company=mine[0], role=Role.VIEWER)
    MembershipFactory(user=user, company=mine[1], role=Role.ADMIN)
    CompanyFactory(name="Not mine")
    MembershipFactory(company=CompanyFactory(name="Someone else's"))

    # when
    response = client.get("/api/v1/companies")

    # then
    body = assert_success(response)
    assert [(c["name"], c["role"]) for c in body["data"]] == [("Mine A", "viewer"), ("Mine B", "admin")]
    assert body["meta"]["pagination"] == {
        "next": None,
        "previous": None,
        "count": 2,
        "page": 1,
        "page_size": 50,
    }


def test_company_list_paginates_with_links(creator_client):
    # given
    user, client = creator_client
    for n in range(3):
        MembershipFactory(user=user, company=CompanyFactory(name=f"C{n}"))

    # when
    first = assert_success(client.get("/api/v1/companies?page_size=2"))
    second = assert_success(client.get(first["meta"]["pagination"]["next"]))

    # then
    assert [c["name"] for c in first["data"]] == ["C0", "C1"]
    assert first["meta"]["pagination"]["next"] == "http://testserver/api/v1/companies?page=2&page_size=2"
    assert first["meta"]["pagination"]["previous"] is None
    assert [c["name"] for c in second["data"]] == ["C2"]
    assert second["meta"]["pagination"]["next"] is None
    assert second["meta"]["pagination"]["previous"] == "http://testserver/api/v1/companies?page_size=2"


def test_admin_changes_the_company_name(make_member):
    # given
    company = CompanyFactory(name="Old Name")
    _, client = make_member(company, Role.ADMIN)

    # when
    response = client.patch(f"/api/v1/companies/{company.pk}", {"name": "New Name"}, format="json")

    # then
    assert assert_success(response)["data"]["name"] == "New Name"
    company.refresh_from_db()
    assert company.name == "New Name"
    assert list(AuditEvent.objects.values_list("object_type", "action", "changes")) == [
        ("accounts.company", "update", {"name": {"before": "Old Name", "after": "New Name"}})
    ]


def test_non_admin_cannot_change_the_company(make_member):
    # given
    company = CompanyFactory(name="Old Name")
    _, client = make_member(company, Role.CONTROLLER)

    # when
    response = client.patch(f"/api/v1/companies/{company.pk}", {"name": "New Name"}, format="json")

    # then
    assert_error(response, 403, "permission_denied")
    company.refresh_from_db()
    assert company.name == "Old Name"
    assert AuditEvent.objects.count() == 0


def test_load_template_creates_the_chart_once(company, make_member):
    # given
    _, client = make_member(company, Role.ACCOUNTANT)
    url = f"/api/v1/companies/{company.pk}/accounts/load-template"

    # when
    first = client.post(url, {"template": "small_business"}, format="json")
    second = client.post(url, {}, format="json")  # the default template, already loaded

    # then
    first_body = assert_success(first, 201)
    assert first_body["meta"]["created"] == len(SMALL_BUSINESS_CODES)
    assert sorted(a["code"] for a in first_body["data"]) == sorted(SMALL_BUSINESS_CODES)
    cash = next(a for a in first_body["data"] if a["code"] == "1000")
    assert {k: cash[k] for k in ("name", "type", "currency", "is_active", "normal_balance", "depth")} == {
        "name": "Cash",
        "type": "asset",
        "currency": None,
        "is_active": True,
        "normal_balance": "debit",
        "depth": 1,
    }
    second_body = assert_success(second, 201)
    assert (second_body["data"], second_body["meta"]["created"]) == ([], 0)
    assert Account.objects.filter(company=company).count() == len(SMALL_BUSINESS_CODES)


def test_load_template_keeps_codes_the_company_already_has(company, make_member):
    # given: the company already named its own 1000
    _, client = make_member(company, Role.ADMIN)
    client.post(
        f"/api/v1/companies/{company.pk}/accounts",
        {"code": "1000", "name": "Petty cash", "type": "asset"},
        format="json",
    )

    # when
    response = client.post(f"/api/v1/companies/{company.pk}/accounts/load-template", {}, format="json")

    # then
    assert assert_success(response, 201)["meta"]["created"] == len(SMALL_BUSINESS_CODES) - 1
    assert Account.objects.get(company=company, code="1000").name == "Petty cash"


def test_load_template_needs_accounts_manage(company, make_member):
    # given
    _, client = make_member(company, Role.CLERK)

    # when
    response = client.post(f"/api/v1/companies/{company.pk}/accounts/load-template", {}, format="json")

    # then
    assert_error(response, 403, "permission_denied")
    assert Account.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_load_unknown_template_writes_nothing(company, make_member):
    # given
    _, client = make_member(company, Role.ADMIN)

    # when
    response = client.post(
        f"/api/v1/companies/{company.pk}/accounts/load-template", {"template": "nope"}, format="json"
    )

    # then
    assert assert_error(response, 400, "validation_error")["details"] == {
        "template": ["Choose one of: small_business."]
    }
    assert Account.objects.count() == 0
