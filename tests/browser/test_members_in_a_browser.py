"""Members in headless Chromium: a company's admin invites someone from the Members page, the
invitee follows the email's link and signs up, and the admin changes a member's role after reading
what it will allow. Screenshots (artifacts/screenshots/): members, invite, change_role_choose,
change_role, accept_invitation.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Invitation, Membership
from accounts.services import company_create, membership_add
from accounts.tests.factories import PASSWORD, UserFactory
from sofinance.permissions import Role
from tests.browser.test_admin_in_a_browser import assert_clean, staff

pytestmark = pytest.mark.django_db(transaction=True)

STRONG_PASSWORD = "a long and unusual passphrase 42"


def acme():
    """Acme Ltd with Ada Byron its admin and Bob Smith a clerk."""
    ada = staff("ada")
    ada.first_name, ada.last_name = "Ada", "Byron"
    ada.save(update_fields=["first_name", "last_name"])
    company = company_create(name="Acme Ltd", currency="USD", created_by=ada)  # its founder: its admin
    bob = UserFactory(
        username="bob", email="bob@example.com", first_name="Bob", last_name="Smith", is_staff=True
    )
    membership_add(company=company, user=bob, role=Role.CLERK, by=None)
    return company


def test_an_admin_invites_someone_who_signs_up_from_the_email(browser, settings):
    # given
    company = acme()
    settings.SITE_URL = browser.base_url
    browser.login("ada", PASSWORD)

    # when Ada opens the Members page and invites Dana as an accountant
    browser.go("/admin/accounts/membership/")
    browser.wait_for("#result_list")
    browser.click("#invite-someone")
    browser.wait_for("#invite-form")
    browser.type("#id_email", "dana@example.com")
    browser.click("input[name=role][value=accountant]")
    browser.driver.execute_script("window.scrollTo(0, 0)")
    browser.shot("invite")
    assert_clean(browser)
    browser.click("#send-invitation")

    # then the invitation is pending on the Members page, and the email is sent
    browser.wait_for("#pending-invitations")
    assert "Invitation sent to dana@example.com" in browser.text(".messagelist")
    assert "dana@example.com" in browser.text("#pending-invitations")
    assert "Revoke…" in browser.text("#pending-invitations")
    browser.shot("members")
    assert_clean(browser)
    (message,) = mail.outbox
    link = re.search(r"^(http\S+accept-invitation/\?token=\S+)$", message.body, re.MULTILINE).group(1)

    # when Dana, not logged in, follows the link and creates her account
    browser.driver.delete_all_cookies()
    browser.driver.get(link)
    browser.wait_for("#signup-form")
    assert "as Accountant" in browser.text("#invitation-offer")
    browser.shot("accept_invitation")
    assert_clean(browser)
    browser.type("#id_first_name", "Dana")
    browser.type("#id_last_name", "Reyes")
    browser.type("#id_username", "dana")
    browser.type("#id_password1", STRONG_PASSWORD)
    browser.type("#id_password2", STRONG_PASSWORD)
    browser.click("#signup-and-join")

    # then she is in the admin, in Acme Ltd, as an accountant
    browser.wait_for("#user-tools")
    assert "Welcome to Acme Ltd: you are Accountant" in browser.text(".messagelist")
    assert browser.text("#current-role") == "Accountant"
    assert Membership.objects.get(user__username="dana").company == company
    assert Membership.objects.get(user__username="dana").user.get_full_name() == "Dana Reyes"
    assert Invitation.objects.get().status == "accepted"
    assert_clean(browser)


def test_an_admin_changes_a_members_role(browser):
    # given
    company = acme()
    bob = Membership.objects.get(company=company, user__username="bob")
    browser.login("ada", PASSWORD)

    # when Ada chooses "Change role…" on Bob's row, picks Controller and reads what it means
    browser.go("/admin/accounts/membership/")
    browser.click(f"a[href='/admin/accounts/membership/{bob.pk}/role/']")
    browser.wait_for("#choose-role-form")
    browser.click("input[name=role][value=controller]")
    browser.driver.execute_script("window.scrollTo(0, 0)")
    browser.shot("change_role_choose")
    assert_clean(browser)
    browser.click("#choose-role")
    browser.wait_for("#confirm-effect")
    assert browser.text("#confirm-effect").startswith(
        "Bob Smith will become Controller of Acme Ltd: may close periods and the fiscal year"
    )
    browser.shot("change_role")
    assert_clean(browser)
    browser.click("#confirm-change-role")

    # then Bob is a controller, said on the Members page
    browser.wait_for("#result_list")
    assert "Bob Smith is now Controller of Acme Ltd." in browser.text(".messagelist")
    bob.refresh_from_db()
    assert bob.role == Role.CONTROLLER
    assert_clean(browser)

    # and demoting Ada, the only admin, is refused at once on the page, with no "Yes" to press
    ada = Membership.objects.get(company=company, user__username="ada")
    browser.go(f"/admin/accounts/membership/{ada.pk}/role/?role=viewer")
    browser.wait_for("#refused")
    assert not browser.exists("#confirm-change-role")
    assert browser.text("#refused") == "A company must keep at least one admin."
    ada.refresh_from_db()
    assert ada.role == Role.ADMIN
    assert_clean(browser)
