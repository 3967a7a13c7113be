"""Real responses validated against the published OpenAPI schema: the checker itself (it catches
an undocumented status, a type or nullability that lies, an undocumented or missing field), and
every operation of the platform, accounts and audit APIs, on their success and refusal paths.

The ledger's and the sales' operations are toured the same way in ledger/tests and sales/tests.
"""

from __future__ import annotations

import copy
import re
import uuid

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, CompanyFactory, MembershipFactory, UserFactory
from audit.models import AuditEvent
from conftest import auth_client
from ledger.tests.factories import company_with_chart, post_entry
from sofinance.permissions import Role
from sofinance.tests.openapi_contract import Contract, ContractError, strict_schema

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture
def contract() -> Contract:
    return Contract()


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def lying(edit) -> Contract:
    """A contract over a copy of the schema that `edit` changed into a lie."""
    document = copy.deepcopy(strict_schema())
    edit(document)
    return Contract(document=document)


# --------------------------------------------------------------------------- the checker


@pytest.fixture
def draft(make_member):
    """(an admin's client, the URL of a draft entry): a draft's number and poster are null."""
    books = company_with_chart(name="Lies Ltd")
    _, client = make_member(books, Role.ADMIN)
    entry = post_entry(books, "2026-01-05", ("6100", "10.00", "D"), ("1000", "10.00", "C"), post=False)
    return client, f"/api/v1/companies/{books.pk}/journal-entries/{entry.pk}"


def test_the_checker_passes_a_truthful_response(contract, draft):
    client, url = draft

    body = contract.check(client.get(url), 200)

    assert body["data"]["number"] is None and body["data"]["posted_by"] is None
    assert contract.checked == {("companies_journal_entries_retrieve", "200")}


def test_the_checker_refuses_an_undocumented_status(draft):
    # given: the schema without the 409 of DELETE on an entry
    client, url = draft
    schema = lying(
        lambda d: d["paths"]["/api/v1/companies/{company_id}/journal-entries/{id}"]["delete"][
            "responses"
        ].pop("409")
    )
    client.post(url + "/post", {}, format="json")

    # when: deleting the posted entry answers 409
    response = client.delete(url)

    # then
    with pytest.raises(ContractError, match="answered 409, which it does not document"):
        schema.check(response)


def test_the_checker_refuses_a_field_declared_not_nullable_that_is_null(draft):
    client, url = draft
    schema = lying(
        lambda d: d["components"]["schemas"]["JournalEntryOutput"]["properties"]["posted_by"].pop("nullable")
    )

    with pytest.raises(ContractError, match=r"at data/posted_by: None"):
        schema.check(client.get(url))


def test_the_checker_refuses_a_field_whose_type_lies(draft):
    client, url = draft
    schema = lying(
        lambda d: d["components"]["schemas"]["JournalLineOutput"]["properties"]["fx_rate"].update(
            type="number"
        )
    )

    with pytest.raises(ContractError, match=r"at data/lines/0/fx_rate: '1' is not of type 'number'"):
        schema.check(client.get(url))


def test_the_checker_refuses_an_undocumented_field_and_a_missing_one(draft):
    client, url = draft
    undocumented = lying(
        lambda d: d["components"]["schemas"]["JournalEntryOutput"]["properties"].pop("currency")
    )
    missing = lying(
        lambda d: (
            d["components"]["schemas"]["JournalEntryOutput"]["properties"].update(
                approved_by={"type": "string"}
            )
            or d["components"]["schemas"]["JournalEntryOutput"]["required"].append("approved_by")
        )
    )
    response = client.get(url)

    with pytest.raises(ContractError, match=r"'currency' was unexpected"):
        undocumented.check(response)
    with pytest.raises(ContractError, match=r"'approved_by' is a required property"):
        missing.check(response)


def test_the_checker_refuses_an_undocumented_content_type(contract, draft):
    client, url = draft

    with pytest.raises(ContractError, match=r"answered 200 as text/html; documented: application/json"):
        contract.check(client.get(url, HTTP_ACCEPT="text/html"))


# --------------------------------------------------------------------------- the tour


def token_of(message) -> str:
    return re.search(r"^    (\S{40,})$", message.body, re.MULTILINE).group(1)


def test_every_accounts_and_audit_operation_answers_as_documented(
    contract, settings, mailoutbox, django_capture_on_commit_callbacks
):
    check = contract.check
    anonymous = APIClient()
    UserFactory(username="ada", email="ada@example.com")
    viewer_user = UserFactory(username="vic")

    # auth: log in, refresh (and reuse), log out, who am I
    check(anonymous.post("/api/v1/auth/token", {"username": "ADA@example.com"}, format="json"), 400)
    check(anonymous.post("/api/v1/auth/token", {"username": "ada", "password": "wrong"}, format="json"), 401)
    tokens = check(
        anonymous.post("/api/v1/auth/token", {"username": "ada", "password": PASSWORD}, format="json"), 200
    )
    first_refresh = tokens["data"]["refresh"]
    rotated = check(anonymous.post("/api/v1/auth/refresh", {"refresh": first_refresh}, format="json"), 200)
    reused = check(anonymous.post("/api/v1/auth/refresh", {"refresh": first_refresh}, format="json"), 401)
    assert reused["error"]["details"] == {"reason": "refresh_token_reused"}
    check(anonymous.post("/api/v1/auth/logout", {}, format="json"), 400)
    check(anonymous.post("/api/v1/auth/logout", {"refresh": rotated["data"]["refresh"]}, format="json"), 200)
    check(anonymous.get("/api/v1/me"), 401)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['data']['access']}")
    check(client.get("/api/v1/me"), 200)

    # companies
    check(client.post("/api/v1/companies", {"name": "Books Ltd", "currency": "XXY"}, format="json"), 400)
    created = check(
        client.post(
            "/api/v1/companies",
            {"name": "Books Ltd", "currency": "EUR", "chart_template": "small_business"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="company-1",
        ),
        201,
    )
    check(
        client.post(
            "/api/v1/companies",
            {"name": "Other", "currency": "EUR"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="company-1",
        ),
        409,
    )
    company_id = created["data"]["id"]
    base = f"/api/v1/companies/{company_id}"
    check(client.get("/api/v1/companies"), 200)
    check(client.get("/api/v1/companies?page=9"), 404)
    check(client.get(base), 200)
    check(client.get(f"/api/v1/companies/{CompanyFactory().pk}"), 404)
    check(client.patch(base, {"name": "Books & Co"}, format="json"), 200)
    check(client.patch(base, {"currency": "USD"}, format="json"), 400)
    MembershipFactory(company_id=company_id, user=viewer_user, role=Role.VIEWER)
    viewer = auth_client(viewer_user)
    check(viewer.patch(base, {"name": "Mine"}, format="json"), 403)

    # members and invitations
    check(client.get(f"{base}/members"), 200)
    check(viewer.get(f"{base}/members"), 403)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = check(
            client.post(
                f"{base}/members", {"email": "sam@example.com", "role": "clerk"}, format="json", **key()
            ),
            201,
        )
        check(
            client.post(f"{base}/members", {"email": "ada@example.com", "role": "clerk"}, format="json"), 409
        )
        second = check(
            client.post(f"{base}/members", {"email": "lee@example.com", "role": "auditor"}, format="json"),
            201,
        )
    check(client.get(f"{base}/invitations"), 200)
    check(client.get(f"{base}/invitations?status=sent"), 400)
    check(client.get(f"{base}/invitations/{invitation['data']['id']}"), 200)
    check(client.get(f"{base}/invitations/999999999"), 404)
    token = token_of(mailoutbox[0])
    check(
        anonymous.post(
            "/api/v1/invitations/accept",
            {"token": "nope", "username": "x", "password": STRONG_PASSWORD},
            format="json",
        ),
        404,
    )
    check(anonymous.post("/api/v1/invitations/accept", {"token": token}, format="json"), 401)
    joined = check(
        anonymous.post(
            "/api/v1/invitations/accept",
            {"token": token, "username": "sam", "password": STRONG_PASSWORD},
            format="json",
        ),
        201,
    )
    check(
        anonymous.post(
            "/api/v1/invitations/accept",
            {"token": token, "username": "sam2", "password": STRONG_PASSWORD},
            format="json",
        ),
        409,
    )
    lee = UserFactory(username="lee", email="lee@example.com")
    check(
        auth_client(lee).post(
            "/api/v1/invitations/accept", {"token": token_of(mailoutbox[1])}, format="json"
        ),
        200,
    )
    check(
        auth_client(viewer_user).post("/api/v1/invitations/accept", {"token": "x" * 43}, format="json"), 404
    )
    with django_capture_on_commit_callbacks(execute=True):
        pending = check(
            client.post(f"{base}/members", {"email": "kim@example.com", "role": "viewer"}, format="json"), 201
        )
    check(client.delete(f"{base}/invitations/{pending['data']['id']}"), 200)
    check(client.delete(f"{base}/invitations/{second['data']['id']}"), 409)
    member_id = joined["data"]["membership"]["id"]
    check(client.get(f"{base}/members/{member_id}"), 200)
    check(client.patch(f"{base}/members/{member_id}", {"role": "controller"}, format="json"), 200)
    check(client.patch(f"{base}/members/{member_id}", {"role": "chief"}, format="json"), 400)
    own = check(client.get("/api/v1/me"), 200)["data"]["memberships"][0]["id"]
    check(client.patch(f"{base}/members/{own}", {"role": "viewer"}, format="json"), 409)
    check(client.delete(f"{base}/members/{own}"), 409)
    check(client.delete(f"{base}/members/{member_id}"), 200)
    check(client.get(f"{base}/members/{member_id}"), 404)

    # the chart of accounts
    check(client.get(f"{base}/accounts?type=expense&search=6"), 200)
    account = check(
        client.post(
            f"{base}/accounts",
            {"code": "6150", "name": "Software", "type": "expense", "parent": "6100"},
            format="json",
            **key(),
        ),
        201,
    )
    check(
        client.post(f"{base}/accounts", {"code": "6150", "name": "Again", "type": "expense"}, format="json"),
        409,
    )
    check(
        client.post(
            f"{base}/accounts",
            {"code": "6160", "name": "Odd", "type": "expense", "parent": "1000"},
            format="json",
        ),
        422,
    )
    check(
        client.post(
            f"{base}/accounts",
            {"code": "6170", "name": "Odd", "type": "expense", "is_active": "yes"},
            format="json",
        ),
        400,
    )
    check(
        viewer.post(f"{base}/accounts", {"code": "6180", "name": "No", "type": "expense"}, format="json"), 403
    )
    account_url = f"{base}/accounts/{account['data']['id']}"
    check(client.get(account_url), 200)
    check(
        client.patch(account_url, {"name": "Software subscriptions", "is_active": False}, format="json"), 200
    )
    check(client.patch(account_url, {"parent": "1000"}, format="json"), 422)
    check(client.patch(account_url, {"code": "1000"}, format="json"), 409)
    parent_id = check(client.get(f"{base}/accounts?code=6100"), 200)["data"][0]["id"]
    check(client.delete(f"{base}/accounts/{parent_id}"), 409)
    check(client.delete(account_url), 200)
    check(client.delete(account_url), 404)
    check(client.post(f"{base}/accounts/load-template", {"template": "huge_corp"}, format="json"), 400)
    loaded = check(client.post(f"{base}/accounts/load-template", {}, format="json", **key()), 201)
    assert loaded["data"] == [] and loaded["meta"]["created"] == 0

    # the audit trail (sealed by now: the sealer runs on commit in tests)
    events = check(client.get(f"{base}/audit-events?action=create&from=2020-01-01"), 200)
    check(client.get(f"{base}/audit-events?from=2026-01-01T00:00:00+16:26"), 400)
    check(client.get(f"{base}/audit-events?date_from=2026-01-01"), 400)
    check(viewer.get(f"{base}/audit-events"), 403)
    check(client.get(f"{base}/audit-events/{events['data'][0]['id']}"), 200)
    other = AuditEvent.objects.exclude(company_id=company_id).order_by("id").first()
    check(client.get(f"{base}/audit-events/{other.pk if other else 999999999}"), 404)
    check(client.get(f"{base}/audit-events/verify"), 200)

    # rate limited
    settings.RATE_LIMIT_BURST = 1
    settings.RATE_LIMIT_PER_MINUTE = 1e-6  # no refill between the two requests, however slow
    limited = auth_client(UserFactory())
    check(limited.get("/api/v1/me"), 200)
    check(limited.get("/api/v1/me"), 429)

    # then: every operation of these apps was checked, and every kind of refusal
    expected = contract.operations_of("accounts") | contract.operations_of("audit")
    assert len(expected) == 26
    assert expected - contract.checked_operations() == set()
    assert {"400", "401", "403", "404", "409", "422", "429"} <= contract.checked_statuses()
