"""The jobs API: integrity runs (202, then the run with its discrepancies), resolving discrepancies,
exports (202, progress, download), roles and tenancy, refusals that write nothing."""

from __future__ import annotations

import csv
import datetime
import io
import uuid

import pytest
from openpyxl import load_workbook

from audit.models import AuditEvent
from jobs.models import Discrepancy, ExportJob, IntegrityRun
from jobs.tests.factories import books, entry_line_of, quarantined, sql
from ledger.services import journal_entry_create
from ledger.tests.factories import account
from sofinance.models import Quarantine
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


def base(company) -> str:
    return f"/api/v1/companies/{company.pk}"


@pytest.fixture
def damaged():
    """Books whose invoice entry credits the wrong revenue account."""
    b = books()
    line = entry_line_of(b.invoice.journal_entry, "4100")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(b.company, "4000").pk, line.pk],
    )
    return b


def test_starting_a_run_answers_202_and_the_run_then_lists_its_discrepancies(
    damaged, make_member, django_capture_on_commit_callbacks
):
    # given
    user, client = make_member(damaged.company, Role.ACCOUNTANT)

    # when: the task runs when the request's transaction commits (eagerly in the test settings)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{base(damaged.company)}/integrity-runs", format="json")

    # then
    assert response.status_code == 202, response.json()
    data = response.json()["data"]
    assert (data["status"], data["scope"], data["trigger"], data["requested_by"]) == (
        "queued",
        "company",
        "api",
        user.username,
    )
    detail = client.get(f"{base(damaged.company)}/integrity-runs/{data['id']}").json()["data"]
    assert detail["status"] == "done" and detail["discrepancy_count"] == 6
    invoice = next(d for d in detail["discrepancies"] if d["kind"] == "invoice_entry_mismatch")
    assert (invoice["object_type"], invoice["object_id"], invoice["status"]) == (
        "sales.invoice",
        damaged.invoice.pk,
        "open",
    )
    assert (invoice["expected"], invoice["found"], invoice["difference"]) == ("-150.00", "0.00", "-150.00")
    assert isinstance(invoice["proposed_entry"], int)
    draft = client.get(f"{base(damaged.company)}/journal-entries/{invoice['proposed_entry']}").json()["data"]
    assert draft["status"] == "draft" and draft["reference"] == f"DISC-{invoice['id']}"
    listed = client.get(f"{base(damaged.company)}/integrity-runs").json()
    assert [r["id"] for r in listed["data"]] == [data["id"]]


def test_a_retried_start_with_the_same_idempotency_key_queues_one_run(damaged, make_member):
    _, client = make_member(damaged.company, Role.CONTROLLER)
    key = str(uuid.uuid4())

    first = client.post(f"{base(damaged.company)}/integrity-runs", format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(f"{base(damaged.company)}/integrity-runs", format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    assert IntegrityRun.objects.filter(company=damaged.company).count() == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CLERK, Role.AUDITOR])
def test_roles_that_may_not_start_a_run_get_403_and_nothing_is_queued(damaged, make_member, role):
    _, client = make_member(damaged.company, role)
    events = AuditEvent.objects.count()

    response = client.post(f"{base(damaged.company)}/integrity-runs", format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert IntegrityRun.objects.count() == 0 and AuditEvent.objects.count() == events


def test_another_companys_runs_and_discrepancies_are_404(damaged, make_member):
    from jobs.services import integrity_run_execute, integrity_run_request

    run = integrity_run_execute(
        run_id=integrity_run_request(company=damaged.company, by=None, enqueue=False).pk
    )
    discrepancy = run.discrepancies.first()
    other = books().company
    _, client = make_member(other, Role.ADMIN)

    assert client.get(f"{base(other)}/integrity-runs/{run.pk}").status_code == 404
    response = client.post(
        f"{base(other)}/discrepancies/{discrepancy.pk}/resolve", {"note": "x"}, format="json"
    )
    assert response.status_code == 404
    assert Discrepancy.objects.get(pk=discrepancy.pk).status == "open"
    assert client.get(f"{base(damaged.company)}/integrity-runs").status_code == 404


def _run(company):
    from jobs.services import integrity_run_execute, integrity_run_request

    return integrity_run_execute(run_id=integrity_run_request(company=company, by=None, enqueue=False).pk)


def test_discrepancies_are_filtered_by_kind_and_an_unknown_kind_is_refused(damaged, make_member):
    # given: a run that found the damaged invoice's entry, and what follows from it
    run = _run(damaged.company)
    _, client = make_member(damaged.company, Role.ACCOUNTANT)
    kinds = {d.kind for d in run.discrepancies.all()}

    # when
    invoices = client.get(f"{base(damaged.company)}/discrepancies", {"kind": "invoice_entry_mismatch"})
    unknown = client.get(f"{base(damaged.company)}/discrepancies", {"kind": "invoice_mismatch"})

    # then: only that kind; a kind no run records is a 400, not an empty list that looks clean
    assert "invoice_entry_mismatch" in kinds and len(kinds) > 1
    assert {d["kind"] for d in invoices.json()["data"]} == {"invoice_entry_mismatch"}
    assert unknown.status_code == 400
    assert (
        unknown.json()["error"]["code"] == "validation_error" and "kind" in unknown.json()["error"]["details"]
    )


def test_a_controller_resolves_a_discrepancy_with_a_note_which_lifts_its_quarantine(damaged, make_member):
    # given
    run = _run(damaged.company)
    invoice = run.discrepancies.get(kind="invoice_entry_mismatch")
    user, client = make_member(damaged.company, Role.CONTROLLER)
    assert ("sales.invoice", damaged.invoice.pk) in quarantined(damaged.company.pk)

    # when
    response = client.post(
        f"{base(damaged.company)}/discrepancies/{invoice.pk}/resolve",
        {"note": "Posted the proposed draft after checking the invoice."},
        format="json",
    )

    # then
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["status"], data["resolved_by"], data["resolution_note"]) == (
        "resolved",
        user.username,
        "Posted the proposed draft after checking the invoice.",
    )
    assert ("sales.invoice", damaged.invoice.pk) not in quarantined(damaged.company.pk)
    assert Quarantine.objects.filter(discrepancy_id=invoice.pk, resolved_at__isnull=False).count() == 2
    event = AuditEvent.objects.filter(action="resolve").get()
    assert (event.actor_id, event.object_id, event.metadata["note"]) == (
        user.pk,
        str(invoice.pk),
        "Posted the proposed draft after checking the invoice.",
    )
    # resolving it again is a conflict that changes nothing
    again = client.post(
        f"{base(damaged.company)}/discrepancies/{invoice.pk}/resolve", {"note": "x"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["error"]["details"]["reason"] == "already_resolved"
    assert AuditEvent.objects.filter(action="resolve").count() == 1
    # open discrepancies are listed by status
    listed = client.get(f"{base(damaged.company)}/discrepancies?status=open").json()["data"]
    assert invoice.pk not in [d["id"] for d in listed] and len(listed) == 5


@pytest.mark.parametrize(
    ("role", "body", "status", "code"),
    [
        (Role.ACCOUNTANT, {"note": "fine"}, 403, "permission_denied"),
        (Role.CONTROLLER, {"note": "   "}, 400, "validation_error"),
        (Role.CONTROLLER, {}, 400, "validation_error"),
        (Role.CONTROLLER, {"note": 5}, 400, "validation_error"),
    ],
)
def test_a_refused_resolution_changes_nothing(damaged, make_member, role, body, status, code):
    run = _run(damaged.company)
    discrepancy = run.discrepancies.first()
    _, client = make_member(damaged.company, role)
    flags = quarantined(damaged.company.pk)
    events = AuditEvent.objects.count()

    response = client.post(
        f"{base(damaged.company)}/discrepancies/{discrepancy.pk}/resolve", body, format="json"
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert Discrepancy.objects.get(pk=discrepancy.pk).status == "open"
    assert quarantined(damaged.company.pk) == flags and AuditEvent.objects.count() == events


# --------------------------------------------------------------------------- exports


def _export(client, company, body, capture):
    with capture(execute=True):
        response = client.post(f"{base(company)}/exports", body, format="json")
    assert response.status_code == 202, response.json()
    job = response.json()["data"]
    return client.get(f"{base(company)}/exports/{job['id']}").json()["data"], response.json()["data"]


def _download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def test_a_trial_balance_export_is_queued_then_downloaded_as_the_reports_csv(
    make_member, django_capture_on_commit_callbacks
):
    b = books()
    _, client = make_member(b.company, Role.VIEWER)

    done, queued = _export(
        client,
        b.company,
        {"kind": "trial_balance", "as_of": "2026-01-31"},
        django_capture_on_commit_callbacks,
    )

    assert (queued["status"], queued["progress"], queued["download_url"], queued["as_of"]) == (
        "queued",
        0,
        None,
        "2026-01-31",
    )
    assert (done["status"], done["progress"], done["format"]) == ("done", 100, "csv")
    assert done["download_url"].endswith(f"/api/v1/companies/{b.company.pk}/exports/{done['id']}/download")
    content = _download(client, done["download_url"]).decode()
    report = client.get(
        f"{base(b.company)}/reports/trial-balance?as_of=2026-01-31&format=csv"
    ).content.decode()
    assert content == report
    assert done["row_count"] == len(content.strip().splitlines()) - 1
    assert done["file_size"] == len(content.encode())


def test_a_journal_lines_export_as_xlsx_holds_every_posted_line_in_book_order(
    make_member, django_capture_on_commit_callbacks
):
    b = books()
    _, client = make_member(b.company, Role.ACCOUNTANT)

    done, _ = _export(
        client,
        b.company,
        {"kind": "journal_lines", "format": "xlsx", "from": "2026-01-15", "to": "2026-01-15"},
        django_capture_on_commit_callbacks,
    )

    sheet = load_workbook(io.BytesIO(_download(client, done["download_url"]))).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ["date", "number", "line", "account_code"]
    day = datetime.datetime(2026, 1, 15)  # a date cell (openpyxl reads dates as datetimes)
    assert [(r[0], r[1], r[3], str(r[8]), str(r[9]), str(r[13])) for r in rows[1:]] == [
        (day, b.manual.number, "6100", "500", "0", "500"),
        (day, b.manual.number, "1000", "0", "500", "-500"),
    ]
    assert done["row_count"] == 2
    # shown as the screen shows them: days as days, amounts grouped with their decimal places
    first = next(sheet.iter_rows(min_row=2, max_row=2))
    assert (first[0].is_date, first[0].number_format) == (True, "yyyy-mm-dd")
    assert [first[i].number_format for i in (8, 9, 11, 13)] == ["#,##0.00"] * 4
    assert first[12].number_format == "#,##0"  # the rate 1
    # a header that reads as one, kept in view, over columns wide enough for amounts and days
    header = next(sheet.iter_rows(min_row=1, max_row=1))
    assert all(cell.font.bold for cell in header) and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 12 and sheet.column_dimensions["I"].width >= 16


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_writes_formula_like_text_as_text(make_member, django_capture_on_commit_callbacks, fmt):
    # given a posted entry whose description and reference a spreadsheet would run as formulas
    b = books()
    _, client = make_member(b.company, Role.ACCOUNTANT)
    hostile = '=HYPERLINK("http://evil.example","x")'
    journal_entry_create(
        company=b.company,
        date=datetime.date(2026, 2, 3),
        lines=[{"account": "6100", "debit": "12.50"}, {"account": "1000", "credit": "12.50"}],
        description=hostile,
        reference="@SUM(A1)",
        by=None,
        post=True,
    )

    # when the day's journal lines are exported
    done, _ = _export(
        client,
        b.company,
        {"kind": "journal_lines", "format": fmt, "from": "2026-02-03", "to": "2026-02-03"},
        django_capture_on_commit_callbacks,
    )
    content = _download(client, done["download_url"])

    # then the text is text, and the amounts are still numbers
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode())))
        cells = [cell for row in rows[1:] for cell in row]
        assert "'" + hostile in cells and "'@SUM(A1)" in cells and hostile not in cells
        assert "-12.50" in cells
    else:
        sheet = load_workbook(io.BytesIO(content)).active
        cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
        texts = [(cell.value, cell.data_type) for cell in cells if cell.value in (hostile, "@SUM(A1)")]
        assert texts and all(kind == "s" for _, kind in texts)  # strings, not formulas
        assert not any(cell.data_type == "f" for cell in cells)


def test_an_invoices_export_lists_issued_invoices(make_member, django_capture_on_commit_callbacks):
    b = books()
    _, client = make_member(b.company, Role.CLERK)

    done, _ = _export(client, b.company, {"kind": "invoices"}, django_capture_on_commit_callbacks)

    rows = list(csv.reader(io.StringIO(_download(client, done["download_url"]).decode())))
    assert [(r[0], r[5], r[10]) for r in rows[1:]] == [
        (b.invoice.number, "partially_paid", "180.00"),
        (b.paid.number, "paid", "50.00"),
        (b.void.number, "void", "30.00"),
        (b.euro.number, "paid", "200.00"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"kind": "ledger"}, 400, "validation_error", "kind"),
        ({"kind": "beancount", "format": "csv"}, 400, "validation_error", "format"),
        ({"kind": "trial_balance", "format": "beancount"}, 400, "validation_error", "format"),
        ({"kind": "trial_balance", "from": "2026-01-01"}, 400, "validation_error", "from"),
        ({"kind": "income_statement", "from": "2026-01-01"}, 400, "validation_error", "to"),
        (
            {"kind": "income_statement", "from": "2026-02-01", "to": "2026-01-01"},
            400,
            "validation_error",
            "to",
        ),
        ({"kind": "trial_balance", "as_of": "31/01/2026"}, 400, "validation_error", "as_of"),
        ({"kind": "general_ledger"}, 400, "validation_error", "account"),
        ({"kind": "general_ledger", "account": "9999"}, 422, "invalid_account", "account"),
        ({"kind": "journal_lines", "account": 2**70}, 422, "invalid_account", "account"),
    ],
)
def test_a_refused_export_writes_nothing(make_member, body, status, code, field):
    b = books()
    _, client = make_member(b.company, Role.ADMIN)
    events = AuditEvent.objects.count()

    response = client.post(f"{base(b.company)}/exports", body, format="json")

    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert field in response.json()["error"]["details"]
    assert ExportJob.objects.count() == 0 and AuditEvent.objects.count() == events


def test_a_viewer_may_not_export_audit_events_nor_see_such_exports(
    make_member, django_capture_on_commit_callbacks
):
    b = books()
    _, auditor = make_member(b.company, Role.AUDITOR)
    _, viewer = make_member(b.company, Role.VIEWER)
    done, _ = _export(auditor, b.company, {"kind": "audit_events"}, django_capture_on_commit_callbacks)
    # every event of the company but the one recording the finished export itself
    assert done["status"] == "done"
    assert done["row_count"] == AuditEvent.objects.filter(company_id=b.company.pk).count() - 1

    refused = viewer.post(f"{base(b.company)}/exports", {"kind": "audit_events"}, format="json")

    assert refused.status_code == 403
    assert ExportJob.objects.count() == 1
    assert viewer.get(f"{base(b.company)}/exports/{done['id']}").status_code == 404
    assert viewer.get(f"{base(b.company)}/exports/{done['id']}/download").status_code == 404
    assert viewer.get(f"{base(b.company)}/exports").json()["data"] == []


def test_downloading_before_the_file_exists_or_after_it_expired_is_a_conflict(
    make_member, django_capture_on_commit_callbacks
):
    from django.core.files.storage import storages

    from jobs.services import exports_purge_expired

    b = books()
    _, client = make_member(b.company, Role.ADMIN)
    queued = client.post(f"{base(b.company)}/exports", {"kind": "ar_aging"}, format="json").json()["data"]
    early = client.get(f"{base(b.company)}/exports/{queued['id']}/download")
    assert early.status_code == 409 and early.json()["error"]["details"]["reason"] == "export_not_ready"

    done, _ = _export(client, b.company, {"kind": "ar_aging"}, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(pk=done["id"])
    assert storages["default"].exists(job.file_name)
    assert exports_purge_expired(now=job.expires_at) == 0  # not yet past it
    assert exports_purge_expired(now=job.expires_at + __import__("datetime").timedelta(seconds=1)) == 1

    job.refresh_from_db()
    assert job.file_deleted_at is not None and not storages["default"].exists(job.file_name)
    late = client.get(f"{base(b.company)}/exports/{job.pk}/download")
    assert late.status_code == 409 and late.json()["error"]["details"]["reason"] == "export_expired"
    assert client.get(f"{base(b.company)}/exports/{job.pk}").json()["data"]["download_url"] is None
    assert AuditEvent.objects.filter(action="purge", object_id=str(job.pk)).count() == 1


def test_downloading_an_export_whose_file_is_gone_from_storage_is_expired_not_an_error(
    make_member, django_capture_on_commit_callbacks
):
    from django.core.files.storage import storages

    b = books()
    _, client = make_member(b.company, Role.ADMIN)
    done, _ = _export(client, b.company, {"kind": "ar_aging"}, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(pk=done["id"])
    storages["default"].delete(job.file_name)  # gone behind the job's back (the row still says it is there)

    late = client.get(f"{base(b.company)}/exports/{job.pk}/download")

    assert late.status_code == 409 and late.json()["error"]["details"]["reason"] == "export_expired"


# --------------------------------------------------------------------------- quarantine in the other apps' API


def test_quarantined_records_say_so_in_their_api_until_resolved(damaged, make_member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run = _run(damaged.company)
    _, client = make_member(damaged.company, Role.CONTROLLER)
    company = base(damaged.company)
    entry_id = damaged.invoice.journal_entry_id

    assert client.get(f"{company}/invoices/{damaged.invoice.pk}").json()["data"]["quarantined"] is True
    assert client.get(f"{company}/invoices/{damaged.paid.pk}").json()["data"]["quarantined"] is False
    assert client.get(f"{company}/journal-entries/{entry_id}").json()["data"]["quarantined"] is True
    assert client.get(f"{company}/payments/{damaged.payment.pk}").json()["data"]["quarantined"] is False
    assert (
        client.get(f"{company}/credit-notes/{damaged.credit_note.pk}").json()["data"]["quarantined"] is False
    )
    # a page of entries reads the flags in its own query, not one per row
    with CaptureQueriesContext(connection) as queries:
        listed = client.get(f"{company}/journal-entries?page_size=50").json()["data"]
    assert {e["id"]: e["quarantined"] for e in listed if e["quarantined"]} == {entry_id: True}
    assert len(listed) > 10
    assert sum("platform_quarantine" in q["sql"] for q in queries.captured_queries) == 1
    invoices = client.get(f"{company}/invoices").json()["data"]
    assert [i["id"] for i in invoices if i["quarantined"]] == [damaged.invoice.pk]

    discrepancy = run.discrepancies.get(kind="invoice_entry_mismatch")
    client.post(f"{company}/discrepancies/{discrepancy.pk}/resolve", {"note": "Corrected."}, format="json")

    assert client.get(f"{company}/invoices/{damaged.invoice.pk}").json()["data"]["quarantined"] is False
    assert client.get(f"{company}/journal-entries/{entry_id}").json()["data"]["quarantined"] is False


def test_a_refused_exports_message_names_its_kind_in_words(make_member):
    b = books()
    _, client = make_member(b.company, Role.ADMIN)

    missing = client.post(f"{base(b.company)}/exports", {"kind": "income_statement"}, format="json").json()
    extra = client.post(
        f"{base(b.company)}/exports", {"kind": "audit_events", "as_of": "2026-01-31"}, format="json"
    ).json()

    assert missing["error"]["message"] == "The income_statement export needs from, to."
    assert extra["error"]["message"].startswith("The audit_events export takes ")
    assert extra["error"]["details"]["as_of"] == ["Not a parameter of the audit_events export."]
