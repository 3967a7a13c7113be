"""Every banking operation's real responses, on their success and refusal paths, validated against
the published OpenAPI schema (sofinance/tests/openapi_contract.py): an undocumented status, a
field whose type or nullability lies, an undocumented or a missing field fail here."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from banking.models import BankStatement
from banking.tests.factories import bank_books, bank_side, banking_rows, fixture, line, march_books
from ledger.tests.factories import post_entry
from sofinance.permissions import Role
from sofinance.tests.openapi_contract import Contract

pytestmark = pytest.mark.django_db


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def a_file(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, fixture(name) if content is None else content)


def test_every_banking_operation_answers_as_documented(make_member, django_capture_on_commit_callbacks):
    contract = Contract()
    check = contract.check
    bank = bank_books()
    company = bank.company
    _, accountant = make_member(company, Role.ACCOUNTANT)
    _, controller = make_member(company, Role.CONTROLLER)
    _, viewer = make_member(company, Role.VIEWER)
    books = march_books(company)
    base = f"/api/v1/companies/{company.pk}"
    accounts = f"{base}/bank-accounts"
    here = f"{accounts}/{bank.pk}"

    # bank accounts: create, the two conflicts, a refused ledger account; list, read, change
    savings = {"name": "Savings", "account": "1020", "iban": "DE89370400440532013000"}
    created = check(accountant.post(accounts, savings, format="json", **key()), 201)["data"]
    taken = check(accountant.post(accounts, {**savings, "name": "Other"}, format="json"), 409)
    assert taken["error"]["details"]["reason"] == "duplicate_account"
    named = check(accountant.post(accounts, {**savings, "account": "1000"}, format="json"), 409)
    assert named["error"]["details"]["reason"] == "duplicate_name"
    check(accountant.post(accounts, {"name": "Sales", "account": "4000"}, format="json"), 422)
    check(accountant.post(accounts, {"name": "No account"}, format="json"), 400)
    check(viewer.post(accounts, savings, format="json"), 403)
    check(viewer.get(accounts), 200)
    check(viewer.get(f"{accounts}/{created['id']}"), 200)
    check(viewer.get(f"{accounts}/999999999"), 404)
    check(accountant.patch(f"{accounts}/{created['id']}", {"name": "Savings (DE)"}, format="json"), 200)
    check(accountant.patch(f"{accounts}/{created['id']}", {"name": "Operating account"}, format="json"), 409)

    # matching settings
    check(viewer.get(f"{base}/banking-settings"), 200)
    check(accountant.patch(f"{base}/banking-settings", {"date_window_days": 10}, format="json"), 200)
    check(accountant.patch(f"{base}/banking-settings", {"date_window_days": 91}, format="json"), 400)

    # statements: upload (201), the same file again, a bad file, async (202), list, read
    statements = f"{here}/statements"
    march = check(
        accountant.post(statements, {"file": a_file("camt053_march.xml")}, format="multipart", **key()), 201
    )["data"]
    assert march["reconciliation"] is None and march["job"]["status"] == "done"
    again = check(accountant.post(statements, {"file": a_file("camt053_march.xml")}, format="multipart"), 201)
    assert (again["data"]["line_count"], again["data"]["duplicates_skipped"]) == (0, 4)
    before = banking_rows(company)
    check(accountant.post(statements, {"file": a_file("xml_billion_laughs.xml")}, format="multipart"), 422)
    assert banking_rows(company) == before
    check(accountant.post(statements, {}, format="multipart"), 400)
    with django_capture_on_commit_callbacks(execute=False):
        queued = check(
            accountant.post(
                f"{statements}?async=true",
                {"file": a_file("april.csv", b"Booking date;Amount;Payee\n01.04.2026;1,00;X\n")},
                format="multipart",
            ),
            202,
        )["data"]
    assert queued["status"] == "queued"
    check(viewer.get(statements), 200)
    check(viewer.get(f"{base}/bank-statements/{march['id']}"), 200)
    check(viewer.get(f"{base}/bank-statements/999999999"), 404)

    # lines: the list with its filters, one line, its suggestions
    listed = check(
        viewer.get(f"{here}/lines", {"from": "2026-03-01", "to": "2026-03-31", "status": "unmatched"}), 200
    )
    assert listed["data"]
    refused = check(viewer.get(f"{here}/lines", {"date_from": "2026-03-01"}), 400)
    assert refused["error"]["details"] == {"date_from": ["Not a filter of this list: use `from`."]}
    check(viewer.get(f"{here}/lines", {"statement": "x"}), 400)
    transfer, fee, receipt = line(bank, "CAMT-0004"), line(bank, "CAMT-0002"), line(bank, "CAMT-0001")
    check(viewer.get(f"{base}/bank-lines/{transfer.pk}"), 200)
    check(viewer.get(f"{base}/bank-lines/999999999"), 404)
    refreshed = check(accountant.post(f"{here}/suggest", format="json"), 200)
    assert refreshed["data"] == {"auto_matched": 0}
    suggestions = check(viewer.get(f"{base}/bank-lines/{transfer.pk}/suggestions"), 200)["data"]
    assert suggestions["invoice"] is None and suggestions["suggestions"]

    # match, unmatch, create an entry, record a payment
    rent = line(bank, "CAMT-0003")
    check(
        accountant.post(
            f"{base}/bank-lines/{rent.pk}/match",
            {"journal_lines": [bank_side(books["receipt"]).pk]},
            format="json",
        ),
        422,
    )
    check(
        accountant.post(
            f"{base}/bank-lines/{rent.pk}/match",
            {"journal_lines": [bank_side(books["rent"]).pk]},
            format="json",
        ),
        200,
    )
    check(
        accountant.post(
            f"{base}/bank-lines/{rent.pk}/match",
            {"journal_lines": [bank_side(books["rent"]).pk]},
            format="json",
        ),
        409,
    )
    check(accountant.post(f"{base}/bank-lines/{rent.pk}/match", {"journal_lines": "all"}, format="json"), 400)
    check(viewer.post(f"{base}/bank-lines/{rent.pk}/match", {"suggestion": 1}, format="json"), 403)
    check(accountant.post(f"{base}/bank-lines/{rent.pk}/unmatch", format="json"), 200)
    check(accountant.post(f"{base}/bank-lines/{rent.pk}/unmatch", format="json"), 409)
    check(
        accountant.post(
            f"{base}/bank-lines/{transfer.pk}/match",
            {"suggestion": suggestions["suggestions"][0]["id"]},
            format="json",
        ),
        200,
    )
    check(
        accountant.post(f"{base}/bank-lines/{fee.pk}/create-entry", {"account": "9999"}, format="json"), 422
    )
    check(
        accountant.post(
            f"{base}/bank-lines/{fee.pk}/create-entry",
            {"account": "6700", "description": "Fees"},
            format="json",
            **key(),
        ),
        201,
    )
    check(
        accountant.post(f"{base}/bank-lines/{fee.pk}/create-entry", {"account": "6700"}, format="json"), 409
    )
    check(accountant.post(f"{base}/bank-lines/{receipt.pk}/record-payment", {}, format="json"), 422)
    check(
        accountant.post(f"{base}/bank-lines/{fee.pk}/record-payment", {"invoice": 999999999}, format="json"),
        409,
    )

    # the reconciliation report; reconcile: refused while the books differ, then done; reopen
    check(viewer.get(f"{here}/reconciliation", {"as_of": "2026-03-31"}), 200)
    check(viewer.get(f"{here}/reconciliation"), 400)
    no_statements = check(
        viewer.get(f"{accounts}/{created['id']}/reconciliation", {"as_of": "2026-03-31"}), 200
    )
    assert no_statements["data"]["statement"] is None and no_statements["data"]["statement_balance"] is None
    statement = BankStatement.objects.get(pk=march["id"])
    post_entry(company, "2026-02-20", ("6100", "1.00", "D"), ("1010", "1.00", "C"))  # before the statement
    reconcile = f"{base}/bank-statements/{statement.pk}/reconcile"
    differs = check(accountant.post(reconcile, format="json"), 422)
    assert differs["error"]["code"] == "reconciliation_difference"
    post_entry(company, "2026-02-21", ("1010", "1.00", "D"), ("6100", "1.00", "C"))
    check(accountant.post(f"{base}/bank-lines/{receipt.pk}/match",
                          {"journal_lines": [bank_side(books["receipt"]).pk]}, format="json"), 200)  # fmt: skip
    reconciled = check(accountant.post(reconcile, format="json"), 200)["data"]
    assert (
        reconciled["status"] == "reconciled"
        and reconciled["reconciliation"]["changed_since_reconciled"] is False
    )
    check(accountant.post(reconcile, format="json"), 409)
    check(accountant.post(f"{base}/bank-lines/{receipt.pk}/unmatch", format="json"), 409)
    check(accountant.delete(f"{base}/bank-statements/{statement.pk}"), 409)
    check(
        accountant.post(f"{base}/bank-statements/{statement.pk}/reopen", {"reason": "x"}, format="json"), 403
    )
    check(controller.post(f"{base}/bank-statements/{statement.pk}/reopen", {}, format="json"), 400)
    reopen = f"{base}/bank-statements/{statement.pk}/reopen"
    check(controller.post(reopen, {"reason": "Fee on the wrong line"}, format="json"), 200)
    check(controller.post(reopen, {"reason": "Again"}, format="json"), 409)
    check(accountant.delete(f"{base}/bank-statements/{statement.pk}"), 409)  # lines are matched

    # a statement without matches is deleted: 200 with a null-data envelope
    other = bank_books(name="Other Co")
    _, other_admin = make_member(other.company, Role.ADMIN)
    other_base = f"/api/v1/companies/{other.company_id}"
    uploaded = check(
        other_admin.post(
            f"{other_base}/bank-accounts/{other.pk}/statements",
            {"file": a_file("ofx_march_1.ofx")},
            format="multipart",
        ),
        201,
    )["data"]
    deleted = check(other_admin.delete(f"{other_base}/bank-statements/{uploaded['id']}"), 200)
    assert deleted["data"] is None and deleted["success"] is True
    check(other_admin.get(f"{other_base}/bank-statements/{uploaded['id']}"), 404)
    check(other_admin.get(f"{base}/bank-statements/{statement.pk}"), 404)  # another company's

    # journal imports and the import jobs
    with django_capture_on_commit_callbacks(execute=True):
        imported = check(
            accountant.post(
                f"{base}/journal-imports", {"file": a_file("journal_ok.csv")}, format="multipart", **key()
            ),
            202,
        )["data"]
    check(
        accountant.post(f"{base}/journal-imports", {"file": a_file("journal_ok.csv")}, format="multipart"),
        409,
    )
    check(accountant.post(f"{base}/journal-imports", {"dry_run": "maybe"}, format="multipart"), 400)
    check(viewer.post(f"{base}/journal-imports", {"file": a_file("journal_ok.csv")}, format="multipart"), 403)
    check(viewer.get(f"{base}/import-jobs"), 200)
    job = check(viewer.get(f"{base}/import-jobs/{imported['id']}"), 200)["data"]
    assert job["status"] == "done"
    check(viewer.get(f"{base}/import-jobs/999999999"), 404)

    # then: every banking operation was checked, and every kind of refusal
    expected = contract.operations_of("banking")
    assert len(expected) == 24
    assert expected - contract.checked_operations() == set()
    assert {"400", "403", "404", "409", "422"} <= contract.checked_statuses()
