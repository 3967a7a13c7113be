"""The chart of accounts in the admin: every write goes through accounts.services, a refused
write shows the service's message with the user's input and saves nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Account, Company
from accounts.services import account_create, company_create, membership_add
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ACCOUNT_TYPE = "accounts.account"


@pytest.fixture
def books(superuser) -> Company:
    return company_create(
        name="Books Ltd", currency="USD", created_by=superuser, chart_template="small_business"
    )


def acct(company: Company, code: str) -> Account:
    return Account.objects.get(company=company, code=code)


def account_form(company: Company, **fields) -> dict:
    data = {
        "company": str(company.pk),
        "code": "",
        "name": "",
        "type": "asset",
        "parent": "",
        "currency": "",
        "is_active": "on",
        "system_role": "",
        "description": "",
    }
    data.update({key: str(value) for key, value in fields.items()})
    return data


def messages_of(response) -> list[str]:
    if response.context is not None and "messages" in response.context:
        return [str(m) for m in response.context["messages"]]
    return [str(m) for m in get_messages(response.wsgi_request)]


def account_events(action: str) -> int:
    return AuditEvent.objects.filter(object_type=ACCOUNT_TYPE, action=action).count()


def test_add_account_creates_it_under_its_parent_through_the_service(client_admin, books):
    # given
    created_before = account_events("create")
    parent = acct(books, "10")

    # when
    response = client_admin.post(
        reverse("admin:accounts_account_add"),
        account_form(books, code="1030", name="Bank - payroll account", parent=parent.pk),
    )

    # then
    assert response.status_code == 302
    account = acct(books, "1030")
    assert (account.name, account.type, account.parent_id, account.path, account.depth) == (
        "Bank - payroll account",
        "asset",
        parent.pk,
        "10/1030",
        1,
    )
    assert account_events("create") == created_before + 1


def test_duplicate_code_shows_the_service_message_and_saves_nothing(client_admin, books):
    # given
    accounts_before = Account.objects.count()
    created_before = account_events("create")

    # when
    response = client_admin.post(
        reverse("admin:accounts_account_add"), account_form(books, code="1010", name="Second bank")
    )

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert "An account with this code already exists." in content
    assert 'value="Second bank"' in content  # the user's input is kept
    assert Account.objects.count() == accounts_before
    assert account_events("create") == created_before
    assert not any("successfully" in m for m in messages_of(response))


def test_sub_account_of_another_type_is_refused(client_admin, books):
    # given
    accounts_before = Account.objects.count()

    # when
    response = client_admin.post(
        reverse("admin:accounts_account_add"),
        account_form(books, code="4200", name="Misfiled", type="income", parent=acct(books, "10").pk),
    )

    # then
    assert response.status_code == 200
    assert "A sub-account must have its parent&#x27;s type (asset)." in response.content.decode()
    assert Account.objects.count() == accounts_before


def test_invalid_code_is_reported_on_its_field(client_admin, books):
    # when
    response = client_admin.post(
        reverse("admin:accounts_account_add"), account_form(books, code="bad code!", name="Bad")
    )

    # then
    assert response.status_code == 200
    assert "Codes are 1-32 letters, digits, dots, dashes or underscores." in response.content.decode()
    assert not Account.objects.filter(name="Bad").exists()


def test_change_account_updates_it_through_the_service(client_admin, books):
    # given
    account = acct(books, "6300")
    updated_before = account_events("update")

    # when
    response = client_admin.post(
        reverse("admin:accounts_account_change", args=[account.pk]),
        account_form(books, code="6310", name="Stationery", type="expense", parent=account.parent_id),
    )

    # then
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.code, account.name, account.path) == ("6310", "Stationery", "60/6310")
    assert account_events("update") == updated_before + 1


def test_company_of_an_account_cannot_be_changed(client_admin, books, superuser):
    # given
    other = company_create(name="Other Co", currency="USD", created_by=superuser)
    account = acct(books, "6300")

    # when
    client_admin.post(
        reverse("admin:accounts_account_change", args=[account.pk]),
        {
            **account_form(
                other, code="6300", name="Office supplies", type="expense", parent=account.parent_id
            )
        },
    )

    # then
    account.refresh_from_db()
    assert account.company_id == books.pk


def test_delete_unused_leaf_goes_through_the_service(client_admin, books):
    # given
    account = account_create(company=books, code="6995", name="Sundry", type="expense", by=None)
    deleted_before = account_events("delete")

    # when
    response = client_admin.post(reverse("admin:accounts_account_delete", args=[account.pk]), {"post": "yes"})

    # then
    assert response.status_code == 302
    assert not Account.objects.filter(pk=account.pk).exists()
    assert account_events("delete") == deleted_before + 1


def test_delete_parent_account_is_refused(client_admin, books):
    # given
    parent = acct(books, "60")
    deleted_before = account_events("delete")

    # when
    response = client_admin.post(reverse("admin:accounts_account_delete", args=[parent.pk]), {"post": "yes"})

    # then
    assert response.status_code == 200
    assert "Cannot delete" in response.content.decode()
    assert Account.objects.filter(pk=parent.pk).exists()
    assert account_events("delete") == deleted_before


def test_deactivate_action_deactivates_through_the_service(client_admin, books):
    # given
    targets = [acct(books, "6900"), acct(books, "6910")]
    updated_before = account_events("update")

    # when
    response = client_admin.post(
        reverse("admin:accounts_account_changelist"),
        {"action": "deactivate", "_selected_action": [str(a.pk) for a in targets]},
        follow=True,
    )

    # then
    assert sorted(Account.objects.filter(company=books, is_active=False).values_list("code", flat=True)) == [
        "6900",
        "6910",
    ]
    assert account_events("update") == updated_before + 2
    assert messages_of(response) == ["6900 Travel: deactivated.", "6910 Telephone and internet: deactivated."]


def test_bulk_delete_action_is_not_offered(client_admin, books):
    # when
    response = client_admin.get(reverse("admin:accounts_account_changelist"))

    # then
    content = response.content.decode()
    assert 'value="deactivate"' in content
    assert 'value="delete_selected"' not in content


def test_member_sees_only_their_companies_accounts_and_cannot_add_without_the_role(client, books):
    # given a viewer of Books Ltd with the model's view permission, and another company
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_account", "add_account"]))
    membership_add(company=books, user=viewer, role="viewer", by=None)
    other = company_create(
        name="Other Co", currency="USD", created_by=UserFactory(), chart_template="small_business"
    )
    client.force_login(viewer)

    # when
    listing = client.get(reverse("admin:accounts_account_changelist"), {"all": ""})
    foreign = client.get(reverse("admin:accounts_account_change", args=[acct(other, "1010").pk]))
    add = client.get(reverse("admin:accounts_account_add"))

    # then
    content = listing.content.decode()
    assert listing.status_code == 200
    assert "Books Ltd" in content
    assert "Other Co" not in content
    assert foreign.status_code == 302  # "does not exist": another company's account does not leak
    assert add.status_code == 403


def test_adding_a_user_asks_for_the_email_the_model_requires(client_admin):
    from accounts.models import User

    url = reverse("admin:accounts_user_add")
    form = {"username": "bea", "first_name": "Bea", "last_name": "Ortiz", "usable_password": "false"}
    page = client_admin.get(url).content.decode()
    assert 'name="email"' in page

    # without it: said on the form (it was saved blank, then the change form refused the user,
    # and a second user added without one collided with the first)
    missing = client_admin.post(url, form)
    assert missing.status_code == 200 and not User.objects.filter(username="bea").exists()
    assert missing.context["adminform"].form.errors["email"]

    # with it: added, and the user's page saves as it is (staff ticked)
    added = client_admin.post(url, {**form, "email": "bea@example.com"})
    user = User.objects.get(username="bea")
    assert added.status_code == 302 and user.email == "bea@example.com" and user.first_name == "Bea"
    change = client_admin.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "username": "bea",
            "email": "bea@example.com",
            "first_name": "Bea",
            "last_name": "Ortiz",
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-12-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert change.status_code == 302, change.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.is_staff
