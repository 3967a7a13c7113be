"""The jobs app in the accountant's workplace: the Integrity dashboard panel, integrity runs and
discrepancies under Close and exports under Reports for the roles that read them, a quarantined
record's page saying so, and report pages exporting through the real exports API (session and
CSRF, as the page's script calls it)."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import membership_add
from accounts.tests.factories import UserFactory
from jobs.admin import export_create_url
from jobs.admin_display import figure
from jobs.models import Discrepancy, ExportJob, IntegrityRun
from jobs.services import integrity_run_execute, integrity_run_request
from jobs.tests.factories import books, entry_line_of, sql
from ledger.tests.factories import account
from sofinance.models import Quarantine
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


def staff(company, role: str, *, csrf: bool = False):
    user = UserFactory(is_staff=True)
    membership_add(company=company, user=user, role=role, by=None)
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return user, client


def section(page: str, title: str) -> str:
    match = re.search(rf"<caption>{title}</caption>(.*?)</table>", page, re.S)
    return match.group(1) if match else ""


def panel(page: str, key: str) -> str | None:
    match = re.search(rf'<section[^>]*id="panel-{key}".*?</section>', page, re.S)
    return match.group(0) if match else None


@pytest.fixture
def damaged_run():
    """An invoice whose revenue line was moved to another account behind the services' back."""
    b = books()
    line = entry_line_of(b.invoice.journal_entry, "4100")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(b.company, "4000").pk, line.pk],
    )
    run = integrity_run_execute(run_id=integrity_run_request(company=b.company, by=None, enqueue=False).pk)
    return b, run


# --------------------------------------------------------------------------- dashboard


def test_the_integrity_panel_shows_the_latest_run_and_open_discrepancies_with_their_links(damaged_run):
    b, run = damaged_run
    _, accountant = staff(b.company, Role.ACCOUNTANT)
    discrepancy = run.discrepancies.get(kind="invoice_entry_mismatch")

    page = accountant.get(reverse("admin:index")).content.decode()

    shown = panel(page, "integrity")
    assert shown is not None
    assert f"#{run.pk}</a>" in shown and 'id="integrity-status">Done<' in shown
    assert f"{run.discrepancy_count} discrepanc" in shown
    open_count = Discrepancy.objects.filter(company=b.company, status="open").count()
    assert f'id="integrity-open-count">{open_count}<' in shown
    assert "Invoice entry mismatch" in shown and "invoice_entry_mismatch" not in shown
    assert reverse("admin:sales_invoice_change", args=[b.invoice.pk]) in shown
    assert reverse("admin:ledger_journalentry_change", args=[discrepancy.proposed_entry_id]) in shown
    assert reverse("admin:jobs_discrepancy_change", args=[discrepancy.pk]) in shown
    assert run.finished_at.strftime("%Y-%m-") in shown  # ISO dates, as every admin page


def test_the_integrity_panel_before_any_run_and_not_for_a_viewer():
    b = books()
    _, accountant = staff(b.company, Role.ACCOUNTANT)
    _, viewer = staff(b.company, Role.VIEWER)

    mine = panel(accountant.get(reverse("admin:index")).content.decode(), "integrity")
    theirs = viewer.get(reverse("admin:index")).content.decode()

    assert mine is not None and 'id="integrity-none"' in mine and 'id="integrity-open-count">0<' in mine
    assert panel(theirs, "integrity") is None  # a viewer's role does not read integrity runs


def test_an_accountant_starts_a_run_from_the_dashboard_and_an_auditor_may_not():
    b = books()
    _, accountant = staff(b.company, Role.ACCOUNTANT)
    _, auditor = staff(b.company, Role.AUDITOR)
    start = reverse("admin:jobs_integrityrun_start")

    offered = panel(accountant.get(reverse("admin:index")).content.decode(), "integrity")
    not_offered = panel(auditor.get(reverse("admin:index")).content.decode(), "integrity")
    refused = auditor.post(start, {"next": "/admin/"})
    read = auditor.get(start)
    assert IntegrityRun.objects.filter(company=b.company).count() == 0  # refusals wrote nothing
    started = accountant.post(start, {"next": "/admin/"})
    elsewhere = accountant.post(start, {"next": "https://evil.example/"})

    assert 'id="start-integrity-run"' in offered and 'id="start-integrity-run"' not in not_offered
    assert (refused.status_code, read.status_code) == (403, 405)
    assert started.status_code == 302 and started["Location"] == "/admin/"
    assert elsewhere["Location"] == reverse("admin:jobs_integrityrun_changelist")
    runs = IntegrityRun.objects.filter(company=b.company).order_by("id")
    assert [(run.trigger, run.requested_by_id) for run in runs][:1] == [
        ("admin", started.wsgi_request.user.pk)
    ]
    assert runs.count() == 2


def test_a_runs_page_says_what_it_checked_for_people():
    b = books()
    run = integrity_run_execute(run_id=integrity_run_request(company=b.company, by=None, enqueue=False).pk)
    _, accountant = staff(b.company, Role.ACCOUNTANT)

    page = accountant.get(reverse("admin:jobs_integrityrun_change", args=[run.pk])).content.decode()

    assert run.discrepancy_count == 0 and "None found." in page
    assert f"{run.counts['balance_buckets']:,} balance buckets" in page and '"balance_buckets"' not in page


# --------------------------------------------------------------------------- menu and roles


def test_integrity_is_under_close_and_exports_under_reports():
    b = books()
    _, auditor = staff(b.company, Role.AUDITOR)
    _, viewer = staff(b.company, Role.VIEWER)

    mine = auditor.get(reverse("admin:index")).content.decode()
    theirs = viewer.get(reverse("admin:index")).content.decode()

    assert "Integrity runs" in section(mine, "Close") and "Discrepancies" in section(mine, "Close")
    assert "Exports" in section(mine, "Reports")
    assert "Integrity runs" not in theirs and "Exports" in section(theirs, "Reports")
    assert "Periodic tasks" not in mine and "Clocked" not in mine


def test_an_auditor_reads_the_runs_but_starts_none_and_resolves_nothing(damaged_run):
    b, run = damaged_run
    _, auditor = staff(b.company, Role.AUDITOR)
    _, accountant = staff(b.company, Role.ACCOUNTANT)
    discrepancy = run.discrepancies.get(kind="invoice_entry_mismatch")
    runs = reverse("admin:jobs_integrityrun_changelist")

    read = auditor.get(runs).content.decode()
    started = auditor.post(runs, {"action": "run_again", "_selected_action": [run.pk]})
    resolved = auditor.post(reverse("admin:jobs_discrepancy_resolve", args=[discrepancy.pk]), {"note": "x"})

    assert f">{run.pk}<" in read and 'value="run_again"' not in read
    assert 'value="run_again"' in accountant.get(runs).content.decode()
    assert started.status_code == 200 and resolved.status_code == 403
    assert run.__class__.objects.filter(company=b.company).count() == 1
    assert Discrepancy.objects.get(pk=discrepancy.pk).status == "open"


def test_discrepancies_read_with_kinds_and_amounts_for_people(damaged_run):
    b, run = damaged_run
    _, accountant = staff(b.company, Role.ACCOUNTANT)
    discrepancy = run.discrepancies.get(kind="invoice_entry_mismatch")

    listing = accountant.get(reverse("admin:jobs_discrepancy_changelist")).content.decode()
    filtered = accountant.get(
        reverse("admin:jobs_discrepancy_changelist"), {"kind": "invoice_entry_mismatch"}
    )
    run_page = accountant.get(reverse("admin:jobs_integrityrun_change", args=[run.pk])).content.decode()

    assert "invoice_entry_mismatch" not in re.sub(r'href="[^"]*"', "", listing)  # not in cells nor filters
    assert "Invoice entry mismatch" in listing and "Invoice entry mismatch" in run_page
    shown = {
        int(pk) for pk in re.findall(r"/admin/jobs/discrepancy/(\d+)/change/", filtered.content.decode())
    }
    assert shown == {discrepancy.pk}
    assert discrepancy.expected.replace(".", "").lstrip("-").isdigit()  # stored as a plain amount...
    assert figure(discrepancy.expected, b.company) in listing  # ... shown with separators and parentheses


# --------------------------------------------------------------------------- quarantine


def test_a_quarantined_records_page_says_so_and_links_the_discrepancy(damaged_run):
    b, run = damaged_run
    _, accountant = staff(b.company, Role.ACCOUNTANT)
    discrepancy = run.discrepancies.get(kind="invoice_entry_mismatch")

    flagged = accountant.get(reverse("admin:sales_invoice_change", args=[b.invoice.pk])).content.decode()
    entry = accountant.get(
        reverse("admin:ledger_journalentry_change", args=[b.invoice.journal_entry_id])
    ).content.decode()
    clean = accountant.get(reverse("admin:sales_invoice_change", args=[b.paid.pk])).content.decode()

    link = (
        f'<a href="{reverse("admin:jobs_discrepancy_change", args=[discrepancy.pk])}">#{discrepancy.pk}</a>'
    )
    assert "⚠ Quarantined" in flagged and link in flagged
    assert "⚠ Quarantined" in entry  # the document's journal entry is flagged with it
    assert "Quarantined" not in clean


def test_a_quarantined_account_or_customer_page_warns_and_a_refused_page_leaves_no_warning(damaged_run):
    b, _ = damaged_run
    _, accountant = staff(b.company, Role.ACCOUNTANT)
    flags = Quarantine.objects.filter(company_id=b.company.pk, resolved_at__isnull=True)
    flagged_account = flags.filter(object_type="accounts.account").values_list("object_id", flat=True).first()
    clean_account = account(b.company, "6100")
    _, other = staff(books().company, Role.ADMIN)

    warned = accountant.get(reverse("admin:accounts_account_change", args=[flagged_account])).content.decode()
    quiet = accountant.get(reverse("admin:accounts_account_change", args=[clean_account.pk])).content.decode()
    refused = other.get(reverse("admin:sales_invoice_change", args=[b.invoice.pk]))
    after = other.get(reverse("admin:index")).content.decode()

    assert flagged_account is not None and "⚠ Quarantined" in warned and "account" in warned
    assert "Quarantined" not in quiet
    assert refused.status_code in (302, 404)  # another company's invoice does not exist for them
    assert "Quarantined" not in after  # nothing queued for their next page either


# --------------------------------------------------------------------------- exports from report pages


def export_from_page(client, page_url: str, query: dict, kind: str, fmt: str, capture):
    """Start an export as a report page's button does: its create URL, CSRF token and parameters
    read off the page, posted to the real exports API (tasks run on commit). Returns the page's
    create URL, the parameters and the answer."""
    page = client.get(page_url, query).content.decode()
    create_url = re.search(r'data-create-url="([^"]+)"', page).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    params = json.loads(
        re.search(r'<script id="export-params" type="application/json">(.*?)</script>', page).group(1)
    )
    with capture(execute=True):
        created = client.post(
            create_url,
            {"kind": kind, "format": fmt, **params},
            content_type="application/json",
            headers={"X-CSRFToken": token, "Idempotency-Key": str(uuid.uuid4())},
        )
    return create_url, params, created


def test_the_general_ledger_page_exports_its_account_through_the_exports_api(
    django_capture_on_commit_callbacks,
):
    # the page sent the account's id as a string, which the API reads as a code: "Account '11' does
    # not exist in this company", every time
    b = books()
    _, client = staff(b.company, Role.ACCOUNTANT, csrf=True)
    bank = b.company.accounts.get(code="1010")

    create_url, params, created = export_from_page(
        client,
        reverse("admin:ledger_reports_general_ledger"),
        {"account": bank.pk, "date_from": "2026-01-01", "date_to": "2026-01-31"},
        "general_ledger",
        "csv",
        django_capture_on_commit_callbacks,
    )

    assert params == {"account": "1010", "from": "2026-01-01", "to": "2026-01-31"}
    assert created.status_code == 202, created.json()
    data = client.get(f"{create_url}/{created.json()['data']['id']}").json()["data"]
    assert (data["kind"], data["status"]) == ("general_ledger", "done")


def test_a_report_page_exports_through_the_real_exports_api(django_capture_on_commit_callbacks):
    b = books()
    _, client = staff(b.company, Role.ACCOUNTANT, csrf=True)

    create_url, _params, created = export_from_page(
        client,
        reverse("admin:ledger_reports_trial_balance"),
        {"as_of": "2026-01-31"},
        "trial_balance",
        "xlsx",
        django_capture_on_commit_callbacks,
    )
    followed = client.get(f"{create_url}/{created.json()['data']['id']}")
    refused = client.post(create_url, {"kind": "trial_balance"}, content_type="application/json")

    assert create_url == export_create_url(b.company.pk) == f"/api/v1/companies/{b.company.pk}/exports"
    assert created.status_code == 202
    data = followed.json()["data"]
    assert (data["kind"], data["format"], data["as_of"], data["status"]) == (
        "trial_balance",
        "xlsx",
        "2026-01-31",
        "done",
    )
    assert data["download_url"].endswith(f"/exports/{data['id']}/download")
    assert refused.status_code == 403  # no CSRF token: refused, nothing queued
    assert ExportJob.objects.filter(company=b.company).count() == 1


def test_beancount_is_not_offered_on_report_pages():
    from sofinance import report_pages

    starter = report_pages.registered_export_starter()

    assert starter is not None and "beancount" not in starter.kinds and starter.formats == ("csv", "xlsx")
    assert report_pages.export_offer(company_id=1, kind="beancount", params={}) is None
