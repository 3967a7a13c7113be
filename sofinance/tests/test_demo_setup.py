"""`manage.py demo_setup`: idempotent demo data, the admin's password printed once."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from accounts.chart_templates import SMALL_BUSINESS
from accounts.models import Account, Company, Membership, User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def test_first_run_creates_the_admin_and_the_demo_company():
    # when
    output = _run()

    # then
    password = re.search(r"^  password: (\S+)$", output, re.MULTILINE).group(1)
    admin = User.objects.get()
    assert (admin.username, admin.email, admin.is_staff, admin.is_superuser) == (
        "admin",
        "admin@example.com",
        True,
        True,
    )
    assert admin.check_password(password)
    assert len(password) >= 16
    company = Company.objects.get()
    assert (company.name, company.currency, company.created_by_id) == ("Demo Trading Ltd", "USD", admin.pk)
    assert list(Membership.objects.values_list("user_id", "company_id", "role")) == [
        (admin.pk, company.pk, "admin")
    ]
    assert Account.objects.filter(company=company).count() == len(SMALL_BUSINESS)
    assert AuditEvent.objects.filter(object_type="accounts.user", action="create").count() == 1
    assert set(AuditEvent.objects.values_list("request_id", flat=True)) != {""}


def test_second_run_changes_nothing_and_prints_no_password():
    # given
    first = _run()
    password = re.search(r"^  password: (\S+)$", first, re.MULTILINE).group(1)
    counts = (
        User.objects.count(),
        Company.objects.count(),
        Account.objects.count(),
        AuditEvent.objects.count(),
    )

    # when
    second = _run()

    # then
    assert "password:" not in second
    assert password not in second
    assert "already exists" in second
    assert (
        User.objects.count(),
        Company.objects.count(),
        Account.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
    assert User.objects.get(username="admin").check_password(password)
