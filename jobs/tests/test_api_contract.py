"""Every jobs operation's real responses (integrity runs, discrepancies, exports), on their success
and refusal paths, validated against the published OpenAPI schema
(sofinance/tests/openapi_contract.py): an undocumented status, a field whose type or nullability
lies, an undocumented or a missing field fail here."""

from __future__ import annotations

import uuid

import pytest

from jobs.tests.factories import books, entry_line_of, sql
from ledger.tests.factories import account
from sofinance.permissions import Role
from sofinance.tests.openapi_contract import Contract

pytestmark = pytest.mark.django_db


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def test_every_jobs_operation_answers_as_documented(make_member, django_capture_on_commit_callbacks):
    contract = Contract()
    check = contract.check
    b = books()
    company = b.company
    # damage: the invoice's entry credits the wrong revenue account (a run finds it)
    line = entry_line_of(b.invoice.journal_entry, "4100")
    sql("UPDATE ledger_journalline SET account_id = %s WHERE id = %s", [account(company, "4000").pk, line.pk])
    _, accountant = make_member(company, Role.ACCOUNTANT)
    _, controller = make_member(company, Role.CONTROLLER)
    _, viewer = make_member(company, Role.VIEWER)
    _, clerk = make_member(company, Role.CLERK)
    base = f"/api/v1/companies/{company.pk}"

    # integrity runs: start one (202, run when the request commits), list, read with discrepancies
    with django_capture_on_commit_callbacks(execute=True):
        queued = check(accountant.post(f"{base}/integrity-runs", format="json", **key()), 202)["data"]
    assert queued["status"] == "queued" and queued["started_at"] is None
    check(viewer.post(f"{base}/integrity-runs", format="json"), 403)
    check(accountant.get(f"{base}/integrity-runs"), 200)
    check(clerk.get(f"{base}/integrity-runs"), 403)
    run = check(accountant.get(f"{base}/integrity-runs/{queued['id']}"), 200)["data"]
    assert run["status"] == "done" and run["discrepancies"]
    check(accountant.get(f"{base}/integrity-runs/999999999"), 404)

    # discrepancies: list and filter, resolve, refusals
    listed = check(
        accountant.get(f"{base}/discrepancies", {"status": "open", "kind": "invoice_entry_mismatch"}), 200
    )
    assert {d["kind"] for d in listed["data"]} == {"invoice_entry_mismatch"}
    check(accountant.get(f"{base}/discrepancies", {"kind": "no_such_kind"}), 400)
    found = listed["data"][0]
    resolve = f"{base}/discrepancies/{found['id']}/resolve"
    check(accountant.post(resolve, {"note": "Checked"}, format="json"), 403)
    check(controller.post(resolve, {}, format="json"), 400)
    resolved = check(controller.post(resolve, {"note": "Posted the proposed draft."}, format="json"), 200)[
        "data"
    ]
    assert resolved["status"] == "resolved" and resolved["resolved_by"]
    again = check(controller.post(resolve, {"note": "Again"}, format="json"), 409)
    assert again["error"]["details"]["reason"] == "already_resolved"
    check(controller.post(f"{base}/discrepancies/999999999/resolve", {"note": "x"}, format="json"), 404)

    # exports: start, refusals, list, read, download before and after it is done
    exports = f"{base}/exports"
    early = check(viewer.post(exports, {"kind": "ar_aging"}, format="json", **key()), 202)["data"]
    assert early["download_url"] is None and early["file_size"] is None
    check(viewer.get(f"{exports}/{early['id']}/download"), 409)
    check(viewer.post(exports, {"kind": "trial_balance", "from": "2026-01-01"}, format="json"), 400)
    check(viewer.post(exports, {"kind": "general_ledger", "account": "9999"}, format="json"), 422)
    check(viewer.post(exports, {"kind": "audit_events"}, format="json"), 403)
    with django_capture_on_commit_callbacks(execute=True):
        queued = check(
            viewer.post(
                exports, {"kind": "journal_lines", "from": "2026-01-01", "to": "2026-01-31"}, format="json"
            ),
            202,
        )["data"]
    check(viewer.get(exports), 200)
    done = check(viewer.get(f"{exports}/{queued['id']}"), 200)["data"]
    assert done["status"] == "done" and done["download_url"]
    check(viewer.get(f"{exports}/999999999"), 404)
    downloaded = viewer.get(f"{exports}/{queued['id']}/download")
    check(downloaded, 200)
    assert b"".join(downloaded.streaming_content)

    # then: every jobs operation was checked, and every kind of refusal
    expected = contract.operations_of("jobs")
    assert len(expected) == 9
    assert expected - contract.checked_operations() == set()
    assert {"400", "403", "404", "409", "422"} <= contract.checked_statuses()
