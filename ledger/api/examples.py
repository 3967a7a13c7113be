"""Request and response examples of the ledger API's OpenAPI documentation.

Response examples are whole envelopes, as a client receives them; a test validates each against
the schema its operation documents, so they cannot drift from the shapes.
"""

from __future__ import annotations

from sofinance.api.schema import envelope_example, error_example, request_example


def _line(line_id, line_no, account, code, name, debit, credit, **extra):
    amount = debit if debit != "0.00" else f"-{credit}"
    return {
        "id": line_id,
        "line_no": line_no,
        "account": account,
        "account_code": code,
        "account_name": name,
        "debit": debit,
        "credit": credit,
        "description": "",
        "currency": "USD",
        "amount": amount,
        "fx_rate": "1",
        "base_amount": amount,
        **extra,
    }


RENT_REQUEST = {
    "date": "2026-03-31",
    "description": "March rent",
    "reference": "LEASE-03",
    "post": True,
    "lines": [{"account": "6100", "debit": "1200.00"}, {"account": "1000", "credit": "1200.00"}],
}
RENT_POSTED = {
    "id": 5012,
    "number": "JE-2026-000311",
    "date": "2026-03-31",
    "description": "March rent",
    "reference": "LEASE-03",
    "source": "manual",
    "status": "posted",
    "currency": "USD",
    "lines": [
        _line(90211, 1, 131, "6100", "Rent", "1200.00", "0.00"),
        _line(90212, 2, 101, "1000", "Cash", "0.00", "1200.00"),
    ],
    "total_debit": "1200.00",
    "total_credit": "1200.00",
    "reversal_of": None,
    "reversed_by": None,
    "quarantined": False,
    "posted_at": "2026-03-31T16:02:11Z",
    "posted_by": "dana",
    "created_at": "2026-03-31T16:02:11Z",
    "created_by": "dana",
}
RENT_DRAFT = {**RENT_POSTED, "number": None, "status": "draft", "posted_at": None, "posted_by": None}
UNBALANCED = error_example(
    "Unbalanced",
    status=422,
    code="unbalanced_entry",
    message="Debits 1200.00 do not equal credits 1100.00.",
    details={"total_debit": "1200.00", "total_credit": "1100.00", "difference": "100.00", "currency": "USD"},
)
PERIOD_CLOSED = error_example(
    "Closed period",
    status=422,
    code="period_closed",
    message="2026-03-31 falls in the closed period 2026-03-01 – 2026-03-31. A controller reopens the period to post there, or date it in an open period.",
    details={"date": "2026-03-31", "period": 27, "status": "closed"},
)

ENTRY_CREATE = [
    request_example("Create and post", RENT_REQUEST),
    request_example(
        "A draft in euros (rate from the stored exchange rates)",
        {
            "date": "2026-03-31",
            "description": "Hotel, Berlin",
            "lines": [
                {"account": "6900", "debit": "240.00", "currency": "EUR"},
                {"account": "1010", "credit": "240.00", "currency": "EUR"},
            ],
        },
    ),
    envelope_example("Posted", RENT_POSTED, status=201),
    UNBALANCED,
    PERIOD_CLOSED,
]

ENTRY_UPDATE = [
    request_example("Move the date", {"date": "2026-04-01"}),
    request_example(
        "Replace the lines",
        {"lines": [{"account": "6100", "debit": "1250.00"}, {"account": "1000", "credit": "1250.00"}]},
    ),
    envelope_example("Changed", {**RENT_DRAFT, "date": "2026-04-01"}),
    error_example(
        "Posted already",
        status=409,
        code="entry_immutable",
        message="A posted entry cannot be changed; correct it with a reversal.",
    ),
]

ENTRY_DELETE = [
    envelope_example("Deleted", None),
    error_example(
        "Posted already",
        status=409,
        code="entry_immutable",
        message="A posted entry cannot be deleted; reverse it instead.",
    ),
]

ENTRY_POST = [
    envelope_example("Posted", RENT_POSTED),
    error_example(
        "Posted already", status=409, code="entry_immutable", message="The entry is already posted."
    ),
    PERIOD_CLOSED,
]

REVERSAL = {
    **RENT_POSTED,
    "id": 5040,
    "number": "JE-2026-000330",
    "date": "2026-04-02",
    "description": "Booked twice",
    "source": "reversal",
    "lines": [
        _line(90301, 1, 131, "6100", "Rent", "0.00", "1200.00"),
        _line(90302, 2, 101, "1000", "Cash", "1200.00", "0.00"),
    ],
    "reversal_of": 5012,
    "posted_at": "2026-04-02T09:00:00Z",
    "created_at": "2026-04-02T09:00:00Z",
}
ENTRY_REVERSE = [
    request_example("Reverse on another day", {"date": "2026-04-02", "description": "Booked twice"}),
    request_example("Reverse, dated like the original", {}),
    envelope_example("The reversal", REVERSAL, status=201),
    error_example(
        "Reversed already",
        status=409,
        code="conflict",
        message="JE-2026-000311 was already reversed.",
        details={"reason": "already_reversed", "reversed_by": 5040},
    ),
]

RATE = {
    "id": 44,
    "from_currency": "EUR",
    "to_currency": "USD",
    "date": "2026-03-31",
    "rate": "1.085",
    "created_at": "2026-03-31T07:00:00Z",
}
RATE_SET = [
    request_example("EUR in US dollars", {"from_currency": "EUR", "date": "2026-03-31", "rate": "1.0850"}),
    envelope_example("Stored", RATE, status=201),
]
RATE_DELETE = [envelope_example("Deleted", None)]

PERIOD = {
    "id": 27,
    "name": "March 2026",
    "start_date": "2026-03-01",
    "end_date": "2026-03-31",
    "status": "open",
    "closed_at": None,
    "closed_by": None,
}
CLOSED_PERIOD = {**PERIOD, "status": "closed", "closed_at": "2026-04-05T17:30:00Z", "closed_by": "dana"}
PERIOD_CREATE = [
    request_example("March", {"start_date": "2026-03-01", "end_date": "2026-03-31", "name": "March 2026"}),
    envelope_example("Created", PERIOD, status=201),
    error_example(
        "Overlaps",
        status=409,
        code="conflict",
        message="The period overlaps 2026-03-01 – 2026-03-31.",
        details={"reason": "period_overlap", "period": 27},
    ),
]
PERIODS_GENERATE = [
    request_example("Fiscal year 2026", {"fiscal_year": 2026}),
    envelope_example(
        "Twelve months",
        [
            {
                **PERIOD,
                "id": 25,
                "name": "January 2026",
                "start_date": "2026-01-01",
                "end_date": "2026-01-31",
            },
            {
                **PERIOD,
                "id": 26,
                "name": "February 2026",
                "start_date": "2026-02-01",
                "end_date": "2026-02-28",
            },
            PERIOD,
        ],
        status=201,
        summary="(three of the twelve shown)",
    ),
]
PERIOD_CLOSE = [
    envelope_example("Closed", CLOSED_PERIOD),
    error_example(
        "Already closed",
        status=409,
        code="conflict",
        message="The period is closed, not open.",
        details={"status": "closed", "reason": "period_not_open"},
    ),
    error_example(
        "Locked",
        status=409,
        code="conflict",
        message="The period is locked, not open.",
        details={"status": "locked", "reason": "period_locked"},
    ),
]
PERIOD_REOPEN = [
    request_example("Reopen", {"reason": "Late supplier invoice for March"}),
    envelope_example("Open again", PERIOD),
]
PERIOD_LOCK = [envelope_example("Locked", {**CLOSED_PERIOD, "status": "locked"})]
PERIOD_DELETE = [envelope_example("Deleted", None)]

YEAR_CLOSE = {
    "id": 3,
    "fiscal_year": 2025,
    "start_date": "2025-01-01",
    "end_date": "2025-12-31",
    "closing_entry": {
        **RENT_POSTED,
        "id": 4980,
        "number": "JE-2025-001204",
        "date": "2025-12-31",
        "description": "Year-end close FY2025",
        "reference": "FY2025",
        "source": "closing",
        "lines": [
            _line(88001, 1, 141, "4000", "Sales revenue", "84000.00", "0.00"),
            _line(88002, 2, 151, "5000", "Cost of goods sold", "0.00", "51000.00"),
            _line(88003, 3, 121, "3200", "Retained earnings", "0.00", "33000.00"),
        ],
        "total_debit": "84000.00",
        "total_credit": "84000.00",
        "posted_at": "2026-01-20T10:00:00Z",
        "created_at": "2026-01-20T10:00:00Z",
    },
    "closing_entry_number": "JE-2025-001204",
    "closed_at": "2026-01-20T10:00:00Z",
    "closed_by": "dana",
    "reopened_at": None,
}
YEAR_CLOSE_EXAMPLES = [
    envelope_example("Closed", YEAR_CLOSE, status=201, meta={"periods_closed": 12}),
    error_example(
        "Closed already",
        status=422,
        code="fiscal_year_error",
        message="Fiscal year 2025 is already closed.",
    ),
]
YEAR_REOPEN = [
    request_example("Reopen", {"reason": "Audit adjustment to December"}),
    envelope_example(
        "Reopened",
        {
            **YEAR_CLOSE,
            "closing_entry": 4980,
            "reopened_at": "2026-02-03T12:00:00Z",
        },
    ),
]
