"""Invitations: sent by email, accepted by the invitee (logged in, or creating an account), expiring,
revocable; nobody joins a company without accepting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership
from accounts.tests.factories import CompanyFactory, MembershipFactory, UserFactory
from audit.models import AuditEvent
from conftest import auth_client
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db

ACCEPT_URL = "/api/v1/invitations/accept"
STRONG_PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture
def books():
    company = CompanyFactory(name="Books Ltd", currency="EUR")
    ada = UserFactory(username="ada", email="ada@example.com", first_name="Ada", last_name="Byron")
    MembershipFactory(company=company, user=ada, role=Role.ADMIN)
    return company, ada


def invite(company, admin, email: str, role: str = "accountant", capture=None):
    """Invite through the API, run the after-commit email, and return (response, token)."""
    with capture(execute=True):
        response = auth_client(admin).post(
            f"/api/v1/companies/{company.pk}/members", {"email": email, "role": role}, format="json"
        )
    return response


def token_of(message) -> str:
    return re.search(r"^    (\S{40,})$", message.body, re.MULTILINE).group(1)


def test_the_invitation_email_carries_the_token(books, mailoutbox, django_capture_on_commit_callbacks):
    # given
    company, ada = books

    # when
    invite(company, ada, "Dana@Example.com", capture=django_capture_on_commit_callbacks)

    # then
    (message,) = mailoutbox
    assert message.to == ["dana@example.com"]
    assert message.subject == "You are invited to join Books Ltd on SOFinance"
    assert message.from_email == "SOFinance <no-reply@localhost>"
    assert "Ada Byron invites you to join Books Ltd on SOFinance as Accountant." in message.body
    assert 'POST /api/v1/invitations/accept   {"token": "' in message.body
    token = token_of(message)
    invitation = Invitation.objects.get()
    assert token not in str(Invitation.objects.values().get())  # only its hash is stored
    assert invitation.token_hash != token


def test_the_email_links_to_the_configured_page(
    books, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.INVITATION_ACCEPT_URL = "https://books.example.com/join"

    invite(books[0], books[1], "dana@example.com", capture=django_capture_on_commit_callbacks)

    assert re.search(r"https://books\.example\.com/join\?token=\S{40,}", mailoutbox[0].body)


def test_a_logged_in_invitee_accepts_and_becomes_a_member(
    books, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    company, ada = books
    dana = UserFactory(username="dana", email="dana@example.com")
    invite(company, ada, "dana@example.com", capture=django_capture_on_commit_callbacks)
    token = token_of(mailoutbox[0])

    # when
    response = auth_client(dana).post(ACCEPT_URL, {"token": token}, format="json")
    again = auth_client(dana).post(ACCEPT_URL, {"token": token}, format="json")

    # then
    data = assert_success(response)["data"]
    membership = Membership.objects.get(company=company, user=dana)
    assert data["user"]["id"] == dana.pk
    assert (data["membership"]["id"], data["membership"]["role"], data["membership"]["company"]["id"]) == (
        membership.pk,
        "accountant",
        company.pk,
    )
    invitation = Invitation.objects.get()
    assert (invitation.status, invitation.accepted_by_id) == ("accepted", dana.pk)
    assert assert_error(again, 409, "conflict")["details"] == {"reason": "invitation_not_pending"}
    assert list(
        AuditEvent.objects.filter(actor_id=dana.pk)
        .order_by("pk")
        .values_list("action", "object_type", "changes")
    ) == [
        (
            "create",
            "accounts.membership",
            {"role": {"before": None, "after": "accountant"}, "user": {"before": None, "after": dana.pk}},
        ),
        ("update", "accounts.invitation", {"status": {"before": "pending", "after": "accepted"}}),
    ]


def test_an_invitation_cannot_be_accepted_by_another_account(
    books, mailoutbox, django_capture_on_commit_callbacks
):
    # given: the token reaches someone else (forwarded, leaked)
    company, ada = books
    invite(company, ada, "dana@example.com", capture=django_capture_on_commit_callbacks)
    eve = UserFactory(username="eve", email="eve@example.com")

    # when
    response = auth_client(eve).post(ACCEPT_URL, {"token": token_of(mailoutbox[0])}, format="json")

    # then
    assert_error(response, 403, "permission_denied")
    assert not Membership.objects.filter(user=eve).exists()
    assert Invitation.objects.get().status == "pending"


def test_an_invitee_without_an_account_creates_one_by_accepting(
    books, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    company, ada = books
    invite(company, ada, "newcomer@example.com", role="viewer", capture=django_capture_on_commit_callbacks)

    # when
    response = APIClient().post(
        ACCEPT_URL,
        {
            "token": token_of(mailoutbox[0]),
            "username": "newcomer",
            "password": STRONG_PASSWORD,
            "first_name": "Nia",
            "last_name": "Okafor",
        },
        format="json",
    )

    # then
    data = assert_success(response, 201)["data"]
    user = get_user_model().objects.get(username="newcomer")
    assert (user.email, user.check_password(STRONG_PASSWORD)) == ("newcomer@example.com", True)
    assert (data["user"]["first_name"], data["user"]["last_name"]) == ("Nia", "Okafor")
    assert data["user"]["id"] == user.pk
    assert Membership.objects.get(company=company, user=user).role == "viewer"
    login = APIClient().post(
        "/api/v1/auth/token", {"username": "newcomer", "password": STRONG_PASSWORD}, format="json"
    )
    assert_success(login)


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"username": "newcomer", "password": "short"}, 400, "validation_error"),
        ({}, 401, "not_authenticated"),
        ({"username": "ada", "password": STRONG_PASSWORD}, 409, "conflict"),  # username taken
    ],
)
def test_a_refused_signup_writes_nothing(
    books, mailoutbox, django_capture_on_commit_callbacks, extra, status, code
):
    # given
    company, ada = books
    invite(company, ada, "newcomer@example.com", capture=django_capture_on_commit_callbacks)
    users, events = get_user_model().objects.count(), AuditEvent.objects.count()

    # when
    response = APIClient().post(ACCEPT_URL, {"token": token_of(mailoutbox[0]), **extra}, format="json")

    # then
    assert_error(response, status, code)
    assert get_user_model().objects.count() == users
    assert AuditEvent.objects.count() == events
    assert Invitation.objects.get().status == "pending"


def test_signup_for_an_address_that_has_an_account_is_refused(
    books, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    company, ada = books
    UserFactory(username="dana", email="dana@example.com")
    invite(company, ada, "dana@example.com", capture=django_capture_on_commit_callbacks)

    # when
    response = APIClient().post(
        ACCEPT_URL,
        {"token": token_of(mailoutbox[0]), "username": "dana2", "password": STRONG_PASSWORD},
        format="json",
    )

    # then
    error = assert_error(response, 409, "conflict")
    assert error["message"] == "An account with this email address exists: log in and accept the invitation."
    assert not get_user_model().objects.filter(username="dana2").exists()


def test_an_expired_invitation_cannot_be_accepted(books, mailoutbox, django_capture_on_commit_callbacks):
    # given
    company, ada = books
    dana = UserFactory(username="dana", email="dana@example.com")
    invite(company, ada, "dana@example.com", capture=django_capture_on_commit_callbacks)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    # when
    response = auth_client(dana).post(ACCEPT_URL, {"token": token_of(mailoutbox[0])}, format="json")
    listed = auth_client(ada).get(f"/api/v1/companies/{company.pk}/invitations?status=expired")

    # then
    error = assert_error(response, 409, "conflict")
    assert error["message"] == "This invitation has expired; ask for a new one."
    assert not Membership.objects.filter(user=dana).exists()
    assert [i["status"] for i in assert_success(listed)["data"]] == ["expired"]


def test_an_unknown_token_is_404(books):
    dana = UserFactory(username="dana", email="dana@example.com")

    response = auth_client(dana).post(ACCEPT_URL, {"token": "x" * 43}, format="json")

    assert_error(response, 404, "not_found")


def test_revoking_stops_the_token_and_lists_show_states(
    books, mailoutbox, django_capture_on_commit_callbacks
):
    # given: two invitations
    company, ada = books
    dana = UserFactory(username="dana", email="dana@example.com")
    invite(company, ada, "dana@example.com", capture=django_capture_on_commit_callbacks)
    invite(company, ada, "erin@example.com", capture=django_capture_on_commit_callbacks)
    dana_invitation = Invitation.objects.get(email="dana@example.com")
    admin = auth_client(ada)
    base = f"/api/v1/companies/{company.pk}/invitations"

    # when
    revoked = admin.delete(f"{base}/{dana_invitation.pk}")
    twice = admin.delete(f"{base}/{dana_invitation.pk}")
    accept = auth_client(dana).post(ACCEPT_URL, {"token": token_of(mailoutbox[0])}, format="json")

    # then
    assert assert_success(revoked)["data"]["status"] == "revoked"
    assert assert_error(twice, 409, "conflict")["details"] == {"reason": "invitation_not_pending"}
    assert_error(accept, 409, "conflict")
    assert [i["email"] for i in assert_success(admin.get(base))["data"]] == ["erin@example.com"]
    assert [i["email"] for i in assert_success(admin.get(f"{base}?status=revoked"))["data"]] == [
        "dana@example.com"
    ]
    assert len(assert_success(admin.get(f"{base}?status=all"))["data"]) == 2
    assert list(assert_error(admin.get(f"{base}?status=bogus"), 400, "validation_error")["details"]) == [
        "status"
    ]


def test_inviting_again_replaces_the_pending_invitation(
    books, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    company, ada = books
    dana = UserFactory(username="dana", email="dana@example.com")
    invite(company, ada, "dana@example.com", role="viewer", capture=django_capture_on_commit_callbacks)

    # when
    invite(company, ada, "dana@example.com", role="clerk", capture=django_capture_on_commit_callbacks)
    old = auth_client(dana).post(ACCEPT_URL, {"token": token_of(mailoutbox[0])}, format="json")
    new = auth_client(dana).post(ACCEPT_URL, {"token": token_of(mailoutbox[1])}, format="json")

    # then
    assert_error(old, 409, "conflict")
    assert assert_success(new)["data"]["membership"]["role"] == "clerk"
    assert list(Invitation.objects.order_by("pk").values_list("status", flat=True)) == ["revoked", "accepted"]


@pytest.mark.parametrize(
    ("role", "list_status"), [(Role.VIEWER, 403), (Role.CONTROLLER, 200), (Role.AUDITOR, 200)]
)
def test_who_may_see_and_revoke_invitations(
    books, make_member, django_capture_on_commit_callbacks, role, list_status
):
    # given
    company, ada = books
    invite(company, ada, "dana@example.com", capture=django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    _, client = make_member(company, role)

    # when
    listed = client.get(f"/api/v1/companies/{company.pk}/invitations")
    revoked = client.delete(f"/api/v1/companies/{company.pk}/invitations/{invitation.pk}")

    # then
    assert listed.status_code == list_status
    assert_error(revoked, 403, "permission_denied")
    assert Invitation.objects.get().status == "pending"


def test_another_companys_invitation_is_404(books, make_member, django_capture_on_commit_callbacks):
    # given
    company, ada = books
    invite(company, ada, "dana@example.com", capture=django_capture_on_commit_callbacks)
    other = CompanyFactory()
    _, outsider = make_member(other, Role.ADMIN)

    # when
    response = outsider.delete(f"/api/v1/companies/{other.pk}/invitations/{Invitation.objects.get().pk}")

    # then
    assert_error(response, 404, "not_found")
    assert Invitation.objects.get().status == "pending"
