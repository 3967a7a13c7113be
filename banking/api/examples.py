"""Request and response examples of the banking API's OpenAPI documentation.

Response examples are whole envelopes, as a client receives them; sofinance/tests/test_api_docs.py
validates each against the schema its operation documents, so they cannot drift from the shapes.
"""

from __future__ import annotations

from sofinance.api.schema import envelope_example, error_example, request_example

MULTIPART = "multipart/form-data"

BANK_ACCOUNT = {
    "id": 3,
    "name": "Operating account",
    "account": 104,
    "account_code": "1010",
    "currency": "USD",
    "iban": "GB82WEST12345698765432",
    "number": "",
    "csv_mapping": {
        "delimiter": ";",
        "date_column": "Booking date",
        "date_format": "%d.%m.%Y",
        "amount_column": "Amount",
        "decimal_separator": ",",
        "thousands_separator": ".",
        "counterparty_column": "Payee",
        "reference_column": "Reference",
    },
    "is_active": True,
}
BANK_ACCOUNT_CREATE = [
    request_example(
        "An operating account with a CSV mapping",
        {k: v for k, v in BANK_ACCOUNT.items() if k in ("name", "iban", "csv_mapping")} | {"account": "1010"},
    ),
    envelope_example("Created", BANK_ACCOUNT, status=201),
    error_example(
        "The ledger account has a bank account",
        status=409,
        code="conflict",
        message="Account 1010 already has a bank account.",
        details={"reason": "duplicate_account", "account": ["1010"]},
    ),
    error_example(
        "Not a bank's ledger account",
        status=422,
        code="invalid_account",
        message="Account 4000 is an income account; a bank is an asset or liability account.",
        details={"account": ["Account 4000 is an income account; a bank is an asset or liability account."]},
    ),
]

JOB = {
    "id": 40,
    "kind": "bank_statement",
    "status": "done",
    "progress": 100,
    "bank_account": 3,
    "format": "camt053",
    "file_name": "march.xml",
    "file_hash": "9f2c0a41d8e6b7a3c5f1e0d2b4a6c8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1",
    "dry_run": False,
    "row_count": 4,
    "entry_count": 0,
    "line_count": 4,
    "duplicates_skipped": 0,
    "statements": [12],
    "result": {"statements": [12], "auto_matched": 1},
    "error_code": "",
    "error_message": "",
    "errors": [],
    "requested_by": 7,
    "created_at": "2026-04-01T08:00:00Z",
    "started_at": "2026-04-01T08:00:00Z",
    "finished_at": "2026-04-01T08:00:01Z",
}
STATEMENT = {
    "id": 12,
    "bank_account": 3,
    "start_date": "2026-03-01",
    "end_date": "2026-03-31",
    "opening_balance": "1000.00",
    "closing_balance": "2654.50",
    "line_count": 4,
    "duplicates_skipped": 0,
    "format": "camt053",
    "file_name": "march.xml",
    "chain_break": None,
    "status": "open",
    "reconciliation": None,
    "created_at": "2026-04-01T08:00:00Z",
}
RECONCILED = {
    **STATEMENT,
    "status": "reconciled",
    "reconciliation": {
        "as_of": "2026-03-31",
        "statement_balance": "2654.50",
        "book_balance": "2604.50",
        "unmatched_bank_total": "-50.00",
        "unmatched_book_total": "0.00",
        "reconciled_at": "2026-04-02T09:30:00Z",
        "reconciled_by": 7,
        "book_balance_now": "2604.50",
        "changed_since_reconciled": False,
        "lines_posted_since": [],
    },
}
STATEMENT_UPLOAD = [
    request_example(
        "A CAMT.053 file",
        {"file": "(the file: march-2026.xml)", "format": "camt053"},
        summary="multipart/form-data: `file` is the statement; `format` may be left out (detected).",
        media_type=MULTIPART,
    ),
    request_example(
        "A CSV without balances, after a gap",
        {
            "file": "(the file: march-2026.csv)",
            "format": "csv",
            "opening_balance": "1000.00",
            "accept_chain_break": "true",
        },
        summary="A CSV read with the account's csv_mapping; its opening balance given, a break in the "
        "balance chain accepted (kept as `chain_break`).",
        media_type=MULTIPART,
    ),
    envelope_example("Imported", {**STATEMENT, "statements": [12], "job": JOB}, status=201),
    envelope_example(
        "The same file again",
        {**STATEMENT, "id": 13, "line_count": 0, "duplicates_skipped": 4, "statements": [13], "job": JOB},
        status=201,
        summary="Every line was imported before: nothing new, 201 with `line_count` 0.",
    ),
    envelope_example(
        "Queued (?async=true)",
        {
            **JOB,
            "status": "queued",
            "progress": 0,
            "row_count": 0,
            "line_count": 0,
            "statements": [],
            "result": {},
            "started_at": None,
            "finished_at": None,
        },
        status=202,
    ),
    error_example(
        "A malformed file",
        status=422,
        code="invalid_statement_file",
        message="Line 3: Amount: '1,0,0' is not a plain decimal number (1 more problem; nothing was written.)",
        details={
            "errors": [
                {"line": 3, "column": "Amount", "message": "'1,0,0' is not a plain decimal number"},
                {
                    "line": 4,
                    "column": "Booking date",
                    "message": "'31.02.2026' is not a date written DD.MM.YYYY.",
                },
            ],
            "truncated": False,
            "what": "file",
        },
    ),
    error_example(
        "The balances do not chain",
        status=422,
        code="balance_chain_broken",
        message="The opening balance 1000.00 does not equal the bank account's balance on 2026-02-28 (990.00, "
        "from the previous statement). If the gap is real (a missing statement), upload it again with "
        "“Accept a break in the balance chain” ticked (accept_chain_break=true in the API).",
        details={"opening_balance": "1000.00", "expected_opening_balance": "990.00", "difference": "10.00"},
    ),
]

STATEMENT_DELETE = [
    envelope_example("Deleted", None),
    error_example(
        "Lines are matched",
        status=409,
        code="conflict",
        message="Unmatch the statement's lines before deleting it.",
        details={"reason": "statement_has_matches"},
    ),
]

STATEMENT_RECONCILE = [
    envelope_example("Reconciled", RECONCILED),
    error_example(
        "The books do not agree",
        status=422,
        code="reconciliation_difference",
        message="The books (2604.50) differ from the adjusted bank balance (2654.50) by -50.00 on 2026-03-31.",
        details={
            "as_of": "2026-03-31",
            "statement_balance": "2654.50",
            "book_balance": "2604.50",
            "adjusted_bank_balance": "2654.50",
            "difference": "-50.00",
            "opening_difference": "0.00",
        },
    ),
    error_example(
        "An earlier statement is open",
        status=409,
        code="conflict",
        message="Reconcile the earlier statements of this bank account first.",
        details={"reason": "previous_statement_not_reconciled"},
    ),
]

STATEMENT_REOPEN = [
    request_example("Reopen", {"reason": "Fee matched to the wrong line"}),
    envelope_example("Open again", {**STATEMENT, "status": "open"}),
]

LINE = {
    "id": 5501,
    "statement": 12,
    "date": "2026-03-04",
    "value_date": "2026-03-04",
    "amount": "-1200.00",
    "counterparty": "Harbour Properties Ltd",
    "reference": "LEASE-03",
    "description": "Rent March",
    "unique_id": "ACSR-20260304-0001",
    "status": "unmatched",
    "matches": [],
    "match_confidence": None,
    "matched_at": None,
}
MATCHED_LINE = {**LINE, "status": "matched", "matches": [90212], "matched_at": "2026-04-01T09:12:00Z"}
LINE_MATCH = [
    request_example("One ledger line", {"journal_lines": [90212]}),
    request_example("One-to-many", {"journal_lines": [812, 815]}),
    request_example("Confirm a suggestion", {"suggestion": 44}),
    envelope_example("Matched", MATCHED_LINE),
    error_example(
        "The amounts differ",
        status=422,
        code="match_refused",
        message="The ledger lines add up to -1100.00; the bank line is -1200.00.",
        details={"ledger_total": "-1100.00", "bank_amount": "-1200.00"},
    ),
    error_example(
        "Matched already",
        status=409,
        code="conflict",
        message="The bank line is already matched; unmatch it first.",
        details={"reason": "already_matched"},
    ),
]

FEE_LINE = {
    **LINE,
    "id": 5503,
    "amount": "-12.50",
    "counterparty": "",
    "reference": "",
    "description": "Card fees March",
    "unique_id": "ACSR-20260331-0007",
}
LINE_CREATE_ENTRY = [
    request_example("A bank fee", {"account": "6700", "description": "Card fees"}),
    request_example(
        "A fee carried from a reconciled month, posted after it",
        {"account": "6700", "description": "March card fees", "date": "2026-04-01"},
    ),
    envelope_example(
        "Posted and matched",
        {**FEE_LINE, "status": "matched", "matches": [90420], "matched_at": "2026-04-01T09:15:00Z"},
        status=201,
    ),
    error_example(
        "A closed period",
        status=422,
        code="period_closed",
        message="2026-03-31 falls in the closed period 2026-03-01 – 2026-03-31. A controller reopens the period to post there, or date it in an open period.",
        details={"date": "2026-03-31", "period": 27, "status": "closed"},
    ),
]

JOURNAL_IMPORT = [
    request_example(
        "A CSV journal",
        {"file": "(the file: march-journal.csv)", "format": "csv"},
        summary="multipart/form-data: `file` holds one row per line, grouped into entries by `entry`.",
        media_type=MULTIPART,
    ),
    request_example(
        "A dry run of an XLSX journal",
        {"file": "(the file: march-journal.xlsx)", "format": "xlsx", "dry_run": "true"},
        summary="Validates every row and reports what would be posted; writes nothing.",
        media_type=MULTIPART,
    ),
    envelope_example(
        "Posted",
        {
            **JOB,
            "id": 41,
            "kind": "journal",
            "bank_account": None,
            "format": "csv",
            "file_name": "march-journal.csv",
            "row_count": 7,
            "entry_count": 3,
            "line_count": 7,
            "statements": [],
            "result": {
                "entries": 3,
                "lines": 7,
                "total_debit": "1355.99",
                "total_credit": "1355.99",
                "first_date": "2026-03-01",
                "last_date": "2026-03-03",
                "first_number": "JE-2026-000001",
                "last_number": "JE-2026-000003",
            },
        },
        status=202,
    ),
    error_example(
        "Imported already",
        status=409,
        code="conflict",
        message="This file was already imported (job 38, done).",
        details={"reason": "duplicate_import", "job": 38, "file_hash": JOB["file_hash"]},
    ),
]

BANKING_SETTINGS_UPDATE = [
    request_example("Auto-confirm", {"auto_confirm_confidence": 90}),
    envelope_example("Changed", {"date_window_days": 7, "auto_confirm_confidence": 90}),
]

LINE_RECORD_PAYMENT = [
    request_example("The invoice the reference names", {}),
    request_example("A given invoice", {"invoice": 311}),
    envelope_example(
        "Recorded and matched",
        {
            "bank_line": {
                **LINE,
                "id": 5502,
                "amount": "450.00",
                "counterparty": "Northwind Traders",
                "reference": "INV-2026-000311",
                "description": "Payment INV-2026-000311",
                "unique_id": "ACSR-20260305-0002",
                "status": "matched",
                "matches": [90230],
                "matched_at": "2026-04-01T09:14:00Z",
            },
            "payment": 208,
            "payment_number": "PAY-2026-000208",
            "invoice": 311,
            "allocated": "450.00",
        },
        status=201,
    ),
    error_example(
        "No open invoice",
        status=422,
        code="invoice_not_found",
        message="No open invoice matches the bank line.",
    ),
]
