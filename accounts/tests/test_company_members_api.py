"""Company admins list, invite, change and remove members; a company always keeps an admin.

Adding a member sends an invitation (accounts/tests/test_invitations.py covers accepting it)."""

from __future__ import annotations

import pytest

from accounts.models import Invitation, Membership
from accounts.tests.factories import CompanyFactory, MembershipFactory, UserFactory
from audit.models import AuditEvent
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db


def _roles(company) -> list[tuple[str, str]]:
    return list(
        Membership.objects.filter(company=company)
        .order_by("user__username")
        .values_list("user__username", "role")
    )


@pytest.fixture
def books(db):
    """A company with an admin (ada) and a clerk (cal)."""
    company = CompanyFactory(name="Books Ltd")
    ada = UserFactory(username="ada", email="ada@example.com")
    cal = UserFactory(username="cal", email="cal@example.com")
    MembershipFactory(company=company, user=ada, role=Role.ADMIN)
    MembershipFactory(company=company, user=cal, role=Role.CLERK)
    return company, ada, cal


def _client_for(user, api_client):
    api_client.force_authenticate(user)
    return api_client


def test_admin_lists_members(books, api_client):
    # given
    company, ada, _ = books
    client = _client_for(ada, api_client)

    # when
    response = client.get(f"/api/v1/companies/{company.pk}/members")

    # then
    body = assert_success(response)
    assert [(m["user"]["username"], m["user"]["email"], m["role"]) for m in body["data"]] == [
        ("ada", "ada@example.com", "admin"),
        ("cal", "cal@example.com", "clerk"),
    ]
    assert body["meta"]["pagination"]["count"] == 2


@pytest.mark.parametrize(
    "email", ["dan@example.com", "nobody@example.com"], ids=["has-account", "no-account"]
)
def test_adding_a_member_sends_an_invitation_and_adds_nobody(books, api_client, email):
    # given: dan has an account, nobody@ has none
    company, ada, _ = books
    UserFactory(username="dan", email="dan@example.com")
    client = _client_for(ada, api_client)

    # when
    response = client.post(
        f"/api/v1/companies/{company.pk}/members",
        {"email": email.upper(), "role": "accountant"},
        format="json",
    )

    # then: the same answer either way, with nothing that tells whether the address has an account
    data = assert_success(response, 201)["data"]
    invitation = Invitation.objects.get()
    assert data == {
        "id": invitation.pk,
        "email": email,
        "role": "accountant",
        "status": "pending",
        "invited_by": ada.pk,
        "created_at": data["created_at"],
        "expires_at": data["expires_at"],
        "accepted_at": None,
        "revoked_at": None,
    }
    assert _roles(company) == [("ada", "admin"), ("cal", "clerk")]  # no one added without consent
    assert list(AuditEvent.objects.values_list("action", "company_id", "object_type")) == [
        ("create", company.pk, "accounts.invitation")
    ]


def test_inviting_an_existing_member_is_409(books, api_client):
    # given
    company, ada, _ = books
    client = _client_for(ada, api_client)

    # when
    response = client.post(
        f"/api/v1/companies/{company.pk}/members",
        {"email": "CAL@example.com", "role": "viewer"},
        format="json",
    )

    # then
    assert assert_error(response, 409, "conflict")["details"] == {"reason": "already_member"}
    assert _roles(company) == [("ada", "admin"), ("cal", "clerk")]
    assert Invitation.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "dan@example.com", "role": "owner"}, ["role"]),
        ({"email": "not-an-address", "role": "viewer"}, ["email"]),
        # members are invited by address: `user` is not a field, and the address is missing
        ({"user": "dan", "role": "viewer"}, ["email", "user"]),
    ],
)
def test_inviting_with_a_bad_role_or_address_is_400(books, api_client, body, fields):
    # given
    company, ada, _ = books
    client = _client_for(ada, api_client)

    # when
    response = client.post(f"/api/v1/companies/{company.pk}/members", body, format="json")

    # then
    assert sorted(assert_error(response, 400, "validation_error")["details"]) == fields
    assert Invitation.objects.count() == 0
    assert Membership.objects.filter(company=company).count() == 2


def test_admin_changes_a_role(books, api_client):
    # given
    company, ada, cal = books
    client = _client_for(ada, api_client)
    membership = Membership.objects.get(company=company, user=cal)

    # when
    response = client.patch(
        f"/api/v1/companies/{company.pk}/members/{membership.pk}", {"role": "controller"}, format="json"
    )

    # then
    assert assert_success(response)["data"]["role"] == "controller"
    assert _roles(company) == [("ada", "admin"), ("cal", "controller")]
    assert list(AuditEvent.objects.values_list("action", "changes")) == [
        ("update", {"role": {"before": "clerk", "after": "controller"}})
    ]


def test_admin_removes_a_member(books, api_client):
    # given
    company, ada, cal = books
    client = _client_for(ada, api_client)
    membership = Membership.objects.get(company=company, user=cal)

    # when
    response = client.delete(f"/api/v1/companies/{company.pk}/members/{membership.pk}")

    # then
    assert assert_success(response)["data"] is None
    assert _roles(company) == [("ada", "admin")]
    assert list(AuditEvent.objects.values_list("action", "object_id")) == [("delete", str(membership.pk))]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CLERK, Role.ACCOUNTANT, Role.CONTROLLER, Role.AUDITOR])
def test_non_admins_cannot_manage_members(books, make_member, role):
    # given
    company, _, cal = books
    _, client = make_member(company, role)
    membership = Membership.objects.get(company=company, user=cal)
    base = f"/api/v1/companies/{company.pk}/members"
    UserFactory(username="dan")

    # when
    responses = [
        client.post(base, {"email": "dan@example.com", "role": "viewer"}, format="json"),
        client.patch(f"{base}/{membership.pk}", {"role": "admin"}, format="json"),
        client.delete(f"{base}/{membership.pk}"),
    ]

    # then
    for response in responses:
        assert_error(response, 403, "permission_denied")
    assert Membership.objects.get(pk=membership.pk).role == "clerk"
    assert not Membership.objects.filter(user__username="dan").exists()
    assert Invitation.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.VIEWER, 403),
        (Role.CLERK, 403),
        (Role.ACCOUNTANT, 403),
        (Role.CONTROLLER, 200),
        (Role.AUDITOR, 200),
        (Role.ADMIN, 200),
    ],
)
def test_who_may_list_members(books, make_member, role, status):
    company, _, _ = books
    _, client = make_member(company, role)

    response = client.get(f"/api/v1/companies/{company.pk}/members")

    assert response.status_code == status


def test_the_last_admin_cannot_be_removed_or_demoted(books, api_client):
    # given
    company, ada, _ = books
    client = _client_for(ada, api_client)
    own = Membership.objects.get(company=company, user=ada)
    url = f"/api/v1/companies/{company.pk}/members/{own.pk}"

    # when
    demoted = client.patch(url, {"role": "viewer"}, format="json")
    removed = client.delete(url)

    # then
    for response in (demoted, removed):
        error = assert_error(response, 409, "conflict")
        assert error["message"] == "A company must keep at least one admin."
    assert _roles(company) == [("ada", "admin"), ("cal", "clerk")]
    assert AuditEvent.objects.count() == 0


def test_an_admin_can_step_down_when_another_admin_remains(books, api_client):
    # given
    company, ada, cal = books
    client = _client_for(ada, api_client)
    Membership.objects.filter(company=company, user=cal).update(role=Role.ADMIN)
    own = Membership.objects.get(company=company, user=ada)

    # when
    response = client.patch(
        f"/api/v1/companies/{company.pk}/members/{own.pk}", {"role": "viewer"}, format="json"
    )

    # then
    assert assert_success(response)["data"]["role"] == "viewer"
    assert _roles(company) == [("ada", "viewer"), ("cal", "admin")]


def test_a_membership_of_another_company_is_404(books, api_client):
    # given
    company, ada, _ = books
    other = MembershipFactory(company=CompanyFactory(), role=Role.VIEWER)
    client = _client_for(ada, api_client)

    # when
    url = f"/api/v1/companies/{company.pk}/members/{other.pk}"
    responses = [client.get(url), client.patch(url, {"role": "admin"}, format="json"), client.delete(url)]

    # then
    for response in responses:
        assert_error(response, 404, "not_found")
    other.refresh_from_db()
    assert other.role == "viewer"
