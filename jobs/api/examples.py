"""Request and response examples of the jobs API's OpenAPI documentation (integrity runs,
discrepancies, exports).

Response examples are whole envelopes, as a client receives them; sofinance/tests/test_api_docs.py
validates each against the schema its operation documents, so they cannot drift from the shapes.
"""

from __future__ import annotations

from sofinance.api.schema import envelope_example, error_example, request_example

RUN_EXAMPLE = {
    "id": 41,
    "scope": "company",
    "trigger": "api",
    "status": "done",
    "as_of": "2026-03-31",
    "created_at": "2026-03-31T22:00:00Z",
    "started_at": "2026-03-31T22:00:01Z",
    "finished_at": "2026-03-31T22:00:04Z",
    "discrepancy_count": 1,
    "new_discrepancy_count": 1,
    "proposed_count": 1,
    "counts": {
        "balance_buckets": 5120,
        "invoices": 812,
        "payments": 640,
        "audit_events": 9120,
        "seconds": 2.9,
    },
    "error": "",
    "requested_by": "controller",
    "discrepancies": [
        {
            "id": 7,
            "kind": "invoice_entry_mismatch",
            "object_type": "sales.invoice",
            "object_id": 311,
            "object_repr": "INV-2026-000311",
            "key": "entry",
            "expected": "-150.00",
            "found": "0.00",
            "difference": "-150.00",
            "message": "INV-2026-000311's journal entry does not move what the document says: account 87 "
            "0.00 instead of -150.00; rounding and exchange lines -150.00 instead of 0.00.",
            "details": {"entry": 902},
            "status": "open",
            "proposed_entry": 1204,
            "proposal_note": "Draft entry #1204 (150.00) proposed for review; it is not posted.",
            "run": 41,
            "last_run": 41,
            "first_seen_at": "2026-03-31T22:00:04Z",
            "last_seen_at": "2026-03-31T22:00:04Z",
            "resolved_at": None,
            "resolved_by": None,
            "resolution_note": "",
        }
    ],
}

EXPORT_EXAMPLE = {
    "id": 12,
    "kind": "journal_lines",
    "format": "csv",
    "from": "2026-01-01",
    "to": "2026-03-31",
    "account": None,
    "status": "done",
    "progress": 100,
    "row_count": 48210,
    "download_url": "https://exports.example-bucket.s3.amazonaws.com/exports/7/12/journal-lines-2026-01-01-2026-03-31.csv?X-Amz-Signature=…",
    "file_size": 6120455,
    "error": "",
    "created_at": "2026-04-01T08:00:00Z",
    "started_at": "2026-04-01T08:00:01Z",
    "finished_at": "2026-04-01T08:00:09Z",
    "expires_at": "2026-04-08T08:00:09Z",
    "requested_by": "accountant",
}

RUN_QUEUED = {
    **{k: v for k, v in RUN_EXAMPLE.items() if k != "discrepancies"},
    "status": "queued",
    "as_of": None,
    "started_at": None,
    "finished_at": None,
    "discrepancy_count": 0,
    "new_discrepancy_count": 0,
    "proposed_count": 0,
    "counts": {},
}
RUN_CREATE = [envelope_example("Queued", RUN_QUEUED, status=202)]
RUN_RETRIEVE = [envelope_example("Done, one discrepancy", RUN_EXAMPLE)]

RESOLVED = {
    **RUN_EXAMPLE["discrepancies"][0],
    "status": "resolved",
    "resolved_at": "2026-04-01T10:00:00Z",
    "resolved_by": "controller",
    "resolution_note": "Posted the proposed draft JE-2026-000731 after checking the invoice.",
}
DISCREPANCY_RESOLVE = [
    request_example(
        "Corrected by the proposed draft",
        {"note": "Posted the proposed draft JE-2026-000731 after checking the invoice."},
    ),
    envelope_example("Resolved", RESOLVED),
    error_example(
        "Resolved already",
        status=409,
        code="conflict",
        message="The discrepancy is already resolved.",
        details={"reason": "already_resolved"},
    ),
]

EXPORT_QUEUED = {
    **EXPORT_EXAMPLE,
    "status": "queued",
    "progress": 0,
    "row_count": 0,
    "download_url": None,
    "file_size": None,
    "started_at": None,
    "finished_at": None,
    "expires_at": None,
}
EXPORT_CREATE = [
    request_example(
        "Journal lines of a quarter",
        {"kind": "journal_lines", "format": "csv", "from": "2026-01-01", "to": "2026-03-31"},
    ),
    request_example(
        "Trial balance as XLSX", {"kind": "trial_balance", "format": "xlsx", "as_of": "2026-03-31"}
    ),
    request_example("Beancount ledger", {"kind": "beancount"}),
    envelope_example("Queued", EXPORT_QUEUED, status=202),
]
EXPORT_RETRIEVE = [envelope_example("Done", EXPORT_EXAMPLE)]
