"""Period actions in the admin call the period services and report their answers."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.services import company_create, membership_add
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from ledger.models import AccountingPeriod, PeriodStatus
from ledger.services import periods_generate
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:ledger_accountingperiod_changelist"


@pytest.fixture
def books(superuser):
    company = company_create(
        name="Books Ltd", currency="USD", created_by=superuser, chart_template="small_business"
    )
    periods_generate(company=company, year=2026, by=None)
    return company


def run_action(client, action, periods, **extra):
    data = {"action": action, "_selected_action": [str(p.pk) for p in periods], "post": "yes", **extra}
    response = client.post(reverse(CHANGELIST), data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def status_of(period):
    return AccountingPeriod.objects.get(pk=period.pk).status


def test_close_reopen_and_lock_through_admin_actions(client, superuser, books):
    client.force_login(superuser)
    january = AccountingPeriod.objects.get(company=books, start_date=datetime.date(2026, 1, 1))
    assert run_action(client, "close_periods", [january]) == [f"{january}: closed."]
    assert status_of(january) == PeriodStatus.CLOSED
    # reopening needs a reason: refused with the service's message, nothing changes
    assert run_action(client, "reopen_periods", [january]) == [
        f"{january}: A reason is required to reopen a period."
    ]
    assert status_of(january) == PeriodStatus.CLOSED
    assert run_action(client, "reopen_periods", [january], reason="Late invoice") == [f"{january}: reopened."]
    reopen = AuditEvent.objects.get(action="reopen", object_id=str(january.pk))
    assert reopen.metadata == {"reason": "Late invoice"}
    assert run_action(client, "lock_periods", [january]) == [f"{january}: locked."]
    assert run_action(client, "reopen_periods", [january], reason="x") == [
        f"{january}: A locked period cannot be reopened."
    ]
    assert status_of(january) == PeriodStatus.LOCKED


def test_periods_cannot_be_added_or_edited_in_the_admin(client, superuser, books):
    client.force_login(superuser)
    period = AccountingPeriod.objects.filter(company=books).first()
    assert client.get(reverse("admin:ledger_accountingperiod_add")).status_code == 403
    client.post(reverse("admin:ledger_accountingperiod_change", args=[period.pk]), {"status": "locked"})
    assert status_of(period) == PeriodStatus.OPEN


def test_an_accountant_sees_periods_but_has_no_period_actions(client, books):
    accountant = UserFactory(is_staff=True)
    membership_add(company=books, user=accountant, role=Role.ACCOUNTANT, by=None)
    from django.contrib.auth.models import Permission

    accountant.user_permissions.add(Permission.objects.get(codename="view_accountingperiod"))
    client.force_login(accountant)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert "close_periods" not in response.content.decode()
    period = AccountingPeriod.objects.filter(company=books).first()
    run_action(client, "close_periods", [period])
    assert status_of(period) == PeriodStatus.OPEN


def test_period_actions_ask_first_and_the_reason_travels_with_the_confirmation(client, superuser, books):
    client.force_login(superuser)
    january = AccountingPeriod.objects.get(company=books, start_date=datetime.date(2026, 1, 1))
    assert run_action(client, "close_periods", [january]) == [f"{january}: closed."]

    # when reopen is chosen from the list, with a reason, but not confirmed yet
    page = client.post(
        reverse(CHANGELIST),
        {"action": "reopen_periods", "_selected_action": [str(january.pk)], "reason": "Late invoice"},
    ).content.decode()

    # then the page names the period and the reason, and the period is still closed
    assert "<title>Reopen 1 accounting period?" in page
    assert f"<li>{january} (closed)</li>" in page
    assert "“Late invoice”" in page
    assert status_of(january) == PeriodStatus.CLOSED
    assert not AuditEvent.objects.filter(action="reopen").exists()

    # when its form is sent back as it stands, the reason goes with it
    sent = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert sent["reason"] == "Late invoice" and sent["post"] == "yes"
    client.post(reverse(CHANGELIST), {**sent, "_selected_action": [str(january.pk)]})
    assert status_of(january) == PeriodStatus.OPEN
    assert AuditEvent.objects.get(action="reopen").metadata == {"reason": "Late invoice"}


def test_lock_from_the_list_warns_it_is_for_good(client, superuser, books):
    client.force_login(superuser)
    periods = list(AccountingPeriod.objects.filter(company=books).order_by("start_date")[:2])
    page = client.post(
        reverse(CHANGELIST), {"action": "lock_periods", "_selected_action": [str(p.pk) for p in periods]}
    ).content.decode()
    assert "<title>Lock 2 accounting periods?" in page and "no one can reopen it" in page
    assert [status_of(p) for p in periods] == [PeriodStatus.OPEN, PeriodStatus.OPEN]
