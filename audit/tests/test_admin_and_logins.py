"""Changes made through the Django admin, and logins, failed logins and logouts, are recorded."""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import Company, Membership, User
from accounts.tests.factories import PASSWORD, CompanyFactory, UserFactory
from audit.admin_site import AuditedAdminSite, AuditedModelAdminMixin
from audit.models import AuditEvent
from audit.tests.helpers import record_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def root() -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def root_client(root) -> Client:
    client = Client()
    client.force_login(root)  # itself a login, recorded
    return client


def events_after_login(action: str | None = None):
    queryset = AuditEvent.objects.exclude(action="login").order_by("pk")
    return queryset.filter(action=action) if action else queryset


def _company_form(company: Company, **overrides) -> dict[str, str]:
    data = {
        "name": company.name,
        "currency": company.currency,
        "fiscal_year_start": str(company.fiscal_year_start),
        "created_by": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_changing_a_company_in_the_admin_records_before_and_after(root, root_client):
    # given
    company = CompanyFactory(name="Acme Ltd", currency="USD")
    # when: the name changes (memberships change on the Members pages, through their services)
    response = root_client.post(
        reverse("admin:accounts_company_change", args=[company.pk]),
        _company_form(company, name="Acme Renamed"),
        HTTP_X_REQUEST_ID="admin-req-1",
    )
    # then
    assert response.status_code == 302
    (company_event,) = events_after_login()
    assert (company_event.action, company_event.company_id, company_event.object_type) == (
        "update",
        company.pk,
        "accounts.company",
    )
    assert company_event.changes == {"name": {"before": "Acme Ltd", "after": "Acme Renamed"}}
    assert (company_event.actor_type, company_event.actor_id, company_event.actor_repr) == (
        "user",
        root.pk,
        "root",
    )
    assert company_event.metadata == {"via": "admin"}
    assert (company_event.request_id, company_event.ip) == ("admin-req-1", "127.0.0.1")


def test_saving_without_changes_records_nothing(root_client):
    company = CompanyFactory(name="Acme Ltd")
    response = root_client.post(
        reverse("admin:accounts_company_change", args=[company.pk]), _company_form(company)
    )
    assert response.status_code == 302
    assert list(events_after_login()) == []


def test_deleting_in_the_admin_records_what_was_deleted(root, root_client):
    # given a company with nothing in it (a generic admin delete: memberships go through services)
    company = CompanyFactory(name="Acme Ltd")
    # when
    response = root_client.post(reverse("admin:accounts_company_delete", args=[company.pk]), {"post": "yes"})
    # then
    assert response.status_code == 302
    assert not Company.objects.filter(pk=company.pk).exists()
    (event,) = events_after_login()
    assert (event.action, event.company_id, event.object_id, event.actor_repr) == (
        "delete",
        company.pk,
        str(company.pk),
        "root",
    )
    assert event.changes["name"] == {"before": "Acme Ltd", "after": None}


def test_bulk_delete_in_the_admin_records_each_object(root_client):
    first, second = CompanyFactory(), CompanyFactory()
    response = root_client.post(
        reverse("admin:accounts_company_changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert sorted(e.object_id for e in events_after_login("delete")) == sorted(
        [str(first.pk), str(second.pk)]
    )


def test_a_password_changed_in_the_admin_is_recorded_without_the_password(root_client):
    # given
    user = UserFactory(username="pat")
    old_hash = user.password
    # when
    response = root_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "N3w-secret-Pa55!", "password2": "N3w-secret-Pa55!"},
    )
    # then
    assert response.status_code == 302
    (event,) = events_after_login()
    assert (event.action, event.object_id, event.actor_repr) == ("update", str(user.pk), "root")
    assert event.metadata["via"] == "admin"
    stored = json.dumps([event.changes, event.metadata])
    user.refresh_from_db()
    for secret in ("N3w-secret-Pa55!", old_hash, user.password):
        assert secret not in stored


def test_a_user_added_in_the_admin_is_recorded_with_the_password_masked(root_client):
    response = root_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newbie",
            "email": "newbie@example.com",  # asked for when a user is added (the model requires one)
            "usable_password": "true",
            "password1": "N3w-secret-Pa55!",
            "password2": "N3w-secret-Pa55!",
        },
    )
    assert response.status_code == 302, response.content[:500]
    user = User.objects.get(username="newbie")
    (event,) = events_after_login()
    assert (event.action, event.object_id, event.company_id) == ("create", str(user.pk), None)
    assert event.changes["password"] == {"before": None, "after": "***"}
    assert user.password not in json.dumps(event.changes)


def test_audit_events_are_read_only_in_the_admin_even_for_superusers(root, root_client):
    # given
    (event,) = record_events(company_id=None, count=1)
    # then
    assert root_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert root_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200
    assert root_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert (
        root_client.post(
            reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = root_client.post(
        reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "delete", "actor_repr": "x"}
    )
    assert response.status_code == 403
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_repr) == ("update", "system")
    request = RequestFactory().get("/admin/")
    request.user = root
    assert admin.site._registry[AuditEvent].get_actions(request) == {}  # no bulk delete either


def test_the_admin_site_audits_every_model_admin_unless_it_opts_out():
    class ServiceBackedAdmin(admin.ModelAdmin):
        audit_admin_changes = False

    site = AuditedAdminSite(name="probe")
    site.register(Company)
    site.register(Membership, ServiceBackedAdmin)
    assert isinstance(site._registry[Company], AuditedModelAdminMixin)
    assert not isinstance(site._registry[Membership], AuditedModelAdminMixin)
    assert isinstance(admin.site._registry[Company], AuditedModelAdminMixin)


# --------------------------------------------------------------------------- logins


@pytest.fixture
def staff() -> User:
    return UserFactory(username="olivia", is_staff=True)


def test_an_admin_login_and_logout_are_recorded(staff):
    client = Client()
    # when
    response = client.post(
        reverse("admin:login"), {"username": "olivia", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    client.post(reverse("admin:logout"))
    # then
    login, logout = AuditEvent.objects.order_by("pk")
    assert (login.action, login.actor_type, login.actor_id, login.actor_repr) == (
        "login",
        "user",
        staff.pk,
        "olivia",
    )
    assert (login.object_type, login.object_id, login.company_id) == ("accounts.user", str(staff.pk), None)
    assert login.metadata == {"channel": "admin"}
    assert login.ip == "127.0.0.1"
    assert (logout.action, logout.actor_repr, logout.metadata) == ("logout", "olivia", {"channel": "admin"})


def test_a_failed_admin_login_is_recorded_without_the_password(staff):
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": "olivia", "password": "wrong-Guess-123", "next": "/admin/"}
    )
    assert response.status_code == 200  # the form again
    (event,) = AuditEvent.objects.all()
    assert (event.action, event.actor_type, event.actor_id, event.actor_repr) == (
        "login_failed",
        "anonymous",
        None,
        "anonymous",
    )
    assert (event.object_type, event.object_repr) == ("accounts.user", "olivia")
    assert event.metadata == {"channel": "admin", "login": "olivia"}
    assert "wrong-Guess-123" not in json.dumps([event.changes, event.metadata, event.object_repr])


def test_api_token_logins_and_failures_are_recorded(api_client):
    user = UserFactory(username="api-user")
    ok = api_client.post("/api/v1/auth/token", {"username": "api-user", "password": PASSWORD}, format="json")
    bad = api_client.post(
        "/api/v1/auth/token", {"username": "api-user", "password": "nope-nope-1"}, format="json"
    )
    assert (ok.status_code, bad.status_code) == (200, 401)
    login, failed = AuditEvent.objects.order_by("pk")
    assert (login.action, login.actor_id, login.metadata) == ("login", user.pk, {"channel": "api"})
    assert (failed.action, failed.actor_type, failed.metadata) == (
        "login_failed",
        "anonymous",
        {"channel": "api", "login": "api-user"},
    )
    assert login.request_id != "" and failed.ip == "127.0.0.1"
