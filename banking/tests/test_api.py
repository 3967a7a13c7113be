"""The banking API: upload (201 with the statement, 202 with the job), lines and their match
state, suggestions, match/unmatch/create-entry/record-payment, the reconciliation report,
reconcile/reopen, journal imports, roles, tenancy and idempotency."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from banking.models import BankStatement, BankStatementLine, ImportJob
from banking.tests.factories import (
    IBAN,
    bank_books,
    bank_side,
    banking_rows,
    fixture,
    line,
    march_books,
    march_reconciled,
)
from ledger.models import JournalEntry
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    return bank_books()


@pytest.fixture
def client_for(make_member):
    def make(bank, role=Role.ACCOUNTANT):
        return make_member(bank.company, role)[1]

    return make


def base(bank) -> str:
    return f"/api/v1/companies/{bank.company_id}"


def upload(client, bank, name: str, **fields):
    data = {"file": SimpleUploadedFile(name, fixture(name)), **fields}
    return client.post(f"{base(bank)}/bank-accounts/{bank.pk}/statements", data, format="multipart")


def test_upload_answers_201_with_the_statement_and_its_job(bank, client_for):
    client = client_for(bank)

    body = assert_success(upload(client, bank, "camt053_march.xml"), 201)

    data = body["data"]
    statement = BankStatement.objects.get()
    assert {k: data[k] for k in ("id", "bank_account", "start_date", "end_date", "opening_balance", "closing_balance",
                                 "line_count", "duplicates_skipped", "status", "reconciliation")} == {
        "id": statement.pk, "bank_account": bank.pk, "start_date": "2026-03-01", "end_date": "2026-03-31",
        "opening_balance": "1000.00", "closing_balance": "2654.50", "line_count": 4, "duplicates_skipped": 0,
        "status": "open", "reconciliation": None,
    }  # fmt: skip
    assert (data["job"]["status"], data["job"]["progress"], data["job"]["kind"]) == (
        "done",
        100,
        "bank_statement",
    )
    assert data["statements"] == [statement.pk]


def test_reuploading_answers_201_with_line_count_0(bank, client_for):
    client = client_for(bank)
    upload(client, bank, "camt053_march.xml")

    data = assert_success(upload(client, bank, "camt053_march.xml"), 201)["data"]

    assert (data["line_count"], data["duplicates_skipped"]) == (0, 4)


def test_a_malformed_upload_is_422_with_errors_by_line_and_writes_nothing(bank, client_for):
    client = client_for(bank)
    before = banking_rows(bank.company)

    error = assert_error(upload(client, bank, "xml_billion_laughs.xml"), 422, "invalid_statement_file")

    assert error["details"]["errors"][0]["message"].startswith("The XML declares a DTD")
    assert banking_rows(bank.company) == before


@pytest.mark.parametrize("field", ["opening_balance", "closing_balance"])
def test_a_balance_given_with_more_places_than_the_currency_is_refused_never_rounded(bank, client_for, field):
    client = client_for(bank)
    before = banking_rows(bank.company)
    stated = {"opening_balance": "1000.004", "closing_balance": "2654.505"}[field]

    error = assert_error(
        upload(client, bank, "camt053_march.xml", **{field: stated}, accept_chain_break="true"),
        422,
        "currency_precision",
    )

    assert error["details"]["errors"] == [
        {"line": None, "column": field, "message": error["message"]},
    ]
    assert stated in error["message"] and "USD allows (2)" in error["message"]
    assert banking_rows(bank.company) == before  # no statement, no line, no job
    assert not BankStatement.objects.exists()


def test_async_upload_answers_202_with_the_job(bank, client_for, django_capture_on_commit_callbacks):
    client = client_for(bank)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{base(bank)}/bank-accounts/{bank.pk}/statements?async=true",
            {"file": SimpleUploadedFile("march.ofx", fixture("ofx_march_1.ofx"))},
            format="multipart",
        )

    job = assert_success(response, 202)["data"]
    # tasks run eagerly in the tests: the job ran once the request committed
    followed = assert_success(client.get(f"{base(bank)}/import-jobs/{job['id']}"))["data"]
    assert (followed["status"], followed["progress"], followed["line_count"], followed["format"]) == (
        "done",
        100,
        3,
        "ofx",
    )
    assert followed["statements"] == [BankStatement.objects.get().pk]


def test_async_upload_with_the_broker_down_still_answers_202_with_the_committed_job(
    bank, client_for, django_capture_on_commit_callbacks, monkeypatch
):
    # given: the broker cannot be reached when the request's transaction has committed
    from kombu.exceptions import OperationalError

    from banking import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.import_job_run_task, "delay", broker_down)
    client = client_for(bank)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{base(bank)}/bank-accounts/{bank.pk}/statements?async=true",
            {"file": SimpleUploadedFile("march.ofx", fixture("ofx_march_1.ofx"))},
            format="multipart",
        )

    # then: the job was committed, so the answer says so (never a 503 "nothing was changed");
    # it waits, queued, for the broker
    job = assert_success(response, 202)["data"]
    assert ImportJob.objects.get(pk=job["id"]).status == "queued"


def test_async_upload_of_a_bad_file_fails_the_job_with_errors_by_line(
    bank, client_for, django_capture_on_commit_callbacks
):
    client = client_for(bank)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{base(bank)}/bank-accounts/{bank.pk}/statements?async=true",
            {"file": SimpleUploadedFile("cut.ofx", fixture("ofx_truncated.ofx"))},
            format="multipart",
        )

    job = assert_success(
        client.get(f"{base(bank)}/import-jobs/{assert_success(response, 202)['data']['id']}")
    )["data"]
    assert (job["status"], job["error_code"], job["errors"]) == (
        "failed",
        "invalid_statement_file",
        [{"line": None, "message": "The OFX file is truncated: it does not end with </OFX>."}],
    )
    assert BankStatement.objects.count() == 0


def test_lines_with_their_match_state_and_the_match_actions(bank, client_for):
    # given
    client = client_for(bank)
    books = march_books(bank.company)
    upload(client, bank, "camt053_march.xml")
    transfer = line(bank, "CAMT-0004")
    fee = line(bank, "CAMT-0002")

    # when: the suggestions of the transfer, confirmed; the fee posted as an entry
    suggestions = assert_success(client.get(f"{base(bank)}/bank-lines/{transfer.pk}/suggestions"))["data"]
    matched = client.post(
        f"{base(bank)}/bank-lines/{transfer.pk}/match",
        {"suggestion": suggestions["suggestions"][0]["id"]},
        format="json",
    )
    created = client.post(
        f"{base(bank)}/bank-lines/{fee.pk}/create-entry", {"account": "6700"}, format="json"
    )
    listed = client.get(f"{base(bank)}/bank-accounts/{bank.pk}/lines?status=matched")

    # then
    pair = sorted([bank_side(books["order_a"]).pk, bank_side(books["order_b"]).pk])
    assert [(s["journal_line_ids"], s["confidence"]) for s in suggestions["suggestions"]] == [(pair, 66)]
    assert [(jl["amount"], jl["number"]) for jl in suggestions["suggestions"][0]["journal_lines"]] == [
        ("200.00", books["order_a"].number),
        ("300.00", books["order_b"].number),
    ]
    assert assert_success(matched)["data"]["matches"] == pair
    assert assert_success(created, 201)["data"]["status"] == "matched"
    rows = assert_success(listed)["data"]
    assert [(r["id"], r["amount"], r["status"]) for r in rows] == [
        (fee.pk, "-45.50", "matched"),
        (transfer.pk, "500.00", "matched"),
    ]
    unmatched = assert_success(client.post(f"{base(bank)}/bank-lines/{transfer.pk}/unmatch"))["data"]
    assert (unmatched["status"], unmatched["matches"]) == ("suggested", [])


def test_the_reconciliation_report_reconcile_and_reopen(bank, client_for, make_member):
    # given
    client = client_for(bank)
    books = march_books(bank.company)
    upload(client, bank, "camt053_march.xml")
    for unique_id, names in (
        ("CAMT-0001", ["receipt"]),
        ("CAMT-0003", ["rent"]),
        ("CAMT-0004", ["order_a", "order_b"]),
    ):
        client.post(
            f"{base(bank)}/bank-lines/{line(bank, unique_id).pk}/match",
            {"journal_lines": [bank_side(books[n]).pk for n in names]},
            format="json",
        )
    statement = BankStatement.objects.get()

    # when
    report = assert_success(
        client.get(f"{base(bank)}/bank-accounts/{bank.pk}/reconciliation?as_of=2026-03-31")
    )["data"]
    reconciled = assert_success(client.post(f"{base(bank)}/bank-statements/{statement.pk}/reconcile"))["data"]

    # then
    assert {k: report[k] for k in ("statement_balance", "unmatched_bank_total", "unmatched_book_total",
                                   "adjusted_bank_balance", "book_balance", "difference", "reconciled")} == {
        "statement_balance": "2654.50", "unmatched_bank_total": "-45.50", "unmatched_book_total": "-130.00",
        "adjusted_bank_balance": "2570.00", "book_balance": "2570.00", "difference": "0.00", "reconciled": True,
    }  # fmt: skip
    assert [i["amount"] for i in report["unmatched_book"]] == ["-250.00", "120.00"]
    # the fee left unmatched reads as the bank wrote it (it has no counterparty or reference)
    assert [(i["amount"], i["counterparty"], i["description"]) for i in report["unmatched_bank"]] == [
        ("-45.50", "", "Account maintenance fee")
    ]
    assert reconciled["status"] == "reconciled"
    assert {k: reconciled["reconciliation"][k] for k in ("as_of", "book_balance", "changed_since_reconciled")} == {
        "as_of": "2026-03-31", "book_balance": "2570.00", "changed_since_reconciled": False,
    }  # fmt: skip
    error = assert_error(
        client.post(f"{base(bank)}/bank-lines/{line(bank, 'CAMT-0001').pk}/unmatch"),
        409,
        "statement_reconciled",
    )
    assert "reopen" in error["message"]
    # a reversal of a matched entry into the reconciled month is refused by the database, as a 409
    reverse = client.post(
        f"{base(bank)}/journal-entries/{books['rent'].pk}/reverse", {"date": "2026-03-20"}, format="json"
    )
    assert_error(reverse, 409, "statement_reconciled")
    # an accountant may not reopen; a controller may, with a reason
    assert_error(
        client.post(f"{base(bank)}/bank-statements/{statement.pk}/reopen", {"reason": "x"}, format="json"),
        403,
        "permission_denied",
    )
    controller = client_for(bank, Role.CONTROLLER)
    reopened = controller.post(
        f"{base(bank)}/bank-statements/{statement.pk}/reopen", {"reason": "Wrong fee"}, format="json"
    )
    assert assert_success(reopened)["data"]["status"] == "open"


def test_record_payment_from_a_line_without_an_open_invoice_is_422(bank, client_for):
    client = client_for(bank)
    upload(client, bank, "camt053_march.xml")

    error = assert_error(
        client.post(
            f"{base(bank)}/bank-lines/{line(bank, 'CAMT-0001').pk}/record-payment", {}, format="json"
        ),
        422,
        "invoice_not_found",
    )

    assert error["details"]["reference"] == "Payment INV-2026-000001"


def test_journal_import_answers_202_with_the_job(bank, client_for, django_capture_on_commit_callbacks):
    client = client_for(bank)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{base(bank)}/journal-imports",
            {"file": SimpleUploadedFile("journal.csv", fixture("journal_ok.csv"))},
            format="multipart",
        )
    again = client.post(
        f"{base(bank)}/journal-imports",
        {"file": SimpleUploadedFile("journal.csv", fixture("journal_ok.csv"))},
        format="multipart",
    )

    queued = assert_success(response, 202)["data"]
    job = assert_success(client.get(f"{base(bank)}/import-jobs/{queued['id']}"))["data"]
    assert (job["status"], job["entry_count"], job["result"]["last_number"]) == ("done", 3, "JE-2026-000003")
    assert assert_error(again, 409, "conflict")["details"]["reason"] == "duplicate_import"
    assert JournalEntry.objects.filter(company=bank.company).count() == 3


def test_a_journal_import_asked_as_a_dry_run_in_the_query_posts_nothing(
    bank, client_for, django_capture_on_commit_callbacks
):
    client = client_for(bank)
    url = f"{base(bank)}/journal-imports"

    def send(query="", **form):
        return client.post(
            url + query,
            {"file": SimpleUploadedFile("journal.csv", fixture("journal_ok.csv")), **form},
            format="multipart",
        )

    # when a dry run is asked for as a query parameter (as async is on the statement upload)
    with django_capture_on_commit_callbacks(execute=True):
        dry = send("?dry_run=true")
    # and when the form and the query disagree, or the query is not a boolean
    disagree = send("?dry_run=false", dry_run="true")
    garbled = send("?dry_run=yes")

    # then the dry run checks and posts nothing (the file was posted for real before)
    job = assert_success(dry, 202)["data"]
    assert job["dry_run"] is True
    assert JournalEntry.objects.filter(company=bank.company).count() == 0
    for refused in (disagree, garbled):
        assert "dry_run" in assert_error(refused, 400, "validation_error")["details"]
    assert ImportJob.objects.filter(company=bank.company).count() == 1  # only the dry run's


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        (Role.VIEWER, "get", "bank-accounts", 200),
        (Role.VIEWER, "post", "bank-accounts/{bank}/statements", 403),
        (Role.CLERK, "post", "bank-accounts/{bank}/statements", 201),
        (Role.CLERK, "post", "journal-imports", 403),
        (Role.CLERK, "post", "bank-accounts", 403),
        (Role.AUDITOR, "post", "bank-accounts/{bank}/suggest", 403),
    ],
)
def test_roles(bank, client_for, role, method, path, status):
    client = client_for(bank, role)
    url = f"{base(bank)}/{path.format(bank=bank.pk)}"
    data = {}
    if path.endswith("statements"):
        data = {"file": SimpleUploadedFile("m.xml", fixture("camt053_march.xml"))}
    elif path == "journal-imports":
        data = {"file": SimpleUploadedFile("j.csv", fixture("journal_ok.csv"))}
    elif path == "bank-accounts":
        data = {"name": "Savings", "account": "1020"}
    response = client.get(url) if method == "get" else client.post(url, data, format="multipart")

    assert response.status_code == status, response.content


def test_another_companys_bank_account_is_404(bank, client_for):
    other = bank_books(name="Other Co")
    client = client_for(bank)

    assert_error(client.get(f"{base(bank)}/bank-accounts/{other.pk}"), 404, "not_found")
    assert_error(upload(client, other, "camt053_march.xml"), 404, "not_found")
    assert_error(client.get(f"{base(bank)}/bank-lines/999999/suggestions"), 404, "not_found")


def test_an_upload_retried_with_its_idempotency_key_writes_nothing_new(bank, client_for):
    client = client_for(bank)
    headers = {"HTTP_IDEMPOTENCY_KEY": "upload-1"}
    url = f"{base(bank)}/bank-accounts/{bank.pk}/statements"

    first = client.post(
        url,
        {"file": SimpleUploadedFile("m.xml", fixture("camt053_march.xml"))},
        format="multipart",
        **headers,
    )
    replay = client.post(
        url,
        {"file": SimpleUploadedFile("m.xml", fixture("camt053_march.xml"))},
        format="multipart",
        **headers,
    )
    other = client.post(
        url, {"file": SimpleUploadedFile("m.ofx", fixture("ofx_march_1.ofx"))}, format="multipart", **headers
    )

    assert assert_success(first, 201)["data"]["id"] == assert_success(replay, 201)["data"]["id"]
    assert replay["Idempotent-Replayed"] == "true"
    assert_error(other, 409, "idempotency_conflict")
    assert (BankStatement.objects.count(), ImportJob.objects.count(), BankStatementLine.objects.count()) == (
        1,
        1,
        4,
    )


def test_create_a_bank_account_and_its_csv_mapping(bank, client_for):
    client = client_for(bank)

    created = client.post(
        f"{base(bank)}/bank-accounts",
        {"name": "Savings", "account": "1020", "iban": "DE89 3704 0044 0532 0130 00"},
        format="json",
    )
    bad = client.patch(
        f"{base(bank)}/bank-accounts/{bank.pk}",
        {"csv_mapping": {"date_column": "Date", "date_format": "%Y"}},
        format="json",
    )

    data = assert_success(created, 201)["data"]
    assert (data["account_code"], data["currency"], data["iban"]) == ("1020", "USD", "DE89370400440532013000")
    error = assert_error(bad, 400, "validation_error")
    assert list(error["details"]["csv_mapping"]) == ["date_format"]
    assert bank.iban == IBAN


def test_a_bank_account_on_the_receivables_account_is_refused_and_writes_nothing(bank, client_for):
    # a bank line's entry would post to receivables without an invoice or a payment
    client = client_for(bank)
    before = banking_rows(bank.company)

    refused = client.post(
        f"{base(bank)}/bank-accounts", {"name": "Customers", "account": "1100"}, format="json"
    )
    moved = client.patch(f"{base(bank)}/bank-accounts/{bank.pk}", {"account": "1100"}, format="json")

    for response in (refused, moved):
        error = assert_error(response, 422, "invalid_account")
        assert error["details"] == {"account": [error["message"]]}
        assert error["message"].startswith("Account 1100 holds receivables")
    assert banking_rows(bank.company) == before
    bank.refresh_from_db()
    assert bank.account.code == "1010"


def test_a_bank_account_on_an_income_account_is_refused_in_words(bank, client_for):
    client = client_for(bank)
    before = banking_rows(bank.company)

    refused = client.post(f"{base(bank)}/bank-accounts", {"name": "Sales", "account": "4000"}, format="json")

    error = assert_error(refused, 422, "invalid_account")
    assert error["message"] == "Account 4000 is an income account; a bank is an asset or liability account."
    assert banking_rows(bank.company) == before


def test_an_upload_over_upload_max_bytes_is_413_and_writes_nothing(bank, client_for, settings):
    client = client_for(bank)
    settings.UPLOAD_MAX_BYTES = 1000
    before = banking_rows(bank.company)

    response = upload(client, bank, "camt053_march.xml")

    assert_error(response, 413, "payload_too_large")
    assert banking_rows(bank.company) == before


def test_lines_are_filtered_by_from_and_to_and_the_old_names_are_refused(bank, client_for):
    # given: the March statement (lines on the 5th, 10th, 12th and 20th)
    client = client_for(bank)
    upload(client, bank, "camt053_march.xml")
    lines = f"{base(bank)}/bank-accounts/{bank.pk}/lines"

    # when
    ranged = client.get(lines, {"from": "2026-03-10", "to": "2026-03-12"})
    since = client.get(lines, {"from": "2026-03-12"})
    old = client.get(lines, {"date_from": "2026-03-10", "date_to": "2026-03-12"})
    bad = client.get(lines, {"from": "12.03.2026"})

    # then: both inclusive; `date_from` / `date_to` are a 400 naming the right parameter, not ignored
    assert [r["date"] for r in assert_success(ranged)["data"]] == ["2026-03-10", "2026-03-12"]
    assert [r["date"] for r in assert_success(since)["data"]] == ["2026-03-12", "2026-03-20"]
    error = assert_error(old, 400, "validation_error")
    assert error["details"] == {
        "date_from": ["Not a filter of this list: use `from`."],
        "date_to": ["Not a filter of this list: use `to`."],
    }
    assert "from" in assert_error(bad, 400, "validation_error")["details"]


def test_a_statement_too_large_to_wait_for_is_400_and_imports_with_async(
    bank, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    # given: a limit of 2 lines for an import the request waits for (5,000 in production: a
    # 100,000-line file outlived gunicorn's timeout and the client got its HTML 500)
    from banking.services import jobs

    monkeypatch.setattr(jobs, "SYNC_MAX_LINES", 2)
    client = client_for(bank)
    url = f"{base(bank)}/bank-accounts/{bank.pk}/statements"
    before = banking_rows(bank.company)

    # when: the 3-line OFX at once, then with async=true
    refused = upload(client, bank, "ofx_march_1.ofx")
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(
            f"{url}?async=true",
            {"file": SimpleUploadedFile("march.ofx", fixture("ofx_march_1.ofx"))},
            format="multipart",
        )

    # then
    error = assert_error(refused, 400, "validation_error")
    assert error["message"].startswith(
        "The file holds 3 lines: a file of more than 2 is imported by a worker."
    )
    assert error["details"] == {"file": ["3 lines (at most 2 at once)."]}
    job = assert_success(queued, 202)["data"]
    assert ImportJob.objects.get(pk=job["id"]).status == "done"
    assert BankStatementLine.objects.filter(bank_account=bank).count() == 3
    assert banking_rows(bank.company) != before


def test_a_carried_line_is_posted_with_a_date_after_the_reconciled_month(client_for):
    # given March reconciled with its bank fee carried (not in the books)
    bank, _books, _march, stored = march_reconciled()
    client = client_for(bank)
    fee = line(bank, "CAMT-0002")
    url = f"{base(bank)}/bank-lines/{fee.pk}/create-entry"
    before = banking_rows(bank.company)

    # when it is posted on its own date, on the last reconciled day, or on no real date
    undated = client.post(url, {"account": "6700"}, format="json")
    inside = client.post(url, {"account": "6700", "date": "2026-03-31"}, format="json")
    garbled = client.post(url, {"account": "6700", "date": "2026-02-30"}, format="json")

    # then each is refused and nothing is written
    for response in (undated, inside):
        error = assert_error(response, 409, "statement_reconciled")
        assert error["details"]["reconciled_through"] == "2026-03-31"
    assert "date" in assert_error(garbled, 400, "validation_error")["details"]
    assert banking_rows(bank.company) == before

    # and dated April 1 it is posted there and matched, March's stored position untouched
    data = assert_success(client.post(url, {"account": "6700", "date": "2026-04-01"}, format="json"), 201)[
        "data"
    ]
    assert data["status"] == "matched"
    assert JournalEntry.objects.get(lines__bank_match__bank_line=fee).date.isoformat() == "2026-04-01"
    march = assert_success(client.get(f"{base(bank)}/bank-statements/{stored.statement_id}"))["data"]
    assert march["reconciliation"]["changed_since_reconciled"] is False


@pytest.mark.parametrize(
    "account", [[6700], {"code": "6700"}, True, ""], ids=["list", "object", "true", "empty"]
)
def test_an_account_that_is_neither_an_id_nor_a_code_is_400_and_writes_nothing(bank, client_for, account):
    # given a fee line to post, and a bank account to create
    client = client_for(bank)
    upload(client, bank, "camt053_march.xml")
    fee = line(bank, "CAMT-0002")
    before = banking_rows(bank.company)
    entries = JournalEntry.objects.count()

    # when the other side of its entry, or the new bank account's ledger account, is not an id or a code
    created = client.post(
        f"{base(bank)}/bank-lines/{fee.pk}/create-entry", {"account": account}, format="json"
    )
    opened = client.post(
        f"{base(bank)}/bank-accounts", {"name": "Savings", "account": account}, format="json"
    )

    # then both are the body's mistake (400, naming the field), not "no such account" (422)
    for response in (created, opened):
        error = assert_error(response, 400, "validation_error")
        assert error["details"]["account"] == ["An id (a JSON number) or a code (a JSON string) is required."]
    assert banking_rows(bank.company) == before
    assert JournalEntry.objects.count() == entries


def test_import_jobs_are_filtered_by_status_and_kind(bank, client_for, django_capture_on_commit_callbacks):
    # given a statement imported (done) and a journal file refused (failed)
    client = client_for(bank)
    upload(client, bank, "camt053_march.xml")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"{base(bank)}/journal-imports",
            {"file": SimpleUploadedFile("bad.csv", fixture("journal_bad.csv"))},
            format="multipart",
        )
    url = f"{base(bank)}/import-jobs"

    # when the list is asked for the failed ones, the journal ones, or an unknown status
    failed = assert_success(client.get(url, {"status": "failed"}))["data"]
    journals = assert_success(client.get(url, {"kind": "journal"}))["data"]
    statements = assert_success(client.get(url, {"kind": "bank_statement", "status": "done"}))["data"]
    unknown = client.get(url, {"status": "broken"})

    # then each gets only those (they were ignored: every job came back)
    assert [(j["kind"], j["status"]) for j in failed] == [("journal", "failed")]
    assert [j["kind"] for j in journals] == ["journal"]
    assert [(j["kind"], j["status"]) for j in statements] == [("bank_statement", "done")]
    assert "status" in assert_error(unknown, 400, "validation_error")["details"]
