"""The admin as a workplace: one number and date format, the company context (switching,
remembering, scoping), roles giving admin permissions, the grouped menu, dashboard panels,
report pages' comparatives, drill-down documents and export hook, and the audit trail's scope."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserPreference
from accounts.services import membership_add, membership_remove
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from ledger import reports
from ledger.models import JournalEntry
from ledger.tests.factories import company_with_chart, post_entry
from sales.tests.factories import issued, sales_books
from sofinance import dashboard, report_pages
from sofinance.company_context import SESSION_KEY
from sofinance.display import display_amount, display_side
from sofinance.permissions import Action, Role

pytestmark = pytest.mark.django_db

INDEX = "admin:index"
SWITCH = "admin:switch_company"
ENTRIES = "admin:ledger_journalentry_changelist"


def staff(*memberships, superuser=False, username=None):
    user = UserFactory(is_staff=True, is_superuser=superuser, **({"username": username} if username else {}))
    for company, role in memberships:
        membership_add(company=company, user=user, role=role, by=None)
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def two():
    alpha = company_with_chart(name="Alpha Ltd")
    beta = company_with_chart(name="Beta Ltd")
    post_entry(
        alpha, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"), description="alpha sale"
    )
    post_entry(beta, "2026-01-06", ("1010", "7.00", "D"), ("4000", "7.00", "C"), description="beta sale")
    return alpha, beta


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("1250", "USD", "1,250.00"),
        ("-1250.5", "USD", "(1,250.50)"),
        ("0", "USD", "0.00"),
        ("1234567", "JPY", "1,234,567"),
        ("-0.125", "KWD", "(0.125)"),
    ],
)
def test_amounts_read_with_separators_and_negatives_in_parentheses(amount, currency, shown):
    assert display_amount(Decimal(amount), currency) == shown


def test_balances_read_as_debit_or_credit():
    assert [display_side(Decimal(v), "USD") for v in ("1250", "-300", "0")] == [
        "1,250.00 Dr",
        "300.00 Cr",
        "0.00",
    ]
    assert display_amount(Decimal("0"), "USD", blank_zero=True) == ""


def test_dates_read_as_iso_everywhere(two):
    alpha, _ = two
    _, client = staff((alpha, Role.ADMIN))
    page = client.get(reverse(ENTRIES)).content.decode()
    assert "2026-01-05" in page
    assert "Jan. 5, 2026" not in page and "01/05/2026" not in page


# --------------------------------------------------------------------------- company context


def test_a_user_starts_in_their_first_company_and_sees_its_rows_only(two):
    alpha, beta = two
    _, client = staff((alpha, Role.ACCOUNTANT), (beta, Role.ACCOUNTANT))

    page = client.get(reverse(ENTRIES)).content.decode()

    assert "alpha sale" in page and "beta sale" not in page
    assert client.session[SESSION_KEY] == alpha.pk


def test_switching_company_changes_every_list_and_is_remembered(two):
    # given
    alpha, beta = two
    user, client = staff((alpha, Role.ACCOUNTANT), (beta, Role.VIEWER))

    # when
    response = client.post(reverse(SWITCH), {"company": beta.pk, "next": reverse(ENTRIES) + "?q=x"})

    # then: back to the page (without the previous company's filters), in Beta, as a viewer
    assert response.status_code == 302 and response["Location"] == reverse(ENTRIES)
    page = client.get(reverse(ENTRIES)).content.decode()
    assert "beta sale" in page and "alpha sale" not in page
    assert 'id="current-role">Viewer<' in page
    assert "addlink" not in page  # a viewer adds nothing
    assert UserPreference.objects.get(user=user).company == beta
    event = AuditEvent.objects.get(object_type="accounts.userpreference")
    assert event.changes == {"company": {"before": None, "after": beta.pk}}
    # a new session opens in the remembered company
    other_session = Client()
    other_session.force_login(user)
    assert "beta sale" in other_session.get(reverse(ENTRIES)).content.decode()


def test_switching_to_a_company_of_someone_else_is_a_404_and_writes_nothing(two):
    alpha, beta = two
    user, client = staff((alpha, Role.ADMIN))
    events = AuditEvent.objects.count()

    response = client.post(reverse(SWITCH), {"company": beta.pk})

    assert response.status_code == 404
    assert not UserPreference.objects.filter(user=user).exists()
    assert AuditEvent.objects.count() == events
    assert client.session[SESSION_KEY] == alpha.pk if SESSION_KEY in client.session else True


def test_a_remembered_company_no_longer_theirs_is_not_used(two):
    alpha, beta = two
    user, client = staff((alpha, Role.ADMIN), (beta, Role.ADMIN))
    client.post(reverse(SWITCH), {"company": beta.pk})
    membership_remove(membership=beta.memberships.get(user=user), by=None)

    fresh = Client()
    fresh.force_login(user)
    page = fresh.get(reverse(ENTRIES)).content.decode()

    assert "alpha sale" in page and "beta sale" not in page


def test_a_row_of_another_of_their_companies_offers_to_switch(two):
    alpha, beta = two
    _, client = staff((alpha, Role.ADMIN), (beta, Role.ADMIN))
    theirs = JournalEntry.objects.get(company=beta)
    url = reverse("admin:ledger_journalentry_change", args=[theirs.pk])

    page = client.get(url)

    assert page.status_code == 200
    content = page.content.decode()
    assert "This journal entry belongs to Beta Ltd" in content
    assert f'name="next" value="{url}"' in content
    assert "beta sale" not in content  # nothing of it is shown before the switch


def test_a_row_of_a_company_not_theirs_does_not_exist(two):
    alpha, beta = two
    _, client = staff((alpha, Role.ADMIN))
    theirs = JournalEntry.objects.get(company=beta)

    response = client.get(reverse("admin:ledger_journalentry_change", args=[theirs.pk]))

    assert response.status_code == 302  # the admin's "does not exist": nothing leaks
    assert "Beta" not in client.get(response["Location"]).content.decode()


def test_forms_offer_the_current_companys_choices_only(two):
    alpha, beta = two
    _, client = staff((alpha, Role.ADMIN), (beta, Role.ADMIN))

    page = client.get(reverse("admin:sales_customer_add")).content.decode()

    options = re.findall(r'<select name="company"[^>]*id="id_company"[^>]*>(.*?)</select>', page, re.S)[0]
    assert f'<option value="{alpha.pk}" selected>Alpha Ltd</option>' in options
    assert "Beta Ltd" not in options


# --------------------------------------------------------------------------- roles and menu


def test_a_member_needs_no_permissions_assigned_by_hand(two):
    alpha, _ = two
    viewer, _ = staff((alpha, Role.VIEWER))
    clerk, _ = staff((alpha, Role.CLERK))
    accountant, _ = staff((alpha, Role.ACCOUNTANT))

    assert viewer.has_perm("ledger.view_journalentry") and not viewer.has_perm("ledger.add_journalentry")
    assert clerk.has_perm("ledger.add_journalentry") and not clerk.has_perm("sales.add_payment")
    assert accountant.has_perm("sales.add_payment") and not accountant.has_perm("audit.view_auditevent")
    assert not viewer.has_perm("django_celery_beat.view_periodictask")


def test_the_menu_is_grouped_and_technical_models_are_for_superusers(two):
    alpha, _ = two
    _, member = staff((alpha, Role.ADMIN))
    _, root = staff(superuser=True)

    mine = member.get(reverse(INDEX)).content.decode()
    theirs = root.get(reverse(INDEX)).content.decode()

    captions = re.findall(r"<caption>([^<]+)</caption>", mine)
    assert captions == ["Ledger", "Sales", "Banking", "Reports", "Close", "Settings"]
    assert "Solar events" not in mine and "Audit chain heads" not in mine
    assert "System (superusers)" in theirs and "Solar events" in theirs


# --------------------------------------------------------------------------- dashboard


def test_the_dashboard_shows_the_current_companys_figures(two):
    alpha, _ = two
    _, client = staff((alpha, Role.VIEWER))

    page = client.get(reverse(INDEX)).content.decode()

    assert re.search(r'id="cash-total">100.00<', page)
    chart = json.loads(
        re.search(r'<script id="chart-results" type="application/json">(.*?)</script>', page).group(1)
    )
    assert chart["labels"][-1] == f"{timezone.localdate():%b %Y}"
    assert len(chart["labels"]) == 12 and chart["series"][0]["label"] == "Revenue"


def test_a_panel_shows_only_to_roles_allowed_its_action(two):
    alpha, _ = two
    panel = dashboard.Panel(
        key="probe",
        title="Probe panel",
        template="admin/sofinance/switch_company.html",
        order=99,
        action=Action.AUDIT_VIEW,
        context=lambda request, company: None,
    )
    dashboard.register(panel)
    try:
        _, viewer = staff((alpha, Role.VIEWER))
        _, auditor = staff((alpha, Role.AUDITOR))
        seen = []

        def context(request, company):
            seen.append(company.pk)
            return {}

        dashboard.register(
            dashboard.Panel(
                **{**panel.__dict__, "context": context, "template": "admin/ledger/dashboard/close.html"}
            )
        )
        viewer.get(reverse(INDEX))
        assert seen == []
        assert "Probe panel" in auditor.get(reverse(INDEX)).content.decode()
        assert seen == [alpha.pk]
    finally:
        dashboard._panels.pop("probe", None)


def test_monthly_results_and_cash_position_are_exact(two):
    alpha, _ = two
    post_entry(alpha, "2026-02-10", ("6100", "30.00", "D"), ("1010", "30.00", "C"))

    months = reports.monthly_results(
        company=alpha, first_month=datetime.date(2026, 1, 1), last_month=datetime.date(2026, 3, 1)
    )
    cash = reports.cash_position(company=alpha, as_of=datetime.date(2026, 2, 28))

    assert [(m.month.month, m.income, m.expenses) for m in months] == [
        (1, Decimal("100.00"), Decimal("0")),
        (2, Decimal("0"), Decimal("30.00")),
        (3, Decimal("0"), Decimal("0")),
    ]
    assert [(row.account.code, row.balance) for row in cash.accounts] == [
        ("1000", Decimal("0")),
        ("1010", Decimal("70.00")),
        ("1020", Decimal("0")),
    ]
    assert cash.total == Decimal("70.00")


# --------------------------------------------------------------------------- reports


def test_the_income_statement_compares_with_the_previous_year(two):
    alpha, _ = two
    post_entry(alpha, "2025-01-20", ("1010", "40.00", "D"), ("4000", "40.00", "C"))
    _, client = staff((alpha, Role.VIEWER))

    page = client.get(
        reverse("admin:ledger_reports_income_statement"),
        {"date_from": "2026-01-01", "date_to": "2026-01-31", "compare": "previous_year"},
    ).content.decode()

    row = re.search(r'<tr data-account="4000".*?</tr>', page, re.S).group(0)
    assert re.findall(r'<td class="amount[^"]*">([^<]*)</td>', row) == ["100.00", "40.00"]
    assert 'id="compared-net-income">40.00<' in page
    assert "2025-01-01 – 2025-01-31" in page


def test_a_report_link_naming_another_of_their_companies_offers_to_switch(two):
    alpha, beta = two
    _, client = staff((alpha, Role.ADMIN), (beta, Role.ADMIN))

    page = client.get(reverse("admin:ledger_reports_trial_balance"), {"company": beta.pk}).content.decode()

    assert "This report belongs to Beta Ltd" in page
    assert 'id="trial-balance"' not in page


def test_a_general_ledger_line_opens_the_invoice_that_posted_it():
    books = sales_books()
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    _, client = staff((books.company, Role.VIEWER))
    receivables = books.company.accounts.get(code="1100")

    page = client.get(
        reverse("admin:ledger_reports_general_ledger"),
        {"account": receivables.pk, "date_from": "2026-03-01", "date_to": "2026-03-31"},
    ).content.decode()

    url = reverse("admin:sales_invoice_change", args=[invoice.pk])
    assert f'<a href="{url}" class="document-link">Invoice {invoice.number}</a>' in page


def test_report_pages_offer_export_jobs_once_an_exporter_is_registered(two):
    alpha, _ = two
    _, client = staff((alpha, Role.VIEWER))
    url = reverse("admin:ledger_reports_trial_balance")
    registered = report_pages.registered_export_starter()  # the jobs app's (jobs/admin.py)
    report_pages.unregister_export_starter()
    try:
        without = client.get(url, {"as_of": "2026-01-31"}).content.decode()
    finally:
        report_pages.register_export_starter(registered)

    page = client.get(url, {"as_of": "2026-01-31"}).content.decode()

    assert 'id="export-form"' not in without
    assert f'data-create-url="/api/v1/companies/{alpha.pk}/exports" data-kind="trial_balance"' in page
    assert 'id="export-csv"' in page and 'id="export-xlsx"' in page
    # beside the page's own "Download CSV", the export buttons say what they are for
    assert "For a large report: a file made in the background, kept under" in page
    assert f'<a href="{reverse("admin:jobs_exportjob_changelist")}">Exports</a>' in page
    params = re.search(r'<script id="export-params" type="application/json">(.*?)</script>', page).group(1)
    assert json.loads(params) == {"as_of": "2026-01-31"}


# --------------------------------------------------------------------------- audit trail


def test_the_audit_trail_shows_the_current_companys_events_to_roles_that_read_it(two):
    alpha, _ = two
    _, auditor = staff((alpha, Role.AUDITOR))
    _, viewer = staff((alpha, Role.VIEWER))

    page = auditor.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    refused = viewer.get(reverse("admin:audit_auditevent_changelist"))

    shown = {int(pk) for pk in re.findall(r"/admin/audit/auditevent/(\d+)/change/", page)}
    assert shown == set(AuditEvent.objects.filter(company_id=alpha.pk).values_list("pk", flat=True))
    assert "journal entry" in page and "actor repr" not in page.lower()
    assert refused.status_code == 403
