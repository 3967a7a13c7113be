"""The jobs admin: latest runs and open discrepancies with links to the records and the proposed
draft, a Resolve page (controllers and admins, through the service), export jobs with progress
and download links; the quarantine marker on the ledger's and sales' lists."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.services import membership_add
from accounts.tests.factories import UserFactory
from jobs.models import Discrepancy
from jobs.services import export_execute, export_request, integrity_run_execute, integrity_run_request
from jobs.tests.factories import books, entry_line_of, sql
from ledger.tests.factories import account

pytestmark = pytest.mark.django_db


@pytest.fixture
def damaged_run():
    b = books()
    line = entry_line_of(b.invoice.journal_entry, "4100")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(b.company, "4000").pk, line.pk],
    )
    run = integrity_run_execute(run_id=integrity_run_request(company=b.company, by=None, enqueue=False).pk)
    return b, run


def staff(company, role: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_discrepancy", "view_integrityrun", "view_exportjob"])
    )
    membership_add(company=company, user=user, role=role, by=None)
    return user


def test_runs_and_discrepancies_link_to_the_records_and_the_draft(client_admin, damaged_run):
    b, run = damaged_run
    invoice = run.discrepancies.get(kind="invoice_entry_mismatch")

    runs = client_admin.get(reverse("admin:jobs_integrityrun_changelist"))
    page = client_admin.get(reverse("admin:jobs_integrityrun_change", args=[run.pk])).content.decode()
    listing = client_admin.get(
        reverse("admin:jobs_discrepancy_changelist") + "?status__exact=open"
    ).content.decode()

    assert runs.status_code == 200 and f">{run.pk}<" in runs.content.decode()
    assert reverse("admin:sales_invoice_change", args=[b.invoice.pk]) in page
    assert reverse("admin:ledger_journalentry_change", args=[invoice.proposed_entry_id]) in page
    assert reverse("admin:jobs_discrepancy_resolve", args=[invoice.pk]) in listing
    entries = client_admin.get(reverse("admin:ledger_journalentry_changelist")).content.decode()
    assert "Quarantined" in entries and 'alt="True"' in entries


def test_a_controller_resolves_in_the_admin_and_an_accountant_may_not(client, damaged_run):
    b, run = damaged_run
    discrepancy = run.discrepancies.get(kind="invoice_entry_mismatch")
    url = reverse("admin:jobs_discrepancy_resolve", args=[discrepancy.pk])

    client.force_login(staff(b.company, "accountant"))
    assert client.post(url, {"note": "done"}).status_code == 403
    assert Discrepancy.objects.get(pk=discrepancy.pk).status == "open"

    controller = staff(b.company, "controller")
    client.force_login(controller)
    assert client.get(url).status_code == 200
    empty = client.post(url, {"note": ""})
    assert empty.status_code == 200 and Discrepancy.objects.get(pk=discrepancy.pk).status == "open"
    done = client.post(url, {"note": "Posted the draft."})

    assert done.status_code == 302
    resolved = Discrepancy.objects.get(pk=discrepancy.pk)
    assert (resolved.status, resolved.resolved_by, resolved.resolution_note) == (
        "resolved",
        controller,
        "Posted the draft.",
    )


def test_export_jobs_show_progress_and_download_in_the_admin(client_admin):
    b = books()
    job = export_execute(
        export_id=export_request(company=b.company, by=None, kind="trial_balance", enqueue=False).pk
    )

    listing = client_admin.get(reverse("admin:jobs_exportjob_changelist")).content.decode()
    download = client_admin.get(reverse("admin:jobs_exportjob_download", args=[job.pk]))

    assert '<progress max="100" value="100"></progress>' in listing
    assert reverse("admin:jobs_exportjob_download", args=[job.pk]) in listing
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"code,name,type,debit,credit,balance")


def test_a_member_without_the_role_sees_no_audit_export_in_the_admin(client):
    b = books()
    job = export_execute(
        export_id=export_request(company=b.company, by=None, kind="audit_events", enqueue=False).pk
    )
    client.force_login(staff(b.company, "viewer"))

    assert client.get(reverse("admin:jobs_exportjob_download", args=[job.pk])).status_code == 404
    assert f">{job.pk}<" not in client.get(reverse("admin:jobs_exportjob_changelist")).content.decode()
