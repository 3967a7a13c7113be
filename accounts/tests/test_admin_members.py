"""Members in the admin: a company's admins change roles, remove members, invite and revoke through
the accounts services (which keep a company's last admin and record the audit events); other roles
and other companies cannot; an invitation's email links to the admin's accept page, where a visitor
signs up (or logs in) and a logged-in person accepts, and a used, revoked or expired link is
refused with nothing written."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.admin_members import ACTION_WORDS, role_summary
from accounts.models import Invitation, InvitationStatus, Membership
from accounts.services import invitation_accept, invitation_create, invitation_revoke, membership_add
from accounts.tests.factories import PASSWORD, CompanyFactory, UserFactory
from audit.models import AuditEvent
from sofinance.permissions import Action, Role

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "a long and unusual passphrase 42"
MEMBERS = "admin:accounts_membership_changelist"
ACCEPT = "admin:accounts_membership_accept_invitation"


@pytest.fixture
def acme():
    """Acme Ltd: Ada Byron its only admin, Bob Smith a clerk, Cy a controller, Al an accountant."""
    company = CompanyFactory(name="Acme Ltd")
    people = {}
    for username, first, last, role in (
        ("ada", "Ada", "Byron", Role.ADMIN),
        ("bob", "Bob", "Smith", Role.CLERK),
        ("cy", "Cy", "Young", Role.CONTROLLER),
        ("al", "Al", "Count", Role.ACCOUNTANT),
    ):
        user = UserFactory(
            username=username,
            email=f"{username}@example.com",
            first_name=first,
            last_name=last,
            is_staff=True,
        )
        people[username] = membership_add(company=company, user=user, role=role, by=None)
    company.people = people
    return company


@pytest.fixture
def as_ada(client, acme):
    client.force_login(acme.people["ada"].user)
    return client


def membership_of(company, username: str) -> Membership:
    return company.people[username]


def url(name: str, *args) -> str:
    return reverse(f"admin:accounts_membership_{name}", args=args)


def written() -> tuple:
    """Everything these pages may write: memberships, invitations, users, audit events (logins aside)."""
    return (
        sorted(Membership.objects.values_list("pk", "company_id", "user_id", "role")),
        sorted(Invitation.objects.values_list("pk", "status", "accepted_by_id", "revoked_at")),
        sorted(get_user_model().objects.values_list("pk", "username", "is_staff", "is_superuser")),
        AuditEvent.objects.exclude(action__in=["login", "login_failed", "logout"]).count(),
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def invite(company, email: str = "dana@example.com", role: str = Role.ACCOUNTANT, *, capture) -> str:
    """Invite through the service, send the email, and return the token of the admin link in it."""
    with capture(execute=True):
        invitation_create(company=company, email=email, role=role, by=company.people["ada"].user)
    from django.core import mail

    return re.search(r"accept-invitation/\?token=(\S+)", mail.outbox[-1].body).group(1)


# --------------------------------------------------------------------------- change a role


def test_an_admin_changes_a_clerks_role_through_the_service(as_ada, acme):
    # given
    bob = membership_of(acme, "bob")
    updates_before = AuditEvent.objects.filter(object_type="accounts.membership", action="update").count()

    # when the role is chosen, then confirmed
    choose = as_ada.get(url("change_role", bob.pk))
    confirm = as_ada.get(url("change_role", bob.pk), {"role": Role.CONTROLLER})
    response = as_ada.post(url("change_role", bob.pk), {"role": Role.CONTROLLER, "confirmed": "yes"})

    # then
    assert choose.status_code == 200
    assert "Bob Smith (bob@example.com) is <strong>Clerk</strong> now." in choose.content.decode()
    assert confirm.status_code == 200
    assert (
        "Bob Smith will become Controller of Acme Ltd: may close periods and the fiscal year, "
        "reopen reconciled bank statements, resolve discrepancies, see who the members are, and read "
        "the audit trail, besides all an accountant may do."
    ) in confirm.content.decode()
    assert response.status_code == 302
    assert response.url == reverse(MEMBERS)
    bob.refresh_from_db()
    assert bob.role == Role.CONTROLLER
    event = AuditEvent.objects.filter(object_type="accounts.membership", action="update").latest("id")
    assert AuditEvent.objects.filter(object_type="accounts.membership", action="update").count() == (
        updates_before + 1
    )
    assert (event.object_id, event.company_id, event.actor_repr, event.changes) == (
        str(bob.pk),
        acme.pk,
        "ada",
        {"role": {"before": "clerk", "after": "controller"}},
    )
    assert messages_of(response) == ["Bob Smith is now Controller of Acme Ltd."]


def test_a_demotion_says_what_the_member_may_no_longer_do_without_a_double_negative(as_ada, acme):
    cy = membership_of(acme, "cy")  # a controller, made a viewer
    page = as_ada.get(url("change_role", cy.pk), {"role": Role.VIEWER}).content.decode()
    fact = re.search(r"<dt>No longer</dt>\s*<dd>(.*?)</dd>", page, re.S).group(1)
    assert fact.startswith("may ") and "may not" not in fact


def test_choosing_the_role_a_member_has_already_asks_again(as_ada, acme):
    bob = membership_of(acme, "bob")
    before = written()
    response = as_ada.get(url("change_role", bob.pk), {"role": Role.CLERK})
    assert response.status_code == 200
    assert "Clerk is their role already: choose another." in response.content.decode()
    assert written() == before


def test_demoting_the_last_admin_is_refused_on_the_page_and_nothing_changes(as_ada, acme):
    # given
    ada = membership_of(acme, "ada")
    before = written()

    # when
    response = as_ada.post(url("change_role", ada.pk), {"role": Role.CLERK, "confirmed": "yes"})

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert '<p class="errornote" id="refused">A company must keep at least one admin.</p>' in content
    assert 'id="confirm-change-role"' not in content  # no "Yes" to press again
    assert written() == before
    ada.refresh_from_db()
    assert ada.role == Role.ADMIN


def test_the_last_admins_demotion_or_removal_is_said_at_once_with_no_yes_to_press(as_ada, acme):
    ada = membership_of(acme, "ada")
    for page in (
        as_ada.get(url("change_role", ada.pk), {"role": Role.CLERK}),
        as_ada.get(url("remove", ada.pk)),
    ):
        content = page.content.decode()
        assert '<p class="errornote" id="refused">A company must keep at least one admin.</p>' in content
        assert 'id="confirm-change-role"' not in content and 'id="confirm-remove"' not in content


def test_removing_the_last_admin_is_refused_on_the_page_and_nothing_changes(as_ada, acme):
    ada = membership_of(acme, "ada")
    before = written()

    response = as_ada.post(url("remove", ada.pk), {"confirmed": "yes"})

    assert response.status_code == 200
    assert "A company must keep at least one admin." in response.content.decode()
    assert written() == before


def test_an_admin_removes_a_member_through_the_service(as_ada, acme):
    # given
    bob = membership_of(acme, "bob")

    # when
    page = as_ada.get(url("remove", bob.pk))
    response = as_ada.post(url("remove", bob.pk), {"confirmed": "yes"})

    # then
    assert (
        "Bob Smith will no longer have access to Acme Ltd: their role (Clerk) ends at once."
        in page.content.decode()
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=bob.pk).exists()
    assert get_user_model().objects.filter(username="bob").exists()  # the account stays
    event = AuditEvent.objects.filter(object_type="accounts.membership", action="delete").get()
    assert (event.object_id, event.actor_repr, event.changes["role"]) == (
        str(bob.pk),
        "ada",
        {"before": "clerk", "after": None},
    )


def test_an_admin_demoting_themself_beside_another_admin_lands_on_the_dashboard(as_ada, acme):
    membership_add(company=acme, user=UserFactory(username="eve"), role=Role.ADMIN, by=None)
    ada = membership_of(acme, "ada")
    page = as_ada.get(url("change_role", ada.pk), {"role": Role.VIEWER})
    response = as_ada.post(url("change_role", ada.pk), {"role": Role.VIEWER, "confirmed": "yes"})
    assert "This is you: your new role applies at once in Acme Ltd." in page.content.decode()
    assert response.url == reverse("admin:index")
    ada.refresh_from_db()
    assert ada.role == Role.VIEWER


def test_get_of_the_confirmation_pages_writes_nothing(as_ada, acme, django_capture_on_commit_callbacks):
    invite(acme, capture=django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    bob = membership_of(acme, "bob")
    ada = membership_of(acme, "ada")
    before = written()

    pages = [
        as_ada.get(url("change_role", bob.pk), {"role": Role.ADMIN, "confirmed": "yes"}),
        as_ada.get(url("remove", bob.pk), {"confirmed": "yes"}),
        as_ada.get(url("remove", ada.pk)),
        as_ada.get(url("revoke_invitation", invitation.pk), {"confirmed": "yes"}),
        as_ada.get(url("invite"), {"email": "x@example.com", "role": Role.ADMIN}),
    ]

    assert [page.status_code for page in pages] == [200] * 5
    assert written() == before


# --------------------------------------------------------------------------- who may


def test_the_members_list_shows_an_admin_the_links(as_ada, acme):
    content = as_ada.get(reverse(MEMBERS)).content.decode()
    assert 'id="invite-someone"' in content
    assert url("change_role", membership_of(acme, "bob").pk) in content
    assert url("remove", membership_of(acme, "bob").pk) in content


@pytest.mark.parametrize("username", ["cy", "al", "bob"])
def test_roles_without_members_manage_get_403_and_see_no_links(
    client, acme, username, django_capture_on_commit_callbacks
):
    # given a controller (who may see the members), an accountant and a clerk (who may not)
    invite(acme, capture=django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    bob = membership_of(acme, "bob")
    client.force_login(membership_of(acme, username).user)
    before = written()

    # when
    listing = client.get(reverse(MEMBERS))
    gets = [
        client.get(url("invite")),
        client.get(url("change_role", bob.pk), {"role": Role.ADMIN}),
        client.get(url("remove", bob.pk)),
        client.get(url("revoke_invitation", invitation.pk)),
    ]
    posts = [
        client.post(url("invite"), {"email": "mallory@example.com", "role": Role.ADMIN}),
        client.post(url("change_role", bob.pk), {"role": Role.ADMIN, "confirmed": "yes"}),
        client.post(url("remove", bob.pk), {"confirmed": "yes"}),
        client.post(url("revoke_invitation", invitation.pk), {"confirmed": "yes"}),
    ]

    # then
    assert [r.status_code for r in gets + posts] == [403] * 8
    content = listing.content.decode()
    if username == "cy":  # members.view: the list and the pending invitation, no way to change them
        assert listing.status_code == 200
        assert "dana@example.com" in content
        for link in ("Invite someone", "Change role", "Remove…", "Revoke…", "/role/", "/remove/", "/revoke/"):
            assert link not in content
    else:
        assert listing.status_code == 403
    assert written() == before


def test_a_member_of_another_company_cannot_touch_its_memberships(
    client, acme, django_capture_on_commit_callbacks
):
    # given the admin of another company
    invite(acme, capture=django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    other = CompanyFactory(name="Beta Ltd")
    mallory = UserFactory(username="mallory", is_staff=True)
    membership_add(company=other, user=mallory, role=Role.ADMIN, by=None)
    client.force_login(mallory)
    bob, ada = membership_of(acme, "bob"), membership_of(acme, "ada")
    before = written()

    # when
    responses = [
        client.get(url("change_role", bob.pk), {"role": Role.ADMIN}),
        client.post(url("change_role", bob.pk), {"role": Role.VIEWER, "confirmed": "yes"}),
        client.post(url("change_role", ada.pk), {"role": Role.VIEWER, "confirmed": "yes"}),
        client.get(url("remove", bob.pk)),
        client.post(url("remove", bob.pk), {"confirmed": "yes"}),
        client.get(url("revoke_invitation", invitation.pk)),
        client.post(url("revoke_invitation", invitation.pk), {"confirmed": "yes"}),
    ]
    listing = client.get(reverse(MEMBERS)).content.decode()

    # then
    assert [r.status_code for r in responses] == [404] * 7
    assert "bob@example.com" not in listing and "dana@example.com" not in listing
    assert written() == before


def test_a_superuser_cannot_remove_the_last_admin_through_the_generic_forms(client_admin, acme):
    # given: Ada, Acme's only admin; the generic change form and the bulk delete skipped the rule
    ada, bob = membership_of(acme, "ada"), membership_of(acme, "bob")
    before = written()

    # when the superuser tries to make Ada a viewer, delete her, bulk-delete her, or edit the inline
    demoted = client_admin.post(
        reverse("admin:accounts_membership_change", args=[ada.pk]),
        {"user": ada.user_id, "company": acme.pk, "role": Role.VIEWER},
    )
    deleted = client_admin.post(reverse("admin:accounts_membership_delete", args=[ada.pk]), {"post": "yes"})
    bulk = client_admin.post(
        reverse(MEMBERS), {"action": "delete_selected", "_selected_action": [ada.pk], "post": "yes"}
    )

    # then nothing changed: roles change and members go on the pages that ask the services
    assert (demoted.status_code, deleted.status_code) == (403, 403)
    assert bulk.status_code in (200, 302)
    assert Membership.objects.get(pk=ada.pk).role == Role.ADMIN
    assert written() == before
    company_page = client_admin.get(reverse("admin:accounts_company_change", args=[acme.pk])).content.decode()
    assert 'name="memberships-0-role"' not in company_page  # the inline is read only
    content = client_admin.get(reverse(MEMBERS)).content.decode()
    assert url("change_role", bob.pk) in content and 'id="invite-someone"' in content
    assert 'value="delete_selected"' not in content


def test_a_superuser_adds_a_member_with_the_generic_form_through_the_service(client_admin, acme):
    newcomer = UserFactory(username="nia")
    events = AuditEvent.objects.filter(company_id=acme.pk, action="create").count()

    added = client_admin.post(
        reverse("admin:accounts_membership_add"),
        {"user": newcomer.pk, "company": acme.pk, "role": Role.CLERK},
    )
    again = client_admin.post(
        reverse("admin:accounts_membership_add"),
        {"user": newcomer.pk, "company": acme.pk, "role": Role.ADMIN},
    )

    assert added.status_code == 302
    assert Membership.objects.get(company=acme, user=newcomer).role == Role.CLERK
    assert AuditEvent.objects.filter(company_id=acme.pk, action="create").count() == events + 1
    assert again.status_code == 200 and "already a member" in again.content.decode()
    assert Membership.objects.filter(company=acme, user=newcomer).count() == 1


# --------------------------------------------------------------------------- invitations


def test_invite_creates_the_invitation_and_emails_a_link_to_the_accept_page(
    as_ada, acme, mailoutbox, django_capture_on_commit_callbacks, settings
):
    # given
    settings.SITE_URL = "https://books.example.com"
    settings.INVITATION_ACCEPT_URL = ""
    form = as_ada.get(url("invite")).content.decode()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = as_ada.post(url("invite"), {"email": "Dana@Example.com", "role": Role.ACCOUNTANT})

    # then
    assert (
        '<strong>Controller</strong><span class="role-summary">May close periods and the fiscal year' in form
    )
    assert response.status_code == 302
    assert response.url == reverse(MEMBERS)
    invitation = Invitation.objects.get()
    assert (invitation.company, invitation.email, invitation.role, invitation.status) == (
        acme,
        "dana@example.com",
        Role.ACCOUNTANT,
        InvitationStatus.PENDING,
    )
    assert invitation.invited_by == membership_of(acme, "ada").user
    (message,) = mailoutbox
    assert message.to == ["dana@example.com"]
    link = re.search(r"^(https://\S+)$", message.body, re.MULTILINE).group(1)
    assert link.startswith("https://books.example.com/admin/accounts/membership/accept-invitation/?token=")
    assert 'POST /api/v1/invitations/accept   {"token": "' in message.body  # the API way stays
    assert AuditEvent.objects.filter(object_type="accounts.invitation", action="create").count() == 1
    # the link opens the accept page of this invitation
    page = as_ada.get(link.removeprefix("https://books.example.com"))
    assert "invites you to join <strong>Acme Ltd</strong> on SOFinance as <strong>Accountant</strong>" in (
        page.content.decode()
    )


def test_inviting_a_member_is_refused_with_the_services_words(
    as_ada, acme, mailoutbox, django_capture_on_commit_callbacks
):
    before = written()
    with django_capture_on_commit_callbacks(execute=True):
        response = as_ada.post(url("invite"), {"email": "BOB@example.com", "role": Role.ADMIN})
    assert response.status_code == 200
    assert "This address belongs to a member of the company already." in response.content.decode()
    assert 'value="BOB@example.com"' in response.content.decode()
    assert written() == before
    assert mailoutbox == []


def test_the_members_page_lists_pending_invitations_and_revokes_one(
    as_ada, acme, django_capture_on_commit_callbacks
):
    # given
    invite(acme, capture=django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    expires = timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M")

    # when
    listing = as_ada.get(reverse(MEMBERS)).content.decode()
    page = as_ada.get(url("revoke_invitation", invitation.pk)).content.decode()
    response = as_ada.post(url("revoke_invitation", invitation.pk), {"confirmed": "yes"})

    # then
    row = listing[listing.index(f'id="invitation-{invitation.pk}"') :]
    row = row[: row.index("</tr>")]
    for text in ("dana@example.com", "Accountant", "Ada Byron", expires, "Revoke…"):
        assert text in row
    assert "The link sent to dana@example.com stops working at once" in page
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REVOKED
    assert messages_of(response) == [
        "The invitation of dana@example.com is revoked: its link no longer works."
    ]
    assert 'id="invitation-' not in as_ada.get(reverse(MEMBERS)).content.decode()


def test_revoking_an_invitation_answered_meanwhile_is_refused_on_the_page(
    as_ada, acme, django_capture_on_commit_callbacks
):
    invite(acme, capture=django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    invitation_revoke(invitation=invitation, by=None)
    before = written()
    response = as_ada.post(url("revoke_invitation", invitation.pk), {"confirmed": "yes"})
    assert response.status_code == 200
    assert "This invitation is revoked and cannot be revoked." in response.content.decode()
    assert written() == before


# --------------------------------------------------------------------------- accepting


def test_a_visitor_accepts_by_signing_up_and_works_in_that_company_only(
    client, acme, django_capture_on_commit_callbacks
):
    # given an invitation, and another company the newcomer has nothing to do with
    CompanyFactory(name="Aardvark Ltd")
    token = invite(acme, role=Role.CLERK, capture=django_capture_on_commit_callbacks)

    # when the newcomer opens the link and signs up
    page = client.get(reverse(ACCEPT), {"token": token})
    response = client.post(
        reverse(ACCEPT),
        {
            "token": token,
            "step": "signup",
            "first_name": " Dana ",
            "last_name": "Reyes",
            "username": "dana",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )

    # then an account with the invited address and name, the role, the admin (staff, not superuser)
    assert page.status_code == 200
    assert 'id="signup-form"' in page.content.decode() and 'id="login-form"' in page.content.decode()
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    dana = get_user_model().objects.get(username="dana")
    assert (dana.first_name, dana.last_name) == ("Dana", "Reyes")
    assert (dana.email, dana.is_staff, dana.is_superuser, dana.check_password(STRONG_PASSWORD)) == (
        "dana@example.com",
        True,
        False,
        True,
    )
    assert Membership.objects.get(user=dana).company == acme
    assert Membership.objects.get(user=dana).role == Role.CLERK
    assert Invitation.objects.get().status == InvitationStatus.ACCEPTED
    staff_event = AuditEvent.objects.get(object_type="accounts.user", object_id=str(dana.pk), action="update")
    assert staff_event.changes == {"is_staff": {"before": False, "after": True}}
    # logged in, in the admin, in Acme Ltd only
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["current_company"] == acme
    assert index.context["selectable_companies"] == [acme]
    assert "Welcome to Acme Ltd: you are Clerk" in index.content.decode()
    assert client.get(reverse("admin:accounts_account_changelist")).status_code == 200
    assert client.get(reverse(MEMBERS)).status_code == 403  # a clerk does not see the members


def test_a_refused_sign_up_shows_why_and_writes_nothing(client, acme, django_capture_on_commit_callbacks):
    token = invite(acme, capture=django_capture_on_commit_callbacks)
    before = written()
    short = client.post(
        reverse(ACCEPT),
        {
            "token": token,
            "step": "signup",
            "first_name": "Dana",
            "username": "dana",
            "password1": "abc",
            "password2": "abc",
        },
    )
    nameless = client.post(
        reverse(ACCEPT),
        {
            "token": token,
            "step": "signup",
            "username": "dana",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )
    taken = client.post(
        reverse(ACCEPT),
        {
            "token": token,
            "step": "signup",
            "first_name": "Bob",
            "username": "bob",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )
    assert short.status_code == taken.status_code == nameless.status_code == 200
    assert "This password is too short." in short.content.decode()
    assert "This field is required." in nameless.content.decode()
    assert "A user with this username or email already exists." in taken.content.decode()
    assert written() == before
    assert "_auth_user_id" not in client.session


def test_a_logged_in_person_accepts_with_one_button(client, acme, django_capture_on_commit_callbacks):
    # given someone with an account (not staff: they used the API only) who is logged in
    dana = UserFactory(username="dana", email="dana@example.com")
    token = invite(acme, capture=django_capture_on_commit_callbacks)
    client.force_login(dana)

    # when
    page = client.get(reverse(ACCEPT), {"token": token})
    response = client.post(reverse(ACCEPT), {"token": token, "step": "accept"})

    # then
    assert 'id="accept-invitation"' in page.content.decode()
    assert response.status_code == 302
    assert Membership.objects.get(user=dana).role == Role.ACCOUNTANT
    dana.refresh_from_db()
    assert dana.is_staff and not dana.is_superuser
    assert client.get(reverse("admin:index")).context["current_company"] == acme


def test_a_visitor_with_an_account_logs_in_on_the_page_and_accepts(
    client, acme, django_capture_on_commit_callbacks
):
    dana = UserFactory(username="dana", email="dana@example.com")
    token = invite(acme, capture=django_capture_on_commit_callbacks)

    wrong = client.post(
        reverse(ACCEPT), {"token": token, "step": "login", "username": "dana", "password": "wrong"}
    )
    response = client.post(
        reverse(ACCEPT),
        {"token": token, "step": "login", "username": "dana@example.com", "password": PASSWORD},
    )

    assert wrong.status_code == 200 and "Please enter a correct" in wrong.content.decode()
    assert response.status_code == 302
    assert Membership.objects.get(user=dana).company == acme
    assert client.session["_auth_user_id"] == str(dana.pk)


def test_logging_in_on_the_accept_page_is_throttled_like_the_admins_login(
    client, acme, django_capture_on_commit_callbacks, settings
):
    # given an account whose logins failed as often as allowed
    dana = UserFactory(username="dana", email="dana@example.com")
    token = invite(acme, capture=django_capture_on_commit_callbacks)
    accept = f"{reverse(ACCEPT)}?token={token}"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(accept, {"token": token, "step": "login", "username": "dana", "password": "wrong"})
    before = written()

    # when the right password is given
    response = client.post(
        accept, {"token": token, "step": "login", "username": "dana", "password": PASSWORD}
    )

    # then the lock holds, and nothing is written
    assert response.status_code == 429
    assert "Too many failed logins." in response.content.decode()
    assert not Membership.objects.filter(user=dana).exists()
    assert written() == before
    assert "_auth_user_id" not in client.session


def test_a_person_logged_in_with_another_address_is_told_and_nothing_is_written(
    client, acme, django_capture_on_commit_callbacks
):
    token = invite(acme, capture=django_capture_on_commit_callbacks)
    client.force_login(membership_of(acme, "bob").user)
    before = written()

    page = client.get(reverse(ACCEPT), {"token": token}).content.decode()
    response = client.post(reverse(ACCEPT), {"token": token, "step": "accept"})

    assert "This invitation was sent to dana@example.com, and you are logged in as bob" in page
    assert 'id="accept-invitation"' not in page
    assert "This invitation was sent to another email address" in response.content.decode()
    assert written() == before


@pytest.mark.parametrize("spoil", ["expired", "revoked", "used", "unknown"])
def test_a_spent_link_says_so_and_writes_nothing(client, acme, django_capture_on_commit_callbacks, spoil):
    # given
    token = invite(acme, capture=django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    if spoil == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif spoil == "revoked":
        invitation_revoke(invitation=invitation, by=None)
    elif spoil == "used":
        invitation_accept(token=token, user=UserFactory(username="dana", email="dana@example.com"))
    else:
        token = "x" * 43
    before = written()
    expected = {
        "expired": "This invitation expired on",
        "revoked": "This invitation was revoked: ask the company&#x27;s admin for a new one.",
        "used": "This invitation was accepted on",
        "unknown": "This invitation link is not valid.",
    }[spoil]

    # when
    page = client.get(reverse(ACCEPT), {"token": token}).content.decode()
    response = client.post(
        reverse(ACCEPT),
        {
            "token": token,
            "step": "signup",
            "username": "newcomer",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )

    # then
    assert expected in page
    assert 'id="signup-form"' not in page
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert written() == before
    assert "_auth_user_id" not in client.session


# --------------------------------------------------------------------------- words


def test_every_action_is_said_in_words():
    assert set(ACTION_WORDS) == set(Action)


def test_roles_are_described_from_the_permissions_table():
    assert role_summary(Role.VIEWER) == (
        "may read the books (accounts, journal, periods, rates, reports, sales, banking) and export "
        "what they read; changes nothing in the books"
    )
    assert role_summary(Role.ADMIN) == (
        "may change the company's settings and manage members and invitations, besides all a "
        "controller may do"
    )
